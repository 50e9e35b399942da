/* SPDX-License-Identifier: MIT */
/*
 * sim_cp.c - the SIM-1 command processor: per-queue registers, rings, jobs and command decode.
 *
 * Each queue owns a ring of 32-byte entries in GPU memory (read through RING_AS); an entry
 * describes a job: a command buffer in the job's address space, a seqno, and optional fence and
 * JOB_DONE interrupt. The scheduler (sim_clock.c) calls sim_cp_run_unit_locked() whenever a
 * runnable queue is due; a unit is one ring fetch, one command, or one step of a long command
 * (a <= 64 KiB chunk of COPY/FILL, a compute slice of DISPATCH, one WAIT re-check), and its
 * cycle cost comes from the timing table. A job completes on END or when its bytes run out, in
 * the same unit as its last command. Guest errors never stop the host: decode problems and MMU
 * faults stop the queue in FAULTED with FAULT_CODE/ADDR/CMD set and JOB_FAULT raised; RESUME
 * then drops the job. STOP takes effect at a preemption point: between commands, between the
 * 64 KiB chunks of COPY/FILL, between the workgroups of a DISPATCH (immediately when the queue
 * is at one or polling a WAIT, which is re-issued on RESUME; at the end of the workgroup in
 * progress otherwise). The partial command stays in the queue (hardware-saved context) and
 * RESUME continues it; RESET drops it. Q_PROGRESS counts completed commands, copy chunks and
 * workgroups, so a driver can tell a long command from a hung queue. All queues share one
 * execution engine arbitrated by Q_PRIORITY in sim_clock.c; WAIT polls, LOCK stall polls and
 * injected hangs do not use it (sim_cp_uses_engine_locked). A queue whose ring AS (between
 * jobs) or job AS (between commands) is LOCKed polls at wait_poll cycles per unit and counts
 * as blocked. Not modelled: command prefetch, ring entry caching. Runs with dev->lock held on
 * the thread advancing the clock (units) or issuing MMIO (registers).
 */
#include <string.h>

#include "magma_probe/probe.h"
#include "sim_internal.h"

#define SIM_FAULT_IS_MMU(c) ((c) >= 0x10 && (c) < 0x20)

static inline uint32_t sim_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t sim_le64(const uint8_t *p)
{
	return (uint64_t)sim_le32(p) | (uint64_t)sim_le32(p + 4) << 32;
}

static inline void sim_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t sim_ring_mask(const struct sim_queue *q)
{
	return q->ring_size ? q->ring_size - 1 : 0;
}

static void sim_cp_set_state_locked(struct sim_device *dev, uint32_t qi, uint32_t state)
	SIM_REQUIRES(dev->lock)
{
	if (dev->q[qi].state == state)
		return;
	dev->q[qi].state = state;
	if (sim_event_wanted(dev, SIM_EV_QUEUE_STATE))
		sim_event_locked(dev, SIM_EV_QUEUE_STATE, qi, state, 0, 0, NULL);
}

static bool sim_cp_is_busy(const struct sim_queue *q)
{
	return q->state == SIM_Q_STATE_RUNNING || q->state == SIM_Q_STATE_WAITING;
}

/* IDLE queue with entries pending and ENABLE set: start fetching (a latched doorbell). */
static void sim_cp_try_start_locked(struct sim_device *dev, uint32_t qi) SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];

	if (q->state != SIM_Q_STATE_IDLE || !(q->control & SIM_Q_CONTROL_ENABLE) ||
	    q->head == q->tail)
		return;
	if (q->ready_at < dev->now)
		q->ready_at = dev->now;
	sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_RUNNING);
	sim_clock_kick_locked(dev);
}

/* Forget the job in flight (not HEAD): op, dispatch, stop request. */
static void sim_cp_drop_job_locked(struct sim_device *dev, uint32_t qi) SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];

	if (q->op.kind == SIM_OPK_DISPATCH || q->dispatch.active)
		sim_compute_abort_locked(dev, qi);
	q->op.kind = SIM_OPK_NONE;
	q->job_active = false;
	q->stop_requested = false;
}

static void sim_cp_clear_fault(struct sim_queue *q)
{
	q->fault_code = SIM_FAULT_NONE;
	q->fault_addr = 0;
	q->fault_cmd = 0;
}

/*
 * True at a preemption point: between commands, polling a WAIT, between two chunks of a
 * COPY/FILL or between two workgroups of a DISPATCH.
 */
static bool sim_cp_at_preempt_point(const struct sim_queue *q)
{
	if (q->op.kind == SIM_OPK_DISPATCH)
		return !q->dispatch.group.active;
	return true;
}

/* Honour STOP now: a WAIT being polled is rewound so that RESUME issues it again. */
static void sim_cp_stop_now_locked(struct sim_device *dev, uint32_t qi) SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];

	if (q->op.kind == SIM_OPK_WAIT) {
		q->cmd_remain += (q->cmd_ptr - q->op.cmd_va) & 0xffffffffu;
		q->cmd_ptr = q->op.cmd_va;
		q->op.kind = SIM_OPK_NONE;
	}
	q->stop_requested = false;
	sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_STOPPED);
	sim_irq_raise_locked(dev, SIM_IRQ_QUEUE_STOPPED(qi));
}

static void sim_cp_command_locked(struct sim_device *dev, uint32_t qi, uint32_t cmd)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];

	switch (cmd) {
	case SIM_Q_COMMAND_STOP:
		if (q->state == SIM_Q_STATE_IDLE) {
			sim_cp_stop_now_locked(dev, qi);
		} else if (sim_cp_is_busy(q)) {
			/* A hung CP never reaches its boundary: the driver must RESET. */
			if (!q->hung && sim_cp_at_preempt_point(q))
				sim_cp_stop_now_locked(dev, qi);
			else
				q->stop_requested = true;
		}
		break;
	case SIM_Q_COMMAND_RESUME:
		if (q->state == SIM_Q_STATE_STOPPED) {
			q->stop_requested = false;
			sim_cp_set_state_locked(
				dev, qi, q->job_active ? SIM_Q_STATE_RUNNING : SIM_Q_STATE_IDLE);
			if (q->ready_at < dev->now)
				q->ready_at = dev->now;
			sim_cp_try_start_locked(dev, qi);
			sim_clock_kick_locked(dev);
		} else if (q->state == SIM_Q_STATE_FAULTED) {
			sim_cp_drop_job_locked(dev, qi);
			if (q->head != q->tail)
				q->head = (q->head + 1) & sim_ring_mask(q);
			sim_cp_clear_fault(q);
			sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_IDLE);
			sim_cp_try_start_locked(dev, qi);
		} else {
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
				       "queue %u: RESUME while not halted", qi);
		}
		break;
	case SIM_Q_COMMAND_RESET:
		sim_cp_drop_job_locked(dev, qi);
		q->head = q->tail;
		q->hung = false;
		q->progress = 0;
		sim_cp_clear_fault(q);
		sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_IDLE);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "queue %u: unknown Q_COMMAND %#x", qi,
			       cmd);
		break;
	}
}

/* A long command (COPY/FILL/DISPATCH) interrupted by STOP: CMD_PTR shows that command. */
static bool sim_cp_is_preempted(const struct sim_queue *q)
{
	return q->state == SIM_Q_STATE_STOPPED && q->job_active &&
	       (q->op.kind == SIM_OPK_COPY || q->op.kind == SIM_OPK_FILL ||
		q->op.kind == SIM_OPK_DISPATCH);
}

/*
 * sim_cp_mmio_read_locked - see sim_internal.h. @reg is the offset within the queue block. While
 * a long command is preempted, CMD_PTR/CMD_REMAIN describe it (not the command after it).
 */
uint32_t sim_cp_mmio_read_locked(struct sim_device *dev, uint32_t qi, uint32_t reg)
{
	struct sim_queue *q;
	uint64_t cmd_ptr;
	uint32_t cmd_remain;

	sim_mutex_assert_held(&dev->lock);
	if (qi >= dev->cfg.queues)
		return 0;
	q = &dev->q[qi];
	cmd_ptr = q->cmd_ptr;
	cmd_remain = q->cmd_remain;
	if (sim_cp_is_preempted(q)) {
		cmd_remain += (uint32_t)(q->cmd_ptr - q->op.cmd_va);
		cmd_ptr = q->op.cmd_va;
	}
	switch (reg) {
	case SIM_Q_REG(SIM_Q_RING_BASE_LO):
		return (uint32_t)q->ring_base;
	case SIM_Q_REG(SIM_Q_RING_BASE_HI):
		return (uint32_t)(q->ring_base >> 32);
	case SIM_Q_REG(SIM_Q_RING_SIZE):
		return q->ring_size;
	case SIM_Q_REG(SIM_Q_RING_AS):
		return q->ring_as;
	case SIM_Q_REG(SIM_Q_HEAD):
		return q->head;
	case SIM_Q_REG(SIM_Q_TAIL):
		return q->tail;
	case SIM_Q_REG(SIM_Q_STATUS):
		return q->state | ((q->control & SIM_Q_CONTROL_ENABLE) ? SIM_Q_STATUS_ENABLED : 0);
	case SIM_Q_REG(SIM_Q_CONTROL):
		return q->control;
	case SIM_Q_REG(SIM_Q_FAULT_CODE):
		return q->fault_code;
	case SIM_Q_REG(SIM_Q_FAULT_ADDR_LO):
		return (uint32_t)q->fault_addr;
	case SIM_Q_REG(SIM_Q_FAULT_ADDR_HI):
		return (uint32_t)(q->fault_addr >> 32);
	case SIM_Q_REG(SIM_Q_FAULT_CMD_LO):
		return (uint32_t)q->fault_cmd;
	case SIM_Q_REG(SIM_Q_FAULT_CMD_HI):
		return (uint32_t)(q->fault_cmd >> 32);
	case SIM_Q_REG(SIM_Q_SEQNO_LO):
		return (uint32_t)q->seqno;
	case SIM_Q_REG(SIM_Q_SEQNO_HI):
		return (uint32_t)(q->seqno >> 32);
	case SIM_Q_REG(SIM_Q_CMD_PTR_LO):
		return (uint32_t)cmd_ptr;
	case SIM_Q_REG(SIM_Q_CMD_PTR_HI):
		return (uint32_t)(cmd_ptr >> 32);
	case SIM_Q_REG(SIM_Q_CMD_REMAIN):
		return cmd_remain;
	case SIM_Q_REG(SIM_Q_JOB_AS):
		return q->job_as;
	case SIM_Q_REG(SIM_Q_IRQ_PAYLOAD):
		return q->irq_payload;
	case SIM_Q_REG(SIM_Q_BUSY_CYCLES_LO):
		return (uint32_t)q->busy_cycles;
	case SIM_Q_REG(SIM_Q_BUSY_CYCLES_HI):
		return (uint32_t)(q->busy_cycles >> 32);
	case SIM_Q_REG(SIM_Q_PRIORITY):
		return q->priority;
	case SIM_Q_REG(SIM_Q_PROGRESS):
		return q->progress;
	case SIM_Q_REG(SIM_Q_RESUME_GROUP):
		if (sim_cp_is_preempted(q) && q->op.kind == SIM_OPK_DISPATCH && q->dispatch.active)
			return (uint32_t)q->dispatch.next_group;
		return 0;
	default:
		return 0; /* DOORBELL and COMMAND are write-only */
	}
}

/*
 * True while the ring registers describe work in flight: a job is active (even STOPPED or
 * FAULTED, whose HEAD still points at it) or the queue is executing.
 */
static bool sim_cp_ring_in_use(const struct sim_queue *q)
{
	return q->job_active || sim_cp_is_busy(q);
}

/*
 * sim_cp_mmio_write_locked - see sim_internal.h. RING_BASE/SIZE/AS are ignored (guest error)
 * while the ring is in use: a job is active, or the queue is RUNNING or WAITING. A valid
 * RING_SIZE write also sets HEAD = TAIL = 0 (a new, empty ring).
 */
void sim_cp_mmio_write_locked(struct sim_device *dev, uint32_t qi, uint32_t reg, uint32_t value)
{
	struct sim_queue *q;

	sim_mutex_assert_held(&dev->lock);
	if (qi >= dev->cfg.queues) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
			       "queue %u: not present in this configuration", qi);
		return;
	}
	q = &dev->q[qi];
	if (reg <= SIM_Q_REG(SIM_Q_RING_AS) && sim_cp_ring_in_use(q)) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
			       "queue %u: ring register %#x written while busy", qi, reg);
		return;
	}
	switch (reg) {
	case SIM_Q_REG(SIM_Q_RING_BASE_LO):
		if (value & (SIM_RING_ENTRY_SIZE - 1))
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
				       "queue %u: RING_BASE %#x not 32-byte aligned", qi, value);
		q->ring_base =
			(q->ring_base & ~0xffffffffull) | (value & ~(SIM_RING_ENTRY_SIZE - 1));
		break;
	case SIM_Q_REG(SIM_Q_RING_BASE_HI):
		q->ring_base = (q->ring_base & 0xffffffffull) | ((uint64_t)value << 32);
		break;
	case SIM_Q_REG(SIM_Q_RING_SIZE):
		if (!value || value > 65536 || (value & (value - 1))) {
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "queue %u: bad RING_SIZE %u", qi,
				       value);
			break;
		}
		q->ring_size = value;
		q->head = 0;
		q->tail = 0;
		break;
	case SIM_Q_REG(SIM_Q_RING_AS):
		q->ring_as = value;
		break;
	case SIM_Q_REG(SIM_Q_TAIL):
		if (!q->ring_size) {
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "queue %u: TAIL without a ring",
				       qi);
			break;
		}
		q->tail = value & sim_ring_mask(q);
		break;
	case SIM_Q_REG(SIM_Q_DOORBELL):
		sim_cp_try_start_locked(dev, qi);
		break;
	case SIM_Q_REG(SIM_Q_CONTROL):
		q->control = value & SIM_Q_CONTROL_ENABLE;
		if (q->control) {
			sim_cp_try_start_locked(dev, qi);
			sim_clock_kick_locked(dev);
		}
		break;
	case SIM_Q_REG(SIM_Q_COMMAND):
		sim_cp_command_locked(dev, qi, value);
		break;
	case SIM_Q_REG(SIM_Q_PRIORITY):
		if (value > 3)
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
				       "queue %u: Q_PRIORITY %#x > 3, masked", qi, value);
		q->priority = value & 3;
		sim_clock_kick_locked(dev);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
			       "queue %u: write to read-only register %#x", qi, reg);
		break;
	}
}

/*
 * sim_cp_reset_locked - soft reset (@hard false): abandon every job (IDLE, HEAD = TAIL, fault
 * registers and PROGRESS cleared) keeping ring configuration, CONTROL, PRIORITY, SEQNO and busy
 * cycles. Hard reset: every queue register to 0, injections disarmed, engine arbitration
 * restarted (queue 0 is served first; seeded arbitration from its seed again).
 */
void sim_cp_reset_locked(struct sim_device *dev, bool hard)
{
	sim_mutex_assert_held(&dev->lock);
	dev->engine_until = hard ? 0 : dev->now;
	if (hard) {
		dev->engine_last = SIM_QUEUE_MAX - 1;
		dev->arb_state = dev->cfg.arb_seed;
	}
	for (uint32_t qi = 0; qi < SIM_QUEUE_MAX; qi++) {
		struct sim_queue *q = &dev->q[qi];

		sim_cp_drop_job_locked(dev, qi);
		q->hung = false;
		sim_cp_clear_fault(q);
		q->head = q->tail;
		q->progress = 0;
		q->off_engine = 0;
		sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_IDLE);
		if (!hard) {
			q->ready_at = dev->now;
			continue;
		}
		q->ring_base = 0;
		q->ring_size = 0;
		q->ring_as = 0;
		q->head = 0;
		q->tail = 0;
		q->control = 0;
		q->seqno = 0;
		q->irq_payload = 0;
		q->busy_cycles = 0;
		q->priority = 0;
		q->job_cmd_va = 0;
		q->cmd_ptr = 0;
		q->cmd_remain = 0;
		q->job_as = 0;
		q->job_flags = 0;
		q->job_seqno = 0;
		q->job_fence_va = 0;
		memset(&q->op, 0, sizeof(q->op));
		q->ready_at = 0;
		q->inject_hang = 0;
		q->inject_dma = 0;
		q->scoped_hang.count = 0;
		q->scoped_dma.count = 0;
	}
}

/* sim_cp_is_runnable_locked - see sim_internal.h. */
bool sim_cp_is_runnable_locked(struct sim_device *dev, uint32_t qi)
{
	const struct sim_queue *q = &dev->q[qi];

	return qi < dev->cfg.queues && (q->control & SIM_Q_CONTROL_ENABLE) && sim_cp_is_busy(q);
}

/* sim_cp_uses_engine_locked - see sim_internal.h. Only meaningful for a runnable queue. */
bool sim_cp_uses_engine_locked(struct sim_device *dev, uint32_t qi)
{
	const struct sim_queue *q = &dev->q[qi];

	if (q->hung || q->op.kind == SIM_OPK_WAIT)
		return false;
	if (q->op.kind != SIM_OPK_NONE)
		return true;
	return !(q->job_active ? sim_as_is_locked(dev, q->job_as)
			       : sim_as_is_locked(dev, q->ring_as));
}

/*
 * sim_cp_is_blocked_locked - see sim_internal.h. Blocked: hung, a WAIT whose word cannot have
 * changed since its last failed check, or stalled on a LOCKed address space.
 */
bool sim_cp_is_blocked_locked(struct sim_device *dev, uint32_t qi)
{
	const struct sim_queue *q = &dev->q[qi];

	if (!sim_cp_is_runnable_locked(dev, qi))
		return false;
	if (q->hung)
		return true;
	if (q->op.kind == SIM_OPK_WAIT)
		return q->op.wait_epoch == dev->mem_epoch;
	if (q->op.kind != SIM_OPK_NONE)
		return false;
	return q->job_active ? sim_as_is_locked(dev, q->job_as) : sim_as_is_locked(dev, q->ring_as);
}

/*
 * sim_cp_fault_locked - see sim_internal.h. FAULT_CMD is q->op.cmd_va, the command (or ring
 * entry) being executed. SIM_EV_FAULT is emitted here except for MMU codes, whose event came
 * from the translation. The job stays in place until RESUME or RESET.
 */
void sim_cp_fault_locked(struct sim_device *dev, uint32_t qi, uint32_t code, uint64_t addr)
{
	struct sim_queue *q = &dev->q[qi];

	sim_mutex_assert_held(&dev->lock);
	if (q->op.kind == SIM_OPK_DISPATCH || q->dispatch.active)
		sim_compute_abort_locked(dev, qi);
	q->op.kind = SIM_OPK_NONE;
	q->stop_requested = false;
	q->fault_code = code;
	q->fault_addr = addr;
	q->fault_cmd = q->op.cmd_va;
	dev->stats.jobs_faulted++;
	sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "queue %u: fault %s at %#llx (command %#llx)", qi,
		       sim_fault_name(code), (unsigned long long)addr,
		       (unsigned long long)q->op.cmd_va);
	if (!SIM_FAULT_IS_MMU(code) && sim_event_wanted(dev, SIM_EV_FAULT))
		sim_event_locked(dev, SIM_EV_FAULT, qi, code, addr,
				 code == SIM_FAULT_BAD_RING_ENTRY ? q->ring_as : q->job_as,
				 sim_fault_name(code));
	sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_FAULTED);
	sim_cp_inject_job_end_locked(q);
	if (sim_event_wanted(dev, SIM_EV_JOB_END))
		sim_event_locked(dev, SIM_EV_JOB_END, qi, code, q->job_cmd_va, q->job_seqno, NULL);
	sim_irq_raise_locked(dev, SIM_IRQ_JOB_FAULT(qi));
}

/* sim_cp_inject_take_locked - see sim_internal.h. */
bool sim_cp_inject_take_locked(struct sim_queue *q, uint32_t *global, struct sim_job_inject *scoped)
{
	if (*global) {
		(*global)--;
		return true;
	}
	if (scoped->count && q->job_seqno >= scoped->first && q->job_seqno <= scoped->last) {
		scoped->count--;
		return true;
	}
	return false;
}

/* sim_cp_inject_job_end_locked - see sim_internal.h. */
void sim_cp_inject_job_end_locked(struct sim_queue *q)
{
	if (q->job_seqno >= q->scoped_hang.last)
		q->scoped_hang.count = 0;
	if (q->job_seqno >= q->scoped_dma.last)
		q->scoped_dma.count = 0;
}

/* Retire the job: fence, SEQNO, JOB_DONE, HEAD++. Returns the cost (job_end + fence TLB). */
static uint64_t sim_cp_complete_job_locked(struct sim_device *dev, uint32_t qi)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	uint64_t cost = dev->cfg.timing.job_end;

	if (q->job_flags & SIM_RING_FLAG_FENCE) {
		struct sim_xfer x = {.as = q->ring_as, .queue = qi, .source = SIM_SOURCE_CP};
		uint8_t buf[8];
		uint32_t code;

		sim_put_le64(buf, q->job_seqno);
		code = sim_gpu_write_locked(dev, &x, q->job_fence_va, buf, sizeof(buf));
		cost += x.cycles;
		if (code) {
			sim_cp_fault_locked(dev, qi, code, x.fault_va);
			return cost;
		}
	}
	q->seqno = q->job_seqno;
	q->job_active = false;
	sim_cp_inject_job_end_locked(q);
	dev->stats.jobs_completed++;
	sim_perf_add(dev, SIM_PERF_JOBS, 1);
	if (sim_event_wanted(dev, SIM_EV_JOB_END))
		sim_event_locked(dev, SIM_EV_JOB_END, qi, 0, q->job_cmd_va, q->job_seqno, NULL);
	if (q->job_flags & SIM_RING_FLAG_IRQ)
		sim_irq_raise_locked(dev, SIM_IRQ_JOB_DONE(qi));
	if (q->head != q->tail)
		q->head = (q->head + 1) & sim_ring_mask(q);
	if (q->head == q->tail)
		sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_IDLE);
	return cost;
}

/* Fetch and validate the ring entry at HEAD; start its job. Returns the cost. */
static uint64_t sim_cp_fetch_job_locked(struct sim_device *dev, uint32_t qi) SIM_REQUIRES(dev->lock)
{
	magma_probe_mark(MAGMA_PROBE_MODEL_RUN);
	struct sim_queue *q = &dev->q[qi];
	struct sim_xfer x = {.as = q->ring_as, .queue = qi, .source = SIM_SOURCE_CP};
	uint64_t va = q->ring_base + (uint64_t)q->head * SIM_RING_ENTRY_SIZE;
	uint8_t e[SIM_RING_ENTRY_SIZE];
	uint64_t cost = dev->cfg.timing.job_start;
	uint32_t code, size, slot, flags;
	uint64_t cmd_va;

	q->op.cmd_va = va;
	q->job_cmd_va = 0;
	q->job_seqno = 0;
	code = sim_gpu_read_locked(dev, &x, va, e, sizeof(e));
	cost += x.cycles;
	if (code) {
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
		return cost;
	}
	cmd_va = sim_le64(e + SIM_RING_ENTRY_CMD_VA);
	size = sim_le32(e + SIM_RING_ENTRY_CMD_SIZE);
	slot = e[SIM_RING_ENTRY_AS] | (uint32_t)e[SIM_RING_ENTRY_AS + 1] << 8;
	flags = e[SIM_RING_ENTRY_FLAGS] | (uint32_t)e[SIM_RING_ENTRY_FLAGS + 1] << 8;
	q->job_cmd_va = cmd_va;
	q->job_seqno = sim_le64(e + SIM_RING_ENTRY_SEQNO);
	q->job_fence_va = sim_le64(e + SIM_RING_ENTRY_FENCE_VA);
	if ((cmd_va & 3) || (size & 3) || (flags & ~SIM_RING_FLAGS_VALID) ||
	    slot >= dev->cfg.as_slots) {
		sim_cp_fault_locked(dev, qi, SIM_FAULT_BAD_RING_ENTRY, va);
		return cost;
	}
	q->job_active = true;
	q->cmd_ptr = cmd_va;
	q->cmd_remain = size;
	q->job_as = slot;
	q->job_flags = (uint16_t)flags;
	if (sim_event_wanted(dev, SIM_EV_JOB_START))
		sim_event_locked(dev, SIM_EV_JOB_START, qi, slot, cmd_va, q->job_seqno, NULL);
	return cost;
}

static bool sim_wait_compare(uint32_t op, uint64_t v, uint64_t ref)
{
	switch (op) {
	case SIM_CMD_WAIT_EQ:
		return v == ref;
	case SIM_CMD_WAIT_NE:
		return v != ref;
	case SIM_CMD_WAIT_GE:
		return v >= ref;
	case SIM_CMD_WAIT_GT:
		return v > ref;
	case SIM_CMD_WAIT_LE:
		return v <= ref;
	default:
		return v < ref;
	}
}

/*
 * One WAIT check. Satisfied: back to RUNNING, op done. Not satisfied: WAITING, wait_poll more
 * cycles, epoch remembered for fast-forward. Returns false when the read faulted.
 */
static bool sim_cp_wait_check_locked(struct sim_device *dev, uint32_t qi, uint64_t *cost)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	struct sim_xfer x = {.as = q->job_as, .queue = qi, .source = SIM_SOURCE_COPY};
	uint32_t bytes = (q->op.flags & SIM_CMD_WAIT_64) ? 8 : 4;
	uint8_t buf[8] = {0};
	uint32_t code;
	uint64_t v, ref = q->op.ref;

	code = sim_gpu_read_locked(dev, &x, q->op.dst, buf, bytes);
	*cost += x.cycles;
	if (code) {
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
		return false;
	}
	v = sim_le64(buf);
	if (bytes == 4)
		ref &= 0xffffffffu;
	if (sim_wait_compare(q->op.flags & SIM_CMD_WAIT_OP__MASK, v, ref)) {
		q->op.kind = SIM_OPK_NONE;
		sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_RUNNING);
		return true;
	}
	q->op.wait_epoch = dev->mem_epoch;
	q->off_engine += dev->cfg.timing.wait_poll;
	*cost += dev->cfg.timing.wait_poll;
	sim_perf_add(dev, SIM_PERF_MEM_WAIT_CYCLES, dev->cfg.timing.wait_poll);
	sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_WAITING);
	return true;
}

/* SIGNAL: SET or wrapping ADD of a naturally aligned 4/8-byte word. */
static void sim_cp_signal_locked(struct sim_device *dev, uint32_t qi, uint32_t flags, uint64_t va,
				 uint64_t value, uint64_t *cost) SIM_REQUIRES(dev->lock)
{
	struct sim_xfer x = {.as = dev->q[qi].job_as, .queue = qi, .source = SIM_SOURCE_COPY};
	uint32_t bytes = (flags & SIM_CMD_SIGNAL_64) ? 8 : 4;
	uint32_t access = (flags & SIM_CMD_SIGNAL_ADD) ? SIM_ACCESS_ATOMIC : SIM_ACCESS_WRITE;
	uint8_t *p;
	uint32_t code;

	if (va & (bytes - 1)) {
		sim_cp_fault_locked(dev, qi, SIM_FAULT_BAD_LENGTH, va);
		return;
	}
	code = sim_mmu_translate_locked(dev, &x, va, access, &p);
	*cost += x.cycles + dev->cfg.timing.mem_line;
	if (code) {
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
		return;
	}
	if (flags & SIM_CMD_SIGNAL_ADD) {
		uint8_t old[8] = {0};

		memcpy(old, p, bytes);
		value += sim_le64(old);
	}
	for (uint32_t i = 0; i < bytes; i++)
		p[i] = (uint8_t)(value >> (8 * i));
	dev->mem_epoch++;
}

/* Write @bytes of @value at @va in the job's AS (WRITE32/WRITE64/TIMESTAMP). */
static void sim_cp_store_locked(struct sim_device *dev, uint32_t qi, uint64_t va, uint64_t value,
				uint32_t bytes, uint64_t *cost) SIM_REQUIRES(dev->lock)
{
	struct sim_xfer x = {.as = dev->q[qi].job_as, .queue = qi, .source = SIM_SOURCE_COPY};
	uint8_t buf[8];
	uint32_t code;

	sim_put_le64(buf, value);
	code = sim_gpu_write_locked(dev, &x, va, buf, bytes);
	*cost += x.cycles + dev->cfg.timing.mem_line;
	if (code)
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
}

static uint64_t sim_cp_timestamp_ns(const struct sim_device *dev)
{
	return (uint64_t)((unsigned __int128)dev->base_ticks * 1000000000u / dev->cfg.clock_hz);
}

/* One COPY/FILL chunk; a chunk that moved data without faulting counts in PROGRESS. */
static void sim_cp_copy_step_locked(struct sim_device *dev, uint32_t qi, uint64_t *cost)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	uint64_t done0 = q->op.done;

	if (!sim_copy_step_locked(dev, qi, cost) && q->op.done != done0)
		q->progress++;
}

/* Run one step of the long command in q->op. Returns its cost. */
static uint64_t sim_cp_continue_op_locked(struct sim_device *dev, uint32_t qi)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	struct sim_dispatch *d = &q->dispatch;
	uint64_t cost = 0, fault_va = 0, before, total;
	uint32_t code;
	bool done;

	switch (q->op.kind) {
	case SIM_OPK_COPY:
	case SIM_OPK_FILL:
		sim_cp_copy_step_locked(dev, qi, &cost);
		break;
	case SIM_OPK_WAIT:
		sim_cp_wait_check_locked(dev, qi, &cost);
		break;
	case SIM_OPK_DISPATCH:
		/* Workgroups finished so far: launched ones minus the one still running. */
		before = d->next_group - d->group.active;
		total = d->total_groups;
		code = sim_compute_step_locked(dev, qi, &cost, &done, &fault_va);
		if (code) {
			sim_cp_fault_locked(dev, qi, code, fault_va);
		} else if (done) {
			q->op.kind = SIM_OPK_NONE;
			q->progress += (uint32_t)(total - before);
		} else {
			q->progress += (uint32_t)(d->next_group - d->group.active - before);
		}
		break;
	default:
		break;
	}
	return cost;
}

/* Execute a decoded command with payload @p (already bounds-checked). */
static uint64_t sim_cp_execute_locked(struct sim_device *dev, uint32_t qi, uint32_t opc,
				      uint32_t flags, const uint32_t *p) SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	struct sim_dispatch_params dp;
	uint64_t cost = 0, a = p[0] | (uint64_t)p[1] << 32, fault_va = 0;
	uint32_t code;

	switch (opc) {
	case SIM_CMD_WRITE32:
		sim_cp_store_locked(dev, qi, a, p[2], 4, &cost);
		break;
	case SIM_CMD_WRITE64:
		sim_cp_store_locked(dev, qi, a, p[2] | (uint64_t)p[3] << 32, 8, &cost);
		break;
	case SIM_CMD_TIMESTAMP:
		sim_cp_store_locked(dev, qi, a,
				    (flags & SIM_CMD_TS_CYCLES) ? dev->now
								: sim_cp_timestamp_ns(dev),
				    8, &cost);
		break;
	case SIM_CMD_COPY:
	case SIM_CMD_FILL:
		q->op.kind = opc == SIM_CMD_COPY ? SIM_OPK_COPY : SIM_OPK_FILL;
		q->op.dst = a;
		if (opc == SIM_CMD_COPY) {
			q->op.src = p[2] | (uint64_t)p[3] << 32;
			q->op.size = p[4] | (uint64_t)p[5] << 32;
		} else {
			q->op.size = p[2] | (uint64_t)p[3] << 32;
			q->op.pattern = p[4];
		}
		q->op.done = 0;
		sim_cp_copy_step_locked(dev, qi, &cost);
		break;
	case SIM_CMD_WAIT:
		if ((flags & SIM_CMD_WAIT_OP__MASK) > SIM_CMD_WAIT_LT) {
			sim_cp_fault_locked(dev, qi, SIM_FAULT_ILLEGAL_OPCODE, q->op.cmd_va);
			break;
		}
		if (a & ((flags & SIM_CMD_WAIT_64) ? 7 : 3)) {
			sim_cp_fault_locked(dev, qi, SIM_FAULT_BAD_LENGTH, a);
			break;
		}
		q->op.kind = SIM_OPK_WAIT;
		q->op.flags = flags;
		q->op.dst = a;
		q->op.ref = p[2] | (uint64_t)p[3] << 32;
		sim_cp_wait_check_locked(dev, qi, &cost);
		break;
	case SIM_CMD_SIGNAL:
		sim_cp_signal_locked(dev, qi, flags, a, p[2] | (uint64_t)p[3] << 32, &cost);
		break;
	case SIM_CMD_DISPATCH:
		dp.prog_va = a;
		dp.prog_count = p[2];
		dp.args_va = p[3] | (uint64_t)p[4] << 32;
		dp.groups_x = p[5];
		dp.groups_y = p[6];
		dp.local_size = p[7];
		q->op.kind = SIM_OPK_DISPATCH;
		code = sim_compute_begin_locked(dev, qi, &dp, &cost, &fault_va);
		if (code)
			sim_cp_fault_locked(dev, qi, code, fault_va);
		else
			cost += sim_cp_continue_op_locked(dev, qi);
		break;
	case SIM_CMD_JUMP:
		if ((a & 3) || (p[2] & 3)) {
			sim_cp_fault_locked(dev, qi, SIM_FAULT_BAD_LENGTH, q->op.cmd_va);
			break;
		}
		q->cmd_ptr = a;
		q->cmd_remain = p[2];
		break;
	case SIM_CMD_END:
		q->cmd_remain = 0;
		break;
	case SIM_CMD_INTERRUPT:
		q->irq_payload = p[0];
		sim_irq_raise_locked(dev, SIM_IRQ_QUEUE_USER(qi));
		break;
	default: /* NOP */
		break;
	}
	return cost;
}

/* Decode the command at CMD_PTR and execute it. Returns the cost; *@opc_out = opcode. */
static uint64_t sim_cp_command_unit_locked(struct sim_device *dev, uint32_t qi, uint32_t *opc_out)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	const struct sim_timing *tm = &dev->cfg.timing;
	struct sim_xfer x = {.as = q->job_as, .queue = qi, .source = SIM_SOURCE_CP};
	uint32_t p[8] = {0};
	uint8_t raw[4 * 8];
	uint32_t hdr, opc, len, code;
	uint64_t va = q->cmd_ptr, cost = tm->cmd_header;
	int need;

	*opc_out = SIM_CMD_OPCODE_COUNT;
	q->op.cmd_va = va;
	code = sim_gpu_read_locked(dev, &x, va, raw, 4);
	if (code) {
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
		return cost + x.cycles;
	}
	hdr = sim_le32(raw);
	opc = SIM_FIELD_GET(SIM_CMD_OPCODE, hdr);
	len = SIM_FIELD_GET(SIM_CMD_LEN, hdr);
	need = sim_cmd_payload_len(opc);
	if (opc >= SIM_CMD_OPCODE_COUNT) {
		sim_cp_fault_locked(dev, qi, SIM_FAULT_ILLEGAL_OPCODE, va);
		return cost + x.cycles;
	}
	if ((opc != SIM_CMD_NOP && len != (uint32_t)need) || 4 + 4ull * len > q->cmd_remain) {
		sim_cp_fault_locked(dev, qi, SIM_FAULT_BAD_LENGTH, va);
		return cost + x.cycles;
	}
	cost += (uint64_t)tm->cmd_dword * len;
	if (opc != SIM_CMD_NOP && len) {
		code = sim_gpu_read_locked(dev, &x, va + 4, raw, 4ull * len);
		if (code) {
			sim_cp_fault_locked(dev, qi, code, x.fault_va);
			return cost + x.cycles;
		}
		for (uint32_t i = 0; i < len; i++)
			p[i] = sim_le32(raw + 4 * i);
	}
	cost += x.cycles;
	*opc_out = opc;
	q->cmd_ptr = va + 4 + 4ull * len;
	q->cmd_remain -= 4 + 4 * len;
	dev->stats.commands++;
	if (sim_event_wanted(dev, SIM_EV_CMD))
		sim_event_locked(dev, SIM_EV_CMD, qi, opc, va,
				 opc == SIM_CMD_TIMESTAMP ? p[0] | (uint64_t)p[1] << 32 : 0,
				 sim_cmd_name(opc));
	return cost + sim_cp_execute_locked(dev, qi, opc, SIM_FIELD_GET(SIM_CMD_FLAGS, hdr), p);
}

/*
 * sim_cp_run_unit_locked - see sim_internal.h. Order within a unit: the work itself (ring fetch,
 * one command, or one step of a long command), then job completion if the job ran out of
 * commands, then a pending STOP if the queue reached a boundary. Costs are charged to the
 * queue's busy cycles and the perf counters of the kind of work done.
 */
uint64_t sim_cp_run_unit_locked(struct sim_device *dev, uint32_t qi)
{
	struct sim_queue *q = &dev->q[qi];
	const struct sim_timing *tm = &dev->cfg.timing;
	enum sim_op_kind kind = q->op.kind;
	uint32_t opc = SIM_CMD_OPCODE_COUNT;
	uint64_t cost;

	sim_mutex_assert_held(&dev->lock);
	q->off_engine = 0;
	if (!sim_cp_is_busy(q))
		return 1;
	if (q->hung) {
		cost = tm->wait_poll;
	} else if (kind != SIM_OPK_NONE) {
		cost = sim_cp_continue_op_locked(dev, qi);
		if (kind == SIM_OPK_WAIT && q->state == SIM_Q_STATE_RUNNING) {
			/* A successful re-check costs a poll too (a failed one added it). */
			cost += tm->wait_poll;
			q->off_engine += tm->wait_poll;
			sim_perf_add(dev, SIM_PERF_MEM_WAIT_CYCLES, tm->wait_poll);
		}
	} else if (!q->job_active && q->head == q->tail) {
		/* The driver pulled TAIL back to HEAD: nothing left to fetch. */
		sim_cp_set_state_locked(dev, qi, SIM_Q_STATE_IDLE);
		cost = 1;
	} else if (!q->job_active) {
		if (sim_as_is_locked(dev, q->ring_as))
			cost = tm->wait_poll;
		else
			cost = sim_cp_fetch_job_locked(dev, qi);
	} else if (sim_as_is_locked(dev, q->job_as)) {
		cost = tm->wait_poll;
	} else if (q->cmd_remain &&
		   sim_cp_inject_take_locked(q, &q->inject_hang, &q->scoped_hang)) {
		q->hung = true;
		sim_log_locked(dev, SIM_LOG_INFO, "injected: queue %u hangs", qi);
		cost = tm->wait_poll;
		q->off_engine = cost;
	} else if (q->cmd_remain) {
		cost = sim_cp_command_unit_locked(dev, qi, &opc);
		if (opc == SIM_CMD_COPY || opc == SIM_CMD_FILL)
			kind = SIM_OPK_COPY;
		else if (opc == SIM_CMD_DISPATCH)
			kind = SIM_OPK_DISPATCH;
	} else {
		cost = 0;
	}
	/* A command finished in this unit (a short one, or the last step of a long one). */
	if ((opc != SIM_CMD_OPCODE_COUNT || (kind != SIM_OPK_NONE && !q->hung)) &&
	    q->op.kind == SIM_OPK_NONE && q->state != SIM_Q_STATE_FAULTED)
		q->progress++;
	if (q->state == SIM_Q_STATE_RUNNING && q->job_active && !q->hung &&
	    q->op.kind == SIM_OPK_NONE && !q->cmd_remain)
		cost += sim_cp_complete_job_locked(dev, qi);
	if (q->stop_requested && sim_cp_is_busy(q) && !q->hung && sim_cp_at_preempt_point(q))
		sim_cp_stop_now_locked(dev, qi);
	if (!cost)
		cost = 1;
	q->busy_cycles += cost;
	sim_perf_add(dev, SIM_PERF_BUSY_CP, cost);
	if (kind == SIM_OPK_COPY || kind == SIM_OPK_FILL)
		sim_perf_add(dev, SIM_PERF_BUSY_COPY, cost);
	else if (kind == SIM_OPK_DISPATCH)
		sim_perf_add(dev, SIM_PERF_BUSY_COMPUTE, cost);
	return cost;
}

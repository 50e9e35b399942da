/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_recovery.c - the hang watchdog, reset recovery and power management.
 *
 * Watchdog: while work is on a ring the device keeps GPU_TIMER armed MSD_SIM_HANG_CYCLES ahead.
 * The clock only runs while the GPU has work, so a tick measures GPU busy time, never host load.
 * On each tick every queue with entries in flight compares Q_SEQNO and Q_PROGRESS with the
 * previous tick: if either moved it is alive (a 10 ms DISPATCH finishes workgroups, a long COPY
 * moves chunks); if neither did and the queue executed for at least half a tick (Q_BUSY_CYCLES)
 * since it last moved, it is hung. A queue that stood still because higher-priority queues held
 * the shared engine has not executed (busy cycles do not count time spent waiting for the
 * engine), so it is not blamed for them. A queue polling a WAIT gets
 * MSD_SIM_WAIT_HANG_MS of host time before it counts as hung (the CPU may be about to write the
 * word; the sim's stalled clock follows wall time). A workgroup that runs longer than one tick
 * without finishing is therefore taken for a hang: MSD_SIM_HANG_CYCLES bounds one workgroup.
 * Recovery: the job at the hung queue's head is guilty. Every ring entry still in flight is taken
 * back, SOFT_RESET is written and RESET_DONE awaited for MSD_SIM_RESET_WAIT_MS; without it the
 * GPU is hard-reset and brought up again (interrupts, cores, clock divider, kernel slot, rings;
 * client address spaces rebind lazily at their next job). The guilty context is killed (FAULT
 * payload with MAGMA_SIM_FAULT_HANG, then CONTEXT_KILLED) and its jobs are dropped; the other
 * jobs go back to the front of the ready list in their original order, from the first entry
 * that had not retired, so innocent work completes with correct results.
 * Power: utilization = GPU busy time / host time over windows of at least MSD_SIM_DVFS_WINDOW_MS,
 * sampled on retirements and ticks; above 75 % the divider drops to 1, below 25 % it rises by
 * one up to MSD_SIM_CLOCK_DIV_MAX. After MSD_SIM_IDLE_MS of host time with no job anywhere (the
 * device thread's poll timeout) the divider goes to the maximum and every core off; the next
 * job powers them on before its ring entries are written. Busy time is accumulated in the driver
 * across divider changes and hard resets, so MAGMA_QUERY_TOTAL_TIME never goes backwards.
 * All of it needs the device thread: in test mode (no thread) neither runs. Device thread,
 * device lock (the wake-up check in msd_sim_job_submit_locked runs on submitting threads too).
 */
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* msd_sim_cycles_to_ns - GPU cycles at divider @div of a @khz clock, in ns, without overflow. */
uint64_t msd_sim_cycles_to_ns(uint64_t cycles, uint32_t div, uint32_t khz)
{
	unsigned __int128 ns = (unsigned __int128)cycles * div * 1000000u;

	return (uint64_t)(ns / khz);
}

static bool msd_sim_on_device_thread(struct msd_sim_device *dev)
{
	return dev->threaded && pthread_equal(pthread_self(), dev->thread);
}

/*
 * Wait up to @timeout_ms for @bits in IRQ_RAWSTAT, then clear them. Other causes acknowledged
 * meanwhile are handed to the normal path through dev->pending_irq. Device thread.
 */
static bool msd_sim_wait_bits_locked(struct msd_sim_device *dev, uint32_t bits, uint32_t timeout_ms)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct pollfd p = {.fd = sim_irq_fd(dev->sim), .events = POLLIN};
	uint64_t deadline = msd_sim_now_ms() + timeout_ms;
	bool ok = false;

	for (;;) {
		uint64_t drain;

		if ((msd_sim_read32(dev, SIM_GPU_IRQ_RAWSTAT) & bits) == bits) {
			msd_sim_write32(dev, SIM_GPU_IRQ_CLEAR, bits);
			ok = true;
			break;
		}
		if (msd_sim_now_ms() >= deadline)
			break;
		if (poll(&p, 1, 1) == 1 && read(p.fd, &drain, sizeof(drain)) < 0)
			continue;
	}
	dev->pending_irq |= msd_sim_irq_read_and_clear(dev);
	return ok;
}

static uint64_t msd_sim_busy_cycles_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	uint64_t cycles = 0;

	for (uint32_t qi = 0; qi < dev->queue_count; qi++)
		cycles += msd_sim_read64(dev, SIM_Q_BUSY_CYCLES_LO(qi));
	return cycles;
}

static uint32_t msd_sim_div_locked(struct msd_sim_device *dev)
{
	return dev->clock_div ? dev->clock_div : 1;
}

/* Fold the busy cycles since the last fold into busy_ns_base at the current divider. */
static void msd_sim_power_fold_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	uint64_t cycles = msd_sim_busy_cycles_locked(dev);

	dev->busy_ns_base += msd_sim_cycles_to_ns(cycles - dev->busy_cycles_mark,
						  msd_sim_div_locked(dev), dev->clock_khz);
	dev->busy_cycles_mark = cycles;
}

/*
 * msd_sim_power_busy_ns_locked - GPU busy time in ns since bring-up, summed over queues, each
 * cycle counted at the divider it ran at. Monotonic across divider changes and hard resets.
 */
uint64_t msd_sim_power_busy_ns_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	return dev->busy_ns_base +
	       msd_sim_cycles_to_ns(msd_sim_busy_cycles_locked(dev) - dev->busy_cycles_mark,
				    msd_sim_div_locked(dev), dev->clock_khz);
}

static void msd_sim_power_set_div_locked(struct msd_sim_device *dev, uint32_t div)
	MSD_SIM_REQUIRES(dev->lock)
{
	if (div == msd_sim_div_locked(dev))
		return;
	msd_sim_power_fold_locked(dev);
	msd_sim_write32(dev, SIM_PWR_CLOCK_DIV, div);
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG, "clock divider %u -> %u", msd_sim_div_locked(dev),
		    div);
	dev->clock_div = div;
}

/*
 * msd_sim_power_sample_locked - close the utilization window once it spans
 * MSD_SIM_DVFS_WINDOW_MS and scale the clock: > 75 % busy -> divider 1, < 25 % -> one step
 * slower. Device thread only (no-op elsewhere).
 */
void msd_sim_power_sample_locked(struct msd_sim_device *dev)
{
	uint64_t now, busy, util;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!msd_sim_on_device_thread(dev) || dev->cores_off)
		return;
	now = msd_sim_clock_ns(dev);
	if (!dev->dvfs_wall_ns) {
		dev->dvfs_wall_ns = now;
		dev->dvfs_busy_ns = msd_sim_power_busy_ns_locked(dev);
		return;
	}
	if (now - dev->dvfs_wall_ns < MSD_SIM_DVFS_WINDOW_MS * 1000000ull)
		return;
	busy = msd_sim_power_busy_ns_locked(dev);
	util = (busy - dev->dvfs_busy_ns) * 100 / (now - dev->dvfs_wall_ns);
	dev->dvfs_wall_ns = now;
	dev->dvfs_busy_ns = busy;
	if (util > 75)
		msd_sim_power_set_div_locked(dev, 1);
	else if (util < 25 && msd_sim_div_locked(dev) < MSD_SIM_CLOCK_DIV_MAX)
		msd_sim_power_set_div_locked(dev, msd_sim_div_locked(dev) + 1);
}

/* Cores off and the slowest clock; the device is idle. Device thread. */
static void msd_sim_power_down_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	msd_sim_power_set_div_locked(dev, MSD_SIM_CLOCK_DIV_MAX);
	msd_sim_write32(dev, SIM_PWR_CORES_OFF, dev->cores_present);
	if (!msd_sim_wait_bits_locked(dev, SIM_IRQ_POWER_CHANGED, MSD_SIM_WAIT_MS))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "no POWER_CHANGED after CORES_OFF");
	dev->cores_off = true;
	dev->power_downs++;
	dev->dvfs_wall_ns = 0;
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG, "idle: cores %#x off, clock divider %u",
		    dev->cores_present, msd_sim_div_locked(dev));
}

/*
 * msd_sim_power_up_locked - make sure the cores are on before ring entries are written. Returns
 * true when they are; false on a thread other than the device thread while they are off (the
 * job stays ready and the device thread, which is kicked, powers them on).
 */
bool msd_sim_power_up_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->cores_off)
		return true;
	if (!msd_sim_on_device_thread(dev))
		return false;
	msd_sim_write32(dev, SIM_PWR_CORES_ON, dev->cores_present);
	if (!msd_sim_wait_bits_locked(dev, SIM_IRQ_POWER_CHANGED, MSD_SIM_WAIT_MS))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "no POWER_CHANGED after CORES_ON");
	dev->cores_off = false;
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG, "busy: cores %#x on", dev->cores_present);
	return true;
}

/*
 * msd_sim_power_idle_locked - the device thread's poll timeout in ms (-1: none). Once the device
 * has been idle (no job held, ready or on a ring, no request) for MSD_SIM_IDLE_MS, powers down.
 */
int msd_sim_power_idle_locked(struct msd_sim_device *dev)
{
	uint64_t now, idle;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!msd_sim_on_device_thread(dev) || !msd_sim_device_is_idle_locked(dev) ||
	    !msd_sim_list_empty(&dev->requests)) {
		dev->idle_since_ms = 0;
		return -1;
	}
	if (dev->cores_off)
		return -1;
	dev->idle_checks++;
	now = msd_sim_clock_ms(dev);
	if (!dev->idle_since_ms)
		dev->idle_since_ms = now;
	idle = now - dev->idle_since_ms;
	if (idle < MSD_SIM_IDLE_MS)
		return (int)(MSD_SIM_IDLE_MS - idle);
	msd_sim_power_down_locked(dev);
	return -1;
}

static bool msd_sim_queue_has_work(const struct msd_sim_queue *q)
{
	return q->head != q->tail;
}

/*
 * msd_sim_watchdog_restart_queue_locked - snapshot queue @qi's SEQNO, PROGRESS and busy cycles
 * for the next hang check, as if they had just moved. The watchdog arm does it for every queue;
 * msd_sim_abandon.c does it for a queue whose head job it dropped with Q_COMMAND RESET, before
 * anything else is written to that ring. A dropped job moves neither Q_SEQNO nor, when it had
 * completed no command, Q_PROGRESS (RESET zeroes it, and it was 0): without a new snapshot the
 * cycles it spent standing still - a WAIT nobody satisfies polling for most of a tick, excused
 * while it was WAITING - would count against the next job on that queue, blamed as hung if the
 * tick came before its first command completed. Only with a device thread (no watchdog in test
 * mode). Device lock.
 */
void msd_sim_watchdog_restart_queue_locked(struct msd_sim_device *dev, uint32_t qi)
{
	struct msd_sim_queue *q = &dev->queues[qi];

	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->threaded)
		return;
	q->wd_seqno = msd_sim_read64(dev, SIM_Q_SEQNO_LO(qi));
	q->wd_progress = msd_sim_read32(dev, SIM_Q_PROGRESS(qi));
	q->wd_wait_ms = 0;
	q->wd_busy = msd_sim_read64(dev, SIM_Q_BUSY_CYCLES_LO(qi));
}

/*
 * msd_sim_watchdog_arm_locked - arm GPU_TIMER for the next hang check unless it is armed; snapshot
 * SEQNO and PROGRESS of every queue. Only with a device thread. Caller holds the lock (device
 * thread or a submitting thread that just rang a doorbell).
 */
void msd_sim_watchdog_arm_locked(struct msd_sim_device *dev)
{
	uint64_t now;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->threaded || dev->wd_armed)
		return;
	now = msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++)
		msd_sim_watchdog_restart_queue_locked(dev, qi);
	msd_sim_write64(dev, SIM_GPU_TIMER_COMPARE_LO, now + MSD_SIM_HANG_CYCLES);
	msd_sim_write32(dev, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
	dev->wd_armed = true;
}

/* Hard reset and the bring-up after it. Ring bookkeeping restarts at entry 0. */
static magma_status_t msd_sim_recovery_hard_reset_locked(struct msd_sim_device *dev)
	MSD_SIM_REQUIRES(dev->lock)
{
	uint64_t deadline;

	msd_sim_power_fold_locked(dev);
	msd_sim_write32(dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	dev->hard_resets++;
	dev->busy_cycles_mark = 0;
	dev->wd_armed = false;
	deadline = msd_sim_now_ms() + MSD_SIM_WAIT_MS;
	while (msd_sim_read32(dev, SIM_GPU_STATUS) & SIM_STATUS_RESETTING) {
		if (msd_sim_now_ms() >= deadline)
			return MSD_SIM_RET(MAGMA_STATUS_TIMED_OUT,
					   "no RESET_DONE after HARD_RESET");
		poll(NULL, 0, 1);
	}
	msd_sim_write32(dev, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	msd_sim_write32(dev, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	msd_sim_write32(dev, SIM_PWR_CORES_ON, dev->cores_present);
	if (!msd_sim_wait_bits_locked(dev, SIM_IRQ_POWER_CHANGED, MSD_SIM_WAIT_MS))
		return MSD_SIM_RET(MAGMA_STATUS_TIMED_OUT, "no POWER_CHANGED after CORES_ON");
	dev->cores_off = false;
	if (msd_sim_div_locked(dev) != 1)
		msd_sim_write32(dev, SIM_PWR_CLOCK_DIV, msd_sim_div_locked(dev));
	for (uint32_t s = 0; s < dev->as_slots; s++) {
		if (s != MSD_SIM_KERNEL_SLOT && dev->slot_as[s]) {
			dev->slot_as[s]->slot = -1;
			dev->slot_as[s] = NULL;
		}
	}
	msd_sim_as_program_slot_locked(dev, MSD_SIM_KERNEL_SLOT, &dev->kernel_as);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		dev->queues[qi].head = dev->queues[qi].tail = 0;
		dev->queues[qi].jobs = 0;
		msd_sim_write64(dev, SIM_Q_RING_BASE_LO(qi), MSD_SIM_KERNEL_RING_VA(qi));
		msd_sim_write32(dev, SIM_Q_RING_SIZE(qi), dev->queues[qi].size);
		msd_sim_write32(dev, SIM_Q_RING_AS(qi), MSD_SIM_KERNEL_SLOT);
		msd_sim_write32(dev, SIM_Q_CONTROL(qi), SIM_Q_CONTROL_ENABLE);
	}
	msd_sim_sched_program_locked(dev);
	return MAGMA_STATUS_OK;
}

/* Kill @ctx for a hang of its job @job: FAULT payload, then CONTEXT_KILLED. */
static void msd_sim_recovery_kill_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx,
					 const struct msd_sim_job *job) MSD_SIM_REQUIRES(dev->lock)
{
	struct magma_sim_notification n = {
		.type = MAGMA_SIM_NOTIFY_FAULT,
		.context_id = ctx->id,
		.sequence = job->sequence,
		.fault_code = MAGMA_SIM_FAULT_HANG,
	};
	struct msd_notification_t killed = {.type = MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED};

	if (ctx->killed)
		return;
	ctx->killed = true;
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	msd_sim_connection_notify_locked(ctx->conn, &n, sizeof(n));
	msd_sim_device_queue_notify_locked(dev, ctx->conn, &killed);
}

/* Queue @qi is hung: reset the GPU, kill the guilty context, put innocent work back. */
static void msd_sim_recovery_locked(struct msd_sim_device *dev, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_queue *q = &dev->queues[qi];
	struct msd_sim_job *guilty = q->slots[q->head].job;
	struct msd_sim_context *ctx = guilty->ctx;
	uint64_t t0 = msd_sim_now_ns();
	struct msd_sim_list jobs;
	bool soft;

	ctx->refs++; /* freeing its jobs must not free it yet; put below */
	dev->hangs++;
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING,
		    "queue %u hung: seqno %" PRIu64
		    " progress %u state %u; context %u submission %" PRIu64 " is guilty",
		    qi, q->wd_seqno, q->wd_progress,
		    SIM_FIELD_GET(SIM_Q_STATUS_STATE, msd_sim_read32(dev, SIM_Q_STATUS(qi))),
		    ctx->id, guilty->sequence);
	msd_sim_list_init(&jobs);
	for (uint32_t queue = 0; queue < dev->queue_count; queue++)
		msd_sim_queue_take_back_locked(dev, queue, &jobs);
	msd_sim_write32(dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	soft = msd_sim_wait_bits_locked(dev, SIM_IRQ_RESET_DONE, MSD_SIM_RESET_WAIT_MS);
	if (soft) {
		dev->soft_resets++;
	} else {
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING,
			    "no RESET_DONE %u ms after SOFT_RESET: hard reset",
			    MSD_SIM_RESET_WAIT_MS);
		if (msd_sim_recovery_hard_reset_locked(dev) != MAGMA_STATUS_OK)
			MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "GPU lost: hard reset failed");
	}
	msd_sim_recovery_kill_locked(dev, ctx, guilty);
	/* The guilty context's jobs go; innocent work goes ahead of its contexts' ready jobs. */
	msd_sim_job_requeue_locked(dev, &jobs);
	msd_sim_job_cancel_context_locked(dev, ctx);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	msd_sim_context_put_locked(ctx);
	dev->wd_armed = false;
	dev->last_recovery_ns = msd_sim_now_ns() - t0;
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING,
		    "recovered by %s reset in %" PRIu64
		    " us; hangs %u, soft resets %u, hard resets %u",
		    soft ? "soft" : "hard", dev->last_recovery_ns / 1000, dev->hangs,
		    dev->soft_resets, dev->hard_resets);
	msd_sim_device_kick_locked(dev);
}

/*
 * msd_sim_watchdog_tick_locked - GPU_TIMER fired: sample utilization, check every queue with work
 * in flight for progress, recover a hung one, re-arm while work remains. Device thread.
 */
void msd_sim_watchdog_tick_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	dev->wd_armed = false;
	if (!dev->threaded)
		return;
	msd_sim_power_sample_locked(dev);
	MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG, "watchdog tick at cycle %" PRIu64,
		    msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO));
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];
		uint64_t seqno, busy;
		uint32_t progress, state;

		/* Completions whose JOB_DONE is still on its way must not be blamed. */
		msd_sim_job_retire_queue_locked(dev, qi);
		if (!msd_sim_queue_has_work(q))
			continue;
		seqno = msd_sim_read64(dev, SIM_Q_SEQNO_LO(qi));
		progress = msd_sim_read32(dev, SIM_Q_PROGRESS(qi));
		state = SIM_FIELD_GET(SIM_Q_STATUS_STATE, msd_sim_read32(dev, SIM_Q_STATUS(qi)));
		busy = msd_sim_read64(dev, SIM_Q_BUSY_CYCLES_LO(qi));
		if (seqno != q->wd_seqno || progress != q->wd_progress) {
			q->wd_seqno = seqno;
			q->wd_progress = progress;
			q->wd_wait_ms = 0;
			q->wd_busy = busy;
			continue;
		}
		/* Waiting for the engine behind higher priorities is not a hang. */
		if (busy - q->wd_busy < MSD_SIM_HANG_CYCLES / 2)
			continue;
		if (state == SIM_Q_STATE_WAITING) {
			uint64_t now = msd_sim_clock_ms(dev);

			if (!q->wd_wait_ms)
				q->wd_wait_ms = now;
			if (now - q->wd_wait_ms < MSD_SIM_WAIT_HANG_MS)
				continue;
		}
		msd_sim_recovery_locked(dev, qi);
		return;
	}
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (msd_sim_queue_has_work(&dev->queues[qi])) {
			/* Keep the snapshot taken above: the next tick compares against it. */
			uint64_t now = msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO);

			msd_sim_write64(dev, SIM_GPU_TIMER_COMPARE_LO, now + MSD_SIM_HANG_CYCLES);
			msd_sim_write32(dev, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
			dev->wd_armed = true;
			return;
		}
	}
}

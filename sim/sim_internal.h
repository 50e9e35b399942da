/* SPDX-License-Identifier: MIT */
/*
 * sim_internal.h - the device structure and the interfaces between the model's hardware blocks.
 *
 * Blocks, one file each: sim_device.c (create/destroy, reset, stats, injection), sim_mmio.c
 * (register decode for the GPU/IRQ/time/power/perf blocks; forwards queue and AS registers),
 * sim_irq.c, sim_clock.c (event scheduler, background thread), sim_bus.c (physical frames),
 * sim_events.c (subscribers, logging), sim_power.c, sim_perf.c, sim_mmu.c (address-space slots,
 * page walk, TLB, data access helpers), sim_cp.c (queues, rings, command decode), sim_copy.c
 * (data commands), sim_compute.c (compute cores), sim_isa.c (ISA tables).
 *
 * Threading: everything in struct sim_device is guarded by dev->lock unless marked otherwise.
 * Functions named *_locked require it (SIM_REQUIRES). Guest-visible time is dev->now; work done
 * by a block costs cycles that the caller adds to the queue's ready time -- blocks never advance
 * dev->now themselves, only sim_clock.c does.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_mutex.h"

#define SIM_MAX_CORES	SIM_CONFIG_CORES_MAX
#define SIM_MAX_LANES	SIM_CONFIG_LANES_MAX
#define SIM_MAX_PENDING 64 /* timed device events (reset, power, timer, delayed IRQs) */

/* ---- Bus memory (sim_bus.c) ---- */
struct sim_bus {
	uint8_t **frames; /* frames[pfn] = host page or NULL; frames[0] always NULL */
	uint64_t max_frames;
	uint64_t mapped;
	uint64_t lowest_free; /* no free frame below this index */
};

/* ---- MMU (sim_mmu.c) ---- */
struct sim_tlb_entry {
	uint64_t vpn;  /* va >> 12 */
	uint8_t *host; /* host address of the page */
	uint64_t pa;   /* physical address of the page */
	uint8_t slot;
	uint8_t perms; /* SIM_PTE_READ | WRITE | EXECUTE */
	bool valid;
};

struct sim_tlb {
	uint32_t sets;
	uint32_t ways;		       /* 4 */
	struct sim_tlb_entry *entries; /* sets * ways */
	uint8_t *victim;	       /* per set: next way to replace (round robin) */
};

struct sim_as {
	uint64_t transtab_staged;
	uint32_t config_staged;
	uint64_t transtab; /* live, after UPDATE */
	uint32_t config;   /* live */
	bool locked;	   /* LOCK: no new command of a job in this slot starts */
	bool fault_latched;
	uint32_t faultstatus;
	uint64_t faultaddr;
	uint64_t range_base;
	uint32_t range_pages;
	uint32_t inject_fault_code; /* SIM_INJECT_MMU_FAULT: code to raise, 0 = none */
	uint32_t inject_fault_count;
};

/* Context of a GPU data access: who is asking, and where its cost accumulates. */
struct sim_xfer {
	uint32_t as;	   /* address-space slot */
	uint32_t queue;	   /* queue of the job (for fault status) */
	uint32_t source;   /* SIM_SOURCE_* */
	uint64_t cycles;   /* translation cost (TLB walks) is added here */
	uint64_t fault_va; /* set when a call returns a fault */
};

/* ---- Compute (sim_compute.c) ---- */
struct sim_dispatch_params {
	uint64_t prog_va;
	uint32_t prog_count;
	uint64_t args_va;
	uint32_t groups_x, groups_y;
	uint32_t local_size;
};

struct sim_cf_entry {	/* control-flow stack */
	uint64_t saved; /* active mask at IF/LOOP */
	uint64_t taken; /* IF: lanes that took the then-side; LOOP: lanes that broke out */
	bool is_loop;
};

struct sim_group { /* the workgroup currently executing (resumable between steps) */
	bool active;
	uint32_t gx, gy, core;
	uint32_t pc;
	uint64_t mask;	 /* active lanes */
	uint64_t exited; /* lanes that ran EXIT */
	uint32_t sp;
	struct sim_cf_entry stack[SIM_ISA_STACK_DEPTH];
	uint32_t regs[SIM_MAX_LANES][SIM_ISA_REGS];
};

struct sim_dispatch {
	bool active;
	struct sim_dispatch_params p;
	struct sim_isa_insn *prog; /* decoded program, prog_count entries (owned) */
	uint8_t *prog_valid;	   /* 1 if prog[i] decoded cleanly */
	uint64_t next_group;	   /* linear index of the next group to launch */
	uint64_t total_groups;
	uint64_t core_time[SIM_MAX_CORES]; /* busy cycles per core since dispatch start */
	uint32_t core_mask; /* cores powered when the dispatch began (the ones it uses) */
	uint64_t charged;   /* cycles already returned to the CP for this dispatch */
	struct sim_group group;
};

/* ---- Command processor (sim_cp.c, sim_copy.c) ---- */
enum sim_op_kind { /* a long command in progress, resumable across units */
		   SIM_OPK_NONE,
		   SIM_OPK_COPY,
		   SIM_OPK_FILL,
		   SIM_OPK_WAIT,
		   SIM_OPK_DISPATCH,
};

struct sim_op {
	enum sim_op_kind kind;
	uint32_t flags;
	uint64_t dst, src, size, done; /* COPY/FILL progress */
	uint64_t ref;		       /* WAIT reference */
	uint32_t pattern;
	uint64_t wait_epoch; /* dev->mem_epoch at the last failed WAIT check */
	uint64_t cmd_va;     /* VA of the command, for fault reports */
};

/* An injection scoped to the jobs of one queue with ring SEQNO in [first, last]. */
struct sim_job_inject {
	uint32_t count; /* 0: none armed */
	uint64_t first, last;
};

struct sim_queue {
	/* registers */
	uint64_t ring_base;
	uint32_t ring_size;
	uint32_t ring_as;
	uint32_t head, tail;
	uint32_t control;
	uint32_t state; /* SIM_Q_STATE_* */
	uint32_t fault_code;
	uint64_t fault_addr, fault_cmd;
	uint64_t seqno;
	uint32_t irq_payload;
	uint64_t busy_cycles;
	/* the job in flight */
	bool job_active;
	uint64_t job_cmd_va; /* start, for events */
	uint64_t cmd_ptr;    /* next command */
	uint32_t cmd_remain; /* bytes left */
	uint32_t job_as;
	uint16_t job_flags;
	uint64_t job_seqno;
	uint64_t job_fence_va;
	struct sim_op op;
	struct sim_dispatch dispatch;
	bool stop_requested;
	/* scheduling */
	uint64_t ready_at;   /* cycle at which the next unit may run */
	uint64_t off_engine; /* cycles at the end of the last unit not occupying the engine */
	uint32_t priority;   /* Q_PRIORITY, 0..3 */
	uint32_t progress;   /* Q_PROGRESS: commands, workgroups and copy chunks done (wraps) */
	bool hung;	     /* SIM_INJECT_CP_HANG armed/hit */
	uint32_t inject_hang;
	uint32_t inject_dma;
	struct sim_job_inject scoped_hang, scoped_dma; /* sim_inject.seqno_first/last */
};

/* ---- Timed device events (sim_clock.c) ---- */
enum sim_pending_kind {
	SIM_PENDING_RESET_DONE,
	SIM_PENDING_POWER_DONE,
	SIM_PENDING_IRQ, /* delayed IRQ causes (arg) */
};

struct sim_pending {
	uint64_t at;
	enum sim_pending_kind kind;
	uint32_t arg;
};

/* ---- Event subscribers (sim_events.c) ---- */
struct sim_subscriber {
	sim_event_fn fn;
	void *ctx;
	uint32_t mask;
};

/* ---- The device ---- */
struct sim_device {
	struct sim_mutex lock;
	struct sim_config cfg;

	/* time */
	uint64_t now;	     /* GPU cycles */
	uint64_t base_ticks; /* base-clock ticks (cycles * divider), for nanoseconds */
	uint64_t mem_epoch;  /* bumped by every GPU write and every host step: WAIT re-check */

	/* GPU control block */
	uint32_t irq_rawstat, irq_mask;
	uint32_t scratch;
	uint32_t guest_errors;
	uint64_t timer_compare;
	uint32_t timer_control;
	uint32_t latch_offset; /* HI register whose value was latched by reading its LO */
	uint32_t latch_value;

	/* reset */
	bool resetting;
	uint32_t reset_kind;
	uint32_t inject_reset_fail;

	/* power */
	uint32_t cores_ready;
	uint32_t cores_target;
	uint32_t clock_div;
	bool pwr_transition;

	/* performance counters */
	uint32_t perf_control;
	uint64_t perf[SIM_PERF_COUNT];
	uint64_t perf_sample[SIM_PERF_COUNT];

	struct sim_bus bus;
	struct sim_tlb tlb;
	struct sim_as as[SIM_AS_MAX];
	struct sim_queue q[SIM_QUEUE_MAX];
	uint64_t engine_until; /* the shared engine is busy with a unit until this cycle */
	uint32_t engine_last;  /* queue whose unit the engine ran last (round-robin start) */
	uint64_t arb_state;    /* xorshift state of seeded arbitration (cfg.arb_seed != 0) */
	bool hold;	       /* sim_set_hold: no queue runs */

	struct sim_pending pending[SIM_MAX_PENDING];
	uint32_t pending_count;

	/* interrupt line */
	bool line;
	int irq_fd;
	bool irq_defer; /* clock thread in a quantum: a rise leaves the fd write owed */
	bool irq_owed;	/* that write, done by the clock thread once it has unlocked */
	sim_irq_fn irq_fn;
	void *irq_ctx;
	uint32_t inject_drop_irq;
	uint32_t inject_delay_irq;
	uint64_t inject_delay_cycles;

	/* events */
	struct sim_subscriber subs[SIM_MAX_SUBSCRIBERS];
	uint32_t ev_mask; /* union of subscriber masks: the fast "anyone listening?" test */

	/* host allocation failure injection */
	uint32_t alloc_fail_countdown;

	struct sim_stats stats;

	/* background thread (sim_clock.c); fields below are guarded by lock too */
	pthread_t thread;
	pthread_cond_t wake; /* signalled on doorbell, register write, stop */
	/* Host threads blocked on @lock in an MMIO call (atomic, not guarded): the clock thread
	 * ends its quantum at the next unit boundary and lets them in, so a driver's register
	 * accesses never wait out whole quanta of a busy GPU. */
	atomic_uint host_waiters;
	bool thread_running;
	bool thread_stop;
	bool pacing;
	bool inline_armed; /* sim_inline_begin: the clock thread's kicks wait for sim_inline_end */
	bool kick_owed;	   /* such a kick */
};

/*
 * Take dev->lock on behalf of a host call (every public entry point but the clock thread's own),
 * counted in dev->host_waiters while waiting so the clock thread steps aside for it.
 */
static inline void sim_host_lock(struct sim_device *dev)
	SIM_ACQUIRE(dev->lock) SIM_NO_THREAD_SAFETY_ANALYSIS
{
	atomic_fetch_add_explicit(&dev->host_waiters, 1, memory_order_relaxed);
	sim_mutex_lock(&dev->lock);
	atomic_fetch_sub_explicit(&dev->host_waiters, 1, memory_order_relaxed);
}

/* ---- sim_device.c ---- */
void *sim_alloc(struct sim_device *dev, size_t size); /* calloc honouring alloc injection */
void sim_soft_reset_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);
void sim_hard_reset_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);

/* ---- sim_events.c ---- */
static inline bool sim_event_wanted(const struct sim_device *dev, enum sim_event_type type)
{
	return (dev->ev_mask >> type) & 1u;
}
/* Deliver @ev (cycle filled in by the caller) to every subscriber wanting its type. */
void sim_event_emit_locked(struct sim_device *dev, const struct sim_event *ev)
	SIM_REQUIRES(dev->lock);
/* Shorthand: emit an event stamped dev->now; cheap no-op when nobody listens. */
void sim_event_locked(struct sim_device *dev, enum sim_event_type type, uint32_t unit,
		      uint32_t code, uint64_t value, uint64_t value2, const char *name)
	SIM_REQUIRES(dev->lock);
/* Log a guest error (counts in SIM_GPU_GUEST_ERRORS), an unimplemented feature, or info. */
void sim_log_locked(struct sim_device *dev, uint32_t cls, const char *fmt, ...)
	SIM_REQUIRES(dev->lock) __attribute__((format(printf, 3, 4)));

/* ---- sim_irq.c ---- */
/* Set @bits in RAWSTAT (subject to DELAY injection), emit IRQ_RAISE, update the line. */
void sim_irq_raise_locked(struct sim_device *dev, uint32_t bits) SIM_REQUIRES(dev->lock);
/* Set @bits in RAWSTAT now, bypassing injection (delayed delivery lands here). */
void sim_irq_set_raw_locked(struct sim_device *dev, uint32_t bits) SIM_REQUIRES(dev->lock);
/* Recompute the line from RAWSTAT & MASK; signal fd/handler on a rise or when @rearm. */
void sim_irq_update_locked(struct sim_device *dev, bool rearm) SIM_REQUIRES(dev->lock);

/* ---- sim_clock.c ---- */
/* Schedule a timed event @delay cycles from now. */
void sim_pending_add_locked(struct sim_device *dev, uint64_t delay, enum sim_pending_kind kind,
			    uint32_t arg) SIM_REQUIRES(dev->lock);
/* Wake the background thread (new work may exist). */
void sim_clock_kick_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);
/* Advance the clock to @target running queues and timed events in cycle order. */
void sim_clock_advance_locked(struct sim_device *dev, uint64_t target) SIM_REQUIRES(dev->lock);
bool sim_is_idle_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);
/* Fire the timer now if TIMER_CONTROL.ENABLE and TIMER_COMPARE <= now (after a timer write). */
void sim_clock_timer_check_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);

/* ---- sim_bus.c ---- */
/* Host address of physical byte @pa, or NULL when its frame is not mapped. */
uint8_t *sim_bus_host_locked(struct sim_device *dev, uint64_t pa) SIM_REQUIRES(dev->lock);

/* ---- sim_power.c ---- */
uint32_t sim_power_read_locked(struct sim_device *dev, uint32_t offset) SIM_REQUIRES(dev->lock);
void sim_power_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
	SIM_REQUIRES(dev->lock);
void sim_power_transition_done_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock);

/* ---- sim_perf.c ---- */
static inline void sim_perf_add(struct sim_device *dev, uint32_t counter, uint64_t n)
{
	if (dev->perf_control & SIM_PERF_CONTROL_ENABLE)
		dev->perf[counter] += n;
}
uint32_t sim_perf_read_locked(struct sim_device *dev, uint32_t offset) SIM_REQUIRES(dev->lock);
void sim_perf_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
	SIM_REQUIRES(dev->lock);

/* ---- sim_mmu.c ---- */
int sim_tlb_init(struct sim_device *dev);
void sim_tlb_fini(struct sim_device *dev);
/* Drop TLB entries of @slot (all when @pages == 0, else [va, va + pages * 4K)). */
void sim_tlb_flush_locked(struct sim_device *dev, uint32_t slot, uint64_t va, uint64_t pages)
	SIM_REQUIRES(dev->lock);
uint32_t sim_mmu_mmio_read_locked(struct sim_device *dev, uint32_t slot, uint32_t reg)
	SIM_REQUIRES(dev->lock);
void sim_mmu_mmio_write_locked(struct sim_device *dev, uint32_t slot, uint32_t reg, uint32_t value)
	SIM_REQUIRES(dev->lock);
void sim_mmu_reset_locked(struct sim_device *dev, bool hard) SIM_REQUIRES(dev->lock);
/* Drop every TLB entry (any slot) whose page is the frame at @pa (sim_bus_unmap calls this). */
void sim_tlb_drop_pa_locked(struct sim_device *dev, uint64_t pa) SIM_REQUIRES(dev->lock);
/*
 * Translate @va for @access through the slot in @x. On success returns 0 and the host address of
 * the byte in *@host_out (valid up to the end of its 4 KiB page). On failure returns a SIM_FAULT_*
 * code, sets x->fault_va, latches the slot's fault status (first fault wins), raises
 * MMU_FAULT(slot) and emits SIM_EV_FAULT. TLB walk costs go to x->cycles.
 */
uint32_t sim_mmu_translate_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
				  uint32_t access, uint8_t **host_out) SIM_REQUIRES(dev->lock);
/* Copy between GPU virtual memory and a host buffer, page by page. 0 or SIM_FAULT_* (see above).
 * A write bumps dev->mem_epoch. */
uint32_t sim_gpu_read_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va, void *dst,
			     uint64_t len) SIM_REQUIRES(dev->lock);
uint32_t sim_gpu_write_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
			      const void *src, uint64_t len) SIM_REQUIRES(dev->lock);
static inline bool sim_as_is_locked(const struct sim_device *dev, uint32_t slot)
{
	return slot < SIM_AS_MAX && dev->as[slot].locked;
}

/* ---- sim_cp.c ---- */
/* Offset of a per-queue / per-slot register within its block: case SIM_Q_REG(SIM_Q_TAIL). */
#define SIM_Q_REG(reg)	(reg(0) - SIM_QUEUE_BASE)
#define SIM_AS_REG(reg) (reg(0) - SIM_AS_BASE)
uint32_t sim_cp_mmio_read_locked(struct sim_device *dev, uint32_t q, uint32_t reg)
	SIM_REQUIRES(dev->lock);
void sim_cp_mmio_write_locked(struct sim_device *dev, uint32_t q, uint32_t reg, uint32_t value)
	SIM_REQUIRES(dev->lock);
void sim_cp_reset_locked(struct sim_device *dev, bool hard) SIM_REQUIRES(dev->lock);
/* True when queue @q has something to execute now (job or ring entries, enabled, not halted). */
bool sim_cp_is_runnable_locked(struct sim_device *dev, uint32_t q) SIM_REQUIRES(dev->lock);
/*
 * sim_cp_inject_take_locked - whether the job running on @q is hit by an injection: one of
 * @global (the queue's next, whoever's) or of @scoped when the job's SEQNO is in its range;
 * consumes it. sim_cp_inject_job_end_locked - the job ended: a scoped injection whose last job
 * this was lapses.
 */
bool sim_cp_inject_take_locked(struct sim_queue *q, uint32_t *global,
			       struct sim_job_inject *scoped);
void sim_cp_inject_job_end_locked(struct sim_queue *q);
/* True when @q is runnable but can make no progress without an outside change (WAIT whose
 * word is unchanged since the last check, injected hang): the scheduler may fast-forward. */
bool sim_cp_is_blocked_locked(struct sim_device *dev, uint32_t q) SIM_REQUIRES(dev->lock);
/* True when @q's next unit needs the shared engine (false: a WAIT poll, a LOCK stall poll or an
 * injected hang, which burn the queue's own time only). */
bool sim_cp_uses_engine_locked(struct sim_device *dev, uint32_t q) SIM_REQUIRES(dev->lock);
/* Execute the next unit of work of @q at dev->now (a command, a chunk of a copy, a workgroup
 * slice, one WAIT check). Returns its cost in cycles (>= 1). */
uint64_t sim_cp_run_unit_locked(struct sim_device *dev, uint32_t q) SIM_REQUIRES(dev->lock);
/* Stop @q's job with @code: FAULTED state, fault registers, JOB_FAULT irq, JOB_END event. */
void sim_cp_fault_locked(struct sim_device *dev, uint32_t q, uint32_t code, uint64_t addr)
	SIM_REQUIRES(dev->lock);

/* ---- sim_copy.c: data commands on behalf of the CP ---- */
/* Each returns 0 or a SIM_FAULT_* code with x->fault_va set; costs accumulate in *cycles. */
uint32_t sim_copy_step_locked(struct sim_device *dev, uint32_t q, uint64_t *cycles)
	SIM_REQUIRES(dev->lock); /* advance q->op (COPY or FILL) by one chunk */

/* ---- sim_compute.c ---- */
/* Fetch and decode the program; 0 or a SIM_FAULT_* code (fault address in *fault_va). */
uint32_t sim_compute_begin_locked(struct sim_device *dev, uint32_t q,
				  const struct sim_dispatch_params *p, uint64_t *cycles,
				  uint64_t *fault_va) SIM_REQUIRES(dev->lock);
/* Run a bounded slice (at most one workgroup, at most a fixed instruction budget). Sets *done
 * when the dispatch finished. 0 or a SIM_FAULT_* code (fault address in *fault_va). */
uint32_t sim_compute_step_locked(struct sim_device *dev, uint32_t q, uint64_t *cycles, bool *done,
				 uint64_t *fault_va) SIM_REQUIRES(dev->lock);
/* Drop the dispatch state of @q (fault, reset, queue reset). */
void sim_compute_abort_locked(struct sim_device *dev, uint32_t q) SIM_REQUIRES(dev->lock);

#endif /* SIM_INTERNAL_H */

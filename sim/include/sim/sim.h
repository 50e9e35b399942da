/* SPDX-License-Identifier: MIT */
/*
 * sim.h - host API of the simulated GPU (SIM-1).
 *
 * This is the seam a system driver sees: a block of 32-bit MMIO registers (sim_regs.h), one
 * interrupt line, and bus memory made of 4 KiB physical frames backed by host pages that the
 * driver pins. Everything else -- page tables, rings, command buffers, programs -- lives in that
 * memory and is read by the model through its own MMU. The model never returns an error for
 * guest misuse: like silicon it latches a fault, raises an interrupt and logs a guest error.
 *
 * Time is virtual: a clock of GPU cycles that advances only while the GPU has something to do
 * (idle time is skipped), either when the host steps it (tests, replay: fully deterministic) or
 * on a background thread started with sim_start() by whoever created the device, so that its
 * driver sees hardware that runs on its own (the driver never starts or stops it). Several
 * devices may live in one process; there is no global state.
 *
 * Threading: every function is thread-safe unless stated; calls are serialised on the device's
 * lock. Callbacks (IRQ handler, event subscribers, log sink) run with that lock held on whichever
 * thread caused them and must not call back into the device.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sim_device;

/* Cycle costs of the timing model; docs/sim-gpu.md "Timing model" explains each. */
struct sim_timing {
	uint32_t job_start;	       /* ring entry fetch and job setup */
	uint32_t job_end;	       /* completion, seqno and fence write */
	uint32_t cmd_header;	       /* per command decoded */
	uint32_t cmd_dword;	       /* per payload dword fetched */
	uint32_t mem_line;	       /* per 64-byte line touched by a data access */
	uint32_t copy_bytes_per_cycle; /* COPY/FILL engine bandwidth */
	uint32_t tlb_walk_level;       /* per page-table level read on a TLB miss */
	uint32_t wait_poll;	       /* per WAIT re-check while the condition is false */
	uint32_t alu;		       /* simple integer/float op, per group instruction */
	uint32_t alu_mul;	       /* MUL, MULHU, FMUL, FMA */
	uint32_t alu_div;	       /* integer DIV/REM */
	uint32_t alu_fdiv;	       /* FDIV, FSQRT */
	uint32_t branch;	       /* control-flow instructions */
	uint32_t mem_op;	       /* issue cost of a load/store, plus mem_line per line */
	uint32_t group_launch;	       /* per workgroup started on a core */
	uint32_t soft_reset;
	uint32_t hard_reset;
	uint32_t core_power; /* per core powered up or down */
};

/* Logging classes (QEMU style): what the model reports about guest behaviour. */
#define SIM_LOG_GUEST_ERROR (1u << 0) /* the driver did what hardware ignores or faults */
#define SIM_LOG_UNIMP	    (1u << 1) /* the driver used something the model leaves out */
#define SIM_LOG_INFO	    (1u << 2) /* resets, power changes */

/* Upper bounds of struct sim_config's counts that sim_regs.h does not name. */
#define SIM_CONFIG_CORES_MAX 32
#define SIM_CONFIG_LANES_MAX 64

struct sim_config {
	uint32_t as_slots;    /* 1..SIM_AS_MAX */
	uint32_t queues;      /* 1..SIM_QUEUE_MAX */
	uint32_t cores;	      /* 1..SIM_CONFIG_CORES_MAX (32) */
	uint32_t lanes;	      /* 1..SIM_CONFIG_LANES_MAX (64) lanes per core (workgroup width) */
	uint64_t clock_hz;    /* base clock, before SIM_PWR_CLOCK_DIV */
	uint32_t tlb_entries; /* 4..65535, rounded down to a multiple of 4 (4-way sets) */
	uint64_t max_frames;  /* bus memory size in 4 KiB frames (frame 0 is never handed out) */
	uint32_t log_mask;    /* SIM_LOG_* classes printed to stderr (events see all) */
	struct sim_timing timing;
	/*
	 * Engine arbitration among ready queues of equal Q_PRIORITY (docs/sim-gpu.md §3.1). 0 (the
	 * default): round-robin after the queue served last. Any other value seeds a xorshift
	 * stream that picks one of the tied queues at each unit boundary instead: still a valid
	 * arbiter (priorities stay strict, every ready queue keeps a chance at every boundary),
	 * and the same seed gives the same choices. Re-seeded at hard reset.
	 */
	uint64_t arb_seed;
};

/* sim_config_default - fill @cfg with the documented defaults. Pure. */
void sim_config_default(struct sim_config *cfg);

/* Groups of struct sim_timing that sim_config_perturb scales together (docs/sim-gpu.md §11.8). */
enum sim_perturb_group {
	SIM_PERTURB_CP,	  /* job_start, job_end, cmd_header, cmd_dword: command fetch and decode */
	SIM_PERTURB_COPY, /* copy_bytes_per_cycle (divided): the COPY/FILL engine */
	SIM_PERTURB_MEM,  /* mem_line, mem_op, tlb_walk_level: memory accesses and walks */
	SIM_PERTURB_ALU,  /* alu, alu_mul, alu_div, alu_fdiv, branch, group_launch: compute */
	SIM_PERTURB_POLL, /* wait_poll: WAIT re-check and LOCK-stall poll interval */
	SIM_PERTURB_GROUPS
};

/* Bounds of a perturbation: cost scale in eighths (x0.5 .. x4), core count. */
#define SIM_PERTURB_SCALE_MIN 4u
#define SIM_PERTURB_SCALE_MAX 32u
#define SIM_PERTURB_CORES_MIN 1u
#define SIM_PERTURB_CORES_MAX SIM_CONFIG_CORES_MAX

/* What sim_config_perturb chose for one seed. */
struct sim_perturbation {
	uint64_t seed;
	uint32_t cores;			     /* SIM_PERTURB_CORES_MIN..MAX */
	uint32_t scale8[SIM_PERTURB_GROUPS]; /* cost x scale8/8, SIM_PERTURB_SCALE_MIN..MAX */
	uint64_t arb_seed;		     /* nonzero: seeded tie-breaking (struct sim_config) */
};

/*
 * sim_config_perturb - turn @cfg (usually sim_config_default's) into a different but valid
 * timing of the same GPU, derived only from @seed (any value, 0 included): a core count, one
 * scale factor per sim_perturb_group applied to its timing fields (each stays >= 1), and a
 * seeded engine arbitration (arb_seed). Nothing a driver or client may rely on changes: queue,
 * lane, slot, memory and clock parameters are kept, and so are reset and power costs. The same
 * @seed and @cfg always give the same result. The choices go to @out when it is not NULL. Pure.
 */
void sim_config_perturb(struct sim_config *cfg, uint64_t seed, struct sim_perturbation *out);

/* sim_perturb_group_name - "cp", "copy", "mem", "alu", "poll"; NULL when out of range. Pure. */
const char *sim_perturb_group_name(enum sim_perturb_group group);

/*
 * sim_create - build a device in its hard-reset state. @cfg is copied; NULL means defaults.
 * Returns NULL when @cfg is out of range or memory runs out. The caller owns the device.
 */
struct sim_device *sim_create(const struct sim_config *cfg);

/* sim_destroy - stop the background thread if any and free the device. NULL is a no-op. */
void sim_destroy(struct sim_device *dev);

/* sim_get_config - copy of the configuration the device was built with. */
void sim_get_config(struct sim_device *dev, struct sim_config *cfg_out);

/* ---- MMIO ---- */

/*
 * sim_mmio_read32 / sim_mmio_write32 - one 32-bit register access at byte @offset. Unaligned or
 * unmapped offsets read 0 and ignore writes (logged as guest errors), as on a real bus.
 */
uint32_t sim_mmio_read32(struct sim_device *dev, uint32_t offset);
void sim_mmio_write32(struct sim_device *dev, uint32_t offset, uint32_t value);

/* sim_mmio_read64 - read a _LO/_HI pair at @offset_lo (LO first, so the HI half is latched). */
uint64_t sim_mmio_read64(struct sim_device *dev, uint32_t offset_lo);

/* sim_mmio_write64 - write a _LO/_HI pair at @offset_lo (LO first). */
void sim_mmio_write64(struct sim_device *dev, uint32_t offset_lo, uint64_t value);

/* ---- Interrupt line ---- */

/* Called when the line rises (@asserted true) or falls. Lock held: do not call the device. */
typedef void (*sim_irq_fn)(void *ctx, bool asserted);

/* sim_irq_set_handler - install (or with @fn NULL remove) the line callback. */
void sim_irq_set_handler(struct sim_device *dev, sim_irq_fn fn, void *ctx);

/*
 * sim_irq_fd - an eventfd that becomes readable each time the line rises, and again after an
 * IRQ_CLEAR or IRQ_MASK write that leaves the line asserted (so a handler that read STATUS,
 * handled and cleared it never misses a cause that arrived meanwhile). Read it to re-arm. Owned
 * by the device: do not close it.
 */
int sim_irq_fd(struct sim_device *dev);

/* sim_irq_is_asserted - current level of the line (IRQ_STATUS != 0). */
bool sim_irq_is_asserted(struct sim_device *dev);

/* ---- Bus memory ---- */

/*
 * sim_bus_map - pin @page_count host pages starting at @host (4 KiB aligned, caller keeps them
 * alive until unmapped) into free physical frames; frame i's physical address goes to @pa_out[i].
 * Frames are handed out lowest-free-first, so the same sequence of calls gives the same
 * addresses. Returns 0, -EINVAL (NULL or unaligned), or -ENOMEM (bus full) with nothing mapped.
 */
int sim_bus_map(struct sim_device *dev, void *host, uint64_t page_count, uint64_t *pa_out);

/*
 * sim_bus_unmap - release @page_count frames listed in @pa. From then on GPU accesses to them
 * are bus errors. Returns 0, or -EINVAL if any address is not a mapped frame (then none is
 * released).
 */
int sim_bus_unmap(struct sim_device *dev, const uint64_t *pa, uint64_t page_count);

/*
 * sim_bus_read / sim_bus_write - host access to physical memory, for tests, dumps and traces.
 * Return 0, or -EFAULT if any byte of the range is not in a mapped frame (nothing copied).
 */
int sim_bus_read(struct sim_device *dev, uint64_t pa, void *dst, size_t len);
int sim_bus_write(struct sim_device *dev, uint64_t pa, const void *src, size_t len);

/* sim_bus_frames_mapped - number of frames currently pinned. */
uint64_t sim_bus_frames_mapped(struct sim_device *dev);

/* ---- Clock ---- */

/* sim_clock_now - GPU cycles since hard reset (same value as SIM_GPU_CYCLE_COUNT). */
uint64_t sim_clock_now(struct sim_device *dev);

/* sim_clock_ns - GPU time in nanoseconds (same value as SIM_GPU_TIMESTAMP). */
uint64_t sim_clock_ns(struct sim_device *dev);

/*
 * sim_clock_step - advance the clock by exactly @cycles, running whatever the GPU has to do in
 * that time. Returns 0, or -EBUSY while the background thread runs.
 */
int sim_clock_step(struct sim_device *dev, uint64_t cycles);

/*
 * sim_clock_run_until_idle - advance until nothing is pending (no queue busy, no reset or power
 * transition), at most @max_cycles. A queue blocked forever (a WAIT nothing will satisfy, an
 * injected hang) is fast-forwarded in one go, still costing its cycles. Stores the cycles that
 * passed in @elapsed_out (may be NULL). Returns 0 when idle, -ETIMEDOUT when @max_cycles passed
 * first, -EBUSY while the background thread runs.
 */
int sim_clock_run_until_idle(struct sim_device *dev, uint64_t max_cycles, uint64_t *elapsed_out);

/* sim_is_idle - true when no queue is busy and no reset or power transition is pending. */
bool sim_is_idle(struct sim_device *dev);

/*
 * sim_start - run the clock on a background thread whenever the GPU has work, so a driver can
 * treat the device as hardware. Returns 0, -EALREADY, or -errno from thread creation.
 * sim_stop - stop and join that thread (no-op when not running). Neither may be called from a
 * device callback.
 */
int sim_start(struct sim_device *dev);
void sim_stop(struct sim_device *dev);

/*
 * sim_set_pacing - with @enable, the background thread keeps GPU time no faster than wall time
 * at the current clock (for the viewer); by default it runs as fast as it can.
 */
void sim_set_pacing(struct sim_device *dev, bool enable);

/*
 * sim_set_hold - with @hold, no queue runs: the engine, WAIT polls and fetches pause where they
 * are and GPU time moves only for timed events (a reset, a power transition, a delayed IRQ);
 * doorbells and register writes are taken as usual and wait. Without, the GPU continues from
 * where it paused. For an embedder that wants several submissions pending before any runs (trace
 * replay under --perturb); the default is not held. Works in both clock modes.
 */
void sim_set_hold(struct sim_device *dev, bool hold);

/*
 * sim_inline_begin / sim_inline_end - lend the calling thread to the GPU for the work the host
 * is about to queue, instead of waking the background thread (one thread switch less per
 * submission, and none for the interrupt). sim_inline_begin returns true, and arms the device,
 * only when the background thread runs unpaced and unheld, no interrupt fault (DROP_IRQ,
 * DELAY_IRQ) is armed and the GPU is idle; while armed, the
 * host's register writes (TAIL, DOORBELL) do not wake the background thread. sim_inline_end
 * disarms: when armed and there is work, it runs one quantum of the background thread's
 * schedule on the calling thread (the same cycles, events and memory as that thread would give),
 * wakes the thread for anything left, and returns true when the IRQ line rose meanwhile. Then the
 * eventfd write for that rise was NOT made: the caller must act on IRQ_STATUS as its interrupt
 * handler would (read, clear, handle). Call both from the same thread, with no device callback on
 * the stack; sim_inline_end after a sim_inline_begin that returned false does nothing.
 */
bool sim_inline_begin(struct sim_device *dev);
bool sim_inline_end(struct sim_device *dev);

/*
 * sim_is_quiescent - true when nothing can happen without an outside change: the device is idle
 * (sim_is_idle), held with no timed event, or every runnable queue is blocked (a WAIT nothing on
 * the GPU will satisfy, a LOCK stall, a hang) with no timed event and no unit still running.
 */
bool sim_is_quiescent(struct sim_device *dev);

/* ---- Event stream ---- */

enum sim_event_type {
	SIM_EV_REG_READ,  /* code = offset, value = value read, name = register */
	SIM_EV_REG_WRITE, /* code = offset, value = value written, name = register */
	SIM_EV_IRQ_RAISE, /* code = cause bits newly set in RAWSTAT */
	SIM_EV_IRQ_LINE,  /* value = 1 rose, 0 fell; code = IRQ_STATUS */
	SIM_EV_JOB_START, /* unit = queue, code = AS slot, value = cmd VA, value2 = seqno */
	SIM_EV_JOB_END, /* unit = queue, code = fault code (0 ok), value = cmd VA, value2 = seqno */
	SIM_EV_CMD, /* unit = queue, code = opcode, value = command VA, value2 = the VA a TIMESTAMP
		     * writes (0 for other commands), name = opcode name */
	SIM_EV_FAULT,	  /* unit = queue, code = SIM_FAULT_*, value = fault VA, value2 = AS slot */
	SIM_EV_TLB_MISS,  /* unit = AS slot, value = VA, code = levels walked */
	SIM_EV_TLB_FLUSH, /* unit = AS slot, value = first page VA, value2 = pages (0 = all) */
	SIM_EV_QUEUE_STATE, /* unit = queue, code = new SIM_Q_STATE_* */
	SIM_EV_POWER,	    /* code = CORES_READY mask, value = clock divider */
	SIM_EV_RESET,	    /* code = SIM_GPU_COMMAND_*_RESET, value = 0 begin, 1 done */
	SIM_EV_BUS_MAP,	    /* value = first PA, value2 = frames (unmap: code = 1) */
	SIM_EV_LOG,	    /* code = SIM_LOG_* class, text = message */
	SIM_EV_COUNT
};

#define SIM_EV_MASK(t)	  (1u << (t))
#define SIM_EV_MASK_ALL	  ((1u << SIM_EV_COUNT) - 1)
#define SIM_EVENT_NO_UNIT 0xffffffffu

struct sim_event {
	enum sim_event_type type;
	uint64_t cycle; /* GPU cycle at which it happened */
	uint32_t unit;	/* queue, AS slot, or SIM_EVENT_NO_UNIT */
	uint32_t code;
	uint64_t value;
	uint64_t value2;
	const char *name; /* static decoded name or NULL */
	const char *text; /* SIM_EV_LOG message, valid during the callback only; else NULL */
};

typedef void (*sim_event_fn)(void *ctx, const struct sim_event *ev);

#define SIM_MAX_SUBSCRIBERS 8

/*
 * sim_events_subscribe - call @fn for every event whose type is in @type_mask, in order, with the
 * device lock held. Returns a subscription id >= 0, -EINVAL, or -ENOSPC when
 * SIM_MAX_SUBSCRIBERS are taken. sim_events_unsubscribe - remove it; afterwards @fn is never
 * called again. Returns 0 or -ENOENT.
 */
int sim_events_subscribe(struct sim_device *dev, uint32_t type_mask, sim_event_fn fn, void *ctx);
int sim_events_unsubscribe(struct sim_device *dev, int id);

/* sim_event_type_name - "REG_WRITE" etc. Pure. */
const char *sim_event_type_name(enum sim_event_type type);

/* ---- Fault injection ---- */

enum sim_inject_kind {
	SIM_INJECT_MMU_FAULT,  /* next translation in slot @target faults (arg = SIM_FAULT_MMU_*) */
	SIM_INJECT_DROP_IRQ,   /* the next @count rising edges of the line are not delivered */
	SIM_INJECT_DELAY_IRQ,  /* causes raised in the next @count events reach RAWSTAT @arg cycles
				  late */
	SIM_INJECT_CP_HANG,    /* queue @target stops making progress at its next command */
	SIM_INJECT_DMA_ERROR,  /* the next COPY/FILL on queue @target fails with SIM_FAULT_DMA_ERROR
				*/
	SIM_INJECT_BIT_FLIP,   /* flip bit (arg & 7) of the byte at PA (arg >> 3) now */
	SIM_INJECT_RESET_FAIL, /* the next @count soft resets never complete */
	SIM_INJECT_KIND_COUNT
};

struct sim_inject {
	enum sim_inject_kind kind;
	uint32_t target; /* queue or AS slot */
	uint32_t count;	 /* how many times (0 means 1) */
	uint64_t arg;
	/*
	 * CP_HANG, DMA_ERROR: with @seqno_last non-zero, only the jobs whose ring entry SEQNO is in
	 * [@seqno_first, @seqno_last] are hit, and what is left lapses when such a job with SEQNO
	 * @seqno_last ends: work of the queue before or after those jobs is never hit. Zero: the
	 * queue's next command / COPY or FILL, whoever's. One scoped injection per queue and kind
	 * (a new one replaces it).
	 */
	uint64_t seqno_first, seqno_last;
};

/*
 * sim_inject_fault - arm one injected fault (they stack). Returns 0 or -EINVAL for a bad kind,
 * target or (BIT_FLIP) an address outside mapped frames. Cleared by hard reset except
 * RESET_FAIL, which hard reset ignores (a hard reset always succeeds).
 */
int sim_inject_fault(struct sim_device *dev, const struct sim_inject *inj);

/* sim_inject_clear - disarm every injected fault. */
void sim_inject_clear(struct sim_device *dev);

/*
 * sim_inject_alloc_failure - make the @n-th host allocation from now inside the device fail
 * (1 = the next one); 0 disarms. For tests that walk every error path.
 */
void sim_inject_alloc_failure(struct sim_device *dev, uint32_t n);

/* ---- Statistics (host-side, for tests and benchmarks; not guest-visible) ---- */

struct sim_stats {
	uint64_t cycles;
	uint64_t jobs_completed;
	uint64_t jobs_faulted;
	uint64_t commands;
	uint64_t bytes_copied;
	uint64_t lane_instructions;
	uint64_t tlb_hits;
	uint64_t tlb_misses;
	uint64_t guest_errors;
	uint64_t irqs_delivered;
};

void sim_get_stats(struct sim_device *dev, struct sim_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SIM_H */

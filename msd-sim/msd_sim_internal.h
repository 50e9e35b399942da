/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_internal.h - objects and internal interfaces of msd-sim, the system driver for SIM-1.
 *
 * The driver implements msd.h against the simulated GPU, which it sees only through sim.h: MMIO
 * registers (msd_sim_io.h), the IRQ eventfd and bus memory it pins. Threads: the caller's threads
 * (device-level calls from anywhere, one thread per connection); one device thread per device,
 * which owns all register access once the device is up (bring-up and teardown run on the creating
 * and destroying thread while no other driver thread runs), except that a submitting thread
 * writes a job that is ready at once to the ring and rings the doorbell itself, under @lock. There
 * is no separate interrupt thread: the device thread sleeps on the sim's IRQ eventfd too and
 * acknowledges interrupts itself (msd_sim_irq.c). All mutable driver state of a device
 * (connections' address spaces and mappings, jobs, queues, AS slots) is guarded by that device's
 * @lock; the device thread holds it while it works. Buffers and semaphores belong to the driver
 * object (they can be shared across connections) and are refcounted with atomics. Hang detection,
 * reset recovery and power management are in msd_sim_recovery.c; priorities, time slicing and
 * fairness in msd_sim_sched.c; stopping the work of destroyed contexts and closed connections in
 * msd_sim_abandon.c.
 */
#ifndef MSD_SIM_INTERNAL_H
#define MSD_SIM_INTERNAL_H

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/index_tree.h"
#include "magma_sim_defs.h"
#include "msd/msd.h"
#include "msd_sim_hooks.h"
#include "msd_sim_mutex.h"
#include "sim/sim.h"

/* clang-format off */
#define MSD_SIM_DRIVER_MAGIC     0x6d647276u  /* "mdrv" */
#define MSD_SIM_DEVICE_MAGIC     0x6d646576u  /* "mdev" */
#define MSD_SIM_CONNECTION_MAGIC 0x6d636f6eu  /* "mcon" */
#define MSD_SIM_CONTEXT_MAGIC    0x6d637478u  /* "mctx" */
#define MSD_SIM_BUFFER_MAGIC     0x6d627566u  /* "mbuf" */
#define MSD_SIM_SEMAPHORE_MAGIC  0x6d73656du  /* "msem" */
#define MSD_SIM_POOL_MAGIC       0x6d706f6cu  /* "mpol" */
#define MSD_SIM_DEAD_MAGIC       0xdeadbeefu  /* stamped into freed objects */

#define MSD_SIM_RING_ENTRIES     1024u  /* per hardware queue (32 KiB) */
/* Command buffers in one submission (= magma_system's limit). A job's ring entries are written
 * at once, so the ring must hold a whole job with its one always-empty slot to spare. */
#define MSD_SIM_MAX_COMMAND_BUFFERS 256u
_Static_assert(MSD_SIM_MAX_COMMAND_BUFFERS < MSD_SIM_RING_ENTRIES, "a job must fit the ring");
#define MSD_SIM_SIGNAL_BATCH     64u    /* semaphores the device thread signals after unlocking */
#define MSD_SIM_KERNEL_SLOT      0u     /* AS slot of the driver's own address space */
#define MSD_SIM_KERNEL_RING_VA(q) (0x0000000100000000ull + (uint64_t)(q) * 0x100000ull)
#define MSD_SIM_KERNEL_FENCE_VA  0x0000000200000000ull
#define MSD_SIM_INLINE_MAX       (1u << 20)  /* bytes of one inline command submission */
#define MSD_SIM_INLINE_VA_END    (1ull << SIM_VA_BITS)
/* Inline-command memory (msd_sim_inline.c): chunk size, offset alignment in a chunk, idle chunks
 * kept mapped per connection, and GPU address slot classes of 2^3 .. 2^9 pages (guard included;
 * the largest holds MSD_SIM_INLINE_MAX plus its guard page). */
#define MSD_SIM_INLINE_CHUNK_PAGES 7u
#define MSD_SIM_INLINE_ALIGN     64u
#define MSD_SIM_INLINE_CACHE     4u
#define MSD_SIM_VA_CLASS_MIN_SHIFT 3
#define MSD_SIM_VA_CLASSES       7
_Static_assert(MSD_SIM_INLINE_MAX / 4096 + 1 <= (1u << (MSD_SIM_VA_CLASS_MIN_SHIFT +
	       MSD_SIM_VA_CLASSES - 1)), "the largest inline submission must fit a slot");
/* Per-connection bounds on work not yet retired (held, ready or on a ring): submissions and bytes
 * of inline-command chunks. Past either, a submission fails with MAGMA_STATUS_MEMORY_ERROR (the
 * system layer then closes that connection); nothing ever blocks on them. */
#define MSD_SIM_MAX_CONNECTION_JOBS 65536u
#define MSD_SIM_MAX_INLINE_BYTES (64ull << 20)
/* The same over a client process's connections together, and over the device (msd_sim_client.c). */
#define MSD_SIM_MAX_CLIENT_JOBS (2u * MSD_SIM_MAX_CONNECTION_JOBS)
#define MSD_SIM_MAX_CLIENT_INLINE_BYTES (2ull * MSD_SIM_MAX_INLINE_BYTES)
#define MSD_SIM_MAX_DEVICE_JOBS (6u * MSD_SIM_MAX_CONNECTION_JOBS)
#define MSD_SIM_MAX_DEVICE_INLINE_BYTES (6ull * MSD_SIM_MAX_INLINE_BYTES)
/* Reset/power-up completion timeout, wall clock. The simulated sequence takes microseconds of
 * host time; the limit only catches a dead device, so it is generous enough for a loaded
 * machine running sanitizers or valgrind. */
#define MSD_SIM_WAIT_MS 10000
/*
 * Hang detection and power management (msd_sim_recovery.c). The watchdog ticks every
 * MSD_SIM_HANG_CYCLES of GPU time while work is on a ring (2 ms at 1 GHz); a queue whose SEQNO
 * and PROGRESS both stood still over a whole tick is hung, except that a queue polling a WAIT
 * gets MSD_SIM_WAIT_HANG_MS of policy time (the CPU may still write the word). A soft reset that
 * brings no RESET_DONE within MSD_SIM_RESET_WAIT_MS escalates to a hard reset. Clock scaling
 * samples utilization over MSD_SIM_DVFS_WINDOW_MS of policy time; the cores go off after
 * MSD_SIM_IDLE_MS of it without work, at divider MSD_SIM_CLOCK_DIV_MAX. Policy time is the host
 * clock unless a test installed its own (msd_sim_clock.c).
 */
#define MSD_SIM_HANG_CYCLES      2000000ull
#define MSD_SIM_WAIT_HANG_MS     300u
#define MSD_SIM_RESET_WAIT_MS    100u
#define MSD_SIM_DVFS_WINDOW_MS   5u
#define MSD_SIM_IDLE_MS          50u
#define MSD_SIM_CLOCK_DIV_MAX    4u
/*
 * Scheduling (msd_sim_sched.c, msd_sim_sched_queue.c): one level per magma_priority_t class, each
 * with its own home hardware queue when the GPU has four; a level may also borrow an idle queue
 * of a lower level, so equal-priority contexts run on separate queues and the engine alternates
 * their workgroups. While several contexts have ready jobs at a level, at most
 * MSD_SIM_SCHED_DEPTH jobs of its queue are on the ring, so they take turns at job boundaries (one
 * running, one fetched next, one spare so the queue does not run dry while the device thread
 * answers JOB_DONE); a context alone at its level may have MSD_SIM_SCHED_DEPTH_ALONE there, which
 * keeps a single streaming client's throughput and bounds a newcomer's first wait.
 */
#define MSD_SIM_LEVELS           4u
#define MSD_SIM_SCHED_DEPTH      3u
#define MSD_SIM_SCHED_DEPTH_ALONE 16u
/* Policy time a queue with work waits behind a higher queue before its Q_PRIORITY is raised. */
#define MSD_SIM_STARVE_MS 20u
#define MSD_SIM_MAX_INFLIGHT_MESSAGES 1000ull
#define MSD_SIM_MAX_INFLIGHT_MB  1024ull
/* clang-format on */

#define msd_sim_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- Logging and status returns ---- */

struct msd_sim_driver;

/* msd_sim_log - format one line and route it to the driver's log callback (or stderr). */
void msd_sim_log(struct msd_sim_driver *drv, int32_t level, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* msd_sim_ret - debug-build trace of an error return at @file:@line; returns @status. */
magma_status_t msd_sim_ret(magma_status_t status, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Allocations of driver objects go through these so tests can fail the n-th one and walk every
 * error path (msd_sim_inject_alloc_failure). Both return zeroed memory or NULL.
 */
void *msd_sim_calloc(struct msd_sim_driver *drv, size_t count, size_t size);
void *msd_sim_page_alloc(struct msd_sim_driver *drv, uint64_t pages);
void msd_sim_inject_alloc_failure(struct msd_sim_driver *drv, uint32_t n);

#define MSD_SIM_LOG(drv, level, ...) msd_sim_log((drv), (level), __FILE__, __LINE__, __VA_ARGS__)
#define MSD_SIM_RET(status, ...)     msd_sim_ret((status), __FILE__, __LINE__, __VA_ARGS__)

/* ---- A tiny intrusive list ---- */

/* Bounds on work not retired, per connection, client process and device (msd_sim_client.c). */
struct msd_sim_work_limits {
	uint32_t connection_jobs, client_jobs, device_jobs;
	uint64_t connection_bytes, client_bytes, device_bytes; /* of inline commands */
};

struct msd_sim_list {
	struct msd_sim_list *prev, *next;
};

static inline void msd_sim_list_init(struct msd_sim_list *l)
{
	l->prev = l->next = l;
}

static inline bool msd_sim_list_empty(const struct msd_sim_list *l)
{
	return l->next == l;
}

static inline void msd_sim_list_add_tail(struct msd_sim_list *head, struct msd_sim_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void msd_sim_list_del(struct msd_sim_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define msd_sim_list_for_each_safe(pos, tmp, head)                                                 \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                           \
	     (pos) = (tmp), (tmp) = (pos)->next)

/* ---- Driver, buffers, semaphores (msd_sim_driver.c, msd_sim_buffer.c, msd_sim_semaphore.c) --- */

/* The driver object: configuration and logging only; immutable once devices exist. */
struct msd_sim_driver {
	struct msd_driver_t base;
	uint32_t flags; /* MSD_DRIVER_CONFIG_* */
	msd_log_callback_t log_fn;
	void *log_ctx;
	atomic_int devices; /* live devices: destroying the driver before them is a caller bug */
	atomic_uint alloc_fail_in; /* msd_sim_inject_alloc_failure countdown; 0 = off */
	/* msd_sim_driver_set_alloc_hook; @alloc_hook_ctx is stored before @alloc_hook (release). */
	_Atomic(msd_sim_alloc_fn) alloc_hook;
	void *_Atomic alloc_hook_ctx;
};

/*
 * An imported memfd. Shared by every connection that maps it and by jobs using it; refs are
 * atomic. The driver holds either the memfd or a MAP_SHARED mapping of it (made at import, or
 * with MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE when first needed), never both: msd_sim_buffer.c.
 */
struct msd_sim_buffer {
	struct msd_buffer_t base;
	atomic_uint refs;
	struct msd_sim_driver *drv;
	uint64_t size;
	msd_client_id_t client_id;
	uint64_t host_size; /* size rounded up to whole pages */
	struct msd_sim_mutex lock;
	/* Fields below guarded by lock. */
	int fd;	    /* the memfd until @host is made, then -1 */
	void *host; /* MAP_SHARED mapping of the whole memfd, or NULL */
};

/* An imported eventfd: signaled iff readable. Refs are atomic. */
struct msd_sim_semaphore {
	struct msd_semaphore_t base;
	atomic_uint refs;
	struct msd_sim_driver *drv;
	int fd;
	uint64_t flags; /* MAGMA_IMPORT_SEMAPHORE_ONE_SHOT */
};

struct msd_sim_buffer *msd_sim_buffer_from(struct msd_buffer_t *b);
magma_status_t msd_sim_buffer_create(struct msd_sim_driver *drv, int fd, msd_client_id_t client_id,
				     struct msd_sim_buffer **out);
void msd_sim_buffer_get(struct msd_sim_buffer *buf);
void msd_sim_buffer_put(struct msd_sim_buffer *buf);
magma_status_t msd_sim_buffer_host(struct msd_sim_buffer *buf, void **host_out);
magma_status_t msd_sim_buffer_commit(struct msd_sim_buffer *buf, uint64_t offset, uint64_t length);
magma_status_t msd_sim_buffer_decommit(struct msd_sim_buffer *buf, uint64_t offset,
				       uint64_t length);

struct msd_sim_semaphore *msd_sim_semaphore_from(struct msd_semaphore_t *s);
magma_status_t msd_sim_semaphore_create(struct msd_sim_driver *drv, int fd, uint64_t flags,
					struct msd_sim_semaphore **out);
void msd_sim_semaphore_get(struct msd_sim_semaphore *sem);
void msd_sim_semaphore_put(struct msd_sim_semaphore *sem);
bool msd_sim_semaphore_is_signaled(struct msd_sim_semaphore *sem);
void msd_sim_semaphore_signal(struct msd_sim_semaphore *sem);
void msd_sim_semaphore_reset(struct msd_sim_semaphore *sem);

/* ---- Pinned driver pages and page tables (msd_sim_mmu.c) ---- */

/* Driver-owned host pages pinned into bus frames (rings, fence page, inline commands). */
struct msd_sim_pages {
	void *host;
	uint64_t count;
	uint64_t *pa;
};

/* One page-table page: 512 u64 entries in a pinned page, plus host pointers to its children. */
struct msd_sim_pt {
	uint64_t *entries;
	uint64_t pa;
	struct msd_sim_pt **child; /* levels 0-2 only */
};

/*
 * A GPU address space: a page-table tree that exists as long as its owner and a hardware slot
 * it is bound to while it has (or recently had) work. Guarded by the device lock.
 */
struct msd_sim_as {
	struct msd_sim_pt *root;
	int slot;	   /* bound hardware slot, or -1 */
	uint32_t inflight; /* ring entries in flight that run in this AS: the slot is not stealable
			    */
};

/*
 * A client buffer range mapped into a connection's address space, indexed three ways: in
 * creation order (@seq, and the list that connection teardown walks), by GPU address (overlap
 * checks, unmap) and by buffer range (what a submission's resources and command buffers name).
 * Guarded by the device lock.
 */
struct msd_sim_mapping {
	struct msd_sim_list link;	   /* in conn->mappings, oldest first */
	struct index_node va_node;	   /* in conn->mappings_by_va */
	struct index_node buffer_node;	   /* in conn->mappings_by_buffer */
	uint64_t max_end;		   /* of offset + length under buffer_node (augmentation) */
	uint64_t seq;			   /* creation order in the connection */
	struct msd_sim_mapping *work_next; /* a function's temporary list (msd_sim_connection.c) */
	struct msd_sim_buffer *buffer;	   /* reference, put at teardown */
	uint64_t gpu_va;
	uint64_t offset;
	uint64_t length;
	uint64_t flags;
	uint64_t *pa;  /* pinned frames of [offset, offset + length) */
	uint8_t *host; /* the driver's CPU view of them: the buffer's mapping at @offset */
	uint32_t uses; /* in-flight jobs referencing it */
	bool dying;    /* unmapped by the client; torn down when @uses reaches 0 */
};

struct msd_sim_device;
struct msd_sim_connection;

/*
 * GPU address slots for inline commands: power-of-two sizes, recycled per size class. Guarded
 * by the device lock.
 */
struct msd_sim_va_pool {
	uint64_t next, end; /* fresh space */
	struct {
		uint64_t *va;	     /* freed slots (a stack) */
		uint32_t count, cap; /* cap >= slots: freeing never allocates */
		uint32_t slots;	     /* slots of this class ever taken from fresh space */
	} free[MSD_SIM_VA_CLASSES];
};

/* Pinned pages mapped read-only in @conn's address space holding inline commands. Device lock. */
struct msd_sim_inline_chunk {
	struct msd_sim_list link; /* in conn->inline_cache while idle and cached */
	struct msd_sim_connection *conn;
	struct msd_sim_pages pages;
	uint64_t va;
	uint32_t used; /* bytes handed out */
	uint32_t live; /* jobs using it */
};

/* ---- Device (msd_sim_device.c, msd_sim_irq.c) ---- */

typedef void (*msd_sim_io_hook_fn)(void *ctx, bool write, uint32_t offset, uint32_t value);

/* A unit of work for the device thread; run with the device lock held. */
struct msd_sim_request {
	struct msd_sim_list link;
	void (*fn)(struct msd_sim_device *dev, void *arg);
	void *arg;
	bool done;
};

/* One hardware queue as the driver sees it. Device thread, device lock. */
struct msd_sim_ring_slot {
	struct msd_sim_job *job;
	uint64_t seqno;
};

struct msd_sim_queue {
	struct msd_sim_pages ring;
	uint32_t size;			 /* entries, power of two */
	uint32_t tail;			 /* next entry the driver writes (mirrors Q_TAIL) */
	uint32_t head;			 /* oldest entry not retired yet */
	uint64_t last_seqno;		 /* seqno of the last entry written */
	struct msd_sim_ring_slot *slots; /* who owns each ring entry */
	/* watchdog snapshot (msd_sim_recovery.c) */
	uint64_t wd_seqno;    /* Q_SEQNO at the last tick */
	uint32_t wd_progress; /* Q_PROGRESS at the last tick */
	uint64_t wd_wait_ms;  /* policy time a WAIT started standing still, or 0 */
	uint64_t wd_busy;     /* Q_BUSY_CYCLES when SEQNO or PROGRESS last moved */
	uint32_t jobs;	      /* jobs with entries on the ring (msd_sim_sched_depth_locked) */
	/* queue assignment and aging (msd_sim_sched_queue.c) */
	uint32_t home;	    /* the highest level whose home queue this is */
	uint32_t level;	    /* level of the jobs on its ring (meaningful while @jobs) */
	uint32_t prio;	    /* Q_PRIORITY as last written */
	uint64_t starve_ms; /* policy time it began waiting behind a higher queue, or 0 */
	bool boosted;	    /* Q_PRIORITY raised to 3 until its next job completes */
};

/* The last fault of a queue as the driver decoded it, with the commands around it. */
#define MSD_SIM_FAULT_CMDS 8
struct msd_sim_fault_record {
	bool valid;
	uint32_t code;
	uint64_t addr;
	uint64_t cmd;
	uint32_t context_id;
	uint64_t sequence;
	uint32_t ncmds;
	uint32_t at; /* index of the faulting command in cmd_va/hdr, or ncmds if not found */
	uint64_t cmd_va[MSD_SIM_FAULT_CMDS];
	uint32_t hdr[MSD_SIM_FAULT_CMDS];
};

/* A notification to deliver with the device lock dropped. */
struct msd_sim_pending_notify {
	struct msd_sim_list link;
	struct msd_sim_connection *conn; /* reference */
	struct msd_notification_t n;
};

/*
 * The scheduler's ready jobs (msd_sim_sched.c), per level: a round-robin list of connections
 * with ready jobs at that level, each holding a round-robin list of its contexts with ready jobs,
 * each holding its ready jobs in submission order. Device lock.
 */
struct msd_sim_sched_level {
	struct msd_sim_list conns; /* connections (sched_link[level]); the next served first */
	uint32_t ready;		   /* ready jobs at this level */
};

struct msd_sim_sched {
	struct msd_sim_sched_level level[MSD_SIM_LEVELS];
	uint32_t ready; /* ready jobs at all levels */
};

/*
 * A device. Identity fields are written once during create and read-only afterwards; everything
 * below @lock is guarded by it. With MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD no driver thread
 * runs: requests run inline and a test, which may stop the sim's clock once the device is created
 * and step it itself, drives the device with msd_sim_device_poll().
 */
struct msd_sim_device {
	struct msd_device_t base;
	struct msd_sim_driver *drv;
	struct sim_device *sim;
	msd_sim_io_hook_fn io_hook;
	void *io_hook_ctx;
	msd_sim_job_start_fn job_start_hook; /* msd_sim_hooks.h; guarded by lock */
	void *job_start_ctx;
	bool threaded;
	uint32_t gpu_id, vendor, features, config0, config1, clock_khz, cores_present;
	uint32_t as_slots, queue_count;

	struct msd_sim_mutex lock;
	pthread_cond_t done_cond; /* a synchronous request finished */
	int wake_fd;		  /* eventfd: wakes the device thread */
	atomic_bool wake_pending; /* wake_fd written and not yet drained: no need to write again */
	pthread_t thread;
	bool stopping;		      /* guarded by lock */
	struct msd_sim_list requests; /* guarded by lock */
	uint32_t pending_irq;	      /* acknowledged IRQ_STATUS bits not handled yet */
	/* completed jobs' semaphores (referenced), signaled once the device thread unlocks */
	struct msd_sim_semaphore *signals[MSD_SIM_SIGNAL_BATCH];
	uint32_t signal_count;
	struct msd_sim_list notifications; /* pending deliveries */
	/*
	 * Contexts with held jobs (struct msd_sim_context.held_link). Only the head of a context's
	 * held list can become ready, so the device thread checks and polls heads only. @pollfds
	 * (device thread only) caches the sleep's fd set; @pollfds_dirty is set whenever a head
	 * changes.
	 */
	struct msd_sim_list held_contexts;
	bool pollfds_dirty;
	struct pollfd *pollfds;
	uint32_t npollfds, pollfds_cap;
	struct msd_sim_sched sched;
	struct msd_sim_as kernel_as;
	struct msd_sim_pages fence;
	struct msd_sim_queue queues[SIM_QUEUE_MAX];
	struct msd_sim_as *slot_as[SIM_AS_MAX]; /* which address space each slot holds */
	uint64_t slot_lru[SIM_AS_MAX];
	uint64_t lru_clock;
	struct msd_sim_fault_record last_fault[SIM_QUEUE_MAX];
	uint32_t as_fault_status[SIM_AS_MAX]; /* last fault latched per slot (for dumps) */
	uint64_t as_fault_addr[SIM_AS_MAX];
	uint32_t perf_users; /* connections with counters enabled */
	uint32_t connections;
	/* Client processes (struct msd_sim_client.link) and the work not retired on the device. */
	struct msd_sim_list clients;
	uint32_t work_jobs;
	uint64_t work_inline_bytes;
	struct msd_sim_work_limits work_limits; /* the MSD_SIM_MAX_* bounds; tests lower them */
	uint64_t jobs_completed, jobs_faulted;
	/* Watchdog, resets and power (msd_sim_recovery.c); device lock. */
	bool wd_armed; /* TIMER armed for the next hang check */
	uint32_t hangs, soft_resets, hard_resets, power_downs;
	/* Abandoned work (msd_sim_abandon.c): queues STOPped for it, and those RESET to drop it. */
	uint32_t abandon_stops, abandon_resets;
	uint64_t last_recovery_ns; /* host time of the last recovery (detection to resubmission) */
	uint32_t clock_div;	   /* PWR_CLOCK_DIV as the driver set it */
	bool cores_off;		   /* every core powered down while idle */
	uint64_t idle_since_ms;	   /* policy time the device went idle, or 0 */
	uint64_t idle_checks;	   /* times the idle timer was looked at (for tests) */
	uint64_t age_checks;	   /* times aging was looked at (for tests) */
	/* The policy clock (msd_sim_clock.c); NULL: the host clock. Guarded by lock. */
	uint64_t (*clock_fn)(void *ctx);
	void *clock_ctx;
	uint64_t busy_ns_base;	   /* busy time folded in at divider changes and hard resets */
	uint64_t busy_cycles_mark; /* sum of Q_BUSY_CYCLES when busy_ns_base was last folded */
	uint64_t dvfs_wall_ns, dvfs_busy_ns; /* start of the current utilization window */
};

/* ---- Connections and contexts (msd_sim_connection.c, msd_sim_context.c) ---- */

/*
 * A connection: an address space, its mappings and perf-counter state. The caller's reference
 * ends at msd_connection_close; contexts and in-flight jobs hold more (@refs, device lock), so the
 * address space outlives the close until the GPU is done with it.
 */
/* A client process (msd_device_open's client_id) and its connections' work not retired. */
struct msd_sim_client {
	struct msd_sim_list link; /* in dev->clients */
	msd_client_id_t id;
	uint32_t refs; /* its connections */
	uint32_t jobs;
	uint64_t inline_bytes;
};

struct msd_sim_connection {
	struct msd_connection_t base;
	struct msd_sim_device *dev;
	msd_client_id_t client_id;
	struct msd_sim_client *client; /* a reference, put when the connection is freed */
	uint32_t refs;		       /* guarded by dev->lock */
	bool closed;
	struct msd_sim_as as;
	struct msd_sim_list mappings; /* struct msd_sim_mapping.link, oldest first */
	/* The same mappings by gpu_va, and by (buffer, offset, gpu_va) with max_end. */
	struct index_tree mappings_by_va;
	struct index_tree mappings_by_buffer;
	uint64_t next_mapping_seq;
	uint32_t next_context_id;
	uint64_t next_sequence;
	uint32_t jobs; /* jobs not yet freed: bounded by MSD_SIM_MAX_CONNECTION_JOBS */
	/* Inline-command memory (msd_sim_inline.c): slots above MAGMA_SIM_GPU_VA_LIMIT. */
	struct msd_sim_va_pool inline_va;
	struct msd_sim_inline_chunk *inline_cur; /* small submissions go here; NULL at first */
	struct msd_sim_list inline_cache;	 /* idle chunks still mapped */
	uint32_t inline_cached;
	uint64_t inline_bytes; /* of all chunks: bounded by MSD_SIM_MAX_INLINE_BYTES */
	struct msd_sim_mutex notify_lock;
	msd_connection_notification_callback_t notify_fn; /* guarded by notify_lock */
	void *notify_token;
	uint32_t perf_mask; /* counters this connection enabled */
	bool perf_discontinuity;
	struct msd_sim_list pools;
	/* Scheduler (msd_sim_sched.c), device lock: contexts with ready jobs, per level. */
	struct msd_sim_list sched_ctxs[MSD_SIM_LEVELS]; /* struct msd_sim_context.ready_link */
	struct msd_sim_list sched_link[MSD_SIM_LEVELS]; /* in dev->sched.level[l].conns */
};

/* A context: a submission stream sharing the connection's address space. */
struct msd_sim_context {
	struct msd_context_t base;
	struct msd_sim_connection *conn; /* reference */
	uint32_t id;
	uint32_t refs; /* caller + jobs, guarded by dev->lock */
	magma_priority_t priority;
	uint32_t level; /* scheduling level 0 (LOW) .. 3 (REALTIME), from @priority */
	/* Ready jobs in submission order (scheduler, device lock). */
	struct msd_sim_list ready;
	struct msd_sim_list ready_link; /* in conn->sched_ctxs[level] while @ready is not empty */
	/* Held jobs in submission order; later jobs of the context queue behind them. */
	struct msd_sim_list held;
	struct msd_sim_list held_link; /* in dev->held_contexts while @held is not empty */
	/* Its jobs on a ring, all on @queue: they keep one queue while any is there. */
	uint32_t ring_jobs;
	uint32_t queue;
	bool killed;
	bool destroyed;
};

/*
 * msd_sim_context_is_abandoned - nobody wants @ctx's work any more: it was killed (fault, hang),
 * destroyed by the client, or its connection was closed. Its jobs are dropped, never run or
 * resubmitted (msd_sim_abandon.c). Device lock.
 */
static inline bool msd_sim_context_is_abandoned(const struct msd_sim_context *ctx)
{
	return ctx->killed || ctx->destroyed || ctx->conn->closed;
}

/* ---- Jobs and scheduling (msd_sim_job.c, msd_sim_sched.c) ---- */

enum msd_sim_job_state {
	MSD_SIM_JOB_WAITING, /* on ctx->held until its semaphores and earlier jobs are ready */
	MSD_SIM_JOB_READY,   /* on the scheduler's ready list */
	MSD_SIM_JOB_RUNNING, /* ring entries written */
};

/* One command buffer of a job: where it runs in the connection's address space. */
struct msd_sim_job_entry {
	uint64_t cmd_va;
	uint32_t cmd_size;
};

/* One submission: its command buffers run in order on one queue. Device lock. */
struct msd_sim_job {
	struct msd_sim_list link;
	enum msd_sim_job_state state;
	struct msd_sim_context *ctx; /* reference */
	uint64_t sequence;	     /* per-connection submission number */
	uint64_t flags;		     /* descriptor flags */
	uint32_t queue; /* chosen when its entries are written (msd_sim_sched_queue_for_locked) */
	uint32_t entry_count;
	uint32_t entries_left; /* on the ring, not retired */
	uint32_t first_entry;  /* first entry to write: > 0 when resubmitted after a reset */
	struct msd_sim_job_entry *entries;
	uint32_t wait_count, signal_count, mapping_count, buffer_count;
	uint32_t mapping_cap; /* room in @mappings */
	bool mappings_heap;   /* @mappings outgrew the job's block: a malloc of its own */
	struct msd_sim_semaphore **wait_sems;	   /* references */
	struct msd_sim_semaphore **signal_sems;	   /* references */
	struct msd_sim_mapping **mappings;	   /* uses taken */
	struct msd_sim_buffer **buffers;	   /* references */
	struct msd_sim_inline_chunk *inline_chunk; /* a use of the chunk holding inline commands */
	bool faulted;
	bool started; /* its entries were on a ring before (a reset took it back) */
};

/* ---- Internal interfaces. D = device lock (dev->lock) held; DT = on the device thread. ---- */

/* msd_sim_mmu.c */
magma_status_t msd_sim_pages_alloc(struct msd_sim_device *dev, uint64_t count,
				   struct msd_sim_pages *out);
void msd_sim_pages_free(struct msd_sim_device *dev, struct msd_sim_pages *pages);
magma_status_t msd_sim_as_init(struct msd_sim_device *dev, struct msd_sim_as *as);
void msd_sim_as_fini(struct msd_sim_device *dev, struct msd_sim_as *as);
magma_status_t msd_sim_as_write_ptes(struct msd_sim_device *dev, struct msd_sim_as *as, uint64_t va,
				     const uint64_t *pa, uint64_t count, uint64_t pte_flags);
void msd_sim_as_clear_ptes(struct msd_sim_as *as, uint64_t va, uint64_t count);
bool msd_sim_as_translate(struct msd_sim_as *as, uint64_t va, uint64_t *pa_out);
uint64_t msd_sim_map_flags_to_pte(uint64_t map_flags);
void msd_sim_as_flush_range_locked(struct msd_sim_device *dev, struct msd_sim_as *as, uint64_t va,
				   uint64_t count) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_as_program_slot_locked(struct msd_sim_device *dev, uint32_t slot,
				    struct msd_sim_as *as) MSD_SIM_REQUIRES(dev->lock);
bool msd_sim_as_bind_locked(struct msd_sim_device *dev, struct msd_sim_as *as)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_as_unbind_locked(struct msd_sim_device *dev, struct msd_sim_as *as)
	MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_device.c */
struct msd_sim_device *msd_sim_device_from(struct msd_device_t *d);
void msd_sim_device_call_locked(struct msd_sim_device *dev,
				void (*fn)(struct msd_sim_device *dev, void *arg), void *arg)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_device_kick_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_device_signal_locked(struct msd_sim_device *dev, struct msd_sim_semaphore *sem)
	MSD_SIM_REQUIRES(dev->lock);
bool msd_sim_device_is_idle_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_device_poll(struct msd_sim_device *dev);
void msd_sim_device_set_io_hook(struct msd_sim_device *dev, msd_sim_io_hook_fn fn, void *ctx);
void msd_sim_device_queue_notify_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
					const struct msd_notification_t *n)
	MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_irq.c */
uint32_t msd_sim_irq_read_and_clear(struct msd_sim_device *dev);
uint32_t msd_sim_irq_take(struct msd_sim_device *dev);
uint32_t msd_sim_irq_poll_missed(struct msd_sim_device *dev);
void msd_sim_irq_handle_locked(struct msd_sim_device *dev, uint32_t status)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_irq_inline_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_connection.c, msd_sim_context.c */
struct msd_sim_connection *msd_sim_connection_from(struct msd_connection_t *c);
void msd_sim_connection_get_locked(struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(conn->dev->lock);
void msd_sim_connection_put_locked(struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(conn->dev->lock);
struct msd_sim_mapping *msd_sim_connection_find_mapping_locked(struct msd_sim_connection *conn,
							       struct msd_sim_buffer *buf,
							       uint64_t offset, uint64_t length)
	MSD_SIM_REQUIRES(conn->dev->lock);
struct msd_sim_mapping *msd_sim_connection_overlapping_locked(struct msd_sim_connection *conn,
							      struct msd_sim_buffer *buf,
							      uint64_t offset, uint64_t length)
	MSD_SIM_REQUIRES(conn->dev->lock);
void msd_sim_mapping_put_use_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
				    struct msd_sim_mapping *m) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_connection_notify_locked(struct msd_sim_connection *conn, const void *data,
				      uint32_t size) MSD_SIM_REQUIRES(conn->dev->lock);
void msd_sim_context_put_locked(struct msd_sim_context *ctx) MSD_SIM_REQUIRES(ctx->conn->dev->lock);

/* msd_sim_job.c, msd_sim_sched.c */
/* Append @m to @job's mapping uses (growing the array when needed); false when memory ran out. */
bool msd_sim_job_add_mapping(struct msd_sim_job *job, struct msd_sim_mapping *m);
struct msd_sim_job *msd_sim_job_alloc(struct msd_sim_context *ctx, uint32_t entries, uint32_t waits,
				      uint32_t signals, uint32_t resources)
	MSD_SIM_REQUIRES(ctx->conn->dev->lock);
void msd_sim_job_free_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_queue_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_check_waits_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
bool msd_sim_job_submit_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_retire_queue_locked(struct msd_sim_device *dev, uint32_t q)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_fault_locked(struct msd_sim_device *dev, uint32_t q) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_cancel_context_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_cancel_all_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_cancel_abandoned_locked(struct msd_sim_device *dev,
					 struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_queue_neuter_locked(struct msd_sim_queue *q);
void msd_sim_queue_take_back_locked(struct msd_sim_device *dev, uint32_t qi,
				    struct msd_sim_list *jobs) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_job_requeue_locked(struct msd_sim_device *dev, struct msd_sim_list *jobs)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_fault_record_log(struct msd_sim_device *dev, int32_t level, uint32_t q,
			      const struct msd_sim_fault_record *rec);
void msd_sim_sched_init(struct msd_sim_sched *s);
void msd_sim_sched_connection_init(struct msd_sim_connection *conn);
void msd_sim_sched_context_init(struct msd_sim_context *ctx, magma_priority_t priority);
uint32_t msd_sim_sched_depth_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
bool msd_sim_sched_add_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_remove_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_take_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx,
			       struct msd_sim_list *out) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_requeue_locked(struct msd_sim_device *dev, struct msd_sim_list *jobs)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_run_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_sched_queue.c */
uint32_t msd_sim_sched_level(magma_priority_t priority);
uint32_t msd_sim_sched_queue(const struct msd_sim_device *dev, uint32_t level);
void msd_sim_sched_program_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
int msd_sim_sched_queue_for_locked(struct msd_sim_device *dev, const struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_bind_locked(struct msd_sim_device *dev, struct msd_sim_job *job, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_job_done_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_sched_age_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_client.c */
void msd_sim_work_limits_default(struct msd_sim_work_limits *l);
struct msd_sim_client *msd_sim_client_get_locked(struct msd_sim_device *dev, msd_client_id_t id)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_client_put_locked(struct msd_sim_device *dev, struct msd_sim_client *c)
	MSD_SIM_REQUIRES(dev->lock);
magma_status_t msd_sim_work_check_locked(struct msd_sim_device *dev,
					 struct msd_sim_connection *conn, uint32_t jobs,
					 uint64_t bytes) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_work_add_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
			     uint32_t jobs, uint64_t bytes) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_work_sub_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
			     uint32_t jobs, uint64_t bytes) MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_clock.c */
uint64_t msd_sim_now_ms(void);
uint64_t msd_sim_now_ns(void);
uint64_t msd_sim_clock_ns(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
uint64_t msd_sim_clock_ms(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_device_set_clock(struct msd_sim_device *dev, uint64_t (*now_ns)(void *ctx), void *ctx);

/* msd_sim_recovery.c */
uint64_t msd_sim_cycles_to_ns(uint64_t cycles, uint32_t div, uint32_t khz);
void msd_sim_watchdog_arm_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_watchdog_restart_queue_locked(struct msd_sim_device *dev, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_watchdog_tick_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
uint64_t msd_sim_power_busy_ns_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_power_sample_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
bool msd_sim_power_up_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);
int msd_sim_power_idle_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_abandon.c */
void msd_sim_abandon_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_abandon_queue_stopped_locked(struct msd_sim_device *dev, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_inline.c */
void msd_sim_va_pool_init(struct msd_sim_va_pool *p, uint64_t start, uint64_t end);
void msd_sim_va_pool_fini(struct msd_sim_va_pool *p);
magma_status_t msd_sim_va_pool_alloc(struct msd_sim_driver *drv, struct msd_sim_va_pool *p,
				     uint64_t pages, uint64_t *va_out);
void msd_sim_va_pool_free(struct msd_sim_va_pool *p, uint64_t va, uint64_t pages);
magma_status_t msd_sim_inline_alloc_locked(struct msd_sim_device *dev,
					   struct msd_sim_connection *conn, const void *commands,
					   uint64_t size, struct msd_sim_inline_chunk **chunk_out,
					   uint64_t *va_out) MSD_SIM_REQUIRES(dev->lock);
void msd_sim_inline_put_locked(struct msd_sim_device *dev, struct msd_sim_inline_chunk *chunk)
	MSD_SIM_REQUIRES(dev->lock);
void msd_sim_inline_connection_fini_locked(struct msd_sim_device *dev,
					   struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(dev->lock);

/* msd_sim_perf.c */
void msd_sim_perf_connection_fini_locked(struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(conn->dev->lock);
bool msd_sim_perf_pool_is_live(struct msd_sim_connection *conn, uint64_t pool_id)
	MSD_SIM_REQUIRES(conn->notify_lock);

#endif /* MSD_SIM_INTERNAL_H */

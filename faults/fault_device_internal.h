/* SPDX-License-Identifier: MIT */
/*
 * fault_device_internal.h - what the fault_device_*.c files share: the device's state, the plans
 * armed on it, the firings waiting to be applied and the record of what happened.
 *
 * fault_device.c     lifetime, the hooks of the service, the driver and the sim, the engine
 * fault_device_apply.c   applying a firing (model injections, kills) and its log line
 * fault_device_record.c  the connection log, firing records and their times, arming and clearing
 *                        plans live, the status and dump answers (JSON)
 *
 * Locking: @lock guards every list below and is never held while calling the sim, the driver or
 * the service; the sim's event callbacks take it under the sim's lock, the driver's hooks under
 * the driver's. Arms are append-only: hooks read arms[0..arm_count) without the lock.
 */
#ifndef FAULT_DEVICE_INTERNAL_H
#define FAULT_DEVICE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <lib/magma/magma_common_defs.h>

#include "faults/fault_device.h"
#include "faults/fault_engine.h"
#include "msd_sim_hooks.h"
#include "sim/sim.h"

/* clang-format off */
#define FAULT_COMM_SIZE        16
#define FAULT_CAUSE_SIZE       192
#define FAULT_DEVICE_MAX_ARMS  64     /* plans armed in a device's life: --faults + injects */
#define FAULT_DEVICE_MAX_LOG   100000 /* connection log entries and firing records kept */
#define FAULT_NO_TIME          UINT64_MAX
/* clang-format on */

struct magma_system_device;
struct magma_system_site;
struct msd_connection_t;

/* A connection the service has open. Guarded by fdev->lock. */
struct fault_conn {
	struct fault_conn *next;
	uint64_t number;
	pid_t pid;
	char comm[FAULT_COMM_SIZE];
	struct msd_connection_t *msd;
	struct fault_conn_log *log; /* its entry in the connection log, NULL past the limit */
};

/* Every connection the device opened, for the dump. Guarded by fdev->lock. */
struct fault_conn_log {
	struct fault_conn_log *next;
	uint64_t number;
	pid_t pid;
	char comm[FAULT_COMM_SIZE];
	bool open;
	bool killed;	       /* a kill_client fault killed its process */
	magma_status_t status; /* the first error the service latched; OK: none */
	uint32_t fault_code;   /* the first fault the driver reported to it; 0: none */
};

/* Who is hit by a firing, and who caused it (for the log). */
struct fault_who {
	uint64_t connection; /* 0: no connection (a device channel, the clock) */
	pid_t pid;	     /* 0: unknown */
	char comm[FAULT_COMM_SIZE];
	struct msd_connection_t *msd;
	uint32_t context;
};

/* The moments of a firing's life (docs/fault-injection.md, "Live sessions"). */
enum fault_moment {
	FAULT_FIRED,
	FAULT_APPLIED,
	FAULT_DETECTED,
	FAULT_RECOVERED,
	FAULT_MOMENT_COUNT
};

enum fault_record_state {
	FAULT_REC_PENDING, /* fired, not applied yet */
	FAULT_REC_APPLIED,
	FAULT_REC_NEVER, /* could not take effect (its connection closed, cleared, shut down) */
};

/* One firing, kept for the dump. Guarded by fdev->lock. */
struct fault_record {
	struct fault_record *next;
	const struct fault *fault;
	uint32_t arm, index; /* the plan it came from and its place there */
	uint64_t count;	     /* the trigger's event count when it fired */
	struct fault_who hit;
	enum fault_record_state state;
	bool lapsed;	      /* a dma_error whose job ended with no COPY or FILL (state NEVER) */
	uint32_t lapse_queue; /* with lapse_last: the job that may end without being hit */
	uint64_t lapse_first, lapse_last;   /* its ring SEQNOs; lapse_last 0: cannot lapse */
	uint64_t cycle[FAULT_MOMENT_COUNT]; /* FAULT_NO_TIME: not (yet) */
	uint64_t ns[FAULT_MOMENT_COUNT];    /* CLOCK_MONOTONIC */
};

/* One firing not applied yet: waiting for a job start, or for the worker. */
struct fault_shot {
	struct fault_shot *next;
	const struct fault *fault;
	uint32_t index;
	struct fault_record *record;  /* NULL when the record limit was reached */
	char cause[FAULT_CAUSE_SIZE]; /* "at submission #2 ...", for the log line */
	/* Aimed at @who's connection when who.connection (or who.pid) is set, else at the
	 * fault's target. */
	struct fault_who who;
	uint64_t min_sequence; /* with who.msd: its first submission the shot may hit */
};

/* Where a hook runs, which decides what may be applied at once. */
enum fault_where {
	FAULT_IN_SERVICE, /* a service thread, no lock held: anything */
	FAULT_IN_DRIVER,  /* a driver thread, driver locks maybe held: answer only */
	FAULT_IN_SIM,	  /* a sim callback, the sim's lock held: defer to the worker */
};

/* A plan armed on the device: the --faults one, or one a control client injected. */
struct fault_arm {
	const struct fault_plan *plan;
	struct fault_plan *owned; /* freed at destroy; NULL for a borrowed plan */
	struct fault_engine *engine;
	atomic_bool cleared; /* disarmed: its events no longer count */
};

struct fault_device {
	struct sim_device *sim;
	struct magma_system_device *dev;
	char label[32];
	int sub_id; /* the sim event subscription, or -1 */
	struct fault_arm arms[FAULT_DEVICE_MAX_ARMS];
	atomic_uint arm_count;			 /* arms[0..arm_count) are set up */
	atomic_bool has_va;			 /* some armed fault counts GPU accesses */
	atomic_bool has_reset;			 /* some armed fault counts GPU resets */
	atomic_uint_fast64_t next_cycle;	 /* earliest cycle trigger not fired; UINT64_MAX */
	atomic_uint_fast64_t fired;		 /* firings, all plans */
	atomic_uint_fast64_t last_cycle;	 /* device cycle of the sim's latest event */
	atomic_uint_fast64_t epoch;		 /* GPU cycles before the last hard reset(s) */
	atomic_uint_fast64_t awaiting_detection; /* records applied, not detected yet */
	atomic_uint_fast64_t awaiting_recovery;	 /* records detected, not recovered yet */
	atomic_uint_fast64_t awaiting_lapse;	 /* records that may still lapse */
	pthread_t worker;
	bool worker_running;
	pthread_mutex_t lock;
	pthread_cond_t work_cond;
	/* Fields below guarded by lock. */
	bool stopping;
	struct fault_conn *conns;
	struct fault_conn_log *conn_log, **conn_log_tail;
	uint64_t conn_log_count, connections_opened;
	struct fault_record *records, **records_tail;
	uint64_t record_count;
	struct msd_connection_t *slot_owner[SIM_AS_MAX]; /* whose job last started there */
	uint32_t slot_context[SIM_AS_MAX];
	struct fault_shot *job_shots; /* waiting for a job start, in firing order */
	struct fault_shot *work, **work_tail;
};

/* fault_device.c */
void fault_log(const struct fault_device *fdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t fault_now_ns(void);
/*
 * The device's cycle now: the GPU's counter (asked of the sim from the service, the sim's last
 * event elsewhere) plus the cycles counted before each hard reset, which restarts the counter, so
 * that the moments of a record never go back.
 */
uint64_t fault_cycle_now(struct fault_device *fdev, enum fault_where where);
void fault_who_of_conn(const struct fault_conn *c, uint32_t context, struct fault_who *out);
void fault_update_triggers(struct fault_device *fdev);

/* fault_device_apply.c */
bool fault_is_job_kind(enum fault_kind kind);
void fault_describe_cause(const struct fault_event *ev, const struct fault_who *who, uint64_t count,
			  char out[FAULT_CAUSE_SIZE]);
/* Applies (or queues) one firing of @ev caused by @who, seen @where; @rec may be NULL. */
void fault_apply_firing(struct fault_device *fdev, const struct fault_firing *firing,
			const struct fault_event *ev, const struct fault_who *who,
			enum fault_where where, struct fault_record *rec);
/* Arms job shot @shot on @job (the driver's lock held); logs; the caller frees @shot. */
void fault_shoot_job(struct fault_device *fdev, struct fault_shot *shot,
		     const struct msd_sim_job_start *job, const struct fault_conn *c);
/* Applies a shot not aimed at a job now (no sim or driver lock held); logs; frees @shot. */
void fault_shoot_now(struct fault_device *fdev, struct fault_shot *shot);
/* Logs that @shot will never be applied (@why) and frees it. */
void fault_shot_never(struct fault_device *fdev, struct fault_shot *shot, const char *why);

/* fault_device_record.c */
/* A new record of @firing caused by @who (its hit, until applied says otherwise); NULL past the
 * limit or without memory. Takes the lock. */
struct fault_record *fault_record_fired(struct fault_device *fdev,
					const struct fault_firing *firing,
					const struct fault_who *who, enum fault_where where);
/* @rec took effect, hitting @hit (NULL: keep). Takes the lock. */
void fault_record_applied(struct fault_device *fdev, struct fault_record *rec,
			  const struct fault_who *hit, enum fault_where where);
/* @rec (applied) lapses if the job of SEQNOs [@first, @last] on @queue ends unhit. */
void fault_record_may_lapse(struct fault_device *fdev, struct fault_record *rec, uint32_t queue,
			    uint64_t first, uint64_t last);
/* @rec never will. Takes the lock. */
void fault_record_never(struct fault_device *fdev, struct fault_record *rec);
/* A log entry for new connection @c (not yet in fdev->conns), linked as c->log. */
void fault_record_conn_opened(struct fault_device *fdev, struct fault_conn *c);
/* Connection @number ended with @status (OK: closed by its client). Service thread. */
void fault_record_conn_ended(struct fault_device *fdev, uint64_t number, magma_status_t status);
/* The driver reported fault @code (MAGMA_SIM_NOTIFY_FAULT) to connection @number. */
void fault_record_conn_fault(struct fault_device *fdev, uint64_t number, uint32_t code);
/* The process of connection @number (0: every open connection of @pid) was killed. */
void fault_record_killed(struct fault_device *fdev, uint64_t number, pid_t pid);
/* A sim event at device cycle @cycle (the sim's lock held): resets detect, good job ends
 * recover. */
void fault_record_sim_event(struct fault_device *fdev, const struct sim_event *sev, uint64_t cycle);
void fault_record_free_all(struct fault_device *fdev);

#endif /* FAULT_DEVICE_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/*
 * fault_device.c - a fault plan applied to one device: service + msd-sim + sim (fault_device.h).
 *
 * Where events come from. The service's hooks report connections as they open and close (number,
 * client pid and name, MSD connection), every call a message is about to make, every submission
 * and every allocation at the service's failure points. msd-sim's hooks report each job start
 * (queue, address-space slot, connection, submission number) and every driver allocation; a
 * driver allocation made on a connection's thread is that connection's (the service's hooks
 * record, per thread, whom the thread serves). The sim's event stream gives the cycle stamps of
 * cycle triggers and, through its TLB misses (the first touch of each page by an address
 * space), the GPU accesses of VA triggers, attributed to the connection whose job last started
 * in that slot (a slot changes hands only between jobs).
 *
 * How faults land. A model fault aimed at a job (mmu_fault, permission_fault, cp_hang,
 * dma_error) becomes a "shot" waiting for a job start: one fired by a submission or a call of a
 * connection waits for the first job of that connection from its next submission on, which is
 * the submission that fired it; one fired by an access waits for the accessing connection's next
 * job (the access itself has happened); one fired by a cycle waits for the next job of the
 * fault's target. At that job start the hook arms the model (sim_inject_fault) on the job's slot
 * (MMU) or queue (hang, DMA) before the doorbell. Device-wide model faults and kill_client are
 * applied at once on the service's threads; when a cycle or an access fires them the sim's
 * lock is held, which forbids calling the sim or the service, so a worker thread applies them
 * right after. fail_call and fail_alloc are the answer of the hook they fired in.
 *
 * Threading: hooks run on service, driver and sim threads; @lock guards the lists and is never
 * held while calling the sim, the driver or the service (the sim's callbacks take it under the
 * sim's lock, the driver's under the driver's).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <lib/magma/magma_common_defs.h>

#include "faults/fault_device.h"
#include "faults/fault_engine.h"
#include "magma_system/magma_system.h"
#include "msd_sim_hooks.h"
#include "sim/sim.h"

#define FAULT_COMM_SIZE	 16
#define FAULT_CAUSE_SIZE 192
/* Sim events whose cycle stamps feed cycle triggers (register accesses and logs are left out:
 * the GPU's own events come often enough and cost less). */
#define FAULT_CYCLE_EVENTS                                                                         \
	(SIM_EV_MASK(SIM_EV_IRQ_RAISE) | SIM_EV_MASK(SIM_EV_JOB_START) |                           \
	 SIM_EV_MASK(SIM_EV_JOB_END) | SIM_EV_MASK(SIM_EV_CMD) | SIM_EV_MASK(SIM_EV_FAULT) |       \
	 SIM_EV_MASK(SIM_EV_TLB_MISS) | SIM_EV_MASK(SIM_EV_QUEUE_STATE) |                          \
	 SIM_EV_MASK(SIM_EV_POWER) | SIM_EV_MASK(SIM_EV_RESET))

/* A connection the service opened. Guarded by fdev->lock. */
struct fault_conn {
	struct fault_conn *next;
	uint64_t number;
	pid_t pid;
	char comm[FAULT_COMM_SIZE];
	struct msd_connection_t *msd;
};

/* Who is hit by a firing, and who caused it (for the log). */
struct fault_who {
	uint64_t connection; /* 0: no connection (a device channel, the clock) */
	pid_t pid;	     /* 0: unknown */
	char comm[FAULT_COMM_SIZE];
	struct msd_connection_t *msd;
	uint32_t context;
};

/* One firing not applied yet: waiting for a job start, or for the worker. */
struct fault_shot {
	struct fault_shot *next;
	const struct fault *fault;
	uint32_t index;
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

struct fault_device {
	const struct fault_plan *plan;
	struct fault_engine *engine;
	struct sim_device *sim;
	struct magma_system_device *dev;
	char label[32];
	bool quiet;
	bool has_cycle, has_va;
	int sub_id; /* the sim event subscription, or -1 */
	atomic_uint_fast64_t fired;
	atomic_uint_fast64_t next_cycle; /* earliest cycle trigger not fired yet; UINT64_MAX */
	pthread_t worker;
	bool worker_running;
	pthread_mutex_t lock;
	pthread_cond_t work_cond;
	/* Fields below guarded by lock. */
	bool stopping;
	struct fault_conn *conns;
	struct msd_connection_t *slot_owner[SIM_AS_MAX]; /* whose job last started there */
	uint32_t slot_context[SIM_AS_MAX];
	struct fault_shot *job_shots; /* waiting for a job start, in firing order */
	struct fault_shot *work, **work_tail;
};

/*
 * Whom the calling thread serves, as the service's hooks last said: a connection's thread serves
 * that connection all its life, a channel's thread its client process. Lets a driver allocation
 * be counted for the connection whose call made it. Per thread, keyed by device.
 */
static _Thread_local struct {
	const struct fault_device *fdev;
	struct fault_who who;
} thread_who;

static void fault_log(const struct fault_device *fdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line to stderr, prefixed with the device, unless MAGMA_SYSTEM_QUIET was set. */
static void fault_log(const struct fault_device *fdev, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (fdev->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "faults[%s]: %s\n", fdev->label, line);
}

/* "connection 2 (pid 41 "vkcube", context 1)"; "pid 41 "vkcube"" for a channel; "" for nobody. */
static void describe_who(const struct fault_who *who, char *out, size_t size)
{
	char context[32] = "";

	if (who->context)
		snprintf(context, sizeof(context), ", context %u", who->context);
	if (who->connection)
		snprintf(out, size, "connection %" PRIu64 " (pid %d \"%s\"%s)", who->connection,
			 (int)who->pid, who->comm, context);
	else if (who->pid)
		snprintf(out, size, "pid %d \"%s\"", (int)who->pid, who->comm);
	else
		snprintf(out, size, "%s", "");
}

/* What fired @f, from @ev and the fault's @count, into @out. */
static void describe_cause(const struct fault_event *ev, const struct fault_who *who,
			   uint64_t count, char out[FAULT_CAUSE_SIZE])
{
	char whom[96];

	describe_who(who, whom, sizeof(whom));
	switch (ev->type) {
	case FAULT_EVENT_SUBMISSION:
		snprintf(out, FAULT_CAUSE_SIZE, "at its submission #%" PRIu64 ", by %s", count,
			 whom);
		break;
	case FAULT_EVENT_CALL:
		snprintf(out, FAULT_CAUSE_SIZE, "at its call #%" PRIu64 " (%s), by %s", count,
			 ev->point ? ev->point : "no msd.h call", whom[0] ? whom : "a channel");
		break;
	case FAULT_EVENT_ALLOC:
		snprintf(out, FAULT_CAUSE_SIZE, "at its %s allocation #%" PRIu64 "%s%s", ev->point,
			 count, whom[0] ? ", by " : "", whom);
		break;
	case FAULT_EVENT_CYCLE:
		snprintf(out, FAULT_CAUSE_SIZE, "at GPU cycle %" PRIu64, ev->value);
		break;
	case FAULT_EVENT_ACCESS:
		snprintf(out, FAULT_CAUSE_SIZE,
			 "at the first GPU access to page 0x%" PRIx64 ", by %s",
			 ev->value & ~(uint64_t)(SIM_PAGE_SIZE - 1), whom);
		break;
	default:
		snprintf(out, FAULT_CAUSE_SIZE, "at an event");
		break;
	}
}

static bool is_job_kind(enum fault_kind kind)
{
	return kind == FAULT_MMU_FAULT || kind == FAULT_PERMISSION_FAULT || kind == FAULT_CP_HANG ||
	       kind == FAULT_DMA_ERROR;
}

static struct fault_conn *find_conn_locked(struct fault_device *fdev,
					   const struct msd_connection_t *msd)
{
	for (struct fault_conn *c = fdev->conns; c; c = c->next) {
		if (c->msd == msd)
			return c;
	}
	return NULL;
}

static void who_of_conn(const struct fault_conn *c, uint32_t context, struct fault_who *out)
{
	*out = (struct fault_who){
		.connection = c->number, .pid = c->pid, .msd = c->msd, .context = context};
	snprintf(out->comm, sizeof(out->comm), "%s", c->comm);
}

static void who_of_site(const struct magma_system_site *site, struct fault_who *out)
{
	*out = (struct fault_who){.connection = site->connection,
				  .pid = site->pid,
				  .msd = site->msd,
				  .context = site->context};
	snprintf(out->comm, sizeof(out->comm), "%s", site->comm ? site->comm : "");
}

/* ---- Applying ---- */

/* Arms the model fault of job @shot on @job's queue or slot (the driver's lock is held). */
static void shoot_job(struct fault_device *fdev, struct fault_shot *shot,
		      const struct msd_sim_job_start *job, uint64_t connection)
{
	struct sim_inject inj = {.count = 1};
	const char *where = "AS slot";
	uint32_t unit = job->as_slot;
	int ret;

	switch (shot->fault->kind) {
	case FAULT_MMU_FAULT:
		inj.kind = SIM_INJECT_MMU_FAULT;
		inj.arg = SIM_FAULT_MMU_TRANSLATION;
		break;
	case FAULT_PERMISSION_FAULT:
		inj.kind = SIM_INJECT_MMU_FAULT;
		inj.arg = SIM_FAULT_MMU_PERMISSION;
		break;
	case FAULT_CP_HANG:
		inj.kind = SIM_INJECT_CP_HANG;
		where = "queue";
		unit = job->queue;
		break;
	default: /* FAULT_DMA_ERROR */
		inj.kind = SIM_INJECT_DMA_ERROR;
		where = "queue";
		unit = job->queue;
		break;
	}
	inj.target = unit;
	ret = sim_inject_fault(fdev->sim, &inj);
	fault_log(fdev,
		  "\"%s\" (%s) fired %s: %s %s %u, for submission %" PRIu64
		  " of connection %" PRIu64 " (context %u)%s",
		  shot->fault->name, fault_kind_name(shot->fault->kind), shot->cause,
		  ret ? "NOT armed (the model refused it) on" : "armed on", where, unit,
		  job->sequence, connection, job->context_id,
		  job->resubmitted ? ", resubmitted" : "");
}

/*
 * Kills (or, for this process, disconnects) the client of connection @number, or with @number 0
 * the client process @pid; the outcome in @out.
 */
static void kill_client(struct fault_device *fdev, uint64_t number, pid_t pid, char *out,
			size_t size)
{
	int ret = magma_system_device_kill_client(fdev->dev, number, pid);
	char whom[48];

	if (number)
		snprintf(whom, sizeof(whom), "the client of connection %" PRIu64, number);
	else
		snprintf(whom, sizeof(whom), "client process %d", (int)pid);
	if (ret == 0)
		snprintf(out, size, "killed %s (SIGKILL)", whom);
	else if (ret == 1)
		snprintf(out, size,
			 "connection %" PRIu64 " shut down instead (its client is this process)",
			 number);
	else
		snprintf(out, size, "%s not killed: %s", whom, strerror(-ret));
}

/*
 * The connections kill_client @shot hits by its target (the event that fired it had no client),
 * into @numbers (at most @max); how many.
 */
static uint32_t kill_targets(struct fault_device *fdev, const struct fault_shot *shot,
			     uint64_t *numbers, uint32_t max)
{
	const struct fault_target *t = &shot->fault->target;
	uint32_t n = 0;

	pthread_mutex_lock(&fdev->lock);
	for (struct fault_conn *c = fdev->conns; c && n < max; c = c->next) {
		bool hit;

		if (t->type == FAULT_TARGET_CONNECTION)
			hit = c->number == t->connection;
		else if (t->type == FAULT_TARGET_PROCESS)
			hit = strcmp(c->comm, t->process) == 0;
		else
			hit = false; /* refused at load (fault_plan_check_device) */
		if (hit)
			numbers[n++] = c->number;
	}
	pthread_mutex_unlock(&fdev->lock);
	return n;
}

/* Applies kill_client @shot; what it did in @out. */
static void shoot_kill(struct fault_device *fdev, const struct fault_shot *shot, char *out,
		       size_t size)
{
	uint64_t numbers[16];
	uint32_t n;
	size_t len = 0;

	if (shot->who.connection || shot->who.pid) {
		kill_client(fdev, shot->who.connection, shot->who.pid, out, size);
		return;
	}
	n = kill_targets(fdev, shot, numbers, 16);
	if (!n)
		snprintf(out, size, "no live connection of the target to kill");
	for (uint32_t i = 0; i < n && len + 2 < size; i++) {
		if (i)
			len += (size_t)snprintf(out + len, size - len, "; ");
		kill_client(fdev, numbers[i], 0, out + len, size - len);
		len = strlen(out);
	}
}

/*
 * Applies a firing that is not aimed at a job (device-wide model faults, kill_client) now; no
 * lock of the sim or the driver may be held. Logs it and frees @shot.
 */
static void shoot_now(struct fault_device *fdev, struct fault_shot *shot)
{
	const struct fault *f = shot->fault;
	char effect[256] = "";
	int ret = 0;

	switch (f->kind) {
	case FAULT_RESET_FAILURE:
		ret = sim_inject_fault(
			fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_RESET_FAIL, .count = 1});
		snprintf(effect, sizeof(effect), "the next soft reset will not complete");
		break;
	case FAULT_IRQ_DELAY:
		ret = sim_inject_fault(fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_DELAY_IRQ,
								       .count = 1,
								       .arg = f->arg});
		snprintf(effect, sizeof(effect), "the next interrupt is %" PRIu64 " cycles late",
			 f->arg);
		break;
	case FAULT_IRQ_LOSS:
		ret = sim_inject_fault(
			fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_DROP_IRQ, .count = 1});
		snprintf(effect, sizeof(effect), "the next interrupt is lost");
		break;
	case FAULT_MODEL_ALLOC_FAILURE:
		sim_inject_alloc_failure(fdev->sim, 1);
		snprintf(effect, sizeof(effect), "the model's next host allocation fails");
		break;
	case FAULT_KILL_CLIENT:
		shoot_kill(fdev, shot, effect, sizeof(effect));
		break;
	default:
		snprintf(effect, sizeof(effect), "not applicable here");
		break;
	}
	if (ret)
		snprintf(effect, sizeof(effect), "NOT applied: the model refused it (%d)", ret);
	fault_log(fdev, "\"%s\" (%s) fired %s: %s", f->name, fault_kind_name(f->kind), shot->cause,
		  effect);
	free(shot);
}

/* Queues @shot for the worker (or drops it, logged, once stopping). */
static void defer_to_worker(struct fault_device *fdev, struct fault_shot *shot)
{
	bool dropped;

	pthread_mutex_lock(&fdev->lock);
	dropped = fdev->stopping;
	if (!dropped) {
		*fdev->work_tail = shot;
		fdev->work_tail = &shot->next;
		pthread_cond_signal(&fdev->work_cond);
	}
	pthread_mutex_unlock(&fdev->lock);
	if (dropped) {
		fault_log(fdev, "\"%s\" (%s) fired %s: never applied, the device is shutting down",
			  shot->fault->name, fault_kind_name(shot->fault->kind), shot->cause);
		free(shot);
	}
}

/*
 * What to do with one firing (not fail_call or fail_alloc, which their hooks answer) of an event
 * caused by @who, seen @where.
 */
static void apply_firing(struct fault_device *fdev, const struct fault_firing *firing,
			 const struct fault_event *ev, const struct fault_who *who,
			 enum fault_where where)
{
	struct fault_shot *shot = calloc(1, sizeof(*shot));

	if (!shot) {
		fault_log(fdev, "\"%s\" (%s) fired but is not applied: out of memory",
			  firing->fault->name, fault_kind_name(firing->fault->kind));
		return;
	}
	shot->fault = firing->fault;
	shot->index = firing->index;
	shot->who = *who;
	describe_cause(ev, who, firing->count, shot->cause);
	if (is_job_kind(firing->fault->kind)) {
		/* On the connection's own thread before it submits, its next submission number is
		 * exactly the one that fired (the driver's lock is not held here). */
		if (where == FAULT_IN_SERVICE && who->msd)
			shot->min_sequence = msd_sim_connection_next_sequence(who->msd);
		pthread_mutex_lock(&fdev->lock);
		{
			struct fault_shot **pp = &fdev->job_shots;

			while (*pp)
				pp = &(*pp)->next;
			*pp = shot;
		}
		pthread_mutex_unlock(&fdev->lock);
		return;
	}
	if (where == FAULT_IN_SERVICE)
		shoot_now(fdev, shot);
	else
		defer_to_worker(fdev, shot);
}

/*
 * Reports @ev (caused by @who) to the engine and applies what fires. Returns the status of the
 * first fail_call or fail_alloc that fired (MAGMA_STATUS_OK: none), which the caller answers.
 */
static magma_status_t observe(struct fault_device *fdev, const struct fault_event *ev,
			      const struct fault_who *who, enum fault_where where)
{
	struct fault_firing firings[FAULT_PLAN_MAX_FAULTS];
	magma_status_t answer = MAGMA_STATUS_OK;
	uint32_t n = fault_engine_observe(fdev->engine, ev, firings, FAULT_PLAN_MAX_FAULTS);

	for (uint32_t i = 0; i < n; i++) {
		const struct fault *f = firings[i].fault;

		atomic_fetch_add(&fdev->fired, 1);
		if (f->kind == FAULT_FAIL_CALL || f->kind == FAULT_FAIL_ALLOC) {
			char cause[FAULT_CAUSE_SIZE];
			bool first = answer == MAGMA_STATUS_OK;

			describe_cause(ev, who, firings[i].count, cause);
			if (first)
				answer = f->status;
			fault_log(fdev, "\"%s\" (%s) fired %s: %s %s", f->name,
				  fault_kind_name(f->kind), cause,
				  f->kind == FAULT_FAIL_CALL ? "the call fails with"
							     : "the allocation fails, giving",
				  first ? fault_status_name(f->status)
					: "(already failed by an earlier fault)");
			continue;
		}
		apply_firing(fdev, &firings[i], ev, who, where);
	}
	return answer;
}

static void event_from_who(struct fault_event *ev, enum fault_event_type type,
			   const struct fault_who *who, const char *point)
{
	*ev = (struct fault_event){
		.type = type,
		.connection = who->connection,
		.process = who->pid || who->comm[0] ? who->comm : NULL,
		.context = who->context,
		.point = point,
	};
}

/* ---- The service's hooks ---- */

static void remember_thread(struct fault_device *fdev, const struct fault_who *who)
{
	thread_who.fdev = fdev;
	thread_who.who = *who;
}

static void on_connection_opened(void *ctx, const struct magma_system_site *site)
{
	struct fault_device *fdev = ctx;
	struct fault_conn *c = calloc(1, sizeof(*c));
	struct fault_who who;

	who_of_site(site, &who);
	remember_thread(fdev, &who);
	if (!c) {
		fault_log(fdev, "out of memory: connection %" PRIu64 " is not a fault target",
			  site->connection);
		return;
	}
	c->number = site->connection;
	c->pid = site->pid;
	c->msd = site->msd;
	snprintf(c->comm, sizeof(c->comm), "%s", site->comm ? site->comm : "");
	pthread_mutex_lock(&fdev->lock);
	c->next = fdev->conns;
	fdev->conns = c;
	pthread_mutex_unlock(&fdev->lock);
}

/* Whether waiting @shot can never hit anyone once connection @number (@msd) is gone. */
static bool shot_orphaned(const struct fault_shot *shot, uint64_t number,
			  const struct msd_connection_t *msd)
{
	if (shot->who.msd)
		return shot->who.msd == msd;
	return shot->fault->target.type == FAULT_TARGET_CONNECTION &&
	       shot->fault->target.connection == number;
}

static void on_connection_closed(void *ctx, const struct magma_system_site *site)
{
	struct fault_device *fdev = ctx;
	struct fault_shot *orphans = NULL, **tail = &orphans;

	pthread_mutex_lock(&fdev->lock);
	for (struct fault_conn **pp = &fdev->conns; *pp; pp = &(*pp)->next) {
		if ((*pp)->number == site->connection) {
			struct fault_conn *c = *pp;

			*pp = c->next;
			free(c);
			break;
		}
	}
	for (uint32_t s = 0; s < SIM_AS_MAX; s++) {
		if (fdev->slot_owner[s] == site->msd)
			fdev->slot_owner[s] = NULL;
	}
	for (struct fault_shot **pp = &fdev->job_shots; *pp;) {
		struct fault_shot *shot = *pp;

		if (!shot_orphaned(shot, site->connection, site->msd)) {
			pp = &shot->next;
			continue;
		}
		*pp = shot->next;
		shot->next = NULL;
		*tail = shot;
		tail = &shot->next;
	}
	pthread_mutex_unlock(&fdev->lock);
	while (orphans) {
		struct fault_shot *shot = orphans;

		orphans = shot->next;
		fault_log(fdev,
			  "\"%s\" (%s) fired %s: never applied, connection %" PRIu64
			  " closed before it ran another job",
			  shot->fault->name, fault_kind_name(shot->fault->kind), shot->cause,
			  site->connection);
		free(shot);
	}
	if (thread_who.fdev == fdev)
		thread_who.fdev = NULL;
}

static magma_status_t on_call(void *ctx, const struct magma_system_site *site)
{
	struct fault_device *fdev = ctx;
	struct fault_event ev;
	struct fault_who who;

	who_of_site(site, &who);
	remember_thread(fdev, &who);
	event_from_who(&ev, FAULT_EVENT_CALL, &who, site->call);
	return observe(fdev, &ev, &who, FAULT_IN_SERVICE);
}

static void on_submission(void *ctx, const struct magma_system_site *site)
{
	struct fault_device *fdev = ctx;
	struct fault_event ev;
	struct fault_who who;

	who_of_site(site, &who);
	event_from_who(&ev, FAULT_EVENT_SUBMISSION, &who, NULL);
	observe(fdev, &ev, &who, FAULT_IN_SERVICE);
}

static magma_status_t on_service_alloc(void *ctx, const struct magma_system_site *site)
{
	struct fault_device *fdev = ctx;
	struct fault_event ev;
	struct fault_who who;

	who_of_site(site, &who);
	event_from_who(&ev, FAULT_EVENT_ALLOC, &who, "service");
	return observe(fdev, &ev, &who, FAULT_IN_SERVICE);
}

static uint64_t on_faults_fired(void *ctx)
{
	return fault_device_fired(ctx);
}

/* ---- msd-sim's hooks ---- */

static bool on_driver_alloc(void *ctx)
{
	struct fault_device *fdev = ctx;
	struct fault_who who = {0};
	struct fault_event ev;

	if (thread_who.fdev == fdev)
		who = thread_who.who;
	event_from_who(&ev, FAULT_EVENT_ALLOC, &who, "driver");
	return observe(fdev, &ev, &who, FAULT_IN_DRIVER) != MAGMA_STATUS_OK;
}

/* Whether waiting @shot hits @job of connection @c (NULL: unknown to us). */
static bool shot_hits(const struct fault_shot *shot, const struct msd_sim_job_start *job,
		      const struct fault_conn *c)
{
	const struct fault_target *t = &shot->fault->target;

	if (shot->who.msd)
		return job->connection == shot->who.msd && job->sequence >= shot->min_sequence;
	if (!c || (t->context && job->context_id != t->context))
		return false;
	if (shot->who.pid)
		return c->pid == shot->who.pid;
	switch (t->type) {
	case FAULT_TARGET_CONNECTION:
		return c->number == t->connection;
	case FAULT_TARGET_PROCESS:
		return strcmp(c->comm, t->process) == 0;
	default:
		return true;
	}
}

static void on_job_start(void *ctx, const struct msd_sim_job_start *job)
{
	struct fault_device *fdev = ctx;
	struct fault_shot *hits = NULL, **tail = &hits;
	uint64_t number = 0;

	pthread_mutex_lock(&fdev->lock);
	{
		struct fault_conn *c = find_conn_locked(fdev, job->connection);

		if (job->as_slot < SIM_AS_MAX) {
			fdev->slot_owner[job->as_slot] = job->connection;
			fdev->slot_context[job->as_slot] = job->context_id;
		}
		number = c ? c->number : 0;
		for (struct fault_shot **pp = &fdev->job_shots; *pp;) {
			struct fault_shot *shot = *pp;

			if (!shot_hits(shot, job, c)) {
				pp = &shot->next;
				continue;
			}
			*pp = shot->next;
			shot->next = NULL;
			*tail = shot;
			tail = &shot->next;
		}
	}
	pthread_mutex_unlock(&fdev->lock);
	while (hits) {
		struct fault_shot *shot = hits;

		hits = shot->next;
		shoot_job(fdev, shot, job, number);
		free(shot);
	}
}

/* ---- The sim's event stream (the sim's lock held) ---- */

/* The earliest cycle of a cycle trigger that has not fired, or UINT64_MAX. */
static uint64_t next_cycle_trigger(struct fault_device *fdev)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < fdev->plan->fault_count; i++) {
		const struct fault *f = &fdev->plan->faults[i];

		if (f->trigger.type == FAULT_TRIGGER_CYCLE && f->trigger.n < next &&
		    !fault_engine_fired(fdev->engine, i))
			next = f->trigger.n;
	}
	return next;
}

static void on_sim_event(void *ctx, const struct sim_event *sev)
{
	struct fault_device *fdev = ctx;
	struct fault_event ev;

	if (fdev->has_va && sev->type == SIM_EV_TLB_MISS && sev->unit < SIM_AS_MAX) {
		struct fault_who who = {0};
		bool known = false;

		pthread_mutex_lock(&fdev->lock);
		if (fdev->slot_owner[sev->unit]) {
			struct fault_conn *c = find_conn_locked(fdev, fdev->slot_owner[sev->unit]);

			if (c) {
				who_of_conn(c, fdev->slot_context[sev->unit], &who);
				known = true;
			}
		}
		pthread_mutex_unlock(&fdev->lock);
		if (known) {
			event_from_who(&ev, FAULT_EVENT_ACCESS, &who, NULL);
			ev.value = sev->value;
			observe(fdev, &ev, &who, FAULT_IN_SIM);
		}
	}
	if (fdev->has_cycle && sev->cycle >= atomic_load(&fdev->next_cycle)) {
		struct fault_who nobody = {0};

		ev = (struct fault_event){.type = FAULT_EVENT_CYCLE, .value = sev->cycle};
		observe(fdev, &ev, &nobody, FAULT_IN_SIM);
		atomic_store(&fdev->next_cycle, next_cycle_trigger(fdev));
	}
}

/* ---- The worker: applies what sim callbacks fired ---- */

static void *worker_main(void *arg)
{
	struct fault_device *fdev = arg;

	pthread_mutex_lock(&fdev->lock);
	for (;;) {
		struct fault_shot *shot = fdev->work;

		if (!shot) {
			if (fdev->stopping)
				break;
			pthread_cond_wait(&fdev->work_cond, &fdev->lock);
			continue;
		}
		fdev->work = shot->next;
		if (!fdev->work)
			fdev->work_tail = &fdev->work;
		pthread_mutex_unlock(&fdev->lock);
		shoot_now(fdev, shot);
		pthread_mutex_lock(&fdev->lock);
	}
	pthread_mutex_unlock(&fdev->lock);
	return NULL;
}

/* ---- Lifetime ---- */

/* fault_device_create - see fault_device.h. */
struct fault_device *fault_device_create(const struct fault_plan *plan, const char *label,
					 struct sim_device *sim, struct magma_system_device *dev)
{
	struct fault_device *fdev = calloc(1, sizeof(*fdev));
	struct msd_driver_t *drv = magma_system_device_msd_driver(dev);
	struct msd_device_t *msd = magma_system_device_msd_device(dev);
	struct magma_system_hooks hooks = {0};

	if (!fdev)
		return NULL;
	if (!drv || !msd || !sim)
		goto err_free;
	fdev->plan = plan;
	fdev->sim = sim;
	fdev->dev = dev;
	fdev->sub_id = -1;
	fdev->quiet = getenv("MAGMA_SYSTEM_QUIET") != NULL;
	snprintf(fdev->label, sizeof(fdev->label), "%s", label ? label : "device");
	fdev->work_tail = &fdev->work;
	atomic_init(&fdev->fired, 0);
	pthread_mutex_init(&fdev->lock, NULL);
	pthread_cond_init(&fdev->work_cond, NULL);
	fdev->engine = fault_engine_create(plan);
	if (!fdev->engine)
		goto err_sync;
	for (uint32_t i = 0; i < plan->fault_count; i++) {
		fdev->has_cycle |= plan->faults[i].trigger.type == FAULT_TRIGGER_CYCLE;
		fdev->has_va |= plan->faults[i].trigger.type == FAULT_TRIGGER_VA_RANGE;
	}
	atomic_init(&fdev->next_cycle, next_cycle_trigger(fdev));
	if (pthread_create(&fdev->worker, NULL, worker_main, fdev))
		goto err_engine;
	fdev->worker_running = true;
	if (fdev->has_cycle || fdev->has_va) {
		uint32_t mask = fdev->has_cycle ? FAULT_CYCLE_EVENTS : SIM_EV_MASK(SIM_EV_TLB_MISS);

		fdev->sub_id = sim_events_subscribe(sim, mask, on_sim_event, fdev);
		if (fdev->sub_id < 0)
			goto err_worker;
	}
	msd_sim_device_set_job_start_hook(msd, on_job_start, fdev);
	msd_sim_driver_set_alloc_hook(drv, on_driver_alloc, fdev);
	hooks = (struct magma_system_hooks){
		.ctx = fdev,
		.connection_opened = on_connection_opened,
		.connection_closed = on_connection_closed,
		.call = on_call,
		.submission = on_submission,
		.alloc = on_service_alloc,
		.faults_fired = on_faults_fired,
	};
	magma_system_device_set_hooks(dev, &hooks);
	fault_log(fdev, "plan \"%s\": %u fault(s) armed", plan->name[0] ? plan->name : "(unnamed)",
		  plan->fault_count);
	return fdev;

err_worker:
	fault_device_stop(fdev);
err_engine:
	fault_engine_destroy(fdev->engine);
err_sync:
	pthread_cond_destroy(&fdev->work_cond);
	pthread_mutex_destroy(&fdev->lock);
err_free:
	free(fdev);
	return NULL;
}

/* fault_device_stop - see fault_device.h. */
void fault_device_stop(struct fault_device *fdev)
{
	if (!fdev)
		return;
	if (fdev->sub_id >= 0) {
		sim_events_unsubscribe(fdev->sim, fdev->sub_id);
		fdev->sub_id = -1;
	}
	pthread_mutex_lock(&fdev->lock);
	fdev->stopping = true;
	pthread_cond_signal(&fdev->work_cond);
	pthread_mutex_unlock(&fdev->lock);
	if (fdev->worker_running) {
		pthread_join(fdev->worker, NULL); /* it empties the queue first */
		fdev->worker_running = false;
	}
}

/* fault_device_destroy - see fault_device.h. */
void fault_device_destroy(struct fault_device *fdev)
{
	if (!fdev)
		return;
	fault_device_stop(fdev);
	while (fdev->job_shots) {
		struct fault_shot *shot = fdev->job_shots;

		fdev->job_shots = shot->next;
		fault_log(fdev, "\"%s\" (%s) fired %s: never applied, no job of its target started",
			  shot->fault->name, fault_kind_name(shot->fault->kind), shot->cause);
		free(shot);
	}
	while (fdev->conns) {
		struct fault_conn *c = fdev->conns;

		fdev->conns = c->next;
		free(c);
	}
	fault_engine_destroy(fdev->engine);
	pthread_cond_destroy(&fdev->work_cond);
	pthread_mutex_destroy(&fdev->lock);
	free(fdev);
}

/* fault_device_fired - see fault_device.h. */
uint64_t fault_device_fired(struct fault_device *fdev)
{
	return fdev ? atomic_load(&fdev->fired) : 0;
}

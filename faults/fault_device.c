/* SPDX-License-Identifier: MIT */
/*
 * fault_device.c - fault plans applied to one device: service + msd-sim + sim (fault_device.h).
 * This file: lifetime, the plans armed, and the hooks that report events to their engines.
 *
 * Where events come from. The service's hooks report connections as they open, end and close
 * (number, client pid and name, MSD connection, the status it ended with), every call a message
 * is about to make, every submission and every allocation at the service's failure points.
 * msd-sim's hooks report each job start (queue, address-space slot, connection, submission
 * number) and every driver allocation; a driver allocation made on a connection's thread is that
 * connection's (the service's hooks record, per thread, whom the thread serves). The sim's event
 * stream gives the cycle stamps of cycle triggers and of the firing records, resets and job ends
 * (fault_device_record.c) and, through its TLB misses (the first touch of each page by an
 * address space), the GPU accesses of VA and access triggers, attributed to the connection whose
 * job last started in that slot (a slot changes hands only between jobs).
 *
 * Plans. The plan given at creation (if any) is arm 0; a control client may arm more while the
 * device serves (fault_device_arm) and disarm them all (fault_device_clear). Arms are never
 * removed before destroy, so a hook may read one without a lock while another is added; a
 * cleared arm's events no longer count. Each arm has its own engine (its own counts).
 *
 * How faults land: fault_device_apply.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault_device_internal.h"
#include "magma_sim_defs.h"
#include "magma_system/magma_system.h"

/* Sim events whose cycle stamps feed cycle triggers and the records (register accesses and logs
 * are left out: the GPU's own events come often enough and cost less). */
#define FAULT_SIM_EVENTS                                                                           \
	(SIM_EV_MASK(SIM_EV_IRQ_RAISE) | SIM_EV_MASK(SIM_EV_JOB_START) |                           \
	 SIM_EV_MASK(SIM_EV_JOB_END) | SIM_EV_MASK(SIM_EV_CMD) | SIM_EV_MASK(SIM_EV_FAULT) |       \
	 SIM_EV_MASK(SIM_EV_TLB_MISS) | SIM_EV_MASK(SIM_EV_QUEUE_STATE) |                          \
	 SIM_EV_MASK(SIM_EV_POWER) | SIM_EV_MASK(SIM_EV_RESET))

/*
 * Whom the calling thread serves, as the service's hooks last said: a connection's thread serves
 * that connection all its life, a channel's thread its client process. Lets a driver allocation
 * be counted for the connection whose call made it. Per thread, keyed by device.
 */
static _Thread_local struct {
	const struct fault_device *fdev;
	struct fault_who who;
} thread_who;

/*
 * fault_log - one line to stderr, prefixed with the device. A plan's firings are what applying it
 * asks for, so they are printed at every log level but off (MAGMA_SYSTEM_QUIET, MAGMA_SIM_LOG=off:
 * magma_system.h).
 */
void fault_log(const struct fault_device *fdev, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (magma_system_log_level() == MAGMA_SYSTEM_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "faults[%s]: %s\n", fdev->label, line);
}

uint64_t fault_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* fault_cycle_now - see fault_device_internal.h. */
uint64_t fault_cycle_now(struct fault_device *fdev, enum fault_where where)
{
	if (where != FAULT_IN_SERVICE)
		return atomic_load(&fdev->last_cycle);
	return sim_clock_now(fdev->sim) + atomic_load(&fdev->epoch);
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

void fault_who_of_conn(const struct fault_conn *c, uint32_t context, struct fault_who *out)
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

/* ---- The engines ---- */

/* The earliest cycle of a cycle trigger that has not fired, or UINT64_MAX. */
static uint64_t next_cycle_trigger(struct fault_device *fdev)
{
	uint32_t arms = atomic_load(&fdev->arm_count);
	uint64_t next = UINT64_MAX;

	for (uint32_t a = 0; a < arms; a++) {
		const struct fault_arm *arm = &fdev->arms[a];

		if (atomic_load(&arm->cleared))
			continue;
		for (uint32_t i = 0; i < arm->plan->fault_count; i++) {
			const struct fault *f = &arm->plan->faults[i];

			if (f->trigger.type == FAULT_TRIGGER_CYCLE && f->trigger.n < next &&
			    !fault_engine_fired(arm->engine, i))
				next = f->trigger.n;
		}
	}
	return next;
}

/* fault_update_triggers - what the sim's event callback must watch, after arms changed. */
void fault_update_triggers(struct fault_device *fdev)
{
	uint32_t arms = atomic_load(&fdev->arm_count);
	bool va = false, reset = false;

	for (uint32_t a = 0; a < arms; a++) {
		const struct fault_arm *arm = &fdev->arms[a];

		if (atomic_load(&arm->cleared))
			continue;
		for (uint32_t i = 0; i < arm->plan->fault_count; i++) {
			va |= arm->plan->faults[i].trigger.event == FAULT_EVENT_ACCESS;
			reset |= arm->plan->faults[i].trigger.event == FAULT_EVENT_RESET;
		}
	}
	atomic_store(&fdev->has_va, va);
	atomic_store(&fdev->has_reset, reset);
	atomic_store(&fdev->next_cycle, next_cycle_trigger(fdev));
}

/* The status a fail_call or fail_alloc firing answers with, logged; MAGMA_STATUS_OK if none. */
static magma_status_t answer_firing(struct fault_device *fdev, const struct fault_firing *firing,
				    const struct fault_event *ev, const struct fault_who *who,
				    enum fault_where where, magma_status_t answer)
{
	const struct fault *f = firing->fault;
	struct fault_record *rec = fault_record_fired(fdev, firing, who, where);
	char cause[FAULT_CAUSE_SIZE];
	bool first = answer == MAGMA_STATUS_OK;

	fault_describe_cause(ev, who, firing->count, cause);
	if (first)
		fault_record_applied(fdev, rec, NULL, where);
	else
		fault_record_never(fdev, rec);
	fault_log(fdev, "\"%s\" (%s) fired %s: %s %s", f->name, fault_kind_name(f->kind), cause,
		  f->kind == FAULT_FAIL_CALL ? "the call fails with"
					     : "the allocation fails, giving",
		  first ? fault_status_name(f->status) : "(already failed by an earlier fault)");
	return first ? f->status : answer;
}

/*
 * Reports @ev (caused by @who) to the engine of every armed plan and applies what fires. Returns
 * the status of the first fail_call or fail_alloc that fired (MAGMA_STATUS_OK: none), which the
 * caller answers.
 */
static magma_status_t observe(struct fault_device *fdev, const struct fault_event *ev,
			      const struct fault_who *who, enum fault_where where)
{
	struct fault_firing firings[FAULT_PLAN_MAX_FAULTS];
	magma_status_t answer = MAGMA_STATUS_OK;
	uint32_t arms = atomic_load(&fdev->arm_count);

	for (uint32_t a = 0; a < arms; a++) {
		struct fault_arm *arm = &fdev->arms[a];
		uint32_t n;

		if (atomic_load(&arm->cleared))
			continue;
		n = fault_engine_observe(arm->engine, ev, firings, FAULT_PLAN_MAX_FAULTS);
		for (uint32_t i = 0; i < n; i++) {
			const struct fault *f = firings[i].fault;

			atomic_fetch_add(&fdev->fired, 1);
			if (f->kind == FAULT_FAIL_CALL || f->kind == FAULT_FAIL_ALLOC) {
				answer = answer_firing(fdev, &firings[i], ev, who, where, answer);
				continue;
			}
			fault_apply_firing(fdev, &firings[i], ev, who, where,
					   fault_record_fired(fdev, &firings[i], who, where));
		}
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
	fault_record_conn_opened(fdev, c);
	pthread_mutex_lock(&fdev->lock);
	c->next = fdev->conns;
	fdev->conns = c;
	pthread_mutex_unlock(&fdev->lock);
}

static void on_connection_ended(void *ctx, const struct magma_system_site *site,
				magma_status_t status)
{
	fault_record_conn_ended(ctx, site->connection, status);
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
	char why[96];

	pthread_mutex_lock(&fdev->lock);
	for (struct fault_conn **pp = &fdev->conns; *pp; pp = &(*pp)->next) {
		if ((*pp)->number == site->connection) {
			struct fault_conn *c = *pp;

			if (c->log)
				c->log->open = false;
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
	snprintf(why, sizeof(why), "connection %" PRIu64 " closed before it ran another job",
		 site->connection);
	while (orphans) {
		struct fault_shot *shot = orphans;

		orphans = shot->next;
		fault_shot_never(fdev, shot, why);
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

/* The driver's report of a fault to a connection (a driver thread): for the connection log. */
static void on_notification(void *ctx, const struct magma_system_site *site, const void *data,
			    uint32_t size)
{
	struct magma_sim_notification note;

	if (size < sizeof(note))
		return;
	memcpy(&note, data, sizeof(note));
	if (note.type == MAGMA_SIM_NOTIFY_FAULT)
		fault_record_conn_fault(ctx, site->connection, note.fault_code);
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
	struct fault_conn conn = {0};
	bool known;

	pthread_mutex_lock(&fdev->lock);
	{
		struct fault_conn *c = find_conn_locked(fdev, job->connection);

		if (job->as_slot < SIM_AS_MAX) {
			fdev->slot_owner[job->as_slot] = job->connection;
			fdev->slot_context[job->as_slot] = job->context_id;
		}
		known = c != NULL;
		if (c)
			conn = *c;
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
		fault_shoot_job(fdev, shot, job, known ? &conn : NULL);
		free(shot);
	}
}

/* ---- The sim's event stream (the sim's lock held) ---- */

static void on_sim_event(void *ctx, const struct sim_event *sev)
{
	struct fault_device *fdev = ctx;
	struct fault_event ev;

	uint64_t cycle = sev->cycle + atomic_load(&fdev->epoch);

	atomic_store(&fdev->last_cycle, cycle);
	fault_record_sim_event(fdev, sev, cycle);
	if (sev->type == SIM_EV_RESET && sev->code == SIM_GPU_COMMAND_HARD_RESET && sev->value == 0)
		atomic_fetch_add(&fdev->epoch, sev->cycle); /* the counter restarts at 0 */
	if (atomic_load(&fdev->has_va) && sev->type == SIM_EV_TLB_MISS && sev->unit < SIM_AS_MAX) {
		struct fault_who who = {0};
		bool known = false;

		pthread_mutex_lock(&fdev->lock);
		if (fdev->slot_owner[sev->unit]) {
			struct fault_conn *c = find_conn_locked(fdev, fdev->slot_owner[sev->unit]);

			if (c) {
				fault_who_of_conn(c, fdev->slot_context[sev->unit], &who);
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
	if (atomic_load(&fdev->has_reset) && sev->type == SIM_EV_RESET && sev->value == 0) {
		struct fault_who nobody = {0};

		ev = (struct fault_event){.type = FAULT_EVENT_RESET, .value = sev->cycle};
		observe(fdev, &ev, &nobody, FAULT_IN_SIM);
	}
	if (sev->cycle >= atomic_load(&fdev->next_cycle)) {
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
		fault_shoot_now(fdev, shot);
		pthread_mutex_lock(&fdev->lock);
	}
	pthread_mutex_unlock(&fdev->lock);
	return NULL;
}

/* ---- Plans ---- */

/* Faults of @arm that can still fire (a fault with "times" N is spent after N firings). */
static uint32_t live_faults(const struct fault_arm *arm)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < arm->plan->fault_count; i++) {
		uint32_t times = arm->plan->faults[i].times;

		n += !times || fault_engine_fired(arm->engine, i) < times;
	}
	return n;
}

/* Adds @plan as the next arm (@owned: freed at destroy). 0, -ENOSPC or -ENOMEM. */
static int add_arm(struct fault_device *fdev, const struct fault_plan *plan,
		   struct fault_plan *owned)
{
	struct fault_engine *engine = fault_engine_create(plan);
	uint32_t a;

	if (!engine)
		return -ENOMEM;
	pthread_mutex_lock(&fdev->lock); /* one arming at a time */
	a = atomic_load(&fdev->arm_count);
	if (a == FAULT_DEVICE_MAX_ARMS) {
		pthread_mutex_unlock(&fdev->lock);
		fault_engine_destroy(engine);
		return -ENOSPC;
	}
	fdev->arms[a].plan = plan;
	fdev->arms[a].owned = owned;
	fdev->arms[a].engine = engine;
	atomic_init(&fdev->arms[a].cleared, false);
	atomic_store(&fdev->arm_count, a + 1); /* publishes the arm to lock-free readers */
	pthread_mutex_unlock(&fdev->lock);
	fault_update_triggers(fdev);
	fault_log(fdev, "plan \"%s\": %u fault(s) armed", plan->name[0] ? plan->name : "(unnamed)",
		  plan->fault_count);
	return 0;
}

/* fault_device_arm - see fault_device.h. */
int fault_device_arm(struct fault_device *fdev, struct fault_plan *plan)
{
	if (!fdev || !plan)
		return -EINVAL;
	return add_arm(fdev, plan, plan);
}

/* fault_device_clear - see fault_device.h. */
uint32_t fault_device_clear(struct fault_device *fdev)
{
	struct fault_shot *dropped = NULL, **tail = &dropped;
	uint32_t arms, cleared = 0;

	if (!fdev)
		return 0;
	pthread_mutex_lock(&fdev->lock);
	arms = atomic_load(&fdev->arm_count);
	for (uint32_t a = 0; a < arms; a++) {
		if (!atomic_exchange(&fdev->arms[a].cleared, true))
			cleared += live_faults(&fdev->arms[a]);
	}
	*tail = fdev->job_shots;
	while (*tail)
		tail = &(*tail)->next;
	*tail = fdev->work;
	fdev->job_shots = NULL;
	fdev->work = NULL;
	fdev->work_tail = &fdev->work;
	pthread_mutex_unlock(&fdev->lock);
	fault_update_triggers(fdev);
	while (dropped) {
		struct fault_shot *shot = dropped;

		dropped = shot->next;
		fault_shot_never(fdev, shot, "cleared first");
	}
	fault_log(fdev, "cleared: %u fault(s) disarmed", cleared);
	return cleared;
}

/* fault_device_armed - see fault_device.h. */
uint32_t fault_device_armed(struct fault_device *fdev)
{
	uint32_t arms, armed = 0;

	if (!fdev)
		return 0;
	arms = atomic_load(&fdev->arm_count);
	for (uint32_t a = 0; a < arms; a++) {
		if (!atomic_load(&fdev->arms[a].cleared))
			armed += live_faults(&fdev->arms[a]);
	}
	return armed;
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
	fdev->sim = sim;
	fdev->dev = dev;
	fdev->sub_id = -1;
	snprintf(fdev->label, sizeof(fdev->label), "%s", label ? label : "device");
	fdev->work_tail = &fdev->work;
	fdev->conn_log_tail = &fdev->conn_log;
	fdev->records_tail = &fdev->records;
	atomic_init(&fdev->arm_count, 0);
	atomic_init(&fdev->has_va, false);
	atomic_init(&fdev->has_reset, false);
	atomic_init(&fdev->fired, 0);
	atomic_init(&fdev->last_cycle, 0);
	atomic_init(&fdev->epoch, 0);
	atomic_init(&fdev->awaiting_detection, 0);
	atomic_init(&fdev->awaiting_recovery, 0);
	atomic_init(&fdev->awaiting_lapse, 0);
	atomic_init(&fdev->next_cycle, UINT64_MAX);
	pthread_mutex_init(&fdev->lock, NULL);
	pthread_cond_init(&fdev->work_cond, NULL);
	if (plan && add_arm(fdev, plan, NULL))
		goto err_sync;
	if (pthread_create(&fdev->worker, NULL, worker_main, fdev))
		goto err_arms;
	fdev->worker_running = true;
	fdev->sub_id = sim_events_subscribe(sim, FAULT_SIM_EVENTS, on_sim_event, fdev);
	if (fdev->sub_id < 0)
		goto err_worker;
	msd_sim_device_set_job_start_hook(msd, on_job_start, fdev);
	msd_sim_driver_set_alloc_hook(drv, on_driver_alloc, fdev);
	hooks = (struct magma_system_hooks){
		.ctx = fdev,
		.connection_opened = on_connection_opened,
		.connection_ended = on_connection_ended,
		.connection_closed = on_connection_closed,
		.call = on_call,
		.submission = on_submission,
		.alloc = on_service_alloc,
		.faults_fired = on_faults_fired,
		.notification = on_notification,
	};
	magma_system_device_set_hooks(dev, &hooks);
	return fdev;

err_worker:
	fault_device_stop(fdev);
err_arms:
	if (atomic_load(&fdev->arm_count))
		fault_engine_destroy(fdev->arms[0].engine);
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
	uint32_t arms;

	if (!fdev)
		return;
	fault_device_stop(fdev);
	while (fdev->job_shots) {
		struct fault_shot *shot = fdev->job_shots;

		fdev->job_shots = shot->next;
		fault_shot_never(fdev, shot, "no job of its target started");
	}
	while (fdev->conns) {
		struct fault_conn *c = fdev->conns;

		fdev->conns = c->next;
		free(c);
	}
	fault_record_free_all(fdev);
	arms = atomic_load(&fdev->arm_count);
	for (uint32_t a = 0; a < arms; a++) {
		fault_engine_destroy(fdev->arms[a].engine);
		fault_plan_destroy(fdev->arms[a].owned);
	}
	pthread_cond_destroy(&fdev->work_cond);
	pthread_mutex_destroy(&fdev->lock);
	free(fdev);
}

/* fault_device_fired - see fault_device.h. */
uint64_t fault_device_fired(struct fault_device *fdev)
{
	return fdev ? atomic_load(&fdev->fired) : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * fault_device_record.c - what a fault device remembers for its control socket: every connection
 * it saw (with the status it ended with and whether a fault killed its process), and every firing
 * with the four moments of its life, in simulated cycles and host time (docs/fault-injection.md,
 * "Live sessions"):
 *
 *   fired      the trigger fired;
 *   applied    the fault took effect (a model fault when it is armed at its job's start, the
 *              others at once);
 *   detected   the stack noticed: the hit connection's service latches an error (a killed
 *              context, a failed call; any connection's for a device-wide fault), or - for a
 *              fault aimed at a job or a reset failure - a GPU reset begins, whichever is
 *              first; for kill_client, the service sees the connection end; for a fail_call or
 *              fail_alloc of a device channel (no connection), the failed answer itself;
 *   recovered  the first GPU job after detection that completes without a fault, whoever's.
 *
 * Faults the driver absorbs (a late interrupt, a lost one it polls past) have no detection
 * unless a connection's error follows. Cycles are device cycles (fault_cycle_now): read in the
 * sim's callbacks or the driver's hooks, the stamp of the sim's latest event (its lock may be
 * held there).
 * Both lists keep at most FAULT_DEVICE_MAX_LOG entries; later ones are counted, not kept.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fault_device_internal.h"
#include "magma_sim_defs.h"
#include "magma_system/magma_system.h"

/* fault_record_fired - see fault_device_internal.h. */
struct fault_record *fault_record_fired(struct fault_device *fdev,
					const struct fault_firing *firing,
					const struct fault_who *who, enum fault_where where)
{
	struct fault_record *rec = calloc(1, sizeof(*rec));
	uint32_t arms = atomic_load(&fdev->arm_count);

	if (!rec)
		return NULL;
	rec->fault = firing->fault;
	rec->index = firing->index;
	rec->count = firing->count;
	rec->hit = *who;
	rec->state = FAULT_REC_PENDING;
	for (uint32_t a = 0; a < arms; a++) {
		const struct fault_plan *p = fdev->arms[a].plan;

		if (firing->fault >= p->faults && firing->fault < p->faults + p->fault_count)
			rec->arm = a;
	}
	for (int m = 0; m < FAULT_MOMENT_COUNT; m++)
		rec->cycle[m] = rec->ns[m] = FAULT_NO_TIME;
	rec->cycle[FAULT_FIRED] = fault_cycle_now(fdev, where);
	rec->ns[FAULT_FIRED] = fault_now_ns();
	pthread_mutex_lock(&fdev->lock);
	if (fdev->record_count < FAULT_DEVICE_MAX_LOG) {
		fdev->record_count++;
		*fdev->records_tail = rec;
		fdev->records_tail = &rec->next;
	} else {
		free(rec);
		rec = NULL;
	}
	pthread_mutex_unlock(&fdev->lock);
	return rec;
}

static bool is_call_kind(enum fault_kind kind)
{
	return kind == FAULT_FAIL_CALL || kind == FAULT_FAIL_ALLOC;
}

/* fault_record_applied - see fault_device_internal.h. */
void fault_record_applied(struct fault_device *fdev, struct fault_record *rec,
			  const struct fault_who *hit, enum fault_where where)
{
	uint64_t cycle, ns;

	if (!rec)
		return;
	cycle = fault_cycle_now(fdev, where);
	ns = fault_now_ns();
	pthread_mutex_lock(&fdev->lock);
	rec->state = FAULT_REC_APPLIED;
	if (hit)
		rec->hit = *hit;
	/* The sim's latest event can be older than the clock the firing read: never go back. */
	if (cycle < rec->cycle[FAULT_FIRED])
		cycle = rec->cycle[FAULT_FIRED];
	rec->cycle[FAULT_APPLIED] = cycle;
	rec->ns[FAULT_APPLIED] = ns;
	if (is_call_kind(rec->fault->kind) && !rec->hit.connection) {
		/* A device channel's call: the failed answer is all there is to notice. */
		rec->cycle[FAULT_DETECTED] = cycle;
		rec->ns[FAULT_DETECTED] = ns;
		atomic_fetch_add(&fdev->awaiting_recovery, 1);
	} else {
		atomic_fetch_add(&fdev->awaiting_detection, 1);
	}
	pthread_mutex_unlock(&fdev->lock);
}

/* fault_record_may_lapse - see fault_device_internal.h. */
void fault_record_may_lapse(struct fault_device *fdev, struct fault_record *rec, uint32_t queue,
			    uint64_t first, uint64_t last)
{
	if (!rec || !last)
		return;
	pthread_mutex_lock(&fdev->lock);
	rec->lapse_queue = queue;
	rec->lapse_first = first;
	rec->lapse_last = last;
	atomic_fetch_add(&fdev->awaiting_lapse, 1);
	pthread_mutex_unlock(&fdev->lock);
}

/* The job of @rec that could lapse ended (@hit: faulted): it lapsed unless hit (the lock held). */
static void lapse_end_locked(struct fault_device *fdev, struct fault_record *rec, bool hit)
{
	rec->lapse_last = 0;
	atomic_fetch_sub(&fdev->awaiting_lapse, 1);
	if (hit || rec->state != FAULT_REC_APPLIED || rec->cycle[FAULT_DETECTED] != FAULT_NO_TIME)
		return;
	rec->state = FAULT_REC_NEVER;
	rec->lapsed = true;
	atomic_fetch_sub(&fdev->awaiting_detection, 1);
}

/* fault_record_never - see fault_device_internal.h. */
void fault_record_never(struct fault_device *fdev, struct fault_record *rec)
{
	if (!rec)
		return;
	pthread_mutex_lock(&fdev->lock);
	rec->state = FAULT_REC_NEVER;
	pthread_mutex_unlock(&fdev->lock);
}

/*
 * Whether a GPU reset is how the stack notices a fault of @kind: a fault aimed at a job (a hang
 * is found by the watchdog, which resets) and a failing reset. Not the faults the driver absorbs
 * (late or lost interrupts) or that show as a connection's error (a failed model allocation, a
 * failed call, a killed client): a reset then is someone else's.
 */
static bool reset_detects(enum fault_kind kind)
{
	return fault_is_job_kind(kind) || kind == FAULT_RESET_FAILURE;
}

static bool awaits_detection(const struct fault_record *rec)
{
	return rec->state == FAULT_REC_APPLIED && rec->cycle[FAULT_DETECTED] == FAULT_NO_TIME;
}

/* Marks @rec detected at @cycle (the lock held). */
static void detected_locked(struct fault_device *fdev, struct fault_record *rec, uint64_t cycle)
{
	rec->cycle[FAULT_DETECTED] =
		cycle > rec->cycle[FAULT_APPLIED] ? cycle : rec->cycle[FAULT_APPLIED];
	rec->ns[FAULT_DETECTED] = fault_now_ns();
	atomic_fetch_sub(&fdev->awaiting_detection, 1);
	atomic_fetch_add(&fdev->awaiting_recovery, 1);
}

/* fault_record_conn_opened - see fault_device_internal.h. */
void fault_record_conn_opened(struct fault_device *fdev, struct fault_conn *c)
{
	struct fault_conn_log *log = calloc(1, sizeof(*log));

	pthread_mutex_lock(&fdev->lock);
	fdev->connections_opened++;
	if (log && fdev->conn_log_count < FAULT_DEVICE_MAX_LOG) {
		log->number = c->number;
		log->pid = c->pid;
		snprintf(log->comm, sizeof(log->comm), "%s", c->comm);
		log->open = true;
		fdev->conn_log_count++;
		*fdev->conn_log_tail = log;
		fdev->conn_log_tail = &log->next;
		c->log = log;
		log = NULL;
	}
	pthread_mutex_unlock(&fdev->lock);
	free(log);
}

/* The log entry of live connection @number (the live list is short; the log is not). */
static struct fault_conn_log *find_log_locked(struct fault_device *fdev, uint64_t number)
{
	for (struct fault_conn *c = fdev->conns; c; c = c->next) {
		if (c->number == number)
			return c->log;
	}
	return NULL;
}

/* fault_record_conn_ended - see fault_device_internal.h. */
void fault_record_conn_ended(struct fault_device *fdev, uint64_t number, magma_status_t status)
{
	uint64_t cycle = fault_cycle_now(fdev, FAULT_IN_SERVICE);
	struct fault_conn_log *log;

	pthread_mutex_lock(&fdev->lock);
	log = find_log_locked(fdev, number);
	if (log && log->status == MAGMA_STATUS_OK)
		log->status = status;
	if (atomic_load(&fdev->awaiting_detection)) {
		for (struct fault_record *rec = fdev->records; rec; rec = rec->next) {
			bool hit = rec->hit.connection == number;

			if (!awaits_detection(rec))
				continue;
			if ((hit && (status != MAGMA_STATUS_OK ||
				     rec->fault->kind == FAULT_KILL_CLIENT)) ||
			    (!rec->hit.connection && status != MAGMA_STATUS_OK))
				detected_locked(fdev, rec, cycle);
		}
	}
	pthread_mutex_unlock(&fdev->lock);
}

/* fault_record_conn_fault - see fault_device_internal.h. */
void fault_record_conn_fault(struct fault_device *fdev, uint64_t number, uint32_t code)
{
	struct fault_conn_log *log;

	pthread_mutex_lock(&fdev->lock);
	log = find_log_locked(fdev, number);
	if (log && !log->fault_code)
		log->fault_code = code;
	pthread_mutex_unlock(&fdev->lock);
}

/* fault_record_killed - see fault_device_internal.h. */
void fault_record_killed(struct fault_device *fdev, uint64_t number, pid_t pid)
{
	bool found = false;

	pthread_mutex_lock(&fdev->lock);
	for (struct fault_conn *c = fdev->conns; c; c = c->next) {
		if (c->log && (number ? c->number == number : c->pid == pid)) {
			c->log->killed = true;
			found = true;
		}
	}
	/* The kill is quick: its connection may already have closed. Rare, so the long log. */
	for (struct fault_conn_log *log = fdev->conn_log; number && !found && log;
	     log = log->next) {
		if (log->number == number)
			log->killed = found = true;
	}
	pthread_mutex_unlock(&fdev->lock);
}

/* fault_record_sim_event - see fault_device_internal.h. */
void fault_record_sim_event(struct fault_device *fdev, const struct sim_event *sev, uint64_t cycle)
{
	bool reset = sev->type == SIM_EV_RESET && sev->value == 0;
	bool good_end = sev->type == SIM_EV_JOB_END && sev->code == 0;

	if (sev->type == SIM_EV_JOB_END && atomic_load(&fdev->awaiting_lapse)) {
		pthread_mutex_lock(&fdev->lock);
		for (struct fault_record *rec = fdev->records; rec; rec = rec->next) {
			/* The job ends faulted at any of its entries, or done at its last. */
			if (rec->lapse_last && rec->lapse_queue == sev->unit &&
			    sev->value2 >= rec->lapse_first && sev->value2 <= rec->lapse_last &&
			    (sev->code || sev->value2 == rec->lapse_last))
				lapse_end_locked(fdev, rec, sev->code != 0);
		}
		pthread_mutex_unlock(&fdev->lock);
	}

	if (reset && atomic_load(&fdev->awaiting_detection)) {
		pthread_mutex_lock(&fdev->lock);
		for (struct fault_record *rec = fdev->records; rec; rec = rec->next) {
			if (awaits_detection(rec) && reset_detects(rec->fault->kind))
				detected_locked(fdev, rec, cycle);
		}
		pthread_mutex_unlock(&fdev->lock);
	}
	if (good_end && atomic_load(&fdev->awaiting_recovery)) {
		pthread_mutex_lock(&fdev->lock);
		for (struct fault_record *rec = fdev->records; rec; rec = rec->next) {
			uint64_t detected = rec->cycle[FAULT_DETECTED];

			if (detected == FAULT_NO_TIME ||
			    rec->cycle[FAULT_RECOVERED] != FAULT_NO_TIME)
				continue;
			rec->cycle[FAULT_RECOVERED] = cycle > detected ? cycle : detected;
			rec->ns[FAULT_RECOVERED] = fault_now_ns();
			atomic_fetch_sub(&fdev->awaiting_recovery, 1);
		}
		pthread_mutex_unlock(&fdev->lock);
	}
}

/* fault_record_free_all - see fault_device_internal.h. */
void fault_record_free_all(struct fault_device *fdev)
{
	while (fdev->records) {
		struct fault_record *rec = fdev->records;

		fdev->records = rec->next;
		free(rec);
	}
	while (fdev->conn_log) {
		struct fault_conn_log *log = fdev->conn_log;

		fdev->conn_log = log->next;
		free(log);
	}
}

/* ---- The status and dump answers ---- */

/* A JSON number, or null for FAULT_NO_TIME. */
static void add_time(cJSON *obj, const char *name, uint64_t v)
{
	if (v == FAULT_NO_TIME)
		cJSON_AddNullToObject(obj, name);
	else
		cJSON_AddNumberToObject(obj, name, (double)v);
}

static const char *const moment_names[FAULT_MOMENT_COUNT] = {"fired", "applied", "detected",
							     "recovered"};

static cJSON *record_json(const struct fault_device *fdev, const struct fault_record *rec)
{
	cJSON *r = cJSON_CreateObject(), *cycles, *ns;

	if (!r)
		return NULL;
	cJSON_AddNumberToObject(r, "index", rec->index);
	cJSON_AddStringToObject(r, "fault", rec->fault->name);
	cJSON_AddStringToObject(r, "kind", fault_kind_name(rec->fault->kind));
	cJSON_AddStringToObject(r, "plan", fdev->arms[rec->arm].plan->name);
	cJSON_AddNumberToObject(r, "count", (double)rec->count);
	cJSON_AddNumberToObject(r, "connection", (double)rec->hit.connection);
	cJSON_AddNumberToObject(r, "pid", rec->hit.pid);
	cJSON_AddStringToObject(r, "comm", rec->hit.comm);
	cJSON_AddBoolToObject(r, "applied", rec->state == FAULT_REC_APPLIED);
	cJSON_AddBoolToObject(r, "pending", rec->state == FAULT_REC_PENDING);
	cJSON_AddBoolToObject(r, "lapsed", rec->lapsed);
	cycles = cJSON_AddObjectToObject(r, "cycles");
	ns = cJSON_AddObjectToObject(r, "ns");
	for (int m = 0; m < FAULT_MOMENT_COUNT && cycles && ns; m++) {
		add_time(cycles, moment_names[m], rec->cycle[m]);
		add_time(ns, moment_names[m], rec->ns[m]);
	}
	return r;
}

static cJSON *conn_json(const struct fault_conn_log *log)
{
	cJSON *c = cJSON_CreateObject();

	if (!c)
		return NULL;
	cJSON_AddNumberToObject(c, "number", (double)log->number);
	cJSON_AddNumberToObject(c, "pid", log->pid);
	cJSON_AddStringToObject(c, "comm", log->comm);
	cJSON_AddBoolToObject(c, "open", log->open);
	cJSON_AddStringToObject(c, "status",
				log->status == MAGMA_STATUS_OK ? "OK"
							       : fault_status_name(log->status));
	cJSON_AddBoolToObject(c, "killed", log->killed);
	if (!log->fault_code)
		cJSON_AddNullToObject(c, "fault");
	else
		cJSON_AddStringToObject(c, "fault",
					log->fault_code == MAGMA_SIM_FAULT_HANG
						? "HANG"
						: sim_fault_name(log->fault_code));
	return c;
}

/* The two lists (the lock held). */
static bool dump_locked(struct fault_device *fdev, cJSON *out)
{
	cJSON *conns = cJSON_AddArrayToObject(out, "connection_log");
	cJSON *firings = cJSON_AddArrayToObject(out, "firings");

	if (!conns || !firings)
		return false;
	for (const struct fault_conn_log *log = fdev->conn_log; log; log = log->next) {
		cJSON *c = conn_json(log);

		if (!c)
			return false;
		cJSON_AddItemToArray(conns, c);
	}
	for (const struct fault_record *rec = fdev->records; rec; rec = rec->next) {
		cJSON *r = record_json(fdev, rec);

		if (!r)
			return false;
		cJSON_AddItemToArray(firings, r);
	}
	return true;
}

/* fault_device_describe - see fault_device.h. */
bool fault_device_describe(struct fault_device *fdev, struct cJSON *out, bool dump)
{
	uint64_t used[MAGMA_SYSTEM_RES_COUNT];
	cJSON *conns, *faults, *live;
	bool ok = true;

	if (!fdev || !out)
		return false;
	magma_system_device_usage(fdev->dev, used);
	cJSON_AddStringToObject(out, "label", fdev->label);
	cJSON_AddNumberToObject(out, "cycle", (double)fault_cycle_now(fdev, FAULT_IN_SERVICE));
	cJSON_AddNumberToObject(out, "bus_frames", (double)sim_bus_frames_mapped(fdev->sim));
	conns = cJSON_AddObjectToObject(out, "connections");
	faults = cJSON_AddObjectToObject(out, "faults");
	live = cJSON_AddObjectToObject(out, "live");
	if (!conns || !faults || !live)
		return false;
	cJSON_AddNumberToObject(conns, "open", magma_system_device_connection_count(fdev->dev));
	cJSON_AddNumberToObject(faults, "armed", fault_device_armed(fdev));
	cJSON_AddNumberToObject(faults, "fired", (double)fault_device_fired(fdev));
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++)
		cJSON_AddNumberToObject(live, magma_system_resource_name(r), (double)used[r]);
	pthread_mutex_lock(&fdev->lock);
	cJSON_AddNumberToObject(conns, "opened", (double)fdev->connections_opened);
	if (dump)
		ok = dump_locked(fdev, out);
	pthread_mutex_unlock(&fdev->lock);
	return ok;
}

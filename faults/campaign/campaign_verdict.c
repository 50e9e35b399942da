/* SPDX-License-Identifier: MIT */
/*
 * campaign_verdict.c - deciding one point: each check named, with a one-line reason when it
 * fails or is skipped.
 *
 * Everything comes from the daemon's dump (connection_log, firings, live counts, descriptors)
 * and the exit statuses of the daemon and the witness: the command's own exit status is not a
 * check, because a client that meets a fault is expected to report it. The dump is read from
 * device 0 (a campaign runs one device). Pure; any thread.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "campaign_control.h"
#include "campaign_verdict.h"

static const char *const check_names[CAMPAIGN_CHECK_COUNT] = {
	[CAMPAIGN_CHECK_FIRED] = "fired",	[CAMPAIGN_CHECK_FINISHED] = "finished",
	[CAMPAIGN_CHECK_DAEMON] = "daemon",	[CAMPAIGN_CHECK_ISOLATION] = "isolation",
	[CAMPAIGN_CHECK_STATUS] = "status",	[CAMPAIGN_CHECK_LEAKS] = "leaks",
	[CAMPAIGN_CHECK_RECOVERY] = "recovery",
};

static void set(struct campaign_verdict *v, enum campaign_check check, enum campaign_result result,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set(struct campaign_verdict *v, enum campaign_check check, enum campaign_result result,
		const char *fmt, ...)
{
	va_list ap;

	v->checks[check].result = result;
	va_start(ap, fmt);
	vsnprintf(v->checks[check].reason, sizeof(v->checks[check].reason), fmt, ap);
	va_end(ap);
}

/* "exit 3", "signal 9" or "still running", for reasons. */
static void describe_status(int status, char *out, size_t size)
{
	if (status < 0)
		snprintf(out, size, "did not exit");
	else if (WIFEXITED(status))
		snprintf(out, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "signal %d", WTERMSIG(status));
	else
		snprintf(out, size, "status %#x", (unsigned)status);
}

static const char *string_of(const cJSON *obj, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(m) ? m->valuestring : "";
}

/* The moment @key of @obj ("cycles"/"ns" object) into *@out; false when null or absent. */
static bool moment(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(m) || m->valuedouble < 0)
		return false;
	*out = (uint64_t)m->valuedouble;
	return true;
}

/* The first applied firing of @device, else its first firing, else NULL. */
static const cJSON *main_firing(const cJSON *device)
{
	const cJSON *firings = cJSON_GetObjectItemCaseSensitive(device, "firings");
	const cJSON *f;

	cJSON_ArrayForEach(f, firings)
	{
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "applied")))
			return f;
	}
	return cJSON_GetArrayItem(firings, 0);
}

static void decide_times(const cJSON *firing, struct campaign_times *t)
{
	const cJSON *cycles = cJSON_GetObjectItemCaseSensitive(firing, "cycles");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(firing, "ns");
	uint64_t detected, recovered, ns_applied, ns_detected, ns_recovered;

	memset(t, 0, sizeof(*t));
	t->has_fired = moment(cycles, "fired", &t->fired_cycle);
	t->has_applied = moment(cycles, "applied", &t->applied_cycle);
	if (t->has_applied && moment(cycles, "detected", &detected) &&
	    detected >= t->applied_cycle) {
		t->has_detect = true;
		t->detect_cycles = detected - t->applied_cycle;
		if (moment(ns, "applied", &ns_applied) && moment(ns, "detected", &ns_detected))
			t->detect_ms = (double)(ns_detected - ns_applied) / 1e6;
		if (moment(cycles, "recovered", &recovered) && recovered >= detected) {
			t->has_recover = true;
			t->recover_cycles = recovered - detected;
			if (moment(ns, "recovered", &ns_recovered) &&
			    moment(ns, "detected", &ns_detected))
				t->recover_ms = (double)(ns_recovered - ns_detected) / 1e6;
		}
	}
}

static bool is_witness(const cJSON *conn, int witness_pid)
{
	return strcmp(string_of(conn, "comm"), "magma-witness") == 0 ||
	       (witness_pid > 0 && campaign_control_int(conn, "pid") == witness_pid);
}

static void decide_isolation(const struct campaign_observation *obs, const cJSON *device,
			     struct campaign_verdict *v)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(device, "connection_log");
	const struct campaign_witness_log *w = &obs->witness_log;
	bool device_wide = campaign_kind_is_device_wide(obs->kind);
	uint32_t witness_hurt = 0, lost_allowed = device_wide ? 1 : 0;
	const cJSON *conn;
	char how[32];

	cJSON_ArrayForEach(conn, log)
	{
		bool killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(conn, "killed"));
		const char *status = string_of(conn, "status");

		if (!killed && strcmp(status, "OK") == 0)
			continue;
		if (!is_witness(conn, obs->witness_pid))
			continue;
		if (killed || ++witness_hurt > lost_allowed) {
			set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_FAIL,
			    "witness connection %" PRId64 " (pid %" PRId64 ") ended %s%s",
			    campaign_control_int(conn, "number"), campaign_control_int(conn, "pid"),
			    killed ? "killed" : status,
			    device_wide ? " (more than the one a device-wide fault may cost)" : "");
			return;
		}
	}
	if (!obs->witness) {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_PASS, "%s", "");
		return;
	}
	describe_status(obs->witness_status, how, sizeof(how));
	if (w->mismatch || w->foreign) {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_FAIL,
		    "witness saw wrong results: %u mismatch, %u digests unlike the baseline's",
		    w->mismatch, w->foreign);
	} else if (w->lost > lost_allowed) {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_FAIL,
		    "witness lost %u round(s), first %s", w->lost, w->lost_status);
	} else if (!(obs->witness_status >= 0 && WIFEXITED(obs->witness_status) &&
		     (WEXITSTATUS(obs->witness_status) == 0 ||
		      (w->lost && WEXITSTATUS(obs->witness_status) == 3)))) {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_FAIL, "witness ended with %s", how);
	} else if (!w->summary) {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_FAIL, "witness output has no summary");
	} else {
		set(v, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_PASS, "%s", "");
	}
}

/* The status the kind promises for the hit connection, or NULL for none. */
static const char *promised_status(const struct campaign_observation *obs)
{
	switch (obs->kind) {
	case FAULT_MMU_FAULT:
	case FAULT_PERMISSION_FAULT:
	case FAULT_CP_HANG:
	case FAULT_DMA_ERROR:
		return "CONTEXT_KILLED";
	case FAULT_FAIL_CALL:
		return obs->expect_status && obs->expect_status[0] ? obs->expect_status
								   : "INTERNAL_ERROR";
	default:
		return NULL;
	}
}

/*
 * The fault report the driver sends a connection before killing it for a fault of @kind (the
 * connection log's "fault"); NULL when the kind promises none.
 */
static const char *promised_fault(enum fault_kind kind)
{
	switch (kind) {
	case FAULT_MMU_FAULT:
		return "MMU_TRANSLATION";
	case FAULT_PERMISSION_FAULT:
		return "MMU_PERMISSION";
	case FAULT_CP_HANG:
		return "HANG";
	case FAULT_DMA_ERROR:
		return "DMA_ERROR";
	default:
		return NULL;
	}
}

static void decide_status(const struct campaign_observation *obs, const cJSON *device,
			  const cJSON *firing, struct campaign_verdict *v)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(device, "connection_log");
	int64_t hit = campaign_control_int(firing, "connection");
	const char *expect = promised_status(obs);
	const cJSON *conn, *found = NULL;

	if (!expect && obs->kind != FAULT_KILL_CLIENT) {
		set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_SKIP, "%s promises no status",
		    fault_kind_name(obs->kind));
		return;
	}
	if (hit <= 0) {
		if (obs->kind == FAULT_FAIL_CALL)
			set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_SKIP, "the hit was no connection");
		else
			set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_FAIL,
			    "the firing hit no connection");
		return;
	}
	cJSON_ArrayForEach(conn, log)
	{
		if (campaign_control_int(conn, "number") == hit)
			found = conn;
	}
	if (!found) {
		set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_FAIL,
		    "hit connection %" PRId64 " is not in the connection_log", hit);
	} else if (obs->kind == FAULT_KILL_CLIENT) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(found, "killed")))
			set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_PASS, "%s", "");
		else
			set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_FAIL,
			    "connection %" PRId64 " was not killed (status %s)", hit,
			    string_of(found, "status"));
	} else if (strcmp(string_of(found, "status"), expect) != 0) {
		set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_FAIL,
		    "connection %" PRId64 " ended %s, not %s", hit, string_of(found, "status"),
		    expect);
	} else if (promised_fault(obs->kind) && cJSON_GetObjectItemCaseSensitive(found, "fault") &&
		   strcmp(string_of(found, "fault"), promised_fault(obs->kind)) != 0) {
		/* A daemon that does not report notifications has no "fault": not checked. */
		set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_FAIL,
		    "connection %" PRId64 " was told of fault %s, not %s", hit,
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(found, "fault"))
			    ? string_of(found, "fault")
			    : "none",
		    promised_fault(obs->kind));
	} else {
		set(v, CAMPAIGN_CHECK_STATUS, CAMPAIGN_PASS, "%s", "");
	}
}

static void decide_leaks(const struct campaign_observation *obs, const cJSON *device,
			 struct campaign_verdict *v)
{
	int64_t open = campaign_control_int(device, "connections.open");
	int64_t fds = campaign_control_int(obs->dump, "fds");
	char what[96];

	if (open != 0)
		set(v, CAMPAIGN_CHECK_LEAKS, CAMPAIGN_FAIL,
		    "%" PRId64 " connection(s) still open after every client ended", open);
	else if (!campaign_control_live_zero(device, what, sizeof(what)))
		set(v, CAMPAIGN_CHECK_LEAKS, CAMPAIGN_FAIL, "live %s after every client ended",
		    what);
	else if (obs->fds_before < 0 || fds != obs->fds_before)
		set(v, CAMPAIGN_CHECK_LEAKS, CAMPAIGN_FAIL,
		    "daemon holds %" PRId64 " descriptors, %" PRId64 " before any client", fds,
		    obs->fds_before);
	else
		set(v, CAMPAIGN_CHECK_LEAKS, CAMPAIGN_PASS, "%s", "");
}

static void decide_recovery(const struct campaign_observation *obs, const cJSON *firing,
			    struct campaign_verdict *v)
{
	const cJSON *cycles = cJSON_GetObjectItemCaseSensitive(firing, "cycles");
	uint64_t at;

	if (!campaign_kind_ends_work(obs->kind)) {
		set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_SKIP, "%s ends no work",
		    fault_kind_name(obs->kind));
	} else if (!moment(cycles, "detected", &at)) {
		set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_SKIP, "nothing was detected");
	} else if (!moment(cycles, "recovered", &at)) {
		if (obs->witness)
			set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_FAIL,
			    "no job completed after detection, though the witness ran after it");
		else
			set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_SKIP,
			    "nothing ran after detection (no witness)");
	} else if (obs->witness && !obs->witness_log.last_ok) {
		set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_FAIL, "the witness's final round failed");
	} else {
		set(v, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_PASS, "%s", "");
	}
}

static void decide_daemon(const struct campaign_observation *obs, struct campaign_verdict *v)
{
	char how[32];

	describe_status(obs->daemon_status, how, sizeof(how));
	if (!obs->daemon_alive)
		set(v, CAMPAIGN_CHECK_DAEMON, CAMPAIGN_FAIL, "died before SIGTERM (%s)", how);
	else if (obs->daemon_status < 0 || !WIFEXITED(obs->daemon_status) ||
		 WEXITSTATUS(obs->daemon_status) != 0)
		set(v, CAMPAIGN_CHECK_DAEMON, CAMPAIGN_FAIL, "SIGTERM ended it with %s", how);
	else
		set(v, CAMPAIGN_CHECK_DAEMON, CAMPAIGN_PASS, "%s", "");
}

void campaign_verdict_decide(const struct campaign_observation *obs, struct campaign_verdict *out)
{
	const cJSON *device = obs->dump ? campaign_control_device(obs->dump, 0) : NULL;
	const cJSON *firing = device ? main_firing(device) : NULL;
	bool reached = false;

	memset(out, 0, sizeof(*out));
	decide_daemon(obs, out);
	if (obs->hung)
		set(out, CAMPAIGN_CHECK_FINISHED, CAMPAIGN_FAIL, "hung: killed after %.0f s",
		    obs->timeout_s);
	else
		set(out, CAMPAIGN_CHECK_FINISHED, CAMPAIGN_PASS, "%s", "");
	if (!device) {
		static const enum campaign_check needs_dump[] = {
			CAMPAIGN_CHECK_FIRED, CAMPAIGN_CHECK_ISOLATION, CAMPAIGN_CHECK_STATUS,
			CAMPAIGN_CHECK_LEAKS, CAMPAIGN_CHECK_RECOVERY};

		for (size_t i = 0; i < sizeof(needs_dump) / sizeof(needs_dump[0]); i++)
			set(out, needs_dump[i], CAMPAIGN_FAIL, "no dump: %s",
			    obs->dump_error ? obs->dump_error : "no device 0");
		out->outcome = CAMPAIGN_OUTCOME_FAIL;
		return;
	}
	if (!firing) {
		set(out, CAMPAIGN_CHECK_FIRED, CAMPAIGN_SKIP, "the fault never fired");
	} else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(firing, "applied"))) {
		set(out, CAMPAIGN_CHECK_FIRED, CAMPAIGN_SKIP, "fired but never took effect (%s)",
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(firing, "lapsed"))
			    ? "its job had no COPY or FILL"
			    : "its target ran no more work");
	} else {
		set(out, CAMPAIGN_CHECK_FIRED, CAMPAIGN_PASS, "%s", "");
		reached = true;
	}
	decide_isolation(obs, device, out);
	decide_leaks(obs, device, out);
	if (reached) {
		decide_status(obs, device, firing, out);
		decide_recovery(obs, firing, out);
		decide_times(firing, &out->times);
	} else {
		set(out, CAMPAIGN_CHECK_STATUS, CAMPAIGN_SKIP, "not reached");
		set(out, CAMPAIGN_CHECK_RECOVERY, CAMPAIGN_SKIP, "not reached");
		if (firing)
			decide_times(firing, &out->times);
	}
	out->outcome = reached ? CAMPAIGN_OUTCOME_PASS : CAMPAIGN_OUTCOME_NOT_REACHED;
	for (int i = 0; i < CAMPAIGN_CHECK_COUNT; i++) {
		if (out->checks[i].result == CAMPAIGN_FAIL)
			out->outcome = CAMPAIGN_OUTCOME_FAIL;
	}
}

const char *campaign_check_name(enum campaign_check check)
{
	return (unsigned)check < CAMPAIGN_CHECK_COUNT ? check_names[check] : NULL;
}

const char *campaign_result_name(enum campaign_result result)
{
	return result == CAMPAIGN_PASS ? "pass" : result == CAMPAIGN_FAIL ? "fail" : "skip";
}

const char *campaign_outcome_name(enum campaign_outcome outcome)
{
	return outcome == CAMPAIGN_OUTCOME_PASS	  ? "pass"
	       : outcome == CAMPAIGN_OUTCOME_FAIL ? "fail"
						  : "not reached";
}

bool campaign_kind_is_device_wide(enum fault_kind kind)
{
	return kind == FAULT_RESET_FAILURE || kind == FAULT_IRQ_DELAY || kind == FAULT_IRQ_LOSS ||
	       kind == FAULT_MODEL_ALLOC_FAILURE;
}

bool campaign_kind_ends_work(enum fault_kind kind)
{
	switch (kind) {
	case FAULT_MMU_FAULT:
	case FAULT_PERMISSION_FAULT:
	case FAULT_CP_HANG:
	case FAULT_DMA_ERROR:
	case FAULT_MODEL_ALLOC_FAILURE:
	case FAULT_FAIL_ALLOC:
	case FAULT_FAIL_CALL:
	case FAULT_KILL_CLIENT:
		return true;
	default:
		return false;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * timeline_check.c - see timeline_check.h. Perfetto's rules as read from its JSON importer and
 * slice tracker: timestamps are microseconds turned into integer nanoseconds (rounded), a slice
 * is [ts, ts + dur), one that ends exactly where a new one begins is closed unless both are
 * 0 long (those stack), a slice that begins inside the open one and ends after it is dropped,
 * and a v2 flow binds to the slice carrying it (flow_out: start, flow_in: end, both: step).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "timeline_check.h"

#define CHECK_MAX_TRACKS   512
#define CHECK_MAX_DEPTH	   32
#define CHECK_MAX_FLOWS	   65536
#define CHECK_MAX_COUNTERS 64

struct check_slice {
	int64_t ts;
	int64_t end;
	const char *cat;
};

struct check_track {
	double pid;
	double tid;
	bool named;
	bool used;
	struct check_slice stack[CHECK_MAX_DEPTH];
	int depth;
};

struct check_counter {
	double pid;
	const char *name;
	int64_t last;
};

struct check {
	struct timeline_stats *st;
	const char *path;
	struct check_track tracks[CHECK_MAX_TRACKS];
	int track_count;
	double pids[16];
	bool pid_named[16];
	int pid_count;
	uint8_t flow_state[CHECK_MAX_FLOWS]; /* 0 unseen, 1 open, 2 ended */
	struct check_counter counters[CHECK_MAX_COUNTERS];
	int counter_count;
	int64_t last_ts;
};

static void problem(struct check *c, int index, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct check *c, int index, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: event %d: %s\n", c->path, index, msg);
	if (!c->st->problems++)
		snprintf(c->st->first_problem, sizeof(c->st->first_problem), "event %d: %s", index,
			 msg);
}

static int64_t to_ns(const cJSON *v)
{
	return (int64_t)llround(v->valuedouble * 1000.0);
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static struct check_track *track_of(struct check *c, double pid, double tid)
{
	for (int i = 0; i < c->track_count; i++)
		if (c->tracks[i].pid == pid && c->tracks[i].tid == tid)
			return &c->tracks[i];
	if (c->track_count == CHECK_MAX_TRACKS)
		return NULL;
	c->tracks[c->track_count] = (struct check_track){.pid = pid, .tid = tid};
	return &c->tracks[c->track_count++];
}

static bool *pid_named(struct check *c, double pid)
{
	for (int i = 0; i < c->pid_count; i++)
		if (c->pids[i] == pid)
			return &c->pid_named[i];
	if (c->pid_count == 16)
		return NULL;
	c->pids[c->pid_count] = pid;
	c->pid_named[c->pid_count] = false;
	return &c->pid_named[c->pid_count++];
}

/* A metadata event: names count once they are non-empty strings. */
static void check_meta(struct check *c, int index, const cJSON *ev, double pid, const cJSON *tid)
{
	const char *what = str(ev, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");
	const char *name = str(args, "name");
	struct check_track *t;
	bool *pn;

	if (!what || (strcmp(what, "process_name") && strcmp(what, "thread_name")))
		return;
	if (!name || !*name) {
		problem(c, index, "%s without a name", what);
		return;
	}
	if (!strcmp(what, "process_name")) {
		pn = pid_named(c, pid);
		if (pn)
			*pn = true;
		return;
	}
	if (!cJSON_IsNumber(tid)) {
		problem(c, index, "thread_name without a tid");
		return;
	}
	t = track_of(c, pid, tid->valuedouble);
	if (t)
		t->named = true;
	if (pid == 2)
		c->st->contexts++;
	else if (!strncmp(name, "queue ", 6))
		c->st->queues++;
}

/*
 * Perfetto's slice stack: closes what ended before [@ts, @end), then opens it. False when
 * Perfetto would drop it.
 */
static bool check_nest(struct check *c, int index, struct check_track *t, int64_t ts, int64_t end,
		       const char *cat)
{
	while (t->depth) {
		const struct check_slice *top = &t->stack[t->depth - 1];
		bool both_zero = top->end == top->ts && end == ts;

		if (top->end > ts || (top->end == ts && both_zero))
			break;
		t->depth--;
	}
	if (t->depth && end > t->stack[t->depth - 1].end) {
		problem(c, index, "%s [%lld, %lld) overlaps %s [%lld, %lld): Perfetto drops it",
			cat, (long long)ts, (long long)end, t->stack[t->depth - 1].cat,
			(long long)t->stack[t->depth - 1].ts,
			(long long)t->stack[t->depth - 1].end);
		return false;
	}
	if (!strcmp(cat, "command")) {
		const struct check_slice *parent = t->depth ? &t->stack[t->depth - 1] : NULL;

		if (!parent || strcmp(parent->cat, "job") || ts < parent->ts || end > parent->end)
			problem(c, index, "command at %lld not inside a job on its track",
				(long long)ts);
	}
	if (t->depth == CHECK_MAX_DEPTH) {
		problem(c, index, "nesting deeper than %d", CHECK_MAX_DEPTH);
		return false;
	}
	if ((unsigned int)t->depth > c->st->max_depth)
		c->st->max_depth = (unsigned int)t->depth;
	t->stack[t->depth++] = (struct check_slice){ts, end, cat};
	return true;
}

/* The v2 flow of slice @ev: start, steps and end in that order, once each id. */
static void check_flow(struct check *c, int index, const cJSON *ev)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "bind_id");
	bool in = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "flow_in"));
	bool out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "flow_out"));
	uint8_t *state;

	if (!id)
		return;
	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble >= CHECK_MAX_FLOWS) {
		problem(c, index, "bind_id is not a small positive number");
		return;
	}
	state = &c->flow_state[(int)id->valuedouble];
	if (!in && !out)
		problem(c, index, "bind_id %d without flow_in or flow_out", (int)id->valuedouble);
	else if (out && !in && *state != 0)
		problem(c, index, "flow %d starts twice", (int)id->valuedouble);
	else if (in && *state != 1)
		problem(c, index, "flow %d continues without a start", (int)id->valuedouble);
	if (out && !in)
		*state = 1;
	else if (in && out)
		c->st->flow_steps++;
	else if (in && *state == 1) {
		*state = 2;
		c->st->flows++;
	}
}

/* A counter sample: numeric args, strictly later than the counter's last one. */
static void check_counter(struct check *c, int index, const cJSON *ev, double pid, int64_t ts)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args"), *a;
	const char *name = str(ev, "name");
	struct check_counter *k = NULL;

	if (!cJSON_IsObject(args) || !args->child)
		problem(c, index, "counter without args");
	cJSON_ArrayForEach(a, args)
	{
		if (!cJSON_IsNumber(a))
			problem(c, index, "counter arg %s is not a number", a->string);
	}
	for (int i = 0; i < c->counter_count; i++)
		if (c->counters[i].pid == pid && !strcmp(c->counters[i].name, name))
			k = &c->counters[i];
	if (!k && c->counter_count < CHECK_MAX_COUNTERS) {
		k = &c->counters[c->counter_count++];
		*k = (struct check_counter){pid, name, INT64_MIN};
	}
	if (k && ts <= k->last)
		problem(c, index, "counter %s does not move forward in time", name);
	if (k)
		k->last = ts;
	if (!strcmp(name, "busy")) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(args, "queues");

		c->st->busy_samples++;
		if (cJSON_IsNumber(q) && q->valuedouble > c->st->max_busy)
			c->st->max_busy = (unsigned int)q->valuedouble;
	} else if (!strcmp(name, "power")) {
		c->st->power_samples++;
	}
}

static void count_slice(struct check *c, const cJSON *ev, const char *cat, double pid, double tid)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "clamped")))
		c->st->clamped++;
	if (!strcmp(cat, "job") && pid == 1) {
		c->st->jobs++;
	} else if (!strcmp(cat, "job")) {
		c->st->job_copies++;
		if (tid >= 2000 && tid < 2000 + TIMELINE_CHECK_CONTEXTS)
			c->st->ctx_jobs[(int)tid - 2000]++;
	} else if (!strcmp(cat, "command")) {
		c->st->commands++;
	} else if (!strcmp(cat, "submit")) {
		c->st->submits++;
	} else if (!strcmp(cat, "done")) {
		c->st->dones++;
	} else if (!strcmp(cat, "reset")) {
		c->st->resets++;
	}
}

/* One event that is not metadata. */
static void check_event(struct check *c, int index, const cJSON *ev, double pid, const cJSON *tid)
{
	const char *ph = str(ev, "ph"), *name = str(ev, "name"), *cat = str(ev, "cat");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "ts");
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(ev, "dur");
	const char *scope = str(ev, "s");
	struct check_track *t = NULL;
	int64_t ns;

	if (!name || !*name || !cJSON_IsNumber(ts)) {
		problem(c, index, "event without a name or ts");
		return;
	}
	cat = cat ? cat : "";
	ns = to_ns(ts);
	if (ns < c->last_ts)
		problem(c, index, "ts goes backwards");
	c->last_ts = ns;
	if (*ph == 'C') {
		check_counter(c, index, ev, pid, ns);
		return;
	}
	if (*ph == 'i' && scope && !strcmp(scope, "g")) {
		c->st->global_instants++;
		return;
	}
	if (*ph != 'X' && *ph != 'i') {
		problem(c, index, "unexpected phase %s", ph);
		return;
	}
	if (!cJSON_IsNumber(tid) || !(t = track_of(c, pid, tid->valuedouble))) {
		problem(c, index, "%s without a track", name);
		return;
	}
	t->used = true;
	if (*ph == 'i') {
		c->st->faults += !strcmp(cat, "fault");
		c->st->irqs += !strcmp(cat, "irq");
		check_nest(c, index, t, ns, ns, cat);
		return;
	}
	if (!cJSON_IsNumber(dur) || dur->valuedouble < 0) {
		problem(c, index, "slice %s without a duration", name);
		return;
	}
	count_slice(c, ev, cat, pid, tid->valuedouble);
	if (check_nest(c, index, t, ns, ns + to_ns(dur), cat))
		check_flow(c, index, ev); /* a flow binds to the slice that carries it */
}

/* timeline_check - see timeline_check.h. */
unsigned int timeline_check(const char *path, struct timeline_stats *st)
{
	struct check *c = calloc(1, sizeof(*c));
	cJSON *root = NULL, *ev;
	const cJSON *events;
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");
	int index = 0;

	memset(st, 0, sizeof(*st));
	if (!c) {
		st->problems = 1;
		goto out;
	}
	c->st = st;
	c->path = path;
	c->last_ts = INT64_MIN;
	if (!f || getdelim(&text, &cap, '\0', f) <= 0 || !(root = cJSON_Parse(text))) {
		problem(c, -1, "cannot read or parse the file");
		goto out;
	}
	events = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
	if (!cJSON_IsArray(events))
		problem(c, -1, "no traceEvents array");
	cJSON_ArrayForEach(ev, events)
	{
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ev, "pid");
		const cJSON *tid = cJSON_GetObjectItemCaseSensitive(ev, "tid");
		const char *ph = str(ev, "ph");

		if (!ph || !cJSON_IsNumber(pid)) {
			problem(c, index, "event without ph or pid");
		} else if (*ph == 'M') {
			check_meta(c, index, ev, pid->valuedouble, tid);
		} else {
			pid_named(c, pid->valuedouble); /* the process must be named */
			check_event(c, index, ev, pid->valuedouble, tid);
		}
		index++;
	}
	for (int i = 0; i < c->track_count; i++)
		if (c->tracks[i].used && !c->tracks[i].named)
			problem(c, -1, "track pid %g tid %g has no thread_name", c->tracks[i].pid,
				c->tracks[i].tid);
	for (int i = 0; i < c->pid_count; i++)
		if (!c->pid_named[i])
			problem(c, -1, "process %g has no process_name", c->pids[i]);
	for (int i = 0; i < CHECK_MAX_FLOWS; i++)
		if (c->flow_state[i] == 1)
			problem(c, -1, "flow %d has no end", i);
out:
	if (f)
		fclose(f);
	cJSON_Delete(root);
	free(text);
	free(c);
	return st->problems;
}

/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline.c - Chrome Trace Event JSON from sim device events (see trace_timeline.h).
 *
 * Events are kept in a growing array of compact records and turned into JSON at write time: a
 * JOB_START opens a job on its queue's track and the matching JOB_END (same queue) closes it as
 * one "X" event; a job still open at the end is written with the last cycle seen.
 *
 * Context tracks: the replay also adds one "submit" record per client submission (recorded
 * connection handle and context id) before sending it, in the same array, so submissions and
 * device events are in the order they happened. At write time each job (a JOB_START with a new
 * AS slot and sequence number on its queue; further entries of the same job share both) is
 * given the oldest unmatched submission of the connection last seen on that AS slot, or, when
 * that connection has none pending, the oldest unmatched submission of any connection, whose
 * connection is then bound to the slot (an AS slot is one connection's address space while it is
 * bound). The job is then also drawn on its context's track (tid 2000 + n, named
 * "context C (connection H)"). This assumes msd-sim's one job per submission; jobs without a
 * pending submission (none recorded: the recording-side timeline) appear on queue tracks only.
 * Any thread: a mutex serialises all calls (device events arrive on the device thread,
 * submissions on the replay thread).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "traces/trace_timeline.h"

#define TIMELINE_MAX_QUEUES   64
#define TIMELINE_MAX_SLOTS    64
#define TIMELINE_MAX_CONTEXTS 256
#define TIMELINE_CTX_TID      2000
#define TIMELINE_SUBMIT	      0xffffffffu /* record type: value = connection, code = context */
#define TIMELINE_CANCELLED    0xfffffffeu /* a submit record whose submission failed */

struct timeline_rec {
	uint64_t cycle;
	uint64_t value;
	uint64_t value2;
	uint32_t type;
	uint32_t unit;
	uint32_t code;
};

/* All fields below @lock: guarded. */
struct trace_timeline {
	pthread_mutex_t lock;
	struct timeline_rec *recs;
	size_t count;
	size_t cap;
};

/* trace_timeline_create - see trace_timeline.h. */
struct trace_timeline *trace_timeline_create(void)
{
	struct trace_timeline *tl = calloc(1, sizeof(*tl));

	if (tl && pthread_mutex_init(&tl->lock, NULL)) {
		free(tl);
		return NULL;
	}
	return tl;
}

/* Appends @rec; returns its index + 1, or 0 when out of memory. tl->lock held. */
static size_t timeline_push_locked(struct trace_timeline *tl, const struct timeline_rec *rec)
{
	if (tl->count == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 1024;
		struct timeline_rec *r = realloc(tl->recs, cap * sizeof(*r));

		if (!r)
			return 0;
		tl->recs = r;
		tl->cap = cap;
	}
	tl->recs[tl->count++] = *rec;
	return tl->count;
}

/* trace_timeline_add - see trace_timeline.h. Drops the event when out of memory. */
void trace_timeline_add(struct trace_timeline *tl, const struct sim_event *ev)
{
	struct timeline_rec rec = {
		.cycle = ev->cycle,
		.value = ev->value,
		.value2 = ev->value2,
		.type = ev->type,
		.unit = ev->unit,
		.code = ev->code,
	};

	if (!tl)
		return;
	switch (ev->type) {
	case SIM_EV_JOB_START:
	case SIM_EV_JOB_END:
	case SIM_EV_IRQ_RAISE:
	case SIM_EV_FAULT:
	case SIM_EV_POWER:
	case SIM_EV_RESET:
		break;
	default:
		return;
	}
	pthread_mutex_lock(&tl->lock);
	timeline_push_locked(tl, &rec);
	pthread_mutex_unlock(&tl->lock);
}

/* trace_timeline_submit - see trace_timeline.h. */
size_t trace_timeline_submit(struct trace_timeline *tl, uint64_t connection, uint32_t context)
{
	struct timeline_rec rec = {.type = TIMELINE_SUBMIT, .value = connection, .code = context};
	size_t token;

	if (!tl)
		return 0;
	pthread_mutex_lock(&tl->lock);
	token = timeline_push_locked(tl, &rec);
	pthread_mutex_unlock(&tl->lock);
	return token;
}

/* trace_timeline_cancel - see trace_timeline.h. */
void trace_timeline_cancel(struct trace_timeline *tl, size_t token)
{
	if (!tl || !token)
		return;
	pthread_mutex_lock(&tl->lock);
	if (token <= tl->count && tl->recs[token - 1].type == TIMELINE_SUBMIT)
		tl->recs[token - 1].type = TIMELINE_CANCELLED;
	pthread_mutex_unlock(&tl->lock);
}

/* Context matching state of one write pass (see the file comment). */
struct timeline_ctx_state {
	struct {
		uint64_t connection;
		uint32_t context;
	} ctxs[TIMELINE_MAX_CONTEXTS];
	uint32_t ctx_count;
	size_t *pending; /* indices of unmatched submit records, oldest first */
	size_t pending_count;
	uint64_t slot_conn[TIMELINE_MAX_SLOTS];
	bool slot_bound[TIMELINE_MAX_SLOTS];
	/* per queue: the current job's AS slot, sequence number and context (-1: none) */
	uint32_t job_slot[TIMELINE_MAX_QUEUES];
	uint64_t job_seq[TIMELINE_MAX_QUEUES];
	int job_ctx[TIMELINE_MAX_QUEUES];
	bool job_known[TIMELINE_MAX_QUEUES];
};

/* The context index of submit record @rec, added when new; -1 when the table is full. */
static int timeline_ctx_index(struct timeline_ctx_state *cs, const struct timeline_rec *rec)
{
	for (uint32_t i = 0; i < cs->ctx_count; i++)
		if (cs->ctxs[i].connection == rec->value && cs->ctxs[i].context == rec->code)
			return (int)i;
	if (cs->ctx_count == TIMELINE_MAX_CONTEXTS)
		return -1;
	cs->ctxs[cs->ctx_count].connection = rec->value;
	cs->ctxs[cs->ctx_count].context = rec->code;
	return (int)cs->ctx_count++;
}

/* The context of the job that JOB_START @r starts on queue @q (-1: unknown). */
static int timeline_job_ctx(const struct trace_timeline *tl, struct timeline_ctx_state *cs,
			    uint32_t q, const struct timeline_rec *r)
{
	uint32_t slot = r->code < TIMELINE_MAX_SLOTS ? r->code : 0;
	size_t pick = cs->pending_count;
	const struct timeline_rec *sub;

	if (cs->job_known[q] && cs->job_slot[q] == r->code && cs->job_seq[q] == r->value2)
		return cs->job_ctx[q]; /* a further entry of the same job */
	cs->job_known[q] = true;
	cs->job_slot[q] = r->code;
	cs->job_seq[q] = r->value2;
	cs->job_ctx[q] = -1;
	for (size_t i = 0; cs->slot_bound[slot] && i < cs->pending_count; i++) {
		if (tl->recs[cs->pending[i]].value == cs->slot_conn[slot]) {
			pick = i;
			break;
		}
	}
	if (pick == cs->pending_count && cs->pending_count)
		pick = 0;
	if (pick == cs->pending_count)
		return -1;
	sub = &tl->recs[cs->pending[pick]];
	cs->slot_conn[slot] = sub->value;
	cs->slot_bound[slot] = true;
	cs->job_ctx[q] = timeline_ctx_index(cs, sub);
	memmove(&cs->pending[pick], &cs->pending[pick + 1],
		(cs->pending_count - pick - 1) * sizeof(*cs->pending));
	cs->pending_count--;
	return cs->job_ctx[q];
}

static double ts(uint64_t cycle)
{
	return (double)cycle / 1000.0;
}

/* trace_timeline_write - see trace_timeline.h. */
int trace_timeline_write(struct trace_timeline *tl, const char *path)
{
	const struct timeline_rec *open[TIMELINE_MAX_QUEUES] = {0};
	struct timeline_ctx_state *cs = calloc(1, sizeof(*cs));
	int open_ctx[TIMELINE_MAX_QUEUES];
	uint64_t last = 0;
	FILE *f;
	const char *sep = "";
	int ret = 0;

	if (!cs)
		return -ENOMEM;
	for (uint32_t q = 0; q < TIMELINE_MAX_QUEUES; q++)
		open_ctx[q] = -1;
	if (tl)
		pthread_mutex_lock(&tl->lock);
	cs->pending = malloc(sizeof(size_t) * (tl && tl->count ? tl->count : 1));
	f = cs->pending ? fopen(path, "we") : NULL;
	if (!f) {
		ret = cs->pending ? -errno : -ENOMEM;
		goto out_unlock;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"GPU cycles / 1000\"},"
	      "\"traceEvents\":[\n",
	      f);
	fprintf(f,
		"{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"sim GPU\"}}");
	sep = ",\n";
	for (size_t i = 0; tl && i < tl->count; i++) {
		const struct timeline_rec *r = &tl->recs[i];
		uint32_t q = r->unit < TIMELINE_MAX_QUEUES ? r->unit : 0;

		if (r->type == TIMELINE_SUBMIT) {
			cs->pending[cs->pending_count++] = i;
			continue;
		}
		if (r->type == TIMELINE_CANCELLED)
			continue;
		last = r->cycle;
		switch (r->type) {
		case SIM_EV_JOB_START:
			open[q] = r;
			open_ctx[q] = timeline_job_ctx(tl, cs, q, r);
			break;
		case SIM_EV_JOB_END:
			if (!open[q])
				break;
			fprintf(f,
				"%s{\"ph\":\"X\",\"pid\":1,\"tid\":%" PRIu32
				",\"name\":\"job %" PRIu64
				"\",\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"as\":%" PRIu32
				",\"cmd_va\":%" PRIu64 ",\"fault\":%" PRIu32 "}}",
				sep, q, r->value2, ts(open[q]->cycle),
				ts(r->cycle - open[q]->cycle), open[q]->code, r->value, r->code);
			if (open_ctx[q] >= 0)
				fprintf(f,
					"%s{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"name\":\"job %" PRIu64
					"\",\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"queue\":%" PRIu32
					",\"as\":%" PRIu32 ",\"fault\":%" PRIu32 "}}",
					sep, TIMELINE_CTX_TID + open_ctx[q], r->value2,
					ts(open[q]->cycle), ts(r->cycle - open[q]->cycle), q,
					open[q]->code, r->code);
			open[q] = NULL;
			break;
		case SIM_EV_IRQ_RAISE:
			fprintf(f,
				"%s{\"ph\":\"i\",\"s\":\"p\",\"pid\":1,\"tid\":1000,\"name\":\"irq\","
				"\"ts\":%.3f,\"args\":{\"cause\":%" PRIu32 "}}",
				sep, ts(r->cycle), r->code);
			break;
		case SIM_EV_FAULT:
			fprintf(f,
				"%s{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%" PRIu32
				",\"name\":\"fault\",\"ts\":%.3f,\"args\":{\"code\":%" PRIu32
				",\"va\":%" PRIu64 ",\"as\":%" PRIu64 "}}",
				sep, q, ts(r->cycle), r->code, r->value, r->value2);
			break;
		case SIM_EV_POWER:
			fprintf(f,
				"%s{\"ph\":\"C\",\"pid\":1,\"name\":\"power\",\"ts\":%.3f,"
				"\"args\":{\"cores_ready\":%" PRIu32 ",\"divider\":%" PRIu64 "}}",
				sep, ts(r->cycle), r->code, r->value);
			break;
		case SIM_EV_RESET:
			fprintf(f,
				"%s{\"ph\":\"i\",\"s\":\"p\",\"pid\":1,\"tid\":1000,\"name\":\"reset %s\","
				"\"ts\":%.3f}",
				sep, r->value ? "done" : "begin", ts(r->cycle));
			break;
		}
	}
	for (uint32_t q = 0; q < TIMELINE_MAX_QUEUES; q++)
		if (open[q])
			fprintf(f,
				"%s{\"ph\":\"X\",\"pid\":1,\"tid\":%" PRIu32
				",\"name\":\"job %" PRIu64
				" (unfinished)\",\"ts\":%.3f,\"dur\":%.3f}",
				sep, q, open[q]->value2, ts(open[q]->cycle),
				ts(last - open[q]->cycle));
	for (uint32_t i = 0; i < cs->ctx_count; i++)
		fprintf(f,
			"%s{\"ph\":\"M\",\"pid\":1,\"tid\":%" PRIu32
			",\"name\":\"thread_name\",\"args\":{\"name\":\"context %" PRIu32
			" (connection %" PRIu64 ")\"}}",
			sep, TIMELINE_CTX_TID + i, cs->ctxs[i].context, cs->ctxs[i].connection);
	fputs("\n]}\n", f);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
out_unlock:
	if (tl)
		pthread_mutex_unlock(&tl->lock);
	free(cs->pending);
	free(cs);
	return ret;
}

/* trace_timeline_destroy - see trace_timeline.h. */
void trace_timeline_destroy(struct trace_timeline *tl)
{
	if (!tl)
		return;
	pthread_mutex_destroy(&tl->lock);
	free(tl->recs);
	free(tl);
}

/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline.c - collecting a timeline (see trace_timeline.h); trace_timeline_build.c turns
 * the records into items and trace_timeline_json.c writes those.
 *
 * Device events are kept in a growing array of compact records, and so are the client's
 * submissions, noted by the replay just before it sends each one (recorded connection handle and
 * context id, VA of the first command buffer). Submissions and device events are therefore in
 * the order they happened. Any thread: a mutex serialises all calls (device events arrive on the
 * device thread, submissions on the replay thread); a write builds and writes under it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sim/sim.h"
#include "trace_timeline_internal.h"
#include "traces/trace_timeline.h"

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
	case SIM_EV_CMD:
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
size_t trace_timeline_submit(struct trace_timeline *tl, uint64_t connection, uint32_t context,
			     uint64_t cmd_va)
{
	struct timeline_rec rec = {.type = TIMELINE_REC_SUBMIT,
				   .value = connection,
				   .value2 = cmd_va,
				   .code = context};
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
	if (token <= tl->count && tl->recs[token - 1].type == TIMELINE_REC_SUBMIT)
		tl->recs[token - 1].type = TIMELINE_REC_CANCELLED;
	pthread_mutex_unlock(&tl->lock);
}

/* trace_timeline_write - see trace_timeline.h. */
int trace_timeline_write(struct trace_timeline *tl, const char *path)
{
	struct timeline_build *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	if (tl)
		pthread_mutex_lock(&tl->lock);
	ret = tl ? timeline_build(tl->recs, tl->count, b) : 0;
	if (!ret)
		ret = timeline_json_write(b, path);
	if (tl)
		pthread_mutex_unlock(&tl->lock);
	free(b->items);
	free(b);
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

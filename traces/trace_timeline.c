/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline.c - Chrome Trace Event JSON from sim device events (see trace_timeline.h).
 *
 * Events are kept in a growing array of compact records and turned into JSON at write time: a
 * JOB_START opens a job on its queue's track and the matching JOB_END (same queue) closes it as
 * one "X" event; a job still open at the end is written with the last cycle seen. Caller
 * serialises all calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "traces/trace_timeline.h"

#define TIMELINE_MAX_QUEUES 64

struct timeline_rec {
	uint64_t cycle;
	uint64_t value;
	uint64_t value2;
	uint32_t type;
	uint32_t unit;
	uint32_t code;
};

struct trace_timeline {
	struct timeline_rec *recs;
	size_t count;
	size_t cap;
};

/* trace_timeline_create - see trace_timeline.h. */
struct trace_timeline *trace_timeline_create(void)
{
	return calloc(1, sizeof(struct trace_timeline));
}

/* trace_timeline_add - see trace_timeline.h. Drops the event when out of memory. */
void trace_timeline_add(struct trace_timeline *tl, const struct sim_event *ev)
{
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
	if (tl->count == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 1024;
		struct timeline_rec *r = realloc(tl->recs, cap * sizeof(*r));

		if (!r)
			return;
		tl->recs = r;
		tl->cap = cap;
	}
	tl->recs[tl->count++] = (struct timeline_rec){
		.cycle = ev->cycle,
		.value = ev->value,
		.value2 = ev->value2,
		.type = ev->type,
		.unit = ev->unit,
		.code = ev->code,
	};
}

static double ts(uint64_t cycle)
{
	return (double)cycle / 1000.0;
}

/* trace_timeline_write - see trace_timeline.h. */
int trace_timeline_write(const struct trace_timeline *tl, const char *path)
{
	const struct timeline_rec *open[TIMELINE_MAX_QUEUES] = {0};
	uint64_t last = 0;
	FILE *f = fopen(path, "we");
	const char *sep = "";
	int ret = 0;

	if (!f)
		return -errno;
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"GPU cycles / 1000\"},"
	      "\"traceEvents\":[\n",
	      f);
	fprintf(f,
		"{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"sim GPU\"}}");
	sep = ",\n";
	for (size_t i = 0; tl && i < tl->count; i++) {
		const struct timeline_rec *r = &tl->recs[i];
		uint32_t q = r->unit < TIMELINE_MAX_QUEUES ? r->unit : 0;

		last = r->cycle;
		switch (r->type) {
		case SIM_EV_JOB_START:
			open[q] = r;
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
	fputs("\n]}\n", f);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* trace_timeline_destroy - see trace_timeline.h. */
void trace_timeline_destroy(struct trace_timeline *tl)
{
	if (!tl)
		return;
	free(tl->recs);
	free(tl);
}

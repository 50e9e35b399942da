/* SPDX-License-Identifier: MIT */
/*
 * trace_diff_internal.h - what magma-trace diff's two files share: the state of a comparison
 * (trace_diff.c reads the traces and decides what to compare; trace_diff_values.c compares two
 * values and numbers handles and ids). Single-threaded.
 */
#ifndef TRACES_TRACE_DIFF_INTERNAL_H
#define TRACES_TRACE_DIFF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "trace_tool.h"
#include "traces/trace_replay.h"

#define DIFF_MAX_FIELDS 8 /* differing fields reported for one event */

enum diff_kind {
	DK_LITERAL,
	DK_IGNORED,
	DK_DEVICE,
	DK_CONNECTION,
	DK_CONTEXT,
	DK_BUFFER,
	DK_BUFFER_ID,
	DK_SEMAPHORE,
	DK_SEMAPHORE_ID,
	DK_HANDLE,
	DK_POOL,
	DK_SUBMISSION,
	DK_COUNT,
};

/* A completion one side read that the other side has not matched yet (take_completion). */
struct diff_pending {
	uint64_t n;	  /* its submission's position among the compared events */
	uint64_t index;	  /* its event index ... */
	uint64_t line_no; /* ... and line */
	char *text;	  /* its line, parsed again when compared */
};

struct diff_side {
	const char *name;	   /* "A" or "B" */
	struct replay_vec pending; /* struct diff_pending */
	struct tt_reader rd;
	struct replay_map ord[DK_COUNT]; /* value -> number by order of appearance */
	uint64_t next[DK_COUNT];
	struct replay_map blobs; /* blob index */
	uint64_t compared;	 /* events compared so far */
	uint64_t calls, completions, devs;
};

/* The last calls compared that different threads of the client made (note_threads). */
struct diff_apart {
	bool seen;
	uint64_t a_index, b_index, a_thread, b_thread;
};

struct diff {
	struct diff_side a, b;
	struct diff_apart apart;
	bool dev;
	const char *call; /* of the events being compared */
	unsigned fields;  /* differences found in them */
	char report[DIFF_MAX_FIELDS][600];
	bool oom;
};

/* Compares @va (A's) and @vb (B's) at @path as values of @kind into df->report. */
void diff_compare_value(struct diff *df, const char *path, const cJSON *va, const cJSON *vb,
			enum diff_kind kind, bool is_out);
/* Compares every member of objects @oa and @ob (A's, B's) at @path into df->report. */
void diff_compare_object(struct diff *df, const char *path, const cJSON *oa, const cJSON *ob,
			 bool is_out);
/* Compares completion @ea (A's) with @eb (B's) of the same submission into df->report. */
void diff_compare_completions(struct diff *df, const cJSON *ea, const cJSON *eb);
/* One more difference into df->report (printf style). */
void diff_add_report(struct diff *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TRACES_TRACE_DIFF_INTERNAL_H */

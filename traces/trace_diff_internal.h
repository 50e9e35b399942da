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

/* An event being compared: its tree (the reader's, or parsed again from a queue) and place. */
struct diff_view {
	const cJSON *ev;
	enum tt_type type;
	uint64_t index, line_no;
};

/* An event read but not compared yet (its thread is behind on the other side), or a completion
 * not matched yet: its line, parsed again when compared. */
struct diff_item {
	char *text;
	enum tt_type type;
	uint64_t index, line_no;
	/* completions: the submission's event, and its position among the compared events
	 * (UINT64_MAX while that submission is not compared yet) */
	uint64_t submission, n;
};

/* The events of one thread of the client (0: device events) waiting on one side. */
struct diff_queue {
	uint64_t key;
	uint64_t sig; /* diff_signature of the thread's first event */
	bool paired;  /* with the other side's thread @partner */
	uint64_t partner;
	struct replay_vec items; /* struct diff_item */
	size_t head;		 /* the first not compared */
};

struct diff_side {
	const char *name; /* "A" or "B" */
	struct tt_reader rd;
	bool ended;			 /* its end event was read */
	struct diff_view cur;		 /* the event being compared */
	struct replay_vec queues;	 /* struct diff_queue, one per thread seen */
	struct replay_map queue_of;	 /* thread key -> index into queues */
	struct replay_vec pending;	 /* struct diff_item: completions not matched yet */
	struct replay_map ord[DK_COUNT]; /* value -> number by order of appearance */
	uint64_t next[DK_COUNT];
	struct replay_map blobs; /* blob index */
	uint64_t compared;	 /* events compared so far */
	uint64_t calls, completions;
};

struct diff {
	struct diff_side a, b;
	bool dev;
	const char *call; /* of the events being compared */
	unsigned fields;  /* differences found in them */
	char report[DIFF_MAX_FIELDS][600];
	bool oom;
};

/* Compares @va (A's) and @vb (B's) at @path as values of @kind into df->report. */
void diff_compare_value(struct diff *df, const char *path, const cJSON *va, const cJSON *vb,
			enum diff_kind kind, bool is_out);
/* Compares completion @ea (A's) with @eb (B's) of the same submission into df->report. */
void diff_compare_completions(struct diff *df, const cJSON *ea, const cJSON *eb);
/*
 * A hash of what numbering leaves alone in event @ev (of @type): its call, its arguments of no
 * handle or id kind (sizes, flags, contents digests) and its status. Two threads whose first
 * calls have the same signature may be the same thread of the program (trace_diff.c pairs them).
 */
uint64_t diff_signature(enum tt_type type, const cJSON *ev);
/* One more difference into df->report (printf style). */
void diff_add_report(struct diff *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TRACES_TRACE_DIFF_INTERNAL_H */

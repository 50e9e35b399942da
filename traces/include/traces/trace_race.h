/* SPDX-License-Identifier: MIT */
/*
 * trace_race.h - which unordered pair of events a changed completion digest points at.
 *
 * A trace records, per submission, its context, the buffer ranges it lists as resources and the
 * semaphores it waits for and signals, and, per CPU wait, which semaphores a poll saw signaled.
 * From those, trace_race_explain builds the order a correctly synchronized client relies on
 * (docs/trace-format.md, "Race detection"):
 *   - submissions of one context run in submission order;
 *   - a submission waiting for a semaphore runs after the submission that signals it (the last
 *     one submitted before it, else the first after it), or after a CPU semaphore_signal;
 *   - a poll that saw a submission's signal semaphore signaled puts that submission (and
 *     everything ordered before it) before every later call of the client;
 * and looks for a submission that lists an overlapping range of the same buffer without being
 * ordered before or after the one whose completion digest changed. Read-only; any thread.
 */
#ifndef TRACES_TRACE_RACE_H
#define TRACES_TRACE_RACE_H

#include <stdbool.h>
#include <stdint.h>

#include "traces/trace_replay.h"

struct trace_race_report {
	bool found;	       /* an unordered submission was found */
	uint64_t other_event;  /* its execute_command event */
	uint64_t other_offset; /* its range of the buffer */
	uint64_t other_length;
	uint64_t other_conn; /* its recorded connection and context */
	uint64_t other_context;
	uint64_t conn, context; /* of the submission whose completion changed */
	uint64_t candidates;	/* submissions listing an overlapping range */
	char text[1024];	/* the explanation, one or more lines without a final newline */
};

/*
 * trace_race_explain - read trace @path again (already validated by a replay) and explain
 * @mismatch (a completion digest that differed) in @out. Prefers, among unordered submissions
 * touching the range, one whose range holds the first differing byte, then the one nearest in
 * the trace. Returns 0 (also when nothing unordered was found: @out->found false and the text
 * says what else changes contents), -EINVAL for bad arguments, -ENOMEM, or -errno when the file
 * cannot be read.
 */
int trace_race_explain(const char *path, const struct trace_replay_mismatch *mismatch,
		       struct trace_race_report *out);

#endif /* TRACES_TRACE_RACE_H */

/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline.h - Chrome Trace Event JSON (Perfetto, chrome://tracing) from sim device events.
 *
 * A timeline collects the device events of one sim and writes {"traceEvents":[...]} for
 * ui.perfetto.dev: a GPU process (pid 1) with a device track (interrupts, resets), one track per
 * queue (jobs as "X" slices with their commands nested inside, faults as instants) and counters
 * (busy queues, power); when the client's submissions are added too (trace_timeline_submit, done
 * by replay), a client process (pid 2) with one track per context, where each job appears again
 * between its submission and its completion, joined by flow arrows submit -> job -> done.
 * Timestamps are GPU cycles / 1000 (1 us = 1000 cycles, so Perfetto's ns are cycles). The same
 * records always give the same bytes. docs/trace-format.md ("Timeline") has the details.
 * Thread-safe (one mutex per timeline).
 */
#ifndef TRACES_TRACE_TIMELINE_H
#define TRACES_TRACE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

struct sim_event;
struct trace_timeline;

/* trace_timeline_create - an empty timeline, or NULL when out of memory. */
struct trace_timeline *trace_timeline_create(void);

/* trace_timeline_add - remember @ev (only the types of trace_device_event_mask matter). */
void trace_timeline_add(struct trace_timeline *tl, const struct sim_event *ev);

/*
 * trace_timeline_submit - note that the client is about to submit one job on @context of
 * @connection (the recorded handle and id: they name the track) whose first command buffer is at
 * GPU VA @cmd_va (0: unknown; it picks the job this submission becomes when several are
 * pending). Call it before sending the submission, so that it precedes the job's device events.
 * Returns a token for trace_timeline_cancel, 0 when @tl is NULL or out of memory (the submission
 * is then not noted).
 */
size_t trace_timeline_submit(struct trace_timeline *tl, uint64_t connection, uint32_t context,
			     uint64_t cmd_va);

/* trace_timeline_cancel - forget the submission of @token (it failed). 0 is a no-op. */
void trace_timeline_cancel(struct trace_timeline *tl, size_t token);

/* trace_timeline_write - write the JSON to @path. 0 or -errno. */
int trace_timeline_write(struct trace_timeline *tl, const char *path);

/* trace_timeline_destroy - free @tl. NULL is a no-op. */
void trace_timeline_destroy(struct trace_timeline *tl);

#endif /* TRACES_TRACE_TIMELINE_H */

/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline.h - Chrome Trace Event JSON (Perfetto, chrome://tracing) from sim device events.
 *
 * A timeline collects the device events of one sim and writes {"traceEvents":[...]}: jobs as
 * complete ("X") events on one track per queue (tid = queue, args name the AS slot that stands
 * for the context and the fault code), interrupts, faults and resets as instant ("i") events, and
 * the power state (cores ready) as a counter ("C"). Timestamps are GPU cycles / 1000 (one
 * "microsecond" per 1000 cycles), pid 1 is the device. Not thread-safe: the caller serialises
 * (sim event callbacks are already serialised by the device lock).
 */
#ifndef TRACES_TRACE_TIMELINE_H
#define TRACES_TRACE_TIMELINE_H

#include <stdint.h>

struct sim_event;
struct trace_timeline;

/* trace_timeline_create - an empty timeline, or NULL when out of memory. */
struct trace_timeline *trace_timeline_create(void);

/* trace_timeline_add - remember @ev (only the types of trace_device_event_mask matter). */
void trace_timeline_add(struct trace_timeline *tl, const struct sim_event *ev);

/* trace_timeline_write - write the JSON to @path. 0 or -errno. */
int trace_timeline_write(const struct trace_timeline *tl, const char *path);

/* trace_timeline_destroy - free @tl. NULL is a no-op. */
void trace_timeline_destroy(struct trace_timeline *tl);

#endif /* TRACES_TRACE_TIMELINE_H */

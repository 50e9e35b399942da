/* SPDX-License-Identifier: MIT */
/*
 * trace_device.h - the device-side recording hook: the embedded device reports the sims it
 * creates and destroys, and their events (register accesses, interrupts, jobs, faults, power,
 * reset) go to the process-wide trace writer of trace.h as "dev" events. Part of the embedded
 * device's library (libmagma_embedded.a), not of libmagma.
 */
#ifndef TRACES_TRACE_DEVICE_H
#define TRACES_TRACE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sim_device;

/*
 * trace_device_created / trace_device_destroying - called by the embedded device right after
 * creating and right before destroying its sim. When the process-wide writer is active, device
 * events (register accesses, interrupts, jobs, faults, power, reset) are appended to it as "dev"
 * events; when an observer is installed (trace_device_set_observer) it is told too.
 */
void trace_device_created(struct sim_device *sim);
void trace_device_destroying(struct sim_device *sim);

/*
 * trace_device_set_observer - install (or with NULL remove) the process-wide callback for
 * embedded devices being created (@created true) or destroyed. Used by magma-replay.
 */
typedef void (*trace_device_observer_fn)(void *ctx, struct sim_device *sim, bool created);
void trace_device_set_observer(trace_device_observer_fn fn, void *ctx);

/*
 * The sim event types recorded as "dev" events; timelines (trace_timeline.h) draw all of them
 * but the register accesses and IRQ_LINE.
 */
uint32_t trace_device_event_mask(void);

struct sim_event;
struct trace_writer;

/*
 * trace_device_write - append @ev to @w as a "dev" event (docs/trace-format.md), followed by the
 * JSON members @extra (without a leading comma; NULL or "": none). The one formatter of dev
 * events, for the embedded device's hook and magma-simd --trace. Returns the event's seq.
 * Thread-safe (the writer's lock).
 */
uint64_t trace_device_write(struct trace_writer *w, const struct sim_event *ev, const char *extra);

#ifdef __cplusplus
}
#endif

#endif /* TRACES_TRACE_DEVICE_H */

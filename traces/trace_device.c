/* SPDX-License-Identifier: MIT */
/*
 * trace_device.c - the device side of recording: the embedded device reports its sims here.
 *
 * When the process-wide trace is open, each sim created by the embedded device gets an event
 * subscription that appends "dev" events (register accesses, interrupts, job start/end, the
 * commands each job ran, faults, power, reset; cycle-stamped, names decoded) to the trace; with
 * MAGMA_TRACE_TIMELINE=1 the same events also go to a Chrome Trace Event timeline written to
 * $MAGMA_TRACE.timeline.json (then FILE.timeline.1.json and so on for later devices) when the
 * device is destroyed. An optional observer (magma-replay) hears about every sim created or
 * destroyed. A daemon device lives in another process: magma-simd --trace records it with
 * trace_device_write (magma/tools/magma_simd_trace.c). Callbacks run on the
 * sim's threads with its device lock held; they only take the writer's leaf lock. device_lock
 * guards the tables below and is never held across observer calls.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "traces/trace.h"
#include "traces/trace_device.h"
#include "traces/trace_timeline.h"

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;

#define TRACE_MAX_DEVICES 8

struct trace_recorded_device {
	struct sim_device *sim; /* NULL: free slot */
	int sub;
	struct trace_writer *w;
	struct trace_timeline *tl;
	unsigned int number; /* devices recorded before this one */
	uint64_t last_cycle; /* of the last event (the driver's shutdown may reset the clock) */
};

static trace_device_observer_fn observer_fn;			 /* guarded by device_lock */
static void *observer_ctx;					 /* guarded by device_lock */
static struct trace_recorded_device recorded[TRACE_MAX_DEVICES]; /* guarded by device_lock */
static unsigned int recorded_total;				 /* guarded by device_lock */

/* trace_device_event_mask - see trace.h. */
uint32_t trace_device_event_mask(void)
{
	return SIM_EV_MASK(SIM_EV_REG_READ) | SIM_EV_MASK(SIM_EV_REG_WRITE) |
	       SIM_EV_MASK(SIM_EV_IRQ_RAISE) | SIM_EV_MASK(SIM_EV_IRQ_LINE) |
	       SIM_EV_MASK(SIM_EV_JOB_START) | SIM_EV_MASK(SIM_EV_JOB_END) |
	       SIM_EV_MASK(SIM_EV_CMD) | SIM_EV_MASK(SIM_EV_FAULT) | SIM_EV_MASK(SIM_EV_POWER) |
	       SIM_EV_MASK(SIM_EV_RESET);
}

/* trace_device_write - see trace_device.h. */
uint64_t trace_device_write(struct trace_writer *w, const struct sim_event *ev, const char *extra)
{
	return trace_writer_dev_event(
		w,
		"\"type\":\"dev\",\"cycle\":%" PRIu64 ",\"ev\":\"%s\",\"unit\":%d,\"code\":%" PRIu32
		",\"value\":%" PRIu64 ",\"value2\":%" PRIu64 ",\"name\":\"%s\"%s%s",
		ev->cycle, sim_event_type_name(ev->type),
		ev->unit == SIM_EVENT_NO_UNIT ? -1 : (int)ev->unit, ev->code, ev->value, ev->value2,
		ev->name ? ev->name : "", extra && *extra ? "," : "", extra ? extra : "");
}

/* Runs with the sim's device lock held; the writer lock is a leaf. */
static void device_event(void *ctx, const struct sim_event *ev)
{
	struct trace_recorded_device *d = ctx;

	trace_device_write(d->w, ev, NULL);
	trace_timeline_add(d->tl, ev);
	if (ev->cycle > d->last_cycle)
		d->last_cycle = ev->cycle;
}

/* trace_device_created - see trace.h. */
void trace_device_created(struct sim_device *sim)
{
	struct trace_writer *w = trace_global();
	const char *tl_env = getenv("MAGMA_TRACE_TIMELINE");
	trace_device_observer_fn fn;
	void *ctx;

	pthread_mutex_lock(&device_lock);
	for (int i = 0; w && i < TRACE_MAX_DEVICES; i++) {
		struct trace_recorded_device *d = &recorded[i];

		if (d->sim)
			continue;
		d->w = w;
		d->tl = tl_env && !strcmp(tl_env, "1") ? trace_timeline_create() : NULL;
		d->number = recorded_total;
		d->last_cycle = 0;
		d->sub = sim_events_subscribe(sim, trace_device_event_mask(), device_event, d);
		if (d->sub >= 0) {
			d->sim = sim;
			recorded_total++;
			trace_writer_event(
				w, "\"type\":\"device\",\"event\":\"created\",\"device\":%u",
				d->number);
		} else {
			trace_timeline_destroy(d->tl);
			d->tl = NULL;
		}
		break;
	}
	fn = observer_fn;
	ctx = observer_ctx;
	pthread_mutex_unlock(&device_lock);
	if (fn)
		fn(ctx, sim, true);
}

/* trace_device_destroying - see trace.h. */
void trace_device_destroying(struct sim_device *sim)
{
	trace_device_observer_fn fn;
	void *ctx;

	pthread_mutex_lock(&device_lock);
	for (int i = 0; i < TRACE_MAX_DEVICES; i++) {
		struct trace_recorded_device *d = &recorded[i];
		const char *path = getenv("MAGMA_TRACE");

		if (d->sim != sim)
			continue;
		sim_events_unsubscribe(sim, d->sub);
		trace_writer_event(d->w,
				   "\"type\":\"device\",\"event\":\"destroyed\",\"device\":%u,"
				   "\"cycles\":%" PRIu64,
				   d->number, d->last_cycle);
		if (d->tl && path) {
			char *out = malloc(strlen(path) + 32);

			if (out) {
				if (d->number)
					sprintf(out, "%s.timeline.%u.json", path, d->number);
				else
					sprintf(out, "%s.timeline.json", path);
				if (trace_timeline_write(d->tl, out))
					fprintf(stderr, "magma: cannot write %s\n", out);
				free(out);
			}
		}
		trace_timeline_destroy(d->tl);
		d->tl = NULL;
		d->sim = NULL;
	}
	fn = observer_fn;
	ctx = observer_ctx;
	pthread_mutex_unlock(&device_lock);
	if (fn)
		fn(ctx, sim, false);
}

/* trace_device_set_observer - see trace.h. */
void trace_device_set_observer(trace_device_observer_fn fn, void *ctx)
{
	pthread_mutex_lock(&device_lock);
	observer_fn = fn;
	observer_ctx = ctx;
	pthread_mutex_unlock(&device_lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * probe.h - latency probes: host timestamps at the hops of one submission, for bench-magma
 * --breakdown.
 *
 * A leaf every layer of the device side may use (like a log facility: it knows nothing of any
 * layer). Off by default; while off a mark costs one relaxed atomic load. While on, each point
 * keeps the CLOCK_MONOTONIC time of its *first* mark since the last magma_probe_reset(), so a
 * benchmark that resets before a submission and snapshots after its completion reads the time
 * each hop was first reached. Marks never block and never allocate.
 *
 * Thread-safety: every call may be made from any thread at any time. The points are global to
 * the process (one device under measurement at a time gives meaningful figures).
 */
#ifndef MAGMA_PROBE_PROBE_H
#define MAGMA_PROBE_PROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The hops of a submission, in the order a round trip reaches them. */
enum magma_probe_point {
	MAGMA_PROBE_SERVICE_RECV,  /* the service read a command message */
	MAGMA_PROBE_DRIVER_SUBMIT, /* the driver was handed the command buffer (msd_*) */
	MAGMA_PROBE_DOORBELL,	   /* the driver rang a queue's doorbell */
	MAGMA_PROBE_MODEL_RUN,	   /* the model started running queued work */
	MAGMA_PROBE_IRQ_RAISED,	   /* the model raised an interrupt */
	MAGMA_PROBE_DRIVER_IRQ,	   /* the driver acted on the interrupt */
	MAGMA_PROBE_SEMAPHORE,	   /* the driver signaled a completion semaphore */
	MAGMA_PROBE_POINTS
};

extern atomic_bool magma_probe_on;

void magma_probe_mark_now(enum magma_probe_point point);

/* magma_probe_mark - note that @point was reached (first mark since the reset wins). */
static inline void magma_probe_mark(enum magma_probe_point point)
{
	if (atomic_load_explicit(&magma_probe_on, memory_order_relaxed))
		magma_probe_mark_now(point);
}

/* magma_probe_enable - turn marking on or off; does not reset. */
void magma_probe_enable(bool on);

/* magma_probe_reset - forget every point's time (0: not reached). */
void magma_probe_reset(void);

/* magma_probe_snapshot - each point's time in ns (CLOCK_MONOTONIC), 0 when not reached. */
void magma_probe_snapshot(uint64_t out[MAGMA_PROBE_POINTS]);

/* magma_probe_name - a short name of @point ("service recv", ...), "?" when out of range. */
const char *magma_probe_name(enum magma_probe_point point);

#ifdef __cplusplus
}
#endif

#endif /* MAGMA_PROBE_PROBE_H */

/* SPDX-License-Identifier: MIT */
/*
 * probe.c - latency probes (see magma_probe/probe.h): one atomic time per point, first mark wins.
 */
#include <time.h>

#include "magma_probe/probe.h"

atomic_bool magma_probe_on;
static _Atomic uint64_t probe_times[MAGMA_PROBE_POINTS];

/* magma_probe_mark_now - see probe.h: the slow half of magma_probe_mark. */
void magma_probe_mark_now(enum magma_probe_point point)
{
	struct timespec ts;
	uint64_t zero = 0, now;

	if ((unsigned int)point >= MAGMA_PROBE_POINTS ||
	    atomic_load_explicit(&probe_times[point], memory_order_relaxed))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	atomic_compare_exchange_strong(&probe_times[point], &zero, now ? now : 1);
}

/* magma_probe_enable - see probe.h. */
void magma_probe_enable(bool on)
{
	atomic_store(&magma_probe_on, on);
}

/* magma_probe_reset - see probe.h. */
void magma_probe_reset(void)
{
	for (int i = 0; i < MAGMA_PROBE_POINTS; i++)
		atomic_store(&probe_times[i], 0);
}

/* magma_probe_snapshot - see probe.h. */
void magma_probe_snapshot(uint64_t out[MAGMA_PROBE_POINTS])
{
	for (int i = 0; i < MAGMA_PROBE_POINTS; i++)
		out[i] = atomic_load(&probe_times[i]);
}

/* magma_probe_name - see probe.h. */
const char *magma_probe_name(enum magma_probe_point point)
{
	static const char *const names[MAGMA_PROBE_POINTS] = {
		[MAGMA_PROBE_SERVICE_RECV] = "service recv",
		[MAGMA_PROBE_DRIVER_SUBMIT] = "driver submit",
		[MAGMA_PROBE_DOORBELL] = "doorbell",
		[MAGMA_PROBE_MODEL_RUN] = "model run",
		[MAGMA_PROBE_IRQ_RAISED] = "irq raised",
		[MAGMA_PROBE_DRIVER_IRQ] = "driver irq",
		[MAGMA_PROBE_SEMAPHORE] = "semaphore",
	};

	return (unsigned int)point < MAGMA_PROBE_POINTS ? names[point] : "?";
}

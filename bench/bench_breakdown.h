/* SPDX-License-Identifier: MIT */
/*
 * bench_breakdown.h - where the time of a round trip goes: the hops of one submission timed by
 * the latency probes (magma_probe/probe.h) and the thread wake-ups it costs. Main thread only.
 */
#ifndef BENCH_BREAKDOWN_H
#define BENCH_BREAKDOWN_H

#include <stdio.h>
#include <sys/types.h>

/* One round trip: submit, wait for completion, reset; 0 or 1 on a failing call. */
typedef int (*bench_roundtrip_fn)(void *arg);

/*
 * bench_breakdown - run @n round trips of @fn(@arg) with the probes on and print, to @out under
 * the title @what, the median time of each hop and of the whole, and the voluntary context
 * switches (thread wake-ups) per round trip of this process, plus those of process @peer when it
 * is > 0 (a daemon: its hops are not probed, only its wake-ups counted). 1 when a round trip
 * failed.
 */
int bench_breakdown(const char *what, bench_roundtrip_fn fn, void *arg, unsigned int n, pid_t peer,
		    FILE *out);

#endif /* BENCH_BREAKDOWN_H */

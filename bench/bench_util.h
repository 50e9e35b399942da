/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - helpers shared by the magma-level benchmarks: host time, failure reports,
 * medians, the GPU cycle counter through the vendor TIMESTAMP query and the host's CPU model and
 * core count (to name the host next to a figure). Not thread-safe beyond
 * what each function says; benchmarks call them from their main thread.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lib/magma/magma.h>

/* bench_now_ns - CLOCK_MONOTONIC in nanoseconds. Thread-safe. */
uint64_t bench_now_ns(void);

/* bench_fail - print "<program>: @what failed: @st" to stderr and return 1 (an exit status). */
int bench_fail(const char *what, magma_status_t st);

/* bench_median - sort @v (@n > 0 values) in place and return its median element. */
uint64_t bench_median(uint64_t *v, unsigned int n);

/* bench_gpu_cycles - SIM_GPU_CYCLE_COUNT of @dev via MAGMA_SIM_QUERY_TIMESTAMP; 0 or 1. */
int bench_gpu_cycles(magma_device_t dev, uint64_t *cycles_out);

/*
 * bench_args - the options of a benchmark that takes only --short: sets *@short_out for --short;
 * --help prints @usage on stdout, --version "@name @version". Returns -1 to go on, else the exit
 * status (0 after --help/--version, 2 for an unknown option, reported with a pointer to --help).
 */
int bench_args(int argc, char **argv, const char *name, const char *version,
	       void (*usage)(FILE *out), bool *short_out);

/* bench_host_cpu - the host CPU's model name from /proc/cpuinfo into @out, or "?". */
void bench_host_cpu(char *out, size_t size);

/* bench_host_cores - online CPUs (sysconf), at least 1. */
long bench_host_cores(void);

#endif /* BENCH_UTIL_H */

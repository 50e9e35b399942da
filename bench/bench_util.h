/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - helpers shared by the magma-level benchmarks: host time, failure reports,
 * medians, the GPU cycle counter through the vendor TIMESTAMP query and the common options;
 * the JSON report of every benchmark is bench_report.h. Not thread-safe beyond
 * what each function says; benchmarks call them from their main thread.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <lib/magma/magma.h>

#include "bench_report.h"

/* bench_now_ns - CLOCK_MONOTONIC in nanoseconds. Thread-safe. */
uint64_t bench_now_ns(void);

/* bench_fail - print "<program>: @what failed: @st" to stderr and return 1 (an exit status). */
int bench_fail(const char *what, magma_status_t st);

/* bench_median - sort @v (@n > 0 values) in place and return its median element. */
uint64_t bench_median(uint64_t *v, unsigned int n);

/* bench_gpu_cycles - SIM_GPU_CYCLE_COUNT of @dev via MAGMA_SIM_QUERY_TIMESTAMP; 0 or 1. */
int bench_gpu_cycles(magma_device_t dev, uint64_t *cycles_out);

/*
 * bench_args - the options of a benchmark that takes only --short and --json FILE: sets
 * *@short_out for --short and *@json_out to FILE (else NULL); --help prints @usage on stdout,
 * --version "@name @version". Returns -1 to go on, else the exit status (0 after
 * --help/--version, 2 for an unknown option or --json without its FILE, reported with a pointer
 * to --help).
 */
int bench_args(int argc, char **argv, const char *name, const char *version,
	       void (*usage)(FILE *out), bool *short_out, const char **json_out);

/*
 * bench_rss_bytes - resident set size of process @pid (0: this one) from /proc/PID/statm, in
 * bytes; 0 when it cannot be read.
 */
uint64_t bench_rss_bytes(pid_t pid);

/*
 * bench_raise_fd_limit - raises this process's soft RLIMIT_NOFILE to its hard limit, and when that
 * is below @want, tries to raise the hard limit to @want first (which takes CAP_SYS_RESOURCE, as
 * root has, and stops at fs.nr_open); a refusal leaves the hard limit as it was. Returns the soft
 * limit in force afterwards (UINT32_MAX for unlimited).
 */
uint64_t bench_raise_fd_limit(uint64_t want);

/* A magma-simd started as a child process, serving one device in a new temporary directory. */
struct bench_daemon {
	pid_t pid; /* -1: none */
	char dir[64];
	char sock[96];
};

/*
 * bench_daemon_start - starts @simd --dir <new directory under $TMPDIR> --foreground --quiet and
 * the NULL-terminated @extra_args, and waits up to 10 s for its device socket. 0, or 1 after
 * saying why on stderr (*@dm is then safe to pass to bench_daemon_stop).
 */
int bench_daemon_start(struct bench_daemon *dm, const char *simd, const char *const *extra_args);

/* bench_daemon_connect - a new socket connected to @dm's device (the caller owns it), or -1. */
int bench_daemon_connect(const struct bench_daemon *dm);

/*
 * bench_daemon_stop - SIGTERM and reap the daemon (SIGKILL after 5 s), remove its directory.
 * Returns 1 when it had to be killed or did not exit 0, else 0. No-op once stopped.
 */
int bench_daemon_stop(struct bench_daemon *dm);

#endif /* BENCH_UTIL_H */

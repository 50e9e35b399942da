/* SPDX-License-Identifier: MIT */
/*
 * bench_report.h - the figures of one benchmark run, written with --json FILE so that two runs
 * can be compared (scripts/bench-compare), and the host they were measured on.
 *
 * Every benchmark writes the same schema (docs/benchmarks.md):
 *
 *	{"bench": "bench-scale", "version": "0.1.0", "args": "--quick",
 *	 "host": {"cpu": "AMD EPYC", "cores": 2, "kernel": "6.1.0-18-amd64"},
 *	 "figures": [{"name": "buffers.execute.n1000", "value": 4211.5, "unit": "ns"}, ...]}
 *
 * A figure's name is unique in its report and stays the same from one version to the next (a
 * comparison matches figures by name); its unit says which way is better (ns, us, ms: lower;
 * "/s": higher). Figures are kept in the order they were added. Not thread-safe: one report
 * belongs to the benchmark's main thread.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct bench_report;

/*
 * bench_report_create - an empty report of benchmark @bench at @version, run with the options
 * argv[1..argc-1] (kept as one string, "args", less "--json FILE"), host details filled in. NULL
 * when out of memory; every other function takes NULL as "no report" and does nothing.
 */
struct bench_report *bench_report_create(const char *bench, const char *version, int argc,
					 char **argv);

/*
 * bench_report_add - appends figure @name = @value in @unit (both strings copied). A name that
 * is already there is replaced in place, so a figure is never listed twice.
 */
void bench_report_add(struct bench_report *r, const char *name, double value, const char *unit);

/*
 * bench_report_write - writes @r as JSON to @path (replacing it), followed by a newline. @path
 * NULL: nothing to do, 0. Returns 0, or -1 after printing why on stderr (@r NULL because it
 * could not be made, or the file could not be written).
 */
int bench_report_write(const struct bench_report *r, const char *path);

/* bench_report_destroy - frees @r. NULL is a no-op. */
void bench_report_destroy(struct bench_report *r);

/*
 * bench_arg_common - the options every benchmark takes, for argv[*@i] that its own loop did not
 * know: "--json FILE" (sets *@json_out, consumes FILE), --help (@usage on stdout), --version
 * ("@name @version"), else an unknown option or a missing value, reported on stderr with a
 * pointer to --help. Returns -1 to go on with the next argument, else the exit status (0 after
 * --help/--version, 2).
 */
int bench_arg_common(int argc, char **argv, int *i, const char *name, const char *version,
		     void (*usage)(FILE *out), const char **json_out);

/* bench_host_cpu - the host CPU's model name from /proc/cpuinfo into @out, or "?". */
void bench_host_cpu(char *out, size_t size);

/* bench_host_cores - online CPUs (sysconf), at least 1. */
long bench_host_cores(void);

#endif /* BENCH_REPORT_H */

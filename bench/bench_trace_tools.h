/* SPDX-License-Identifier: MIT */
/*
 * bench_trace_tools.h - bench-trace --tools (bench_trace_tools.c): magma-trace dump and trim
 * timed on a large trace. Main thread only.
 */
#ifndef BENCH_TRACE_TOOLS_H
#define BENCH_TRACE_TOOLS_H

struct bench_report;

/*
 * bench_trace_tools - time dump at the last event of @trace, trim of its last events and trim of
 * events 10..1000, @runs times each (1 to 9), each in a child process, and print the medians of
 * wall and CPU time, the largest RSS and the host; the same figures go to @report (NULL: none):
 * tools.{dump_last,trim_last,trim_early}.{wall,cpu} in ms and tools.rss in MiB. Returns 0, or 1
 * when @trace is not a trace or a command failed (said on stderr).
 */
int bench_trace_tools(const char *trace, int runs, struct bench_report *report);

#endif /* BENCH_TRACE_TOOLS_H */

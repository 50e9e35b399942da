/* SPDX-License-Identifier: MIT */
/*
 * magma_trace.c - magma-trace: the trace tools behind one entry point.
 *
 * magma-trace SUBCOMMAND [ARGS]   (stats, diff, dump, trim, merge; docs/trace-tools.md)
 * magma-trace --help | --version | SUBCOMMAND --help
 * Each subcommand lives in its own file of the magma_trace_tools library (traces/trace_*.c);
 * this file only dispatches. Exit statuses follow magma-replay's (enum trace_replay_exit): 0
 * done, 1 a difference or divergence, 2 bad input or usage, 3 host error. Single-threaded apart
 * from the embedded device's own threads (dump and trim replay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_tool.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

/* The subcommands, sorted by name. */
static const struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} subcommands[] = {
	{"diff", trace_tool_diff, "diff A B [--dev]              first difference of two traces"},
	{"dump", trace_tool_dump,
	 "dump TRACE --at N --buffer ID [--connection C] [--hex|--raw|--png W H FMT]\n"
	 "       [--offset O] [--length L] [-o FILE]   a buffer's contents after event N"},
	{"merge", trace_tool_merge,
	 "merge CLIENT DAEMON OUT       a client's trace with magma-simd --trace's"},
	{"stats", trace_tool_stats, "stats TRACE [--json]          calls, bytes, GPU busy, faults"},
	{"trim", trace_tool_trim, "trim --from N --to M IN OUT    a self-contained trace of N..M"},
};

static void help(void)
{
	printf("usage: magma-trace SUBCOMMAND [ARGS]\n"
	       "       magma-trace --help | --version | SUBCOMMAND --help\n"
	       "\n"
	       "Tools for magma-sim traces (docs/trace-tools.md):\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		printf("  magma-trace %s\n", subcommands[i].usage);
	printf("\n"
	       "Exit status: 0 done, 1 the traces differ (diff) or the replay diverged before the\n"
	       "event asked for (dump, trim), 2 bad input (unreadable, truncated or malformed\n"
	       "trace, bad numbers or options, traces that do not belong together), 3 host\n"
	       "error (cannot write, out of memory).\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "magma-trace: %s '%s' (magma-trace --help lists the subcommands)\n", what,
		arg);
	return TRACE_REPLAY_BAD_INPUT;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"usage: magma-trace SUBCOMMAND [ARGS] (magma-trace --help for more)\n");
		return TRACE_REPLAY_BAD_INPUT;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		help();
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("magma-trace %s (trace format %d)\n", MAGMA_SIM_VERSION,
		       TRACE_FORMAT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	return usage_error(argv[1][0] == '-' ? "unknown option" : "unknown subcommand", argv[1]);
}

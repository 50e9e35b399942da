/* SPDX-License-Identifier: MIT */
/*
 * magma_replay.c - magma-replay: replay a magma-sim trace on a fresh simulated device.
 *
 * magma-replay FILE [--from N] [--to N] [--stop-at N] [--timeline OUT.json] [--quiet]
 * magma-replay --help | --version
 * Exit status (enum trace_replay_exit, docs/trace-format.md "Replay"): 0 replayed without
 * divergence, 1 divergence (the first is reported), 2 bad input (unreadable, truncated, corrupt,
 * oversized or future-version trace, bad options), 3 host error (no device, out of memory, the
 * timeline cannot be written).
 * A progress bar is drawn when stdout is a terminal (at most 10 updates a second). Single
 * threaded apart from the embedded device's own threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/trace.h"
#include "traces/trace_replay.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static int usage(void)
{
	fprintf(stderr, "usage: magma-replay FILE [--from N] [--to N] [--stop-at N] "
			"[--timeline OUT.json] [--quiet]\n"
			"(magma-replay --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-replay FILE [--from N] [--to N] [--stop-at N] [--timeline OUT.json]\n"
	       "                    [--quiet]\n"
	       "\n"
	       "Replays the magma-sim trace FILE on a fresh embedded device and checks every\n"
	       "recorded completion against the replay (docs/trace-format.md, \"Replay\").\n"
	       "  --from N            replay events before N without checking them; check from N\n"
	       "  --to N              end after event N\n"
	       "  --stop-at N         stop before event N and say where\n"
	       "  --timeline OUT.json write the replay device's timeline (Chrome Trace Event JSON)\n"
	       "  --quiet             no progress bar (drawn only when stdout is a terminal)\n"
	       "  --help              this text\n"
	       "  --version           print \"magma-replay VERSION (trace format N)\"\n"
	       "Exit status: 0 replayed without divergence, 1 divergence (the first is reported),\n"
	       "2 bad input (unreadable, truncated, corrupt, oversized or future-version trace,\n"
	       "bad options), 3 host error (no device, out of memory, timeline not written).\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

int main(int argc, char **argv)
{
	struct trace_replay_options opts;
	struct trace_replay_result res;
	const char *path = NULL;
	char hex[17], device_hex[17];
	bool quiet = false;
	int ret;

	trace_replay_default_options(&opts);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help();
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("magma-replay %s (trace format %d)\n", MAGMA_SIM_VERSION,
			       TRACE_FORMAT_VERSION);
			return 0;
		} else if (!strcmp(a, "--quiet")) {
			quiet = true;
		} else if (!strcmp(a, "--from") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &opts.from))
				return usage();
		} else if (!strcmp(a, "--to") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &opts.to))
				return usage();
		} else if (!strcmp(a, "--stop-at") && i + 1 < argc) {
			if (!parse_u64(argv[++i], &opts.stop_at))
				return usage();
		} else if (!strcmp(a, "--timeline") && i + 1 < argc) {
			opts.timeline = argv[++i];
		} else if (a[0] == '-' || path) {
			fprintf(stderr, "magma-replay: %s '%s'\n",
				a[0] != '-'	? "unexpected argument"
				: i + 1 == argc ? "unknown option or missing value for"
						: "unknown option",
				a);
			return usage();
		} else {
			path = a;
		}
	}
	if (!path)
		return usage();
	opts.progress = !quiet && isatty(STDOUT_FILENO);
	ret = trace_replay_run(path, &opts, &res);
	if (res.truncated)
		fprintf(stderr, "magma-replay: warning: %s is truncated: %s\n", path, res.warning);
	if (ret) {
		fprintf(stderr, "magma-replay: %s: %s\n", path, res.message);
		if (ret == TRACE_REPLAY_DIVERGED)
			fprintf(stderr,
				"magma-replay: %" PRIu64 " calls replayed, %" PRIu64
				" completions matched before it\n",
				res.calls, res.completions);
		return ret;
	}
	trace_digest_hex(res.digest, hex);
	if (res.stopped_at != UINT64_MAX)
		printf("stopped before event %" PRIu64 " (--stop-at)\n", res.stopped_at);
	printf("replayed %" PRIu64 " calls (%" PRIu64 " submissions) of %" PRIu64
	       " events: %" PRIu64 " completions checked, 0 divergences\n",
	       res.calls, res.submissions, res.events, res.completions);
	trace_digest_hex(res.device_digest, device_hex);
	printf("gpu cycles %" PRIu64 ", host time %.3f ms, replay digest %s, device events %s\n",
	       res.gpu_cycles, (double)res.host_ns / 1e6, hex, device_hex);
	if (opts.timeline)
		printf("timeline written to %s\n", opts.timeline);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_replay.c - magma-replay: replay a magma-sim trace on a fresh simulated device.
 *
 * magma-replay FILE [--from N] [--to N] [--stop-at N] [--timeline OUT.json] [--quiet]
 *              [--perturb SEED]... [--perturb-runs N]
 * magma-replay --help | --version
 * Exit status (enum trace_replay_exit, docs/trace-format.md "Replay"): 0 replayed without
 * divergence, 1 divergence (the first is reported), 2 bad input (unreadable, truncated, corrupt,
 * oversized or future-version trace, bad options), 3 host error (no device, out of memory, the
 * timeline cannot be written). --perturb replays once per seed under perturbed GPU timing and
 * reports races (trace_perturb.h); 1 then means some seed changed a completion digest.
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
#include "traces/trace_perturb.h"
#include "traces/trace_replay.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static int usage(void)
{
	fprintf(stderr, "usage: magma-replay FILE [--from N] [--to N] [--stop-at N] "
			"[--timeline OUT.json] [--quiet]\n"
			"                    [--perturb SEED]... [--perturb-runs N]\n"
			"(magma-replay --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-replay FILE [--from N] [--to N] [--stop-at N] [--timeline OUT.json]\n"
	       "                    [--quiet] [--perturb SEED]... [--perturb-runs N]\n"
	       "\n"
	       "Replays the magma-sim trace FILE on a fresh embedded device and checks every\n"
	       "recorded completion against the replay (docs/trace-format.md, \"Replay\").\n"
	       "  --from N            replay events before N without checking them; check from N\n"
	       "  --to N              end after event N\n"
	       "  --stop-at N         stop before event N and say where\n"
	       "  --timeline OUT.json write the replay device's timeline (Chrome Trace Event JSON)\n"
	       "  --quiet             no progress bar (drawn only when stdout is a terminal)\n"
	       "  --perturb SEED      race detection: replay on a GPU whose core count, engine\n"
	       "                      latencies and queue arbitration come from SEED (0..2^64-1,\n"
	       "                      decimal or 0x hex), holding it between waits; a changed\n"
	       "                      completion digest is reported with the buffer range and the\n"
	       "                      two submissions nothing orders. Repeatable\n"
	       "  --perturb-runs N    try N seeds from each --perturb SEED (SEED, SEED+1, ...;\n"
	       "                      from 1 without --perturb); every seed runs, 1..65536 in all\n"
	       "  --help              this text\n"
	       "  --version           print \"magma-replay VERSION (trace format N)\"\n"
	       "Exit status: 0 replayed without divergence, 1 divergence (the first is reported;\n"
	       "with --perturb: a digest changed under some seed, each such seed is reported),\n"
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

/*
 * A seed of --perturb into *@out; false after saying on stderr why @s is not one (not a number,
 * negative, larger than 2^64 - 1).
 */
static bool parse_seed(const char *opt, const char *s, uint64_t *out)
{
	const char *why = NULL;
	char *end;

	if (!s || !*s)
		why = "empty";
	else if (strchr(s, '-'))
		why = "seeds are not negative";
	if (!why) {
		errno = 0;
		*out = strtoull(s, &end, 0);
		if (errno == ERANGE)
			why = "larger than 18446744073709551615";
		else if (errno || *end || end == s || (*s < '0' || *s > '9'))
			why = "not an integer (decimal, or hex with 0x)";
	}
	if (why)
		fprintf(stderr, "magma-replay: %s '%s': %s\n", opt, s ? s : "", why);
	return !why;
}

/* Seeds S, S+1, ... S+@runs-1 for each of @given (1 when none) into a new array. */
static uint64_t *expand_seeds(const uint64_t *given, size_t n_given, uint64_t runs,
			      size_t *count_out)
{
	static const uint64_t first = 1;
	uint64_t *seeds;

	if (!n_given) {
		given = &first;
		n_given = 1;
	}
	if (runs > TRACE_PERTURB_MAX_SEEDS / n_given) {
		fprintf(stderr, "magma-replay: at most %u seeds in all\n", TRACE_PERTURB_MAX_SEEDS);
		return NULL;
	}
	seeds = calloc(n_given * runs, sizeof(*seeds));
	if (!seeds) {
		fprintf(stderr, "magma-replay: out of memory\n");
		return NULL;
	}
	for (size_t i = 0; i < n_given; i++) {
		if (given[i] > UINT64_MAX - (runs - 1)) {
			fprintf(stderr,
				"magma-replay: --perturb %" PRIu64 " with --perturb-runs %" PRIu64
				" goes past 18446744073709551615\n",
				given[i], runs);
			free(seeds);
			return NULL;
		}
		for (uint64_t k = 0; k < runs; k++)
			seeds[i * runs + k] = given[i] + k;
	}
	*count_out = n_given * runs;
	return seeds;
}

int main(int argc, char **argv)
{
	struct trace_replay_options opts;
	struct trace_replay_result res;
	const char *path = NULL;
	char hex[17];
	uint64_t given[64], runs = 0, *seeds;
	size_t n_given = 0, n_seeds = 0;
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
		} else if (!strcmp(a, "--perturb") && i + 1 < argc) {
			if (n_given == sizeof(given) / sizeof(given[0])) {
				fprintf(stderr, "magma-replay: at most %zu --perturb options\n",
					sizeof(given) / sizeof(given[0]));
				return usage();
			}
			if (!parse_seed(a, argv[++i], &given[n_given++]))
				return usage();
		} else if (!strcmp(a, "--perturb-runs") && i + 1 < argc) {
			if (!parse_seed(a, argv[++i], &runs))
				return usage();
			if (!runs || runs > TRACE_PERTURB_MAX_SEEDS) {
				fprintf(stderr, "magma-replay: --perturb-runs '%s': 1..%u\n",
					argv[i], TRACE_PERTURB_MAX_SEEDS);
				return usage();
			}
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
	if (n_given || runs) {
		seeds = expand_seeds(given, n_given, runs ? runs : 1, &n_seeds);
		if (!seeds)
			return usage();
		if (opts.timeline && n_seeds > 1) {
			free(seeds);
			fprintf(stderr, "magma-replay: --timeline takes one --perturb seed\n");
			return usage();
		}
		opts.progress = false;
		ret = trace_perturb_run(path, &opts, seeds, n_seeds, stdout, stderr);
		free(seeds);
		if (ret == TRACE_REPLAY_DIVERGED)
			fprintf(stderr,
				"magma-replay: %s: completion digests changed under "
				"perturbation (races reported above)\n",
				path);
		return ret;
	}
	ret = trace_replay_run(path, &opts, &res);
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
	printf("gpu cycles %" PRIu64 ", host time %.3f ms, replay digest %s\n", res.gpu_cycles,
	       (double)res.host_ns / 1e6, hex);
	if (opts.timeline)
		printf("timeline written to %s\n", opts.timeline);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_replay.c - magma-replay: replay a magma-sim trace on a fresh simulated device.
 *
 * magma-replay FILE [--from N] [--to N] [--stop-at N] [--timeline OUT.json] [--quiet]
 *              [--perturb SEED]... [--perturb-runs N]
 * magma-replay --help | --version
 *
 * Exit status, chosen so that `git bisect run magma-replay FILE` needs no wrapper
 * (docs/trace-format.md "Replay"): 0 replayed without divergence (good), 1 divergence (bad:
 * the first one is reported), 125 not checked (skip: a command line this build does not take,
 * options that do not fit the trace, a trace it cannot read, or a host failure). A trace cut
 * short is replayed up to its last complete event, with a warning on stderr.
 *
 * --perturb replays once per seed under perturbed GPU timing and reports races
 * (trace_perturb.h); 1 then means some seed changed a completion digest, and a seed that is not
 * one (or too many of them) is a bad command line, 125.
 *
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

/* git bisect run: this commit cannot be tested. */
#define EXIT_NOT_CHECKED 125

static int usage(void)
{
	fprintf(stderr, "usage: magma-replay FILE [--from N] [--to N] [--stop-at N] "
			"[--timeline OUT.json] [--quiet]\n"
			"                    [--perturb SEED]... [--perturb-runs N]\n"
			"(magma-replay --help for more)\n");
	return EXIT_NOT_CHECKED;
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
	       "                      (N: an event of the trace, 0 to its count - 1; --stop-at\n"
	       "                      also takes the count itself: stop before the end)\n"
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
	       "A trace cut short (a crashed recording) replays up to its last complete event,\n"
	       "with a warning on stderr. GPU timestamps (TIMESTAMP commands) follow the\n"
	       "recording's host timing: a completion that differs only in them is not a\n"
	       "divergence, and the summary counts it.\n"
	       "Exit status: 0 replayed without divergence, 1 divergence (the first is reported:\n"
	       "a status, a completion's bytes, a job that faulted; with --perturb: a digest\n"
	       "changed under some seed, each such seed is reported), 125 not checked: a bad\n"
	       "command line (a bad --perturb seed too) or options that do not fit the trace\n"
	       "(\"bad options:\"), a trace this build cannot read (\"bad trace:\"), or a host\n"
	       "failure (\"replay error:\").\n"
	       "These are git bisect run's good, bad and skip: git bisect run magma-replay FILE\n");
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

/* The value of option @name at argv[*i + 1] into *@out (a usage error unless a number). */
static bool option_u64(int argc, char **argv, int *i, const char *name, uint64_t *out)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "magma-replay: %s needs a value (an event number)\n", name);
		return false;
	}
	if (!parse_u64(argv[++*i], out)) {
		fprintf(stderr, "magma-replay: %s '%s': not an event number\n", name, argv[*i]);
		return false;
	}
	return true;
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

/* The summary of a replay that found no divergence, on stdout. */
static void summary(const struct trace_replay_options *opts, const struct trace_replay_result *res)
{
	char hex[17], device_hex[17];
	uint64_t last = res->events ? res->events - 1 : 0;

	if (res->stopped_at != UINT64_MAX) {
		printf("stopped before event %" PRIu64 " (--stop-at)\n", res->stopped_at);
		last = res->stopped_at ? res->stopped_at - 1 : 0;
	}
	if (opts->to < last)
		last = opts->to;
	trace_digest_hex(res->digest, hex);
	trace_digest_hex(res->device_digest, device_hex);
	if (opts->from || last + 1 < res->events)
		printf("replayed %" PRIu64 " calls (%" PRIu64 " submissions) of %" PRIu64
		       " events; checked events %" PRIu64 " to %" PRIu64 ": %" PRIu64
		       " calls, %" PRIu64 " submissions, %" PRIu64 " completions, 0 divergences\n",
		       res->calls, res->submissions, res->events, opts->from, last,
		       res->checked_calls, res->checked_submissions, res->completions);
	else
		printf("replayed %" PRIu64 " calls (%" PRIu64 " submissions) of %" PRIu64
		       " events: %" PRIu64 " completions checked, 0 divergences\n",
		       res->calls, res->submissions, res->events, res->completions);
	printf("gpu cycles %" PRIu64 ", host time %.3f ms, replay digest %s, device events %s\n",
	       res->gpu_cycles, (double)res->host_ns / 1e6, hex, device_hex);
	if (res->timed_ranges)
		printf("%" PRIu64
		       " completion range%s differed only in GPU timestamps; the first: %s\n",
		       res->timed_ranges, res->timed_ranges == 1 ? "" : "s", res->timing_note);
	if (opts->timeline)
		printf("timeline written to %s\n", opts->timeline);
}

int main(int argc, char **argv)
{
	struct trace_replay_options opts;
	struct trace_replay_result res;
	const char *path = NULL;
	uint64_t given[64], runs = 0, *seeds;
	size_t n_given = 0, n_seeds = 0;
	bool quiet = false;
	int ret;

	trace_replay_default_options(&opts);
	opts.check_window = true;
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
		} else if (!strcmp(a, "--from")) {
			if (!option_u64(argc, argv, &i, a, &opts.from))
				return usage();
		} else if (!strcmp(a, "--to")) {
			if (!option_u64(argc, argv, &i, a, &opts.to))
				return usage();
		} else if (!strcmp(a, "--stop-at")) {
			if (!option_u64(argc, argv, &i, a, &opts.stop_at))
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
		if (ret == TRACE_REPLAY_OK)
			return 0;
		if (ret != TRACE_REPLAY_DIVERGED)
			return EXIT_NOT_CHECKED;
		fprintf(stderr,
			"magma-replay: %s: completion digests changed under perturbation (races "
			"reported above)\n",
			path);
		return 1;
	}
	ret = trace_replay_run(path, &opts, &res);
	if (res.truncated)
		fprintf(stderr, "magma-replay: warning: %s is truncated: %s\n", path, res.warning);
	if (ret == TRACE_REPLAY_OK) {
		summary(&opts, &res);
		return 0;
	}
	fprintf(stderr, "magma-replay: %s: %s\n", path, res.message);
	if (ret != TRACE_REPLAY_DIVERGED)
		return EXIT_NOT_CHECKED;
	fprintf(stderr,
		"magma-replay: %" PRIu64 " calls replayed (%" PRIu64 " checked), %" PRIu64
		" completions matched before it\n",
		res.calls, res.checked_calls, res.completions);
	return 1;
}

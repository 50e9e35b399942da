/* SPDX-License-Identifier: MIT */
/*
 * magma_campaign.c - magma-campaign: a fault campaign against any unmodified client, with one
 * command, and its recovery-coverage matrix (docs/fault-campaigns.md).
 *
 *   magma-campaign [--shard I/N] [--json FILE] [--point ID] [--keep DIR] [--timeout S]
 *                  [--quiet] CAMPAIGN.json -- COMMAND [ARGS...]
 *   magma-campaign merge [--json OUT] REPORT.json...
 *
 * This file is the command line only: the campaign file is campaign_spec.c, a run is
 * campaign_point.c, the checks campaign_verdict.c, the table and JSON campaign_report*.c, merging
 * campaign_merge.c. It reads the campaign (every point's plan is checked before anything runs),
 * runs the fault-free baseline, then the points of its shard one after another, and prints the
 * matrix. Progress goes to stderr: a bar on a terminal, a line per point otherwise. Exit 0 when
 * every point run passed, 1 when one failed (or the baseline did), 2 for a usage or campaign
 * file error or a missing tool (nothing ran). Single-threaded.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign_merge.h"
#include "campaign_point.h"
#include "campaign_report.h"

#ifndef CAMPAIGN_VERSION
#define CAMPAIGN_VERSION "0"
#endif

struct options {
	uint32_t shard_index, shard_count; /* count 0: not given */
	const char *json;
	uint32_t point; /* 0: every point of the shard */
	const char *keep;
	double timeout_s;
	bool quiet;
	const char *campaign;
	int argc; /* the command */
	char **argv;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: magma-campaign [--shard I/N] [--json FILE] [--point ID] [--keep DIR]\n"
		"                      [--timeout S] [--quiet] CAMPAIGN.json -- COMMAND [ARGS...]\n"
		"       magma-campaign merge [--json OUT] REPORT.json...\n"
		"       magma-campaign --help | --version\n"
		"\n"
		"Runs COMMAND (any unmodified Magma client) once per point of the campaign, each\n"
		"time against a fresh private magma-simd with that point's one-fault plan, next to\n"
		"magma-witness, and checks that the fault fired, the daemon survived, only the\n"
		"target was hurt, nothing leaked and work recovered (docs/fault-campaigns.md).\n"
		"  --shard I/N    run the points whose (ID - 1) %% N == I (0-based I); default\n"
		"                 GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS, else every point\n"
		"  --json FILE    write the report as JSON too\n"
		"  --point ID     run point ID only (each failure prints this line to reproduce it)\n"
		"  --keep DIR     move each failed point's directory (logs, plan, dump) to\n"
		"                 DIR/point-ID (default: left in $TMPDIR, path printed)\n"
		"  --timeout S    the command's deadline per point in seconds (default 120):\n"
		"                 then it is killed and the point fails as hung\n"
		"  --quiet        no progress on stderr\n"
		"  merge          join shard reports of one campaign and print the table\n"
		"Exit: 0 every point passed, 1 a point (or the baseline) failed, 2 usage, campaign\n"
		"file or missing tool (nothing ran).\n");
}

/* "I/N" into the outs; false if malformed. */
static bool parse_shard(const char *text, uint32_t *index_out, uint32_t *count_out)
{
	char *end;
	unsigned long index = strtoul(text, &end, 10), count;

	if (end == text || *end != '/')
		return false;
	text = end + 1;
	count = strtoul(text, &end, 10);
	if (end == text || *end || count < 1 || count > 100000 || index >= count)
		return false;
	*index_out = (uint32_t)index;
	*count_out = (uint32_t)count;
	return true;
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, 10);
	return end != text && !*end && !errno && *out <= max && text[0] != '-';
}

/* Parses the run's command line; 0, or 2 after a message. */
static int parse_options(int argc, char **argv, struct options *o)
{
	unsigned long value;
	int i;

	memset(o, 0, sizeof(*o));
	o->timeout_s = 120;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--shard") && next) {
			if (!parse_shard(next, &o->shard_index, &o->shard_count)) {
				fprintf(stderr,
					"magma-campaign: --shard %s: want I/N, 0 <= I < N\n", next);
				return 2;
			}
			i++;
		} else if (!strcmp(arg, "--json") && next) {
			o->json = argv[++i];
		} else if (!strcmp(arg, "--point") && next) {
			if (!parse_uint(next, UINT32_MAX, &value) || value == 0) {
				fprintf(stderr,
					"magma-campaign: --point %s: want a point ID (1...)\n",
					next);
				return 2;
			}
			o->point = (uint32_t)value;
			i++;
		} else if (!strcmp(arg, "--keep") && next) {
			o->keep = argv[++i];
		} else if (!strcmp(arg, "--timeout") && next) {
			if (!parse_uint(next, 86400, &value) || value == 0) {
				fprintf(stderr, "magma-campaign: --timeout %s: want 1 to 86400 s\n",
					next);
				return 2;
			}
			o->timeout_s = (double)value;
			i++;
		} else if (!strcmp(arg, "--quiet")) {
			o->quiet = true;
		} else if (arg[0] != '-' && !o->campaign) {
			o->campaign = arg;
		} else {
			fprintf(stderr, "magma-campaign: unexpected %s\n", arg);
			usage(stderr);
			return 2;
		}
	}
	if (!o->campaign || i + 1 >= argc) {
		fprintf(stderr, "magma-campaign: %s\n",
			!o->campaign ? "no campaign file" : "no command after --");
		usage(stderr);
		return 2;
	}
	o->argc = argc - i - 1;
	o->argv = &argv[i + 1];
	return 0;
}

/* The shard from GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS when --shard was not given. */
static int shard_from_env(struct options *o)
{
	const char *index = getenv("GTEST_SHARD_INDEX"), *total = getenv("GTEST_TOTAL_SHARDS");
	char text[64];

	if (o->shard_count || !index || !total)
		return 0;
	snprintf(text, sizeof(text), "%s/%s", index, total);
	if (!parse_shard(text, &o->shard_index, &o->shard_count)) {
		fprintf(stderr,
			"magma-campaign: GTEST_SHARD_INDEX=%s GTEST_TOTAL_SHARDS=%s: not a shard\n",
			index, total);
		return 2;
	}
	return 0;
}

static bool selected(const struct options *o, uint32_t id)
{
	if (o->point)
		return id == o->point;
	return campaign_shard_has(id, o->shard_index, o->shard_count);
}

/* Progress after a point: a bar on a terminal, else a line (nothing with --quiet). */
static void progress(const struct options *o, const struct campaign_point_result *r, uint32_t done,
		     uint32_t total, uint32_t failed)
{
	if (o->quiet)
		return;
	if (isatty(STDERR_FILENO)) {
		char bar[41];
		uint32_t filled = total ? done * 40 / total : 40;

		for (uint32_t i = 0; i < 40; i++)
			bar[i] = i < filled ? '#' : '.';
		bar[40] = '\0';
		fprintf(stderr, "\r[%s] %u/%u points, %u failed; point %u %s/%s: %-11s", bar, done,
			total, failed, r->id, r->kind, r->stage,
			campaign_outcome_name(r->verdict.outcome));
		if (done == total)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "magma-campaign: %u/%u point %u %s/%s #%u: %s (%.1f s)\n", done,
			total, r->id, r->kind, r->stage, r->n,
			campaign_outcome_name(r->verdict.outcome), r->seconds);
	}
	fflush(stderr);
}

static int run_points(const struct options *o, const struct campaign *campaign,
		      const struct campaign_runner *runner, struct campaign_report *report)
{
	uint32_t total = 0, done = 0, failed = 0;
	double start = campaign_now();

	for (uint32_t id = 1; id <= campaign->point_count; id++)
		total += selected(o, id);
	if (total && campaign_baseline_run(runner, &report->baseline)) {
		fprintf(stderr, "magma-campaign: the fault-free baseline run failed: %s\n",
			report->baseline.error);
		return 1;
	}
	for (uint32_t id = 1; id <= campaign->point_count && !interrupted; id++) {
		struct campaign_point_result r;

		if (!selected(o, id))
			continue;
		campaign_point_run(runner, campaign, id, &report->baseline, &r);
		if (!campaign_report_add(report, &r)) {
			campaign_point_result_fini(&r);
			fprintf(stderr, "magma-campaign: out of memory\n");
			return 1;
		}
		campaign_point_result_fini(&r);
		failed += r.verdict.outcome == CAMPAIGN_OUTCOME_FAIL;
		progress(o, &report->results[report->result_count - 1], ++done, total, failed);
	}
	report->elapsed_s = campaign_now() - start;
	if (interrupted) {
		fprintf(stderr, "magma-campaign: interrupted after %u of %u points\n", done, total);
		return 1;
	}
	return failed ? 1 : 0;
}

static int run(int argc, char **argv)
{
	char error[CAMPAIGN_ERROR_MAX], comm[CAMPAIGN_COMM_MAX], prefix[PATH_MAX + 16];
	struct campaign_tools tools;
	struct campaign_runner runner;
	struct campaign_report *report;
	struct campaign *campaign;
	struct options o;
	int ret;

	ret = parse_options(argc, argv, &o);
	if (ret || (ret = shard_from_env(&o)))
		return ret;
	campaign_comm_of(o.argv[0], comm);
	campaign = campaign_load(o.campaign, comm, error);
	if (!campaign) {
		fprintf(stderr, "magma-campaign: %s\n", error);
		return 2;
	}
	ret = 2;
	if (o.point > campaign->point_count) {
		fprintf(stderr, "magma-campaign: --point %u: %s has points 1 to %u\n", o.point,
			o.campaign, campaign->point_count);
		goto out_campaign;
	}
	if (campaign_tools_find(&tools, campaign->witness, error)) {
		fprintf(stderr, "magma-campaign: %s\n", error);
		goto out_campaign;
	}
	report = campaign_report_create(campaign, o.argc, o.argv);
	if (!report) {
		fprintf(stderr, "magma-campaign: out of memory\n");
		goto out_campaign;
	}
	if (o.shard_count) {
		report->shard_index = o.shard_index;
		report->shard_count = o.shard_count;
	}
	campaign_host_read(&report->host);
	snprintf(prefix, sizeof(prefix), "%s --point", argv[0]);
	runner = (struct campaign_runner){.tools = &tools,
					  .argc = o.argc,
					  .argv = o.argv,
					  .timeout_s = o.timeout_s,
					  .witness = campaign->witness,
					  .keep = o.keep,
					  .prefix = prefix,
					  .campaign_file = o.campaign};
	ret = run_points(&o, campaign, &runner, report);
	campaign_report_print(report, stdout);
	fflush(stdout);
	if (o.json && campaign_report_write(report, o.json, error)) {
		fprintf(stderr, "magma-campaign: --json %s\n", error);
		ret = ret ? ret : 1;
	}
	campaign_report_destroy(report);
out_campaign:
	campaign_destroy(campaign);
	return ret;
}

static int merge(int argc, char **argv)
{
	struct campaign_report **reports;
	struct campaign_report *merged = NULL;
	char error[CAMPAIGN_ERROR_MAX];
	const char *json = NULL;
	const char **files;
	uint32_t count = 0;
	bool complete;
	int ret = 2;

	reports = calloc((size_t)argc, sizeof(*reports));
	files = calloc((size_t)argc, sizeof(*files));
	if (!reports || !files)
		goto out;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
			continue;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "magma-campaign merge: unexpected %s\n", argv[i]);
			usage(stderr);
			goto out;
		}
		reports[count] = campaign_report_read(argv[i], error);
		if (!reports[count]) {
			fprintf(stderr, "magma-campaign merge: %s\n", error);
			goto out;
		}
		files[count++] = argv[i];
	}
	if (!count) {
		fprintf(stderr, "magma-campaign merge: no reports\n");
		usage(stderr);
		goto out;
	}
	merged = campaign_merge(reports, files, count, stderr, &complete, error);
	if (!merged) {
		fprintf(stderr, "magma-campaign merge: %s\n", error);
		goto out;
	}
	campaign_report_print(merged, stdout);
	ret = 0;
	if (json && campaign_report_write(merged, json, error)) {
		fprintf(stderr, "magma-campaign merge: --json %s\n", error);
		ret = 1;
	}
	for (uint32_t i = 0; i < merged->result_count; i++) {
		if (merged->results[i].verdict.outcome == CAMPAIGN_OUTCOME_FAIL)
			ret = 1;
	}
	if (!complete)
		ret = 1;
out:
	campaign_report_destroy(merged);
	for (uint32_t i = 0; i < count; i++)
		campaign_report_destroy(reports[i]);
	free(reports);
	free(files);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("magma-campaign %s (report format %d)\n", CAMPAIGN_VERSION,
		       CAMPAIGN_REPORT_VERSION);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "merge"))
		return merge(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return run(argc, argv);
}

/* SPDX-License-Identifier: MIT */
/*
 * campaign_report.c - a campaign report in memory, the host it ran on, and its terminal form:
 * the kind x stage matrix, one line per failed point with the command that reproduces it, and
 * the totals.
 *
 * The JSON form is campaign_report_json.c; merging shards is campaign_merge.c. One thread.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "campaign_report.h"
#include "campaign_stats.h"

struct campaign_report *campaign_report_create(const struct campaign *campaign, int argc,
					       char **argv)
{
	struct campaign_report *report = calloc(1, sizeof(*report));

	if (!report)
		return NULL;
	report->name = strdup(campaign->name);
	report->file = strdup(campaign->path);
	report->digest = campaign->digest;
	report->witness = campaign->witness;
	report->shard_count = 1;
	report->point_count = campaign->point_count;
	report->argv = calloc((size_t)argc + 1, sizeof(*report->argv));
	report->sweeps = calloc(campaign->sweep_count, sizeof(*report->sweeps));
	if (!report->name || !report->file || !report->argv || !report->sweeps)
		goto err_report;
	for (report->argc = 0; report->argc < argc; report->argc++) {
		report->argv[report->argc] = strdup(argv[report->argc]);
		if (!report->argv[report->argc])
			goto err_report;
	}
	report->sweep_count = campaign->sweep_count;
	for (uint32_t i = 0; i < campaign->sweep_count; i++) {
		const struct campaign_sweep *s = &campaign->sweeps[i];
		struct campaign_report_sweep *r = &report->sweeps[i];

		snprintf(r->kind, sizeof(r->kind), "%s", fault_kind_name(s->kind));
		snprintf(r->stage, sizeof(r->stage), "%s", campaign_stage_name(s->stage));
		r->points = s->points;
		r->first_point = s->first_point;
	}
	report->baseline.command_status = -1;
	return report;

err_report:
	campaign_report_destroy(report);
	return NULL;
}

static void result_fini(struct campaign_point_result *r)
{
	free(r->plan);
	free(r->repro);
	free(r->kept);
}

void campaign_report_destroy(struct campaign_report *report)
{
	if (!report)
		return;
	for (uint32_t i = 0; i < report->result_count; i++)
		result_fini(&report->results[i]);
	free(report->results);
	for (int i = 0; report->argv && i < report->argc; i++)
		free(report->argv[i]);
	free(report->argv);
	free(report->sweeps);
	free(report->name);
	free(report->file);
	free(report);
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		*failed = true;
	return copy;
}

struct campaign_point_result *campaign_report_add(struct campaign_report *report,
						  const struct campaign_point_result *result)
{
	struct campaign_point_result *copy;
	bool failed = false;

	if (report->result_count == report->result_cap) {
		uint32_t cap = report->result_cap ? report->result_cap * 2 : 64;
		struct campaign_point_result *bigger =
			realloc(report->results, cap * sizeof(*bigger));

		if (!bigger)
			return NULL;
		report->results = bigger;
		report->result_cap = cap;
	}
	copy = &report->results[report->result_count];
	*copy = *result;
	copy->plan = dup_or_null(result->plan, &failed);
	copy->repro = dup_or_null(result->repro, &failed);
	copy->kept = dup_or_null(result->kept, &failed);
	if (failed) {
		result_fini(copy);
		return NULL;
	}
	report->result_count++;
	return copy;
}

void campaign_host_read(struct campaign_host *out)
{
	struct utsname u;
	char line[256];
	FILE *f;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(out, 0, sizeof(*out));
	snprintf(out->machine, sizeof(out->machine), "%.63s", uname(&u) == 0 ? u.machine : "?");
	snprintf(out->cpu, sizeof(out->cpu), "?");
	out->cores = cores > 0 ? (int)cores : 0;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out->cpu, sizeof(out->cpu), "%s", colon);
		break;
	}
	fclose(f);
}

/* A spread in a cell of @width: "p50/p99", or "-" when nothing was measured. */
static void print_spread(FILE *out, const struct campaign_spread *s, int width, bool ms)
{
	char cell[48];

	if (!s->count)
		snprintf(cell, sizeof(cell), "-");
	else if (ms)
		snprintf(cell, sizeof(cell), "%.3f/%.3f", s->p50, s->p99);
	else
		snprintf(cell, sizeof(cell), "%.0f/%.0f", s->p50, s->p99);
	fprintf(out, " %*s", width, cell);
}

void campaign_report_print(const struct campaign_report *report, FILE *out)
{
	struct campaign_matrix m;
	uint32_t failures = 0;

	if (campaign_matrix_build(report, &m)) {
		fprintf(out, "magma-campaign: out of memory\n");
		return;
	}
	fprintf(out, "campaign \"%s\" (%s), shard %u/%u, %u of %u points\n",
		report->name[0] ? report->name : "(unnamed)", report->file, report->shard_index,
		report->shard_count, report->result_count, report->point_count);
	fprintf(out, "%-20s %-10s %6s %5s %5s %7s %17s %17s %19s\n", "kind", "stage", "points",
		"pass", "fail", "not-rch", "detect p50/p99 cy", "recover p50/p99 cy",
		"recover p50/p99 ms");
	for (uint32_t i = 0; i < m.row_count; i++) {
		const struct campaign_row *row = &m.rows[i];

		fprintf(out, "%-20s %-10s %6u %5u %5u %7u", row->kind, row->stage, row->points,
			row->pass, row->fail, row->not_reached);
		print_spread(out, &row->detect_cycles, 17, false);
		print_spread(out, &row->recover_cycles, 18, false);
		print_spread(out, &row->recover_ms, 19, true);
		fputc('\n', out);
	}
	for (uint32_t i = 0; i < report->result_count; i++) {
		const struct campaign_point_result *r = &report->results[i];

		if (r->verdict.outcome != CAMPAIGN_OUTCOME_FAIL)
			continue;
		if (!failures++)
			fprintf(out, "\nfailures:\n");
		for (int c = 0; c < CAMPAIGN_CHECK_COUNT; c++) {
			if (r->verdict.checks[c].result != CAMPAIGN_FAIL)
				continue;
			fprintf(out, "point %u (%s/%s #%u): %s: %s\n", r->id, r->kind, r->stage,
				r->n, campaign_check_name((enum campaign_check)c),
				r->verdict.checks[c].reason);
		}
		if (r->kept)
			fprintf(out, "  kept: %s\n", r->kept);
		fprintf(out, "  reproduce: %s\n", r->repro ? r->repro : "?");
	}
	fprintf(out, "\n%u points: %u pass, %u fail, %u not reached", m.points, m.pass, m.fail,
		m.not_reached);
	if (report->elapsed_s > 0)
		fprintf(out, "; %.1f s, %.2f points/s", report->elapsed_s,
			(double)m.points / report->elapsed_s);
	fputc('\n', out);
	campaign_matrix_fini(&m);
}

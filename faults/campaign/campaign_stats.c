/* SPDX-License-Identifier: MIT */
/*
 * campaign_stats.c - the recovery-coverage matrix: points grouped by kind x stage, counted by
 * outcome, with p50/p99 of detect and recover times (nearest rank: a reported percentile is
 * always a time some point really took). Pure; any thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign_stats.h"

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double campaign_percentile(double *values, size_t count, double p)
{
	size_t rank;

	if (count == 0)
		return 0;
	qsort(values, count, sizeof(*values), compare_doubles);
	rank = (size_t)ceil(p / 100.0 * (double)count);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return values[rank - 1];
}

/* The row of @kind x @stage in @m, or a new one; NULL past @capacity. */
static struct campaign_row *row_of(struct campaign_matrix *m, uint32_t capacity, const char *kind,
				   const char *stage)
{
	for (uint32_t i = 0; i < m->row_count; i++) {
		if (!strcmp(m->rows[i].kind, kind) && !strcmp(m->rows[i].stage, stage))
			return &m->rows[i];
	}
	if (m->row_count == capacity)
		return NULL;
	snprintf(m->rows[m->row_count].kind, CAMPAIGN_WORD_MAX, "%s", kind);
	snprintf(m->rows[m->row_count].stage, CAMPAIGN_WORD_MAX, "%s", stage);
	return &m->rows[m->row_count++];
}

/* The spread of one time of the passed and failed points of @row. */
static void spread(const struct campaign_report *report, const struct campaign_row *row, int which,
		   double *scratch, struct campaign_spread *out)
{
	size_t n = 0;

	for (uint32_t i = 0; i < report->result_count; i++) {
		const struct campaign_point_result *r = &report->results[i];
		const struct campaign_times *t = &r->verdict.times;

		if (strcmp(r->kind, row->kind) || strcmp(r->stage, row->stage))
			continue;
		if (which < 2 && !t->has_detect)
			continue;
		if (which >= 2 && !t->has_recover)
			continue;
		scratch[n++] = which == 0   ? (double)t->detect_cycles
			       : which == 1 ? t->detect_ms
			       : which == 2 ? (double)t->recover_cycles
					    : t->recover_ms;
	}
	out->count = (uint32_t)n;
	out->p50 = campaign_percentile(scratch, n, 50);
	out->p99 = campaign_percentile(scratch, n, 99);
}

int campaign_matrix_build(const struct campaign_report *report, struct campaign_matrix *out)
{
	uint32_t capacity = report->sweep_count + report->result_count;
	double *scratch;

	memset(out, 0, sizeof(*out));
	out->rows = calloc(capacity ? capacity : 1, sizeof(*out->rows));
	scratch = malloc((report->result_count + 1) * sizeof(*scratch));
	if (!out->rows || !scratch) {
		free(scratch);
		campaign_matrix_fini(out);
		return -1;
	}
	for (uint32_t i = 0; i < report->sweep_count; i++)
		row_of(out, capacity, report->sweeps[i].kind, report->sweeps[i].stage);
	for (uint32_t i = 0; i < report->result_count; i++) {
		const struct campaign_point_result *r = &report->results[i];
		struct campaign_row *row = row_of(out, capacity, r->kind, r->stage);

		row->points++;
		out->points++;
		switch (r->verdict.outcome) {
		case CAMPAIGN_OUTCOME_PASS:
			row->pass++;
			out->pass++;
			break;
		case CAMPAIGN_OUTCOME_FAIL:
			row->fail++;
			out->fail++;
			break;
		default:
			row->not_reached++;
			out->not_reached++;
			break;
		}
	}
	for (uint32_t i = 0; i < out->row_count; i++) {
		struct campaign_row *row = &out->rows[i];

		spread(report, row, 0, scratch, &row->detect_cycles);
		spread(report, row, 1, scratch, &row->detect_ms);
		spread(report, row, 2, scratch, &row->recover_cycles);
		spread(report, row, 3, scratch, &row->recover_ms);
	}
	free(scratch);
	return 0;
}

void campaign_matrix_fini(struct campaign_matrix *matrix)
{
	free(matrix->rows);
	matrix->rows = NULL;
	matrix->row_count = 0;
}

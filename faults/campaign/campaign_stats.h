/* SPDX-License-Identifier: MIT */
/*
 * campaign_stats.h - the recovery-coverage matrix of a report: one row per kind x stage, with
 * counts and percentiles of the detection and recovery times.
 *
 * Pure; any thread.
 */
#ifndef CAMPAIGN_STATS_H
#define CAMPAIGN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "campaign_report.h"

/* A percentile pair; @count is how many values it was taken from (0: none, values are 0). */
struct campaign_spread {
	uint32_t count;
	double p50, p99;
};

struct campaign_row {
	char kind[CAMPAIGN_WORD_MAX];
	char stage[CAMPAIGN_WORD_MAX];
	uint32_t points; /* points of this row in the report */
	uint32_t pass, fail, not_reached;
	struct campaign_spread detect_cycles, recover_cycles, detect_ms, recover_ms;
};

struct campaign_matrix {
	uint32_t row_count;
	struct campaign_row *rows; /* in the order the campaign's sweeps first name them */
	uint32_t points, pass, fail, not_reached;
};

/*
 * campaign_percentile - the @p-th percentile (0 < p <= 100) of @count values at @values by the
 * nearest-rank method: the smallest value with at least p% of the values at or below it. Sorts
 * @values in place. 0 when @count is 0.
 */
double campaign_percentile(double *values, size_t count, double p);

/* campaign_matrix_build - the matrix of @report into @out; -1 if memory ran out. */
int campaign_matrix_build(const struct campaign_report *report, struct campaign_matrix *out);

/* campaign_matrix_fini - free what campaign_matrix_build allocated. */
void campaign_matrix_fini(struct campaign_matrix *matrix);

#endif /* CAMPAIGN_STATS_H */

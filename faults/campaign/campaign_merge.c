/* SPDX-License-Identifier: MIT */
/*
 * campaign_merge.c - joining the shard reports of one campaign (magma-campaign merge).
 *
 * Shards are only joined when they ran the same campaign file (its FNV-1a digest) with the same
 * command, word for word: anything else would mix results that do not compare. The merged
 * report takes its head (name, sweeps, host, baseline) from the first report, its points from
 * all of them in ID order, and as elapsed time the longest shard's (shards run side by side).
 * One thread.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "campaign_merge.h"

static bool same_command(const struct campaign_report *a, const struct campaign_report *b)
{
	if (a->argc != b->argc)
		return false;
	for (int i = 0; i < a->argc; i++) {
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	}
	return true;
}

/* A new report with @from's head and no points. */
static struct campaign_report *copy_head(const struct campaign_report *from)
{
	struct campaign_report *to = calloc(1, sizeof(*to));

	if (!to)
		return NULL;
	*to = *from;
	to->results = NULL;
	to->result_count = to->result_cap = 0;
	to->shard_index = 0;
	to->shard_count = 1;
	to->name = strdup(from->name);
	to->file = strdup(from->file);
	to->sweeps = calloc(from->sweep_count + 1, sizeof(*to->sweeps));
	to->argv = calloc((size_t)from->argc + 1, sizeof(*to->argv));
	if (!to->name || !to->file || !to->sweeps || !to->argv)
		goto err_to;
	memcpy(to->sweeps, from->sweeps, from->sweep_count * sizeof(*to->sweeps));
	for (to->argc = 0; to->argc < from->argc; to->argc++) {
		to->argv[to->argc] = strdup(from->argv[to->argc]);
		if (!to->argv[to->argc])
			goto err_to;
	}
	return to;

err_to:
	campaign_report_destroy(to);
	return NULL;
}

struct merge_item {
	const struct campaign_point_result *result;
	uint32_t from; /* index of its report */
};

static int compare_items(const void *a, const void *b)
{
	const struct merge_item *x = a, *y = b;

	if (x->result->id != y->result->id)
		return x->result->id < y->result->id ? -1 : 1;
	return (x->from > y->from) - (x->from < y->from);
}

struct campaign_report *campaign_merge(struct campaign_report *const *reports,
				       const char *const *files, uint32_t count, FILE *notes,
				       bool *complete_out, char error[CAMPAIGN_ERROR_MAX])
{
	struct campaign_report *merged;
	struct merge_item *items;
	uint32_t total = 0, n = 0, next_id = 1;

	*complete_out = false;
	if (count == 0) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "no reports to merge");
		return NULL;
	}
	for (uint32_t i = 1; i < count; i++) {
		if (reports[i]->digest != reports[0]->digest) {
			snprintf(
				error, CAMPAIGN_ERROR_MAX,
				"%s is a report of another campaign than %s (file digest %016" PRIx64
				" is not %016" PRIx64 ")",
				files[i], files[0], reports[i]->digest, reports[0]->digest);
			return NULL;
		}
		if (!same_command(reports[i], reports[0])) {
			snprintf(error, CAMPAIGN_ERROR_MAX,
				 "%s ran another command than %s: shards of one campaign must run "
				 "the same command",
				 files[i], files[0]);
			return NULL;
		}
	}
	for (uint32_t i = 0; i < count; i++)
		total += reports[i]->result_count;
	items = calloc(total + 1, sizeof(*items));
	merged = copy_head(reports[0]);
	if (!items || !merged) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "out of memory");
		goto err_merged;
	}
	for (uint32_t i = 0; i < count; i++) {
		for (uint32_t j = 0; j < reports[i]->result_count; j++)
			items[n++] = (struct merge_item){&reports[i]->results[j], i};
		if (reports[i]->elapsed_s > merged->elapsed_s)
			merged->elapsed_s = reports[i]->elapsed_s;
	}
	qsort(items, n, sizeof(*items), compare_items);
	*complete_out = true;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = items[i].result->id;

		if (i > 0 && items[i - 1].result->id == id) {
			fprintf(notes, "merge: point %u is in %s and in %s: the first is kept\n",
				id, files[items[i - 1].from], files[items[i].from]);
			*complete_out = false;
			continue;
		}
		for (; next_id < id; next_id++) {
			fprintf(notes, "merge: point %u is in no report\n", next_id);
			*complete_out = false;
		}
		next_id = id + 1;
		if (!campaign_report_add(merged, items[i].result)) {
			snprintf(error, CAMPAIGN_ERROR_MAX, "out of memory");
			goto err_merged;
		}
	}
	for (; next_id <= merged->point_count; next_id++) {
		fprintf(notes, "merge: point %u is in no report\n", next_id);
		*complete_out = false;
	}
	free(items);
	return merged;

err_merged:
	campaign_report_destroy(merged);
	free(items);
	return NULL;
}

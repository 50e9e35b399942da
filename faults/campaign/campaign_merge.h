/* SPDX-License-Identifier: MIT */
/*
 * campaign_merge.h - shard reports of one campaign joined into one report.
 *
 * One thread. The merged report is the caller's (campaign_report_destroy).
 */
#ifndef CAMPAIGN_MERGE_H
#define CAMPAIGN_MERGE_H

#include <stdbool.h>
#include <stdio.h>

#include "campaign_report.h"

/*
 * campaign_merge - join @count reports (named @files in messages) into a new report with every
 * point once, in ID order. Reports of another campaign (a different file digest) or another
 * command are refused: NULL with the reason in @error. A point found twice keeps its first copy
 * and one found nowhere is listed; each is said in a line to @notes, and *@complete_out is false
 * when there was any.
 */
struct campaign_report *campaign_merge(struct campaign_report *const *reports,
				       const char *const *files, uint32_t count, FILE *notes,
				       bool *complete_out, char error[CAMPAIGN_ERROR_MAX]);

#endif /* CAMPAIGN_MERGE_H */

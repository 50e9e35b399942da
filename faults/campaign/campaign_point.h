/* SPDX-License-Identifier: MIT */
/*
 * campaign_point.h - running the command once against a private magma-simd: the fault-free
 * baseline, and each point of a campaign with its one-fault plan, then the point's verdict.
 *
 * One thread (it forks and reaps children).
 */
#ifndef CAMPAIGN_POINT_H
#define CAMPAIGN_POINT_H

#include <stdbool.h>

#include "campaign_proc.h"
#include "campaign_report.h"
#include "campaign_spec.h"

struct campaign_runner {
	const struct campaign_tools *tools;
	int argc;
	char **argv;	    /* the command */
	double timeout_s;   /* the command's deadline per run (a hang guard) */
	bool witness;	    /* run magma-witness next to the command */
	const char *keep;   /* failures' directories go to KEEP/point-ID; NULL: left in place */
	const char *prefix; /* the reproduction line's start: "magma-campaign --point" */
	const char *campaign_file; /* as given on the command line, for reproduction lines */
};

/*
 * campaign_baseline_run - the command with the witness and no fault. Fills @out; returns 0 if
 * the run went as a fault-free run must (else @out->error says why).
 */
int campaign_baseline_run(const struct campaign_runner *runner, struct campaign_baseline *out);

/*
 * campaign_point_run - point @id of @campaign, judged against @baseline. Fills @out (its strings
 * are new, for campaign_point_result_fini). 0, or -1 if the point could not even be set up (the
 * reason in @out's failing check).
 */
int campaign_point_run(const struct campaign_runner *runner, const struct campaign *campaign,
		       uint32_t id, const struct campaign_baseline *baseline,
		       struct campaign_point_result *out);

/* campaign_point_result_fini - free the strings of @result. */
void campaign_point_result_fini(struct campaign_point_result *result);

#endif /* CAMPAIGN_POINT_H */

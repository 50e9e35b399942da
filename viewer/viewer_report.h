/* SPDX-License-Identifier: MIT */
/*
 * viewer_report.h - a magma-campaign JSON report (docs/fault-campaigns.md, "The JSON report")
 * as magma-view shows it: the recovery-coverage matrix and the failing points with their failed
 * checks, kept directory and reproduce line.
 *
 * Loading never trusts the file: a member of the wrong type reads as absent, strings are copied
 * and cut to their field, and a file without "format": "magma-campaign-report" or without a
 * matrix is refused with a message. No SDL here. Any single thread.
 */
#ifndef VIEWER_REPORT_H
#define VIEWER_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define VIEWER_REPORT_FORMAT "magma-campaign-report"
#define VIEWER_REPORT_CHECKS 8 /* fired, finished, daemon, isolation, status, leaks, recovery */

/* p50/p99 of one time over the points that have it. */
struct viewer_report_spread {
	bool has; /* false: no point had this time ("-") */
	double p50, p99;
};

struct viewer_report_row {
	char kind[32], stage[32];
	long points, pass, fail, not_reached;
	struct viewer_report_spread detect_cycles, detect_ms, recover_cycles, recover_ms;
};

struct viewer_report_check {
	char name[16];
	char reason[256];
};

/* A failing point (outcome "fail"). */
struct viewer_report_point {
	long id, n;
	char kind[32], stage[32];
	struct viewer_report_check failed[VIEWER_REPORT_CHECKS];
	int failed_count;
	char *repro; /* owned; "" when the report has none */
	char *kept;  /* owned; NULL when the directory was not kept. A relative one is taken from
		      * the current directory, else from the report's (viewer_report_load) */
};

struct viewer_report {
	char name[64];			      /* the campaign's name */
	char file[256];			      /* the campaign file as given */
	long points, pass, fail, not_reached; /* matrix totals */
	double elapsed_s;
	struct viewer_report_row *rows;
	int row_count;
	struct viewer_report_point *failures;
	int failure_count;
};

/*
 * viewer_report_is_report - whether the file at @path looks like a campaign report: its first
 * 4 KiB hold "format": "magma-campaign-report" (magma-campaign writes it first). Reads the head
 * only, so a large trace costs nothing; a file that cannot be read is not a report.
 */
bool viewer_report_is_report(const char *path);

/*
 * viewer_report_load - the report at @path, or NULL with a message in @err (unreadable, not
 * JSON, not a campaign report, no matrix, out of memory). Free with viewer_report_destroy.
 */
struct viewer_report *viewer_report_load(const char *path, char *err, size_t err_size);

/* viewer_report_destroy - free @r; NULL is a no-op. */
void viewer_report_destroy(struct viewer_report *r);

/*
 * viewer_report_point_trace - the trace of failing point @p: "KEPT/trace.json" into @out when
 * the point's directory was kept and holds one. 0, or -1 (then the reproduce line is all there
 * is).
 */
int viewer_report_point_trace(const struct viewer_report_point *p, char *out, size_t size);

#endif /* VIEWER_REPORT_H */

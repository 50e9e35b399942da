/* SPDX-License-Identifier: MIT */
/*
 * campaign_report.h - the results of a campaign run (or of a shard of it, or of merged shards):
 * what was run where, the baseline, every point's verdict; written as the terminal table and as
 * JSON (docs/fault-campaigns.md "The JSON report"), and read back from JSON for merging.
 *
 * A report is built by one thread; once built it is read-only. The caller owns what
 * campaign_report_create/campaign_report_from_json return (campaign_report_destroy).
 */
#ifndef CAMPAIGN_REPORT_H
#define CAMPAIGN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "campaign_spec.h"
#include "campaign_verdict.h"

#define CAMPAIGN_REPORT_VERSION 1
#define CAMPAIGN_WORD_MAX	32 /* a kind or a stage name */

struct campaign_point_result {
	uint32_t id; /* 1-based, in campaign order */
	uint32_t n;  /* its number within its sweep */
	char kind[CAMPAIGN_WORD_MAX];
	char stage[CAMPAIGN_WORD_MAX];
	char *plan; /* the point's fault plan, JSON text */
	struct campaign_verdict verdict;
	char *repro;	    /* the shell command line that runs this point alone */
	char *kept;	    /* where its directory was kept (failures), or NULL */
	int command_status; /* the command's waitpid status; -1 if it never ended */
	double seconds;	    /* wall time of the point */
};

struct campaign_host {
	char machine[64]; /* uname -m */
	char cpu[128];	  /* "model name" of /proc/cpuinfo */
	int cores;	  /* online processors */
};

struct campaign_baseline {
	bool ok;			      /* the fault-free run went as it must */
	char error[CAMPAIGN_REASON_MAX];      /* why not */
	char digest[CAMPAIGN_DIGEST_LEN + 1]; /* the witness's digest ("" without witness) */
	uint32_t witness_rounds;
	int64_t fds_before, fds_after;
	int64_t connections; /* connections the run opened */
	int command_status;
	double seconds;
};

/* A sweep as the report keeps it: enough to lay out the matrix and to find missing points. */
struct campaign_report_sweep {
	char kind[CAMPAIGN_WORD_MAX];
	char stage[CAMPAIGN_WORD_MAX];
	uint32_t points, first_point;
};

struct campaign_report {
	char *name;	 /* the campaign's name ("" if none) */
	char *file;	 /* the campaign file as given */
	uint64_t digest; /* FNV-1a 64 of its bytes */
	int argc;
	char **argv; /* the command */
	bool witness;
	uint32_t shard_index, shard_count; /* 0/1 for a whole run or a merge */
	struct campaign_host host;
	struct campaign_baseline baseline;
	uint32_t sweep_count;
	struct campaign_report_sweep *sweeps;
	uint32_t point_count; /* in the whole campaign */
	uint32_t result_count, result_cap;
	struct campaign_point_result *results; /* in the order they were run (IDs ascending) */
	double elapsed_s;
};

/*
 * campaign_report_create - an empty report of @campaign run as @argv (@argc words); copies
 * what it keeps. NULL if memory ran out.
 */
struct campaign_report *campaign_report_create(const struct campaign *campaign, int argc,
					       char **argv);

/* campaign_report_destroy - free @report and every result (NULL is a no-op). */
void campaign_report_destroy(struct campaign_report *report);

/*
 * campaign_report_add - append a copy of @result (its strings duplicated). Returns the copy in
 * the report, or NULL if memory ran out.
 */
struct campaign_point_result *campaign_report_add(struct campaign_report *report,
						  const struct campaign_point_result *result);

/* campaign_host_read - what this machine is (uname, /proc/cpuinfo), into @out. */
void campaign_host_read(struct campaign_host *out);

/* campaign_report_to_json - @report as a new cJSON tree (the caller's), or NULL. */
cJSON *campaign_report_to_json(const struct campaign_report *report);

/* campaign_report_write - @report as JSON into the file @path; 0 or -1 with @error set. */
int campaign_report_write(const struct campaign_report *report, const char *path,
			  char error[CAMPAIGN_ERROR_MAX]);

/*
 * campaign_report_read - a report written by campaign_report_write, from the file @path. NULL
 * with "FILE: what is wrong" in @error.
 */
struct campaign_report *campaign_report_read(const char *path, char error[CAMPAIGN_ERROR_MAX]);

/*
 * campaign_report_print - the matrix table, one line per failure with its reproduction line,
 * the totals and the rate, to @out.
 */
void campaign_report_print(const struct campaign_report *report, FILE *out);

#endif /* CAMPAIGN_REPORT_H */

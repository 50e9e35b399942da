/* SPDX-License-Identifier: MIT */
/*
 * campaign_verdict.h - the checks of one campaign point, decided from what was observed: the
 * daemon's dump (control socket), how the daemon, the witness and the command ended.
 *
 * Pure (no I/O); any thread. docs/fault-campaigns.md "Checks" explains each check.
 */
#ifndef CAMPAIGN_VERDICT_H
#define CAMPAIGN_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "campaign_witness.h"
#include "faults/fault_plan.h"

#define CAMPAIGN_REASON_MAX 512

enum campaign_check {
	CAMPAIGN_CHECK_FIRED,	  /* the fault fired and took effect */
	CAMPAIGN_CHECK_FINISHED,  /* the command ended before the deadline */
	CAMPAIGN_CHECK_DAEMON,	  /* the daemon lived until SIGTERM and exited 0 */
	CAMPAIGN_CHECK_ISOLATION, /* only the target was hurt; the witness saw nothing */
	CAMPAIGN_CHECK_STATUS,	  /* the hit connection ended as the kind promises */
	CAMPAIGN_CHECK_LEAKS,	  /* nothing live, no descriptor left once every client ended */
	CAMPAIGN_CHECK_RECOVERY,  /* work ran after the fault was detected */
	CAMPAIGN_CHECK_COUNT
};

enum campaign_result { CAMPAIGN_SKIP, CAMPAIGN_PASS, CAMPAIGN_FAIL };

enum campaign_outcome {
	CAMPAIGN_OUTCOME_PASS,
	CAMPAIGN_OUTCOME_FAIL,
	CAMPAIGN_OUTCOME_NOT_REACHED, /* the fault never took effect: neither pass nor fail */
	CAMPAIGN_OUTCOME_COUNT
};

struct campaign_check_verdict {
	enum campaign_result result;
	char reason[CAMPAIGN_REASON_MAX]; /* why it failed or was skipped ("" when it passed) */
};

/* The firing's moments; a has_ flag is false when that moment did not happen. */
struct campaign_times {
	bool has_fired, has_applied, has_detect, has_recover;
	uint64_t fired_cycle, applied_cycle;
	uint64_t detect_cycles, recover_cycles; /* detected - applied, recovered - detected */
	double detect_ms, recover_ms;		/* the same in CLOCK_MONOTONIC milliseconds */
};

struct campaign_verdict {
	enum campaign_outcome outcome;
	struct campaign_check_verdict checks[CAMPAIGN_CHECK_COUNT];
	struct campaign_times times;
};

/* Everything a verdict is decided from. Borrowed pointers, for the call only. */
struct campaign_observation {
	enum fault_kind kind;
	const char *expect_status; /* fail_call: the status it fails with ("INTERNAL_ERROR") */
	const cJSON *dump;	   /* the daemon's dump answer after every client ended, or NULL */
	const char *dump_error;	   /* why there is no dump */
	int64_t fds_before;	   /* the daemon's descriptors before any client; -1 unknown */
	bool hung;		   /* the command was killed at the deadline */
	double timeout_s;
	bool daemon_alive; /* the daemon still ran when it was sent SIGTERM */
	int daemon_status; /* its waitpid status, or -1 if it never exited */
	bool witness;	   /* the witness ran */
	int witness_pid;
	int witness_status; /* its waitpid status, or -1 */
	struct campaign_witness_log witness_log;
};

/* campaign_verdict_decide - every check of @obs, the outcome and the times, into @out. */
void campaign_verdict_decide(const struct campaign_observation *obs, struct campaign_verdict *out);

/* campaign_check_name - "fired", "daemon", ...; NULL past the last check. */
const char *campaign_check_name(enum campaign_check check);
/* campaign_result_name - "pass", "fail", "skip". */
const char *campaign_result_name(enum campaign_result result);
/* campaign_outcome_name - "pass", "fail", "not reached". */
const char *campaign_outcome_name(enum campaign_outcome outcome);

/* campaign_kind_is_device_wide - whether a fault of @kind hits whoever's job runs next. */
bool campaign_kind_is_device_wide(enum fault_kind kind);
/* campaign_kind_ends_work - whether a fault of @kind kills or fails work (recovery applies). */
bool campaign_kind_ends_work(enum fault_kind kind);

#endif /* CAMPAIGN_VERDICT_H */

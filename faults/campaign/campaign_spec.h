/* SPDX-License-Identifier: MIT */
/*
 * campaign_spec.h - a fault campaign file (docs/fault-campaigns.md): sweeps of one-fault plans,
 * numbered points, and the plan of each point.
 *
 * A campaign is data only, read once and immutable afterwards; any thread may read it. The
 * caller owns what campaign_parse/campaign_load return (campaign_destroy).
 */
#ifndef CAMPAIGN_SPEC_H
#define CAMPAIGN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/fault_plan.h"

/* clang-format off */
#define CAMPAIGN_ERROR_MAX       768
#define CAMPAIGN_MAX_SWEEPS      256
#define CAMPAIGN_MAX_SWEEP_POINTS 1000
#define CAMPAIGN_COMM_MAX        16   /* the kernel's comm: 15 characters and a NUL */
#define CAMPAIGN_WITNESS_COMM    "magma-witness"
/* clang-format on */

/* Where in a run a sweep's faults fire. */
enum campaign_stage {
	CAMPAIGN_STAGE_SUBMISSION, /* the Nth submission ("while queued") */
	CAMPAIGN_STAGE_ACCESS,	   /* the Nth first touch of a GPU page ("mid-job") */
	CAMPAIGN_STAGE_MAPPING,	   /* the Nth msd_connection_map_buffer call */
	CAMPAIGN_STAGE_CALL,	   /* the Nth call */
	CAMPAIGN_STAGE_ALLOC,	   /* the Nth allocation at a failure point */
	CAMPAIGN_STAGE_CYCLE,	   /* simulated cycle FROM + (N-1) * STEP */
	CAMPAIGN_STAGE_RESET,	   /* the Nth GPU reset ("during recovery") */
	CAMPAIGN_STAGE_COUNT
};

struct campaign_sweep {
	enum fault_kind kind;
	enum campaign_stage stage;
	uint32_t points;      /* 1 to CAMPAIGN_MAX_SWEEP_POINTS */
	uint32_t first_point; /* the ID of its point 1 (IDs are 1-based, in campaign order) */
	uint64_t first;	      /* counted stages: point N counts event first + N - 1 (default 1) */
	uint64_t from, step;  /* CAMPAIGN_STAGE_CYCLE only */
	char *kind_args;      /* the kind's own members as JSON members text ("" if none) */
	uint32_t line;	      /* where the sweep starts in the campaign file */
};

struct campaign {
	char name[FAULT_NAME_MAX];
	char *path;	   /* the file it was read from */
	uint64_t digest;   /* FNV-1a 64 of the file's bytes */
	uint64_t seed;	   /* the seed of every point's plan */
	char *target_json; /* the fault-plan target of every point, JSON text */
	bool witness;	   /* run magma-witness next to the command */
	uint32_t sweep_count;
	struct campaign_sweep *sweeps;
	uint32_t point_count; /* the sum of every sweep's points */
};

/*
 * campaign_parse - read @text (@len bytes) as a campaign; @file names it in messages and in
 * the campaign. @default_comm is the target's process when the campaign names no target (the
 * command's comm). Every point's plan is generated and checked with fault_plan_parse and
 * fault_plan_check_device before this returns. Returns a new campaign, or NULL with "FILE:LINE:
 * FIELD: what is wrong" in @error. Pure.
 */
struct campaign *campaign_parse(const char *text, size_t len, const char *file,
				const char *default_comm, char error[CAMPAIGN_ERROR_MAX]);

/* campaign_load - campaign_parse of the file at @path (I/O errors reported in @error too). */
struct campaign *campaign_load(const char *path, const char *default_comm,
			       char error[CAMPAIGN_ERROR_MAX]);

/* campaign_destroy - free @campaign (NULL is a no-op). */
void campaign_destroy(struct campaign *campaign);

/*
 * campaign_point_find - the sweep (index) and N (1-based within the sweep) of point @id.
 * False if @id is not a point of @campaign.
 */
bool campaign_point_find(const struct campaign *campaign, uint32_t id, uint32_t *sweep_out,
			 uint32_t *n_out);

/*
 * campaign_point_plan - the fault plan of point @id, as JSON text (a new string, free()).
 * NULL if @id is not a point or memory ran out.
 */
char *campaign_point_plan(const struct campaign *campaign, uint32_t id);

/* campaign_stage_name - "submission" etc.; "?" for an unknown stage. */
const char *campaign_stage_name(enum campaign_stage stage);

/*
 * campaign_comm_of - the kernel's comm of a process started from @argv0: its basename cut to 15
 * characters, into @out.
 */
void campaign_comm_of(const char *argv0, char out[CAMPAIGN_COMM_MAX]);

/* campaign_fnv1a - FNV-1a 64 of @len bytes at @data. */
uint64_t campaign_fnv1a(const void *data, size_t len);

/*
 * campaign_shard_has - whether point @id belongs to shard @index of @count: (id - 1) % count
 * == index. Every point is in exactly one shard.
 */
bool campaign_shard_has(uint32_t id, uint32_t index, uint32_t count);

#endif /* CAMPAIGN_SPEC_H */

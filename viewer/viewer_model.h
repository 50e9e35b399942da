/* SPDX-License-Identifier: MIT */
/*
 * viewer_model.h - what magma-view knows about a trace: jobs per hardware queue, device markers,
 * and the client's connections, contexts, buffers, mappings, submissions and notifications, each
 * stamped with its event index (the trace's "seq") and a cycle on one time axis.
 *
 * The model is built once from a trace file (viewer_model_load) and is read-only afterwards. The
 * time axis is GPU cycles; a trace that holds several devices one after another lays them end to
 * end (each device starts where the previous one ended). Client events carry no cycle of their
 * own: they get the cycle of the last device event before them in the file.
 *
 * Jobs are matched to the submission (and so to the connection and context) that caused them;
 * the device events do not name contexts, so the match is derived (viewer_model.c explains how).
 * Single-threaded: one model belongs to one thread.
 */
#ifndef VIEWER_MODEL_H
#define VIEWER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIEWER_NONE	  UINT64_MAX /* "no event" for seq members */
#define VIEWER_NAME_MAX	  48	     /* buffer names are cut to this many bytes */
#define VIEWER_MAX_QUEUES 16	     /* queues beyond this are folded into the last track */

enum viewer_job_end {
	VIEWER_JOB_OK,	       /* JOB_END with fault code 0 */
	VIEWER_JOB_FAULTED,    /* JOB_END with a fault code */
	VIEWER_JOB_RESET,      /* still running when a soft reset began (hung or innocent) */
	VIEWER_JOB_UNFINISHED, /* no end in the trace */
};

struct viewer_job {
	uint64_t start_seq, end_seq; /* JOB_START, and JOB_END or the RESET that ended it */
	uint64_t start_cycle, end_cycle;
	uint64_t cmd_va, seqno;
	uint32_t queue, slot, fault; /* fault: SIM_FAULT_* of the JOB_END (0: none) */
	enum viewer_job_end end;
	int connection;	 /* index into viewer_model.connections, -1 unknown */
	int submission;	 /* index into viewer_model.submissions, -1 unknown */
	int resubmit_of; /* a job with the same command that a reset ended earlier, -1 none */
	size_t first_command, command_count; /* its commands: viewer_model.commands[first...] */
};

/*
 * A command a job ran: a CMD event on the job's queue between its JOB_START and its end. Traces
 * recorded before CMD events were recorded have none.
 */
struct viewer_command {
	uint64_t seq, cycle;
	uint64_t va;	 /* where the command sits in GPU memory */
	uint32_t opcode; /* SIM_CMD_* */
	int job;	 /* index into viewer_model.jobs */
	char name[16];	 /* the opcode's name, "" when the trace gives none */
};

enum viewer_marker_kind {
	VIEWER_MARK_FAULT, /* unit = queue, code = SIM_FAULT_*, value = VA, value2 = AS slot */
	VIEWER_MARK_RESET_BEGIN, /* code = SIM_GPU_COMMAND_*_RESET */
	VIEWER_MARK_RESET_DONE,
	VIEWER_MARK_POWER, /* code = cores ready, value = clock divider */
	VIEWER_MARK_IRQ,   /* code = cause bits */
};

struct viewer_marker {
	enum viewer_marker_kind kind;
	uint64_t seq, cycle;
	uint32_t unit, code;
	uint64_t value, value2;
};

/* A fault the chain view explains: a FAULT event, or a job a soft reset ended (a hang). */
struct viewer_fault {
	uint64_t seq, cycle; /* the FAULT event, or the RESET begin for a hang */
	bool hang;	     /* no FAULT event: the job was still running at a soft reset */
	uint32_t code;	     /* SIM_FAULT_* (0 for a hang) */
	uint64_t va;	     /* fault VA (0 for a hang) */
	uint32_t queue, slot;
	int job;	/* index into jobs, -1 unknown */
	int connection; /* -1 unknown */
};

struct viewer_connection {
	uint64_t handle;
	uint64_t create_seq, release_seq;
	uint32_t number; /* 1, 2, ... in the order the trace created them */
};

struct viewer_context {
	int connection;
	uint32_t id;
	uint64_t create_seq, release_seq;
};

struct viewer_buffer {
	int connection;
	uint64_t handle, id, size;
	uint64_t create_seq, release_seq;
	char name[VIEWER_NAME_MAX]; /* "" until buffer_set_name */
};

struct viewer_mapping {
	int connection;
	int buffer; /* index into buffers, -1 when the trace does not know the handle */
	uint64_t va, offset, length, flags;
	uint64_t map_seq, unmap_seq; /* unmap_seq VIEWER_NONE while mapped */
};

struct viewer_submission {
	uint64_t seq;
	int connection;
	uint32_t context;
	bool is_inline;
	uint64_t cmd_buffer_id, start_offset; /* of the first command buffer */
	uint64_t cmd_va; /* where the first command buffer is mapped (0: unknown) */
	int job;	 /* the first job it caused, -1 none seen */
};

/* A call with a status, kept for the chain view (get_error, flush, poll, ...). */
struct viewer_call {
	uint64_t seq;
	int connection; /* -1 when the call names none */
	int32_t status;
	char name[28];
};

/* A read_notification that returned a payload (struct magma_sim_notification). */
struct viewer_notification {
	uint64_t seq;
	int connection;
	bool decoded; /* false when the payload was not 32 bytes */
	uint32_t type, context_id, fault_code;
	uint64_t sequence, fault_address;
};

/* Everything that happened at one event index, for hover texts and the cursor. */
struct viewer_event {
	uint64_t cycle;
	uint8_t type; /* enum viewer_event_type */
};

enum viewer_event_type {
	VIEWER_EV_OTHER,
	VIEWER_EV_DEV, /* a device event of any kind */
	VIEWER_EV_CALL,
	VIEWER_EV_BLOB,
	VIEWER_EV_COMPLETION,
	VIEWER_EV_DEVICE, /* created / destroyed */
};

struct viewer_model {
	char *path;
	uint64_t event_count;	     /* events before "end" */
	struct viewer_event *events; /* [event_count], indexed by seq */
	uint64_t first_cycle, last_cycle;
	uint32_t queue_count; /* highest queue seen + 1 */
	uint32_t device_count;

	struct viewer_job *jobs;
	size_t job_count;
	struct viewer_command *commands; /* grouped by job, in event order within a job */
	size_t command_count;
	struct viewer_marker *markers;
	size_t marker_count;
	struct viewer_fault *faults;
	size_t fault_count;
	struct viewer_connection *connections;
	size_t connection_count;
	struct viewer_context *contexts;
	size_t context_count;
	struct viewer_buffer *buffers;
	size_t buffer_count;
	struct viewer_mapping *mappings;
	size_t mapping_count;
	struct viewer_submission *submissions;
	size_t submission_count;
	struct viewer_call *calls;
	size_t call_count;
	struct viewer_notification *notifications;
	size_t notification_count;
};

/*
 * viewer_model_load - read the trace at @path. The whole file is first checked by the trace
 * library's validator (the one magma-replay uses: header, version, every member, blobs, the end
 * event), so a model is only built from a well-formed trace. Returns the model (free it with
 * viewer_model_destroy), or NULL with a one-line reason in @err (never empty then), e.g.
 * "bad trace: line 7 (byte offset 812, event 5): ...". Never aborts on bad input.
 */
struct viewer_model *viewer_model_load(const char *path, char *err, size_t err_size);

/* viewer_model_destroy - free @m. NULL is a no-op. */
void viewer_model_destroy(struct viewer_model *m);

/* viewer_model_cycle_at - the cycle of event @seq (clamped to the last event). */
uint64_t viewer_model_cycle_at(const struct viewer_model *m, uint64_t seq);

/*
 * viewer_model_event_at_cycle - the last event whose cycle is at most @cycle (0 when none), so a
 * click on the time axis selects what had happened by then.
 */
uint64_t viewer_model_event_at_cycle(const struct viewer_model *m, uint64_t cycle);

/* viewer_model_mapping_is_live - whether mapping @mp existed after event @seq ran. */
bool viewer_model_mapping_is_live(const struct viewer_mapping *mp, uint64_t seq);

/* viewer_model_connection_is_live - whether connection @c existed after event @seq ran. */
bool viewer_model_connection_is_live(const struct viewer_connection *c, uint64_t seq);

/* viewer_model_fault_at - the last fault at or before event @seq, -1 when none. */
int viewer_model_fault_at(const struct viewer_model *m, uint64_t seq);

/* viewer_model_default_event - a useful first cursor: the first fault, else the last job start. */
uint64_t viewer_model_default_event(const struct viewer_model *m);

/* viewer_fault_name_of - "MMU_TRANSLATION", "HANG" ... for a fault code. Pure. */
const char *viewer_fault_name_of(uint32_t code);

#endif /* VIEWER_MODEL_H */

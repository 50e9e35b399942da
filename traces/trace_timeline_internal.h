/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline_internal.h - the three parts of a timeline: trace_timeline.c collects records,
 * trace_timeline_build.c turns them into items, trace_timeline_json.c nests, orders and writes
 * those as Chrome Trace Event JSON. Not part of the traces API.
 *
 * An item is one thing drawn: a slice ("X"), an instant ("i") or a counter sample ("C"), on one
 * track. Times are GPU cycles since the device started, continued across hard resets (which
 * restart the sim's clock at 0). Items are built in record order; the writer sorts them by
 * (ts, order, creation), makes every track's slices nest the way Perfetto requires, and writes
 * them. Building and writing run under the timeline's lock, on the thread that calls
 * trace_timeline_write.
 */
#ifndef TRACES_TRACE_TIMELINE_INTERNAL_H
#define TRACES_TRACE_TIMELINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_regs.h"

#define TIMELINE_MAX_CONTEXTS 256
#define TIMELINE_NONE	      SIZE_MAX

/* Tracks: the device's own track, one per queue, one per client context (in that order). */
#define TIMELINE_TRACK_DEVICE	  0u
#define TIMELINE_TRACK_QUEUE(q)	  (1u + (q))
#define TIMELINE_TRACK_CONTEXT(n) (1u + SIM_QUEUE_MAX + (n))
#define TIMELINE_TRACKS		  (1u + SIM_QUEUE_MAX + TIMELINE_MAX_CONTEXTS)

/* pid/tid of the tracks (the tid of queue q is TIMELINE_TID_QUEUE + q, of context n 2000 + n). */
#define TIMELINE_PID_GPU     1
#define TIMELINE_PID_CLIENT  2
#define TIMELINE_TID_DEVICE  1
#define TIMELINE_TID_QUEUE   100
#define TIMELINE_TID_CONTEXT 2000

enum timeline_kind {
	TIMELINE_JOB,	     /* X, queue track: one ring entry of a job */
	TIMELINE_JOB_COPY,   /* X, context track: the same entry on its context's track */
	TIMELINE_CMD,	     /* X, inside its job: one command */
	TIMELINE_SUBMIT,     /* X, 0 long, context track: the submission of a job */
	TIMELINE_DONE,	     /* X, 0 long: a job completed (context track, else queue track) */
	TIMELINE_FAULT,	     /* i (thread), queue track (device track without a queue) */
	TIMELINE_IRQ,	     /* i (thread), device track */
	TIMELINE_RESET,	     /* X, device track: reset begin .. done */
	TIMELINE_RESET_MARK, /* i (global): a reset begins */
	TIMELINE_POWER,	     /* C: cores ready, clock divider */
	TIMELINE_BUSY,	     /* C: queues running a job (built as +1/-1, summed by the writer) */
};

/* How a job's ring entry ended (TIMELINE_JOB and _COPY). */
enum timeline_job_end {
	TIMELINE_END_DONE,	/* JOB_END (code: the fault code, 0 ok) */
	TIMELINE_END_RESET,	/* a GPU reset began */
	TIMELINE_END_ABANDONED, /* the next job started on its queue without a JOB_END */
	TIMELINE_END_UNFINISHED /* the timeline ended first */
};

/*
 * One item. Field use per kind: JOB/JOB_COPY: value = command VA, value2 = seqno, code = fault
 * code, slot = AS slot, aux = entry index in the job, end_kind; CMD: code = opcode, value = VA,
 * value2 = seqno of its job, aux = index in the entry; SUBMIT: value = connection, code =
 * context, aux = 1 when no job was matched; DONE: value2 = seqno, code = fault code; FAULT: code,
 * value = VA, value2 = AS slot; IRQ: code = cause; RESET/_MARK: code = SIM_GPU_COMMAND_*;
 * POWER: code = cores ready, value = divider; BUSY: delta (then the sum, set by the writer).
 */
struct timeline_item {
	uint64_t ts;	/* cycles */
	uint64_t end;	/* cycles, >= ts (X only) */
	uint64_t order; /* index of the record that placed it: ties of ts go by it */
	uint64_t made;	/* creation index: ties of ts and order go by it */
	uint64_t value;
	uint64_t value2;
	uint32_t code;
	uint32_t queue;
	uint32_t slot;
	uint32_t aux;
	uint32_t track;
	uint32_t flow; /* bind_id (v2 flow), 0: none */
	int32_t delta; /* BUSY */
	uint8_t kind;
	uint8_t end_kind;
	bool flow_in;
	bool flow_out;
	bool clamped; /* set by the writer: the end was cut to nest in the enclosing slice */
	bool skip;    /* set by the writer: a counter sample that repeats the previous value */
};

/* Record types besides the sim's event types. */
#define TIMELINE_REC_SUBMIT    0xffffffffu /* value = connection, value2 = cmd VA, code = context */
#define TIMELINE_REC_CANCELLED 0xfffffffeu /* a submit record whose submission failed */

/* One collected record: a device event (type = enum sim_event_type) or a submission. */
struct timeline_rec {
	uint64_t cycle;
	uint64_t value;
	uint64_t value2;
	uint32_t type;
	uint32_t unit;
	uint32_t code;
};

/* What trace_timeline_build.c builds for one write. */
struct timeline_build {
	struct timeline_item *items;
	size_t count;
	size_t cap;
	uint32_t flows; /* flow ids handed out: 1 .. flows */
	bool track_used[TIMELINE_TRACKS];
	struct {
		uint64_t connection;
		uint32_t context;
	} ctxs[TIMELINE_MAX_CONTEXTS];
	uint32_t ctx_count;
};

/*
 * timeline_build - the items of the @count records @recs into @b (zeroed by the caller; its
 * items array is the caller's to free). 0 or -ENOMEM.
 */
int timeline_build(const struct timeline_rec *recs, size_t count, struct timeline_build *b);

/*
 * timeline_json_write - sort, nest and write @b's items to @path (see trace_timeline_json.c).
 * Reorders @b->items and sets their clamped/skip flags. 0 or -errno.
 */
int timeline_json_write(struct timeline_build *b, const char *path);

#endif /* TRACES_TRACE_TIMELINE_INTERNAL_H */

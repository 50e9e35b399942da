/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_internal.h - what the files of the replayer share (not installed).
 *
 * trace_reader.c reads the file and keeps its blobs; trace_replay_map.c holds the small
 * containers (maps from recorded handles and ids to the replay's objects, growable arrays);
 * trace_replay_calls.c checks and replays each call (a table indexed by enum trace_call_id, the
 * ids of traces/trace_calls.h); trace_replay_contents.c restores and compares resource contents
 * and checks completions; trace_replay.c runs the two passes, reports errors and implements
 * trace_replay.h.
 *
 * One struct replay per trace_replay_run, used by the caller's thread only, except where a
 * member says otherwise.
 */
#ifndef TRACES_TRACE_REPLAY_INTERNAL_H
#define TRACES_TRACE_REPLAY_INTERNAL_H

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lib/magma/magma.h>

#include "sim/sim_regs.h"
#include "trace_json.h"
#include "trace_map.h"
#include "traces/trace_calls.h"
#include "traces/trace_replay.h"

struct magma_system_embedded;
struct sim_device;
struct trace_timeline;

/* How long replay waits, by default, for a semaphore the recording saw signaled. */
#define REPLAY_WAIT_NS	   (10ull * 1000 * 1000 * 1000)
/* Buffer fds the replay keeps open at once (the least recently opened is closed first). */
#define REPLAY_OPEN_FDS	   256u
/* Resource contents are restored and digested this many bytes at a time. */
#define REPLAY_CHUNK	   (64u * 1024)
/* Blob text kept in memory, by default; the rest is read again from the file when used. */
#define REPLAY_BLOB_BUDGET (64ull << 20)

/* ---- the replay's objects ---- */

struct replay_buffer {
	magma_buffer_t h;
	uint64_t id;
	uint64_t rec_id; /* the recorded id */
	uint64_t size;
	/*
	 * From magma_buffer_get_handle, opened when used (trace_replay_buffer_fd): -1 while closed.
	 * At most REPLAY_OPEN_FDS stay open, so a trace holding as many buffers as its recording
	 * process could (one fd each in libmagma) needs no more fds to replay.
	 */
	int fd;
	bool readable; /* a handle can be had: its contents can be read and written */
	bool released;
};

struct replay_sem {
	magma_semaphore_t h;
	uint64_t id;
	/*
	 * The semaphore's end outside the trace (see signal_outside in trace_replay_calls.c): for
	 * an import of an eventfd the trace never obtained (the client made it), the replay's own
	 * end of the eventfd it imported instead; -1 otherwise.
	 */
	int foreign_fd;
	/* Its last export: the recorded handle and the replay's fd (while the trace holds it). */
	uint64_t export_rec;
	int export_fd;	   /* -1: never exported */
	bool has_signaler; /* a submission of the trace so far signals it (the GPU may still) */
};

/*
 * A blob of the trace, decoded when used: its text, or where to read it again once the texts
 * kept took r->blob_budget bytes (trace_reader_blob_text).
 */
struct replay_blob {
	char *text;	      /* NULL: not kept */
	uint64_t size;	      /* decoded bytes */
	uint64_t line;	      /* of its blob event */
	uint64_t event;	      /* that event's index */
	uint64_t file_offset; /* of that line */
	size_t line_len;      /* of that line, without its newline */
};

/* A buffer as the trace declares it (validation): its recorded size and where it was made. */
struct replay_rec_buffer {
	uint64_t size;
	uint64_t line;
};

struct replay_range {
	uint64_t buf; /* index into buffers, UINT64_MAX when unknown */
	uint64_t offset, length;
};

/* A submission that signals semaphores, remembered for its completion event. */
struct replay_sub {
	uint32_t sem_count, range_count;
	uint64_t *sems; /* indices into sems */
	struct replay_range *ranges;
};

/*
 * A map_buffer of the trace, by its recorded values (for naming a fault's address, and for
 * trace_replay_inert).
 */
struct replay_mapping {
	uint64_t conn;	    /* recorded connection */
	uint64_t va;	    /* hw_va */
	uint64_t length;    /* 0 once unmapped */
	uint64_t offset;    /* into the buffer */
	uint64_t buffer_id; /* recorded buffer id */
	uint64_t event;	    /* of the map_buffer call */
	uint64_t flags;	    /* MAGMA_MAP_FLAG_* */
	uint64_t prev; /* the mapping of the same buffer and connection before it, or UINT64_MAX */
};

/* A recent execute_command: where its first command buffer starts in the GPU's address space. */
struct replay_cmdbuf {
	uint64_t va;
	uint64_t conn; /* recorded connection */
	uint64_t event, line;
};

/* The most command buffers msd-sim takes in one submission (MSD_SIM_MAX_COMMAND_BUFFERS). */
#define REPLAY_INERT_MAX_CMDBUFS 256

/* How many recent submissions a fault can be traced back to. */
#define REPLAY_CMDBUFS_KEPT 4096
/* Faults kept between two looks of the replay's thread (more are counted, not described). */
#define REPLAY_FAULTS_KEPT  16

/* A fault of the replay device (trace_replay_device.c). */
struct replay_fault {
	uint32_t code, queue, slot;
	uint64_t va, cycle;
	bool has_job; /* the queue's job: its command buffer VA */
	uint64_t job_va;
	bool has_cmd; /* the command that started last on the queue, if the job got that far */
	uint32_t cmd_opcode;
	uint64_t cmd_va;
};

/* How many TIMESTAMP writes the watch keeps between two looks of the replay's thread. */
#define REPLAY_STAMPS_KEPT 16384

/* How many connections that started jobs at one VA a TIMESTAMP there is attributed to. */
#define REPLAY_JOB_CONNS 4

/* A TIMESTAMP of the replay device: its job's command buffer VA and the VA it wrote. */
struct replay_stamp {
	uint64_t job_va, va;
};

/* Where a TIMESTAMP wrote, by the trace's names: recorded buffer id and offset into it. */
struct replay_stamp_at {
	uint64_t buffer_id, offset;
};

/* Per queue: the job and command started last. */
struct replay_watch_queue {
	uint32_t slot, cmd_opcode;
	uint64_t job_va, cmd_va;
	bool has_cmd;
};

/*
 * The replay device's job events (trace_replay_device.c). Written by the sim's event callback on
 * the device's threads; the replay's thread reads under @lock.
 */
struct replay_watch {
	pthread_mutex_t lock;	      /* a leaf, taken with the sim's device lock held */
	bool ready;		      /* lock initialised, observer installed */
	int sub;		      /* the sim subscription, or -1 */
	int fault_fd;		      /* eventfd written on every fault */
	_Atomic uint64_t digest;      /* a hash over the job events (written by the events only) */
	_Atomic uint64_t fault_count; /* written under lock; read without it (release/acquire) */
	struct replay_fault faults[REPLAY_FAULTS_KEPT]; /* guarded by lock: by count */
	struct replay_watch_queue q[SIM_QUEUE_MAX];	/* written by the events only */
	/* TIMESTAMP writes, a ring of REPLAY_STAMPS_KEPT (trace_replay_timing.c) */
	struct replay_stamp *stamps;  /* guarded by lock: by stamp_count */
	_Atomic uint64_t stamp_count; /* written under lock; read without it (release/acquire) */
};

/* A completion event of the trace, as validation saw it (trace_replay_contents.c). */
struct replay_completion {
	uint64_t submission; /* the seq of its submission */
	uint64_t group;	     /* completions with no call between them share a group, from 1 */
};

/* The trace file, read a line at a time (trace_reader.c). */
struct replay_reader {
	FILE *fp;
	const char *path;
	char *text;	    /* the current line (getline's buffer), NUL-terminated */
	size_t cap;	    /* of text */
	size_t len;	    /* of the current line, without its newline */
	bool cut;	    /* the current line ends the file without a newline */
	uint64_t next;	    /* byte offset of the line after the current one */
	uint64_t kept;	    /* bytes of blob text kept in memory */
	char *scratch;	    /* a blob's line read again (trace_reader_blob_text) */
	size_t scratch_cap; /* of scratch */
};

struct replay {
	const struct trace_replay_options *opts;
	struct trace_replay_result *res;
	struct magma_system_embedded *emb;
	struct sim_device *sim;
	int sim_sub;
	struct trace_timeline *tl;
	uint64_t open_fds[REPLAY_OPEN_FDS]; /* buffer indices with an fd open, a ring */
	uint32_t open_next, open_count;
	struct replay_map devices, conns, ctxs, bufs, buf_ids, sems, sem_ids, subs, blobs;
	/*
	 * Early losses (check_status): a recorded connection handle may be reused, so connections
	 * are numbered in create_connection order, by the checking pass (check_gen: handle ->
	 * number) and again by the replay (replay_gen); conn_lost maps a number to the index of
	 * that connection's first call that failed with CONTEXT_KILLED or CONNECTION_LOST.
	 */
	struct replay_map check_gen, replay_gen, conn_lost;
	uint64_t check_gens, replay_gens;
	uint64_t early_losses;	      /* calls not compared: the replay's connection died sooner */
	uint32_t live_connections;    /* replay connections created and not released */
	struct replay_watch watch;    /* the replay device's events */
	uint64_t faults_seen;	      /* faults of the watch looked at */
	uint64_t stamps_seen;	      /* TIMESTAMP writes of the watch resolved */
	struct replay_map stamp_at;   /* (buffer id, offset) a TIMESTAMP wrote -> 1 */
	struct replay_vec stamp_list; /* struct replay_stamp_at, the same places in order */
	struct replay_map job_conns;  /* (job VA, 0..REPLAY_JOB_CONNS-1) -> recorded conn + 1 */
	uint64_t recorded_faults;     /* FAULT device events of the trace */
	uint64_t recorded_kills;      /* calls of the trace that returned CONTEXT_KILLED */
	bool recorded_device;	      /* the trace has device events (an embedded device) */
	struct replay_vec mappings;   /* struct replay_mapping, from map_buffer calls */
	struct replay_map mapping_of; /* (recorded conn, buffer id) -> its latest mapping */
	struct replay_map listed;     /* (recorded conn, buffer id) listed as a resource */
	struct replay_map ctxs_released; /* (recorded conn, context) released (value 1) */
	/* opts->skip_inert (trace_replay_inert.c): */
	uint64_t inert_from;		/* submissions before this event are all sent */
	uint64_t inert_last;		/* the last submission found inert, + 1 (0: none) */
	uint64_t inert_noted;		/* validation: the last call noted, + 1 ... */
	bool inert_noted_clock;		/* ... and whether its work may read the clock */
	struct replay_map cmd_class;	/* (contents digest, start) -> what its commands do */
	struct replay_cmdbuf *cmdbufs;	/* REPLAY_CMDBUFS_KEPT recent submissions, a ring */
	uint64_t cmdbuf_count;		/* submissions put in the ring so far */
	struct replay_vec completions;	/* struct replay_completion, in file order (pass 1) */
	uint64_t completion_groups;	/* groups so far (pass 1) */
	bool completion_run;		/* the last event checked was a completion (pass 1) */
	uint64_t completion_next;	/* completions replayed so far (pass 2) */
	uint64_t completion_waited;	/* the group whose submissions were waited for */
	struct replay_map handles;	/* exported fds (closed at the end unless imported) */
	struct replay_map chans;	/* notification channels (owned by their connections) */
	struct replay_map pools;	/* (recorded connection, recorded pool) -> replay pool id */
	struct replay_map pool_handles; /* same keys -> the recorded notification handle */
	struct replay_vec buffers, semaphores, submissions, blob_data;
	struct replay_map rec_bufs;    /* (recorded connection, buffer id) -> rec_buffers index */
	struct replay_vec rec_buffers; /* struct replay_rec_buffer, filled by validation */
	struct replay_reader rd;
	struct trace_json json;		/* the tree of the current line (trace_json.h) */
	uint64_t checked_index;		/* validation: the last call whose check a repeat reuses */
	enum trace_call_id checked_id;	/* ... and its id (trace_replay.c, note_checked) */
	struct replay_vec line_digests; /* uint64_t per event line of pass 1, checked in pass 2 */
	uint64_t blob_budget;		/* opts->blob_budget, or REPLAY_BLOB_BUDGET */
	bool truncated;			/* pass 1 found the file cut short (res->warning) */
	uint64_t max_size;		/* opts->max_size, or TRACE_MAX_SIZE */
	uint64_t wait_ns;		/* opts->wait_ns, or REPLAY_WAIT_NS */
	uint8_t *chunk;			/* 2 * REPLAY_CHUNK bytes for streaming contents */
	uint64_t line;			/* of the current event */
	uint64_t offset;		/* of the current line */
	uint64_t index;			/* of the current event */
	bool checking;
	bool held;		 /* opts->hold: the GPU is paused (trace_replay.c, replay_gate) */
	struct replay_vec burst; /* opts->hold: struct replay_range submitted since the pause */
	/* A failure reported where it could not be returned (r->res->message); ends the replay. */
	int error;
};

/* Handed to on_stop; lives on the run loop's stack for the call. */
struct trace_replay_access {
	const struct replay *r;
};

/* ---- reporting (trace_replay.c) ---- */

/*
 * Writes the report of an enum trace_replay_exit @code into r->res->message, prefixed by where
 * the replay is (line, byte offset and event for bad input; event and line otherwise), and
 * returns @code.
 */
int trace_replay_fail(struct replay *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- JSON values of events: validation checked them before replay uses them ---- */

/*
 * Member @k of object @o (case-sensitive), or NULL: what cJSON_GetObjectItemCaseSensitive
 * returns (the first member of that name; the search ends at an item without a name), compared
 * in line. Validation and replay look members up a few hundred times a line, and strcmp's call
 * was a third of what dump spent on the 100k-call trace.
 */
static inline const cJSON *member(const cJSON *o, const char *k)
{
	if (!o || !k)
		return NULL;
	for (const cJSON *c = o->child; c && c->string; c = c->next) {
		const char *a = c->string, *b = k;

		while (*a && *a == *b) {
			a++;
			b++;
		}
		if (*a == *b)
			return c;
	}
	return NULL;
}

/*
 * @n as uint64 when it is a finite, non-negative, integral number (clamped at UINT64_MAX: a
 * double past that range must never be converted, it is undefined behaviour).
 */
static inline bool number_u64(const cJSON *n, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(n))
		return false;
	d = n->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d))
		return false;
	*out = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
	return true;
}

/* A non-negative integral number member as uint64 (clamped at UINT64_MAX). */
static inline bool get_u64(const cJSON *o, const char *k, uint64_t *out)
{
	return number_u64(member(o, k), out);
}

/* Whether @n is an id or counter: a non-negative integral number below 2^64. */
static inline bool is_id(const cJSON *n)
{
	uint64_t v;

	return number_u64(n, &v) && n->valuedouble < 18446744073709551616.0; /* 2^64 */
}

/* An array item that validation checked with is_id (ids, counters). */
static inline uint64_t item_u64(const cJSON *it)
{
	uint64_t v = 0;

	number_u64(it, &v);
	return v;
}

/* Like get_u64 but for members already checked by validation. */
static inline uint64_t u64(const cJSON *o, const char *k)
{
	uint64_t v = 0;

	get_u64(o, k, &v);
	return v;
}

/* The recorded status ("result") into *@out when it is an integer of at most 1e9. */
static inline bool get_status(const cJSON *o, int64_t *out)
{
	const cJSON *n = member(o, "result");

	if (!cJSON_IsNumber(n) || n->valuedouble != floor(n->valuedouble) ||
	    fabs(n->valuedouble) > 1e9)
		return false;
	*out = (int64_t)n->valuedouble;
	return true;
}

/* The string member @k of @o, or NULL. */
static inline const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *s = member(o, k);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* The recorded status of an event validation checked (0 when it has none). */
static inline magma_status_t status_of(const cJSON *ev)
{
	int64_t st = 0;

	get_status(ev, &st);
	return (magma_status_t)st;
}

/* ---- the file and its blobs (trace_reader.c) ---- */

/*
 * Fails (bad input, naming @what) unless each of the NULL-terminated @keys of @o is a
 * non-negative integer.
 */
int trace_reader_check_u64s(struct replay *r, const cJSON *o, const char *const *keys,
			    const char *what);
/* Opens @path (kept, not copied) for reading; bad input when it cannot be opened. */
int trace_reader_open(struct replay *r, const char *path);
/* Back to the start of the file for another pass: line 0, offset 0. */
int trace_reader_rewind(struct replay *r);
/*
 * Reads the next line into r->rd (text, len without the newline, cut when the file ends without
 * one) and advances r->line and r->offset. Returns 1, 0 at the end of the file, or minus the
 * enum trace_replay_exit of a failure it reported (bad input for NUL bytes or a read error, host
 * error when out of memory).
 */
int trace_reader_next(struct replay *r);
/*
 * A 64-bit hash of the @len bytes of a line at @text: pass 2 replays a line only when it hashes
 * as pass 1 saw it. Not a content digest of the format (those are FNV-1a); pure.
 */
uint64_t trace_reader_line_digest(const char *text, size_t len);
/* Closes the file and frees the reader's buffers (not the blobs). */
void trace_reader_close(struct replay *r);
/* Checks the header line (@len bytes at @line): format, version. */
int trace_reader_check_header(struct replay *r, const char *line, size_t len);
/* Checks a blob event (size, encoding, digest, limits) and keeps its text. */
int trace_reader_check_blob(struct replay *r, const cJSON *ev);
/* The blob whose digest is the 16 hex digits @hex, or NULL (also for NULL or malformed @hex). */
const struct replay_blob *trace_reader_blob(struct replay *r, const char *hex);
/*
 * The text of @blob: kept, or its line read again and parsed into the reader's scratch buffer
 * (valid until the next call). NULL after a failure, reported and left in r->error (host error:
 * out of memory, or the file changed on disk); callers go on as if the blob were missing.
 */
const char *trace_reader_blob_text(struct replay *r, const struct replay_blob *blob);

/* ---- calls (trace_replay_calls.c) ---- */

/* Validates one call event's arguments and outs beyond the numeric keys of trace_calls. */
typedef int (*replay_check_fn)(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out);
/* Replays one call event. */
typedef int (*replay_call_fn)(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out);

struct replay_handler {
	replay_check_fn check; /* NULL: the table's numeric keys are all there is to check */
	replay_call_fn replay;
};

/* Indexed by enum trace_call_id; every id has a replay function. */
extern const struct replay_handler trace_replay_handlers[TRACE_CALL_COUNT];

/*
 * Validates call event @ev: a known name, args and out objects, the status, the numeric keys of
 * trace_calls and the call's own check. The call's id into *@id_out.
 */
int trace_replay_check_call(struct replay *r, const cJSON *ev, enum trace_call_id *id_out);

/* ---- submissions left out with opts->skip_inert (trace_replay_inert.c) ---- */

/*
 * Validation, for call event @ev (@id) before the stop: moves r->inert_from past a submission
 * whose work may read the GPU clock, or to UINT64_MAX for what rules out leaving any out.
 */
void trace_replay_inert_note(struct replay *r, const cJSON *ev, enum trace_call_id id);
/*
 * Replay: whether execute_command @ev (@args) may be left out, its resources' contents written
 * but the submission not sent (see trace_replay_inert.c). False unless opts->skip_inert.
 */
bool trace_replay_inert(struct replay *r, const cJSON *ev, const cJSON *args);

/* ---- the replay device (trace_replay_device.c) ---- */

/*
 * Installs the device observer: when the replay creates its embedded device, its events feed the
 * watch (faults, the job-event digest) and, with r->tl, the timeline. Host error when no eventfd.
 */
int trace_replay_device_watch(struct replay *r);
/* Removes the observer and frees the watch (after the device is gone). */
void trace_replay_device_unwatch(struct replay *r);
/* A hash over the job events of the replay device so far (TRACE_DIGEST_INIT without any). */
uint64_t trace_replay_device_digest(struct replay *r);
/*
 * Looks at the faults the device had since the last look: one the recording did not have, in the
 * checked window, is reported as a divergence naming its code, address, command, submission and
 * what the trace says about the address. Cheap when there is none (no system call). Then
 * resolves the TIMESTAMP writes since the last look (trace_replay_timing_take).
 */
int trace_replay_check_faults(struct replay *r);
/*
 * magma_poll of @count @items (which have room for one more) for up to @timeout_ns, also woken
 * by a fault of the replay device: *@fail_out is then the report of an unexpected fault (see
 * trace_replay_check_faults), else the wait goes on. Returns the poll's status.
 */
magma_status_t trace_replay_wait(struct replay *r, magma_poll_item_t *items, uint32_t count,
				 uint64_t timeout_ns, int *fail_out);

/* The mapping of recorded connection @conn (any, with @any_connection) holding @va, or NULL. */
const struct replay_mapping *trace_replay_mapping_at(const struct replay *r, uint64_t conn,
						     uint64_t va, bool any_connection);

/* ---- what the trace does not hold (trace_replay_outside.c) ---- */

/* The replay semaphore for recorded handle @rec, or NULL (trace_replay_calls.c). */
struct replay_sem *trace_replay_sem_by_handle(struct replay *r, uint64_t rec);
/*
 * The handle to import for import event @ev (@args, @out; a semaphore import with @semaphore):
 * the export the trace obtained, or a stand-in for a handle the client made itself. A host error
 * goes into *@fail; with @foreign_out, the replay's own end of a stand-in eventfd (else -1).
 */
magma_handle_t trace_replay_import_handle(struct replay *r, const cJSON *ev, const cJSON *args,
					  const cJSON *out, bool semaphore, int *fail,
					  int *foreign_out);
/*
 * Before a poll of @items whose recorded @results say which were signaled: signals, through
 * its end outside the trace, each semaphore that only something outside the trace can have
 * signaled.
 */
void trace_replay_signal_outside(struct replay *r, const cJSON *items, const cJSON *results);

/* ---- bytes GPU timing wrote (trace_replay_timing.c) ---- */

/*
 * A submission of recorded connection @conn starts at @job_va: remembered (with the last few
 * other connections that did) to name the buffers its TIMESTAMP commands write. Host error when
 * out of memory.
 */
int trace_replay_timing_job(struct replay *r, uint64_t job_va, uint64_t conn);
/* A TIMESTAMP of the job at @job_va wrote @va: on the device's thread, @w's lock held. */
void trace_replay_timing_note(struct replay_watch *w, uint64_t job_va, uint64_t va);
/* Resolves the TIMESTAMP writes noted since the last call into recorded buffer ids and offsets.
 * Host error when out of memory. */
int trace_replay_timing_take(struct replay *r);
/* How many TIMESTAMP writes overlap [@offset, + @length) of recorded buffer @buffer_id. */
uint64_t trace_replay_timing_count(struct replay *r, uint64_t buffer_id, uint64_t offset,
				   uint64_t length);
/*
 * Whether that range of the replay's buffer @b equals the recorded contents @blob in every byte
 * no TIMESTAMP wrote (false when there are no such writes, no contents or no read).
 */
bool trace_replay_timing_explains(struct replay *r, const struct replay_buffer *b,
				  uint64_t buffer_id, uint64_t offset, uint64_t length,
				  const struct replay_blob *blob);

/* ---- contents and completions (trace_replay_contents.c) ---- */

/* True when [@offset, + @length) lies inside @b and @b can be read and written. */
/* @b's fd, opened (closing the least recently opened past REPLAY_OPEN_FDS) when needed; -1
 * when no handle can be had. */
int trace_replay_buffer_fd(struct replay *r, const struct replay_buffer *b);
/* Before a call the recording saw fail with CONNECTION_LOST: wait for the replay's connection of
 * @args to be hung up too (trace_replay_calls.c). */
void trace_replay_await_connection_lost(struct replay *r, const cJSON *args);
/* Whether call @id with status @st says its connection is gone: CONTEXT_KILLED or
 * CONNECTION_LOST from any call, any error from flush or get_error (the connection's error). */
bool trace_replay_says_lost(enum trace_call_id id, magma_status_t st);
bool trace_replay_range_ok(const struct replay_buffer *b, uint64_t offset, uint64_t length);
/*
 * Makes a resource range hold the contents of blob @hex ("" or unknown: left alone), streamed a
 * chunk at a time and written only where they differ.
 */
void trace_replay_restore_range(struct replay *r, const struct replay_buffer *b, uint64_t offset,
				uint64_t length, const char *hex);
/*
 * Restores resource @bi's range before its submission is sent, as trace_replay_restore_range,
 * except when the replay holds the GPU (opts->hold) and work submitted since the pause lists an
 * overlapping range of that buffer (r->burst): those recorded contents are that work's partial
 * results, which written now would land before it runs here.
 */
void trace_replay_restore_resource(struct replay *r, const struct replay_buffer *b, uint64_t bi,
				   uint64_t offset, uint64_t length, const char *hex);
/* Holding the GPU: the @count @ranges of a submission sent join r->burst. Host error: no memory. */
int trace_replay_burst_add(struct replay *r, const struct replay_range *ranges, uint32_t count);
/*
 * The bytes of @blob, malloc'd (the caller frees them), or NULL when out of memory or when its
 * text cannot be read (r->error set).
 */
uint8_t *trace_replay_blob_bytes(struct replay *r, const struct replay_blob *blob);
/* True when @blob holds exactly the @size bytes at @data. */
bool trace_replay_blob_equals(struct replay *r, const struct replay_blob *blob, const uint8_t *data,
			      uint64_t size);
/* Remembers submission @seq's signal semaphores and resource ranges for its completion. */
int trace_replay_remember_submission(struct replay *r, uint64_t seq, const uint64_t *sems,
				     uint32_t sem_count, const struct replay_range *ranges,
				     uint32_t range_count);
/* Validates a completion event. */
int trace_replay_check_completion(struct replay *r, const cJSON *ev);
/*
 * Replays a completion event: waits for the submission's semaphores, compares its ranges. A
 * range that differs is also recorded in r->res->mismatch (for trace_race_explain).
 */
int trace_replay_completion(struct replay *r, const cJSON *ev);

#endif /* TRACES_TRACE_REPLAY_INTERNAL_H */

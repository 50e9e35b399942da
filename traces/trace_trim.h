/* SPDX-License-Identifier: MIT */
/*
 * trace_trim.h - internals of magma-trace trim, shared by trace_trim.c (the command: passes,
 * the replay to the cut, the range), trace_trim_state.c (the state) and trace_trim_setup.c (the
 * output and the setup calls). The state is the client-side one trim rebuilds: which devices,
 * connections, contexts, buffers, mappings, semaphores, exported handles, notification channels and
 * performance-counter pools a trace has live before a given event, as its calls say. Contents and
 * semaphore states are not in the calls; trim reads them from a replay stopped there.
 *
 * Records are never removed, only marked dead, and refer to each other by index (a handle value
 * may be reused for a later object, an index never is); an object is live while its own record
 * is and, for what belongs to a connection, while that connection's is. Single-threaded.
 */
#ifndef TRACES_TRACE_TRIM_H
#define TRACES_TRACE_TRIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_tool.h"

#define TRIM_NONE UINT64_MAX

struct trim_device {
	uint64_t handle;
	bool live;
};

struct trim_conn {
	uint64_t handle;
	uint64_t device; /* index */
	bool live;
	bool failed; /* a flush or get_error returned an error before the cut */
	int64_t failed_status;
	uint64_t failed_at; /* event */
	bool has_channel;   /* get_notification_channel was called */
	uint64_t channel;   /* ... and returned this handle */
	bool perf_access;   /* perf_enable_access succeeded */
	char *counters;	    /* the last enabled counter list as JSON, or NULL */
	uint64_t max_context;
	uint64_t temp_context; /* trim's own context for the contents fence (set when emitting) */
	int32_t error_at_cut;  /* the replay's connection error at the cut (0: none) */
};

struct trim_ctx {
	uint64_t conn; /* index */
	uint64_t id, priority;
	bool live, killed;
	uint64_t killed_at;
};

/* A buffer's memory or a semaphore's event, shared by the handles that export and import it. */
struct trim_object {
	uint64_t size;
	uint64_t digest;     /* of the contents at the cut, when has_contents */
	bool has_contents;   /* not all zero: written by the contents fence */
	bool read;	     /* contents (or state) already read */
	bool signaled;	     /* semaphore: signaled at the cut */
	bool emitted;	     /* created in the setup */
	bool signaled_later; /* semaphore: signaled again at or after the cut (CPU or a submission)
			      */
	uint64_t
		last_signal; /* semaphore: the last event before the cut that signals it, or NONE */
	uint64_t first;	     /* the buffer or semaphore (index) created for it in the setup */
	uint64_t export_seq; /* trim's own handles for its re-exports */
};

struct trim_buf {
	uint64_t conn; /* index */
	uint64_t handle, id, size;
	uint64_t object; /* index */
	bool live;
	bool has_policy;
	uint64_t policy;
};

struct trim_sem {
	uint64_t conn; /* index */
	uint64_t handle, id;
	uint64_t object; /* index */
	uint64_t flags;	 /* of its import_semaphore */
	bool live;
};

struct trim_mapping {
	uint64_t conn, buf; /* indices */
	uint64_t hw_va, offset, length, flags;
	bool live;
};

/* A handle an export returned and no import consumed yet. */
struct trim_export {
	uint64_t handle;
	uint64_t object; /* index */
	uint64_t source; /* the buffer or semaphore (index) exported */
	bool semaphore;
	bool live;
	bool orphan;   /* its buffer or semaphore was released before the cut (the handle lives) */
	bool readable; /* orphan semaphore: signaled at the cut */
};

struct trim_offset {
	uint64_t buffer_id, offset, length;
};

struct trim_pool {
	uint64_t conn; /* index */
	uint64_t pool, handle;
	bool live;
	struct replay_vec offsets; /* struct trim_offset */
};

/*
 * A submission with wait or signal semaphores whose completion the trace had not recorded yet
 * (execute_inline: only when it has semaphores, all of which the replay waits for).
 */
struct trim_pending {
	uint64_t seq;
	uint64_t offset, line_no; /* of its call event in the input */
	uint64_t conn;		  /* index */
	uint64_t context;	  /* recorded id */
	uint32_t sem_count, wait_count;
	uint64_t *sems;	     /* recorded ids the replay waits for at its completion */
	uint64_t *waits;     /* recorded wait semaphore ids (execute_command) */
	bool is_inline;	     /* execute_inline */
	bool done;	     /* its completion event came before the cut */
	bool completes_late; /* its completion event comes at or after the cut */
	bool resubmit;	     /* still waiting at the cut: the setup submits it again */
};

struct trim_state {
	struct replay_vec devices, conns, ctxs, objects, bufs, sems, mappings, exports, pools,
		pending;
	struct replay_map device_by_handle, conn_by_handle, buf_by_handle, sem_by_handle;
	struct replay_map sem_by_id;	 /* (conn index, semaphore id) */
	struct replay_map ctx_by_id;	 /* (conn index, context id) */
	struct replay_map mapping_by_va; /* (conn index, hw_va) */
	struct replay_map export_by_handle;
	struct replay_map pool_by_id;	  /* (conn index, pool) */
	struct replay_map pending_by_seq; /* submission event -> pending index */
	/* What the range (events from the cut to --to) refers to: */
	struct replay_map range_conns;	 /* connection handles its calls name */
	struct replay_map range_ctxs;	 /* (connection handle, context id) it submits to */
	struct replay_map range_handles; /* handles it polls or imports */
	char error[256];		 /* out of memory, when trim_state_apply fails */
};

/* trim_state_fini - free everything the state holds. */
void trim_state_fini(struct trim_state *s);

/*
 * trim_state_apply - account for the reader's current event, which comes before the cut: calls
 * create and release objects, completions retire pending submissions. Returns 0, or
 * TRACE_REPLAY_ENV_ERROR when out of memory (s->error).
 */
int trim_state_apply(struct trim_state *s, const struct tt_reader *rd);

/*
 * trim_state_note_after_cut - the reader's current event comes at or after the cut: a
 * completion says its submission was still running at the cut; a semaphore_signal, or a
 * submission that signals, marks the live semaphores it signals as signaled later. With
 * @in_range (up to --to), the connections, contexts and handles it names are noted too.
 * Returns 0 or TRACE_REPLAY_ENV_ERROR (out of memory, s->error).
 */
int trim_state_note_after_cut(struct trim_state *s, const struct tt_reader *rd, bool in_range);

/*
 * trim_pending_may_be_blocked - whether pending submission @p waits for a semaphore that no
 * event signals between its submission and the cut but one signals later (so it may still be
 * waiting at the cut).
 */
bool trim_pending_may_be_blocked(const struct trim_state *s, const struct trim_pending *p);

/*
 * trim_pending_can_resubmit - whether every semaphore and the context @p names are live at the
 * cut, so that the setup can submit it again as recorded.
 */
bool trim_pending_can_resubmit(const struct trim_state *s, const struct trim_pending *p);

/*
 * trim_pending_mark_signals_later - @p will be submitted again: the semaphores it signals are
 * signaled after the cut from now on (a submission waiting for them may be waiting too).
 */
void trim_pending_mark_signals_later(struct trim_state *s, const struct trim_pending *p);

/* Whether record @i of each kind is live at the cut (its own flag and its connection's). */
bool trim_conn_live(const struct trim_state *s, uint64_t i);
bool trim_ctx_live(const struct trim_state *s, uint64_t i);
bool trim_buf_live(const struct trim_state *s, uint64_t i);
bool trim_sem_live(const struct trim_state *s, uint64_t i);
bool trim_mapping_live(const struct trim_state *s, uint64_t i);
bool trim_pool_live(const struct trim_state *s, uint64_t i);

/* The output document (trace_trim_setup.c): its own framing so that write errors are seen. */
struct trim_out {
	FILE *f;
	uint64_t seq;
	struct replay_map blobs; /* digests written */
	bool failed;
};

/* One trim run (trace_trim.c). */
struct trim {
	const char *in, *out_path;
	uint64_t from, to, events;
	uint64_t from_offset, from_line; /* where event @from starts */
	struct trim_state s;
	struct replay_map blob_index;
	struct replay_map new_seq; /* input submission event -> output event */
	struct trim_out out;
	uint64_t setup_events, range_events, dropped_completions, carried_blobs, resubmitted;
	uint64_t warnings;
	uint64_t next_handle;	  /* of trim's own exports, above TRIM_HANDLE_BASE */
	uint64_t settle_deadline; /* end of the time on_stop waits for work in flight */
	bool created;		  /* the output file exists (removed again on failure) */
	int stop_ret;		  /* an error inside on_stop */
	char stop_error[512];
};

/* trim_warn - report what the output cannot carry (stderr) and count it. */
void trim_warn(struct trim *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* trim_conn_handle - the recorded handle of connection record @ci. */
uint64_t trim_conn_handle(const struct trim *t, uint64_t ci);

/*
 * trim_out_open - create @path and write the header, which names the range. 0 or -errno.
 * trim_out_event - one event: @fmt/... are its members after "seq".
 * trim_out_copy_line - copy input event line @line (without its trailing comma) with the next
 *   sequence number: lines that begin {"seq":N, keep their bytes, others go through cJSON.
 *   0, -EINVAL (not JSON), -ENOMEM.
 * trim_out_blob - @len bytes at @data as a blob event unless one of that digest was written;
 *   its digest into *@digest_out. 0 or -ENOMEM.
 * trim_out_close - the end event and the trailer; closes the file. 0, or -EIO/-errno when
 *   anything failed to be written.
 */
int trim_out_open(struct trim_out *o, const char *path, uint64_t from, uint64_t to);
void trim_out_event(struct trim_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int trim_out_copy_line(struct trim_out *o, const char *line);
int trim_out_blob(struct trim_out *o, const void *data, size_t len, uint64_t *digest_out);
int trim_out_close(struct trim_out *o);

/*
 * trim_setup_state - write the setup calls for the state at the cut (after on_stop has read
 * contents and states): devices to counter pools, then the contents.
 */
void trim_setup_state(struct trim *t);

/*
 * trim_setup_finish - the rest of the setup: resubmitted calls (read back from the input
 * through @rd), connection errors, device releases. 0, or -errno when a call cannot be read.
 */
int trim_setup_finish(struct trim *t, const struct tt_reader *rd);

#endif /* TRACES_TRACE_TRIM_H */

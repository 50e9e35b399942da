/* SPDX-License-Identifier: MIT */
/*
 * trace_replay.h - checking and replaying a magma-sim trace on a fresh embedded device.
 *
 * trace_replay_run validates the whole file first (header, version, every event's fields and
 * types, call names, blob encodings and digests) and only then replays: every recorded call is
 * made again on a new embedded device with ids and handles mapped to the new ones, recorded
 * resource contents are written before each submission, and statuses and completion digests are
 * compared. A file cut short replays up to its last complete event (result.truncated); a job
 * that faults in the replay only is reported at once; a differing completion names its bytes
 * when the trace holds them. Single-threaded: one replay per process at a time (it installs the
 * device observer).
 *
 * With stop_at and on_stop, a caller looks inside the replay where it stops (magma-view's buffer
 * view): on_stop runs on the caller's thread before the device is released, and may read any
 * live buffer of the replay by its *recorded* connection and buffer id.
 */
#ifndef TRACES_TRACE_REPLAY_H
#define TRACES_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What trace_replay_run found. magma-replay exits 0 for OK, 1 for DIVERGED and 125 (git bisect
 * run's "skip": this build could not check the trace) for the others (docs/trace-format.md
 * "Replay").
 */
enum trace_replay_exit {
	TRACE_REPLAY_OK = 0,	    /* replayed, no divergence */
	TRACE_REPLAY_DIVERGED = 1,  /* a status, digest or completion differs; a job faulted */
	TRACE_REPLAY_BAD_INPUT = 2, /* unreadable, corrupt, oversized or future trace */
	TRACE_REPLAY_ENV_ERROR = 3, /* the host failed: no device, out of memory, cannot write */
	TRACE_REPLAY_BAD_OPTIONS =
		4, /* with check_window: from, to or stop_at do not fit the trace */
};

/*
 * What on_stop may look at: the replay stopped before event stop_at. Opaque; valid only during
 * the on_stop call.
 */
struct trace_replay_access;

/* Matches a buffer id in any recorded connection (the first buffer the trace created wins). */
#define TRACE_REPLAY_ANY_CONNECTION UINT64_MAX

struct sim_config;

struct trace_replay_options {
	uint64_t from;	  /* events before this are replayed but not checked */
	uint64_t to;	  /* events after this are not replayed (UINT64_MAX: to the end) */
	uint64_t stop_at; /* stop before this event (UINT64_MAX: never) */
	/*
	 * from, to and stop_at must fit the trace (from and to name one of its N events, stop_at is
	 * at most N, from is not after to), else TRACE_REPLAY_BAD_OPTIONS; without it, values past
	 * the end mean "to the end" and a stop past it never stops (magma-view's buffer view).
	 */
	bool check_window;
	const char *timeline; /* Chrome Trace Event JSON of the replay's device events, or NULL */
	bool progress;	      /* draw a progress bar on stdout (caller checks isatty) */
	uint64_t max_size;    /* largest buffer, range or blob accepted (0: TRACE_MAX_SIZE) */
	uint64_t wait_ns;     /* how long to wait for what the recording saw happen (0: 10 s) */
	/*
	 * Bytes of blob text kept in memory between the passes (0: 64 MiB); the blobs past it are
	 * read again from the file when a call needs them.
	 */
	uint64_t blob_budget;
	/*
	 * Called once when the replay reaches stop_at (never when the trace ends first, nor on an
	 * error before), with @stop_ctx. Every event before stop_at has been replayed, including
	 * the waits of the completion events among them, so work the recording saw complete is in
	 * the buffers; work submitted whose completion comes later may still be running.
	 */
	void (*on_stop)(void *stop_ctx, const struct trace_replay_access *access);
	void *stop_ctx;
	/* The replay device's GPU (copied at its creation; NULL: sim_config_default). */
	const struct sim_config *sim_config;
	/*
	 * Pause the GPU from each submission to the next call or completion that waits for it
	 * (trace_perturb.h), so work submitted in between starts together: what runs first is
	 * the GPU's arbitration, never host thread timing. magma-replay --perturb sets it.
	 */
	bool hold;
	/*
	 * Only the state at stop_at matters (magma-trace dump and trim): submissions that cannot
	 * change it are not sent, their resources' recorded contents are still written
	 * (trace_replay_inert.c says which; a divergence such a submission would show is not
	 * reported). Ignored with hold or a timeline.
	 */
	bool skip_inert;
};

/* Where a completion digest differed (trace_replay_result.mismatch). */
struct trace_replay_mismatch {
	bool valid;	     /* set only for a completion whose contents differ */
	uint64_t event;	     /* the completion event */
	uint64_t submission; /* the execute_command event it completes */
	uint64_t resource;   /* index into that submission's resources */
	uint64_t buffer_id;  /* recorded buffer id */
	uint64_t offset;     /* the resource range in the buffer */
	uint64_t length;
	uint64_t first_diff; /* first differing byte, from offset; UINT64_MAX: unknown */
};

struct trace_replay_result {
	uint64_t events;	      /* events in the trace */
	uint64_t calls;		      /* calls replayed */
	uint64_t submissions;	      /* execute_command calls and inline commands replayed */
	uint64_t checked_calls;	      /* ... of them in the checked window (from .. to) */
	uint64_t checked_submissions; /* ... */
	uint64_t skipped;	      /* execute_command calls left out (skip_inert), not sent */
	uint64_t completions;	      /* completion events checked (in the window) */
	uint64_t gpu_cycles;	      /* the replay device's clock when the replay ended */
	uint64_t host_ns;	      /* wall time of the replay phase (validation excluded) */
	uint64_t digest;	      /* FNV-1a over every completion digest seen, in order */
	/*
	 * A 64-bit hash over the replay device's job events (job start and end, command, fault,
	 * reset, power, with their GPU cycles and AS slots): two replays with the same value ran
	 * the same jobs the same way.
	 */
	uint64_t device_digest;
	uint64_t stopped_at; /* event index where --stop-at stopped, else UINT64_MAX */
	char message[1024];  /* the bad-input or divergence report ("" on success) */
	/*
	 * The file was cut short (a crashed recording): @events counts its complete events, which
	 * were replayed, and @warning says where it ends. Not a failure by itself.
	 */
	bool truncated;
	char warning[256];
	struct trace_replay_mismatch mismatch; /* when a completion digest diverged */
	/*
	 * Completion ranges whose digest differed where the replay's TIMESTAMP commands wrote
	 * (GPU time, which follows the recording's host timing, not its calls): with recorded
	 * contents, every other byte matched; without, the range was not compared. Not
	 * divergences. @timing_note describes the first ("" when none).
	 */
	uint64_t timed_ranges;
	char timing_note[512];
};

/*
 * trace_replay_default_options - no window, no stop, no timeline, no progress bar; sizes up to
 * TRACE_MAX_SIZE, 10 s waits.
 */
void trace_replay_default_options(struct trace_replay_options *opts);

/*
 * trace_replay_run - validate and replay @path. Fills @result (message says where and what on
 * failure) and returns an enum trace_replay_exit value. Never aborts on bad input.
 */
int trace_replay_run(const char *path, const struct trace_replay_options *opts,
		     struct trace_replay_result *result);

/*
 * trace_replay_buffer_size - the size of the replay's buffer that the trace created as id
 * @buffer_id of recorded connection @connection (or TRACE_REPLAY_ANY_CONNECTION) into
 * *@size_out. Returns 0, -EINVAL for NULL arguments, -ENOENT when the trace made no such buffer
 * or already released it. Only inside on_stop.
 */
int trace_replay_buffer_size(const struct trace_replay_access *access, uint64_t connection,
			     uint64_t buffer_id, uint64_t *size_out);

/*
 * trace_replay_read_buffer - copy @length bytes at @offset of that buffer into @out, read from
 * the replay's buffer through its magma handle. Returns 0, -EINVAL for NULL arguments or a range
 * not inside the buffer, -ENOENT as trace_replay_buffer_size, -EIO when the read fails. Never
 * crashes on any id or range. Only inside on_stop.
 */
int trace_replay_read_buffer(const struct trace_replay_access *access, uint64_t connection,
			     uint64_t buffer_id, uint64_t offset, uint64_t length, void *out);

/*
 * trace_replay_semaphore_wait - wait up to @timeout_ns (0: only look) for the replay's semaphore
 * that the trace created or imported as id @semaphore_id of recorded connection @connection (or
 * TRACE_REPLAY_ANY_CONNECTION: the first live one of that id) to be signaled. Returns 0 when it is
 * signaled, -ETIMEDOUT when it is not, -EINVAL for a NULL
 * @access, -ENOENT when the trace made no such semaphore or already released it. Only inside
 * on_stop (magma-trace trim reads the semaphore state at the stop with it).
 */
int trace_replay_semaphore_wait(const struct trace_replay_access *access, uint64_t connection,
				uint64_t semaphore_id, uint64_t timeout_ns);

/*
 * trace_replay_handle_wait - wait up to @timeout_ns (0: only look) for the replay's handle that
 * the trace obtained as @handle from an export (buffer_export, semaphore_export) and has not
 * imported yet to be readable (an exported semaphore: signaled). Returns 0 when it is,
 * -ETIMEDOUT when not, -EINVAL for a NULL @access, -ENOENT for a handle the replay does not
 * hold. Only inside on_stop.
 */
int trace_replay_handle_wait(const struct trace_replay_access *access, uint64_t handle,
			     uint64_t timeout_ns);

/*
 * trace_replay_connection_error - the error state of the replay's connection for recorded
 * connection @connection (magma_connection_get_error: MAGMA_STATUS_OK or the first remote
 * error, which feed-forward calls before the stop may have caused without any call reporting
 * it yet) into *@status_out. Returns 0, -EINVAL for NULL arguments, -ENOENT when the trace has
 * no such open connection. Only inside on_stop.
 */
int trace_replay_connection_error(const struct trace_replay_access *access, uint64_t connection,
				  int32_t *status_out);

#endif /* TRACES_TRACE_REPLAY_H */

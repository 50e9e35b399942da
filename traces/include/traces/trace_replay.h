/* SPDX-License-Identifier: MIT */
/*
 * trace_replay.h - checking and replaying a magma-sim trace on a fresh embedded device.
 *
 * trace_replay_run validates the whole file first (header, version, every event's fields and
 * types, call names, blob encodings and digests) and only then replays: every recorded call is
 * made again on a new embedded device with ids and handles mapped to the new ones, recorded
 * resource contents are written before each submission, and statuses and completion digests are
 * compared. Single-threaded: one replay per process at a time (it installs the device observer).
 */
#ifndef TRACES_TRACE_REPLAY_H
#define TRACES_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

/* Also magma-replay's exit status (docs/trace-format.md "Replay"). */
enum trace_replay_exit {
	TRACE_REPLAY_OK = 0,	    /* replayed, no divergence */
	TRACE_REPLAY_DIVERGED = 1,  /* a status, digest or completion differs */
	TRACE_REPLAY_BAD_INPUT = 2, /* unreadable, truncated, corrupt, oversized or future trace */
	TRACE_REPLAY_ENV_ERROR = 3, /* the host failed: no device, out of memory, cannot write */
};

struct trace_replay_options {
	uint64_t from;	      /* events before this are replayed but not checked */
	uint64_t to;	      /* events after this are not replayed (UINT64_MAX: to the end) */
	uint64_t stop_at;     /* stop before this event (UINT64_MAX: never) */
	const char *timeline; /* Chrome Trace Event JSON of the replay's device events, or NULL */
	bool progress;	      /* draw a progress bar on stdout (caller checks isatty) */
	uint64_t max_size;    /* largest buffer, range or blob accepted (0: TRACE_MAX_SIZE) */
	uint64_t wait_ns;     /* how long to wait for what the recording saw happen (0: 10 s) */
};

struct trace_replay_result {
	uint64_t events;      /* events in the trace */
	uint64_t calls;	      /* calls replayed */
	uint64_t submissions; /* execute_command / execute_inline calls replayed */
	uint64_t completions; /* completion events checked */
	uint64_t gpu_cycles;  /* the replay device's clock when the replay ended */
	uint64_t host_ns;     /* wall time of the replay phase (validation excluded) */
	uint64_t digest;      /* FNV-1a over every completion digest seen, in order */
	uint64_t stopped_at;  /* event index where --stop-at stopped, else UINT64_MAX */
	char message[1024];   /* the bad-input or divergence report ("" on success) */
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

#endif /* TRACES_TRACE_REPLAY_H */

/* SPDX-License-Identifier: MIT */
/*
 * trace_calls.h - the one table of recorded calls: their names and numeric argument and out keys,
 * shared by the recorder (libmagma, magma/client/libmagma_trace.c) and the replayer
 * (traces/trace_replay_calls.c).
 *
 * A call event is {"type":"call","call":NAME,"args":{...},"result":S,"out":{...}}
 * (docs/trace-format.md, "call"). For each call this table gives NAME, the numeric members of
 * "args" and "out" (non-negative integers, written by the recorder in this order and required
 * by the reader), and whether the call has a status ("result"). Members that are not plain
 * numbers (arrays, strings, blob references) are written by the recorder after the numeric ones
 * and checked by the replayer's per-call check; the table does not list them.
 *
 * Plain C data with no dependencies (no cJSON), so that libmagma can link it: it lives in the
 * magma_trace leaf library. Adding a call means a new TRACE_CALL_* id, a row here, a wrapper in
 * libmagma_trace.c, a handler in trace_replay_calls.c and a version bump (docs "Versioning").
 */
#ifndef TRACES_TRACE_CALLS_H
#define TRACES_TRACE_CALLS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every recorded call, in the order of docs/trace-format.md's call table. */
enum trace_call_id {
	TRACE_CALL_DEVICE_IMPORT,
	TRACE_CALL_DEVICE_RELEASE,
	TRACE_CALL_DEVICE_QUERY,
	TRACE_CALL_CREATE_CONNECTION,
	TRACE_CALL_CONNECTION_RELEASE,
	TRACE_CALL_GET_ERROR,
	TRACE_CALL_FLUSH,
	TRACE_CALL_CREATE_CONTEXT,
	TRACE_CALL_RELEASE_CONTEXT,
	TRACE_CALL_CREATE_BUFFER,
	TRACE_CALL_RELEASE_BUFFER,
	TRACE_CALL_CREATE_SEMAPHORE,
	TRACE_CALL_RELEASE_SEMAPHORE,
	TRACE_CALL_BUFFER_OP,
	TRACE_CALL_MAP_BUFFER,
	TRACE_CALL_UNMAP_BUFFER,
	TRACE_CALL_EXECUTE_COMMAND,
	TRACE_CALL_EXECUTE_INLINE,
	TRACE_CALL_POLL,
	TRACE_CALL_SEMAPHORE_SIGNAL,
	TRACE_CALL_SEMAPHORE_RESET,
	TRACE_CALL_GET_NOTIFICATION_CHANNEL,
	TRACE_CALL_READ_NOTIFICATION,
	TRACE_CALL_BUFFER_EXPORT,
	TRACE_CALL_SEMAPHORE_EXPORT,
	TRACE_CALL_IMPORT_BUFFER,
	TRACE_CALL_IMPORT_SEMAPHORE,
	TRACE_CALL_BUFFER_GET_INFO,
	TRACE_CALL_BUFFER_SET_CACHE_POLICY,
	TRACE_CALL_BUFFER_GET_CACHE_POLICY,
	TRACE_CALL_BUFFER_CLEAN_CACHE,
	TRACE_CALL_BUFFER_SET_NAME,
	TRACE_CALL_ENUMERATE_DEVICES,	 /* version 2 */
	TRACE_CALL_BUFFER_GET_HANDLE,	 /* version 2 */
	TRACE_CALL_INITIALIZE_TRACING,	 /* version 2 */
	TRACE_CALL_INITIALIZE_LOGGING,	 /* version 2 */
	TRACE_CALL_PERF_ENABLE_ACCESS,	 /* version 2 */
	TRACE_CALL_PERF_ENABLE_COUNTERS, /* version 2 */
	TRACE_CALL_PERF_CLEAR_COUNTERS,	 /* version 2 */
	TRACE_CALL_PERF_CREATE_POOL,	 /* version 2 */
	TRACE_CALL_PERF_RELEASE_POOL,	 /* version 2 */
	TRACE_CALL_PERF_ADD_OFFSETS,	 /* version 2 */
	TRACE_CALL_PERF_REMOVE_BUFFER,	 /* version 2 */
	TRACE_CALL_PERF_DUMP,		 /* version 2 */
	TRACE_CALL_PERF_READ_COMPLETION, /* version 2 */
	TRACE_CALL_COUNT
};

/* The most numeric "args" / "out" keys of any call (the arrays below end with a NULL). */
#define TRACE_CALL_MAX_ARGS 6
#define TRACE_CALL_MAX_OUTS 5

struct trace_call {
	const char *name;			   /* the event's "call" */
	const char *args[TRACE_CALL_MAX_ARGS + 1]; /* numeric "args" members, NULL-terminated */
	const char *outs[TRACE_CALL_MAX_OUTS + 1]; /* numeric "out" members, NULL-terminated */
	bool has_result;			   /* the call returns a magma_status_t */
};

/* Indexed by enum trace_call_id; every id has its row. */
extern const struct trace_call trace_calls[TRACE_CALL_COUNT];

/* The ids in the strcmp order of their names: what trace_call_find searches (tests check it). */
extern const unsigned char trace_calls_by_name[TRACE_CALL_COUNT];

/*
 * trace_call_find - the id of the call named @name (@len bytes, not NUL-terminated necessarily),
 * or -1 when no call has that name. A binary search over the names. Pure; thread-safe.
 */
int trace_call_find(const char *name, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TRACES_TRACE_CALLS_H */

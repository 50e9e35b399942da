/* SPDX-License-Identifier: MIT */
/*
 * trace_calls.c - the table of recorded calls (trace_calls.h), shared by the recorder in
 * libmagma and the replayer.
 *
 * The rows are designated initializers indexed by enum trace_call_id, so a row cannot drift from
 * its id. Names are found by a binary search over trace_calls_by_name, the ids in the strcmp
 * order of their names; test_trace_calls checks that order and that every id is there once.
 *
 * Constant data and a pure function: any thread.
 */
#include <string.h>

#include "traces/trace_calls.h"

/* clang-format off */
const struct trace_call trace_calls[TRACE_CALL_COUNT] = {
	[TRACE_CALL_DEVICE_IMPORT] = {"device_import", {"channel"}, {"device"}, true},
	[TRACE_CALL_DEVICE_RELEASE] = {"device_release", {"device"}, {NULL}, false},
	[TRACE_CALL_DEVICE_QUERY] = {"device_query", {"device", "id", "buffer"}, {NULL}, true},
	[TRACE_CALL_CREATE_CONNECTION] = {"create_connection", {"device"}, {"connection"}, true},
	[TRACE_CALL_CONNECTION_RELEASE] = {"connection_release", {"connection"}, {NULL}, false},
	[TRACE_CALL_GET_ERROR] = {"get_error", {"connection"}, {NULL}, true},
	[TRACE_CALL_FLUSH] = {"flush", {"connection"}, {NULL}, true},
	[TRACE_CALL_CREATE_CONTEXT] = {"create_context", {"connection", "priority"}, {"context"},
				       true},
	[TRACE_CALL_RELEASE_CONTEXT] = {"release_context", {"connection", "context"}, {NULL}, false},
	[TRACE_CALL_CREATE_BUFFER] = {"create_buffer", {"connection", "size"},
				      {"size", "buffer", "id"}, true},
	[TRACE_CALL_RELEASE_BUFFER] = {"release_buffer", {"connection", "buffer"}, {NULL}, false},
	[TRACE_CALL_CREATE_SEMAPHORE] = {"create_semaphore", {"connection"}, {"semaphore", "id"},
					 true},
	[TRACE_CALL_RELEASE_SEMAPHORE] = {"release_semaphore", {"connection", "semaphore"}, {NULL},
					  false},
	[TRACE_CALL_BUFFER_OP] = {"buffer_op", {"connection", "buffer", "options", "offset", "length"},
				  {NULL}, true},
	[TRACE_CALL_MAP_BUFFER] = {"map_buffer",
				   {"connection", "hw_va", "buffer", "offset", "length", "flags"},
				   {NULL}, true},
	[TRACE_CALL_UNMAP_BUFFER] = {"unmap_buffer", {"connection", "hw_va", "buffer"}, {NULL},
				     false},
	/* + flags, resources, command_buffers, wait, signal (or invalid) */
	[TRACE_CALL_EXECUTE_COMMAND] = {"execute_command", {"connection", "context"}, {NULL}, true},
	/* + commands (or invalid) */
	[TRACE_CALL_EXECUTE_INLINE] = {"execute_inline", {"connection", "context"}, {NULL}, true},
	/* items, timeout_ns (or invalid); out: results */
	[TRACE_CALL_POLL] = {"poll", {NULL}, {NULL}, true},
	[TRACE_CALL_SEMAPHORE_SIGNAL] = {"semaphore_signal", {"semaphore"}, {NULL}, false},
	[TRACE_CALL_SEMAPHORE_RESET] = {"semaphore_reset", {"semaphore"}, {NULL}, false},
	[TRACE_CALL_GET_NOTIFICATION_CHANNEL] = {"get_notification_channel", {"connection"},
						 {"handle"}, false},
	/* out: + data (blob digest) */
	[TRACE_CALL_READ_NOTIFICATION] = {"read_notification", {"connection", "buffer_size"},
					  {"size", "more"}, true},
	[TRACE_CALL_BUFFER_EXPORT] = {"buffer_export", {"buffer"}, {"handle"}, true},
	[TRACE_CALL_SEMAPHORE_EXPORT] = {"semaphore_export", {"semaphore"}, {"handle"}, true},
	[TRACE_CALL_IMPORT_BUFFER] = {"import_buffer", {"connection", "handle"},
				      {"size", "buffer", "id"}, true},
	[TRACE_CALL_IMPORT_SEMAPHORE] = {"import_semaphore", {"connection", "handle", "flags"},
					 {"semaphore", "id"}, true},
	[TRACE_CALL_BUFFER_GET_INFO] = {"buffer_get_info", {"buffer"}, {"size", "committed"}, true},
	[TRACE_CALL_BUFFER_SET_CACHE_POLICY] = {"buffer_set_cache_policy", {"buffer", "policy"},
						{NULL}, true},
	[TRACE_CALL_BUFFER_GET_CACHE_POLICY] = {"buffer_get_cache_policy", {"buffer"}, {"policy"},
						true},
	[TRACE_CALL_BUFFER_CLEAN_CACHE] = {"buffer_clean_cache",
					   {"buffer", "offset", "size", "operation"}, {NULL}, true},
	/* + name (string) */
	[TRACE_CALL_BUFFER_SET_NAME] = {"buffer_set_name", {"buffer", "null"}, {NULL}, true},
	[TRACE_CALL_ENUMERATE_DEVICES] = {"enumerate_devices",
					  {"channel", "count", "count_null", "path_size",
					   "paths_null"},
					  {"count"}, true},
	[TRACE_CALL_BUFFER_GET_HANDLE] = {"buffer_get_handle", {"buffer", "null"}, {"handle"}, true},
	[TRACE_CALL_INITIALIZE_TRACING] = {"initialize_tracing", {"channel"}, {NULL}, true},
	[TRACE_CALL_INITIALIZE_LOGGING] = {"initialize_logging", {"channel"}, {NULL}, true},
	[TRACE_CALL_PERF_ENABLE_ACCESS] = {"perf_enable_access", {"connection", "channel"}, {NULL},
					   true},
	/* + counters (or count, invalid) */
	[TRACE_CALL_PERF_ENABLE_COUNTERS] = {"perf_enable_counters", {"connection"}, {NULL}, true},
	[TRACE_CALL_PERF_CLEAR_COUNTERS] = {"perf_clear_counters", {"connection"}, {NULL}, true},
	[TRACE_CALL_PERF_CREATE_POOL] = {"perf_create_pool", {"connection"}, {"pool", "handle"},
					 true},
	[TRACE_CALL_PERF_RELEASE_POOL] = {"perf_release_pool", {"connection", "pool"}, {NULL}, true},
	/* + offsets (or count, invalid) */
	[TRACE_CALL_PERF_ADD_OFFSETS] = {"perf_add_offsets", {"connection", "pool"}, {NULL}, true},
	[TRACE_CALL_PERF_REMOVE_BUFFER] = {"perf_remove_buffer", {"connection", "pool", "buffer"},
					   {NULL}, true},
	[TRACE_CALL_PERF_DUMP] = {"perf_dump", {"connection", "pool", "trigger"}, {NULL}, true},
	[TRACE_CALL_PERF_READ_COMPLETION] = {"perf_read_completion", {"connection", "pool"},
					     {"trigger", "buffer_id", "offset", "time", "flags"},
					     true},
};
/* clang-format on */

/* The ids in the strcmp order of their names (test_trace_calls keeps it so). */
const unsigned char trace_calls_by_name[TRACE_CALL_COUNT] = {
	TRACE_CALL_BUFFER_CLEAN_CACHE,
	TRACE_CALL_BUFFER_EXPORT,
	TRACE_CALL_BUFFER_GET_CACHE_POLICY,
	TRACE_CALL_BUFFER_GET_HANDLE,
	TRACE_CALL_BUFFER_GET_INFO,
	TRACE_CALL_BUFFER_OP,
	TRACE_CALL_BUFFER_SET_CACHE_POLICY,
	TRACE_CALL_BUFFER_SET_NAME,
	TRACE_CALL_CONNECTION_RELEASE,
	TRACE_CALL_CREATE_BUFFER,
	TRACE_CALL_CREATE_CONNECTION,
	TRACE_CALL_CREATE_CONTEXT,
	TRACE_CALL_CREATE_SEMAPHORE,
	TRACE_CALL_DEVICE_IMPORT,
	TRACE_CALL_DEVICE_QUERY,
	TRACE_CALL_DEVICE_RELEASE,
	TRACE_CALL_ENUMERATE_DEVICES,
	TRACE_CALL_EXECUTE_COMMAND,
	TRACE_CALL_EXECUTE_INLINE,
	TRACE_CALL_FLUSH,
	TRACE_CALL_GET_ERROR,
	TRACE_CALL_GET_NOTIFICATION_CHANNEL,
	TRACE_CALL_IMPORT_BUFFER,
	TRACE_CALL_IMPORT_SEMAPHORE,
	TRACE_CALL_INITIALIZE_LOGGING,
	TRACE_CALL_INITIALIZE_TRACING,
	TRACE_CALL_MAP_BUFFER,
	TRACE_CALL_PERF_ADD_OFFSETS,
	TRACE_CALL_PERF_CLEAR_COUNTERS,
	TRACE_CALL_PERF_CREATE_POOL,
	TRACE_CALL_PERF_DUMP,
	TRACE_CALL_PERF_ENABLE_ACCESS,
	TRACE_CALL_PERF_ENABLE_COUNTERS,
	TRACE_CALL_PERF_READ_COMPLETION,
	TRACE_CALL_PERF_RELEASE_POOL,
	TRACE_CALL_PERF_REMOVE_BUFFER,
	TRACE_CALL_POLL,
	TRACE_CALL_READ_NOTIFICATION,
	TRACE_CALL_RELEASE_BUFFER,
	TRACE_CALL_RELEASE_CONTEXT,
	TRACE_CALL_RELEASE_SEMAPHORE,
	TRACE_CALL_SEMAPHORE_EXPORT,
	TRACE_CALL_SEMAPHORE_RESET,
	TRACE_CALL_SEMAPHORE_SIGNAL,
	TRACE_CALL_UNMAP_BUFFER,
};

/* strcmp of NUL-terminated @a against the @len bytes at @b. */
static int name_cmp(const char *a, const char *b, size_t len)
{
	int c = strncmp(a, b, len);

	return c ? c : (unsigned char)a[len];
}

/* trace_call_find - see trace_calls.h. */
int trace_call_find(const char *name, size_t len)
{
	size_t lo = 0, hi = TRACE_CALL_COUNT;

	if (!name || memchr(name, '\0', len))
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int id = trace_calls_by_name[mid];
		int c = name_cmp(trace_calls[id].name, name, len);

		if (!c)
			return id;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

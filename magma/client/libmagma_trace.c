/* SPDX-License-Identifier: MIT */
/*
 * libmagma_trace.c - recording of magma calls into the process-wide trace (MAGMA_TRACE=FILE).
 *
 * The recorded entry points of magma.h are defined here as thin wrappers around their untraced
 * implementations (libmagma_do_*): the wrapper runs the call, then, when the process-wide writer
 * (traces/trace.h) is open, appends one "call" event with the arguments, the status and the out
 * values exactly as the client saw them (handles are the client's handle values). Names and
 * numeric keys come from the table the replayer reads with (traces/trace_calls.h). Every entry
 * point of magma.h is wrapped here (the performance-counter access token, enumerated paths and
 * channel fds are not recorded, only their status; see docs/trace-format.md).
 *
 * Submissions also store the contents of every resource range as blobs at submit time, which is
 * what makes replay possible without the client. Those with signal semaphores are handed to
 * libmagma_trace_completion.c, which writes their "completion" events after magma_poll and
 * magma_connection_flush.
 *
 * Calls made by libmagma itself (nested, e.g. the flow-control query of create_connection) are
 * not recorded: a thread-local depth counter marks them. Any thread; recording serialises on the
 * writer's lock (and, for completions, on that file's lock: libmagma_trace.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmagma_internal.h"
#include "libmagma_trace.h"
#include "traces/trace.h"
#include "traces/trace_calls.h"

static _Thread_local int trace_depth; /* nesting of recorded calls */

/* The writer when this call is to be recorded (outermost call of the thread), else NULL. */
static _Thread_local struct trace_writer *trace_held; /* the outermost call's writer */

/*
 * Enters a recorded section. The device events this thread causes meanwhile (the embedded
 * device runs a short job inside the call that submits it) are held and written after the
 * call's own event (trace_writer_hold), in the order a reader expects.
 */
static struct trace_writer *trace_enter(void)
{
	struct trace_writer *w = trace_depth++ ? NULL : trace_global();

	if (w) {
		trace_held = w;
		trace_writer_hold(w);
	}
	return w;
}

static void trace_leave(void)
{
	if (--trace_depth == 0 && trace_held) {
		trace_writer_release(trace_held);
		trace_held = NULL;
	}
}

/* A call's out value: 0 when the call failed or the client passed no out pointer. */
#define TRACE_OUT(st, ptr)   ((st) || !(ptr) ? 0 : (uint64_t) * (ptr))
/* Bit @bit of the "nulls" argument (trace_nulls) for out pointer @ptr. */
#define TRACE_NULL(ptr, bit) ((ptr) ? 0u : 1u << (bit))

/*
 * The "nulls" argument: bit i set when the client passed NULL for the call's i-th out pointer
 * (in the order of trace_calls[id].outs), so that replay passes NULL there too. Written into
 * @buf (24 bytes); NULL when every pointer was given (the member is left out).
 */
static const char *trace_nulls(char *buf, unsigned int mask)
{
	if (!mask)
		return NULL;
	snprintf(buf, 24, "\"nulls\":%u", mask);
	return buf;
}

/* Appends to @buf (@size bytes, *@len used) like snprintf, never past the end. */
static void trace_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void trace_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* The numeric members @keys (NULL-terminated) with @values as a JSON object body into @buf. */
static void trace_members(char *buf, size_t size, const char *const *keys, const uint64_t *values)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; keys[i]; i++)
		trace_append(buf, size, &len, "%s\"%s\":%" PRIu64, i ? "," : "", keys[i],
			     values ? values[i] : 0);
}

/* The calling thread's number: threads are numbered as they make their first recorded call. */
static _Atomic uint32_t trace_threads;
static _Thread_local uint32_t trace_thread_no;

static uint32_t trace_thread(void)
{
	if (!trace_thread_no)
		trace_thread_no = ++trace_threads;
	return trace_thread_no;
}

/*
 * The start of call @id's event into @buf: type, the calling thread's number when it is not the
 * first thread to record ("thread", so that single-threaded traces carry none), the call's name
 * and its numeric arguments @args in the order of trace_calls[id].args, up to and without the
 * closing brace of "args". Calls with arrays finish the event themselves.
 */
static void trace_call_head(char *buf, size_t size, enum trace_call_id id, const uint64_t *args)
{
	size_t len = 0;
	uint32_t thread = trace_thread();
	char members[TRACE_CALL_MAX_ARGS * 48], tag[24] = "";

	if (thread > 1)
		snprintf(tag, sizeof(tag), "\"thread\":%" PRIu32 ",", thread);
	trace_members(members, sizeof(members), trace_calls[id].args, args);
	trace_append(buf, size, &len, "\"type\":\"call\",%s\"call\":\"%s\",\"args\":{%s", tag,
		     trace_calls[id].name, members);
}

/*
 * Records call @id (trace_calls.h): its numeric arguments @args, then the JSON members
 * @extra_args (may be NULL), its status @result when the call has one, its numeric out values
 * @outs (NULL: all 0; both in the table's order), then the members @extra_out (may be NULL),
 * then the members @extra_event (may be NULL) after "out": what the recording host knew, which
 * diff and replay do not compare (device_import's instance, create_connection's id_base).
 * Returns the event's sequence number.
 */
static uint64_t trace_record_host(struct trace_writer *w, enum trace_call_id id,
				  const uint64_t *args, const char *extra_args,
				  magma_status_t result, const uint64_t *outs,
				  const char *extra_out, const char *extra_event)
{
	char head[TRACE_CALL_MAX_ARGS * 48 + 96], out[TRACE_CALL_MAX_OUTS * 48], res[32] = "";

	trace_call_head(head, sizeof(head), id, args);
	trace_members(out, sizeof(out), trace_calls[id].outs, outs);
	if (trace_calls[id].has_result)
		snprintf(res, sizeof(res), ",\"result\":%d", result);
	extra_args = extra_args ? extra_args : "";
	extra_out = extra_out ? extra_out : "";
	extra_event = extra_event ? extra_event : "";
	return trace_writer_event(w, "%s%s%s}%s,\"out\":{%s%s%s}%s%s", head,
				  trace_calls[id].args[0] && *extra_args ? "," : "", extra_args,
				  res, out, out[0] && *extra_out ? "," : "", extra_out,
				  *extra_event ? "," : "", extra_event);
}

/* trace_record_host without members after "out". */
static uint64_t trace_record(struct trace_writer *w, enum trace_call_id id, const uint64_t *args,
			     const char *extra_args, magma_status_t result, const uint64_t *outs,
			     const char *extra_out)
{
	return trace_record_host(w, id, args, extra_args, result, outs, extra_out, NULL);
}

/*
 * Ends a wrapper's recorded section: records the call as trace_record does when @w is given (the
 * wrapper's trace_enter said to record it), then leaves the section.
 */
static void trace_leave_record(struct trace_writer *w, enum trace_call_id id, const uint64_t *args,
			       const char *extra_args, magma_status_t result, const uint64_t *outs,
			       const char *extra_out)
{
	if (w)
		trace_record(w, id, args, extra_args, result, outs, extra_out);
	trace_leave();
}

/* libmagma_trace_buffer_digest - see libmagma_trace.h. */
bool libmagma_trace_buffer_digest(const struct libmagma_buffer *buf, uint64_t offset,
				  uint64_t length, struct trace_writer *w, uint64_t *digest_out)
{
	uint8_t *data;
	bool ok = false;

	if (offset > buf->size || length > buf->size - offset)
		return false;
	data = malloc(length ? length : 1);
	if (!data)
		return false;
	if (pread(buf->fd, data, length, (off_t)offset) == (ssize_t)length) {
		*digest_out = w ? trace_writer_blob(w, data, length) : trace_digest(data, length);
		ok = true;
	}
	free(data);
	return ok;
}

/* libmagma_trace_buffer_locked - see libmagma_trace.h. */
struct libmagma_buffer *libmagma_trace_buffer_locked(struct libmagma_connection *conn, uint64_t id)
{
	struct libmagma_buffer *buf;

	for (buf = conn->buffers; buf; buf = buf->next)
		if (buf->id == id)
			break;
	return buf;
}

/*
 * Digest of [@offset, + @length) of buffer @id of @conn into *@digest_out, stored as a blob when
 * @w is given. False when the buffer or range is unknown. conn->lock held.
 */
static bool trace_range_locked(struct libmagma_connection *conn, uint64_t id, uint64_t offset,
			       uint64_t length, struct trace_writer *w, uint64_t *digest_out)
{
	struct libmagma_buffer *buf = libmagma_trace_buffer_locked(conn, id);

	return buf && libmagma_trace_buffer_digest(buf, offset, length, w, digest_out);
}

/*
 * "contents":"<digest>" of [@offset, + @size) of @buffer (clamped to the buffer) into @extra,
 * the bytes stored as a blob; @extra stays "" when the buffer cannot be read.
 */
static void trace_clean_contents(struct trace_writer *w, magma_buffer_t buffer, uint64_t offset,
				 uint64_t size, char *extra, size_t extra_size)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	uint64_t digest;
	char hex[17];

	if (!buf || offset >= buf->size)
		return;
	if (size > buf->size - offset)
		size = buf->size - offset;
	if (libmagma_trace_buffer_digest(buf, offset, size, w, &digest)) {
		trace_digest_hex(digest, hex);
		snprintf(extra, extra_size, "\"contents\":\"%s\"", hex);
	}
}

/*
 * Executable mappings of the recorded connections: inline commands list no resources, yet a
 * DISPATCH among them runs a kernel from one of these, which the CPU may have written without a
 * submission or a clean ever capturing it. Recorded only while tracing; trace_exec_lock.
 */
#define TRACE_EXEC_MAX	     4096
#define TRACE_EXEC_MAX_BYTES (16ull << 20) /* per submission: kernels, not data */
struct trace_exec_map {
	magma_connection_t conn;
	uint64_t hw_va, offset, length;
	magma_buffer_t buffer;
};
static pthread_mutex_t trace_exec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_exec_map trace_exec[TRACE_EXEC_MAX]; /* guarded by trace_exec_lock */
static uint32_t trace_exec_count;			 /* guarded by trace_exec_lock */

static void trace_exec_add(magma_connection_t conn, uint64_t hw_va, magma_buffer_t buffer,
			   uint64_t offset, uint64_t length)
{
	pthread_mutex_lock(&trace_exec_lock);
	if (trace_exec_count < TRACE_EXEC_MAX)
		trace_exec[trace_exec_count++] =
			(struct trace_exec_map){conn, hw_va, offset, length, buffer};
	pthread_mutex_unlock(&trace_exec_lock);
}

/* Forgets the entries matching @conn (0: any) and @buffer (0: any) and @hw_va (UINT64_MAX: any). */
static void trace_exec_remove(magma_connection_t conn, magma_buffer_t buffer, uint64_t hw_va)
{
	pthread_mutex_lock(&trace_exec_lock);
	for (uint32_t i = 0; i < trace_exec_count;) {
		const struct trace_exec_map *m = &trace_exec[i];

		if ((!conn || m->conn == conn) && (!buffer || m->buffer == buffer) &&
		    (hw_va == UINT64_MAX || m->hw_va == hw_va))
			trace_exec[i] = trace_exec[--trace_exec_count];
		else
			i++;
	}
	pthread_mutex_unlock(&trace_exec_lock);
}

/*
 * ",\"programs\":[...]" for @conn's executable mappings: each range's buffer id, offset,
 * length and contents (a blob), taken now. NULL when there are none (or memory ran out).
 */
static char *trace_exec_programs(struct trace_writer *w, magma_connection_t conn)
{
	size_t cap = 64, len = 0;
	uint64_t bytes = 0;
	char *out = NULL;

	pthread_mutex_lock(&trace_exec_lock);
	for (uint32_t i = 0; i < trace_exec_count; i++) {
		const struct trace_exec_map *m = &trace_exec[i];
		struct libmagma_buffer *buf;
		uint64_t digest;
		char hex[17], *grown;

		if (m->conn != conn || bytes + m->length > TRACE_EXEC_MAX_BYTES ||
		    !(buf = libmagma_buffer_get(m->buffer)) ||
		    !libmagma_trace_buffer_digest(buf, m->offset, m->length, w, &digest))
			continue;
		trace_digest_hex(digest, hex);
		bytes += m->length;
		cap += 128;
		grown = realloc(out, cap);
		if (!grown)
			break;
		out = grown;
		len += (size_t)snprintf(out + len, cap - len,
					"%s{\"buffer_id\":%" PRIu64 ",\"offset\":%" PRIu64
					",\"length\":%" PRIu64 ",\"contents\":\"%s\"}",
					len ? "," : ",\"programs\":[", buf->id, m->offset,
					m->length, hex);
	}
	pthread_mutex_unlock(&trace_exec_lock);
	if (out && len + 2 <= cap)
		memcpy(out + len, "]", 2);
	return out;
}

/* Formats @count ids as a JSON array body into @out (truncated to @size). */
static void trace_ids(char *out, size_t size, const uint64_t *ids, uint64_t count)
{
	size_t len = 0;

	out[0] = '\0';
	for (uint64_t i = 0; i < count && len + 24 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%" PRIu64, i ? "," : "", ids[i]);
}

/*
 * magma_device_import - see magma.h; recorded, with the device's instance number when the
 * service answers WIRE_QUERY_DEVICE_INSTANCE (asked here, not recorded as a call): a daemon's
 * trace names its device by it (magma-trace merge).
 */
magma_status_t magma_device_import(magma_handle_t device_channel, magma_device_t *device_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_device_import(device_channel, device_out);
	char host[48] = "";
	uint64_t instance = 0;

	if (w && !st && device_out &&
	    !libmagma_do_device_query(*device_out, WIRE_QUERY_DEVICE_INSTANCE, NULL, &instance) &&
	    instance)
		snprintf(host, sizeof(host), "\"instance\":\"%016" PRIx64 "\"", instance);
	if (w)
		trace_record_host(w, TRACE_CALL_DEVICE_IMPORT, (uint64_t[]){device_channel}, NULL,
				  st, (uint64_t[]){TRACE_OUT(st, device_out)}, NULL, host);
	trace_leave();
	return st;
}

/* magma_device_release - see magma.h; recorded, and the trace is flushed. */
void magma_device_release(magma_device_t device)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_device_release(device);
	if (w) {
		trace_record(w, TRACE_CALL_DEVICE_RELEASE, (uint64_t[]){device}, NULL, 0, NULL,
			     NULL);
		trace_writer_flush(w);
	}
	trace_leave();
}

/* magma_device_query - see magma.h; recorded (the value is informative, not replayed). */
magma_status_t magma_device_query(magma_device_t device, uint64_t id,
				  magma_handle_t *result_buffer_out, uint64_t *result_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_device_query(device, id, result_buffer_out, result_out);
	char out[64] = "";

	if (w && !st && result_out)
		snprintf(out, sizeof(out), "\"value\":%" PRIu64, *result_out);
	/* "no_value" only when result_out was NULL: traces from before it mean "given". */
	trace_leave_record(w, TRACE_CALL_DEVICE_QUERY,
			   (uint64_t[]){device, id, result_buffer_out != NULL},
			   result_out ? NULL : "\"no_value\":1", st, NULL, out);
	return st;
}

/* magma_device_create_connection - see magma.h; recorded. */
magma_status_t magma_device_create_connection(magma_device_t device,
					      magma_connection_t *connection_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_device_create_connection(device, connection_out);
	struct libmagma_connection *conn;
	char host[48] = "", nulls[24];

	/* The connection's first object id: the daemon's trace names the connection by it too. */
	if (w && !st && connection_out && (conn = libmagma_connection_get(*connection_out)))
		snprintf(host, sizeof(host), "\"id_base\":%" PRIu64, conn->id_base);
	if (w)
		trace_record_host(w, TRACE_CALL_CREATE_CONNECTION, (uint64_t[]){device},
				  trace_nulls(nulls, !connection_out), st,
				  (uint64_t[]){TRACE_OUT(st, connection_out)}, NULL, host);
	trace_leave();
	return st;
}

/* magma_connection_release - see magma.h; recorded, and the trace is flushed. */
void magma_connection_release(magma_connection_t connection)
{
	struct trace_writer *w = trace_enter();

	if (w)
		libmagma_trace_check_completions(w);
	libmagma_do_connection_release(connection);
	if (w) {
		trace_exec_remove(connection, 0, UINT64_MAX);
		trace_record(w, TRACE_CALL_CONNECTION_RELEASE, (uint64_t[]){connection}, NULL, 0,
			     NULL, NULL);
		libmagma_trace_check_completions(w); /* drops what was pending on it */
		trace_writer_flush(w);
	}
	trace_leave();
}

/* magma_connection_get_error - see magma.h; recorded. */
magma_status_t magma_connection_get_error(magma_connection_t connection)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_get_error(connection);

	trace_leave_record(w, TRACE_CALL_GET_ERROR, (uint64_t[]){connection}, NULL, st, NULL, NULL);
	return st;
}

/* magma_connection_flush - see magma.h; recorded, then completions are checked. */
magma_status_t magma_connection_flush(magma_connection_t connection)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_flush(connection);

	if (w) {
		trace_record(w, TRACE_CALL_FLUSH, (uint64_t[]){connection}, NULL, st, NULL, NULL);
		libmagma_trace_check_completions(w);
	}
	trace_leave();
	return st;
}

/* magma_connection_create_context2 - see magma.h; recorded. */
magma_status_t magma_connection_create_context2(magma_connection_t connection,
						magma_priority_t priority, uint32_t *context_id_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st =
		libmagma_do_connection_create_context2(connection, priority, context_id_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_CREATE_CONTEXT, (uint64_t[]){connection, priority},
			   trace_nulls(nulls, !context_id_out), st,
			   (uint64_t[]){TRACE_OUT(st, context_id_out)}, NULL);
	return st;
}

/* magma_connection_release_context - see magma.h; recorded. */
void magma_connection_release_context(magma_connection_t connection, uint32_t context_id)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_connection_release_context(connection, context_id);
	trace_leave_record(w, TRACE_CALL_RELEASE_CONTEXT, (uint64_t[]){connection, context_id},
			   NULL, 0, NULL, NULL);
}

/* magma_connection_create_buffer - see magma.h; recorded. */
magma_status_t magma_connection_create_buffer(magma_connection_t connection, uint64_t size,
					      uint64_t *size_out, magma_buffer_t *buffer_out,
					      magma_buffer_id_t *id_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_create_buffer(connection, size, size_out,
								 buffer_out, id_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_CREATE_BUFFER, (uint64_t[]){connection, size},
			   trace_nulls(nulls, TRACE_NULL(size_out, 0) | TRACE_NULL(buffer_out, 1) |
						      TRACE_NULL(id_out, 2)),
			   st,
			   (uint64_t[]){TRACE_OUT(st, size_out), TRACE_OUT(st, buffer_out),
					TRACE_OUT(st, id_out)},
			   NULL);
	return st;
}

/* magma_connection_release_buffer - see magma.h; recorded. */
void magma_connection_release_buffer(magma_connection_t connection, magma_buffer_t buffer)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_connection_release_buffer(connection, buffer);
	if (w)
		trace_exec_remove(connection, buffer, UINT64_MAX);
	trace_leave_record(w, TRACE_CALL_RELEASE_BUFFER, (uint64_t[]){connection, buffer}, NULL, 0,
			   NULL, NULL);
}

/* magma_connection_create_semaphore - see magma.h; recorded. */
magma_status_t magma_connection_create_semaphore(magma_connection_t connection,
						 magma_semaphore_t *semaphore_out,
						 magma_semaphore_id_t *id_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st =
		libmagma_do_connection_create_semaphore(connection, semaphore_out, id_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_CREATE_SEMAPHORE, (uint64_t[]){connection},
			   trace_nulls(nulls, TRACE_NULL(semaphore_out, 0) | TRACE_NULL(id_out, 1)),
			   st, (uint64_t[]){TRACE_OUT(st, semaphore_out), TRACE_OUT(st, id_out)},
			   NULL);
	return st;
}

/* magma_connection_release_semaphore - see magma.h; recorded. */
void magma_connection_release_semaphore(magma_connection_t connection, magma_semaphore_t semaphore)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_connection_release_semaphore(connection, semaphore);
	trace_leave_record(w, TRACE_CALL_RELEASE_SEMAPHORE, (uint64_t[]){connection, semaphore},
			   NULL, 0, NULL, NULL);
}

/* magma_connection_perform_buffer_op - see magma.h; recorded. */
magma_status_t magma_connection_perform_buffer_op(magma_connection_t connection,
						  magma_buffer_t buffer, uint32_t options,
						  uint64_t start_offset, uint64_t length)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_perform_buffer_op(connection, buffer, options,
								     start_offset, length);

	trace_leave_record(w, TRACE_CALL_BUFFER_OP,
			   (uint64_t[]){connection, buffer, options, start_offset, length}, NULL,
			   st, NULL, NULL);
	return st;
}

/* magma_connection_map_buffer - see magma.h; recorded. */
magma_status_t magma_connection_map_buffer(magma_connection_t connection, uint64_t hw_va,
					   magma_buffer_t buffer, uint64_t offset, uint64_t length,
					   uint64_t map_flags)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_map_buffer(connection, hw_va, buffer, offset,
							      length, map_flags);

	if (w && !st && (map_flags & MAGMA_MAP_FLAG_EXECUTE))
		trace_exec_add(connection, hw_va, buffer, offset, length);

	trace_leave_record(w, TRACE_CALL_MAP_BUFFER,
			   (uint64_t[]){connection, hw_va, buffer, offset, length, map_flags}, NULL,
			   st, NULL, NULL);
	return st;
}

/* magma_connection_unmap_buffer - see magma.h; recorded. */
void magma_connection_unmap_buffer(magma_connection_t connection, uint64_t hw_va,
				   magma_buffer_t buffer)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_connection_unmap_buffer(connection, hw_va, buffer);
	if (w)
		trace_exec_remove(connection, buffer, hw_va);
	trace_leave_record(w, TRACE_CALL_UNMAP_BUFFER, (uint64_t[]){connection, hw_va, buffer},
			   NULL, 0, NULL, NULL);
}

/*
 * Submits @d and records it: resource contents (blobs) are taken before the submission is sent,
 * since the GPU may change them as soon as it is.
 */
static magma_status_t trace_execute(struct trace_writer *w, magma_connection_t connection,
				    uint32_t context_id, magma_command_descriptor_t *d)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	size_t cap = 256 + (size_t)d->resource_count * 128 + (size_t)d->command_buffer_count * 64 +
		     ((size_t)d->wait_semaphore_count + d->signal_semaphore_count) * 24;
	char *res = malloc(cap), *cmds = malloc(cap), *waits = malloc(cap), *sigs = malloc(cap);
	char head[TRACE_CALL_MAX_ARGS * 48 + 96];
	size_t rl = 0, cl = 0;
	magma_status_t st;
	uint64_t seq;

	if (!res || !cmds || !waits || !sigs) {
		st = libmagma_do_connection_execute_command(connection, context_id, d);
		goto out_free;
	}
	res[0] = cmds[0] = '\0';
	if (conn)
		pthread_mutex_lock(&conn->lock);
	for (uint32_t i = 0; i < d->resource_count; i++) {
		const magma_exec_resource_t *r = &d->resources[i];
		uint64_t digest;
		char hex[17] = "";

		if (conn &&
		    trace_range_locked(conn, r->buffer_id, r->offset, r->length, w, &digest))
			trace_digest_hex(digest, hex);
		rl += (size_t)snprintf(res + rl, cap - rl,
				       "%s{\"buffer_id\":%" PRIu64 ",\"offset\":%" PRIu64
				       ",\"length\":%" PRIu64 ",\"contents\":\"%s\"}",
				       i ? "," : "", r->buffer_id, r->offset, r->length, hex);
	}
	if (conn)
		pthread_mutex_unlock(&conn->lock);
	st = libmagma_do_connection_execute_command(connection, context_id, d);
	for (uint32_t i = 0; i < d->command_buffer_count; i++)
		cl += (size_t)snprintf(cmds + cl, cap - cl,
				       "%s{\"resource_index\":%" PRIu32 ",\"start_offset\":%" PRIu64
				       "}",
				       i ? "," : "", d->command_buffers[i].resource_index,
				       d->command_buffers[i].start_offset);
	trace_ids(waits, cap, d->semaphore_ids, d->wait_semaphore_count);
	trace_ids(sigs, cap, d->semaphore_ids + d->wait_semaphore_count, d->signal_semaphore_count);
	trace_call_head(head, sizeof(head), TRACE_CALL_EXECUTE_COMMAND,
			(uint64_t[]){connection, context_id});
	seq = trace_writer_event(w,
				 "%s,\"flags\":%" PRIu64
				 ",\"resources\":[%s],\"command_buffers\":[%s],"
				 "\"wait\":[%s],\"signal\":[%s]},\"result\":%d,\"out\":{}",
				 head, d->flags, res, cmds, waits, sigs, st);
	if (!st && d->signal_semaphore_count)
		libmagma_trace_pending_add(
			connection, seq, d->semaphore_ids + d->wait_semaphore_count,
			d->signal_semaphore_count, d->resources, d->resource_count);
out_free:
	free(res);
	free(cmds);
	free(waits);
	free(sigs);
	return st;
}

/* magma_connection_execute_command - see magma.h; recorded with the resource contents. */
magma_status_t magma_connection_execute_command(magma_connection_t connection, uint32_t context_id,
						magma_command_descriptor_t *descriptor)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st;

	trace_writer_submit_begin(w);
	if (w && descriptor && (!descriptor->resource_count || descriptor->resources) &&
	    (!descriptor->command_buffer_count || descriptor->command_buffers) &&
	    (!(descriptor->wait_semaphore_count + descriptor->signal_semaphore_count) ||
	     descriptor->semaphore_ids)) {
		st = trace_execute(w, connection, context_id, descriptor);
	} else {
		st = libmagma_do_connection_execute_command(connection, context_id, descriptor);
		if (w)
			trace_record(w, TRACE_CALL_EXECUTE_COMMAND,
				     (uint64_t[]){connection, context_id}, "\"invalid\":1", st,
				     NULL, NULL);
	}
	trace_writer_submit_end(w);
	trace_leave();
	return st;
}

/* magma_connection_execute_inline_commands - see magma.h; recorded with the command bytes. */
magma_status_t
magma_connection_execute_inline_commands(magma_connection_t connection, uint32_t context_id,
					 uint64_t command_count,
					 magma_inline_command_buffer_t *command_buffers)
{
	struct trace_writer *w = trace_enter();
	char *programs;
	magma_status_t st;
	bool valid;
	size_t cap = 64, len = 0;
	char *list = NULL;
	uint64_t seq;

	trace_writer_submit_begin(w);
	/* The kernels its DISPATCHes may run, as they are before it is sent. */
	programs = w ? trace_exec_programs(w, connection) : NULL;
	st = libmagma_do_connection_execute_inline_commands(connection, context_id, command_count,
							    command_buffers);
	valid = w && (!command_count || command_buffers);

	for (uint64_t i = 0; valid && i < command_count; i++) {
		const magma_inline_command_buffer_t *c = &command_buffers[i];

		valid = (!c->size || c->data) && (!c->semaphore_count || c->semaphore_ids);
		cap += 128 + (size_t)c->semaphore_count * 24;
	}
	if (valid)
		list = malloc(cap);
	if (list) {
		char head[TRACE_CALL_MAX_ARGS * 48 + 96];

		list[0] = '\0';
		for (uint64_t i = 0; i < command_count; i++) {
			const magma_inline_command_buffer_t *c = &command_buffers[i];
			char hex[17], *ids = malloc((size_t)c->semaphore_count * 24 + 1);

			trace_digest_hex(trace_writer_blob(w, c->data ? c->data : "", c->size),
					 hex);
			if (ids)
				trace_ids(ids, (size_t)c->semaphore_count * 24 + 1,
					  c->semaphore_ids, c->semaphore_count);
			len += (size_t)snprintf(list + len, cap - len,
						"%s{\"size\":%" PRIu64 ",\"data\":\"%s\","
						"\"semaphores\":[%s]}",
						i ? "," : "", c->size, hex, ids ? ids : "");
			free(ids);
		}
		trace_call_head(head, sizeof(head), TRACE_CALL_EXECUTE_INLINE,
				(uint64_t[]){connection, context_id});
		seq = trace_writer_event(w, "%s,\"commands\":[%s]%s},\"result\":%d,\"out\":{}",
					 head, list, programs ? programs : "", st);
		for (uint64_t i = 0; !st && i < command_count; i++)
			if (command_buffers[i].semaphore_count)
				libmagma_trace_pending_add(
					connection, seq, command_buffers[i].semaphore_ids,
					command_buffers[i].semaphore_count, NULL, 0);
		free(list);
	} else if (w) {
		trace_record(w, TRACE_CALL_EXECUTE_INLINE, (uint64_t[]){connection, context_id},
			     "\"invalid\":1", st, NULL, NULL);
	}
	free(programs);
	trace_writer_submit_end(w);
	trace_leave();
	return st;
}

/* magma_poll - see magma.h; recorded, then completions are checked. */
magma_status_t magma_poll(magma_poll_item_t *items, uint32_t count, uint64_t timeout_ns)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_poll(items, count, timeout_ns);
	size_t cap = 64 + (size_t)count * 96, len = 0, rlen = 0;

	/* What released this poll may be a submission another thread has not recorded yet. */
	trace_writer_await_submits(w);
	char *list = w && items ? malloc(cap) : NULL, *res = list ? malloc(cap) : NULL;

	if (list && res) {
		char head[96];

		list[0] = res[0] = '\0';
		for (uint32_t i = 0; i < count; i++) {
			const magma_poll_item_t *it = &items[i];
			uint64_t h =
				it->type == MAGMA_POLL_TYPE_SEMAPHORE ? it->semaphore : it->handle;

			len += (size_t)snprintf(list + len, cap - len,
						"%s{\"type\":%" PRIu32 ",\"object\":%" PRIu64
						",\"condition\":%" PRIu32 "}",
						i ? "," : "", it->type, h, it->condition);
			rlen += (size_t)snprintf(res + rlen, cap - rlen, "%s%" PRIu32, i ? "," : "",
						 it->result);
		}
		trace_call_head(head, sizeof(head), TRACE_CALL_POLL, NULL);
		trace_writer_event(w,
				   "%s\"items\":[%s],\"timeout_ns\":%" PRIu64
				   "},\"result\":%d,\"out\":{\"results\":[%s]}",
				   head, list, timeout_ns, st, res);
	} else if (w) {
		trace_record(w, TRACE_CALL_POLL, NULL, "\"invalid\":1", st, NULL, NULL);
	}
	free(list);
	free(res);
	if (w && !st)
		libmagma_trace_check_completions(w);
	trace_leave();
	return st;
}

/* magma_semaphore_signal - see magma.h; recorded. */
void magma_semaphore_signal(magma_semaphore_t semaphore)
{
	struct trace_writer *w = trace_enter();

	/*
	 * Recorded before it happens: another thread's poll that it releases must come after it in
	 * the trace (replay is one thread, in file order).
	 */
	if (w)
		trace_record(w, TRACE_CALL_SEMAPHORE_SIGNAL, (uint64_t[]){semaphore}, NULL, 0, NULL,
			     NULL);
	libmagma_do_semaphore_signal(semaphore);
	trace_leave();
}

/* magma_semaphore_reset - see magma.h; recorded. */
void magma_semaphore_reset(magma_semaphore_t semaphore)
{
	struct trace_writer *w = trace_enter();

	libmagma_do_semaphore_reset(semaphore);
	trace_leave_record(w, TRACE_CALL_SEMAPHORE_RESET, (uint64_t[]){semaphore}, NULL, 0, NULL,
			   NULL);
}

/* magma_connection_get_notification_channel_handle - see magma.h; recorded. */
magma_handle_t magma_connection_get_notification_channel_handle(magma_connection_t connection)
{
	struct trace_writer *w = trace_enter();
	magma_handle_t h = libmagma_do_connection_get_notification_channel_handle(connection);

	trace_leave_record(w, TRACE_CALL_GET_NOTIFICATION_CHANNEL, (uint64_t[]){connection}, NULL,
			   0, (uint64_t[]){h}, NULL);
	return h;
}

/* magma_connection_read_notification_channel - see magma.h; recorded with the bytes read. */
magma_status_t magma_connection_read_notification_channel(magma_connection_t connection,
							  void *buffer, uint64_t buffer_size,
							  uint64_t *buffer_size_out,
							  magma_bool_t *more_data_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_read_notification_channel(
		connection, buffer, buffer_size, buffer_size_out, more_data_out);
	char data[32], hex[17] = "", nulls[24] = "";
	uint64_t size = buffer_size_out ? *buffer_size_out : 0;
	/* Which pointers were NULL (1 buffer, 2 size, 4 more): only when some were. */
	unsigned int null_mask =
		(buffer ? 0u : 1u) | (buffer_size_out ? 0u : 2u) | (more_data_out ? 0u : 4u);

	if (w && !st && buffer && size && size <= buffer_size)
		trace_digest_hex(trace_writer_blob(w, buffer, size), hex);
	snprintf(data, sizeof(data), "\"data\":\"%s\"", hex);
	if (null_mask)
		snprintf(nulls, sizeof(nulls), "\"nulls\":%u", null_mask);
	trace_leave_record(w, TRACE_CALL_READ_NOTIFICATION, (uint64_t[]){connection, buffer_size},
			   null_mask ? nulls : NULL, st,
			   (uint64_t[]){size, more_data_out ? (uint64_t)*more_data_out : 0}, data);
	return st;
}

/* magma_connection_import_buffer - see magma.h; recorded. */
magma_status_t magma_connection_import_buffer(magma_connection_t connection,
					      magma_handle_t buffer_handle, uint64_t *size_out,
					      magma_buffer_t *buffer_out, magma_buffer_id_t *id_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_import_buffer(connection, buffer_handle,
								 size_out, buffer_out, id_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_IMPORT_BUFFER, (uint64_t[]){connection, buffer_handle},
			   trace_nulls(nulls, TRACE_NULL(size_out, 0) | TRACE_NULL(buffer_out, 1) |
						      TRACE_NULL(id_out, 2)),
			   st,
			   (uint64_t[]){TRACE_OUT(st, size_out), TRACE_OUT(st, buffer_out),
					TRACE_OUT(st, id_out)},
			   NULL);
	return st;
}

/* magma_connection_import_semaphore2 - see magma.h; recorded. */
magma_status_t magma_connection_import_semaphore2(magma_connection_t connection,
						  magma_handle_t semaphore_handle, uint64_t flags,
						  magma_semaphore_t *semaphore_out,
						  magma_semaphore_id_t *id_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_import_semaphore2(connection, semaphore_handle,
								     flags, semaphore_out, id_out);
	char nulls[24];

	trace_leave_record(
		w, TRACE_CALL_IMPORT_SEMAPHORE, (uint64_t[]){connection, semaphore_handle, flags},
		trace_nulls(nulls, TRACE_NULL(semaphore_out, 0) | TRACE_NULL(id_out, 1)), st,
		(uint64_t[]){TRACE_OUT(st, semaphore_out), TRACE_OUT(st, id_out)}, NULL);
	return st;
}

/* magma_buffer_export - see magma.h; recorded. */
magma_status_t magma_buffer_export(magma_buffer_t buffer, magma_handle_t *buffer_handle_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_export(buffer, buffer_handle_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_BUFFER_EXPORT, (uint64_t[]){buffer},
			   trace_nulls(nulls, !buffer_handle_out), st,
			   (uint64_t[]){TRACE_OUT(st, buffer_handle_out)}, NULL);
	return st;
}

/* magma_semaphore_export - see magma.h; recorded. */
magma_status_t magma_semaphore_export(magma_semaphore_t semaphore,
				      magma_handle_t *semaphore_handle_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_semaphore_export(semaphore, semaphore_handle_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_SEMAPHORE_EXPORT, (uint64_t[]){semaphore},
			   trace_nulls(nulls, !semaphore_handle_out), st,
			   (uint64_t[]){TRACE_OUT(st, semaphore_handle_out)}, NULL);
	return st;
}

/* magma_buffer_get_info - see magma.h; recorded. */
magma_status_t magma_buffer_get_info(magma_buffer_t buffer, magma_buffer_info_t *info_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_get_info(buffer, info_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_BUFFER_GET_INFO, (uint64_t[]){buffer},
			   trace_nulls(nulls, info_out ? 0 : 3), st,
			   (uint64_t[]){st || !info_out ? 0 : info_out->size,
					st || !info_out ? 0 : info_out->committed_byte_count},
			   NULL);
	return st;
}

/* magma_buffer_set_cache_policy - see magma.h; recorded. */
magma_status_t magma_buffer_set_cache_policy(magma_buffer_t buffer, magma_cache_policy_t policy)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_set_cache_policy(buffer, policy);

	trace_leave_record(w, TRACE_CALL_BUFFER_SET_CACHE_POLICY, (uint64_t[]){buffer, policy},
			   NULL, st, NULL, NULL);
	return st;
}

/* magma_buffer_get_cache_policy - see magma.h; recorded. */
magma_status_t magma_buffer_get_cache_policy(magma_buffer_t buffer,
					     magma_cache_policy_t *cache_policy_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_get_cache_policy(buffer, cache_policy_out);
	char nulls[24];

	trace_leave_record(w, TRACE_CALL_BUFFER_GET_CACHE_POLICY, (uint64_t[]){buffer},
			   trace_nulls(nulls, !cache_policy_out), st,
			   (uint64_t[]){TRACE_OUT(st, cache_policy_out)}, NULL);
	return st;
}

/* magma_buffer_clean_cache - see magma.h; recorded. */
magma_status_t magma_buffer_clean_cache(magma_buffer_t buffer, uint64_t offset, uint64_t size,
					magma_cache_operation_t operation)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_clean_cache(buffer, offset, size, operation);
	char extra[48] = "";

	/*
	 * A clean is where a client makes its CPU stores visible to the GPU: the range's contents
	 * go with the call ("contents", a blob), so a replay writes them there. Work the GPU
	 * already runs may be waiting for them (a WAIT on memory the CPU writes after submitting).
	 */
	if (w && !st &&
	    (operation == MAGMA_CACHE_OPERATION_CLEAN ||
	     operation == MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE))
		trace_clean_contents(w, buffer, offset, size, extra, sizeof(extra));
	trace_leave_record(w, TRACE_CALL_BUFFER_CLEAN_CACHE,
			   (uint64_t[]){buffer, offset, size, operation}, extra[0] ? extra : NULL,
			   st, NULL, NULL);
	return st;
}

/*
 * Writes @name (at most LIBMAGMA_NAME_MAX bytes) into @esc (@size bytes, room for 6 per byte)
 * as a JSON string body, with non-plain bytes as \u00XX.
 */
static void trace_escape_name(char *esc, size_t size, const char *name)
{
	size_t len = 0;

	esc[0] = '\0';
	for (size_t i = 0; name && name[i] && i < LIBMAGMA_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			esc[len++] = (char)c;
		else
			len += (size_t)snprintf(esc + len, size - len, "\\u%04x", c);
		esc[len] = '\0';
	}
}

/* magma_buffer_set_name - see magma.h; recorded (the name with non-plain bytes as \u00XX). */
magma_status_t magma_buffer_set_name(magma_buffer_t buffer, const char *name)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_set_name(buffer, name);
	char esc[6 * LIBMAGMA_NAME_MAX + 1] = "", member[6 * LIBMAGMA_NAME_MAX + 16];

	if (w)
		trace_escape_name(esc, sizeof(esc), name);
	snprintf(member, sizeof(member), "\"name\":\"%s\"", esc);
	trace_leave_record(w, TRACE_CALL_BUFFER_SET_NAME, (uint64_t[]){buffer, name == NULL},
			   member, st, NULL, NULL);
	return st;
}

/* magma_enumerate_devices - see magma.h; recorded (the paths are not: they name the host). */
magma_status_t magma_enumerate_devices(const char *device_namespace,
				       magma_handle_t device_directory_channel,
				       uint32_t *device_count_inout, uint32_t device_path_size,
				       char *device_paths_out)
{
	struct trace_writer *w = trace_enter();
	uint32_t count_in = device_count_inout ? *device_count_inout : 0;
	magma_status_t st = libmagma_do_enumerate_devices(
		device_namespace, device_directory_channel, device_count_inout, device_path_size,
		device_paths_out);

	trace_leave_record(w, TRACE_CALL_ENUMERATE_DEVICES,
			   (uint64_t[]){device_directory_channel, count_in,
					device_count_inout == NULL, device_path_size,
					device_paths_out == NULL},
			   NULL, st, (uint64_t[]){TRACE_OUT(st, device_count_inout)}, NULL);
	return st;
}

/* magma_buffer_get_handle - see magma.h; recorded (CPU access shows in submit-time contents). */
magma_status_t magma_buffer_get_handle(magma_buffer_t buffer, magma_handle_t *handle_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_buffer_get_handle(buffer, handle_out);

	trace_leave_record(w, TRACE_CALL_BUFFER_GET_HANDLE,
			   (uint64_t[]){buffer, handle_out == NULL}, NULL, st,
			   (uint64_t[]){TRACE_OUT(st, handle_out)}, NULL);
	return st;
}

/* magma_initialize_tracing - see magma.h; recorded. */
magma_status_t magma_initialize_tracing(magma_handle_t channel)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_initialize_tracing(channel);

	trace_leave_record(w, TRACE_CALL_INITIALIZE_TRACING, (uint64_t[]){channel}, NULL, st, NULL,
			   NULL);
	return st;
}

/* magma_initialize_logging - see magma.h; recorded. */
magma_status_t magma_initialize_logging(magma_handle_t channel)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_initialize_logging(channel);

	trace_leave_record(w, TRACE_CALL_INITIALIZE_LOGGING, (uint64_t[]){channel}, NULL, st, NULL,
			   NULL);
	return st;
}

/* magma_connection_enable_performance_counter_access - see magma.h; recorded (not the token). */
magma_status_t magma_connection_enable_performance_counter_access(magma_connection_t connection,
								  magma_handle_t channel)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st =
		libmagma_do_connection_enable_performance_counter_access(connection, channel);

	trace_leave_record(w, TRACE_CALL_PERF_ENABLE_ACCESS, (uint64_t[]){connection, channel},
			   NULL, st, NULL, NULL);
	return st;
}

/*
 * Ends the recorded section of counter-list call @id with @count ids (recorded as "invalid" when
 * @counters is NULL).
 */
static void trace_leave_counters(struct trace_writer *w, enum trace_call_id id, magma_status_t st,
				 magma_connection_t connection, const uint64_t *counters,
				 uint64_t count)
{
	size_t cap = 64 + (size_t)count * 24;
	char *ids = w && counters && count < (1u << 20) ? malloc(cap) : NULL;
	char head[TRACE_CALL_MAX_ARGS * 48 + 96], invalid[64];

	if (ids) {
		trace_ids(ids, cap, counters, count);
		trace_call_head(head, sizeof(head), id, (uint64_t[]){connection});
		trace_writer_event(w, "%s,\"counters\":[%s]},\"result\":%d,\"out\":{}", head, ids,
				   st);
		free(ids);
		trace_leave();
	} else {
		snprintf(invalid, sizeof(invalid), "\"count\":%" PRIu64 ",\"invalid\":1", count);
		trace_leave_record(w, id, (uint64_t[]){connection}, invalid, st, NULL, NULL);
	}
}

/* magma_connection_enable_performance_counters - see magma.h; recorded with the ids. */
magma_status_t magma_connection_enable_performance_counters(magma_connection_t connection,
							    uint64_t *counters,
							    uint64_t counters_count)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_enable_performance_counters(connection, counters,
									       counters_count);

	trace_leave_counters(w, TRACE_CALL_PERF_ENABLE_COUNTERS, st, connection, counters,
			     counters_count);
	return st;
}

/* magma_connection_clear_performance_counters - see magma.h; recorded with the ids. */
magma_status_t magma_connection_clear_performance_counters(magma_connection_t connection,
							   uint64_t *counters,
							   uint64_t counters_count)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_clear_performance_counters(connection, counters,
									      counters_count);

	trace_leave_counters(w, TRACE_CALL_PERF_CLEAR_COUNTERS, st, connection, counters,
			     counters_count);
	return st;
}

/* magma_connection_create_performance_counter_buffer_pool - see magma.h; recorded. */
magma_status_t
magma_connection_create_performance_counter_buffer_pool(magma_connection_t connection,
							magma_perf_count_pool_t *pool_id_out,
							magma_handle_t *notification_handle_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_create_performance_counter_buffer_pool(
		connection, pool_id_out, notification_handle_out);
	unsigned int nulls = (pool_id_out ? 0u : 1u) | (notification_handle_out ? 0u : 2u);
	char extra[24];

	snprintf(extra, sizeof(extra), "\"nulls\":%u", nulls);
	trace_leave_record(
		w, TRACE_CALL_PERF_CREATE_POOL, (uint64_t[]){connection}, nulls ? extra : NULL, st,
		(uint64_t[]){TRACE_OUT(st, pool_id_out), TRACE_OUT(st, notification_handle_out)},
		NULL);
	return st;
}

/* magma_connection_release_performance_counter_buffer_pool - see magma.h; recorded. */
magma_status_t
magma_connection_release_performance_counter_buffer_pool(magma_connection_t connection,
							 magma_perf_count_pool_t pool_id)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st =
		libmagma_do_connection_release_performance_counter_buffer_pool(connection, pool_id);

	trace_leave_record(w, TRACE_CALL_PERF_RELEASE_POOL, (uint64_t[]){connection, pool_id}, NULL,
			   st, NULL, NULL);
	return st;
}

/* magma_connection_add_performance_counter_buffer_offsets_to_pool - see magma.h; recorded. */
magma_status_t magma_connection_add_performance_counter_buffer_offsets_to_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id,
	const magma_buffer_offset_t *offsets, uint64_t offsets_count)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_add_performance_counter_buffer_offsets_to_pool(
		connection, pool_id, offsets, offsets_count);
	size_t cap = 64 + (size_t)offsets_count * 96, len = 0;
	char *list = w && offsets && offsets_count < (1u << 16) ? malloc(cap) : NULL;
	char head[TRACE_CALL_MAX_ARGS * 48 + 96], invalid[64];

	if (!list) {
		snprintf(invalid, sizeof(invalid), "\"count\":%" PRIu64 ",\"invalid\":1",
			 offsets_count);
		trace_leave_record(w, TRACE_CALL_PERF_ADD_OFFSETS,
				   (uint64_t[]){connection, pool_id}, invalid, st, NULL, NULL);
		return st;
	}
	list[0] = '\0';
	for (uint64_t i = 0; i < offsets_count; i++)
		len += (size_t)snprintf(list + len, cap - len,
					"%s{\"buffer_id\":%" PRIu64 ",\"offset\":%" PRIu64
					",\"length\":%" PRIu64 "}",
					i ? "," : "", offsets[i].buffer_id, offsets[i].offset,
					offsets[i].length);
	trace_call_head(head, sizeof(head), TRACE_CALL_PERF_ADD_OFFSETS,
			(uint64_t[]){connection, pool_id});
	trace_writer_event(w, "%s,\"offsets\":[%s]},\"result\":%d,\"out\":{}", head, list, st);
	free(list);
	trace_leave();
	return st;
}

/* magma_connection_remove_performance_counter_buffer_from_pool - see magma.h; recorded. */
magma_status_t magma_connection_remove_performance_counter_buffer_from_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, magma_buffer_t buffer)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_remove_performance_counter_buffer_from_pool(
		connection, pool_id, buffer);

	trace_leave_record(w, TRACE_CALL_PERF_REMOVE_BUFFER,
			   (uint64_t[]){connection, pool_id, buffer}, NULL, st, NULL, NULL);
	return st;
}

/* magma_connection_dump_performance_counters - see magma.h; recorded. */
magma_status_t magma_connection_dump_performance_counters(magma_connection_t connection,
							  magma_perf_count_pool_t pool_id,
							  uint32_t trigger_id)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st =
		libmagma_do_connection_dump_performance_counters(connection, pool_id, trigger_id);

	trace_leave_record(w, TRACE_CALL_PERF_DUMP, (uint64_t[]){connection, pool_id, trigger_id},
			   NULL, st, NULL, NULL);
	return st;
}

/* magma_connection_read_performance_counter_completion - see magma.h; recorded with the outs. */
magma_status_t magma_connection_read_performance_counter_completion(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, uint32_t *trigger_id_out,
	uint64_t *buffer_id_out, uint32_t *buffer_offset_out, uint64_t *time_out,
	uint32_t *result_flags_out)
{
	struct trace_writer *w = trace_enter();
	magma_status_t st = libmagma_do_connection_read_performance_counter_completion(
		connection, pool_id, trigger_id_out, buffer_id_out, buffer_offset_out, time_out,
		result_flags_out);
	bool ok = !st && trigger_id_out && buffer_id_out && buffer_offset_out && time_out &&
		  result_flags_out;
	unsigned int nulls = (trigger_id_out ? 0u : 1u) | (buffer_id_out ? 0u : 2u) |
			     (buffer_offset_out ? 0u : 4u) | (time_out ? 0u : 8u) |
			     (result_flags_out ? 0u : 16u);
	char extra[24];

	snprintf(extra, sizeof(extra), "\"nulls\":%u", nulls);
	trace_leave_record(w, TRACE_CALL_PERF_READ_COMPLETION, (uint64_t[]){connection, pool_id},
			   nulls ? extra : NULL, st,
			   (uint64_t[]){ok ? *trigger_id_out : 0, ok ? *buffer_id_out : 0,
					ok ? *buffer_offset_out : 0, ok ? *time_out : 0,
					ok ? *result_flags_out : 0},
			   NULL);
	return st;
}

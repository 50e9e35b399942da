/* SPDX-License-Identifier: MIT */
/*
 * trace_replay.c - validation and replay of magma-sim traces (see trace_replay.h and
 * docs/trace-format.md): the two passes over the file, error reports, and looking inside a
 * stopped replay.
 *
 * Pass 1 checks every line (trace_reader.c for the header and blobs, trace_replay_calls.c for
 * calls, trace_replay_contents.c for completions); pass 2 replays, dispatching each call through
 * trace_replay_handlers. Every error names its line, byte offset and event.
 *
 * With trace_replay_options.hold (magma-replay --perturb, trace_perturb.h), pass 2 also pauses
 * and releases the GPU around each call and completion (replay_gate), so that work the client
 * submitted between two waits starts together.
 *
 * Runs on the caller's thread; the only other threads are the embedded device's, whose events
 * reach trace_replay_device.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "magma_system/embedded.h"
#include "sim/sim.h"
#include "trace_replay_internal.h"
#include "traces/trace.h"
#include "traces/trace_device.h"
#include "traces/trace_perturb.h"
#include "traces/trace_timeline.h"

/* trace_replay_fail - see trace_replay_internal.h. */
int trace_replay_fail(struct replay *r, int code, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (code == TRACE_REPLAY_BAD_INPUT && !r->line)
		len = (size_t)snprintf(r->res->message, sizeof(r->res->message), "bad trace: ");
	else if (code == TRACE_REPLAY_BAD_INPUT)
		len = (size_t)snprintf(r->res->message, sizeof(r->res->message),
				       "bad trace: line %" PRIu64 " (byte offset %" PRIu64
				       ", event %" PRIu64 "): ",
				       r->line, r->offset, r->index);
	else if (code == TRACE_REPLAY_BAD_OPTIONS)
		len = (size_t)snprintf(r->res->message, sizeof(r->res->message), "bad options: ");
	else if (code == TRACE_REPLAY_ENV_ERROR && !r->line)
		len = (size_t)snprintf(r->res->message, sizeof(r->res->message), "replay error: ");
	else if (code == TRACE_REPLAY_ENV_ERROR)
		len = (size_t)snprintf(r->res->message, sizeof(r->res->message),
				       "replay error at event %" PRIu64 " (line %" PRIu64 "): ",
				       r->index, r->line);
	else
		len = (size_t)snprintf(
			r->res->message, sizeof(r->res->message),
			"divergence at event %" PRIu64 " (line %" PRIu64 "): ", r->index, r->line);
	va_start(ap, fmt);
	vsnprintf(r->res->message + len, sizeof(r->res->message) - len, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * opts->hold (trace_perturb.h): pause the GPU from a submission to the next call that waits for
 * it. Before letting it run, every connection is flushed (the service has taken each submission)
 * and the driver settles (each job that can go is on its ring), so work submitted in between
 * starts together and only the GPU's arbitration orders it. Before pausing it again, and before
 * a completion's digests or a call that saw a GPU fault's effect (SETTLE), the GPU finishes
 * whatever it can (magma_system_embedded_quiesce), so where it pauses and what is checked do not
 * depend on how fast the replay got there.
 */
static void replay_gate(struct replay *r, enum trace_perturb_gate gate)
{
	if (!r->opts->hold || !r->emb || gate == TRACE_PERTURB_KEEP)
		return;
	if (gate == TRACE_PERTURB_SETTLE) {
		replay_gate(r, TRACE_PERTURB_RUN);
		magma_system_embedded_quiesce(r->emb, r->wait_ns);
		return;
	}
	if (r->held == (gate == TRACE_PERTURB_HOLD))
		return;
	/* What ran since the last wait finishes first: the pause comes at the same point. */
	if (gate == TRACE_PERTURB_HOLD) {
		magma_system_embedded_quiesce(r->emb, r->wait_ns);
		r->burst.count = 0;
	}
	if (gate == TRACE_PERTURB_RUN)
		for (size_t i = 0; i < r->conns.cap; i++)
			if (r->conns.e[i].used && r->conns.e[i].v != UINT64_MAX)
				magma_connection_flush(r->conns.e[i].v);
	magma_system_embedded_hold(r->emb, gate == TRACE_PERTURB_HOLD);
	r->held = gate == TRACE_PERTURB_HOLD;
}

/*
 * Validation, after call event r->index (@id) checked: the same call on the next line, but for
 * its "seq", checks the same way, as long as checking it changed nothing (a buffer's declared
 * size, check_new_buffer, is the only state checks write). A client submitting the same command
 * buffer in a loop makes such runs.
 */
static void note_checked(struct replay *r, enum trace_call_id id)
{
	bool repeatable = id != TRACE_CALL_CREATE_BUFFER && id != TRACE_CALL_IMPORT_BUFFER;

	r->checked_index = repeatable ? r->index : UINT64_MAX - 1;
	r->checked_id = id;
}

/* Replaying: the id of call event @ev, which validation checked on this same line. */
static int call_id(struct replay *r, const cJSON *ev, enum trace_call_id *id_out)
{
	const char *name = get_str(ev, "call");
	int id = name ? trace_call_find(name, strlen(name)) : -1;

	if (id < 0)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
					 "%s changed on disk during the replay", r->rd.path);
	*id_out = (enum trace_call_id)id;
	return 0;
}

/*
 * Validates (@replay false) or replays one event. Replaying, the GPU gate moves first
 * (replay_gate): a completion's digests are taken once the GPU did all it could, the same point
 * every run.
 */
static int handle_event(struct replay *r, const cJSON *ev, bool replay, bool *end)
{
	const char *type = get_str(ev, "type");
	enum trace_call_id id = TRACE_CALL_COUNT;
	uint64_t seq;
	int ret = 0;

	if (!cJSON_IsObject(ev))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "an event must be a JSON object");
	if (!type)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "\"type\" missing or not a string");
	if (!get_u64(ev, "seq", &seq) || seq != r->index)
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"\"seq\" missing or not %" PRIu64 " (events lost or reordered?)", r->index);
	if (!strcmp(type, "end")) {
		*end = true;
		return 0;
	}
	if (!strcmp(type, "blob"))
		return replay ? 0 : trace_reader_check_blob(r, ev);
	if (!strcmp(type, "dev")) {
		uint64_t cycle;
		const char *name = get_str(ev, "ev");

		if (replay)
			return 0;
		if (name && !strcmp(name, "FAULT"))
			r->recorded_faults++;
		return get_u64(ev, "cycle", &cycle) ? 0
						    : trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
									"dev: \"cycle\" missing");
	}
	if (!strcmp(type, "device")) {
		r->recorded_device = true;
		return 0;
	}
	if (!strcmp(type, "completion")) {
		if (!replay)
			return trace_replay_check_completion(r, ev);
		replay_gate(r, TRACE_PERTURB_SETTLE);
		return trace_replay_completion(r, ev);
	}
	if (strcmp(type, "call"))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "unknown event type \"%.64s\"",
					 type);
	if (replay)
		ret = call_id(r, ev, &id);
	else if (r->json.repeat && r->checked_index + 1 == r->index)
		id = r->checked_id; /* see note_checked() */
	else
		ret = trace_replay_check_call(r, ev, &id);
	if (!ret && !replay)
		note_checked(r, id);
	if (!ret && !replay && r->opts->skip_inert)
		trace_replay_inert_note(r, ev, id);
	r->completion_run = false;
	if (!ret && !replay && status_of(ev) == MAGMA_STATUS_CONTEXT_KILLED)
		r->recorded_kills++;
	if (ret || !replay)
		return ret;
	r->res->calls++;
	r->res->checked_calls += r->checking;
	replay_gate(r, trace_perturb_gate_for(id, trace_calls[id].has_result ? status_of(ev) : 0));
	/* get_error and flush wait for their recorded error themselves (await_error). */
	if (trace_calls[id].has_result && trace_replay_says_lost(id, status_of(ev)) &&
	    id != TRACE_CALL_FLUSH && id != TRACE_CALL_GET_ERROR)
		trace_replay_await_connection_lost(r, member(ev, "args"));
	return trace_replay_handlers[id].replay(r, ev, member(ev, "args"), member(ev, "out"));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void progress(uint64_t done, uint64_t total, bool final)
{
	int width = 40, fill = total ? (int)(done * (uint64_t)width / total) : width;

	printf("\r[%.*s%*s] %3d%% %" PRIu64 "/%" PRIu64 " events", fill,
	       "########################################", width - fill, "",
	       total ? (int)(done * 100 / total) : 100, done, total);
	if (final)
		printf("\r%*s\r", width + 40, "");
	fflush(stdout);
}

/*
 * The event on the current line: the line without the comma (and spaces, CR) after it, in
 * r->json until the next line is parsed.
 */
static const cJSON *parse_line(struct replay *r)
{
	const char *p = r->rd.text;
	size_t len = r->rd.len;

	while (len && (p[len - 1] == ',' || p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	return trace_json_parse(&r->json, p, len);
}

/* Notes that the file was cut short: the replay goes as far as its last complete event. */
static void note_truncated(struct replay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_truncated(struct replay *r, const char *fmt, ...)
{
	va_list ap;

	r->truncated = true;
	r->res->truncated = true;
	va_start(ap, fmt);
	vsnprintf(r->res->warning, sizeof(r->res->warning), fmt, ap);
	va_end(ap);
}

/*
 * After the end event: only "]}" and white space may follow. A file that ends before the "]}"
 * was cut there (a warning, as for any cut file); anything else is a bad trace.
 */
static int check_trailer(struct replay *r)
{
	bool closed = false;
	int ret;

	while ((ret = trace_reader_next(r)) > 0) {
		const char *p = r->rd.text;

		for (size_t i = 0; i < r->rd.len; i++) {
			if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r')
				continue;
			if (!closed && p[i] == ']' && i + 1 < r->rd.len && p[i + 1] == '}') {
				closed = true;
				i++;
				continue;
			}
			if (!closed && p[i] == ']' && i + 1 == r->rd.len && r->rd.cut)
				break; /* "]" and the end of the file: cut in the trailer */
			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "%s",
						 closed ? "data after the end of the document"
							: "the \"end\" event must be followed by "
							  "\"]}\" and nothing else");
		}
	}
	if (ret < 0)
		return -ret;
	if (!closed)
		note_truncated(r,
			       "the file ends after its \"end\" event without the closing \"]}\"");
	return 0;
}

/*
 * Pass 1: checks the header and every event (bad input names the line), keeps the blobs and
 * each event line's digest, counts the events into r->res->events. A file cut short (no "end"
 * event, or a last line without its newline) is a warning, not an error: its complete events
 * count, the cut line does not.
 */
static int validate(struct replay *r)
{
	bool done = false;
	int ret;

	r->index = 0;
	ret = trace_reader_next(r);
	if (ret < 0)
		return -ret;
	if (!ret || r->rd.cut)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "no header line (empty or truncated file)");
	ret = trace_reader_check_header(r, r->rd.text, r->rd.len);
	while (!ret && !done) {
		uint64_t *digest;
		const cJSON *ev;

		ret = trace_reader_next(r);
		if (ret < 0)
			return -ret;
		if (!ret) {
			note_truncated(
				r,
				"the file ends after %" PRIu64
				" events without the \"end\" event (the recording process did "
				"not exit normally?); replaying those events",
				r->index);
			break;
		}
		if (r->rd.cut) {
			note_truncated(r,
				       "line %" PRIu64
				       " is cut short (%zu bytes, no newline) and is "
				       "ignored; replaying the %" PRIu64 " events before it",
				       r->line, r->rd.len, r->index);
			ret = 0;
			break;
		}
		digest = trace_replay_vec_push(&r->line_digests, sizeof(*digest));
		if (!digest)
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		*digest = trace_reader_line_digest(r->rd.text, r->rd.len);
		ev = parse_line(r);
		if (!ev) {
			const char *at = cJSON_GetErrorPtr();
			size_t col = at && at >= r->rd.text && at <= r->rd.text + r->rd.len
					     ? (size_t)(at - r->rd.text)
					     : 0;

			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
						 "invalid JSON at column %zu", col + 1);
		}
		r->checking = true;
		ret = handle_event(r, ev, false, &done);
		if (!ret && !done)
			r->index++;
	}
	r->res->events = r->index;
	return ret || !done ? ret : check_trailer(r);
}

/*
 * With check_window: --from, --to and --stop-at must name events of the trace (events 0 to N - 1
 * of its N; --stop-at may be N, stopping before its end), and --from not after --to.
 */
static int check_window(struct replay *r)
{
	const struct trace_replay_options *o = r->opts;
	uint64_t n = r->res->events;

	r->line = 0;
	if (o->from != 0 && o->from >= n)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_OPTIONS,
					 "--from %" PRIu64
					 " is past the trace's last event: it has %" PRIu64
					 " events (0 to %" PRIu64 ")",
					 o->from, n, n ? n - 1 : 0);
	if (o->to != UINT64_MAX && o->to >= n)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_OPTIONS,
					 "--to %" PRIu64
					 " is past the trace's last event: it has %" PRIu64
					 " events (0 to %" PRIu64 ")",
					 o->to, n, n ? n - 1 : 0);
	if (o->from > o->to)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_OPTIONS,
					 "--from %" PRIu64 " is after --to %" PRIu64
					 ": no event would be checked",
					 o->from, o->to);
	if (o->stop_at != UINT64_MAX && o->stop_at > n)
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_OPTIONS,
			"--stop-at %" PRIu64 " is past the trace's end: it has %" PRIu64
			" events, --stop-at takes 0 to %" PRIu64 " (%" PRIu64 ": before its end)",
			o->stop_at, n, n, n);
	return 0;
}

/* Whether the current line is the one pass 1 checked as event r->index. */
static bool line_unchanged(struct replay *r)
{
	const uint64_t *digest = trace_replay_vec_at(&r->line_digests, r->index);

	return digest && !r->rd.cut && *digest == trace_reader_line_digest(r->rd.text, r->rd.len);
}

/* Pass 2: replays the events pass 1 checked, up to --to or --stop-at. */
static int replay_events(struct replay *r)
{
	uint64_t last_draw = 0;
	bool done = false;
	int ret;

	r->index = 0;
	ret = trace_reader_rewind(r);
	if (ret)
		return ret;
	ret = trace_reader_next(r); /* the header */
	if (ret < 0)
		return -ret;
	while (!done) {
		const cJSON *ev;

		if (r->opts->stop_at != UINT64_MAX && r->index >= r->opts->stop_at) {
			r->res->stopped_at = r->index;
			if (r->opts->on_stop) {
				struct trace_replay_access access = {r};

				r->opts->on_stop(r->opts->stop_ctx, &access);
			}
			return 0;
		}
		if (r->index > r->opts->to || (r->truncated && r->index == r->res->events))
			break;
		ret = trace_reader_next(r);
		if (ret < 0)
			return -ret;
		ev = ret && line_unchanged(r) ? parse_line(r) : NULL;
		if (!ev)
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
						 "%s changed on disk during the replay",
						 r->rd.path);
		r->checking = r->index >= r->opts->from;
		ret = trace_replay_check_faults(r);
		if (!ret)
			ret = handle_event(r, ev, true, &done);
		if (!ret)
			ret = r->error;
		if (ret)
			return ret;
		if (!done)
			r->index++;
		if (r->opts->progress && !(r->index & 255)) {
			uint64_t t = now_ns();

			if (t - last_draw >= 100000000ull) {
				progress(r->index, r->res->events, false);
				last_draw = t;
			}
		}
	}
	if (r->opts->progress)
		progress(r->index, r->res->events, true);
	return trace_replay_check_faults(r);
}

/* ---- looking inside a stopped replay (on_stop) ---- */

/*
 * The live replay buffer of recorded (@conn, @id): by key, or with TRACE_REPLAY_ANY_CONNECTION
 * the one created first. A released buffer has no fd left (do_release_buffer), so it is gone.
 */
static const struct replay_buffer *stopped_buffer(const struct replay *r, uint64_t conn,
						  uint64_t id)
{
	const struct replay_buffer *b;
	uint64_t best = UINT64_MAX, i;

	if (conn != TRACE_REPLAY_ANY_CONNECTION) {
		b = trace_replay_lookup(&r->buf_ids, conn, id, &i)
			    ? trace_replay_vec_at(&r->buffers, i)
			    : NULL;
		return b && b->readable ? b : NULL;
	}
	for (size_t k = 0; k < r->buf_ids.cap; k++) {
		const struct replay_ent *e = &r->buf_ids.e[k];

		b = e->used && e->k2 == id && e->v < best ? trace_replay_vec_at(&r->buffers, e->v)
							  : NULL;
		if (b && b->readable)
			best = e->v;
	}
	return best == UINT64_MAX ? NULL : trace_replay_vec_at(&r->buffers, best);
}

/* trace_replay_buffer_size - see trace_replay.h. */
int trace_replay_buffer_size(const struct trace_replay_access *access, uint64_t connection,
			     uint64_t buffer_id, uint64_t *size_out)
{
	const struct replay_buffer *b;

	if (!access || !size_out)
		return -EINVAL;
	b = stopped_buffer(access->r, connection, buffer_id);
	if (!b)
		return -ENOENT;
	*size_out = b->size;
	return 0;
}

/* trace_replay_read_buffer - see trace_replay.h. Reads through the fd restore_range writes. */
int trace_replay_read_buffer(const struct trace_replay_access *access, uint64_t connection,
			     uint64_t buffer_id, uint64_t offset, uint64_t length, void *out)
{
	const struct replay_buffer *b;
	uint8_t *dst = out;

	if (!access || (!out && length))
		return -EINVAL;
	b = stopped_buffer(access->r, connection, buffer_id);
	if (!b)
		return -ENOENT;
	if (!trace_replay_range_ok(b, offset, length))
		return -EINVAL;
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;

		/* Reading may open the buffer's fd: the fd cache is all that changes. */
		if (pread(trace_replay_buffer_fd((struct replay *)access->r, b), dst + done, n,
			  (off_t)(offset + done)) != (ssize_t)n)
			return -EIO;
		done += n;
	}
	return 0;
}

/* trace_replay_default_options - see trace_replay.h. */
void trace_replay_default_options(struct trace_replay_options *opts)
{
	*opts = (struct trace_replay_options){
		.from = 0,
		.to = UINT64_MAX,
		.stop_at = UINT64_MAX,
		.max_size = TRACE_MAX_SIZE,
		.wait_ns = REPLAY_WAIT_NS,
	};
}

/* Releases what the trace left open and destroys the device (its last events reach @r->tl). */
static void replay_release_device(struct replay *r)
{
	replay_gate(r, TRACE_PERTURB_RUN);
	for (size_t i = 0; i < r->conns.cap; i++)
		if (r->conns.e[i].used && r->conns.e[i].v != UINT64_MAX)
			magma_connection_release(r->conns.e[i].v);
	for (size_t i = 0; i < r->devices.cap; i++)
		if (r->devices.e[i].used && r->devices.e[i].v != UINT64_MAX)
			magma_device_release(r->devices.e[i].v);
	for (uint64_t i = 0; i < r->buffers.count; i++) {
		struct replay_buffer *b = trace_replay_vec_at(&r->buffers, i);

		if (b->fd >= 0)
			close(b->fd);
	}
	for (size_t i = 0; i < r->handles.cap; i++)
		if (r->handles.e[i].used && r->handles.e[i].v != UINT64_MAX)
			close((int)r->handles.e[i].v);
	magma_system_embedded_destroy(r->emb);
	r->emb = NULL;
	trace_replay_device_unwatch(r);
}

static void replay_free(struct replay *r)
{
	for (uint64_t i = 0; i < r->submissions.count; i++) {
		struct replay_sub *s = trace_replay_vec_at(&r->submissions, i);

		free(s->sems);
		free(s->ranges);
	}
	for (uint64_t i = 0; i < r->blob_data.count; i++)
		free(((struct replay_blob *)trace_replay_vec_at(&r->blob_data, i))->text);
	free(r->buffers.v);
	free(r->rec_buffers.v);
	free(r->chunk);
	for (uint64_t i = 0; i < r->semaphores.count; i++) {
		const struct replay_sem *s = trace_replay_vec_at(&r->semaphores, i);

		if (s->foreign_fd >= 0)
			close(s->foreign_fd);
	}
	free(r->semaphores.v);
	free(r->submissions.v);
	free(r->blob_data.v);
	free(r->burst.v);
	free(r->line_digests.v);
	free(r->mappings.v);
	free(r->completions.v);
	free(r->cmdbufs);
	trace_reader_close(r);
	trace_json_fini(&r->json);
	trace_replay_map_fini(&r->devices);
	trace_replay_map_fini(&r->conn_lost);
	trace_replay_map_fini(&r->check_gen);
	trace_replay_map_fini(&r->replay_gen);
	trace_replay_map_fini(&r->conns);
	trace_replay_map_fini(&r->ctxs);
	trace_replay_map_fini(&r->bufs);
	trace_replay_map_fini(&r->buf_ids);
	trace_replay_map_fini(&r->sems);
	trace_replay_map_fini(&r->sem_ids);
	trace_replay_map_fini(&r->subs);
	trace_replay_map_fini(&r->blobs);
	trace_replay_map_fini(&r->rec_bufs);
	trace_replay_map_fini(&r->handles);
	trace_replay_map_fini(&r->chans);
	trace_replay_map_fini(&r->pools);
	trace_replay_map_fini(&r->pool_handles);
	trace_replay_map_fini(&r->mapping_of);
	trace_replay_map_fini(&r->listed);
	trace_replay_map_fini(&r->stamp_at);
	trace_replay_map_fini(&r->job_conns);
	trace_replay_vec_fini(&r->stamp_list);
	trace_replay_map_fini(&r->ctxs_released);
	trace_replay_map_fini(&r->cmd_class);
	trace_timeline_destroy(r->tl);
}

/* trace_replay_run - see trace_replay.h. */
int trace_replay_run(const char *path, const struct trace_replay_options *opts,
		     struct trace_replay_result *result)
{
	struct replay r = {.opts = opts,
			   .res = result,
			   .sim_sub = -1,
			   .watch = {.sub = -1},
			   .checked_index = UINT64_MAX - 1};
	uint64_t t0;
	int ret;

	memset(result, 0, sizeof(*result));
	result->stopped_at = UINT64_MAX;
	r.max_size = opts->max_size ? opts->max_size : TRACE_MAX_SIZE;
	r.wait_ns = opts->wait_ns ? opts->wait_ns : REPLAY_WAIT_NS;
	r.blob_budget = opts->blob_budget ? opts->blob_budget : REPLAY_BLOB_BUDGET;
	/* The replay itself is never recorded (MAGMA_TRACE may even name the input). */
	trace_writer_close(trace_global_install(NULL));
	r.chunk = malloc(2 * REPLAY_CHUNK);
	ret = r.chunk ? trace_reader_open(&r, path)
		      : trace_replay_fail(&r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!ret)
		ret = validate(&r);
	if (!ret && opts->check_window)
		ret = check_window(&r);
	if (ret)
		goto out;
	r.line = 0; /* errors from here on belong to no line until replay starts */
	if (opts->timeline) {
		r.tl = trace_timeline_create();
		if (!r.tl) {
			ret = trace_replay_fail(&r, TRACE_REPLAY_ENV_ERROR, "out of memory");
			goto out;
		}
	}
	r.cmdbufs = calloc(REPLAY_CMDBUFS_KEPT, sizeof(*r.cmdbufs));
	ret = r.cmdbufs ? trace_replay_device_watch(&r)
			: trace_replay_fail(&r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (ret)
		goto out;
	t0 = now_ns();
	ret = replay_events(&r);
	if (r.sim)
		result->gpu_cycles = sim_clock_now(r.sim);
	result->device_digest = trace_replay_device_digest(&r);
	result->host_ns = now_ns() - t0;
out:
	replay_release_device(&r);
	if (r.tl && ret != TRACE_REPLAY_BAD_INPUT) {
		int err = trace_timeline_write(r.tl, opts->timeline);

		r.line = 0;
		if (err && !ret)
			ret = trace_replay_fail(&r, TRACE_REPLAY_ENV_ERROR, "cannot write %s: %s",
						opts->timeline, strerror(-err));
	}
	replay_free(&r);
	return ret;
}

/*
 * ---- trace_replay_semaphore_wait, _handle_wait, _connection_error (for magma-trace trim) ----
 *
 * A separate addition on the on_stop access (issue 15): the state of semaphores, exported
 * handles and connections at the stop, which trim rebuilds as setup calls. Uses only the maps
 * the replay already keeps.
 */

/* Whether replay semaphore @i is live: released ones keep their id entry, not their handle. */
static bool semaphore_is_live(const struct replay *r, uint64_t i)
{
	for (size_t k = 0; k < r->sems.cap; k++)
		if (r->sems.e[k].used && r->sems.e[k].v == i)
			return true;
	return false;
}

/* trace_replay_semaphore_wait - see trace_replay.h. */
int trace_replay_semaphore_wait(const struct trace_replay_access *access, uint64_t connection,
				uint64_t semaphore_id, uint64_t timeout_ns)
{
	magma_poll_item_t p = {.type = MAGMA_POLL_TYPE_SEMAPHORE,
			       .condition = MAGMA_POLL_CONDITION_SIGNALED};
	const struct replay_sem *s;
	const struct replay *r;
	uint64_t i = UINT64_MAX;

	if (!access)
		return -EINVAL;
	r = access->r;
	if (connection != TRACE_REPLAY_ANY_CONNECTION) {
		if (!trace_replay_lookup(&r->sem_ids, connection, semaphore_id, &i) ||
		    !semaphore_is_live(r, i))
			return -ENOENT;
	} else {
		/* The live semaphore of that id the trace created first. */
		for (size_t k = 0; k < r->sem_ids.cap; k++) {
			const struct replay_ent *e = &r->sem_ids.e[k];

			if (e->used && e->k2 == semaphore_id && e->v < i &&
			    semaphore_is_live(r, e->v))
				i = e->v;
		}
	}
	s = trace_replay_vec_at(&r->semaphores, i);
	if (!s)
		return -ENOENT;
	p.semaphore = s->h;
	return magma_poll(&p, 1, timeout_ns) == MAGMA_STATUS_OK ? 0 : -ETIMEDOUT;
}

/* trace_replay_handle_wait - see trace_replay.h. */
int trace_replay_handle_wait(const struct trace_replay_access *access, uint64_t handle,
			     uint64_t timeout_ns)
{
	magma_poll_item_t p = {.type = MAGMA_POLL_TYPE_HANDLE,
			       .condition = MAGMA_POLL_CONDITION_READABLE};
	uint64_t fd;

	if (!access)
		return -EINVAL;
	if (!trace_replay_lookup(&access->r->handles, handle, 0, &fd))
		return -ENOENT;
	p.handle = (magma_handle_t)fd;
	return magma_poll(&p, 1, timeout_ns) == MAGMA_STATUS_OK ? 0 : -ETIMEDOUT;
}

/* trace_replay_connection_error - see trace_replay.h. */
int trace_replay_connection_error(const struct trace_replay_access *access, uint64_t connection,
				  int32_t *status_out)
{
	uint64_t c;

	if (!access || !status_out)
		return -EINVAL;
	if (!trace_replay_lookup(&access->r->conns, connection, 0, &c))
		return -ENOENT;
	*status_out = magma_connection_get_error(c);
	return 0;
}

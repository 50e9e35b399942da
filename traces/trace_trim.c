/* SPDX-License-Identifier: MIT */
/*
 * trace_trim.c - magma-trace trim: a self-contained trace of events N..M of another
 * (docs/trace-tools.md, "trim").
 *
 * Pass 1 reads the input a line at a time: the calls before N build the live state
 * (trace_trim_state.c), blob lines are indexed by digest, and the events from N on say what is
 * still running at N and what the range uses.
 *
 * The input is then replayed up to N and on_stop reads what the calls do not say: in-flight
 * work is let settle (or marked to be submitted again when it waits for the range), then each
 * live buffer's contents go to the output as blobs, and semaphore, exported-handle and
 * connection-error states are noted.
 *
 * The setup follows as ordinary call events, in dependency order, the contents as submissions
 * without command buffers on a context of trim's own (the replay writes a submission's recorded
 * contents into its resources before sending it). Last, events N..M are copied with new
 * sequence numbers, with the blobs they use from before N and each completion's "submission"
 * renumbered; completions of submissions not in the output are dropped.
 *
 * What the output cannot carry is a warning. The output is written by this file rather than
 * trace_writer, which drops write errors; a failed trim removes it. Single-threaded (the
 * replay's device has its own threads).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "trace_trim.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

/* At most this many resources in one fence submission (the service accepts 4096). */
#define TRIM_FENCE_RESOURCES 1024
/* How long on_stop waits, in all, for work the recording saw complete after the cut. */
#define TRIM_SETTLE_NS	     (5ull * 1000 * 1000 * 1000)
/* How long a submission that waits for a semaphore signaled after the cut is given to finish. */
#define TRIM_BLOCKED_NS	     (200ull * 1000 * 1000)
/* A context id no connection has: releasing it is a remote INVALID_ARGS. */
#define TRIM_NO_CONTEXT	     UINT64_C(0x7ffffff0)
/* Handles trim makes up for its own exports: far above any fd a recording saw. */
#define TRIM_HANDLE_BASE     (1ull << 40)

/* The output document: its own framing so that write errors are seen. */
struct trim_out {
	FILE *f;
	uint64_t seq;
	struct tt_map blobs; /* digests written */
	bool failed;
};

struct trim {
	const char *in, *out_path;
	uint64_t from, to, events;
	uint64_t from_offset, from_line; /* where event @from starts */
	struct trim_state s;
	struct tt_map blob_index;
	struct tt_map new_seq; /* input submission event -> output event */
	struct trim_out out;
	uint64_t setup_events, range_events, dropped_completions, carried_blobs, resubmitted;
	uint64_t warnings;
	uint64_t next_handle;	  /* of trim's own exports, above TRIM_HANDLE_BASE */
	uint64_t settle_deadline; /* end of the time on_stop waits for work in flight */
	bool created;		  /* the output file exists (removed again on failure) */
	int stop_ret;		  /* an error inside on_stop */
	char stop_error[512];
};

static void warn(struct trim *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct trim *t, const char *fmt, ...)
{
	va_list ap;

	fputs("magma-trace trim: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t->warnings++;
}

/* ---- the output ---- */

static int out_open(struct trim_out *o, const char *path, uint64_t from, uint64_t to)
{
	o->f = fopen(path, "we");
	if (!o->f)
		return -errno;
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	fprintf(o->f,
		"{\"format\":\"%s\",\"version\":%d,\"writer\":\"magma-trace trim\","
		"\"digest\":\"fnv1a64\",\"trim\":{\"from\":%" PRIu64 ",\"to\":%" PRIu64
		"},\"events\":[\n",
		TRACE_FORMAT_NAME, TRACE_FORMAT_VERSION, from, to);
	return 0;
}

static void out_event(struct trim_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One event: @fmt/... are its members after "seq". */
static void out_event(struct trim_out *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(o->f, "{\"seq\":%" PRIu64 ",", o->seq++);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputs("},\n", o->f);
}

/*
 * Copies event line @line (an input event, NUL-terminated, without its trailing comma) with the
 * next sequence number. Lines that begin {"seq":N, as writers write them keep their bytes;
 * anything else goes through cJSON.
 */
static int out_copy_line(struct trim_out *o, const char *line)
{
	const char *p = line + 7;
	cJSON *ev;
	char *text;

	if (!strncmp(line, "{\"seq\":", 7)) {
		while (*p >= '0' && *p <= '9')
			p++;
		if (p > line + 7 && *p == ',') {
			fprintf(o->f, "{\"seq\":%" PRIu64 ",%s,\n", o->seq++, p + 1);
			return 0;
		}
	}
	ev = cJSON_Parse(line);
	if (!ev)
		return -EINVAL;
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "seq");
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	if (!text)
		return -ENOMEM;
	/* text is {...}: drop its braces, out_event adds them back around "seq". */
	text[strlen(text) - 1] = '\0';
	out_event(o, "%s", text + 1);
	free(text);
	return 0;
}

/* Writes @len bytes at @data as a blob event unless one of that digest was written. */
static int out_blob(struct trim_out *o, const void *data, size_t len, uint64_t *digest_out)
{
	uint64_t d = trace_digest(data, len);
	char hex[17], *text;

	*digest_out = d;
	if (tt_map_get(&o->blobs, d, 0, NULL))
		return 0;
	text = trace_blob_encode(data, len);
	if (!text || !tt_map_put(&o->blobs, d, 0, 1)) {
		free(text);
		return -ENOMEM;
	}
	trace_digest_hex(d, hex);
	out_event(o, "\"type\":\"blob\",\"digest\":\"%s\",\"size\":%zu,\"data\":\"%s\"", hex, len,
		  text);
	free(text);
	return 0;
}

/* Ends the document and closes it; -EIO when anything failed to be written. */
static int out_close(struct trim_out *o)
{
	int ret = 0;

	if (!o->f)
		return 0;
	fprintf(o->f, "{\"seq\":%" PRIu64 ",\"type\":\"end\",\"events\":%" PRIu64 "}\n]}\n", o->seq,
		o->seq);
	if (ferror(o->f) || o->failed)
		ret = -EIO;
	if (fclose(o->f) && !ret)
		ret = -errno;
	o->f = NULL;
	tt_map_fini(&o->blobs);
	return ret;
}

/* ---- pass 1 ---- */

static int pass1(struct trim *t)
{
	struct tt_reader rd;
	int ret = tt_reader_open(&rd, t->in);

	if (ret) {
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
		return ret;
	}
	/* Device events change nothing trim rebuilds (the replay validates them). */
	rd.skip_dev = true;
	while (!(ret = tt_reader_next(&rd)) && rd.type != TT_END) {
		if (rd.index == t->from) {
			t->from_offset = rd.offset;
			t->from_line = rd.line_no;
		}
		if (rd.type == TT_BLOB && !tt_blob_index_add(&t->blob_index, &rd)) {
			ret = TRACE_REPLAY_ENV_ERROR;
			snprintf(rd.error, sizeof(rd.error), "out of memory");
			break;
		}
		if (rd.index < t->from) {
			ret = trim_state_apply(&t->s, &rd);
			if (ret) {
				snprintf(rd.error, sizeof(rd.error), "%s", t->s.error);
				break;
			}
		} else {
			ret = trim_state_note_after_cut(&t->s, &rd, rd.index <= t->to);
			if (ret) {
				snprintf(rd.error, sizeof(rd.error), "%s", t->s.error);
				break;
			}
		}
	}
	if (ret)
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
	t->events = rd.index;
	tt_reader_close(&rd);
	return ret;
}

/* ---- on_stop: what the replay holds at the cut ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t conn_handle(const struct trim *t, uint64_t ci)
{
	return ((struct trim_conn *)tt_vec_at(&t->s.conns, ci))->handle;
}

/*
 * Waits up to @ns for every signal semaphore of @p; false when one stays unsignaled or cannot
 * be looked at (released before the cut).
 */
static bool wait_signals(struct trim *t, const struct trace_replay_access *access,
			 const struct trim_pending *p, uint64_t ns)
{
	uint64_t deadline = now_ns() + ns;

	for (uint32_t k = 0; k < p->sem_count; k++) {
		uint64_t now = now_ns();

		if (trace_replay_semaphore_wait(access, conn_handle(t, p->conn), p->sems[k],
						now < deadline ? deadline - now : 0))
			return false;
	}
	return true;
}

/*
 * Lets the work in flight at the cut settle, in submission order, so that the contents and
 * semaphores read next are what the range starts from:
 * - a submission waiting for a semaphore that only an event after the cut signals (or a
 *   submission trim submits again) is given a moment; if its signal semaphores are still not
 *   signaled, or it has none, it is waiting, and the setup submits it again as recorded (its
 *   completion in the range then checks it);
 * - a submission the recording saw complete after the cut is waited for (TRIM_SETTLE_NS in
 *   all); one that does not finish is reported.
 */
static void settle(struct trim *t, const struct trace_replay_access *access)
{
	uint64_t deadline = t->settle_deadline = now_ns() + TRIM_SETTLE_NS;

	for (size_t i = 0; i < t->s.pending.count; i++) {
		struct trim_pending *p = tt_vec_at(&t->s.pending, i);
		uint64_t now = now_ns(), left = now < deadline ? deadline - now : 0;

		if (p->done || !trim_conn_live(&t->s, p->conn))
			continue;
		if (trim_pending_may_be_blocked(&t->s, p)) {
			if (p->sem_count && wait_signals(t, access, p, TRIM_BLOCKED_NS))
				continue; /* it ran */
			if (trim_pending_can_resubmit(&t->s, p)) {
				p->resubmit = true;
				t->resubmitted++;
				trim_pending_mark_signals_later(&t->s, p);
			} else {
				warn(t,
				     "submission at event %" PRIu64
				     " is still waiting at event %" PRIu64
				     " for a semaphore signaled later, and cannot be submitted again "
				     "(a semaphore or its context was released, or it is inline)",
				     p->seq, t->from);
			}
			continue;
		}
		if (p->completes_late && p->sem_count && !wait_signals(t, access, p, left))
			warn(t,
			     "submission at event %" PRIu64 " was still running at event %" PRIu64
			     " and did not finish in the replay: its effects are not in the trimmed "
			     "trace",
			     p->seq, t->from);
	}
}

/*
 * Whether a submission before the cut that is neither known to be done nor waiting for the
 * range signals semaphore object @object (by the ids it recorded, released or not).
 */
static bool object_in_flight(const struct trim *t, uint64_t object)
{
	for (size_t i = 0; i < t->s.pending.count; i++) {
		const struct trim_pending *p = tt_vec_at(&t->s.pending, i);

		if (p->done || p->resubmit || trim_pending_may_be_blocked(&t->s, p))
			continue;
		for (uint32_t k = 0; k < p->sem_count; k++) {
			uint64_t si;

			if (tt_map_get(&t->s.sem_by_id, p->conn, p->sems[k], &si) &&
			    ((struct trim_sem *)tt_vec_at(&t->s.sems, si))->object == object)
				return true;
		}
	}
	return false;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Reads the contents of live buffer @bi's memory (once per object) and writes its blob. */
static int read_contents(struct trim *t, const struct trace_replay_access *access, uint64_t bi)
{
	struct trim_buf *b = tt_vec_at(&t->s.bufs, bi);
	struct trim_object *o = tt_vec_at(&t->s.objects, b->object);
	uint64_t size = 0;
	uint8_t *data;
	int err;

	if (o->read)
		return 0;
	o->read = true;
	err = trace_replay_buffer_size(access, conn_handle(t, b->conn), b->id, &size);
	if (err) {
		warn(t,
		     "buffer id %" PRIu64 " (connection %" PRIu64
		     ") is not in the replay at event %" PRIu64
		     ": %s; its contents are not carried",
		     b->id, conn_handle(t, b->conn), t->from, strerror(-err));
		return 0;
	}
	if (size > b->size)
		size = b->size;
	if (size > SIZE_MAX - 1)
		return -ENOMEM;
	data = malloc(size ? (size_t)size : 1);
	if (!data)
		return -ENOMEM;
	err = trace_replay_read_buffer(access, conn_handle(t, b->conn), b->id, 0, size, data);
	if (!err && !all_zero(data, size)) {
		err = out_blob(&t->out, data, (size_t)size, &o->digest);
		o->has_contents = !err;
		o->size = size;
		t->setup_events += !err;
	} else if (err) {
		warn(t, "buffer id %" PRIu64 " cannot be read in the replay: %s", b->id,
		     strerror(-err));
		err = 0;
	}
	free(data);
	return err;
}

static void on_stop(void *ctx, const struct trace_replay_access *access)
{
	struct trim *t = ctx;

	settle(t, access);
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = tt_vec_at(&t->s.conns, i);

		if (c->live && trace_replay_connection_error(access, c->handle, &c->error_at_cut))
			c->error_at_cut = 0;
	}
	for (size_t i = 0; i < t->s.sems.count; i++) {
		struct trim_sem *m = tt_vec_at(&t->s.sems, i);
		struct trim_object *o = tt_vec_at(&t->s.objects, m->object);

		if (!trim_sem_live(&t->s, i) || o->read)
			continue;
		o->read = true;
		o->signaled =
			!trace_replay_semaphore_wait(access, conn_handle(t, m->conn), m->id, 0);
	}
	/*
	 * Exported handles whose semaphore is gone: the handle still says whether it is signaled.
	 * Work in flight that signals it is waited for first, as settle() does.
	 */
	for (size_t i = 0; i < t->s.exports.count; i++) {
		struct trim_export *e = tt_vec_at(&t->s.exports, i);
		uint64_t now = now_ns();

		if (!e->live || ((struct trim_object *)tt_vec_at(&t->s.objects, e->object))->read)
			continue;
		e->orphan = true;
		if (e->semaphore && tt_map_get(&t->s.range_handles, e->handle, 0, NULL))
			e->readable = !trace_replay_handle_wait(
				access, e->handle,
				object_in_flight(t, e->object) && now < t->settle_deadline
					? t->settle_deadline - now
					: 0);
	}
	for (size_t i = 0; i < t->s.bufs.count; i++) {
		int err = trim_buf_live(&t->s, i) ? read_contents(t, access, i) : 0;

		if (err) {
			t->stop_ret = TRACE_REPLAY_ENV_ERROR;
			snprintf(t->stop_error, sizeof(t->stop_error),
				 "reading the buffers at event %" PRIu64 ": %s", t->from,
				 strerror(-err));
			return;
		}
	}
}

/* ---- the setup ---- */

#define CALL(t, fmt, ...)                                                                          \
	do {                                                                                       \
		out_event(&(t)->out, "\"type\":\"call\",\"setup\":1," fmt, __VA_ARGS__);           \
		(t)->setup_events++;                                                               \
	} while (0)

static void setup_devices(struct trim *t, bool release)
{
	for (size_t i = 0; i < t->s.devices.count; i++) {
		struct trim_device *d = tt_vec_at(&t->s.devices, i);
		bool needed = d->live;

		for (size_t k = 0; k < t->s.conns.count && !needed; k++)
			needed = trim_conn_live(&t->s, k) &&
				 ((struct trim_conn *)tt_vec_at(&t->s.conns, k))->device == i;
		if (!needed)
			continue;
		if (!release)
			CALL(t,
			     "\"call\":\"device_import\",\"args\":{\"channel\":0},\"result\":0,"
			     "\"out\":{\"device\":%" PRIu64 "}",
			     d->handle);
		else if (!d->live)
			CALL(t,
			     "\"call\":\"device_release\",\"args\":{\"device\":%" PRIu64
			     "},\"out\":{}",
			     d->handle);
	}
}

static void setup_connections(struct trim *t)
{
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = tt_vec_at(&t->s.conns, i);
		struct trim_device *d = tt_vec_at(&t->s.devices, c->device);

		if (!c->live)
			continue;
		CALL(t,
		     "\"call\":\"create_connection\",\"args\":{\"device\":%" PRIu64
		     "},\"result\":0,\"out\":{\"connection\":%" PRIu64 "}",
		     d->handle, c->handle);
		if (c->perf_access)
			CALL(t,
			     "\"call\":\"perf_enable_access\",\"args\":{\"connection\":%" PRIu64
			     ",\"channel\":0},\"result\":0,\"out\":{}",
			     c->handle);
		if (c->has_channel)
			CALL(t,
			     "\"call\":\"get_notification_channel\",\"args\":{\"connection\":%" PRIu64
			     "},\"out\":{\"handle\":%" PRIu64 "}",
			     c->handle, c->channel);
	}
	for (size_t i = 0; i < t->s.ctxs.count; i++) {
		struct trim_ctx *x = tt_vec_at(&t->s.ctxs, i);

		if (!trim_ctx_live(&t->s, i))
			continue;
		CALL(t,
		     "\"call\":\"create_context\",\"args\":{\"connection\":%" PRIu64
		     ",\"priority\":%" PRIu64 "},\"result\":0,\"out\":{\"context\":%" PRIu64 "}",
		     conn_handle(t, x->conn), x->priority, x->id);
		if (x->killed && tt_map_get(&t->s.range_ctxs, conn_handle(t, x->conn), x->id, NULL))
			warn(t,
			     "context %" PRIu64 " of connection %" PRIu64
			     " was killed at event %" PRIu64
			     "; the trimmed trace recreates it alive, so its submissions in the "
			     "range may diverge",
			     x->id, conn_handle(t, x->conn), x->killed_at);
	}
}

/* A fresh handle for one of trim's own exports. */
static uint64_t new_handle(struct trim *t)
{
	return TRIM_HANDLE_BASE + t->next_handle++;
}

static void setup_buffers(struct trim *t)
{
	for (size_t i = 0; i < t->s.bufs.count; i++) {
		struct trim_buf *b = tt_vec_at(&t->s.bufs, i);
		struct trim_object *o = tt_vec_at(&t->s.objects, b->object);

		if (!trim_buf_live(&t->s, i))
			continue;
		if (!o->emitted) {
			CALL(t,
			     "\"call\":\"create_buffer\",\"args\":{\"connection\":%" PRIu64
			     ",\"size\":%" PRIu64 "},\"result\":0,\"out\":{\"size\":%" PRIu64
			     ",\"buffer\":%" PRIu64 ",\"id\":%" PRIu64 "}",
			     conn_handle(t, b->conn), b->size, b->size, b->handle, b->id);
			o->emitted = true;
			o->first = i;
		} else {
			/* Memory shared with an earlier buffer: export that one, import here. */
			struct trim_buf *first = tt_vec_at(&t->s.bufs, o->first);
			uint64_t h = new_handle(t);

			CALL(t,
			     "\"call\":\"buffer_export\",\"args\":{\"buffer\":%" PRIu64
			     "},\"result\":0,\"out\":{\"handle\":%" PRIu64 "}",
			     first->handle, h);
			CALL(t,
			     "\"call\":\"import_buffer\",\"args\":{\"connection\":%" PRIu64
			     ",\"handle\":%" PRIu64 "},\"result\":0,\"out\":{\"size\":%" PRIu64
			     ",\"buffer\":%" PRIu64 ",\"id\":%" PRIu64 "}",
			     conn_handle(t, b->conn), h, b->size, b->handle, b->id);
		}
		if (b->has_policy)
			CALL(t,
			     "\"call\":\"buffer_set_cache_policy\",\"args\":{\"buffer\":%" PRIu64
			     ",\"policy\":%" PRIu64 "},\"result\":0,\"out\":{}",
			     b->handle, b->policy);
	}
	for (size_t i = 0; i < t->s.mappings.count; i++) {
		struct trim_mapping *m = tt_vec_at(&t->s.mappings, i);

		if (!trim_mapping_live(&t->s, i))
			continue;
		CALL(t,
		     "\"call\":\"map_buffer\",\"args\":{\"connection\":%" PRIu64
		     ",\"hw_va\":%" PRIu64 ",\"buffer\":%" PRIu64 ",\"offset\":%" PRIu64
		     ",\"length\":%" PRIu64 ",\"flags\":%" PRIu64 "},\"result\":0,\"out\":{}",
		     conn_handle(t, m->conn), m->hw_va,
		     ((struct trim_buf *)tt_vec_at(&t->s.bufs, m->buf))->handle, m->offset,
		     m->length, m->flags);
	}
}

static void setup_semaphores(struct trim *t)
{
	for (size_t i = 0; i < t->s.sems.count; i++) {
		struct trim_sem *m = tt_vec_at(&t->s.sems, i);
		struct trim_object *o = tt_vec_at(&t->s.objects, m->object);

		if (!trim_sem_live(&t->s, i))
			continue;
		if (!o->emitted) {
			CALL(t,
			     "\"call\":\"create_semaphore\",\"args\":{\"connection\":%" PRIu64
			     "},\"result\":0,\"out\":{\"semaphore\":%" PRIu64 ",\"id\":%" PRIu64
			     "}",
			     conn_handle(t, m->conn), m->handle, m->id);
			o->emitted = true;
			o->first = i;
			if (o->signaled)
				CALL(t,
				     "\"call\":\"semaphore_signal\",\"args\":{\"semaphore\":%" PRIu64
				     "},\"out\":{}",
				     m->handle);
		} else {
			struct trim_sem *first = tt_vec_at(&t->s.sems, o->first);
			uint64_t h = new_handle(t);

			CALL(t,
			     "\"call\":\"semaphore_export\",\"args\":{\"semaphore\":%" PRIu64
			     "},\"result\":0,\"out\":{\"handle\":%" PRIu64 "}",
			     first->handle, h);
			CALL(t,
			     "\"call\":\"import_semaphore\",\"args\":{\"connection\":%" PRIu64
			     ",\"handle\":%" PRIu64 ",\"flags\":%" PRIu64
			     "},\"result\":0,\"out\":{\"semaphore\":%" PRIu64 ",\"id\":%" PRIu64
			     "}",
			     conn_handle(t, m->conn), h, m->flags, m->handle, m->id);
		}
	}
}

/* A live connection for trim's own objects: @prefer when it is live, else the first live one. */
static uint64_t some_live_conn(const struct trim *t, uint64_t prefer)
{
	if (trim_conn_live(&t->s, prefer))
		return prefer;
	for (size_t i = 0; i < t->s.conns.count; i++)
		if (trim_conn_live(&t->s, i))
			return i;
	return TRIM_NONE;
}

/*
 * An exported semaphore handle whose semaphore was released before the cut, used by the range:
 * a semaphore of trim's own, exported as that handle (signaled as the handle was) and released.
 */
static void setup_orphan_semaphore(struct trim *t, const struct trim_export *e)
{
	const struct trim_sem *src = tt_vec_at(&t->s.sems, e->source);
	uint64_t ci = some_live_conn(t, src ? src->conn : TRIM_NONE), h = new_handle(t);

	if (ci == TRIM_NONE) {
		warn(t,
		     "handle %" PRIu64 " (an exported semaphore) is used by the range, but no "
		     "connection is open at event %" PRIu64 " to make it again; it is not carried",
		     e->handle, t->from);
		return;
	}
	CALL(t,
	     "\"call\":\"create_semaphore\",\"args\":{\"connection\":%" PRIu64
	     "},\"result\":0,\"out\":{\"semaphore\":%" PRIu64 ",\"id\":%" PRIu64 "}",
	     conn_handle(t, ci), h, h);
	CALL(t,
	     "\"call\":\"semaphore_export\",\"args\":{\"semaphore\":%" PRIu64
	     "},\"result\":0,\"out\":{\"handle\":%" PRIu64 "}",
	     h, e->handle);
	if (e->readable)
		CALL(t,
		     "\"call\":\"semaphore_signal\",\"args\":{\"semaphore\":%" PRIu64
		     "},\"out\":{}",
		     h);
	CALL(t,
	     "\"call\":\"release_semaphore\",\"args\":{\"connection\":%" PRIu64
	     ",\"semaphore\":%" PRIu64 "},\"out\":{}",
	     conn_handle(t, ci), h);
}

/* Handles exported before the cut and not imported yet: export them again as recorded. */
static void setup_exports(struct trim *t)
{
	for (size_t i = 0; i < t->s.exports.count; i++) {
		struct trim_export *e = tt_vec_at(&t->s.exports, i);
		struct trim_object *o = tt_vec_at(&t->s.objects, e->object);

		if (!e->live)
			continue;
		if (!o->emitted) {
			if (!tt_map_get(&t->s.range_handles, e->handle, 0, NULL))
				continue; /* the range never uses it */
			if (e->semaphore && e->orphan) {
				setup_orphan_semaphore(t, e);
				continue;
			}
			warn(t,
			     "handle %" PRIu64 " was exported before event %" PRIu64
			     " from a buffer released since, and the range uses it; it is not "
			     "carried (the buffer's contents are gone from the replay)",
			     e->handle, t->from);
			continue;
		}
		if (e->semaphore)
			CALL(t,
			     "\"call\":\"semaphore_export\",\"args\":{\"semaphore\":%" PRIu64
			     "},\"result\":0,\"out\":{\"handle\":%" PRIu64 "}",
			     ((struct trim_sem *)tt_vec_at(&t->s.sems, o->first))->handle,
			     e->handle);
		else
			CALL(t,
			     "\"call\":\"buffer_export\",\"args\":{\"buffer\":%" PRIu64
			     "},\"result\":0,\"out\":{\"handle\":%" PRIu64 "}",
			     ((struct trim_buf *)tt_vec_at(&t->s.bufs, o->first))->handle,
			     e->handle);
	}
}

/* Whether buffer id @id of connection @ci is live (perf offsets name buffers by id). */
static bool buffer_id_live(const struct trim *t, uint64_t ci, uint64_t id)
{
	for (size_t i = 0; i < t->s.bufs.count; i++) {
		const struct trim_buf *b = tt_vec_at(&t->s.bufs, i);

		if (b->conn == ci && b->id == id && trim_buf_live(&t->s, i))
			return true;
	}
	return false;
}

static void setup_perf(struct trim *t)
{
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = tt_vec_at(&t->s.conns, i);

		if (c->live && c->counters)
			CALL(t,
			     "\"call\":\"perf_enable_counters\",\"args\":{\"connection\":%" PRIu64
			     ",\"counters\":%s},\"result\":0,\"out\":{}",
			     c->handle, c->counters);
	}
	for (size_t i = 0; i < t->s.pools.count; i++) {
		struct trim_pool *p = tt_vec_at(&t->s.pools, i);
		const char *sep = "";

		if (!trim_pool_live(&t->s, i))
			continue;
		CALL(t,
		     "\"call\":\"perf_create_pool\",\"args\":{\"connection\":%" PRIu64
		     "},\"result\":0,\"out\":{\"pool\":%" PRIu64 ",\"handle\":%" PRIu64 "}",
		     conn_handle(t, p->conn), p->pool, p->handle);
		if (!p->offsets.count)
			continue;
		fprintf(t->out.f,
			"{\"seq\":%" PRIu64
			",\"type\":\"call\",\"setup\":1,\"call\":\"perf_add_offsets\","
			"\"args\":{\"connection\":%" PRIu64 ",\"pool\":%" PRIu64 ",\"offsets\":[",
			t->out.seq++, conn_handle(t, p->conn), p->pool);
		for (size_t k = 0; k < p->offsets.count; k++) {
			struct trim_offset *o = tt_vec_at(&p->offsets, k);

			if (!buffer_id_live(t, p->conn, o->buffer_id))
				continue;
			fprintf(t->out.f,
				"%s{\"buffer_id\":%" PRIu64 ",\"offset\":%" PRIu64
				",\"length\":%" PRIu64 "}",
				sep, o->buffer_id, o->offset, o->length);
			sep = ",";
		}
		fputs("]},\"result\":0,\"out\":{}},\n", t->out.f);
		t->setup_events++;
	}
}

/*
 * The contents: per connection, submissions without command buffers on a context of trim's own
 * whose resources are the buffers with contents (the replay writes them before sending).
 */
static void setup_contents(struct trim *t)
{
	static const char batch_end[] = "],\"command_buffers\":[],\"wait\":[],\"signal\":[]},"
					"\"result\":0,\"out\":{}},\n";

	for (size_t ci = 0; ci < t->s.conns.count; ci++) {
		struct trim_conn *c = tt_vec_at(&t->s.conns, ci);
		uint64_t in_batch = 0;
		bool created = false;

		if (!c->live)
			continue;
		/* Above every context id the connection had: the range may reuse none of it. */
		c->temp_context = c->max_context + 1;
		for (size_t i = 0; i < t->s.bufs.count; i++) {
			struct trim_buf *b = tt_vec_at(&t->s.bufs, i);
			struct trim_object *o = tt_vec_at(&t->s.objects, b->object);
			char hex[17];

			if (b->conn != ci || o->first != i || !o->has_contents ||
			    !trim_buf_live(&t->s, i))
				continue;
			if (!created) {
				CALL(t,
				     "\"call\":\"create_context\",\"args\":{\"connection\":%" PRIu64
				     ",\"priority\":%" PRIu64
				     "},\"result\":0,\"out\":{\"context\":%" PRIu64 "}",
				     c->handle, (uint64_t)MAGMA_PRIORITY_MEDIUM, c->temp_context);
				created = true;
			}
			if (!in_batch)
				fprintf(t->out.f,
					"{\"seq\":%" PRIu64
					",\"type\":\"call\",\"setup\":1,\"call\":\"execute_command\","
					"\"args\":{\"connection\":%" PRIu64 ",\"context\":%" PRIu64
					",\"flags\":0,\"resources\":[",
					t->out.seq++, c->handle, c->temp_context);
			trace_digest_hex(o->digest, hex);
			fprintf(t->out.f,
				"%s{\"buffer_id\":%" PRIu64 ",\"offset\":0,\"length\":%" PRIu64
				",\"contents\":\"%s\"}",
				in_batch ? "," : "", b->id, o->size, hex);
			if (++in_batch == TRIM_FENCE_RESOURCES) {
				fputs(batch_end, t->out.f);
				t->setup_events++;
				in_batch = 0;
			}
		}
		if (in_batch) {
			fputs(batch_end, t->out.f);
			t->setup_events++;
		}
		if (created)
			CALL(t,
			     "\"call\":\"release_context\",\"args\":{\"connection\":%" PRIu64
			     ",\"context\":%" PRIu64 "},\"out\":{}",
			     c->handle, c->temp_context);
	}
}

/*
 * Connections whose error was set at the cut (reported before it, or caused by a feed-forward
 * call before it and reported in the range): the setup ends with a call the service rejects
 * the same way, so the range sees the connection as the recording did. Only INVALID_ARGS can
 * be caused on purpose (releasing a context that does not exist).
 */
static void setup_connection_errors(struct trim *t)
{
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = tt_vec_at(&t->s.conns, i);

		if (!c->live || !c->error_at_cut ||
		    !tt_map_get(&t->s.range_conns, c->handle, 0, NULL))
			continue;
		if (c->error_at_cut == MAGMA_STATUS_INVALID_ARGS) {
			CALL(t,
			     "\"call\":\"release_context\",\"args\":{\"connection\":%" PRIu64
			     ",\"context\":%" PRIu64 "},\"out\":{}",
			     c->handle, TRIM_NO_CONTEXT);
			continue;
		}
		warn(t,
		     "connection %" PRIu64 " has error %" PRId32 " at event %" PRIu64
		     " and the range uses it; only INVALID_ARGS can be caused again, so the "
		     "trimmed trace's connection is healthy",
		     c->handle, c->error_at_cut, t->from);
	}
}

/*
 * Submissions still waiting at the cut for a semaphore that the range signals: submitted again
 * as recorded, after the contents, without contents of their own ("" : the replay leaves the
 * ranges as the setup made them, which is what the GPU will read once the wait is over).
 */
static int setup_resubmissions(struct trim *t, const struct tt_reader *rd)
{
	for (size_t i = 0; i < t->s.pending.count; i++) {
		struct trim_pending *p = tt_vec_at(&t->s.pending, i);
		const cJSON *it;
		char *line, *text;
		cJSON *ev;
		int err;

		if (!p->resubmit)
			continue;
		err = tt_reader_line_at(rd, p->offset, &line);
		if (err)
			return err;
		ev = cJSON_Parse(line);
		free(line);
		if (!ev)
			return -EINVAL;
		cJSON_ArrayForEach(it, tt_member(tt_member(ev, "args"), "resources"))
			cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)it, "contents",
							       cJSON_CreateString(""));
		cJSON_DeleteItemFromObjectCaseSensitive(ev, "seq");
		cJSON_AddNumberToObject(ev, "setup", 1);
		text = cJSON_PrintUnformatted(ev);
		cJSON_Delete(ev);
		if (!text || !tt_map_put(&t->new_seq, p->seq, 0, t->out.seq)) {
			free(text);
			return -ENOMEM;
		}
		text[strlen(text) - 1] = '\0';
		out_event(&t->out, "%s", text + 1);
		free(text);
		t->setup_events++;
	}
	return 0;
}

/* ---- the range ---- */

/* Makes sure the blob of digest @hex is in the output before an event that uses it. */
static int need_blob(struct trim *t, const struct tt_reader *rd, const char *hex)
{
	struct tt_blob b;
	uint64_t d;
	int err;

	if (!hex || !*hex || trace_digest_parse(hex, &d) || tt_map_get(&t->out.blobs, d, 0, NULL))
		return 0;
	err = tt_blob_load(rd, &t->blob_index, hex, &b);
	if (err)
		return err;
	err = out_copy_line(&t->out, b.line);
	tt_blob_free(&b);
	if (!err && !tt_map_put(&t->out.blobs, d, 0, 1))
		err = -ENOMEM;
	t->carried_blobs += !err;
	return err;
}

/* The blobs call @ev refers to: contents, inline commands, notification data. */
static int need_call_blobs(struct trim *t, const struct tt_reader *rd, const cJSON *ev)
{
	const cJSON *args = tt_member(ev, "args"), *it;
	int err = 0;

	cJSON_ArrayForEach(it, tt_member(args, "resources"))
	{
		if (!err)
			err = need_blob(t, rd, tt_str(it, "contents"));
	}
	cJSON_ArrayForEach(it, tt_member(args, "commands"))
	{
		if (!err)
			err = need_blob(t, rd, tt_str(it, "data"));
	}
	if (!err)
		err = need_blob(t, rd, tt_str(tt_member(ev, "out"), "data"));
	return err;
}

static int copy_completion(struct trim *t, cJSON *ev)
{
	uint64_t sub = tt_u64(ev, "submission"), seq;
	cJSON *n = cJSON_GetObjectItemCaseSensitive(ev, "submission");
	char *text;

	if (!tt_map_get(&t->new_seq, sub, 0, &seq) && sub < t->from) {
		t->dropped_completions++;
		return 0;
	}
	if (!tt_map_get(&t->new_seq, sub, 0, &seq)) {
		warn(t, "completion of event %" PRIu64 " names no submission in the range; dropped",
		     sub);
		t->dropped_completions++;
		return 0;
	}
	cJSON_SetNumberValue(n, (double)seq);
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "seq");
	text = cJSON_PrintUnformatted(ev);
	if (!text)
		return -ENOMEM;
	text[strlen(text) - 1] = '\0';
	out_event(&t->out, "%s", text + 1);
	free(text);
	t->range_events++;
	return 0;
}

/*
 * The setup after the state (it reads resubmitted calls back from the input through @rd), then
 * events N..M. Returns an exit status, with the message printed.
 */
static int finish_setup_and_copy_range(struct trim *t, struct tt_reader *rd)
{
	int err = setup_resubmissions(t, rd);
	int ret = 0;

	setup_connection_errors(t);
	setup_devices(t, true);
	if (!err)
		ret = tt_reader_seek(rd, t->from_offset, t->from_line, t->from);
	while (!ret && !err && !(ret = tt_reader_next(rd)) && rd->index <= t->to) {
		const char *call = rd->type == TT_CALL ? tt_str(rd->ev, "call") : NULL;
		uint64_t d = 0;

		switch (rd->type) {
		case TT_BLOB:
			if (!trace_digest_parse(tt_str(rd->ev, "digest"), &d) &&
			    tt_map_get(&t->out.blobs, d, 0, NULL))
				continue; /* already written (contents at the cut, or carried) */
			err = out_copy_line(&t->out, rd->line);
			if (!err && !tt_map_put(&t->out.blobs, d, 0, 1))
				err = -ENOMEM;
			break;
		case TT_COMPLETION:
			err = copy_completion(t, rd->ev);
			continue;
		case TT_CALL:
			err = need_call_blobs(t, rd, rd->ev);
			if (!err && call &&
			    (!strcmp(call, "execute_command") || !strcmp(call, "execute_inline")) &&
			    !tt_map_put(&t->new_seq, rd->index, 0, t->out.seq))
				err = -ENOMEM;
			if (!err)
				err = out_copy_line(&t->out, rd->line);
			break;
		default:
			err = out_copy_line(&t->out, rd->line);
			break;
		}
		t->range_events += !err;
	}
	if (ret)
		fprintf(stderr, "magma-trace trim: %s\n", rd->error);
	if (!ret && err) {
		fprintf(stderr,
			"magma-trace trim: writing the setup and events %" PRIu64 "..%" PRIu64
			": %s\n",
			t->from, t->to, strerror(-err));
		ret = err == -ENOMEM ? TRACE_REPLAY_ENV_ERROR : TRACE_REPLAY_BAD_INPUT;
	}
	return ret;
}

/* ---- the command ---- */

static int usage(void)
{
	fprintf(stderr, "usage: magma-trace trim --from N --to M IN OUT\n"
			"(magma-trace trim --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-trace trim --from N --to M IN OUT\n"
	       "\n"
	       "Writes OUT, a trace that replays on its own: the client state before event N of\n"
	       "IN (devices, connections, contexts, buffers and their contents, mappings,\n"
	       "semaphores and whether they are signaled, notification channels, exported\n"
	       "handles, counter pools) as setup calls, then events N..M of IN renumbered.\n"
	       "magma-replay OUT checks the completions of the range against IN's digests.\n"
	       "Contents and semaphore states come from replaying IN up to event N.\n"
	       "  --from N   first event of the range (0 <= N <= M)\n"
	       "  --to M     last event of the range (M < the end event's index)\n"
	       "  --help     this text\n"
	       "Exit status: 0 written, 1 IN diverges in its replay before event N, 2 bad input\n"
	       "(unreadable or bad trace, bad range or options), 3 host error (OUT cannot be\n"
	       "written, out of memory, no device). Warnings name what the output cannot carry.\n");
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int parse_args(struct trim *t, int argc, char **argv, bool *help_out)
{
	bool have_from = false, have_to = false;

	*help_out = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help_out = true;
			return 0;
		} else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && i + 1 < argc) {
			bool from = !strcmp(a, "--from");

			if (!tt_parse_u64(argv[++i], from ? &t->from : &t->to)) {
				fprintf(stderr,
					"magma-trace trim: %s '%s' is not an event number\n", a,
					argv[i]);
				return usage();
			}
			*(from ? &have_from : &have_to) = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "magma-trace trim: unknown option or missing value: '%s'\n",
				a);
			return usage();
		} else if (!t->in) {
			t->in = a;
		} else if (!t->out_path) {
			t->out_path = a;
		} else {
			fprintf(stderr, "magma-trace trim: unexpected argument '%s'\n", a);
			return usage();
		}
	}
	if (!have_from || !have_to || !t->in || !t->out_path) {
		fprintf(stderr, "magma-trace trim: needs --from, --to, IN and OUT\n");
		return usage();
	}
	if (t->to < t->from) {
		fprintf(stderr,
			"magma-trace trim: --to %" PRIu64 " is before --from %" PRIu64
			" (the range is N..M with N <= M)\n",
			t->to, t->from);
		return TRACE_REPLAY_BAD_INPUT;
	}
	if (same_file(t->in, t->out_path)) {
		fprintf(stderr,
			"magma-trace trim: OUT is IN (%s): refusing to overwrite the input\n",
			t->in);
		return TRACE_REPLAY_BAD_INPUT;
	}
	return 0;
}

static void trim_fini(struct trim *t)
{
	trim_state_fini(&t->s);
	tt_map_fini(&t->blob_index);
	tt_map_fini(&t->new_seq);
	if (t->out.f) {
		fclose(t->out.f);
		t->out.f = NULL;
	}
	tt_map_fini(&t->out.blobs);
}

/* trace_tool_trim - magma-trace trim (see the file head and help()). */
int trace_tool_trim(int argc, char **argv)
{
	struct trace_replay_options opts;
	struct trace_replay_result *res = calloc(1, sizeof(*res));
	struct tt_reader rd;
	struct trim t = {0};
	bool want_help;
	int ret, err;

	if (!res) {
		fprintf(stderr, "magma-trace trim: out of memory\n");
		return TRACE_REPLAY_ENV_ERROR;
	}
	ret = parse_args(&t, argc, argv, &want_help);
	if (ret || want_help) {
		if (want_help)
			help();
		free(res);
		return ret;
	}
	ret = pass1(&t);
	if (ret)
		goto out;
	if (t.to >= t.events) {
		fprintf(stderr,
			"magma-trace trim: --to %" PRIu64 " is beyond the last event of %s: events "
			"are 0..%" PRIu64 " (event %" PRIu64 " is the end)\n",
			t.to, t.in, t.events ? t.events - 1 : 0, t.events);
		ret = TRACE_REPLAY_BAD_INPUT;
		goto out;
	}
	err = out_open(&t.out, t.out_path, t.from, t.to);
	if (err) {
		fprintf(stderr, "magma-trace trim: cannot create %s: %s\n", t.out_path,
			strerror(-err));
		ret = TRACE_REPLAY_ENV_ERROR;
		goto out;
	}
	t.created = true;
	trace_replay_default_options(&opts);
	opts.stop_at = t.from;
	opts.on_stop = on_stop;
	opts.stop_ctx = &t;
	ret = trace_replay_run(t.in, &opts, res);
	if (!ret && t.stop_ret) {
		fprintf(stderr, "magma-trace trim: %s\n", t.stop_error);
		ret = t.stop_ret;
	} else if (!ret && res->stopped_at == UINT64_MAX) {
		fprintf(stderr,
			"magma-trace trim: the replay of %s ended before event %" PRIu64 "\n", t.in,
			t.from);
		ret = TRACE_REPLAY_ENV_ERROR;
	} else if (ret) {
		fprintf(stderr, "magma-trace trim: %s: %s%s\n", t.in, res->message,
			ret == TRACE_REPLAY_DIVERGED ? " (trim needs the state at --from, which "
						       "the replay reaches only without divergence)"
						     : "");
	}
	if (ret)
		goto out_remove;
	setup_devices(&t, false);
	setup_connections(&t);
	setup_buffers(&t);
	setup_semaphores(&t);
	setup_exports(&t);
	setup_perf(&t);
	setup_contents(&t);
	ret = tt_reader_open(&rd, t.in);
	if (ret) {
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
		goto out_remove;
	}
	ret = finish_setup_and_copy_range(&t, &rd);
	tt_reader_close(&rd);
	if (ret)
		goto out_remove;
	err = out_close(&t.out);
	if (err) {
		fprintf(stderr, "magma-trace trim: writing %s: %s\n", t.out_path, strerror(-err));
		ret = TRACE_REPLAY_ENV_ERROR;
		goto out_remove;
	}
	printf("wrote %s: events %" PRIu64 "..%" PRIu64 " of %s (%" PRIu64 " events) as %" PRIu64
	       " events: %" PRIu64 " of setup, %" PRIu64 " from the range, %" PRIu64
	       " blobs from before it; %" PRIu64
	       " completions of earlier submissions dropped; %" PRIu64
	       " submissions still waiting at the cut submitted again; %" PRIu64 " warnings\n",
	       t.out_path, t.from, t.to, t.in, t.events, t.out.seq, t.setup_events, t.range_events,
	       t.carried_blobs, t.dropped_completions, t.resubmitted, t.warnings);
	goto out;

out_remove:
	if (t.out.f) {
		fclose(t.out.f);
		t.out.f = NULL;
	}
	if (t.created)
		unlink(t.out_path);
out:
	trim_fini(&t);
	free(res);
	return ret;
}

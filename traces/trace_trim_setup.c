/* SPDX-License-Identifier: MIT */
/*
 * trace_trim_setup.c - what magma-trace trim writes (see trace_trim.h): the output document and
 * the setup calls that rebuild the state at the cut.
 *
 * The document is framed here rather than by trace_writer, which drops write errors: every
 * write goes through one FILE whose error state trim_out_close reports.
 *
 * The setup is ordinary call events marked "setup":1, in dependency order: devices,
 * connections (counter access, notification channels), contexts, buffers (shared memory as an
 * export and an import), cache policies, mappings, semaphores (signaled ones signaled, shared
 * ones exported and imported), exported handles not yet imported, counters and pools; then the
 * contents, as submissions without command buffers whose resources carry them; then, after the
 * state, resubmissions of work waiting at the cut, connection errors and device releases.
 * Single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>

#include "trace_trim.h"
#include "traces/trace.h"
#include "traces/trace_calls.h"
#include "traces/trace_replay.h"

/* At most this many resources in one fence submission (the service accepts 4096). */
#define TRIM_FENCE_RESOURCES 1024
/* A context id no connection has: releasing it is a remote INVALID_ARGS. */
#define TRIM_NO_CONTEXT	     UINT64_C(0x7ffffff0)
/* Handles trim makes up for its own exports: far above any fd a recording saw. */
#define TRIM_HANDLE_BASE     (1ull << 40)

/* trim_out_open - see trace_trim.h. */
int trim_out_open(struct trim_out *o, const char *path, uint64_t from, uint64_t to)
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

/* trim_out_event - see trace_trim.h. */
void trim_out_event(struct trim_out *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(o->f, "{\"seq\":%" PRIu64 ",", o->seq++);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputs("},\n", o->f);
}

/* trim_out_copy_line - see trace_trim.h. Lines as writers write them keep their bytes. */
int trim_out_copy_line(struct trim_out *o, const char *line)
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
	trim_out_event(o, "%s", text + 1);
	free(text);
	return 0;
}

/* trim_out_blob - see trace_trim.h. */
int trim_out_blob(struct trim_out *o, const void *data, size_t len, uint64_t *digest_out)
{
	uint64_t d = trace_digest(data, len);
	char hex[17], *text;

	*digest_out = d;
	if (tt_map_get(&o->blobs, d, 0, NULL))
		return 0;
	text = trace_blob_encode(data, len);
	if (!text || !trace_replay_map_put(&o->blobs, d, 0, 1)) {
		free(text);
		return -ENOMEM;
	}
	trace_digest_hex(d, hex);
	trim_out_event(o, "\"type\":\"blob\",\"digest\":\"%s\",\"size\":%zu,\"data\":\"%s\"", hex,
		       len, text);
	free(text);
	return 0;
}

/* trim_out_close - see trace_trim.h. */
int trim_out_close(struct trim_out *o)
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
	trace_replay_map_fini(&o->blobs);
	return ret;
}

/*
 * A setup call event: call @id (trace_calls.h, the table the recorder writes from) with its
 * numeric @args and @outs in the table's order, a status of OK when the call has one, and
 * "setup":1. With @extra_key, "args" ends with that member, whose value is the JSON text
 * @extra_json (members that are not plain numbers).
 */
static void setup_call_extra(struct trim *t, enum trace_call_id id, const uint64_t *args,
			     const char *extra_key, const char *extra_json, const uint64_t *outs)
{
	const struct trace_call *c = &trace_calls[id];
	FILE *f = t->out.f;

	fprintf(f, "{\"seq\":%" PRIu64 ",\"type\":\"call\",\"setup\":1,\"call\":\"%s\",\"args\":{",
		t->out.seq++, c->name);
	for (size_t i = 0; c->args[i]; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", c->args[i], args[i]);
	if (extra_key)
		fprintf(f, "%s\"%s\":%s", c->args[0] ? "," : "", extra_key, extra_json);
	fputs(c->has_result ? "},\"result\":0,\"out\":{" : "},\"out\":{", f);
	for (size_t i = 0; c->outs[i]; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", c->outs[i], outs[i]);
	fputs("}},\n", f);
	t->setup_events++;
}

/* setup_call_extra without members beyond the numeric ones. */
static void setup_call(struct trim *t, enum trace_call_id id, const uint64_t *args,
		       const uint64_t *outs)
{
	setup_call_extra(t, id, args, NULL, NULL, outs);
}

/* The argument and out lists of setup_call. */
#define ARGS(...) ((const uint64_t[]){__VA_ARGS__})
#define NONE	  NULL

static void setup_devices(struct trim *t, bool release)
{
	for (size_t i = 0; i < t->s.devices.count; i++) {
		struct trim_device *d = trace_replay_vec_at(&t->s.devices, i);
		bool needed = d->live;

		for (size_t k = 0; k < t->s.conns.count && !needed; k++)
			needed =
				trim_conn_live(&t->s, k) &&
				((struct trim_conn *)trace_replay_vec_at(&t->s.conns, k))->device ==
					i;
		if (!needed)
			continue;
		if (!release)
			setup_call(t, TRACE_CALL_DEVICE_IMPORT, ARGS(0), ARGS(d->handle));
		else if (!d->live)
			setup_call(t, TRACE_CALL_DEVICE_RELEASE, ARGS(d->handle), NONE);
	}
}

static void setup_connections(struct trim *t)
{
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = trace_replay_vec_at(&t->s.conns, i);
		struct trim_device *d = trace_replay_vec_at(&t->s.devices, c->device);

		if (!c->live)
			continue;
		setup_call(t, TRACE_CALL_CREATE_CONNECTION, ARGS(d->handle), ARGS(c->handle));
		if (c->perf_access)
			setup_call(t, TRACE_CALL_PERF_ENABLE_ACCESS, ARGS(c->handle, 0), NONE);
		if (c->has_channel)
			setup_call(t, TRACE_CALL_GET_NOTIFICATION_CHANNEL, ARGS(c->handle),
				   ARGS(c->channel));
	}
	for (size_t i = 0; i < t->s.ctxs.count; i++) {
		struct trim_ctx *x = trace_replay_vec_at(&t->s.ctxs, i);

		if (!trim_ctx_live(&t->s, i))
			continue;
		setup_call(t, TRACE_CALL_CREATE_CONTEXT,
			   ARGS(trim_conn_handle(t, x->conn), x->priority), ARGS(x->id));
		if (x->killed &&
		    tt_map_get(&t->s.range_ctxs, trim_conn_handle(t, x->conn), x->id, NULL))
			trim_warn(
				t,
				"context %" PRIu64 " of connection %" PRIu64
				" was killed at event %" PRIu64
				"; the trimmed trace recreates it alive, so its submissions in the "
				"range may diverge",
				x->id, trim_conn_handle(t, x->conn), x->killed_at);
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
		struct trim_buf *b = trace_replay_vec_at(&t->s.bufs, i);
		struct trim_object *o = trace_replay_vec_at(&t->s.objects, b->object);

		if (!trim_buf_live(&t->s, i))
			continue;
		if (!o->emitted) {
			setup_call(t, TRACE_CALL_CREATE_BUFFER,
				   ARGS(trim_conn_handle(t, b->conn), b->size),
				   ARGS(b->size, b->handle, b->id));
			o->emitted = true;
			o->first = i;
		} else {
			/* Memory shared with an earlier buffer: export that one, import here. */
			struct trim_buf *first = trace_replay_vec_at(&t->s.bufs, o->first);
			uint64_t h = new_handle(t);

			setup_call(t, TRACE_CALL_BUFFER_EXPORT, ARGS(first->handle), ARGS(h));
			setup_call(t, TRACE_CALL_IMPORT_BUFFER,
				   ARGS(trim_conn_handle(t, b->conn), h),
				   ARGS(b->size, b->handle, b->id));
		}
		if (b->has_policy)
			setup_call(t, TRACE_CALL_BUFFER_SET_CACHE_POLICY,
				   ARGS(b->handle, b->policy), NONE);
	}
	for (size_t i = 0; i < t->s.mappings.count; i++) {
		struct trim_mapping *m = trace_replay_vec_at(&t->s.mappings, i);

		if (!trim_mapping_live(&t->s, i))
			continue;
		setup_call(
			t, TRACE_CALL_MAP_BUFFER,
			ARGS(trim_conn_handle(t, m->conn), m->hw_va,
			     ((struct trim_buf *)trace_replay_vec_at(&t->s.bufs, m->buf))->handle,
			     m->offset, m->length, m->flags),
			NONE);
	}
}

static void setup_semaphores(struct trim *t)
{
	for (size_t i = 0; i < t->s.sems.count; i++) {
		struct trim_sem *m = trace_replay_vec_at(&t->s.sems, i);
		struct trim_object *o = trace_replay_vec_at(&t->s.objects, m->object);

		if (!trim_sem_live(&t->s, i))
			continue;
		if (!o->emitted) {
			setup_call(t, TRACE_CALL_CREATE_SEMAPHORE,
				   ARGS(trim_conn_handle(t, m->conn)), ARGS(m->handle, m->id));
			o->emitted = true;
			o->first = i;
			if (o->signaled)
				setup_call(t, TRACE_CALL_SEMAPHORE_SIGNAL, ARGS(m->handle), NONE);
		} else {
			struct trim_sem *first = trace_replay_vec_at(&t->s.sems, o->first);
			uint64_t h = new_handle(t);

			setup_call(t, TRACE_CALL_SEMAPHORE_EXPORT, ARGS(first->handle), ARGS(h));
			setup_call(t, TRACE_CALL_IMPORT_SEMAPHORE,
				   ARGS(trim_conn_handle(t, m->conn), h, m->flags),
				   ARGS(m->handle, m->id));
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
	const struct trim_sem *src = trace_replay_vec_at(&t->s.sems, e->source);
	uint64_t ci = some_live_conn(t, src ? src->conn : TRIM_NONE), h = new_handle(t);

	if (ci == TRIM_NONE) {
		trim_warn(t,
			  "handle %" PRIu64 " (an exported semaphore) is used by the range, but no "
			  "connection is open at event %" PRIu64
			  " to make it again; it is not carried",
			  e->handle, t->from);
		return;
	}
	setup_call(t, TRACE_CALL_CREATE_SEMAPHORE, ARGS(trim_conn_handle(t, ci)), ARGS(h, h));
	setup_call(t, TRACE_CALL_SEMAPHORE_EXPORT, ARGS(h), ARGS(e->handle));
	if (e->readable)
		setup_call(t, TRACE_CALL_SEMAPHORE_SIGNAL, ARGS(h), NONE);
	setup_call(t, TRACE_CALL_RELEASE_SEMAPHORE, ARGS(trim_conn_handle(t, ci), h), NONE);
}

/* Handles exported before the cut and not imported yet: export them again as recorded. */
static void setup_exports(struct trim *t)
{
	for (size_t i = 0; i < t->s.exports.count; i++) {
		struct trim_export *e = trace_replay_vec_at(&t->s.exports, i);
		struct trim_object *o = trace_replay_vec_at(&t->s.objects, e->object);

		if (!e->live)
			continue;
		if (!o->emitted) {
			if (!tt_map_get(&t->s.range_handles, e->handle, 0, NULL))
				continue; /* the range never uses it */
			if (e->semaphore && e->orphan) {
				setup_orphan_semaphore(t, e);
				continue;
			}
			trim_warn(t,
				  "handle %" PRIu64 " was exported before event %" PRIu64
				  " from a buffer released since, and the range uses it; it is not "
				  "carried (the buffer's contents are gone from the replay)",
				  e->handle, t->from);
			continue;
		}
		if (e->semaphore)
			setup_call(
				t, TRACE_CALL_SEMAPHORE_EXPORT,
				ARGS(((struct trim_sem *)trace_replay_vec_at(&t->s.sems, o->first))
					     ->handle),
				ARGS(e->handle));
		else
			setup_call(
				t, TRACE_CALL_BUFFER_EXPORT,
				ARGS(((struct trim_buf *)trace_replay_vec_at(&t->s.bufs, o->first))
					     ->handle),
				ARGS(e->handle));
	}
}

/* Whether buffer id @id of connection @ci is live (perf offsets name buffers by id). */
static bool buffer_id_live(const struct trim *t, uint64_t ci, uint64_t id)
{
	for (size_t i = 0; i < t->s.bufs.count; i++) {
		const struct trim_buf *b = trace_replay_vec_at(&t->s.bufs, i);

		if (b->conn == ci && b->id == id && trim_buf_live(&t->s, i))
			return true;
	}
	return false;
}

static void setup_perf(struct trim *t)
{
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = trace_replay_vec_at(&t->s.conns, i);

		if (c->live && c->counters)
			setup_call_extra(t, TRACE_CALL_PERF_ENABLE_COUNTERS, ARGS(c->handle),
					 "counters", c->counters, NONE);
	}
	for (size_t i = 0; i < t->s.pools.count; i++) {
		struct trim_pool *p = trace_replay_vec_at(&t->s.pools, i);
		const char *sep = "";

		if (!trim_pool_live(&t->s, i))
			continue;
		setup_call(t, TRACE_CALL_PERF_CREATE_POOL, ARGS(trim_conn_handle(t, p->conn)),
			   ARGS(p->pool, p->handle));
		if (!p->offsets.count)
			continue;
		fprintf(t->out.f,
			"{\"seq\":%" PRIu64
			",\"type\":\"call\",\"setup\":1,\"call\":\"perf_add_offsets\","
			"\"args\":{\"connection\":%" PRIu64 ",\"pool\":%" PRIu64 ",\"offsets\":[",
			t->out.seq++, trim_conn_handle(t, p->conn), p->pool);
		for (size_t k = 0; k < p->offsets.count; k++) {
			struct trim_offset *o = trace_replay_vec_at(&p->offsets, k);

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
		struct trim_conn *c = trace_replay_vec_at(&t->s.conns, ci);
		uint64_t in_batch = 0;
		bool created = false;

		if (!c->live)
			continue;
		/* Above every context id the connection had: the range may reuse none of it. */
		c->temp_context = c->max_context + 1;
		for (size_t i = 0; i < t->s.bufs.count; i++) {
			struct trim_buf *b = trace_replay_vec_at(&t->s.bufs, i);
			struct trim_object *o = trace_replay_vec_at(&t->s.objects, b->object);
			char hex[17];

			if (b->conn != ci || o->first != i || !o->has_contents ||
			    !trim_buf_live(&t->s, i))
				continue;
			if (!created) {
				setup_call(t, TRACE_CALL_CREATE_CONTEXT,
					   ARGS(c->handle, (uint64_t)MAGMA_PRIORITY_MEDIUM),
					   ARGS(c->temp_context));
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
			setup_call(t, TRACE_CALL_RELEASE_CONTEXT, ARGS(c->handle, c->temp_context),
				   NONE);
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
		struct trim_conn *c = trace_replay_vec_at(&t->s.conns, i);

		if (!c->live || !c->error_at_cut ||
		    !tt_map_get(&t->s.range_conns, c->handle, 0, NULL))
			continue;
		if (c->error_at_cut == MAGMA_STATUS_INVALID_ARGS) {
			setup_call(t, TRACE_CALL_RELEASE_CONTEXT, ARGS(c->handle, TRIM_NO_CONTEXT),
				   NONE);
			continue;
		}
		trim_warn(t,
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
		struct trim_pending *p = trace_replay_vec_at(&t->s.pending, i);
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
		if (!text || !trace_replay_map_put(&t->new_seq, p->seq, 0, t->out.seq)) {
			free(text);
			return -ENOMEM;
		}
		text[strlen(text) - 1] = '\0';
		trim_out_event(&t->out, "%s", text + 1);
		free(text);
		t->setup_events++;
	}
	return 0;
}

/* trim_setup_state - see trace_trim.h. */
void trim_setup_state(struct trim *t)
{
	setup_devices(t, false);
	setup_connections(t);
	setup_buffers(t);
	setup_semaphores(t);
	setup_exports(t);
	setup_perf(t);
	setup_contents(t);
}

/* trim_setup_finish - see trace_trim.h. */
int trim_setup_finish(struct trim *t, const struct tt_reader *rd)
{
	int err = setup_resubmissions(t, rd);

	setup_connection_errors(t);
	setup_devices(t, true);
	return err;
}

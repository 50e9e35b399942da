/* SPDX-License-Identifier: MIT */
/*
 * trace_trim_state.c - the live client-side state before the cut of magma-trace trim (see
 * trace_trim.h): each call event before the cut updates it through one handler per call that
 * creates, changes or releases something; calls that change nothing the setup must rebuild
 * (queries, submissions without signal semaphores, polls) have no handler.
 *
 * It follows what the replay does with the same calls: an object exists when its creating call
 * was recorded as successful; releases take effect whatever their status; an import consumes
 * its handle even when it fails. A connection's release ends everything of that connection.
 * Single-threaded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>

#include "trace_trim.h"
#include "traces/trace_replay.h"

/* trim_state_fini - see trace_trim.h. */
void trim_state_fini(struct trim_state *s)
{
	for (size_t i = 0; i < s->conns.count; i++)
		free(((struct trim_conn *)trace_replay_vec_at(&s->conns, i))->counters);
	for (size_t i = 0; i < s->pools.count; i++)
		trace_replay_vec_fini(
			&((struct trim_pool *)trace_replay_vec_at(&s->pools, i))->offsets);
	for (size_t i = 0; i < s->pending.count; i++) {
		free(((struct trim_pending *)trace_replay_vec_at(&s->pending, i))->sems);
		free(((struct trim_pending *)trace_replay_vec_at(&s->pending, i))->waits);
	}
	trace_replay_vec_fini(&s->devices);
	trace_replay_vec_fini(&s->conns);
	trace_replay_vec_fini(&s->ctxs);
	trace_replay_vec_fini(&s->objects);
	trace_replay_vec_fini(&s->bufs);
	trace_replay_vec_fini(&s->sems);
	trace_replay_vec_fini(&s->mappings);
	trace_replay_vec_fini(&s->exports);
	trace_replay_vec_fini(&s->pools);
	trace_replay_vec_fini(&s->pending);
	trace_replay_map_fini(&s->device_by_handle);
	trace_replay_map_fini(&s->conn_by_handle);
	trace_replay_map_fini(&s->buf_by_handle);
	trace_replay_map_fini(&s->sem_by_handle);
	trace_replay_map_fini(&s->sem_by_id);
	trace_replay_map_fini(&s->ctx_by_id);
	trace_replay_map_fini(&s->mapping_by_va);
	trace_replay_map_fini(&s->export_by_handle);
	trace_replay_map_fini(&s->pool_by_id);
	trace_replay_map_fini(&s->pending_by_seq);
	trace_replay_map_fini(&s->range_conns);
	trace_replay_map_fini(&s->range_ctxs);
	trace_replay_map_fini(&s->range_handles);
}

/* ---- liveness ---- */

/* trim_conn_live - see trace_trim.h. */
bool trim_conn_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_conn *c = trace_replay_vec_at(&s->conns, i);

	return c && c->live;
}

/* trim_ctx_live - see trace_trim.h. */
bool trim_ctx_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_ctx *c = trace_replay_vec_at(&s->ctxs, i);

	return c && c->live && trim_conn_live(s, c->conn);
}

/* trim_buf_live - see trace_trim.h. */
bool trim_buf_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_buf *b = trace_replay_vec_at(&s->bufs, i);

	return b && b->live && trim_conn_live(s, b->conn);
}

/* trim_sem_live - see trace_trim.h. */
bool trim_sem_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_sem *m = trace_replay_vec_at(&s->sems, i);

	return m && m->live && trim_conn_live(s, m->conn);
}

/* trim_mapping_live - see trace_trim.h. A buffer's release ends its mappings. */
bool trim_mapping_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_mapping *m = trace_replay_vec_at(&s->mappings, i);

	return m && m->live && trim_buf_live(s, m->buf) && trim_conn_live(s, m->conn);
}

/* trim_pool_live - see trace_trim.h. */
bool trim_pool_live(const struct trim_state *s, uint64_t i)
{
	const struct trim_pool *p = trace_replay_vec_at(&s->pools, i);

	return p && p->live && trim_conn_live(s, p->conn);
}

/* ---- handlers ---- */

struct trim_call_ctx {
	struct trim_state *s;
	const struct tt_reader *rd;
	const cJSON *ev, *args, *out;
	uint64_t index;
	bool ok; /* recorded status OK (or a call without one) */
};

static int oom(struct trim_state *s)
{
	snprintf(s->error, sizeof(s->error), "out of memory");
	return TRACE_REPLAY_ENV_ERROR;
}

/* The index of the live connection of handle "connection" in @args, or TRIM_NONE. */
static uint64_t conn_of(const struct trim_call_ctx *c)
{
	uint64_t i;

	if (!tt_map_get(&c->s->conn_by_handle, tt_u64(c->args, "connection"), 0, &i) ||
	    !trim_conn_live(c->s, i))
		return TRIM_NONE;
	return i;
}

static uint64_t lookup(const struct replay_map *m, uint64_t k1, uint64_t k2)
{
	uint64_t i;

	return tt_map_get(m, k1, k2, &i) ? i : TRIM_NONE;
}

static int on_device_import(struct trim_call_ctx *c)
{
	struct trim_device *d;

	if (!c->ok)
		return 0;
	d = trace_replay_vec_push(&c->s->devices, sizeof(*d));
	if (!d || !trace_replay_map_put(&c->s->device_by_handle, tt_u64(c->out, "device"), 0,
					c->s->devices.count - 1))
		return oom(c->s);
	d->handle = tt_u64(c->out, "device");
	d->live = true;
	return 0;
}

static int on_device_release(struct trim_call_ctx *c)
{
	struct trim_device *d = trace_replay_vec_at(
		&c->s->devices, lookup(&c->s->device_by_handle, tt_u64(c->args, "device"), 0));

	if (d)
		d->live = false;
	return 0;
}

static int on_create_connection(struct trim_call_ctx *c)
{
	uint64_t dev = lookup(&c->s->device_by_handle, tt_u64(c->args, "device"), 0);
	struct trim_conn *conn;

	if (!c->ok || dev == TRIM_NONE)
		return 0;
	conn = trace_replay_vec_push(&c->s->conns, sizeof(*conn));
	if (!conn || !trace_replay_map_put(&c->s->conn_by_handle, tt_u64(c->out, "connection"), 0,
					   c->s->conns.count - 1))
		return oom(c->s);
	conn->handle = tt_u64(c->out, "connection");
	conn->device = dev;
	conn->live = true;
	return 0;
}

static int on_connection_release(struct trim_call_ctx *c)
{
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, conn_of(c));

	if (conn)
		conn->live = false;
	return 0;
}

/* flush and get_error: an error means the connection is closed from then on. */
static int on_error_query(struct trim_call_ctx *c)
{
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, conn_of(c));
	int64_t st = 0;

	if (conn && !conn->failed && tt_result(c->ev, &st) && st != MAGMA_STATUS_OK) {
		conn->failed = true;
		conn->failed_status = st;
		conn->failed_at = c->index;
	}
	return 0;
}

static int on_create_context(struct trim_call_ctx *c)
{
	uint64_t ci = conn_of(c), id = tt_u64(c->out, "context");
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, ci);
	struct trim_ctx *ctx;

	if (!c->ok || !conn)
		return 0;
	ctx = trace_replay_vec_push(&c->s->ctxs, sizeof(*ctx));
	if (!ctx || !trace_replay_map_put(&c->s->ctx_by_id, ci, id, c->s->ctxs.count - 1))
		return oom(c->s);
	ctx->conn = ci;
	ctx->id = id;
	ctx->priority = tt_u64(c->args, "priority");
	ctx->live = true;
	if (id > conn->max_context)
		conn->max_context = id;
	return 0;
}

static int on_release_context(struct trim_call_ctx *c)
{
	struct trim_ctx *ctx = trace_replay_vec_at(
		&c->s->ctxs, lookup(&c->s->ctx_by_id, conn_of(c), tt_u64(c->args, "context")));

	if (ctx)
		ctx->live = false;
	return 0;
}

/* Adds a buffer of @c's connection from the out values; @object TRIM_NONE makes a new one. */
static int add_buffer(struct trim_call_ctx *c, uint64_t object)
{
	uint64_t ci = conn_of(c);
	struct trim_object *o;
	struct trim_buf *b;

	if (!c->ok || ci == TRIM_NONE)
		return 0;
	if (object == TRIM_NONE) {
		o = trace_replay_vec_push(&c->s->objects, sizeof(*o));
		if (!o)
			return oom(c->s);
		o->size = tt_u64(c->out, "size");
		o->first = TRIM_NONE;
		object = c->s->objects.count - 1;
	}
	b = trace_replay_vec_push(&c->s->bufs, sizeof(*b));
	if (!b || !trace_replay_map_put(&c->s->buf_by_handle, tt_u64(c->out, "buffer"), 0,
					c->s->bufs.count - 1))
		return oom(c->s);
	b->conn = ci;
	b->handle = tt_u64(c->out, "buffer");
	b->id = tt_u64(c->out, "id");
	b->size = tt_u64(c->out, "size");
	b->object = object;
	b->live = true;
	return 0;
}

static int on_create_buffer(struct trim_call_ctx *c)
{
	return add_buffer(c, TRIM_NONE);
}

/* The object behind exported handle "handle" of @args, consuming the export; TRIM_NONE if none. */
static uint64_t take_export(struct trim_call_ctx *c, bool semaphore)
{
	struct trim_export *e = trace_replay_vec_at(
		&c->s->exports, lookup(&c->s->export_by_handle, tt_u64(c->args, "handle"), 0));
	bool match = e && e->live && e->semaphore == semaphore;

	if (e)
		e->live = false;
	return match ? e->object : TRIM_NONE;
}

static int on_import_buffer(struct trim_call_ctx *c)
{
	return add_buffer(c, take_export(c, false));
}

static int on_release_buffer(struct trim_call_ctx *c)
{
	struct trim_buf *b = trace_replay_vec_at(
		&c->s->bufs, lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0));

	if (b)
		b->live = false;
	return 0;
}

static int add_semaphore(struct trim_call_ctx *c, uint64_t object, uint64_t flags)
{
	uint64_t ci = conn_of(c);
	struct trim_sem *m;

	if (!c->ok || ci == TRIM_NONE)
		return 0;
	if (object == TRIM_NONE) {
		struct trim_object *o = trace_replay_vec_push(&c->s->objects, sizeof(*o));

		if (!o)
			return oom(c->s);
		o->first = TRIM_NONE;
		o->last_signal = TRIM_NONE;
		object = c->s->objects.count - 1;
	}
	m = trace_replay_vec_push(&c->s->sems, sizeof(*m));
	if (!m ||
	    !trace_replay_map_put(&c->s->sem_by_handle, tt_u64(c->out, "semaphore"), 0,
				  c->s->sems.count - 1) ||
	    !trace_replay_map_put(&c->s->sem_by_id, ci, tt_u64(c->out, "id"), c->s->sems.count - 1))
		return oom(c->s);
	m->conn = ci;
	m->handle = tt_u64(c->out, "semaphore");
	m->id = tt_u64(c->out, "id");
	m->object = object;
	m->flags = flags;
	m->live = true;
	return 0;
}

static int on_create_semaphore(struct trim_call_ctx *c)
{
	return add_semaphore(c, TRIM_NONE, 0);
}

static int on_import_semaphore(struct trim_call_ctx *c)
{
	return add_semaphore(c, take_export(c, true), tt_u64(c->args, "flags"));
}

static int on_release_semaphore(struct trim_call_ctx *c)
{
	struct trim_sem *m = trace_replay_vec_at(
		&c->s->sems, lookup(&c->s->sem_by_handle, tt_u64(c->args, "semaphore"), 0));

	if (m)
		m->live = false;
	return 0;
}

static int on_map_buffer(struct trim_call_ctx *c)
{
	uint64_t ci = conn_of(c), bi = lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0);
	struct trim_mapping *m;

	if (!c->ok || ci == TRIM_NONE || !trim_buf_live(c->s, bi))
		return 0;
	m = trace_replay_vec_push(&c->s->mappings, sizeof(*m));
	if (!m || !trace_replay_map_put(&c->s->mapping_by_va, ci, tt_u64(c->args, "hw_va"),
					c->s->mappings.count - 1))
		return oom(c->s);
	m->conn = ci;
	m->buf = bi;
	m->hw_va = tt_u64(c->args, "hw_va");
	m->offset = tt_u64(c->args, "offset");
	m->length = tt_u64(c->args, "length");
	m->flags = tt_u64(c->args, "flags");
	m->live = true;
	return 0;
}

static int on_unmap_buffer(struct trim_call_ctx *c)
{
	struct trim_mapping *m =
		trace_replay_vec_at(&c->s->mappings, lookup(&c->s->mapping_by_va, conn_of(c),
							    tt_u64(c->args, "hw_va")));
	uint64_t bi = lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0);

	if (m && m->buf == bi)
		m->live = false;
	return 0;
}

static int add_export(struct trim_call_ctx *c, bool semaphore)
{
	uint64_t src = semaphore ? lookup(&c->s->sem_by_handle, tt_u64(c->args, "semaphore"), 0)
				 : lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0);
	struct trim_export *e;

	if (!c->ok || !(semaphore ? trim_sem_live(c->s, src) : trim_buf_live(c->s, src)))
		return 0;
	e = trace_replay_vec_push(&c->s->exports, sizeof(*e));
	if (!e || !trace_replay_map_put(&c->s->export_by_handle, tt_u64(c->out, "handle"), 0,
					c->s->exports.count - 1))
		return oom(c->s);
	e->handle = tt_u64(c->out, "handle");
	e->source = src;
	e->object = semaphore ? ((struct trim_sem *)trace_replay_vec_at(&c->s->sems, src))->object
			      : ((struct trim_buf *)trace_replay_vec_at(&c->s->bufs, src))->object;
	e->semaphore = semaphore;
	e->live = true;
	return 0;
}

static int on_buffer_export(struct trim_call_ctx *c)
{
	return add_export(c, false);
}

static int on_semaphore_export(struct trim_call_ctx *c)
{
	return add_export(c, true);
}

static int on_get_channel(struct trim_call_ctx *c)
{
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, conn_of(c));

	if (conn) {
		conn->has_channel = true;
		conn->channel = tt_u64(c->out, "handle");
	}
	return 0;
}

static int on_set_cache_policy(struct trim_call_ctx *c)
{
	struct trim_buf *b = trace_replay_vec_at(
		&c->s->bufs, lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0));

	if (b && c->ok) {
		b->has_policy = true;
		b->policy = tt_u64(c->args, "policy");
	}
	return 0;
}

/* An id from an array the replay has not validated yet (UINT64_MAX when it is not one). */
static uint64_t item_id(const cJSON *n)
{
	uint64_t v = UINT64_MAX;

	return tt_number_u64(n, &v) ? v : UINT64_MAX;
}

/* Copies the ids of array @a (at most @n) into the new array *@out. False when out of memory. */
static bool copy_ids(const cJSON *a, uint64_t n, uint64_t **out)
{
	const cJSON *it;
	uint64_t k = 0;

	*out = calloc(n ? n : 1, sizeof(uint64_t));
	if (!*out)
		return false;
	cJSON_ArrayForEach(it, a)
	{
		if (k < n)
			tt_number_u64(it, &(*out)[k++]);
	}
	return true;
}

/* The object of the live semaphore of id @id on connection @ci, or NULL. */
static struct trim_object *sem_object(const struct trim_state *s, uint64_t ci, uint64_t id)
{
	uint64_t si = lookup(&s->sem_by_id, ci, id);
	const struct trim_sem *m = trim_sem_live(s, si) ? trace_replay_vec_at(&s->sems, si) : NULL;

	return m ? trace_replay_vec_at(&s->objects, m->object) : NULL;
}

/*
 * execute_command and execute_inline: a killed context; the last signal of each semaphore they
 * signal; submissions whose completion or waits matter at the cut.
 */
static int on_execute(struct trim_call_ctx *c)
{
	uint64_t ci = conn_of(c), n = 0, k = 0, w;
	struct trim_ctx *ctx = trace_replay_vec_at(
		&c->s->ctxs, lookup(&c->s->ctx_by_id, ci, tt_u64(c->args, "context")));
	bool inline_cmds = !strcmp(tt_str(c->ev, "call"), "execute_inline");
	const cJSON *it, *s, *waits = tt_member(c->args, "wait");
	struct trim_object *o;
	struct trim_pending *p;
	int64_t st = 0;

	if (ctx && !ctx->killed && tt_result(c->ev, &st) && st == MAGMA_STATUS_CONTEXT_KILLED) {
		ctx->killed = true;
		ctx->killed_at = c->index;
	}
	if (!c->ok || ci == TRIM_NONE || tt_member(c->args, "invalid"))
		return 0;
	/* The replay waits at a completion for the signal semaphores (inline: every one). */
	if (inline_cmds) {
		cJSON_ArrayForEach(it, tt_member(c->args, "commands"))
		{
			cJSON_ArrayForEach(s, tt_member(it, "semaphores"))
			{
				if ((o = sem_object(c->s, ci, item_id(s))))
					o->last_signal = c->index;
				n++;
			}
		}
	} else {
		cJSON_ArrayForEach(s, tt_member(c->args, "signal"))
		{
			if ((o = sem_object(c->s, ci, item_id(s))))
				o->last_signal = c->index;
			n++;
		}
	}
	w = inline_cmds ? 0 : (uint64_t)cJSON_GetArraySize(waits);
	if ((!n && !w) || n > UINT32_MAX || w > UINT32_MAX)
		return 0;
	p = trace_replay_vec_push(&c->s->pending, sizeof(*p));
	if (!p ||
	    !trace_replay_map_put(&c->s->pending_by_seq, c->index, 0, c->s->pending.count - 1))
		return oom(c->s);
	p->seq = c->index;
	p->context = tt_u64(c->args, "context");
	p->offset = c->rd->offset;
	p->line_no = c->rd->line_no;
	p->conn = ci;
	p->sem_count = (uint32_t)n;
	p->wait_count = (uint32_t)w;
	p->is_inline = inline_cmds;
	if (!inline_cmds)
		return copy_ids(tt_member(c->args, "signal"), n, &p->sems) &&
				       copy_ids(waits, w, &p->waits)
			       ? 0
			       : oom(c->s);
	p->sems = calloc(n ? n : 1, sizeof(uint64_t));
	if (!p->sems)
		return oom(c->s);
	cJSON_ArrayForEach(it, tt_member(c->args, "commands"))
	{
		cJSON_ArrayForEach(s, tt_member(it, "semaphores"))
		{
			if (k < n)
				p->sems[k++] = item_id(s);
		}
	}
	return 0;
}

/* semaphore_signal: the last signal before the cut. */
static int on_semaphore_signal(struct trim_call_ctx *c)
{
	struct trim_sem *m = trace_replay_vec_at(
		&c->s->sems, lookup(&c->s->sem_by_handle, tt_u64(c->args, "semaphore"), 0));

	if (m)
		((struct trim_object *)trace_replay_vec_at(&c->s->objects, m->object))
			->last_signal = c->index;
	return 0;
}

static int on_perf_access(struct trim_call_ctx *c)
{
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, conn_of(c));

	if (conn && c->ok)
		conn->perf_access = true;
	return 0;
}

static int on_perf_enable_counters(struct trim_call_ctx *c)
{
	struct trim_conn *conn = trace_replay_vec_at(&c->s->conns, conn_of(c));
	const cJSON *list = tt_member(c->args, "counters");
	char *text;

	if (!conn || !c->ok || !cJSON_IsArray(list))
		return 0;
	text = cJSON_PrintUnformatted(list);
	if (!text)
		return oom(c->s);
	free(conn->counters);
	conn->counters = text;
	return 0;
}

static int on_perf_create_pool(struct trim_call_ctx *c)
{
	uint64_t ci = conn_of(c);
	struct trim_pool *p;

	if (!c->ok || ci == TRIM_NONE)
		return 0;
	p = trace_replay_vec_push(&c->s->pools, sizeof(*p));
	if (!p || !trace_replay_map_put(&c->s->pool_by_id, ci, tt_u64(c->out, "pool"),
					c->s->pools.count - 1))
		return oom(c->s);
	p->conn = ci;
	p->pool = tt_u64(c->out, "pool");
	p->handle = tt_u64(c->out, "handle");
	p->live = true;
	return 0;
}

static struct trim_pool *pool_of(struct trim_call_ctx *c)
{
	return trace_replay_vec_at(&c->s->pools,
				   lookup(&c->s->pool_by_id, conn_of(c), tt_u64(c->args, "pool")));
}

static int on_perf_release_pool(struct trim_call_ctx *c)
{
	struct trim_pool *p = pool_of(c);

	if (p)
		p->live = false;
	return 0;
}

static int on_perf_add_offsets(struct trim_call_ctx *c)
{
	struct trim_pool *p = pool_of(c);
	const cJSON *it;

	if (!p || !c->ok || tt_member(c->args, "invalid"))
		return 0;
	cJSON_ArrayForEach(it, tt_member(c->args, "offsets"))
	{
		struct trim_offset *o = trace_replay_vec_push(&p->offsets, sizeof(*o));

		if (!o)
			return oom(c->s);
		o->buffer_id = tt_u64(it, "buffer_id");
		o->offset = tt_u64(it, "offset");
		o->length = tt_u64(it, "length");
	}
	return 0;
}

static int on_perf_remove_buffer(struct trim_call_ctx *c)
{
	struct trim_pool *p = pool_of(c);
	struct trim_buf *b = trace_replay_vec_at(
		&c->s->bufs, lookup(&c->s->buf_by_handle, tt_u64(c->args, "buffer"), 0));
	size_t kept = 0;

	if (!p || !b || !c->ok)
		return 0;
	for (size_t i = 0; i < p->offsets.count; i++) {
		struct trim_offset *o = trace_replay_vec_at(&p->offsets, i);

		if (o->buffer_id != b->id)
			*(struct trim_offset *)trace_replay_vec_at(&p->offsets, kept++) = *o;
	}
	p->offsets.count = kept;
	return 0;
}

/* The calls that change what the setup rebuilds, sorted by name for bsearch. */
static const struct trim_handler {
	const char *name;
	int (*fn)(struct trim_call_ctx *c);
} trim_handlers[] = {
	{"buffer_export", on_buffer_export},
	{"buffer_set_cache_policy", on_set_cache_policy},
	{"connection_release", on_connection_release},
	{"create_buffer", on_create_buffer},
	{"create_connection", on_create_connection},
	{"create_context", on_create_context},
	{"create_semaphore", on_create_semaphore},
	{"device_import", on_device_import},
	{"device_release", on_device_release},
	{"execute_command", on_execute},
	{"execute_inline", on_execute},
	{"flush", on_error_query},
	{"get_error", on_error_query},
	{"get_notification_channel", on_get_channel},
	{"import_buffer", on_import_buffer},
	{"import_semaphore", on_import_semaphore},
	{"map_buffer", on_map_buffer},
	{"perf_add_offsets", on_perf_add_offsets},
	{"perf_create_pool", on_perf_create_pool},
	{"perf_enable_access", on_perf_access},
	{"perf_enable_counters", on_perf_enable_counters},
	{"perf_release_pool", on_perf_release_pool},
	{"perf_remove_buffer", on_perf_remove_buffer},
	{"release_buffer", on_release_buffer},
	{"release_context", on_release_context},
	{"release_semaphore", on_release_semaphore},
	{"semaphore_export", on_semaphore_export},
	{"semaphore_signal", on_semaphore_signal},
	{"unmap_buffer", on_unmap_buffer},
};

static int handler_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct trim_handler *)elem)->name);
}

/* trim_state_apply - see trace_trim.h. */
int trim_state_apply(struct trim_state *s, const struct tt_reader *rd)
{
	struct trim_call_ctx c = {.s = s, .rd = rd, .ev = rd->ev, .index = rd->index};
	const struct trim_handler *h;
	const char *name;
	int64_t st = 0;

	if (rd->type == TT_COMPLETION) {
		struct trim_pending *p = trace_replay_vec_at(
			&s->pending, lookup(&s->pending_by_seq, tt_u64(rd->ev, "submission"), 0));

		if (p)
			p->done = true;
		return 0;
	}
	if (rd->type != TT_CALL || !(name = tt_str(rd->ev, "call")))
		return 0;
	h = bsearch(name, trim_handlers, sizeof(trim_handlers) / sizeof(trim_handlers[0]),
		    sizeof(trim_handlers[0]), handler_cmp);
	if (!h)
		return 0;
	c.args = tt_member(rd->ev, "args");
	c.out = tt_member(rd->ev, "out");
	if (!cJSON_IsObject(c.args) || !cJSON_IsObject(c.out))
		return 0; /* the replay's validation reports it */
	c.ok = !tt_member(rd->ev, "result") || (tt_result(rd->ev, &st) && st == MAGMA_STATUS_OK);
	return h->fn(&c);
}

/* Marks the object of live semaphore @si as signaled after the cut. */
static void mark_signaled_later(struct trim_state *s, uint64_t si)
{
	struct trim_sem *m = trace_replay_vec_at(&s->sems, si);

	if (m && trim_sem_live(s, si))
		((struct trim_object *)trace_replay_vec_at(&s->objects, m->object))
			->signaled_later = true;
}

/* Notes what call @ev of the range names (trim_state_note_after_cut). */
static int note_range_use(struct trim_state *s, const cJSON *ev, const char *name)
{
	const cJSON *args = tt_member(ev, "args"), *it;
	uint64_t conn = tt_u64(args, "connection");
	bool ok = true;

	if (tt_member(args, "connection"))
		ok = trace_replay_map_put(&s->range_conns, conn, 0, 1);
	if (ok && (!strcmp(name, "execute_command") || !strcmp(name, "execute_inline")))
		ok = trace_replay_map_put(&s->range_ctxs, conn, tt_u64(args, "context"), 1);
	if (ok && (!strcmp(name, "import_buffer") || !strcmp(name, "import_semaphore")))
		ok = trace_replay_map_put(&s->range_handles, tt_u64(args, "handle"), 0, 1);
	cJSON_ArrayForEach(it, tt_member(args, "items"))
	{
		if (ok && tt_u64(it, "type") == MAGMA_POLL_TYPE_HANDLE)
			ok = trace_replay_map_put(&s->range_handles, tt_u64(it, "object"), 0, 1);
	}
	return ok ? 0 : oom(s);
}

/* trim_state_note_after_cut - see trace_trim.h. */
int trim_state_note_after_cut(struct trim_state *s, const struct tt_reader *rd, bool in_range)
{
	const cJSON *args = tt_member(rd->ev, "args"), *it, *sem;
	const char *name = tt_str(rd->ev, "call");
	uint64_t ci;

	if (rd->type == TT_COMPLETION) {
		struct trim_pending *p = trace_replay_vec_at(
			&s->pending, lookup(&s->pending_by_seq, tt_u64(rd->ev, "submission"), 0));

		if (p && !p->done)
			p->completes_late = true;
		return 0;
	}
	if (rd->type != TT_CALL || !name)
		return 0;
	if (in_range && note_range_use(s, rd->ev, name))
		return TRACE_REPLAY_ENV_ERROR;
	if (!strcmp(name, "semaphore_signal")) {
		mark_signaled_later(s, lookup(&s->sem_by_handle, tt_u64(args, "semaphore"), 0));
		return 0;
	}
	if (strcmp(name, "execute_command") && strcmp(name, "execute_inline"))
		return 0;
	if (!tt_map_get(&s->conn_by_handle, tt_u64(args, "connection"), 0, &ci))
		return 0;
	cJSON_ArrayForEach(sem, tt_member(args, "signal"))
		mark_signaled_later(s, lookup(&s->sem_by_id, ci, item_id(sem)));
	cJSON_ArrayForEach(it, tt_member(args, "commands"))
	{
		cJSON_ArrayForEach(sem, tt_member(it, "semaphores"))
			mark_signaled_later(s, lookup(&s->sem_by_id, ci, item_id(sem)));
	}
	return 0;
}

/* trim_pending_may_be_blocked - see trace_trim.h. */
bool trim_pending_may_be_blocked(const struct trim_state *s, const struct trim_pending *p)
{
	for (uint32_t k = 0; k < p->wait_count; k++) {
		const struct trim_object *o = sem_object(s, p->conn, p->waits[k]);

		if (o && o->signaled_later &&
		    (o->last_signal == TRIM_NONE || o->last_signal < p->seq))
			return true;
	}
	return false;
}

/* trim_pending_can_resubmit - see trace_trim.h. */
bool trim_pending_can_resubmit(const struct trim_state *s, const struct trim_pending *p)
{
	const struct trim_ctx *ctx = NULL;

	for (uint32_t k = 0; k < p->wait_count; k++)
		if (!sem_object(s, p->conn, p->waits[k]))
			return false;
	for (uint32_t k = 0; k < p->sem_count; k++)
		if (!sem_object(s, p->conn, p->sems[k]))
			return false;
	for (size_t i = 0; i < s->ctxs.count && !ctx; i++) {
		const struct trim_ctx *x = trace_replay_vec_at(&s->ctxs, i);

		if (x->conn == p->conn && trim_ctx_live(s, i) && x->id == p->context)
			ctx = x;
	}
	return ctx && !p->is_inline;
}

/* trim_pending_mark_signals_later - see trace_trim.h. */
void trim_pending_mark_signals_later(struct trim_state *s, const struct trim_pending *p)
{
	for (uint32_t k = 0; k < p->sem_count; k++) {
		struct trim_object *o = sem_object(s, p->conn, p->sems[k]);

		if (o)
			o->signaled_later = true;
	}
}

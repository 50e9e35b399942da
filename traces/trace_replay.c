/* SPDX-License-Identifier: MIT */
/*
 * trace_replay.c - validation and replay of magma-sim traces (see trace_replay.h and
 * docs/trace-format.md).
 *
 * The reader is line-based, as the writer is: line 1 is the header (the document up to the
 * "events" array), then one event per line, each followed by a comma except the final "end"
 * event, then "]}". Each line is parsed with cJSON on its own, and every error names its line,
 * byte offset and event. Pass 1 checks everything; pass 2 replays. Calls are dispatched through
 * one table (name, required numeric arguments and outputs, handler), drm-shim style. Recorded
 * handles and ids are keys of small open-addressing maps whose values are the replay's own
 * objects.
 *
 * Blob text spends a few characters on a gigabyte of zeros, so nothing is sized from what a
 * blob says about itself. Pass 1 scans each blob (size and digest, nothing allocated), keeps its
 * text, and checks each size against what the trace declares for the thing it fills: a resource
 * range against its buffer's recorded size, everything against TRACE_MAX_SIZE (or the caller's
 * smaller max_size). Pass 2 streams contents through REPLAY_CHUNK buffers and decodes whole
 * only the blobs a call needs in one piece (inline commands, notifications, both bounded), so
 * the replay's own memory stays small whatever the trace declares.
 *
 * Runs on the caller's thread; the only other threads are the embedded device's, which
 * call replay_sim_event (timeline) with the device lock held.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim/status_name.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "sim/sim.h"
#include "traces/trace.h"
#include "traces/trace_device.h"
#include "traces/trace_perturb.h"
#include "traces/trace_replay.h"
#include "traces/trace_timeline.h"

/* How long replay waits, by default, for a semaphore the recording saw signaled. */
#define REPLAY_WAIT_NS (10ull * 1000 * 1000 * 1000)
/* Resource contents are restored and digested this many bytes at a time. */
#define REPLAY_CHUNK   (64u * 1024)

struct replay_ent {
	uint64_t k1, k2;
	uint64_t v;
	bool used;
};

struct replay_map {
	struct replay_ent *e;
	size_t cap, count;
};

struct replay_buffer {
	magma_buffer_t h;
	uint64_t id;
	uint64_t size;
	int fd; /* from magma_buffer_get_handle, -1 when not available */
};

struct replay_sem {
	magma_semaphore_t h;
	uint64_t id;
};

/* A blob of the trace: its text, decoded when used (see the file head). */
struct replay_blob {
	char *text;
	uint64_t size;
	uint64_t line; /* of its blob event */
};

/* A buffer as the trace declares it (validation): its recorded size and where it was made. */
struct replay_rec_buffer {
	uint64_t size;
	uint64_t line;
};

struct replay_range {
	uint64_t buf; /* index into buffers, UINT64_MAX when unknown */
	uint64_t offset, length;
};

struct replay_sub {
	uint32_t sem_count, range_count;
	uint64_t *sems; /* indices into sems */
	struct replay_range *ranges;
};

/* A growable array of fixed-size records. */
struct replay_vec {
	void *v;
	size_t size, count, cap;
};

struct replay {
	const struct trace_replay_options *opts;
	struct trace_replay_result *res;
	struct magma_system_embedded *emb;
	struct sim_device *sim;
	int sim_sub;
	struct trace_timeline *tl;
	struct replay_map devices, conns, ctxs, bufs, buf_ids, sems, sem_ids, subs, blobs;
	struct replay_map handles;	/* exported fds (closed at the end unless imported) */
	struct replay_map chans;	/* notification channels (owned by their connections) */
	struct replay_map pools;	/* (recorded connection, recorded pool) -> replay pool id */
	struct replay_map pool_handles; /* same keys -> the recorded notification handle */
	struct replay_vec buffers, semaphores, submissions, blob_data;
	struct replay_map rec_bufs;    /* (recorded connection, buffer id) -> rec_buffers index */
	struct replay_vec rec_buffers; /* struct replay_rec_buffer, filled by validation */
	uint64_t max_size;	       /* opts->max_size, or TRACE_MAX_SIZE */
	uint64_t wait_ns;	       /* opts->wait_ns, or REPLAY_WAIT_NS */
	uint8_t *chunk;		       /* 2 * REPLAY_CHUNK bytes for streaming contents */
	uint64_t line;		       /* of the current event */
	uint64_t offset;	       /* of the current line */
	uint64_t index;		       /* of the current event */
	bool checking;
	bool held;		 /* opts->hold: the GPU is paused (replay_gate) */
	struct replay_vec burst; /* opts->hold: ranges submitted since the GPU was paused */
};

/* Handed to on_stop; lives on walk's stack for the call. */
struct trace_replay_access {
	const struct replay *r;
};

static uint64_t now_ns(void);

/* ---- small containers ---- */

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);

	return h ^ (h >> 29);
}

static struct replay_ent *map_find(const struct replay_map *m, uint64_t k1, uint64_t k2)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].used)
			return NULL;
		if (m->e[i].k1 == k1 && m->e[i].k2 == k2)
			return &m->e[i];
	}
}

/* Inserts or overwrites; false when out of memory. */
static bool map_put(struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t v)
{
	struct replay_ent *e = map_find(m, k1, k2);

	if (e) {
		e->v = v;
		return true;
	}
	if ((m->count + 1) * 2 > m->cap) {
		struct replay_map n = {.cap = m->cap ? m->cap * 2 : 64};

		n.e = calloc(n.cap, sizeof(*n.e));
		if (!n.e)
			return false;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].used)
				map_put(&n, m->e[i].k1, m->e[i].k2, m->e[i].v);
		free(m->e);
		*m = n;
	}
	for (size_t i = mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].used) {
			m->e[i] = (struct replay_ent){k1, k2, v, true};
			m->count++;
			return true;
		}
	}
}

static void map_fini(struct replay_map *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* Appends a zeroed record; returns it or NULL when out of memory. */
static void *vec_push(struct replay_vec *v, size_t size)
{
	v->size = size;
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *n = realloc(v->v, cap * size);

		if (!n)
			return NULL;
		v->v = n;
		v->cap = cap;
	}
	memset((char *)v->v + v->count * size, 0, size);
	return (char *)v->v + v->count++ * size;
}

static void *vec_at(const struct replay_vec *v, uint64_t i)
{
	return i < v->count ? (char *)v->v + i * v->size : NULL;
}

/* ---- reporting ---- */

static int fail(struct replay *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct replay *r, int code, const char *fmt, ...)
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

/* ---- JSON helpers ---- */

static const cJSON *member(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/*
 * @n as uint64 when it is a finite, non-negative, integral number (clamped at UINT64_MAX: a
 * double past that range must never be converted, it is undefined behaviour).
 */
static bool number_u64(const cJSON *n, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(n))
		return false;
	d = n->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d))
		return false;
	*out = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
	return true;
}

/* A non-negative integral number member as uint64 (clamped at UINT64_MAX). */
static bool get_u64(const cJSON *o, const char *k, uint64_t *out)
{
	return number_u64(member(o, k), out);
}

/* Whether @n is an id or counter: a non-negative integral number below 2^64. */
static bool is_id(const cJSON *n)
{
	uint64_t v;

	return number_u64(n, &v) && n->valuedouble < 18446744073709551616.0; /* 2^64 */
}

/* An array item that validation checked with is_id (ids, counters). */
static uint64_t item_u64(const cJSON *it)
{
	uint64_t v = 0;

	number_u64(it, &v);
	return v;
}

/* Like get_u64 but for members already checked by validation. */
static uint64_t u64(const cJSON *o, const char *k)
{
	uint64_t v = 0;

	get_u64(o, k, &v);
	return v;
}

static bool get_status(const cJSON *o, int64_t *out)
{
	const cJSON *n = member(o, "result");

	if (!cJSON_IsNumber(n) || n->valuedouble != floor(n->valuedouble) ||
	    fabs(n->valuedouble) > 1e9)
		return false;
	*out = (int64_t)n->valuedouble;
	return true;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *s = member(o, k);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static const struct replay_blob *blob_get(struct replay *r, const char *hex)
{
	uint64_t d;
	struct replay_ent *e;

	if (!hex || trace_digest_parse(hex, &d))
		return NULL;
	e = map_find(&r->blobs, d, 0);
	return e ? vec_at(&r->blob_data, e->v) : NULL;
}

/* ---- validation of calls with arrays ---- */

static int check_u64s(struct replay *r, const cJSON *o, const char *const *keys, const char *what)
{
	uint64_t v;

	for (; *keys; keys++)
		if (!get_u64(o, *keys, &v))
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "%s: member \"%s\" missing or not a non-negative integer", what,
				    *keys);
	return 0;
}

/* Fails with @err unless @o's @k is an array, and unless each of its items holds @keys. */
static int check_items(struct replay *r, const cJSON *o, const char *k, const char *const *keys,
		       const char *what, const char *err)
{
	const cJSON *a = member(o, k), *it;
	int ret;

	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s", err);
	cJSON_ArrayForEach(it, a)
	{
		ret = check_u64s(r, it, keys, what);
		if (ret)
			return ret;
	}
	return 0;
}

static int check_id_array(struct replay *r, const cJSON *o, const char *k, const char *what)
{
	const cJSON *a = member(o, k), *it;

	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s: \"%s\" missing or not an array", what,
			    k);
	cJSON_ArrayForEach(it, a)
	{
		if (!is_id(it))
			return fail(r, TRACE_REPLAY_BAD_INPUT, "%s: \"%s\" holds a non-id", what,
				    k);
	}
	return 0;
}

static int check_blob_ref(struct replay *r, const cJSON *o, const char *k, bool may_be_empty,
			  const char *what)
{
	const char *hex = get_str(o, k);

	if (!hex)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s: \"%s\" missing or not a string", what,
			    k);
	if (may_be_empty && !*hex)
		return 0;
	if (!blob_get(r, hex))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "%s: \"%s\" refers to blob %s, which no earlier blob event holds", what,
			    k, hex);
	return 0;
}

/* The buffer the trace declared as id @id of recorded connection @conn, or NULL. */
static const struct replay_rec_buffer *rec_buffer(struct replay *r, uint64_t conn, uint64_t id)
{
	const struct replay_ent *e = map_find(&r->rec_bufs, conn, id);

	return e ? vec_at(&r->rec_buffers, e->v) : NULL;
}

/*
 * create_buffer and import_buffer: a buffer the recording got is declared with its recorded
 * size, which later resources are checked against; an absurd size is refused.
 */
static int check_new_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const char *call = get_str(ev, "call");
	struct replay_rec_buffer *rb;
	uint64_t size = u64(out, "size");
	int64_t st = -1;

	if (!get_status(ev, &st) || st != MAGMA_STATUS_OK)
		return 0;
	if (size > r->max_size)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "%s: recorded size %" PRIu64 " is over the limit of %" PRIu64 " bytes",
			    call, size, r->max_size);
	if (!strcmp(call, "create_buffer") && u64(args, "size") > size)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "create_buffer: recorded size %" PRIu64 " is less than the %" PRIu64
			    " bytes asked for",
			    size, u64(args, "size"));
	rb = vec_push(&r->rec_buffers, sizeof(*rb));
	if (!rb || !map_put(&r->rec_bufs, u64(args, "connection"), u64(out, "id"),
			    r->rec_buffers.count - 1))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	rb->size = size;
	rb->line = r->line;
	return 0;
}

/*
 * A resource with contents (resources[@index] of @args): the recorder stores contents only for
 * a range inside a buffer it knows, so the blob must hold exactly the range, and the range must
 * lie inside the buffer's recorded size when the trace declared that buffer.
 */
static int check_contents(struct replay *r, const cJSON *args, const cJSON *res, uint32_t index)
{
	const struct replay_blob *b = blob_get(r, get_str(res, "contents"));
	const struct replay_rec_buffer *rb;
	uint64_t id = u64(res, "buffer_id"), offset = u64(res, "offset"), len = u64(res, "length");

	if (!b)
		return 0; /* "": the recording could not read the range */
	if (b->size != len)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "execute_command resource %u: contents blob %s (line %" PRIu64
			    ") holds %" PRIu64 " bytes, but the range is %" PRIu64 " bytes",
			    index, get_str(res, "contents"), b->line, b->size, len);
	rb = rec_buffer(r, u64(args, "connection"), id);
	if (rb && (offset > rb->size || len > rb->size - offset))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "execute_command resource %u: contents for offset %" PRIu64
			    " length %" PRIu64 " of buffer id %" PRIu64
			    ", whose recorded size is %" PRIu64 " (line %" PRIu64 ")",
			    index, offset, len, id, rb->size, rb->line);
	return 0;
}

static int check_execute(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	static const char *const res_keys[] = {"buffer_id", "offset", "length", NULL};
	static const char *const cmd_keys[] = {"resource_index", "start_offset", NULL};
	const cJSON *a, *it;
	uint32_t index = 0;
	int ret;

	(void)ev;
	(void)out;
	if (member(args, "invalid"))
		return 0;
	a = member(args, "resources");
	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "execute_command: \"resources\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		ret = check_u64s(r, it, res_keys, "execute_command resource");
		if (!ret)
			ret = check_blob_ref(r, it, "contents", true, "execute_command resource");
		if (!ret)
			ret = check_contents(r, args, it, index++);
		if (ret)
			return ret;
	}
	ret = check_items(r, args, "command_buffers", cmd_keys, "execute_command command buffer",
			  "execute_command: \"command_buffers\" not an array");
	if (!ret)
		ret = check_id_array(r, args, "wait", "execute_command");
	if (!ret)
		ret = check_id_array(r, args, "signal", "execute_command");
	return ret;
}

static int check_inline(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	static const char *const keys[] = {"size", NULL};
	uint64_t total = 0, limit = r->max_size < TRACE_INLINE_MAX ? r->max_size : TRACE_INLINE_MAX;
	const cJSON *a, *it;
	int ret;

	(void)ev;
	(void)out;
	if (member(args, "invalid"))
		return 0;
	a = member(args, "commands");
	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "execute_inline: \"commands\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		const struct replay_blob *b;

		ret = check_u64s(r, it, keys, "execute_inline command");
		if (!ret)
			ret = check_blob_ref(r, it, "data", false, "execute_inline command");
		if (!ret)
			ret = check_id_array(r, it, "semaphores", "execute_inline command");
		if (ret)
			return ret;
		b = blob_get(r, get_str(it, "data"));
		if (b->size != u64(it, "size"))
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "execute_inline command: size %" PRIu64
				    " but its blob (line %" PRIu64 ") holds %" PRIu64 " bytes",
				    u64(it, "size"), b->line, b->size);
		/* Replay passes every command's bytes in one call: bound their sum. */
		if (b->size > limit - total)
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "execute_inline: commands of more than %" PRIu64
				    " bytes in all",
				    limit);
		total += b->size;
	}
	return 0;
}

static int check_poll(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)ev;
	(void)out;
	static const char *const keys[] = {"type", "object", "condition", NULL};
	static const char err[] = "poll: \"items\" or \"timeout_ns\" missing";
	uint64_t t;

	if (member(args, "invalid"))
		return 0;
	if (!get_u64(args, "timeout_ns", &t))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s", err);
	return check_items(r, args, "items", keys, "poll item", err);
}

/* ---- replay of calls ---- */

static magma_status_t status_of(const cJSON *ev)
{
	int64_t st = 0;

	get_status(ev, &st);
	return (magma_status_t)st;
}

/* Compares a replayed status with the recorded one (when the event is in the checked window). */
static int check_status(struct replay *r, const char *call, const cJSON *ev, const cJSON *args,
			magma_status_t got)
{
	magma_status_t want = status_of(ev);
	char *text;
	int ret;

	if (!r->checking || want == got)
		return 0;
	text = cJSON_PrintUnformatted(args);
	ret = fail(r, TRACE_REPLAY_DIVERGED,
		   "%s(%.300s): recorded status %s (%d), replay returned %s (%d)", call,
		   text ? text : "?", magma_status_name(want), want, magma_status_name(got), got);
	free(text);
	return ret;
}

static int missing(struct replay *r, const char *what, uint64_t rec)
{
	return fail(r, TRACE_REPLAY_BAD_INPUT,
		    "refers to %s %" PRIu64 ", which the trace never created (or already released)",
		    what, rec);
}

static bool lookup(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v)
{
	const struct replay_ent *e = map_find(m, k1, k2);

	if (!e || e->v == UINT64_MAX)
		return false;
	*v = e->v;
	return true;
}

static struct replay_buffer *buffer_by_handle(struct replay *r, uint64_t rec)
{
	uint64_t i;

	return lookup(&r->bufs, rec, 0, &i) ? vec_at(&r->buffers, i) : NULL;
}

static struct replay_sem *sem_by_handle(struct replay *r, uint64_t rec)
{
	uint64_t i;

	return lookup(&r->sems, rec, 0, &i) ? vec_at(&r->semaphores, i) : NULL;
}

static void replay_sim_event(void *ctx, const struct sim_event *ev)
{
	struct replay *r = ctx;

	trace_timeline_add(r->tl, ev);
}

static void replay_observer(void *ctx, struct sim_device *sim, bool created)
{
	struct replay *r = ctx;

	if (created && !r->sim) {
		r->sim = sim;
		if (r->tl)
			r->sim_sub = sim_events_subscribe(sim, trace_device_event_mask(),
							  replay_sim_event, r);
	} else if (!created && sim == r->sim) {
		if (r->sim_sub >= 0)
			sim_events_unsubscribe(sim, r->sim_sub);
		r->sim_sub = -1;
		r->sim = NULL;
	}
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

static int do_device_import(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_device_t dev = 0;
	magma_status_t st;
	int fd;

	if (!r->emb) {
		/* GPU-time policies: a slow host must not add power-downs, so GPU cycles. */
		r->emb = magma_system_embedded_create_flags(r->opts->sim_config, NULL,
							    MAGMA_SYSTEM_DEVICE_POLICY_ON_GPU_TIME);
		if (!r->emb)
			return fail(r, TRACE_REPLAY_ENV_ERROR, "cannot create the embedded device");
	}
	fd = magma_system_embedded_connect(r->emb);
	if (fd < 0)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "cannot connect to the embedded device: %s",
			    strerror(-fd));
	st = magma_device_import((magma_handle_t)fd, &dev);
	if (!st && !map_put(&r->devices, u64(out, "device"), 0, dev))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "device_import", ev, args, st);
}

static int do_device_release(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	uint64_t dev;

	(void)ev;
	(void)out;
	if (!lookup(&r->devices, u64(args, "device"), 0, &dev))
		return 0; /* releasing an unknown device is a no-op for libmagma too */
	magma_device_release(dev);
	map_put(&r->devices, u64(args, "device"), 0, UINT64_MAX);
	return 0;
}

static int do_device_query(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t buf = (magma_handle_t)-1;
	uint64_t dev, value = 0;
	magma_status_t st;

	(void)out;
	if (!lookup(&r->devices, u64(args, "device"), 0, &dev))
		return missing(r, "device", u64(args, "device"));
	st = magma_device_query(dev, u64(args, "id"), u64(args, "buffer") ? &buf : NULL, &value);
	if (!st && u64(args, "buffer") && buf != (magma_handle_t)-1)
		close((int)buf);
	return check_status(r, "device_query", ev, args, st);
}

static int do_create_connection(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	magma_connection_t conn = 0;
	magma_status_t st;
	uint64_t dev;

	if (!lookup(&r->devices, u64(args, "device"), 0, &dev))
		return missing(r, "device", u64(args, "device"));
	st = magma_device_create_connection(dev, &conn);
	if (!st && !map_put(&r->conns, u64(out, "connection"), 0, conn))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "create_connection", ev, args, st);
}

/* The replay connection for the recorded "connection" argument, or 0 when unknown. */
static magma_connection_t conn_arg(struct replay *r, const cJSON *args)
{
	uint64_t c = 0;

	lookup(&r->conns, u64(args, "connection"), 0, &c);
	return c;
}

/* The replay buffer for the recorded "buffer" argument, or 0 when unknown. */
static magma_buffer_t buffer_arg(struct replay *r, const cJSON *args)
{
	struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));

	return b ? b->h : 0;
}

static int do_connection_release(struct replay *r, const cJSON *ev, const cJSON *args,
				 const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);

	(void)ev;
	(void)out;
	if (!c)
		return 0;
	magma_connection_release(c);
	map_put(&r->conns, u64(args, "connection"), 0, UINT64_MAX);
	return 0;
}

static int do_get_error(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(r, "get_error", ev, args,
			    magma_connection_get_error(conn_arg(r, args)));
}

static int do_flush(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(r, "flush", ev, args, magma_connection_flush(conn_arg(r, args)));
}

static int do_create_context(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	uint32_t ctx = 0;
	magma_status_t st = magma_connection_create_context2(
		conn_arg(r, args), (magma_priority_t)u64(args, "priority"), &ctx);

	if (!st && !map_put(&r->ctxs, u64(args, "connection"), u64(out, "context"), ctx))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "create_context", ev, args, st);
}

/* The replay context id for recorded context @rec of the recorded connection in @args. */
static uint32_t ctx_of(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t c;

	return lookup(&r->ctxs, u64(args, "connection"), rec, &c) ? (uint32_t)c : (uint32_t)rec;
}

static int do_release_context(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out)
{
	(void)ev;
	(void)out;
	magma_connection_release_context(conn_arg(r, args), ctx_of(r, args, u64(args, "context")));
	return 0;
}

/* Registers replay buffer @h (@id, @size) as recorded buffer @rec_h / id @rec_id of @args' conn. */
static int add_buffer(struct replay *r, const cJSON *args, magma_buffer_t h, uint64_t id,
		      uint64_t size, uint64_t rec_h, uint64_t rec_id)
{
	struct replay_buffer *b = vec_push(&r->buffers, sizeof(*b));
	magma_handle_t fd;

	if (!b)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	b->h = h;
	b->id = id;
	b->size = size;
	b->fd = magma_buffer_get_handle(h, &fd) ? -1 : (int)fd;
	if (!map_put(&r->bufs, rec_h, 0, r->buffers.count - 1) ||
	    !map_put(&r->buf_ids, u64(args, "connection"), rec_id, r->buffers.count - 1))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

static int add_semaphore(struct replay *r, const cJSON *args, magma_semaphore_t h, uint64_t id,
			 uint64_t rec_h, uint64_t rec_id)
{
	struct replay_sem *s = vec_push(&r->semaphores, sizeof(*s));

	if (!s)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	s->h = h;
	s->id = id;
	if (!map_put(&r->sems, rec_h, 0, r->semaphores.count - 1) ||
	    !map_put(&r->sem_ids, u64(args, "connection"), rec_id, r->semaphores.count - 1))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

static int do_create_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_buffer_t h = 0;
	uint64_t size = 0, id = 0;
	magma_status_t st;
	int ret;

	st = magma_connection_create_buffer(conn_arg(r, args), u64(args, "size"), &size, &h, &id);
	if (!st && status_of(ev)) {
		/* The recording got no buffer: neither does the rest of the replay. */
		magma_connection_release_buffer(conn_arg(r, args), h);
	} else if (!st) {
		ret = add_buffer(r, args, h, id, size, u64(out, "buffer"), u64(out, "id"));
		if (ret)
			return ret;
		if (r->checking && !status_of(ev) && size != u64(out, "size"))
			return fail(r, TRACE_REPLAY_DIVERGED,
				    "create_buffer(size %" PRIu64 "): recorded size %" PRIu64
				    ", replay got %" PRIu64,
				    u64(args, "size"), u64(out, "size"), size);
	}
	return check_status(r, "create_buffer", ev, args, st);
}

static int do_release_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));

	(void)ev;
	(void)out;
	if (!b)
		return 0;
	magma_connection_release_buffer(conn_arg(r, args), b->h);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	map_put(&r->bufs, u64(args, "buffer"), 0, UINT64_MAX);
	return 0;
}

static int do_create_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_semaphore_t h = 0;
	uint64_t id = 0;
	magma_status_t st = magma_connection_create_semaphore(conn_arg(r, args), &h, &id);
	int ret = st ? 0 : add_semaphore(r, args, h, id, u64(out, "semaphore"), u64(out, "id"));

	return ret ? ret : check_status(r, "create_semaphore", ev, args, st);
}

static int do_release_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	struct replay_sem *s = sem_by_handle(r, u64(args, "semaphore"));

	(void)ev;
	(void)out;
	if (!s)
		return 0;
	magma_connection_release_semaphore(conn_arg(r, args), s->h);
	map_put(&r->sems, u64(args, "semaphore"), 0, UINT64_MAX);
	return 0;
}

static int do_buffer_op(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_status_t st;

	(void)out;
	st = magma_connection_perform_buffer_op(conn_arg(r, args), buffer_arg(r, args),
						(uint32_t)u64(args, "options"), u64(args, "offset"),
						u64(args, "length"));
	return check_status(r, "buffer_op", ev, args, st);
}

static int do_map_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_status_t st;

	(void)out;
	st = magma_connection_map_buffer(conn_arg(r, args), u64(args, "hw_va"), buffer_arg(r, args),
					 u64(args, "offset"), u64(args, "length"),
					 u64(args, "flags"));
	return check_status(r, "map_buffer", ev, args, st);
}

static int do_unmap_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)ev;
	(void)out;
	magma_connection_unmap_buffer(conn_arg(r, args), u64(args, "hw_va"), buffer_arg(r, args));
	return 0;
}

/* Index of the replay semaphore for recorded id @rec of the event's connection. */
static uint64_t sem_index(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t i;

	return lookup(&r->sem_ids, u64(args, "connection"), rec, &i) ? i : UINT64_MAX;
}

static uint64_t buf_index(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t i;

	return lookup(&r->buf_ids, u64(args, "connection"), rec, &i) ? i : UINT64_MAX;
}

/*
 * The bytes of @blob in a new malloc'd buffer (the caller frees it), or NULL when out of memory.
 * Only for blobs whose size validation bounded below TRACE_INLINE_MAX.
 */
static uint8_t *blob_bytes(const struct replay_blob *blob)
{
	uint8_t *data = NULL;

	return trace_blob_decode(blob->text, (size_t)blob->size, &data, NULL) ? NULL : data;
}

/* True when [@offset, + @length) lies inside @b and @b can be read and written. */
static bool range_ok(const struct replay_buffer *b, uint64_t offset, uint64_t length)
{
	return b->fd >= 0 && offset <= b->size && length <= b->size - offset;
}

/*
 * Makes a resource range hold its recorded contents, streamed from the blob a chunk at a time
 * and written only where they differ. Validation made the blob exactly @length bytes.
 */
static void restore_range(struct replay *r, const struct replay_buffer *b, uint64_t offset,
			  uint64_t length, const char *hex)
{
	const struct replay_blob *blob = blob_get(r, hex);
	uint8_t *want = r->chunk, *cur = r->chunk + REPLAY_CHUNK;
	struct trace_blob_reader rd;

	if (!blob || blob->size != length || !range_ok(b, offset, length))
		return;
	trace_blob_reader_init(&rd, blob->text);
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;
		off_t at = (off_t)(offset + done);

		if (trace_blob_read(&rd, want, n) != n)
			return;
		if (pread(b->fd, cur, n, at) != (ssize_t)n)
			return;
		if (memcmp(cur, want, n))
			(void)!pwrite(b->fd, want, n, at);
		done += n;
	}
}

/*
 * Digest of [@offset, + @length) of @b into *@digest_out, read a chunk at a time; with @blob,
 * also the offset of the first byte that differs from it (*@diff_out, UINT64_MAX when none
 * within both) and the two bytes there. False when the range cannot be read.
 */
static bool digest_range(struct replay *r, const struct replay_buffer *b, uint64_t offset,
			 uint64_t length, const struct replay_blob *blob, uint64_t *digest_out,
			 uint64_t *diff_out, uint8_t *want_out, uint8_t *got_out)
{
	uint8_t *want = r->chunk, *cur = r->chunk + REPLAY_CHUNK;
	uint64_t h = TRACE_DIGEST_INIT, blob_left = blob ? blob->size : 0;
	struct trace_blob_reader rd;

	*diff_out = UINT64_MAX;
	if (!range_ok(b, offset, length))
		return false;
	if (blob)
		trace_blob_reader_init(&rd, blob->text);
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;
		size_t cmp = blob_left < n ? (size_t)blob_left : n;

		if (pread(b->fd, cur, n, (off_t)(offset + done)) != (ssize_t)n)
			return false;
		h = trace_digest_more(h, cur, n);
		if (*diff_out == UINT64_MAX && cmp) {
			cmp = trace_blob_read(&rd, want, cmp);
			blob_left -= cmp;
			for (size_t i = 0; i < cmp; i++) {
				if (cur[i] != want[i]) {
					*diff_out = done + i;
					*want_out = want[i];
					*got_out = cur[i];
					break;
				}
			}
		}
		done += n;
	}
	*digest_out = h;
	return true;
}

/* Remembers submission @seq's signal semaphores and resource ranges for its completion. */
static int remember_submission(struct replay *r, uint64_t seq, const uint64_t *sems,
			       uint32_t sem_count, const struct replay_range *ranges,
			       uint32_t range_count)
{
	struct replay_sub *s = vec_push(&r->submissions, sizeof(*s));

	if (!s)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	s->sems = malloc(sizeof(uint64_t) * (sem_count ? sem_count : 1));
	s->ranges = malloc(sizeof(*ranges) * (range_count ? range_count : 1));
	if (!s->sems || !s->ranges || !map_put(&r->subs, seq, 0, r->submissions.count - 1))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	memcpy(s->sems, sems, sizeof(uint64_t) * sem_count);
	if (range_count)
		memcpy(s->ranges, ranges, sizeof(*ranges) * range_count);
	s->sem_count = sem_count;
	s->range_count = range_count;
	return 0;
}

/*
 * Holding the GPU, a resource range that work submitted since the pause also lists is not
 * restored: its recorded contents were taken while that work ran in the recording (the GPU's
 * partial results, not a CPU write), and written now they would land before that work runs
 * here. A client that did write it meanwhile from the CPU raced with that work, and the digest
 * that then changes is reported. Otherwise as restore_range.
 */
static void replay_restore(struct replay *r, const struct replay_buffer *b, uint64_t bi,
			   uint64_t offset, uint64_t length, const char *hex)
{
	for (size_t i = 0; r->opts->hold && i < r->burst.count; i++) {
		const struct replay_range *rg = vec_at(&r->burst, i);

		if (rg->buf == bi && rg->offset < offset + length &&
		    offset < rg->offset + rg->length)
			return;
	}
	restore_range(r, b, offset, length, hex);
}

/* Holding the GPU: the ranges of a submission join the burst (replay_restore). */
static int replay_burst_add(struct replay *r, const struct replay_range *ranges, uint32_t n)
{
	for (uint32_t i = 0; r->opts->hold && i < n; i++) {
		struct replay_range *rg = vec_push(&r->burst, sizeof(*rg));

		if (!rg)
			return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		*rg = ranges[i];
	}
	return 0;
}

static int do_execute(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const cJSON *res = member(args, "resources"), *cmds = member(args, "command_buffers");
	const cJSON *wait = member(args, "wait"), *sig = member(args, "signal"), *it;
	uint32_t nres = (uint32_t)cJSON_GetArraySize(res),
		 ncmd = (uint32_t)cJSON_GetArraySize(cmds);
	uint32_t nwait = (uint32_t)cJSON_GetArraySize(wait),
		 nsig = (uint32_t)cJSON_GetArraySize(sig);
	magma_exec_resource_t *rs = calloc(nres + 1, sizeof(*rs));
	magma_exec_command_buffer_t *cb = calloc(ncmd + 1, sizeof(*cb));
	uint64_t *ids = calloc((size_t)nwait + nsig + 1, sizeof(uint64_t));
	uint64_t *sig_idx = calloc(nsig + 1, sizeof(uint64_t));
	struct replay_range *ranges = calloc(nres + 1, sizeof(*ranges));
	magma_command_descriptor_t d = {0};
	magma_status_t st;
	uint32_t i = 0, n = 0;
	size_t tl_token;
	int ret = 0;

	(void)out;
	if (member(args, "invalid")) {
		ret = check_status(r, "execute_command", ev, args,
				   magma_connection_execute_command(conn_arg(r, args), 0, NULL));
		goto out_free;
	}
	if (!rs || !cb || !ids || !sig_idx || !ranges) {
		ret = fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		goto out_free;
	}
	cJSON_ArrayForEach(it, res)
	{
		uint64_t bi = buf_index(r, args, u64(it, "buffer_id"));
		struct replay_buffer *b = vec_at(&r->buffers, bi);

		rs[i].buffer_id = b ? b->id : u64(it, "buffer_id");
		rs[i].offset = u64(it, "offset");
		rs[i].length = u64(it, "length");
		ranges[i] = (struct replay_range){bi, rs[i].offset, rs[i].length};
		if (b)
			replay_restore(r, b, bi, rs[i].offset, rs[i].length,
				       get_str(it, "contents"));
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(it, cmds)
	{
		cb[i].resource_index = (uint32_t)u64(it, "resource_index");
		cb[i].start_offset = u64(it, "start_offset");
		i++;
	}
	cJSON_ArrayForEach(it, wait)
	{
		struct replay_sem *s = vec_at(&r->semaphores, sem_index(r, args, item_u64(it)));

		ids[n++] = s ? s->id : item_u64(it);
	}
	i = 0;
	cJSON_ArrayForEach(it, sig)
	{
		uint64_t si = sem_index(r, args, item_u64(it));
		struct replay_sem *s = vec_at(&r->semaphores, si);

		sig_idx[i++] = si;
		ids[n++] = s ? s->id : item_u64(it);
	}
	d.resource_count = nres;
	d.command_buffer_count = ncmd;
	d.wait_semaphore_count = nwait;
	d.signal_semaphore_count = nsig;
	d.resources = rs;
	d.command_buffers = cb;
	d.semaphore_ids = ids;
	d.flags = u64(args, "flags");
	tl_token = trace_timeline_submit(r->tl, u64(args, "connection"),
					 (uint32_t)u64(args, "context"));
	st = magma_connection_execute_command(conn_arg(r, args),
					      ctx_of(r, args, u64(args, "context")), &d);
	if (st)
		trace_timeline_cancel(r->tl, tl_token);
	r->res->submissions++;
	ret = check_status(r, "execute_command", ev, args, st);
	if (!ret && !st)
		ret = replay_burst_add(r, ranges, nres);
	if (!ret && !st && nsig)
		ret = remember_submission(r, r->index, sig_idx, nsig, ranges, nres);
out_free:
	free(rs);
	free(cb);
	free(ids);
	free(sig_idx);
	free(ranges);
	return ret;
}

static int do_execute_inline(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const cJSON *cmds = member(args, "commands"), *it, *s;
	uint32_t n = (uint32_t)cJSON_GetArraySize(cmds), i = 0, total = 0;
	magma_inline_command_buffer_t *c = calloc(n + 1, sizeof(*c));
	uint64_t *ids, *idx;
	magma_status_t st;
	int ret = 0;

	(void)out;
	if (member(args, "invalid")) {
		free(c);
		return check_status(
			r, "execute_inline", ev, args,
			magma_connection_execute_inline_commands(conn_arg(r, args), 0, 1, NULL));
	}
	cJSON_ArrayForEach(it, cmds) total +=
		(uint32_t)cJSON_GetArraySize(member(it, "semaphores"));
	ids = calloc(total + 1, sizeof(uint64_t));
	idx = calloc(total + 1, sizeof(uint64_t));
	if (!c || !ids || !idx) {
		ret = fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		goto out_free;
	}
	total = 0;
	cJSON_ArrayForEach(it, cmds)
	{
		const struct replay_blob *b = blob_get(r, get_str(it, "data"));

		c[i].data = blob_bytes(b);
		c[i].size = b->size;
		if (!c[i].data) {
			ret = fail(r, TRACE_REPLAY_ENV_ERROR,
				   "out of memory (%" PRIu64 "-byte inline command)", b->size);
			goto out_free;
		}
		c[i].semaphore_ids = ids + total;
		cJSON_ArrayForEach(s, member(it, "semaphores"))
		{
			uint64_t si = sem_index(r, args, item_u64(s));
			struct replay_sem *sem = vec_at(&r->semaphores, si);

			idx[total] = si;
			ids[total++] = sem ? sem->id : item_u64(s);
			c[i].semaphore_count++;
		}
		i++;
	}
	st = magma_connection_execute_inline_commands(conn_arg(r, args),
						      ctx_of(r, args, u64(args, "context")), n, c);
	r->res->submissions += n;
	ret = check_status(r, "execute_inline", ev, args, st);
	if (!ret && !st && total)
		ret = remember_submission(r, r->index, idx, total, NULL, 0);
out_free:
	for (i = 0; c && i < n; i++)
		free(c[i].data);
	free(c);
	free(ids);
	free(idx);
	return ret;
}

static int do_poll(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const cJSON *items = member(args, "items"), *it;
	uint32_t n = (uint32_t)cJSON_GetArraySize(items), i = 0;
	magma_poll_item_t *p = calloc(n + 1, sizeof(*p));
	magma_status_t want = status_of(ev), st;
	int ret = 0;

	(void)out;
	if (!p)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (member(args, "invalid")) {
		free(p);
		return check_status(r, "poll", ev, args, magma_poll(NULL, 1, 0));
	}
	cJSON_ArrayForEach(it, items)
	{
		struct replay_sem *s = sem_by_handle(r, u64(it, "object"));

		p[i].type = (uint32_t)u64(it, "type");
		uint64_t h;

		/* Handles that the trace did not obtain (unknown fds) are ignored. */
		if (p[i].type == MAGMA_POLL_TYPE_SEMAPHORE && s) {
			p[i].semaphore = s->h;
			p[i].condition = (uint32_t)u64(it, "condition");
		} else if (p[i].type == MAGMA_POLL_TYPE_HANDLE &&
			   (lookup(&r->chans, u64(it, "object"), 0, &h) ||
			    lookup(&r->handles, u64(it, "object"), 0, &h))) {
			p[i].handle = (magma_handle_t)h;
			p[i].condition = (uint32_t)u64(it, "condition");
		}
		i++;
	}
	/* A poll that succeeded is given time to succeed again; a timed-out one is only probed. */
	st = magma_poll(p, n, want == MAGMA_STATUS_OK ? r->wait_ns : 0);
	if (want == MAGMA_STATUS_OK)
		ret = check_status(r, "poll", ev, args, st);
	free(p);
	return ret;
}

/* semaphore_signal and semaphore_reset. */
static int do_semaphore_op(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	struct replay_sem *s = sem_by_handle(r, u64(args, "semaphore"));

	(void)out;
	if (s && !strcmp(get_str(ev, "call"), "semaphore_signal"))
		magma_semaphore_signal(s->h);
	else if (s)
		magma_semaphore_reset(s->h);
	return 0;
}

static int do_get_channel(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t h = magma_connection_get_notification_channel_handle(conn_arg(r, args));

	(void)ev;
	if (!map_put(&r->chans, u64(out, "handle"), 0, h))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

static int check_read_notification(struct replay *r, const cJSON *ev, const cJSON *args,
				   const cJSON *out)
{
	const struct replay_blob *b;
	uint64_t size = 0;
	int ret;

	(void)ev;
	if (u64(args, "buffer_size") > (16u << 20))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "read_notification: buffer_size over 16 MiB is not supported");
	if (!get_u64(out, "size", &size) || !size || !get_str(out, "data") ||
	    !*get_str(out, "data"))
		return 0;
	ret = check_blob_ref(r, out, "data", false, "read_notification");
	b = ret ? NULL : blob_get(r, get_str(out, "data"));
	if (b && (b->size != size || size > u64(args, "buffer_size")))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "read_notification: read %" PRIu64 " bytes into a buffer of %" PRIu64
			    ", but its blob (line %" PRIu64 ") holds %" PRIu64,
			    size, u64(args, "buffer_size"), b->line, b->size);
	return ret;
}

/* True when @blob holds exactly the @size bytes at @data (compared a chunk at a time). */
static bool blob_equals(struct replay *r, const struct replay_blob *blob, const uint8_t *data,
			uint64_t size)
{
	struct trace_blob_reader rd;

	if (blob->size != size)
		return false;
	trace_blob_reader_init(&rd, blob->text);
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < REPLAY_CHUNK ? (size_t)(size - done) : REPLAY_CHUNK;

		if (trace_blob_read(&rd, r->chunk, n) != n || memcmp(r->chunk, data + done, n))
			return false;
		done += n;
	}
	return true;
}

static int do_read_notification(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);
	uint64_t cap = u64(args, "buffer_size"), size = 0, want = u64(out, "size");
	const struct replay_blob *blob = blob_get(r, get_str(out, "data"));
	uint8_t *buf = malloc(cap ? cap : 1);
	magma_bool_t more = 0;
	magma_status_t st;
	int ret;

	if (!buf)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!status_of(ev) && want) {
		/* The recording found a notification: give the replay time to produce it. */
		magma_poll_item_t p = {.type = MAGMA_POLL_TYPE_HANDLE,
				       .condition = MAGMA_POLL_CONDITION_READABLE};

		p.handle = magma_connection_get_notification_channel_handle(c);
		magma_poll(&p, 1, r->wait_ns);
	}
	st = magma_connection_read_notification_channel(c, cap ? buf : NULL, cap, &size, &more);
	ret = check_status(r, "read_notification", ev, args, st);
	if (!ret && r->checking && !st && want &&
	    (size != want || (blob && !blob_equals(r, blob, buf, size))))
		ret = fail(r, TRACE_REPLAY_DIVERGED,
			   "read_notification: recorded a %" PRIu64
			   "-byte notification (blob %s), replay read %" PRIu64 " bytes%s",
			   want, get_str(out, "data"), size,
			   size == want ? " with other contents" : "");
	free(buf);
	return ret;
}

/* The fd for the recorded "handle" argument (UINT32_MAX when unknown), which an import consumes
 * whether or not it succeeds. */
static magma_handle_t take_handle(struct replay *r, const cJSON *args)
{
	uint64_t fd = UINT64_MAX;

	lookup(&r->handles, u64(args, "handle"), 0, &fd);
	map_put(&r->handles, u64(args, "handle"), 0, UINT64_MAX);
	return (magma_handle_t)fd;
}

static int do_import_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t fd = take_handle(r, args);
	magma_buffer_t h = 0;
	uint64_t size = 0, id = 0;
	magma_status_t st = magma_connection_import_buffer(conn_arg(r, args), fd, &size, &h, &id);
	int ret = st ? 0 : add_buffer(r, args, h, id, size, u64(out, "buffer"), u64(out, "id"));

	return ret ? ret : check_status(r, "import_buffer", ev, args, st);
}

static int do_import_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_handle_t fd = take_handle(r, args);
	magma_semaphore_t h = 0;
	uint64_t id = 0;
	magma_status_t st = magma_connection_import_semaphore2(conn_arg(r, args), fd,
							       u64(args, "flags"), &h, &id);
	int ret = st ? 0 : add_semaphore(r, args, h, id, u64(out, "semaphore"), u64(out, "id"));

	return ret ? ret : check_status(r, "import_semaphore", ev, args, st);
}

/* Remembers fd @h that an export returned as the recorded "handle" output, then compares @st. */
static int put_export(struct replay *r, const char *call, const cJSON *ev, const cJSON *args,
		      const cJSON *out, magma_status_t st, magma_handle_t h)
{
	if (!st && !map_put(&r->handles, u64(out, "handle"), 0, h)) {
		close((int)h);
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	}
	return check_status(r, call, ev, args, st);
}

static int do_buffer_export(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t h = 0;
	magma_status_t st = magma_buffer_export(buffer_arg(r, args), &h);

	return put_export(r, "buffer_export", ev, args, out, st, h);
}

static int do_semaphore_export(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	struct replay_sem *s = sem_by_handle(r, u64(args, "semaphore"));
	magma_handle_t h = 0;
	magma_status_t st = magma_semaphore_export(s ? s->h : 0, &h);

	return put_export(r, "semaphore_export", ev, args, out, st, h);
}

static int do_buffer_get_info(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out)
{
	magma_buffer_info_t info;

	(void)out;
	return check_status(r, "buffer_get_info", ev, args,
			    magma_buffer_get_info(buffer_arg(r, args), &info));
}

static int do_set_cache_policy(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	(void)out;
	return check_status(
		r, "buffer_set_cache_policy", ev, args,
		magma_buffer_set_cache_policy(buffer_arg(r, args), (uint32_t)u64(args, "policy")));
}

static int do_get_cache_policy(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_cache_policy_t policy = 0;
	magma_status_t st = magma_buffer_get_cache_policy(buffer_arg(r, args), &policy);
	int ret = check_status(r, "buffer_get_cache_policy", ev, args, st);

	if (!ret && !st && r->checking && policy != u64(out, "policy"))
		ret = fail(r, TRACE_REPLAY_DIVERGED,
			   "buffer_get_cache_policy: recorded policy %" PRIu64 ", replay got %u",
			   u64(out, "policy"), policy);
	return ret;
}

static int do_clean_cache(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(r, "buffer_clean_cache", ev, args,
			    magma_buffer_clean_cache(buffer_arg(r, args), u64(args, "offset"),
						     u64(args, "size"),
						     (uint32_t)u64(args, "operation")));
}

static int check_set_name(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)ev;
	(void)out;
	return get_str(args, "name") ? 0
				     : fail(r, TRACE_REPLAY_BAD_INPUT,
					    "buffer_set_name: \"name\" missing or not a string");
}

static int do_set_name(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(
		r, "buffer_set_name", ev, args,
		magma_buffer_set_name(buffer_arg(r, args),
				      u64(args, "null") ? NULL : get_str(args, "name")));
}

/* ---- calls recorded since version 2 ---- */

static int do_enumerate(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	uint32_t count = (uint32_t)u64(args, "count"), size = (uint32_t)u64(args, "path_size");
	uint64_t bytes = (uint64_t)count * size;
	char *paths = u64(args, "paths_null") || bytes > (1u << 24) ? NULL : malloc(bytes + 1);
	magma_status_t st;

	(void)out;
	st = magma_enumerate_devices(NULL, 0, u64(args, "count_null") ? NULL : &count, size, paths);
	free(paths);
	return check_status(r, "enumerate_devices", ev, args, st);
}

static int do_get_handle(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t h = (magma_handle_t)-1;
	magma_status_t st;

	(void)out;
	st = magma_buffer_get_handle(buffer_arg(r, args), u64(args, "null") ? NULL : &h);
	if (!st && h != (magma_handle_t)-1)
		close((int)h);
	return check_status(r, "buffer_get_handle", ev, args, st);
}

/* An fd of /dev/null for calls that consume a channel; -1 when it cannot be opened. */
static int null_fd(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int do_init_channel(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const char *call = get_str(ev, "call");
	int fd = null_fd();
	magma_status_t st;

	(void)out;
	if (!strcmp(call, "initialize_tracing"))
		st = magma_initialize_tracing((magma_handle_t)fd);
	else
		st = magma_initialize_logging((magma_handle_t)fd);
	return check_status(r, call, ev, args, st);
}

static int do_perf_access(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	/* Granted in the recording: present the replay device's token; else a file that is not. */
	int fd = status_of(ev) == MAGMA_STATUS_OK && r->emb
			 ? magma_system_embedded_perf_token(r->emb)
			 : null_fd();

	(void)out;
	return check_status(r, "perf_enable_access", ev, args,
			    magma_connection_enable_performance_counter_access(conn_arg(r, args),
									       (magma_handle_t)fd));
}

static int check_counters(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const cJSON *a = member(args, "counters"), *it;

	(void)ev;
	(void)out;
	if (member(args, "invalid"))
		return 0;
	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "\"counters\" missing or not an array");
	cJSON_ArrayForEach(it, a)
	{
		if (!is_id(it))
			return fail(r, TRACE_REPLAY_BAD_INPUT, "\"counters\" holds a non-id");
	}
	return 0;
}

static int do_perf_counters(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const char *call = get_str(ev, "call");
	const cJSON *a = member(args, "counters"), *it;
	uint64_t n = member(args, "invalid") ? 0 : (uint64_t)cJSON_GetArraySize(a), i = 0;
	uint64_t *ids = member(args, "invalid") ? NULL : calloc(n + 1, sizeof(uint64_t));
	magma_status_t st;

	(void)out;
	if (!member(args, "invalid") && !ids)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (ids)
		cJSON_ArrayForEach(it, a) ids[i++] = item_u64(it);
	else
		n = u64(args, "count");
	if (!strcmp(call, "perf_enable_counters"))
		st = magma_connection_enable_performance_counters(conn_arg(r, args), ids, n);
	else
		st = magma_connection_clear_performance_counters(conn_arg(r, args), ids, n);
	free(ids);
	return check_status(r, call, ev, args, st);
}

/* The replay pool of recorded pool @rec of the recorded connection (@rec itself if unknown). */
static uint64_t pool_arg(struct replay *r, const cJSON *args)
{
	uint64_t p = u64(args, "pool");

	lookup(&r->pools, u64(args, "connection"), u64(args, "pool"), &p);
	return p;
}

static int do_perf_create_pool(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_perf_count_pool_t pool = 0;
	magma_handle_t h = 0;
	magma_status_t st;

	st = magma_connection_create_performance_counter_buffer_pool(conn_arg(r, args), &pool, &h);
	if (!st && (!map_put(&r->pools, u64(args, "connection"), u64(out, "pool"), pool) ||
		    !map_put(&r->pool_handles, u64(args, "connection"), u64(out, "pool"),
			     u64(out, "handle")) ||
		    !map_put(&r->chans, u64(out, "handle"), 0, h)))
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "perf_create_pool", ev, args, st);
}

static int do_perf_release_pool(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	magma_status_t st = magma_connection_release_performance_counter_buffer_pool(
		conn_arg(r, args), pool_arg(r, args));
	uint64_t rec;

	(void)out;
	if (lookup(&r->pool_handles, u64(args, "connection"), u64(args, "pool"), &rec))
		map_put(&r->chans, rec, 0, UINT64_MAX); /* closed with the pool */
	map_put(&r->pool_handles, u64(args, "connection"), u64(args, "pool"), UINT64_MAX);
	return check_status(r, "perf_release_pool", ev, args, st);
}

static int check_offsets(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	static const char *const keys[] = {"buffer_id", "offset", "length", NULL};

	(void)ev;
	(void)out;
	if (member(args, "invalid"))
		return 0;
	return check_items(r, args, "offsets", keys, "perf_add_offsets offset",
			   "\"offsets\" missing or not an array");
}

static int do_perf_add_offsets(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	const cJSON *a = member(args, "offsets"), *it;
	bool invalid = member(args, "invalid") != NULL;
	uint64_t n = invalid ? u64(args, "count") : (uint64_t)cJSON_GetArraySize(a), i = 0;
	magma_buffer_offset_t *o = invalid ? NULL : calloc(n + 1, sizeof(*o));
	magma_status_t st;

	(void)out;
	if (!invalid && !o)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (o) {
		cJSON_ArrayForEach(it, a)
		{
			uint64_t bi = buf_index(r, args, u64(it, "buffer_id"));
			struct replay_buffer *b = bi == UINT64_MAX ? NULL : vec_at(&r->buffers, bi);

			o[i].buffer_id = b ? b->id : u64(it, "buffer_id");
			o[i].offset = u64(it, "offset");
			o[i++].length = u64(it, "length");
		}
	}
	st = magma_connection_add_performance_counter_buffer_offsets_to_pool(
		conn_arg(r, args), pool_arg(r, args), o, n);
	free(o);
	return check_status(r, "perf_add_offsets", ev, args, st);
}

static int do_perf_remove_buffer(struct replay *r, const cJSON *ev, const cJSON *args,
				 const cJSON *out)
{
	(void)out;
	return check_status(r, "perf_remove_buffer", ev, args,
			    magma_connection_remove_performance_counter_buffer_from_pool(
				    conn_arg(r, args), pool_arg(r, args), buffer_arg(r, args)));
}

static int do_perf_dump(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(
		r, "perf_dump", ev, args,
		magma_connection_dump_performance_counters(conn_arg(r, args), pool_arg(r, args),
							   (uint32_t)u64(args, "trigger")));
}

static int do_perf_read_completion(struct replay *r, const cJSON *ev, const cJSON *args,
				   const cJSON *out)
{
	uint32_t trigger = 0, offset = 0, flags = 0;
	uint64_t buffer_id = 0, time = 0, h, want_id = u64(out, "buffer_id"), bi;
	magma_status_t st;
	int ret;

	if (status_of(ev) == MAGMA_STATUS_OK &&
	    lookup(&r->pool_handles, u64(args, "connection"), u64(args, "pool"), &h) &&
	    lookup(&r->chans, h, 0, &h)) {
		/* The recording read a completion: give the replay time to produce it. */
		magma_poll_item_t p = {.type = MAGMA_POLL_TYPE_HANDLE,
				       .condition = MAGMA_POLL_CONDITION_READABLE,
				       .handle = (magma_handle_t)h};

		magma_poll(&p, 1, r->wait_ns);
	}
	st = magma_connection_read_performance_counter_completion(
		conn_arg(r, args), pool_arg(r, args), &trigger, &buffer_id, &offset, &time, &flags);
	if (status_of(ev) == MAGMA_STATUS_TIMED_OUT)
		return 0; /* nothing was pending when recorded: timing, not compared */
	ret = check_status(r, "perf_read_completion", ev, args, st);
	bi = buf_index(r, args, want_id);
	if (bi != UINT64_MAX)
		want_id = ((struct replay_buffer *)vec_at(&r->buffers, bi))->id;
	if (!ret && r->checking && !st &&
	    (trigger != u64(out, "trigger") || buffer_id != want_id ||
	     offset != u64(out, "offset") || flags != u64(out, "flags")))
		ret = fail(r, TRACE_REPLAY_DIVERGED,
			   "perf_read_completion: recorded trigger %" PRIu64 " buffer id %" PRIu64
			   " offset %" PRIu64 " flags %" PRIu64 ", replay read trigger %" PRIu32
			   " buffer id %" PRIu64 " offset %" PRIu32 " flags %" PRIu32,
			   u64(out, "trigger"), u64(out, "buffer_id"), u64(out, "offset"),
			   u64(out, "flags"), trigger, buffer_id, offset, flags);
	return ret;
}

typedef int (*replay_fn)(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out);
typedef int (*check_fn)(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out);

/* The recorded calls: name, numeric arguments, numeric outputs, whether a status is recorded. */
static const struct replay_call {
	const char *name;
	const char *args[7];
	const char *outs[6];
	bool has_result;
	check_fn check;
	replay_fn fn;
} replay_calls[] = {
	{"device_import", {"channel"}, {"device"}, true, NULL, do_device_import},
	{"device_release", {"device"}, {NULL}, false, NULL, do_device_release},
	{"device_query", {"device", "id", "buffer"}, {NULL}, true, NULL, do_device_query},
	{"create_connection", {"device"}, {"connection"}, true, NULL, do_create_connection},
	{"connection_release", {"connection"}, {NULL}, false, NULL, do_connection_release},
	{"get_error", {"connection"}, {NULL}, true, NULL, do_get_error},
	{"flush", {"connection"}, {NULL}, true, NULL, do_flush},
	{"create_context", {"connection", "priority"}, {"context"}, true, NULL, do_create_context},
	{"release_context", {"connection", "context"}, {NULL}, false, NULL, do_release_context},
	{"create_buffer",
	 {"connection", "size"},
	 {"size", "buffer", "id"},
	 true,
	 check_new_buffer,
	 do_create_buffer},
	{"release_buffer", {"connection", "buffer"}, {NULL}, false, NULL, do_release_buffer},
	{"create_semaphore", {"connection"}, {"semaphore", "id"}, true, NULL, do_create_semaphore},
	{"release_semaphore",
	 {"connection", "semaphore"},
	 {NULL},
	 false,
	 NULL,
	 do_release_semaphore},
	{"buffer_op",
	 {"connection", "buffer", "options", "offset", "length"},
	 {NULL},
	 true,
	 NULL,
	 do_buffer_op},
	{"map_buffer",
	 {"connection", "hw_va", "buffer", "offset", "length", "flags"},
	 {NULL},
	 true,
	 NULL,
	 do_map_buffer},
	{"unmap_buffer", {"connection", "hw_va", "buffer"}, {NULL}, false, NULL, do_unmap_buffer},
	{"execute_command", {"connection", "context"}, {NULL}, true, check_execute, do_execute},
	{"execute_inline",
	 {"connection", "context"},
	 {NULL},
	 true,
	 check_inline,
	 do_execute_inline},
	{"poll", {NULL}, {NULL}, true, check_poll, do_poll},
	{"semaphore_signal", {"semaphore"}, {NULL}, false, NULL, do_semaphore_op},
	{"semaphore_reset", {"semaphore"}, {NULL}, false, NULL, do_semaphore_op},
	{"get_notification_channel", {"connection"}, {"handle"}, false, NULL, do_get_channel},
	{"read_notification",
	 {"connection", "buffer_size"},
	 {"size", "more"},
	 true,
	 check_read_notification,
	 do_read_notification},
	{"import_buffer",
	 {"connection", "handle"},
	 {"size", "buffer", "id"},
	 true,
	 check_new_buffer,
	 do_import_buffer},
	{"import_semaphore",
	 {"connection", "handle", "flags"},
	 {"semaphore", "id"},
	 true,
	 NULL,
	 do_import_semaphore},
	{"buffer_export", {"buffer"}, {"handle"}, true, NULL, do_buffer_export},
	{"semaphore_export", {"semaphore"}, {"handle"}, true, NULL, do_semaphore_export},
	{"buffer_get_info", {"buffer"}, {"size", "committed"}, true, NULL, do_buffer_get_info},
	{"buffer_set_cache_policy", {"buffer", "policy"}, {NULL}, true, NULL, do_set_cache_policy},
	{"buffer_get_cache_policy", {"buffer"}, {"policy"}, true, NULL, do_get_cache_policy},
	{"buffer_clean_cache",
	 {"buffer", "offset", "size", "operation"},
	 {NULL},
	 true,
	 NULL,
	 do_clean_cache},
	{"buffer_set_name", {"buffer", "null"}, {NULL}, true, check_set_name, do_set_name},
	{"enumerate_devices",
	 {"channel", "count", "count_null", "path_size", "paths_null"},
	 {"count"},
	 true,
	 NULL,
	 do_enumerate},
	{"buffer_get_handle", {"buffer", "null"}, {"handle"}, true, NULL, do_get_handle},
	{"initialize_tracing", {"channel"}, {NULL}, true, NULL, do_init_channel},
	{"initialize_logging", {"channel"}, {NULL}, true, NULL, do_init_channel},
	{"perf_enable_access", {"connection", "channel"}, {NULL}, true, NULL, do_perf_access},
	{"perf_enable_counters", {"connection"}, {NULL}, true, check_counters, do_perf_counters},
	{"perf_clear_counters", {"connection"}, {NULL}, true, check_counters, do_perf_counters},
	{"perf_create_pool", {"connection"}, {"pool", "handle"}, true, NULL, do_perf_create_pool},
	{"perf_release_pool", {"connection", "pool"}, {NULL}, true, NULL, do_perf_release_pool},
	{"perf_add_offsets",
	 {"connection", "pool"},
	 {NULL},
	 true,
	 check_offsets,
	 do_perf_add_offsets},
	{"perf_remove_buffer",
	 {"connection", "pool", "buffer"},
	 {NULL},
	 true,
	 NULL,
	 do_perf_remove_buffer},
	{"perf_dump", {"connection", "pool", "trigger"}, {NULL}, true, NULL, do_perf_dump},
	{"perf_read_completion",
	 {"connection", "pool"},
	 {"trigger", "buffer_id", "offset", "time", "flags"},
	 true,
	 NULL,
	 do_perf_read_completion},
};

static const struct replay_call *call_find(const char *name)
{
	for (size_t i = 0; i < sizeof(replay_calls) / sizeof(replay_calls[0]); i++)
		if (!strcmp(replay_calls[i].name, name))
			return &replay_calls[i];
	return NULL;
}

/* ---- completions ---- */

static int check_completion_event(struct replay *r, const cJSON *ev)
{
	static const char *const keys[] = {"connection", "submission", NULL};
	static const char *const res_keys[] = {"index", "buffer_id", NULL};
	const cJSON *a = member(ev, "resources"), *it;
	uint64_t d;
	int ret = check_u64s(r, ev, keys, "completion");

	if (ret)
		return ret;
	if (!cJSON_IsArray(a))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "completion: \"resources\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		ret = check_u64s(r, it, res_keys, "completion resource");
		if (ret)
			return ret;
		if (trace_digest_parse(get_str(it, "digest"), &d))
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "completion resource: \"digest\" is not 16 hex digits");
	}
	return 0;
}

static int do_completion(struct replay *r, const cJSON *ev)
{
	const cJSON *it;
	struct replay_sub *s;
	uint64_t si;

	if (!lookup(&r->subs, u64(ev, "submission"), 0, &si))
		return r->checking ? fail(r, TRACE_REPLAY_DIVERGED,
					  "completion of event %" PRIu64
					  ", which the replay did not submit successfully",
					  u64(ev, "submission"))
				   : 0;
	s = vec_at(&r->submissions, si);
	for (uint32_t i = 0; i < s->sem_count; i++) {
		struct replay_sem *sem = vec_at(&r->semaphores, s->sems[i]);
		magma_poll_item_t p = {.type = MAGMA_POLL_TYPE_SEMAPHORE,
				       .condition = MAGMA_POLL_CONDITION_SIGNALED};

		if (!sem)
			continue;
		p.semaphore = sem->h;
		if (magma_poll(&p, 1, r->wait_ns) != MAGMA_STATUS_OK && r->checking)
			return fail(r, TRACE_REPLAY_DIVERGED,
				    "submission at event %" PRIu64
				    " completed in the recording but its signal semaphore %u was "
				    "not signaled within %.3f s in the replay",
				    u64(ev, "submission"), i, (double)r->wait_ns / 1e9);
	}
	cJSON_ArrayForEach(it, member(ev, "resources"))
	{
		uint64_t idx = u64(it, "index"), want, got = 0, off = UINT64_MAX;
		const struct replay_range *rg = idx < s->range_count ? &s->ranges[idx] : NULL;
		const struct replay_buffer *b = rg ? vec_at(&r->buffers, rg->buf) : NULL;
		const struct replay_blob *blob = blob_get(r, get_str(it, "digest"));
		uint8_t want_byte = 0, got_byte = 0;
		bool read = b && digest_range(r, b, rg->offset, rg->length, blob, &got, &off,
					      &want_byte, &got_byte);
		char hex[17];

		trace_digest_parse(get_str(it, "digest"), &want);
		r->res->digest =
			trace_digest(&got, sizeof(got)) ^ (r->res->digest * 0x100000001b3ull);
		if (!r->checking || (read && got == want))
			continue;
		trace_digest_hex(got, hex);
		if (!read)
			return fail(r, TRACE_REPLAY_DIVERGED,
				    "completion of event %" PRIu64 ": resource %" PRIu64
				    " (buffer id %" PRIu64 ") cannot be read in the replay",
				    u64(ev, "submission"), idx, u64(it, "buffer_id"));
		r->res->mismatch = (struct trace_replay_mismatch){
			.valid = true,
			.event = r->index,
			.submission = u64(ev, "submission"),
			.resource = idx,
			.buffer_id = u64(it, "buffer_id"),
			.offset = rg->offset,
			.length = rg->length,
			.first_diff = off < rg->length ? off : UINT64_MAX,
		};
		if (off < rg->length)
			return fail(r, TRACE_REPLAY_DIVERGED,
				    "completion of event %" PRIu64 ": resource %" PRIu64
				    " (buffer id %" PRIu64 ", offset %" PRIu64 ", length %" PRIu64
				    "): digest %s expected, replay has %s; first difference at "
				    "byte %" PRIu64 " of the range: expected 0x%02x, got 0x%02x",
				    u64(ev, "submission"), idx, u64(it, "buffer_id"), rg->offset,
				    rg->length, get_str(it, "digest"), hex, off, want_byte,
				    got_byte);
		return fail(r, TRACE_REPLAY_DIVERGED,
			    "completion of event %" PRIu64 ": resource %" PRIu64
			    " (buffer id %" PRIu64 "): digest %s expected, replay has %s",
			    u64(ev, "submission"), idx, u64(it, "buffer_id"), get_str(it, "digest"),
			    hex);
	}
	r->res->completions++;
	return 0;
}

/* ---- the file ---- */

struct replay_file {
	char *text;
	size_t size;
};

static int read_file(struct replay *r, const char *path, struct replay_file *f)
{
	FILE *fp = fopen(path, "re");
	long n;

	if (!fp)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "cannot open %s: %s", path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return fail(r, TRACE_REPLAY_BAD_INPUT, "cannot read %s", path);
	}
	f->size = (size_t)n;
	f->text = malloc(f->size + 1);
	if (!f->text || fread(f->text, 1, f->size, fp) != f->size) {
		fclose(fp);
		return fail(r, TRACE_REPLAY_BAD_INPUT, "cannot read %s", path);
	}
	f->text[f->size] = '\0';
	fclose(fp);
	if (memchr(f->text, '\0', f->size))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s holds NUL bytes: not a trace", path);
	return 0;
}

static int check_header(struct replay *r, const char *line, size_t len)
{
	char *doc = malloc(len + 3);
	const char *fmt;
	cJSON *h;
	uint64_t v;
	int ret = 0;

	if (!doc)
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	memcpy(doc, line, len);
	memcpy(doc + len, "]}", 3);
	h = cJSON_Parse(doc);
	free(doc);
	if (!h || !cJSON_IsArray(member(h, "events")))
		ret = fail(r, TRACE_REPLAY_BAD_INPUT,
			   "the header line is not {\"format\":...,\"events\":[ (not a trace?)");
	else if (!(fmt = get_str(h, "format")) || strcmp(fmt, TRACE_FORMAT_NAME))
		ret = fail(r, TRACE_REPLAY_BAD_INPUT, "\"format\" is not \"%s\"",
			   TRACE_FORMAT_NAME);
	else if (!get_u64(h, "version", &v) || !v)
		ret = fail(r, TRACE_REPLAY_BAD_INPUT,
			   "\"version\" missing or not a positive integer");
	else if (v > TRACE_FORMAT_VERSION)
		ret = fail(r, TRACE_REPLAY_BAD_INPUT,
			   "format version %" PRIu64 " is newer than this reader (version %d)", v,
			   TRACE_FORMAT_VERSION);
	cJSON_Delete(h);
	return ret;
}

/*
 * A blob event: scanned for its size and digest without decoding it (see the file head); its
 * text is kept for pass 2. Sizes past max_size are refused here, the rest where it is used.
 */
static int check_blob_event(struct replay *r, const cJSON *ev)
{
	const char *hex = get_str(ev, "digest"), *data = get_str(ev, "data");
	struct replay_blob *b;
	uint64_t d, size, got_size = 0, got_digest = 0;
	size_t where = 0;
	char got[17];
	char *text;
	int err;

	if (!hex || trace_digest_parse(hex, &d) || !data || !get_u64(ev, "size", &size))
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "blob: needs \"digest\" (16 hex digits), \"size\" and \"data\"");
	if (size > r->max_size)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "blob %s: size %" PRIu64 " is over the limit of %" PRIu64 " bytes", hex,
			    size, r->max_size);
	err = trace_blob_scan(data, size, &got_size, &got_digest, &where);
	if (err || got_size != size)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "blob %s: malformed data at character %zu (or not %" PRIu64 " bytes)",
			    hex, err ? where : strlen(data), size);
	if (got_digest != d) {
		trace_digest_hex(got_digest, got);
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "blob digest mismatch: recorded %s, contents hash to %s", hex, got);
	}
	if (map_find(&r->blobs, d, 0))
		return 0;
	text = strdup(data);
	b = text ? vec_push(&r->blob_data, sizeof(*b)) : NULL;
	if (!b || !map_put(&r->blobs, d, 0, r->blob_data.count - 1)) {
		if (b)
			r->blob_data.count--;
		free(text);
		return fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	}
	b->text = text;
	b->size = size;
	b->line = r->line;
	return 0;
}

static int check_call_event(struct replay *r, const cJSON *ev, const struct replay_call **call_out)
{
	const char *name = get_str(ev, "call");
	const cJSON *args = member(ev, "args"), *out = member(ev, "out");
	const struct replay_call *c;
	int64_t st = 0;
	int ret;

	if (!name)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "call: \"call\" missing or not a string");
	c = call_find(name);
	if (!c)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "unknown call \"%.64s\"", name);
	if (!cJSON_IsObject(args) || !cJSON_IsObject(out))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s: \"args\" or \"out\" is not an object",
			    name);
	if (c->has_result && !get_status(ev, &st))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "%s: \"result\" missing or not an integer",
			    name);
	if (!member(args, "invalid")) {
		ret = check_u64s(r, args, c->args, name);
		if (ret)
			return ret;
	}
	if (c->has_result && !st) {
		ret = check_u64s(r, out, c->outs, name);
		if (ret)
			return ret;
	}
	if (c->check) {
		ret = c->check(r, ev, args, out);
		if (ret)
			return ret;
	}
	*call_out = c;
	return 0;
}

/*
 * One recorded call. Holding the GPU (opts->hold), the gate moves first, and a connection
 * release waits (at most wait_ns) for the service to have closed it: its address space then
 * leaves its slot before the next connection binds one, so slots, TLB walks and cycles do not
 * depend on how fast the service thread noticed the close.
 */
static int replay_call(struct replay *r, const struct replay_call *c, const cJSON *ev)
{
	struct magma_system_device *dev = r->emb ? magma_system_embedded_device(r->emb) : NULL;
	bool closing = r->opts->hold && dev && !strcmp(c->name, "connection_release");
	uint32_t open = dev ? magma_system_device_connection_count(dev) : 0;
	uint64_t deadline = now_ns() + r->wait_ns;
	magma_connection_t conn;
	int ret;

	replay_gate(r, trace_perturb_gate_for(c->name, c->has_result ? status_of(ev) : 0));
	/* A connection the service already closed (an error) has nothing left to wait for. */
	if (closing) {
		conn = conn_arg(r, member(ev, "args"));
		closing = conn && magma_connection_flush(conn) == MAGMA_STATUS_OK;
	}
	ret = c->fn(r, ev, member(ev, "args"), member(ev, "out"));
	if (!closing)
		return ret;
	while (magma_system_device_connection_count(dev) >= open && now_ns() < deadline)
		usleep(100);
	return ret;
}

/* Validates (@replay false) or replays one event. */
static int handle_event(struct replay *r, const cJSON *ev, bool replay, bool *end)
{
	const char *type = get_str(ev, "type");
	const struct replay_call *c = NULL;
	uint64_t seq;
	int ret;

	if (!cJSON_IsObject(ev))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "an event must be a JSON object");
	if (!type)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "\"type\" missing or not a string");
	if (!get_u64(ev, "seq", &seq) || seq != r->index)
		return fail(r, TRACE_REPLAY_BAD_INPUT,
			    "\"seq\" missing or not %" PRIu64 " (events lost or reordered?)",
			    r->index);
	if (!strcmp(type, "end")) {
		*end = true;
		return 0;
	}
	if (!strcmp(type, "blob"))
		return replay ? 0 : check_blob_event(r, ev);
	if (!strcmp(type, "dev")) {
		uint64_t cycle;

		return replay || get_u64(ev, "cycle", &cycle)
			       ? 0
			       : fail(r, TRACE_REPLAY_BAD_INPUT, "dev: \"cycle\" missing");
	}
	if (!strcmp(type, "device"))
		return 0;
	if (!strcmp(type, "completion")) {
		/* Digests are taken once the GPU did all it could: the same point every run. */
		if (replay)
			replay_gate(r, TRACE_PERTURB_SETTLE);
		return replay ? do_completion(r, ev) : check_completion_event(r, ev);
	}
	if (strcmp(type, "call"))
		return fail(r, TRACE_REPLAY_BAD_INPUT, "unknown event type \"%.64s\"", type);
	ret = check_call_event(r, ev, &c);
	if (ret || !replay)
		return ret;
	r->res->calls++;
	return replay_call(r, c, ev);
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

/* Walks every event line: validation (@replay false) or replay. */
static int walk(struct replay *r, const struct replay_file *f, bool replay)
{
	const char *p = f->text, *end = f->text + f->size;
	const char *nl = memchr(p, '\n', f->size);
	uint64_t last_draw = 0;
	bool done = false;
	int ret;

	r->line = 1;
	r->offset = 0;
	r->index = 0;
	if (!nl)
		return fail(r, TRACE_REPLAY_BAD_INPUT, "no header line (empty or truncated file)");
	if (!replay) {
		ret = check_header(r, p, (size_t)(nl - p));
		if (ret)
			return ret;
	}
	p = nl + 1;
	while (!done) {
		size_t len;
		cJSON *ev;

		r->line++;
		r->offset = (uint64_t)(p - f->text);
		if (p >= end)
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "file ends after %" PRIu64
				    " events without the \"end\" event: truncated (the recording "
				    "process did not exit normally?)",
				    r->index);
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "last line is cut short (no newline): truncated file");
		len = (size_t)(nl - p);
		while (len && (p[len - 1] == ',' || p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		ev = cJSON_ParseWithLength(p, len);
		if (!ev) {
			const char *at = cJSON_GetErrorPtr();
			size_t col = at && at >= p && at <= p + len ? (size_t)(at - p) : 0;

			return fail(r, TRACE_REPLAY_BAD_INPUT, "invalid JSON at column %zu",
				    col + 1);
		}
		if (replay && r->opts->stop_at != UINT64_MAX && r->index >= r->opts->stop_at) {
			r->res->stopped_at = r->index;
			cJSON_Delete(ev);
			if (r->opts->on_stop) {
				struct trace_replay_access access = {r};

				r->opts->on_stop(r->opts->stop_ctx, &access);
			}
			return 0;
		}
		if (replay && r->index > r->opts->to) {
			cJSON_Delete(ev);
			return 0;
		}
		r->checking = r->index >= r->opts->from;
		ret = handle_event(r, ev, replay, &done);
		cJSON_Delete(ev);
		if (ret)
			return ret;
		if (!done)
			r->index++;
		if (replay && r->opts->progress && !(r->index & 255)) {
			uint64_t t = now_ns();

			if (t - last_draw >= 100000000ull) {
				progress(r->index, r->res->events, false);
				last_draw = t;
			}
		}
		p = nl + 1;
	}
	if (!replay) {
		r->res->events = r->index;
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
		if (end - p < 2 || strncmp(p, "]}", 2))
			return fail(
				r, TRACE_REPLAY_BAD_INPUT,
				"the \"end\" event must be followed by \"]}\" and nothing else");
		p += 2;
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
		if (p != end)
			return fail(r, TRACE_REPLAY_BAD_INPUT,
				    "data after the end of the document");
	}
	if (replay && r->opts->progress)
		progress(r->index, r->res->events, true);
	return 0;
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
		b = lookup(&r->buf_ids, conn, id, &i) ? vec_at(&r->buffers, i) : NULL;
		return b && b->fd >= 0 ? b : NULL;
	}
	for (size_t k = 0; k < r->buf_ids.cap; k++) {
		const struct replay_ent *e = &r->buf_ids.e[k];

		b = e->used && e->k2 == id && e->v < best ? vec_at(&r->buffers, e->v) : NULL;
		if (b && b->fd >= 0)
			best = e->v;
	}
	return best == UINT64_MAX ? NULL : vec_at(&r->buffers, best);
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
	if (!range_ok(b, offset, length))
		return -EINVAL;
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;

		if (pread(b->fd, dst + done, n, (off_t)(offset + done)) != (ssize_t)n)
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
		struct replay_buffer *b = vec_at(&r->buffers, i);

		if (b->fd >= 0)
			close(b->fd);
	}
	for (size_t i = 0; i < r->handles.cap; i++)
		if (r->handles.e[i].used && r->handles.e[i].v != UINT64_MAX)
			close((int)r->handles.e[i].v);
	magma_system_embedded_destroy(r->emb);
	r->emb = NULL;
	trace_device_set_observer(NULL, NULL);
}

static void replay_free(struct replay *r)
{
	for (uint64_t i = 0; i < r->submissions.count; i++) {
		struct replay_sub *s = vec_at(&r->submissions, i);

		free(s->sems);
		free(s->ranges);
	}
	for (uint64_t i = 0; i < r->blob_data.count; i++)
		free(((struct replay_blob *)vec_at(&r->blob_data, i))->text);
	free(r->buffers.v);
	free(r->rec_buffers.v);
	free(r->chunk);
	free(r->semaphores.v);
	free(r->submissions.v);
	free(r->blob_data.v);
	free(r->burst.v);
	map_fini(&r->devices);
	map_fini(&r->conns);
	map_fini(&r->ctxs);
	map_fini(&r->bufs);
	map_fini(&r->buf_ids);
	map_fini(&r->sems);
	map_fini(&r->sem_ids);
	map_fini(&r->subs);
	map_fini(&r->blobs);
	map_fini(&r->rec_bufs);
	map_fini(&r->handles);
	map_fini(&r->chans);
	map_fini(&r->pools);
	map_fini(&r->pool_handles);
	trace_timeline_destroy(r->tl);
}

/* trace_replay_run - see trace_replay.h. */
int trace_replay_run(const char *path, const struct trace_replay_options *opts,
		     struct trace_replay_result *result)
{
	struct replay r = {.opts = opts, .res = result, .sim_sub = -1};
	struct replay_file f = {0};
	uint64_t t0;
	int ret;

	memset(result, 0, sizeof(*result));
	result->stopped_at = UINT64_MAX;
	r.max_size = opts->max_size ? opts->max_size : TRACE_MAX_SIZE;
	r.wait_ns = opts->wait_ns ? opts->wait_ns : REPLAY_WAIT_NS;
	/* The replay itself is never recorded (MAGMA_TRACE may even name the input). */
	trace_writer_close(trace_global_install(NULL));
	r.chunk = malloc(2 * REPLAY_CHUNK);
	ret = r.chunk ? read_file(&r, path, &f) : fail(&r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!ret)
		ret = walk(&r, &f, false);
	if (ret)
		goto out;
	r.line = 0; /* errors from here on belong to no line until replay starts */
	if (opts->timeline) {
		r.tl = trace_timeline_create();
		if (!r.tl) {
			ret = fail(&r, TRACE_REPLAY_ENV_ERROR, "out of memory");
			goto out;
		}
	}
	trace_device_set_observer(replay_observer, &r);
	t0 = now_ns();
	ret = walk(&r, &f, true);
	if (r.sim)
		result->gpu_cycles = sim_clock_now(r.sim);
	result->host_ns = now_ns() - t0;
out:
	replay_release_device(&r);
	if (r.tl && ret != TRACE_REPLAY_BAD_INPUT) {
		int err = trace_timeline_write(r.tl, opts->timeline);

		r.line = 0;
		if (err && !ret)
			ret = fail(&r, TRACE_REPLAY_ENV_ERROR, "cannot write %s: %s",
				   opts->timeline, strerror(-err));
	}
	replay_free(&r);
	free(f.text);
	return ret;
}

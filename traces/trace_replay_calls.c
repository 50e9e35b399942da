/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_calls.c - checking and replaying each recorded call.
 *
 * trace_replay_handlers is indexed by enum trace_call_id (traces/trace_calls.h, the table the
 * recorder writes from): per call, an optional check run by validation beyond the numeric keys
 * the shared table lists (arrays, strings, blob references, sizes), and the function that makes
 * the call again on the replay device with the recorded handles and ids mapped to the replay's
 * own (drm-shim's table-driven dispatch). Each handler compares what docs/trace-format.md says
 * it compares, and only when the event lies in the checked window (r->checking).
 *
 * Runs on the caller's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "magma_sim/status_name.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "trace_replay_internal.h"
#include "traces/trace.h"
#include "traces/trace_timeline.h"

/* Fails with @err unless @o's @k is an array, and unless each of its items holds @keys. */
static int check_items(struct replay *r, const cJSON *o, const char *k, const char *const *keys,
		       const char *what, const char *err)
{
	const cJSON *a = member(o, k), *it;
	int ret;

	if (!cJSON_IsArray(a))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "%s", err);
	cJSON_ArrayForEach(it, a)
	{
		ret = trace_reader_check_u64s(r, it, keys, what);
		if (ret)
			return ret;
	}
	return 0;
}

static int check_id_array(struct replay *r, const cJSON *o, const char *k, const char *what)
{
	const cJSON *a = member(o, k), *it;

	if (!cJSON_IsArray(a))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s: \"%s\" missing or not an array", what, k);
	cJSON_ArrayForEach(it, a)
	{
		if (!is_id(it))
			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
						 "%s: \"%s\" holds a non-id", what, k);
	}
	return 0;
}

static int check_blob_ref(struct replay *r, const cJSON *o, const char *k, bool may_be_empty,
			  const char *what)
{
	const char *hex = get_str(o, k);

	if (!hex)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s: \"%s\" missing or not a string", what, k);
	if (may_be_empty && !*hex)
		return 0;
	if (!trace_reader_blob(r, hex))
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"%s: \"%s\" refers to blob %s, which no earlier blob event holds", what, k,
			hex);
	return 0;
}

/* The buffer the trace declared as id @id of recorded connection @conn, or NULL. */
static const struct replay_rec_buffer *rec_buffer(struct replay *r, uint64_t conn, uint64_t id)
{
	const struct replay_ent *e = trace_replay_map_find(&r->rec_bufs, conn, id);

	return e ? trace_replay_vec_at(&r->rec_buffers, e->v) : NULL;
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
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s: recorded size %" PRIu64
					 " is over the limit of %" PRIu64 " bytes",
					 call, size, r->max_size);
	if (!strcmp(call, "create_buffer") && u64(args, "size") > size)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "create_buffer: recorded size %" PRIu64
					 " is less than the %" PRIu64 " bytes asked for",
					 size, u64(args, "size"));
	rb = trace_replay_vec_push(&r->rec_buffers, sizeof(*rb));
	if (!rb || !trace_replay_map_put(&r->rec_bufs, u64(args, "connection"), u64(out, "id"),
					 r->rec_buffers.count - 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
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
	const struct replay_blob *b = trace_reader_blob(r, get_str(res, "contents"));
	const struct replay_rec_buffer *rb;
	uint64_t id = u64(res, "buffer_id"), offset = u64(res, "offset"), len = u64(res, "length");

	if (!b)
		return 0; /* "": the recording could not read the range */
	if (b->size != len)
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"execute_command resource %u: contents blob %s (line %" PRIu64
			") holds %" PRIu64 " bytes, but the range is %" PRIu64 " bytes",
			index, get_str(res, "contents"), b->line, b->size, len);
	rb = rec_buffer(r, u64(args, "connection"), id);
	if (rb && (offset > rb->size || len > rb->size - offset))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
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
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "execute_command: \"resources\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		ret = trace_reader_check_u64s(r, it, res_keys, "execute_command resource");
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
	cJSON_ArrayForEach(it, member(args, "programs"))
	{
		static const char *const prog_keys[] = {"buffer_id", "offset", "length", NULL};

		ret = trace_reader_check_u64s(r, it, prog_keys, "execute_inline program");
		if (!ret)
			ret = check_blob_ref(r, it, "contents", true, "execute_inline program");
		if (ret)
			return ret;
	}
	a = member(args, "commands");
	if (!cJSON_IsArray(a))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "execute_inline: \"commands\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		const struct replay_blob *b;

		ret = trace_reader_check_u64s(r, it, keys, "execute_inline command");
		if (!ret)
			ret = check_blob_ref(r, it, "data", false, "execute_inline command");
		if (!ret)
			ret = check_id_array(r, it, "semaphores", "execute_inline command");
		if (ret)
			return ret;
		b = trace_reader_blob(r, get_str(it, "data"));
		if (b->size != u64(it, "size"))
			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
						 "execute_inline command: size %" PRIu64
						 " but its blob (line %" PRIu64 ") holds %" PRIu64
						 " bytes",
						 u64(it, "size"), b->line, b->size);
		/* Replay passes every command's bytes in one call: bound their sum. */
		if (b->size > limit - total)
			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
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
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "%s", err);
	return check_items(r, args, "items", keys, "poll item", err);
}

/* trace_replay_says_lost - see trace_replay_internal.h. */
bool trace_replay_says_lost(enum trace_call_id id, magma_status_t st)
{
	if (st == MAGMA_STATUS_CONTEXT_KILLED || st == MAGMA_STATUS_CONNECTION_LOST)
		return true;
	return st != MAGMA_STATUS_OK && (id == TRACE_CALL_FLUSH || id == TRACE_CALL_GET_ERROR);
}

/*
 * Checking pass: numbers connections as they are created and notes each one's first call that
 * failed because it was lost (see struct replay, "Early losses").
 */
static int note_connection_end(struct replay *r, enum trace_call_id id, magma_status_t st,
			       const cJSON *args, const cJSON *out)
{
	uint64_t gen;

	if (id == TRACE_CALL_CREATE_CONNECTION && st == MAGMA_STATUS_OK) {
		if (!trace_replay_map_put(&r->check_gen, u64(out, "connection"), 0,
					  ++r->check_gens))
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		return 0;
	}
	if (!trace_replay_says_lost(id, st) || !member(args, "connection") ||
	    !trace_replay_lookup(&r->check_gen, u64(args, "connection"), 0, &gen) ||
	    trace_replay_map_find(&r->conn_lost, gen, 0))
		return 0;
	if (!trace_replay_map_put(&r->conn_lost, gen, 0, r->index))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
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
	/*
	 * The replay's connection died sooner than the recording's: a job's fault, or the service's
	 * hang-up, reached it before this call, which the recording made first. The recording met
	 * the same end at a later call, so calls in between are not compared (counted instead).
	 */
	if (want == MAGMA_STATUS_OK &&
	    (got == MAGMA_STATUS_CONTEXT_KILLED || got == MAGMA_STATUS_CONNECTION_LOST)) {
		uint64_t gen, lost;

		if (trace_replay_lookup(&r->replay_gen, u64(args, "connection"), 0, &gen) &&
		    trace_replay_lookup(&r->conn_lost, gen, 0, &lost) && lost > r->index) {
			r->early_losses++;
			return 0;
		}
	}
	text = cJSON_PrintUnformatted(args);
	ret = trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
				"%s(%.300s): recorded status %s (%d), replay returned %s (%d)",
				call, text ? text : "?", magma_status_name(want), want,
				magma_status_name(got), got);
	free(text);
	return ret;
}

static int missing(struct replay *r, const char *what, uint64_t rec)
{
	return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
				 "refers to %s %" PRIu64
				 ", which the trace never created (or already released)",
				 what, rec);
}

static struct replay_buffer *buffer_by_handle(struct replay *r, uint64_t rec)
{
	uint64_t i;

	return trace_replay_lookup(&r->bufs, rec, 0, &i) ? trace_replay_vec_at(&r->buffers, i)
							 : NULL;
}

/* trace_replay_sem_by_handle - see trace_replay_internal.h. */
struct replay_sem *trace_replay_sem_by_handle(struct replay *r, uint64_t rec)
{
	uint64_t i;

	return trace_replay_lookup(&r->sems, rec, 0, &i) ? trace_replay_vec_at(&r->semaphores, i)
							 : NULL;
}

/*
 * Out pointer @p, or NULL when the recording's client passed NULL for out pointer @bit of the
 * call ("nulls", bit i for the i-th out of trace_calls[id].outs; absent: none was).
 */
#define OUT_OR_NULL(args, bit, p) ((u64((args), "nulls") >> (bit)) & 1 ? NULL : (p))

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
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
						 "cannot create the embedded device");
	}
	/*
	 * A recorded refusal is replayed with a handle of the same kind as far as the status tells:
	 * a stream socket whose peer is gone for CONNECTION_LOST, else a pipe (not a socket at
	 * all).
	 */
	if (status_of(ev) != MAGMA_STATUS_OK) {
		int p[2];

		if (status_of(ev) == MAGMA_STATUS_CONNECTION_LOST
			    ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)
			    : pipe2(p, O_CLOEXEC))
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "%s: %s",
						 "a handle to refuse", strerror(errno));
		close(p[1]);
		st = magma_device_import((magma_handle_t)p[0], &dev);
		if (!st)
			magma_device_release(dev);
		return check_status(r, "device_import", ev, args, st);
	}
	fd = magma_system_embedded_connect(r->emb);
	if (fd < 0)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
					 "cannot connect to the embedded device: %s",
					 strerror(-fd));
	st = magma_device_import((magma_handle_t)fd, &dev);
	if (!st && !trace_replay_map_put(&r->devices, u64(out, "device"), 0, dev))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "device_import", ev, args, st);
}

static int do_device_release(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	uint64_t dev;

	(void)ev;
	(void)out;
	if (!trace_replay_lookup(&r->devices, u64(args, "device"), 0, &dev))
		return 0; /* releasing an unknown device is a no-op for libmagma too */
	magma_device_release(dev);
	trace_replay_map_put(&r->devices, u64(args, "device"), 0, UINT64_MAX);
	return 0;
}

static int do_device_query(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t buf = (magma_handle_t)-1;
	uint64_t dev, value = 0;
	magma_status_t st;

	(void)out;
	if (!trace_replay_lookup(&r->devices, u64(args, "device"), 0, &dev))
		return missing(r, "device", u64(args, "device"));
	st = magma_device_query(dev, u64(args, "id"), u64(args, "buffer") ? &buf : NULL,
				u64(args, "no_value") ? NULL : &value);
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

	if (!trace_replay_lookup(&r->devices, u64(args, "device"), 0, &dev))
		return missing(r, "device", u64(args, "device"));
	st = magma_device_create_connection(dev, OUT_OR_NULL(args, 0, &conn));
	if (!st &&
	    (!trace_replay_map_put(&r->conns, u64(out, "connection"), 0, conn) ||
	     !trace_replay_map_put(&r->replay_gen, u64(out, "connection"), 0, ++r->replay_gens)))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!st)
		r->live_connections++;
	return check_status(r, "create_connection", ev, args, st);
}

/* The replay connection for the recorded "connection" argument, or 0 when unknown. */
static magma_connection_t conn_arg(struct replay *r, const cJSON *args)
{
	uint64_t c = 0;

	trace_replay_lookup(&r->conns, u64(args, "connection"), 0, &c);
	return c;
}

/*
 * trace_replay_await_connection_lost - see trace_replay_internal.h. A feed-forward call learns
 * of a dead connection only once the service has hung up, which host timing decides: the
 * recording saw it by this call, so the replay waits (up to REPLAY_WAIT_NS) for its own
 * connection's notification channel to hang up, which changes nothing else.
 */
void trace_replay_await_connection_lost(struct replay *r, const cJSON *args)
{
	magma_connection_t conn = conn_arg(r, args);
	struct pollfd pfd = {.events = POLLRDHUP};

	if (!conn)
		return;
	pfd.fd = (int)magma_connection_get_notification_channel_handle(conn);
	if (pfd.fd >= 0)
		(void)!poll(&pfd, 1, (int)(REPLAY_WAIT_NS / 1000000));
	/*
	 * The service hangs the notification channel up first and the primary channel after its
	 * teardown: a round trip (get_error) waits for that, so libmagma knows the connection is
	 * lost before the call, as the recording's did.
	 */
	(void)magma_connection_get_error(conn);
}

/* The replay buffer for the recorded "buffer" argument, or 0 when unknown. */
static magma_buffer_t buffer_arg(struct replay *r, const cJSON *args)
{
	struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));

	return b ? b->h : 0;
}

/*
 * One step of polling something the device's threads will change: sleeps *@pause (from 10 us,
 * doubling up to 1 ms) and adds it to *@waited. False once *@waited reached r->wait_ns.
 */
static bool backoff(struct replay *r, struct timespec *pause, uint64_t *waited)
{
	if (*waited >= r->wait_ns)
		return false;
	if (!pause->tv_nsec)
		pause->tv_nsec = 10000;
	nanosleep(pause, NULL);
	*waited += (uint64_t)pause->tv_nsec;
	if (pause->tv_nsec < 1000000)
		pause->tv_nsec *= 2;
	return true;
}

/*
 * Waits until the service has torn down every connection the replay released. Releasing is
 * feed-forward: libmagma hangs up and the connection's thread tears it down on its own time.
 * Only then does the driver free the connection's address-space slot and page-table pages, so a
 * connection that the replay creates next would, depending on which thread got there first, get
 * another slot and other pages, other TLB misses and so other GPU cycles (issue 15: four cycle
 * totals over twelve replays of one recording).
 */
static int settle_released_connections(struct replay *r)
{
	struct magma_system_device *dev = magma_system_embedded_device(r->emb);
	struct timespec pause = {0, 0};
	uint64_t waited = 0;

	while (magma_system_device_connection_count(dev) > r->live_connections)
		if (!backoff(r, &pause, &waited))
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
						 "the replay device did not finish releasing a "
						 "connection within %.3f s",
						 (double)r->wait_ns / 1e9);
	return 0;
}

/* Forgets every recorded channel handle that maps to replay handle @h. */
static void forget_channel(struct replay *r, uint64_t h)
{
	for (size_t i = 0; i < r->chans.cap; i++)
		if (r->chans.e[i].used && r->chans.e[i].v == h)
			r->chans.e[i].v = UINT64_MAX;
}

static int do_connection_release(struct replay *r, const cJSON *ev, const cJSON *args,
				 const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);

	(void)ev;
	(void)out;
	if (!c)
		return 0;
	/*
	 * Its notification channel and its pools' channels close with it: the recorded handle
	 * numbers may come back for other fds.
	 */
	forget_channel(r, (uint64_t)magma_connection_get_notification_channel_handle(c));
	for (size_t i = 0; i < r->pool_handles.cap; i++) {
		const struct replay_ent *e = &r->pool_handles.e[i];

		if (e->used && e->k1 == u64(args, "connection") && e->v != UINT64_MAX)
			trace_replay_map_put(&r->chans, e->v, 0, UINT64_MAX);
	}
	magma_connection_release(c);
	trace_replay_map_put(&r->conns, u64(args, "connection"), 0, UINT64_MAX);
	r->live_connections--;
	return settle_released_connections(r);
}

/*
 * get_error and flush that recorded an error the replay does not have yet (@got OK): errors
 * arrive on the device's threads (a fault found, its context killed, the connection closed), so
 * the replay waits for it up to r->wait_ns, as for a recorded poll. Returns the last status.
 */
static magma_status_t await_error(struct replay *r, const cJSON *ev, magma_connection_t c,
				  magma_status_t got)
{
	struct timespec pause = {0, 0};
	uint64_t waited = 0;

	while (got == MAGMA_STATUS_OK && status_of(ev) != MAGMA_STATUS_OK &&
	       backoff(r, &pause, &waited))
		got = magma_connection_get_error(c);
	return got;
}

static int do_get_error(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);

	(void)out;
	return check_status(r, "get_error", ev, args,
			    await_error(r, ev, c, magma_connection_get_error(c)));
}

static int do_flush(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);

	(void)out;
	return check_status(r, "flush", ev, args, await_error(r, ev, c, magma_connection_flush(c)));
}

static int do_create_context(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	uint32_t ctx = 0;
	magma_status_t st = magma_connection_create_context2(
		conn_arg(r, args), (magma_priority_t)u64(args, "priority"),
		OUT_OR_NULL(args, 0, &ctx));

	struct replay_ent *released;

	if (!st &&
	    !trace_replay_map_put(&r->ctxs, u64(args, "connection"), u64(out, "context"), ctx))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	released = st ? NULL
		      : trace_replay_map_find(&r->ctxs_released, u64(args, "connection"),
					      u64(out, "context"));
	if (released)
		released->v = UINT64_MAX; /* the id is live again */
	return check_status(r, "create_context", ev, args, st);
}

/* The replay context id for recorded context @rec of the recorded connection in @args. */
static uint32_t ctx_of(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t c;

	return trace_replay_lookup(&r->ctxs, u64(args, "connection"), rec, &c) ? (uint32_t)c
									       : (uint32_t)rec;
}

static int do_release_context(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out)
{
	(void)ev;
	(void)out;
	magma_connection_release_context(conn_arg(r, args), ctx_of(r, args, u64(args, "context")));
	/* trace_replay_inert sends nothing to a released context. */
	if (r->opts->skip_inert && !trace_replay_map_put(&r->ctxs_released, u64(args, "connection"),
							 u64(args, "context"), 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

/* trace_replay_buffer_fd - see trace_replay_internal.h. */
int trace_replay_buffer_fd(struct replay *r, const struct replay_buffer *cb)
{
	struct replay_buffer *b = (struct replay_buffer *)cb; /* a record of r->buffers */
	struct replay_buffer *first = trace_replay_vec_at(&r->buffers, 0);
	magma_handle_t fd;

	if (b->fd >= 0 || !b->readable)
		return b->fd;
	if (magma_buffer_get_handle(b->h, &fd) != MAGMA_STATUS_OK)
		return -1;
	if (r->open_count == REPLAY_OPEN_FDS) {
		struct replay_buffer *old =
			trace_replay_vec_at(&r->buffers, r->open_fds[r->open_next]);

		if (old && old->fd >= 0)
			close(old->fd);
		if (old)
			old->fd = -1;
	} else {
		r->open_count++;
	}
	b->fd = (int)fd;
	r->open_fds[r->open_next] = (uint64_t)(b - first);
	r->open_next = (r->open_next + 1) % REPLAY_OPEN_FDS;
	return b->fd;
}

/* Registers replay buffer @h (@id, @size) as recorded buffer @rec_h / id @rec_id of @args' conn. */
static int add_buffer(struct replay *r, const cJSON *args, magma_buffer_t h, uint64_t id,
		      uint64_t size, uint64_t rec_h, uint64_t rec_id)
{
	struct replay_buffer *b = trace_replay_vec_push(&r->buffers, sizeof(*b));
	magma_handle_t fd;

	if (!b)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	b->h = h;
	b->id = id;
	b->rec_id = rec_id;
	b->size = size;
	/* Whether a handle can be had; the fd is opened again when used. */
	b->fd = -1;
	b->readable = magma_buffer_get_handle(h, &fd) == MAGMA_STATUS_OK;
	if (b->readable)
		close((int)fd);
	if (!trace_replay_map_put(&r->bufs, rec_h, 0, r->buffers.count - 1) ||
	    !trace_replay_map_put(&r->buf_ids, u64(args, "connection"), rec_id,
				  r->buffers.count - 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

static int add_semaphore(struct replay *r, const cJSON *args, magma_semaphore_t h, uint64_t id,
			 uint64_t rec_h, uint64_t rec_id)
{
	struct replay_sem *s = trace_replay_vec_push(&r->semaphores, sizeof(*s));

	if (!s)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	s->h = h;
	s->id = id;
	s->foreign_fd = -1;
	s->export_fd = -1;
	s->has_signaler = false;
	if (!trace_replay_map_put(&r->sems, rec_h, 0, r->semaphores.count - 1) ||
	    !trace_replay_map_put(&r->sem_ids, u64(args, "connection"), rec_id,
				  r->semaphores.count - 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

static int do_create_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_buffer_t h = 0;
	uint64_t size = 0, id = 0;
	magma_status_t st;
	int ret;

	st = magma_connection_create_buffer(conn_arg(r, args), u64(args, "size"),
					    OUT_OR_NULL(args, 0, &size), OUT_OR_NULL(args, 1, &h),
					    OUT_OR_NULL(args, 2, &id));
	if (!st && status_of(ev)) {
		/* The recording got no buffer: neither does the rest of the replay. */
		magma_connection_release_buffer(conn_arg(r, args), h);
	} else if (!st) {
		ret = add_buffer(r, args, h, id, size, u64(out, "buffer"), u64(out, "id"));
		if (ret)
			return ret;
		if (r->checking && !status_of(ev) && size != u64(out, "size"))
			return trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
						 "create_buffer(size %" PRIu64
						 "): recorded size %" PRIu64
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
	b->readable = false;
	b->released = true;
	trace_replay_map_put(&r->bufs, u64(args, "buffer"), 0, UINT64_MAX);
	return 0;
}

static int do_create_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_semaphore_t h = 0;
	uint64_t id = 0;
	magma_status_t st = magma_connection_create_semaphore(
		conn_arg(r, args), OUT_OR_NULL(args, 0, &h), OUT_OR_NULL(args, 1, &id));
	int ret = st ? 0 : add_semaphore(r, args, h, id, u64(out, "semaphore"), u64(out, "id"));

	return ret ? ret : check_status(r, "create_semaphore", ev, args, st);
}

static int do_release_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	struct replay_sem *s = trace_replay_sem_by_handle(r, u64(args, "semaphore"));

	(void)ev;
	(void)out;
	if (!s)
		return 0;
	magma_connection_release_semaphore(conn_arg(r, args), s->h);
	if (s->foreign_fd >= 0)
		close(s->foreign_fd);
	s->foreign_fd = -1;
	trace_replay_map_put(&r->sems, u64(args, "semaphore"), 0, UINT64_MAX);
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

/*
 * Notes a mapping the recording made (by its recorded values), so that a fault's address can be
 * named (trace_replay_device.c) and a submission's command buffer found in the address space.
 */
static int note_mapping(struct replay *r, const cJSON *args)
{
	const struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));
	struct replay_mapping *m;
	uint64_t prev = UINT64_MAX;

	if (!b)
		return 0;
	trace_replay_lookup(&r->mapping_of, u64(args, "connection"), b->rec_id, &prev);
	m = trace_replay_vec_push(&r->mappings, sizeof(*m));
	if (!m || !trace_replay_map_put(&r->mapping_of, u64(args, "connection"), b->rec_id,
					r->mappings.count - 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	*m = (struct replay_mapping){.conn = u64(args, "connection"),
				     .va = u64(args, "hw_va"),
				     .length = u64(args, "length"),
				     .offset = u64(args, "offset"),
				     .buffer_id = b->rec_id,
				     .event = r->index,
				     .flags = u64(args, "flags"),
				     .prev = prev};
	return 0;
}

static int do_map_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_status_t st;
	int ret;

	(void)out;
	st = magma_connection_map_buffer(conn_arg(r, args), u64(args, "hw_va"), buffer_arg(r, args),
					 u64(args, "offset"), u64(args, "length"),
					 u64(args, "flags"));
	ret = check_status(r, "map_buffer", ev, args, st);
	if (!ret && status_of(ev) == MAGMA_STATUS_OK)
		ret = note_mapping(r, args);
	return ret;
}

static int do_unmap_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));
	struct replay_mapping *m = NULL;
	uint64_t i;

	(void)ev;
	(void)out;
	magma_connection_unmap_buffer(conn_arg(r, args), u64(args, "hw_va"), buffer_arg(r, args));
	if (b && trace_replay_lookup(&r->mapping_of, u64(args, "connection"), b->rec_id, &i))
		m = trace_replay_vec_at(&r->mappings, i);
	if (m && m->va == u64(args, "hw_va"))
		m->length = 0;
	return 0;
}

/*
 * Notes this submission of recorded connection @conn for tracing a fault back to it: the VA its
 * first command buffer starts at, found through the mapping of its buffer (none: not noted).
 * @rec_ids are the recorded buffer ids of its @nres resources @rs (offsets as recorded), which
 * are noted as listed. *@cmd_va_out is that VA, 0 when not noted (the timeline matches jobs by it).
 */
static int note_submission(struct replay *r, uint64_t conn, const uint64_t *rec_ids,
			   const magma_exec_resource_t *rs, uint32_t nres,
			   const magma_exec_command_buffer_t *cb, uint32_t ncmd,
			   uint64_t *cmd_va_out)
{
	const struct replay_mapping *m;
	uint64_t i, at;

	*cmd_va_out = 0;
	for (i = 0; i < nres; i++)
		if (!trace_replay_map_put(&r->listed, conn, rec_ids[i], 1))
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!ncmd || cb[0].resource_index >= nres ||
	    !trace_replay_lookup(&r->mapping_of, conn, rec_ids[cb[0].resource_index], &i))
		return 0;
	m = trace_replay_vec_at(&r->mappings, i);
	at = rs[cb[0].resource_index].offset + cb[0].start_offset;
	if (!m->length || at < m->offset || at - m->offset >= m->length)
		return 0;
	*cmd_va_out = m->va + (at - m->offset);
	r->cmdbufs[r->cmdbuf_count++ % REPLAY_CMDBUFS_KEPT] =
		(struct replay_cmdbuf){*cmd_va_out, conn, r->index, r->line};
	return trace_replay_timing_job(r, *cmd_va_out, conn);
}

/* Index of the replay semaphore for recorded id @rec of the event's connection. */
static uint64_t sem_index(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t i;

	return trace_replay_lookup(&r->sem_ids, u64(args, "connection"), rec, &i) ? i : UINT64_MAX;
}

static uint64_t buf_index(struct replay *r, const cJSON *args, uint64_t rec)
{
	uint64_t i;

	return trace_replay_lookup(&r->buf_ids, u64(args, "connection"), rec, &i) ? i : UINT64_MAX;
}

static int do_execute(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const cJSON *res = member(args, "resources"), *cmds = member(args, "command_buffers");
	const cJSON *wait = member(args, "wait"), *sig = member(args, "signal"), *it;
	uint32_t nres = (uint32_t)cJSON_GetArraySize(res),
		 ncmd = (uint32_t)cJSON_GetArraySize(cmds);
	uint32_t nwait = (uint32_t)cJSON_GetArraySize(wait),
		 nsig = (uint32_t)cJSON_GetArraySize(sig);
	/* The arrays below in one allocation (one submission after another); 8-byte elements. */
	size_t n_rs = (size_t)nres + 1, n_cb = (size_t)ncmd + 1, n_ids = (size_t)nwait + nsig + 1;
	uint8_t *arrays = calloc(1, n_rs * (sizeof(magma_exec_resource_t) +
					    sizeof(struct replay_range) + sizeof(uint64_t)) +
					    n_cb * sizeof(magma_exec_command_buffer_t) +
					    (n_ids + nsig + 1) * sizeof(uint64_t));
	magma_exec_resource_t *rs = (magma_exec_resource_t *)arrays;
	struct replay_range *ranges = arrays ? (struct replay_range *)(rs + n_rs) : NULL;
	magma_exec_command_buffer_t *cb =
		arrays ? (magma_exec_command_buffer_t *)(ranges + n_rs) : NULL;
	uint64_t *ids = arrays ? (uint64_t *)(cb + n_cb) : NULL;
	uint64_t *sig_idx = arrays ? ids + n_ids : NULL;
	uint64_t *rec_ids = arrays ? sig_idx + nsig + 1 : NULL;
	magma_command_descriptor_t d = {0};
	magma_status_t st;
	uint32_t i = 0, n = 0;
	uint64_t cmd_va;
	size_t tl_token;
	int ret = 0;

	(void)out;
	if (member(args, "invalid")) {
		ret = check_status(r, "execute_command", ev, args,
				   magma_connection_execute_command(conn_arg(r, args), 0, NULL));
		goto out_free;
	}
	if (!arrays) {
		ret = trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		goto out_free;
	}
	cJSON_ArrayForEach(it, res)
	{
		uint64_t bi = buf_index(r, args, u64(it, "buffer_id"));
		struct replay_buffer *b = trace_replay_vec_at(&r->buffers, bi);

		rec_ids[i] = u64(it, "buffer_id");
		rs[i].buffer_id = b ? b->id : rec_ids[i];
		rs[i].offset = u64(it, "offset");
		rs[i].length = u64(it, "length");
		ranges[i] = (struct replay_range){bi, rs[i].offset, rs[i].length};
		if (b)
			trace_replay_restore_resource(r, b, bi, rs[i].offset, rs[i].length,
						      get_str(it, "contents"));
		i++;
	}
	/* Its contents are written: an inert submission needs nothing else (skip_inert). */
	if (trace_replay_inert(r, ev, args)) {
		r->res->skipped++;
		goto out_free;
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
		struct replay_sem *s =
			trace_replay_vec_at(&r->semaphores, sem_index(r, args, item_u64(it)));

		ids[n++] = s ? s->id : item_u64(it);
	}
	i = 0;
	cJSON_ArrayForEach(it, sig)
	{
		uint64_t si = sem_index(r, args, item_u64(it));
		struct replay_sem *s = trace_replay_vec_at(&r->semaphores, si);

		sig_idx[i++] = si;
		ids[n++] = s ? s->id : item_u64(it);
		if (s)
			s->has_signaler = true;
	}
	d.resource_count = nres;
	d.command_buffer_count = ncmd;
	d.wait_semaphore_count = nwait;
	d.signal_semaphore_count = nsig;
	d.resources = rs;
	d.command_buffers = cb;
	d.semaphore_ids = ids;
	d.flags = u64(args, "flags");
	ret = note_submission(r, u64(args, "connection"), rec_ids, rs, nres, cb, ncmd, &cmd_va);
	if (ret)
		goto out_free;
	tl_token = trace_timeline_submit(r->tl, u64(args, "connection"),
					 (uint32_t)u64(args, "context"), cmd_va);
	st = magma_connection_execute_command(conn_arg(r, args),
					      ctx_of(r, args, u64(args, "context")), &d);
	if (st)
		trace_timeline_cancel(r->tl, tl_token);
	r->res->submissions++;
	r->res->checked_submissions += r->checking;
	ret = check_status(r, "execute_command", ev, args, st);
	if (!ret && !st)
		ret = trace_replay_burst_add(r, ranges, nres);
	if (!ret && !st && nsig)
		ret = trace_replay_remember_submission(r, r->index, sig_idx, nsig, ranges, nres);
out_free:
	free(arrays);
	return ret;
}

/*
 * An inline submission's "programs" (its connection's executable mappings as they were when it
 * was sent: kernels its DISPATCHes run, which no resource list captured) written back first.
 */
static void restore_programs(struct replay *r, const cJSON *args)
{
	const cJSON *it;
	uint64_t i;

	cJSON_ArrayForEach(it, member(args, "programs"))
	{
		const struct replay_buffer *b;

		if (!trace_replay_lookup(&r->buf_ids, u64(args, "connection"), u64(it, "buffer_id"),
					 &i))
			continue;
		b = trace_replay_vec_at(&r->buffers, i);
		if (b)
			trace_replay_restore_range(r, b, u64(it, "offset"), u64(it, "length"),
						   get_str(it, "contents"));
	}
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
	restore_programs(r, args);
	cJSON_ArrayForEach(it, cmds) total +=
		(uint32_t)cJSON_GetArraySize(member(it, "semaphores"));
	ids = calloc(total + 1, sizeof(uint64_t));
	idx = calloc(total + 1, sizeof(uint64_t));
	if (!c || !ids || !idx) {
		ret = trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		goto out_free;
	}
	total = 0;
	cJSON_ArrayForEach(it, cmds)
	{
		const struct replay_blob *b = trace_reader_blob(r, get_str(it, "data"));

		c[i].data = trace_replay_blob_bytes(r, b);
		c[i].size = b->size;
		if (!c[i].data) {
			ret = r->error ? r->error
				       : trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
							   "out of memory (%" PRIu64
							   "-byte inline command)",
							   b->size);
			goto out_free;
		}
		c[i].semaphore_ids = ids + total;
		cJSON_ArrayForEach(s, member(it, "semaphores"))
		{
			uint64_t si = sem_index(r, args, item_u64(s));
			struct replay_sem *sem = trace_replay_vec_at(&r->semaphores, si);

			if (sem)
				sem->has_signaler = true;
			idx[total] = si;
			ids[total++] = sem ? sem->id : item_u64(s);
			c[i].semaphore_count++;
		}
		i++;
	}
	st = magma_connection_execute_inline_commands(conn_arg(r, args),
						      ctx_of(r, args, u64(args, "context")), n, c);
	r->res->submissions += n;
	r->res->checked_submissions += r->checking ? n : 0;
	ret = check_status(r, "execute_inline", ev, args, st);
	if (!ret && !st && total)
		ret = trace_replay_remember_submission(r, r->index, idx, total, NULL, 0);
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
	uint32_t n = (uint32_t)cJSON_GetArraySize(items), i = 0, mapped = 0;
	magma_poll_item_t *p = calloc(n + 1, sizeof(*p));
	magma_status_t want = status_of(ev), st;
	int ret = 0;

	if (!p)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (member(args, "invalid")) {
		free(p);
		return check_status(r, "poll", ev, args, magma_poll(NULL, 1, 0));
	}
	cJSON_ArrayForEach(it, items)
	{
		struct replay_sem *s = trace_replay_sem_by_handle(r, u64(it, "object"));

		p[i].type = (uint32_t)u64(it, "type");
		uint64_t h;

		/* Handles that the trace did not obtain (unknown fds) are ignored. */
		if (p[i].type == MAGMA_POLL_TYPE_SEMAPHORE && s) {
			p[i].semaphore = s->h;
			p[i].condition = (uint32_t)u64(it, "condition");
		} else if (p[i].type == MAGMA_POLL_TYPE_HANDLE &&
			   (trace_replay_lookup(&r->chans, u64(it, "object"), 0, &h) ||
			    trace_replay_lookup(&r->handles, u64(it, "object"), 0, &h))) {
			p[i].handle = (magma_handle_t)h;
			p[i].condition = (uint32_t)u64(it, "condition");
		}
		mapped += p[i].condition != 0;
		i++;
	}
	/* Only handles the trace did not obtain: nothing the replay can wait on; not compared. */
	if (n && !mapped) {
		free(p);
		return 0;
	}
	trace_replay_signal_outside(r, items, member(out, "results"));
	/* A poll that succeeded is given time to succeed again; a timed-out one is only probed. */
	if (want == MAGMA_STATUS_OK) {
		st = trace_replay_wait(r, p, n, r->wait_ns, &ret);
		if (!ret)
			ret = check_status(r, "poll", ev, args, st);
	} else {
		magma_poll(p, n, 0);
	}
	free(p);
	return ret;
}

static int do_semaphore_signal(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	struct replay_sem *s = trace_replay_sem_by_handle(r, u64(args, "semaphore"));

	(void)ev;
	(void)out;
	if (s)
		magma_semaphore_signal(s->h);
	return 0;
}

static int do_semaphore_reset(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out)
{
	struct replay_sem *s = trace_replay_sem_by_handle(r, u64(args, "semaphore"));

	(void)ev;
	(void)out;
	if (s)
		magma_semaphore_reset(s->h);
	return 0;
}

static int do_get_channel(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t h = magma_connection_get_notification_channel_handle(conn_arg(r, args));

	(void)ev;
	if (!trace_replay_map_put(&r->chans, u64(out, "handle"), 0, h))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
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
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"read_notification: buffer_size over 16 MiB is not supported");
	if (!get_u64(out, "size", &size) || !size || !get_str(out, "data") ||
	    !*get_str(out, "data"))
		return 0;
	ret = check_blob_ref(r, out, "data", false, "read_notification");
	b = ret ? NULL : trace_reader_blob(r, get_str(out, "data"));
	if (b && (b->size != size || size > u64(args, "buffer_size")))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "read_notification: read %" PRIu64
					 " bytes into a buffer of %" PRIu64
					 ", but its blob (line %" PRIu64 ") holds %" PRIu64,
					 size, u64(args, "buffer_size"), b->line, b->size);
	return ret;
}

static int do_read_notification(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	magma_connection_t c = conn_arg(r, args);
	uint64_t cap = u64(args, "buffer_size"), size = 0, want = u64(out, "size");
	const struct replay_blob *blob = trace_reader_blob(r, get_str(out, "data"));
	uint8_t *buf = malloc(cap ? cap : 1);
	magma_bool_t more = 0;
	magma_status_t st;
	int ret;

	if (!buf)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (!status_of(ev) && want) {
		/* The recording found a notification: give the replay time to produce it. */
		magma_poll_item_t p[2] = {{.type = MAGMA_POLL_TYPE_HANDLE,
					   .condition = MAGMA_POLL_CONDITION_READABLE}};

		p[0].handle = magma_connection_get_notification_channel_handle(c);
		trace_replay_wait(r, p, 1, r->wait_ns, &ret);
		if (ret) {
			free(buf);
			return ret;
		}
	}
	/* "nulls": the pointers the client passed as NULL (1 buffer, 2 size, 4 more). */
	st = magma_connection_read_notification_channel(
		c, cap && !(u64(args, "nulls") & 1) ? buf : NULL, cap,
		u64(args, "nulls") & 2 ? NULL : &size, u64(args, "nulls") & 4 ? NULL : &more);
	ret = check_status(r, "read_notification", ev, args, st);
	if (!ret && r->checking && !st && want &&
	    (size != want || (blob && !trace_replay_blob_equals(r, blob, buf, size))))
		ret = trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
					"read_notification: recorded a %" PRIu64
					"-byte notification (blob %s), replay read %" PRIu64
					" bytes%s",
					want, get_str(out, "data"), size,
					size == want ? " with other contents" : "");
	free(buf);
	return ret;
}

static int do_import_buffer(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	int fail, ret;
	magma_handle_t fd = trace_replay_import_handle(r, ev, args, out, false, &fail, NULL);
	magma_buffer_t h = 0;
	uint64_t size = 0, id = 0;
	magma_status_t st;

	if (fail)
		return fail;
	st = magma_connection_import_buffer(conn_arg(r, args), fd, OUT_OR_NULL(args, 0, &size),
					    OUT_OR_NULL(args, 1, &h), OUT_OR_NULL(args, 2, &id));
	ret = st ? 0 : add_buffer(r, args, h, id, size, u64(out, "buffer"), u64(out, "id"));

	return ret ? ret : check_status(r, "import_buffer", ev, args, st);
}

static int do_import_semaphore(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	int fail, foreign;
	magma_handle_t fd = trace_replay_import_handle(r, ev, args, out, true, &fail, &foreign);
	magma_semaphore_t h = 0;
	uint64_t id = 0;
	magma_status_t st;
	int ret;

	if (fail)
		return fail;
	st = magma_connection_import_semaphore2(conn_arg(r, args), fd, u64(args, "flags"),
						OUT_OR_NULL(args, 0, &h),
						OUT_OR_NULL(args, 1, &id));
	ret = st ? 0 : add_semaphore(r, args, h, id, u64(out, "semaphore"), u64(out, "id"));
	if (!st && !ret && foreign >= 0) {
		struct replay_sem *s = trace_replay_vec_at(&r->semaphores, r->semaphores.count - 1);

		s->foreign_fd = foreign;
	} else if (foreign >= 0) {
		close(foreign);
	}
	return ret ? ret : check_status(r, "import_semaphore", ev, args, st);
}

/* Remembers fd @h that an export returned as the recorded "handle" output, then compares @st. */
static int put_export(struct replay *r, const char *call, const cJSON *ev, const cJSON *args,
		      const cJSON *out, magma_status_t st, magma_handle_t h)
{
	if (!st && !trace_replay_map_put(&r->handles, u64(out, "handle"), 0, h)) {
		close((int)h);
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	}
	return check_status(r, call, ev, args, st);
}

static int do_buffer_export(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	magma_handle_t h = 0;
	magma_status_t st = magma_buffer_export(buffer_arg(r, args), OUT_OR_NULL(args, 0, &h));

	return put_export(r, "buffer_export", ev, args, out, st, h);
}

static int do_semaphore_export(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	struct replay_sem *s = trace_replay_sem_by_handle(r, u64(args, "semaphore"));
	magma_handle_t h = 0;
	magma_status_t st = magma_semaphore_export(s ? s->h : 0, OUT_OR_NULL(args, 0, &h));

	if (!st && s) {
		s->export_rec = u64(out, "handle");
		s->export_fd = (int)h;
	}
	return put_export(r, "semaphore_export", ev, args, out, st, h);
}

static int do_buffer_get_info(struct replay *r, const cJSON *ev, const cJSON *args,
			      const cJSON *out)
{
	magma_buffer_info_t info;

	(void)out;
	return check_status(
		r, "buffer_get_info", ev, args,
		magma_buffer_get_info(buffer_arg(r, args), OUT_OR_NULL(args, 0, &info)));
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
	magma_status_t st =
		magma_buffer_get_cache_policy(buffer_arg(r, args), OUT_OR_NULL(args, 0, &policy));
	int ret = check_status(r, "buffer_get_cache_policy", ev, args, st);

	if (!ret && !st && r->checking && policy != u64(out, "policy"))
		ret = trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
					"buffer_get_cache_policy: recorded policy %" PRIu64
					", replay got %u",
					u64(out, "policy"), policy);
	return ret;
}

/* A clean's recorded contents (optional) must name a blob. */
static int check_clean_cache(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)ev;
	(void)out;
	return member(args, "contents")
		       ? check_blob_ref(r, args, "contents", true, "buffer_clean_cache")
		       : 0;
}

static int do_clean_cache(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	const struct replay_buffer *b = buffer_by_handle(r, u64(args, "buffer"));
	const struct replay_blob *blob = trace_reader_blob(r, get_str(args, "contents"));

	(void)out;
	/* The CPU stores the client made visible here (the recorder's "contents"). */
	if (b && blob)
		trace_replay_restore_range(r, b, u64(args, "offset"), blob->size,
					   get_str(args, "contents"));
	return check_status(r, "buffer_clean_cache", ev, args,
			    magma_buffer_clean_cache(buffer_arg(r, args), u64(args, "offset"),
						     u64(args, "size"),
						     (uint32_t)u64(args, "operation")));
}

static int check_set_name(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)ev;
	(void)out;
	return get_str(args, "name")
		       ? 0
		       : trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
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

static int do_init_tracing(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(r, "initialize_tracing", ev, args,
			    magma_initialize_tracing((magma_handle_t)null_fd()));
}

static int do_init_logging(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	(void)out;
	return check_status(r, "initialize_logging", ev, args,
			    magma_initialize_logging((magma_handle_t)null_fd()));
}

static int do_perf_access(struct replay *r, const cJSON *ev, const cJSON *args, const cJSON *out)
{
	/*
	 * Granted in the recording: present the replay device's token; refused as not a handle at
	 * all (INTERNAL_ERROR): no handle either; else a file that is not the token.
	 */
	int fd = status_of(ev) == MAGMA_STATUS_OK && r->emb
			 ? magma_system_embedded_perf_token(r->emb)
		 : status_of(ev) == MAGMA_STATUS_INTERNAL_ERROR ? -1
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
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "\"counters\" missing or not an array");
	cJSON_ArrayForEach(it, a)
	{
		if (!is_id(it))
			return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
						 "\"counters\" holds a non-id");
	}
	return 0;
}

/* perf_enable_counters (@enable) and perf_clear_counters. */
static int perf_counters(struct replay *r, bool enable, const cJSON *ev, const cJSON *args)
{
	const char *call = enable ? "perf_enable_counters" : "perf_clear_counters";
	const cJSON *a = member(args, "counters"), *it;
	uint64_t n = member(args, "invalid") ? 0 : (uint64_t)cJSON_GetArraySize(a), i = 0;
	uint64_t *ids = member(args, "invalid") ? NULL : calloc(n + 1, sizeof(uint64_t));
	magma_status_t st;

	if (!member(args, "invalid") && !ids)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (ids)
		cJSON_ArrayForEach(it, a) ids[i++] = item_u64(it);
	else
		n = u64(args, "count");
	if (enable)
		st = magma_connection_enable_performance_counters(conn_arg(r, args), ids, n);
	else
		st = magma_connection_clear_performance_counters(conn_arg(r, args), ids, n);
	free(ids);
	return check_status(r, call, ev, args, st);
}

static int do_perf_enable_counters(struct replay *r, const cJSON *ev, const cJSON *args,
				   const cJSON *out)
{
	(void)out;
	return perf_counters(r, true, ev, args);
}

static int do_perf_clear_counters(struct replay *r, const cJSON *ev, const cJSON *args,
				  const cJSON *out)
{
	(void)out;
	return perf_counters(r, false, ev, args);
}

/* The replay pool of recorded pool @rec of the recorded connection (@rec itself if unknown). */
static uint64_t pool_arg(struct replay *r, const cJSON *args)
{
	uint64_t p = u64(args, "pool");

	trace_replay_lookup(&r->pools, u64(args, "connection"), u64(args, "pool"), &p);
	return p;
}

static int do_perf_create_pool(struct replay *r, const cJSON *ev, const cJSON *args,
			       const cJSON *out)
{
	magma_perf_count_pool_t pool = 0;
	magma_handle_t h = 0;
	magma_status_t st;

	/* "nulls": the out pointers the client passed as NULL (1 the pool, 2 the handle). */
	st = magma_connection_create_performance_counter_buffer_pool(
		conn_arg(r, args), u64(args, "nulls") & 1 ? NULL : &pool,
		u64(args, "nulls") & 2 ? NULL : &h);
	if (!st &&
	    (!trace_replay_map_put(&r->pools, u64(args, "connection"), u64(out, "pool"), pool) ||
	     !trace_replay_map_put(&r->pool_handles, u64(args, "connection"), u64(out, "pool"),
				   u64(out, "handle")) ||
	     !trace_replay_map_put(&r->chans, u64(out, "handle"), 0, h)))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return check_status(r, "perf_create_pool", ev, args, st);
}

static int do_perf_release_pool(struct replay *r, const cJSON *ev, const cJSON *args,
				const cJSON *out)
{
	magma_status_t st = magma_connection_release_performance_counter_buffer_pool(
		conn_arg(r, args), pool_arg(r, args));
	uint64_t rec;

	(void)out;
	if (trace_replay_lookup(&r->pool_handles, u64(args, "connection"), u64(args, "pool"), &rec))
		trace_replay_map_put(&r->chans, rec, 0, UINT64_MAX); /* closed with the pool */
	trace_replay_map_put(&r->pool_handles, u64(args, "connection"), u64(args, "pool"),
			     UINT64_MAX);
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
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (o) {
		cJSON_ArrayForEach(it, a)
		{
			uint64_t bi = buf_index(r, args, u64(it, "buffer_id"));
			struct replay_buffer *b =
				bi == UINT64_MAX ? NULL : trace_replay_vec_at(&r->buffers, bi);

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
	    trace_replay_lookup(&r->pool_handles, u64(args, "connection"), u64(args, "pool"), &h) &&
	    trace_replay_lookup(&r->chans, h, 0, &h)) {
		/* The recording read a completion: give the replay time to produce it. */
		magma_poll_item_t p[2] = {{.type = MAGMA_POLL_TYPE_HANDLE,
					   .condition = MAGMA_POLL_CONDITION_READABLE,
					   .handle = (magma_handle_t)h}};

		trace_replay_wait(r, p, 1, r->wait_ns, &ret);
		if (ret)
			return ret;
	}
	/* "nulls": the out pointers the client passed as NULL (bit i: the i-th). */
	st = magma_connection_read_performance_counter_completion(
		conn_arg(r, args), pool_arg(r, args), u64(args, "nulls") & 1 ? NULL : &trigger,
		u64(args, "nulls") & 2 ? NULL : &buffer_id, u64(args, "nulls") & 4 ? NULL : &offset,
		u64(args, "nulls") & 8 ? NULL : &time, u64(args, "nulls") & 16 ? NULL : &flags);
	if (status_of(ev) == MAGMA_STATUS_TIMED_OUT)
		return 0; /* nothing was pending when recorded: timing, not compared */
	ret = check_status(r, "perf_read_completion", ev, args, st);
	bi = buf_index(r, args, want_id);
	if (bi != UINT64_MAX)
		want_id = ((struct replay_buffer *)trace_replay_vec_at(&r->buffers, bi))->id;
	if (!ret && r->checking && !st &&
	    (trigger != u64(out, "trigger") || buffer_id != want_id ||
	     offset != u64(out, "offset") || flags != u64(out, "flags")))
		ret = trace_replay_fail(
			r, TRACE_REPLAY_DIVERGED,
			"perf_read_completion: recorded trigger %" PRIu64 " buffer id %" PRIu64
			" offset %" PRIu64 " flags %" PRIu64 ", replay read trigger %" PRIu32
			" buffer id %" PRIu64 " offset %" PRIu32 " flags %" PRIu32,
			u64(out, "trigger"), u64(out, "buffer_id"), u64(out, "offset"),
			u64(out, "flags"), trigger, buffer_id, offset, flags);
	return ret;
}

/* clang-format off */
const struct replay_handler trace_replay_handlers[TRACE_CALL_COUNT] = {
	[TRACE_CALL_DEVICE_IMPORT] = {NULL, do_device_import},
	[TRACE_CALL_DEVICE_RELEASE] = {NULL, do_device_release},
	[TRACE_CALL_DEVICE_QUERY] = {NULL, do_device_query},
	[TRACE_CALL_CREATE_CONNECTION] = {NULL, do_create_connection},
	[TRACE_CALL_CONNECTION_RELEASE] = {NULL, do_connection_release},
	[TRACE_CALL_GET_ERROR] = {NULL, do_get_error},
	[TRACE_CALL_FLUSH] = {NULL, do_flush},
	[TRACE_CALL_CREATE_CONTEXT] = {NULL, do_create_context},
	[TRACE_CALL_RELEASE_CONTEXT] = {NULL, do_release_context},
	[TRACE_CALL_CREATE_BUFFER] = {check_new_buffer, do_create_buffer},
	[TRACE_CALL_RELEASE_BUFFER] = {NULL, do_release_buffer},
	[TRACE_CALL_CREATE_SEMAPHORE] = {NULL, do_create_semaphore},
	[TRACE_CALL_RELEASE_SEMAPHORE] = {NULL, do_release_semaphore},
	[TRACE_CALL_BUFFER_OP] = {NULL, do_buffer_op},
	[TRACE_CALL_MAP_BUFFER] = {NULL, do_map_buffer},
	[TRACE_CALL_UNMAP_BUFFER] = {NULL, do_unmap_buffer},
	[TRACE_CALL_EXECUTE_COMMAND] = {check_execute, do_execute},
	[TRACE_CALL_EXECUTE_INLINE] = {check_inline, do_execute_inline},
	[TRACE_CALL_POLL] = {check_poll, do_poll},
	[TRACE_CALL_SEMAPHORE_SIGNAL] = {NULL, do_semaphore_signal},
	[TRACE_CALL_SEMAPHORE_RESET] = {NULL, do_semaphore_reset},
	[TRACE_CALL_GET_NOTIFICATION_CHANNEL] = {NULL, do_get_channel},
	[TRACE_CALL_READ_NOTIFICATION] = {check_read_notification, do_read_notification},
	[TRACE_CALL_BUFFER_EXPORT] = {NULL, do_buffer_export},
	[TRACE_CALL_SEMAPHORE_EXPORT] = {NULL, do_semaphore_export},
	[TRACE_CALL_IMPORT_BUFFER] = {check_new_buffer, do_import_buffer},
	[TRACE_CALL_IMPORT_SEMAPHORE] = {NULL, do_import_semaphore},
	[TRACE_CALL_BUFFER_GET_INFO] = {NULL, do_buffer_get_info},
	[TRACE_CALL_BUFFER_SET_CACHE_POLICY] = {NULL, do_set_cache_policy},
	[TRACE_CALL_BUFFER_GET_CACHE_POLICY] = {NULL, do_get_cache_policy},
	[TRACE_CALL_BUFFER_CLEAN_CACHE] = {check_clean_cache, do_clean_cache},
	[TRACE_CALL_BUFFER_SET_NAME] = {check_set_name, do_set_name},
	[TRACE_CALL_ENUMERATE_DEVICES] = {NULL, do_enumerate},
	[TRACE_CALL_BUFFER_GET_HANDLE] = {NULL, do_get_handle},
	[TRACE_CALL_INITIALIZE_TRACING] = {NULL, do_init_tracing},
	[TRACE_CALL_INITIALIZE_LOGGING] = {NULL, do_init_logging},
	[TRACE_CALL_PERF_ENABLE_ACCESS] = {NULL, do_perf_access},
	[TRACE_CALL_PERF_ENABLE_COUNTERS] = {check_counters, do_perf_enable_counters},
	[TRACE_CALL_PERF_CLEAR_COUNTERS] = {check_counters, do_perf_clear_counters},
	[TRACE_CALL_PERF_CREATE_POOL] = {NULL, do_perf_create_pool},
	[TRACE_CALL_PERF_RELEASE_POOL] = {NULL, do_perf_release_pool},
	[TRACE_CALL_PERF_ADD_OFFSETS] = {check_offsets, do_perf_add_offsets},
	[TRACE_CALL_PERF_REMOVE_BUFFER] = {NULL, do_perf_remove_buffer},
	[TRACE_CALL_PERF_DUMP] = {NULL, do_perf_dump},
	[TRACE_CALL_PERF_READ_COMPLETION] = {NULL, do_perf_read_completion},
};
/* clang-format on */

/* trace_replay_check_call - see trace_replay_internal.h. */
int trace_replay_check_call(struct replay *r, const cJSON *ev, enum trace_call_id *id_out)
{
	const char *name = get_str(ev, "call");
	const cJSON *args = member(ev, "args"), *out = member(ev, "out");
	const struct trace_call *c;
	int64_t st = 0;
	int id, ret;

	if (!name)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "call: \"call\" missing or not a string");
	id = trace_call_find(name, strlen(name));
	if (id < 0)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "unknown call \"%.64s\"", name);
	c = &trace_calls[id];
	if (!cJSON_IsObject(args) || !cJSON_IsObject(out))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s: \"args\" or \"out\" is not an object", name);
	if (c->has_result && !get_status(ev, &st))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s: \"result\" missing or not an integer", name);
	if (!member(args, "invalid")) {
		ret = trace_reader_check_u64s(r, args, c->args, name);
		if (ret)
			return ret;
	}
	if (c->has_result && !st) {
		ret = trace_reader_check_u64s(r, out, c->outs, name);
		if (ret)
			return ret;
	}
	ret = note_connection_end(r, (enum trace_call_id)id, c->has_result ? st : 0, args, out);
	if (ret)
		return ret;
	if (trace_replay_handlers[id].check) {
		ret = trace_replay_handlers[id].check(r, ev, args, out);
		if (ret)
			return ret;
	}
	*id_out = (enum trace_call_id)id;
	return 0;
}

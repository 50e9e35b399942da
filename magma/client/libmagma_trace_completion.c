/* SPDX-License-Identifier: MIT */
/*
 * libmagma_trace_completion.c - the recorder's "completion" events: which submissions the client
 * saw finish, and what their resource ranges held then (docs/trace-format.md, "completion").
 *
 * Submissions with signal semaphores are remembered; after magma_poll or
 * magma_connection_flush returns, each one whose signal semaphores are all signaled gets a
 * completion event with the digests of its resource ranges (and, with MAGMA_TRACE_CONTENTS=1,
 * their contents as blobs). A range whose buffer the GPU may write and that a submission still
 * pending also lists is "unsettled": it gets no digest.
 *
 * Threads: any; trace_lock guards the pending list and is taken before a connection's lock,
 * never after.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmagma_trace.h"

/* At most this many submissions wait for their completion; older ones are dropped. */
#define LIBMAGMA_TRACE_MAX_PENDING 4096

struct libmagma_trace_pending {
	uint64_t connection; /* the client's magma_connection_t */
	uint64_t seq;	     /* the submission's event */
	uint32_t signal_count;
	uint32_t resource_count;
	bool done; /* trace_check_completions: its signal semaphores are all signaled */
	uint64_t *signal_ids;
	magma_exec_resource_t *resources;
	struct libmagma_trace_pending *next;
};

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static struct libmagma_trace_pending *pending_head; /* guarded by trace_lock */
static uint32_t pending_count;			    /* guarded by trace_lock */
/* Pending submissions not finished at the last check (its first pass): guarded by trace_lock. */
static uint32_t pending_undone;

static bool trace_sem_signaled_locked(struct libmagma_connection *conn, uint64_t id)
{
	struct libmagma_semaphore *sem;
	struct pollfd pfd = {.events = POLLIN};

	for (sem = conn->semaphores; sem; sem = sem->next)
		if (sem->id == id)
			break;
	if (!sem)
		return false;
	pfd.fd = sem->fd;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void trace_pending_free(struct libmagma_trace_pending *p)
{
	free(p->signal_ids);
	free(p->resources);
	free(p);
}

/* libmagma_trace_pending_add - see libmagma_trace.h. */
void libmagma_trace_pending_add(uint64_t connection, uint64_t seq, const uint64_t *signal_ids,
				uint32_t signal_count, const magma_exec_resource_t *res,
				uint32_t resource_count)
{
	struct libmagma_trace_pending *p = calloc(1, sizeof(*p)), **pp;

	if (!p)
		return;
	p->connection = connection;
	p->seq = seq;
	p->signal_count = signal_count;
	p->resource_count = resource_count;
	p->signal_ids = malloc(sizeof(uint64_t) * (signal_count ? signal_count : 1));
	p->resources = malloc(sizeof(*res) * (resource_count ? resource_count : 1));
	if (!p->signal_ids || !p->resources) {
		trace_pending_free(p);
		return;
	}
	memcpy(p->signal_ids, signal_ids, sizeof(uint64_t) * signal_count);
	if (resource_count)
		memcpy(p->resources, res, sizeof(*res) * resource_count);
	pthread_mutex_lock(&trace_lock);
	if (pending_count == LIBMAGMA_TRACE_MAX_PENDING) {
		struct libmagma_trace_pending *old = pending_head;

		pending_head = old->next;
		trace_pending_free(old);
		pending_count--;
	}
	for (pp = &pending_head; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	pending_count++;
	pthread_mutex_unlock(&trace_lock);
}

/*
 * Whether completions also store their ranges' contents as blobs (MAGMA_TRACE_CONTENTS set and
 * not "0"), so that replay can name the bytes that differ and not just the digest. Read at every
 * check: a test may set it between recordings.
 */
static bool trace_completion_contents(void)
{
	const char *v = getenv("MAGMA_TRACE_CONTENTS");

	return v && *v && strcmp(v, "0");
}

/* Whether pending submission @q lists a range of buffer @id overlapping [@offset, +@length). */
static bool trace_pending_touches(const struct libmagma_trace_pending *q, uint64_t id,
				  uint64_t offset, uint64_t length)
{
	for (uint32_t i = 0; i < q->resource_count; i++) {
		const magma_exec_resource_t *r = &q->resources[i];

		if (r->buffer_id == id && r->offset < offset + length &&
		    offset < r->offset + r->length)
			return true;
	}
	return false;
}

/*
 * Whether range @r (of buffer @buf, NULL when unknown) of a finished submission is unsettled: the
 * GPU may write the buffer (it was mapped writable) and a submission still pending (its signal
 * semaphores not all signaled) lists an overlapping range of it, so the range's contents depend
 * on how far that one got when the client looked (it may have run and not yet been reported).
 * Such a range gets no digest; its index is listed as "unsettled". trace_lock held.
 */
static bool trace_range_unsettled_locked(const struct libmagma_buffer *buf,
					 const magma_exec_resource_t *r)
{
	if (!pending_undone || (buf && !buf->gpu_writable))
		return false; /* nothing still runs, or read-only to the GPU (most command buffers)
			       */
	for (const struct libmagma_trace_pending *q = pending_head; q; q = q->next)
		if (!q->done && trace_pending_touches(q, r->buffer_id, r->offset, r->length))
			return true;
	return false;
}

/*
 * The completion event's "resources" (and "unsettled") body for finished submission @p of
 * @conn (locked), with contents blobs on @contents when non-NULL. Caller frees.
 */
static char *trace_completion_ranges_locked(struct libmagma_connection *conn,
					    const struct libmagma_trace_pending *p,
					    struct trace_writer *contents)
{
	size_t cap = 64 + (size_t)p->resource_count * 120, len = 0, ul = 0;
	char *list = malloc(cap), *unsettled = malloc(16 + (size_t)p->resource_count * 12);

	if (!list || !unsettled) {
		free(list);
		free(unsettled);
		return NULL;
	}
	unsettled[0] = '\0';
	for (uint32_t i = 0; i < p->resource_count; i++) {
		const magma_exec_resource_t *r = &p->resources[i];
		const struct libmagma_buffer *buf =
			libmagma_trace_buffer_locked(conn, r->buffer_id);
		uint64_t d = 0;
		char hex[17];

		if (trace_range_unsettled_locked(buf, r)) {
			ul += (size_t)sprintf(unsettled + ul, "%s%" PRIu32, ul ? "," : "", i);
			continue;
		}
		if (!buf || !libmagma_trace_buffer_digest(buf, r->offset, r->length, contents, &d))
			continue;
		trace_digest_hex(d, hex);
		len += (size_t)snprintf(list + len, cap - len,
					"%s{\"index\":%" PRIu32 ",\"buffer_id\":%" PRIu64
					",\"digest\":\"%s\"}",
					len ? "," : "", i, r->buffer_id, hex);
	}
	snprintf(list + len, cap - len, "]%s%s%s", ul ? ",\"unsettled\":[" : "", unsettled,
		 ul ? "]" : "");
	free(unsettled);
	return list;
}

/*
 * Records a completion for every pending submission whose signal semaphores are all signaled,
 * with the contents of its ranges when trace_completion_contents() says so. Two passes: which
 * ones finished is decided first, so that a range shared with one still running is known to be
 * unsettled (trace_range_unsettled_locked).
 */
void libmagma_trace_check_completions(struct trace_writer *w)
{
	struct libmagma_trace_pending **pp, *p;
	struct trace_writer *contents = trace_completion_contents() ? w : NULL;

	pthread_mutex_lock(&trace_lock);
	pending_undone = 0;
	for (p = pending_head; p; p = p->next) {
		struct libmagma_connection *conn = libmagma_connection_get(p->connection);

		p->done = true;
		if (!conn)
			continue; /* released: dropped without an event */
		pthread_mutex_lock(&conn->lock);
		for (uint32_t i = 0; i < p->signal_count && p->done; i++)
			p->done = trace_sem_signaled_locked(conn, p->signal_ids[i]);
		pthread_mutex_unlock(&conn->lock);
		pending_undone += !p->done;
	}
	pp = &pending_head;
	while ((p = *pp)) {
		struct libmagma_connection *conn;
		char *list = NULL;

		if (!p->done) {
			pp = &p->next;
			continue;
		}
		conn = libmagma_connection_get(p->connection);
		if (conn) {
			pthread_mutex_lock(&conn->lock);
			list = trace_completion_ranges_locked(conn, p, contents);
			pthread_mutex_unlock(&conn->lock);
			trace_writer_event(w,
					   "\"type\":\"completion\",\"connection\":%" PRIu64
					   ",\"submission\":%" PRIu64 ",\"resources\":[%s",
					   p->connection, p->seq, list ? list : "]");
		}
		free(list);
		*pp = p->next;
		trace_pending_free(p);
		pending_count--;
	}
	pthread_mutex_unlock(&trace_lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_system_direct.c - in-process delivery of a connection's requests (see magma_system.h,
 * "Direct delivery").
 *
 * A client in the service's own process (the embedded device) can hand a request to the
 * connection on its own thread instead of writing it to the primary channel for the connection
 * thread to read: no system call, no thread switch. Everything else stays as it is: replies,
 * consumed-counts and the error event still go out on the primary channel, notifications on the
 * notification channel, and the connection thread still watches both, drains notifications and
 * tears the connection down.
 *
 * The endpoint's lock is the connection's: its thread holds it always but while it sleeps in
 * poll(), and a delivery takes it, so a request is processed exactly as if the connection thread
 * had read it between two polls (the handlers, handle tables and flow counts see one thread at a
 * time). A request is processed as the channel would have brought it: the framing is checked as
 * the reader checks it, fds are duplicated (the kernel would have), and the first error ends the
 * connection the same way: posted to the connection thread as a pending error (it wakes, tears
 * down, sends WIRE_EVT_ERROR and hangs up), later deliveries are dropped like bytes written to a
 * channel nobody reads any more, and once the connection is gone a delivery is -EPIPE. The
 * endpoint is reference-counted: the client's reference outlives the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magma_probe/probe.h"
#include "magma_system_internal.h"

struct magma_system_direct {
	pthread_mutex_t lock;
	atomic_uint refs;
	/*
	 * The connection thread left its loop (teardown under way): deliveries are dropped at once,
	 * without waiting for the lock, as bytes written to a channel nobody reads any more; once
	 * @gone (the channel shut down) they are -EPIPE, as the channel's writes would be.
	 */
	atomic_bool closing, gone;
	/* Guarded by lock. */
	struct magma_system_connection *conn; /* NULL once the connection ended */
	bool dropping;			      /* an error or a release: drop what comes */
};

/* magma_system_direct_create - see magma_system_internal.h. */
struct magma_system_direct *magma_system_direct_create(struct magma_system_connection *conn)
{
	struct magma_system_direct *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->refs, 1);
	d->conn = conn;
	return d;
}

/* magma_system_direct_get - see magma_system.h. */
void magma_system_direct_get(struct magma_system_direct *d)
{
	atomic_fetch_add(&d->refs, 1);
}

/* magma_system_direct_put - see magma_system.h. */
void magma_system_direct_put(struct magma_system_direct *d)
{
	if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* magma_system_direct_lock / unlock - see magma_system_internal.h (the connection thread). */
void magma_system_direct_lock(struct magma_system_direct *d)
{
	if (d)
		pthread_mutex_lock(&d->lock);
}

void magma_system_direct_unlock(struct magma_system_direct *d)
{
	if (d)
		pthread_mutex_unlock(&d->lock);
}

/* magma_system_direct_closing - see magma_system_internal.h. */
void magma_system_direct_closing(struct magma_system_direct *d)
{
	if (d)
		atomic_store(&d->closing, true);
}

/* magma_system_direct_detach_locked - see magma_system_internal.h. */
void magma_system_direct_detach_locked(struct magma_system_direct *d)
{
	d->conn = NULL;
	atomic_store(&d->gone, true);
}

/* Framing as the channel's reader checks it, and the header agrees with what was handed over. */
static bool direct_framing_ok(const struct wire_hdr *hdr, size_t size, uint32_t fd_count)
{
	return wire_hdr_ok(hdr) && hdr->size == size && hdr->fd_count == fd_count;
}

/* magma_system_direct_deliver - see magma_system.h. */
int magma_system_direct_deliver(struct magma_system_direct *d, const void *msg, size_t size,
				const int *fds, uint32_t fd_count)
{
	struct magma_system_connection *conn;
	struct wire_msg m = {.fd_count = 0};
	magma_status_t s = MAGMA_STATUS_OK;
	int action = 0, ret = 0;

	for (int i = 0; i < WIRE_MAX_FDS; i++)
		m.fds[i] = -1;
	magma_probe_mark(MAGMA_PROBE_SERVICE_RECV);
	if (atomic_load(&d->closing))
		return atomic_load(&d->gone) ? -EPIPE : 0;
	pthread_mutex_lock(&d->lock);
	conn = d->conn;
	if (!conn) {
		ret = -EPIPE;
		goto out_unlock;
	}
	if (d->dropping)
		goto out_unlock;
	if (size < sizeof(struct wire_hdr) || !direct_framing_ok(msg, size, fd_count)) {
		s = MAGMA_STATUS_INVALID_ARGS;
		goto out_fail;
	}
	/* Lent, not copied: validation and the handlers only read a request. */
	m.hdr = (struct wire_hdr *)(uintptr_t)msg;
	m.borrowed = true;
	for (uint32_t i = 0; i < fd_count; i++) {
		m.fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (m.fds[i] < 0) {
			s = errno == EMFILE || errno == ENFILE ? MAGMA_STATUS_MEMORY_ERROR
							       : MAGMA_STATUS_INVALID_ARGS;
			goto out_fail;
		}
		m.fd_count++;
	}
	magma_system_connection_deliver_locked(conn, &m, &s, &action);
	if (s == MAGMA_STATUS_OK && action != CONN_CLOSE_ORDERLY)
		goto out_unlock;
	if (s == MAGMA_STATUS_OK) {
		/* A release: the connection ends as if the channel hung up. */
		d->dropping = true;
		magma_system_connection_shutdown(conn);
		goto out_unlock;
	}
out_fail:
	d->dropping = true;
	magma_system_connection_fail(conn, s);
out_unlock:
	pthread_mutex_unlock(&d->lock);
	wire_msg_free(&m);
	return ret;
}

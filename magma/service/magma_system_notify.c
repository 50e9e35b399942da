/* SPDX-License-Identifier: MIT */
/*
 * magma_system_notify.c - the MSD notification callback and delivery to the client.
 *
 * The callback runs on a driver thread and must never block on the client, so it sends with
 * MSG_DONTWAIT: CHANNEL_SEND becomes one packet on the connection's notification channel
 * (SOCK_SEQPACKET, the payload bytes exactly); PERFORMANCE_COUNTERS_READ_COMPLETED becomes one
 * struct wire_perf_completion packet on the pool's completion socket; CONTEXT_KILLED records
 * MAGMA_STATUS_CONTEXT_KILLED as the connection's pending error and wakes the connection thread,
 * which closes the connection. When a socket is full the packet is queued (order is kept: once
 * anything is queued every later packet queues behind it) and the connection thread drains the
 * queue when the socket becomes writable. A client that does not drain lets at most
 * MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS packets pile up: the next one closes its connection
 * with MAGMA_STATUS_MEMORY_ERROR (logged once per connection, however many packets overflow
 * before it is gone) rather than dropping notifications silently or growing without bound. A
 * closed peer (EPIPE) is not an error here: the connection thread sees the hang-up.
 *
 * Threading: the callback (driver thread) and the connection thread share struct
 * magma_system_notify under its lock; the lock is never held across a call into the MSD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "magma_system_internal.h"

/* magma_system_notify_init - state for @notif_fd (not owned). 0 or -errno. */
int magma_system_notify_init(struct magma_system_notify *n, int notif_fd)
{
	memset(n, 0, sizeof(*n));
	n->notif_fd = notif_fd;
	n->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake_fd < 0)
		return -errno;
	pthread_mutex_init(&n->lock, NULL);
	return 0;
}

/*
 * magma_system_notify_fini - frees queued packets and closes pool sockets still registered and
 * the wake eventfd. The callback must already be unset in the MSD.
 */
void magma_system_notify_fini(struct magma_system_notify *n)
{
	struct magma_system_notify_packet *p = n->head;

	while (p) {
		struct magma_system_notify_packet *next = p->next;

		free(p);
		p = next;
	}
	n->head = n->tail = NULL;
	n->queued = 0;
	for (uint32_t i = 0; i < n->pool_count; i++)
		close(n->pools[i].fd);
	n->pool_count = 0;
	close(n->wake_fd);
	n->wake_fd = -1;
	pthread_mutex_destroy(&n->lock);
}

static void notify_wake_locked(struct magma_system_notify *n)
{
	uint64_t one = 1;

	if (write(n->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the thread will wake anyway. */
	}
}

static void notify_set_error_locked(struct magma_system_notify *n, magma_status_t status)
{
	if (n->pending_error == MAGMA_STATUS_OK)
		n->pending_error = status;
	notify_wake_locked(n);
}

static int pool_fd_locked(struct magma_system_notify *n, uint64_t pool_id)
{
	for (uint32_t i = 0; i < n->pool_count; i++) {
		if (n->pools[i].pool_id == pool_id)
			return n->pools[i].fd;
	}
	return -1;
}

/* 0 sent (or peer gone), -EAGAIN full. */
static int notify_send_locked(struct magma_system_notify *n,
			      const struct magma_system_notify_packet *p)
{
	int fd = p->is_perf ? pool_fd_locked(n, p->pool_id) : n->notif_fd;
	ssize_t r;

	if (fd < 0)
		return 0; /* the pool was released: nobody to tell */
	do {
		r = send(fd, p->data, p->size, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (r >= 0)
		n->sent++;
	return 0;
}

static void notify_post(struct magma_system_notify *n, int is_perf, uint64_t pool_id,
			const void *data, uint32_t size)
{
	struct magma_system_notify_packet *p;

	p = malloc(sizeof(*p) + size);
	pthread_mutex_lock(&n->lock);
	if (!p) {
		notify_set_error_locked(n, MAGMA_STATUS_MEMORY_ERROR);
		goto out_unlock;
	}
	p->next = NULL;
	p->is_perf = is_perf;
	p->pool_id = pool_id;
	p->size = size;
	memcpy(p->data, data, size);
	if (!n->head && notify_send_locked(n, p) == 0) {
		free(p);
		goto out_unlock;
	}
	if (n->queued >= MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS) {
		/* Every later packet overflows too until the connection is gone: log once. */
		if (!n->overflow_logged)
			magma_system_log(MAGMA_LOG_WARNING,
					 "client does not drain notifications: closing the "
					 "connection");
		n->overflow_logged = true;
		n->overflows++;
		free(p);
		notify_set_error_locked(n, MAGMA_STATUS_MEMORY_ERROR);
		goto out_unlock;
	}
	if (n->tail)
		n->tail->next = p;
	else
		n->head = p;
	n->tail = p;
	n->queued++;
	notify_wake_locked(n); /* the connection thread now polls for POLLOUT */
out_unlock:
	pthread_mutex_unlock(&n->lock);
}

/*
 * magma_system_notify_callback - the msd_connection_notification_callback_t of every connection;
 * @token is its struct magma_system_notify. Runs on a driver thread; never blocks on the client.
 */
void magma_system_notify_callback(void *token, struct msd_notification_t *notification)
{
	struct magma_system_notify *n = token;

	switch (notification->type) {
	case MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND: {
		uint32_t size = notification->u.channel_send.size;

		if (size > MSD_CHANNEL_SEND_MAX_SIZE)
			size = MSD_CHANNEL_SEND_MAX_SIZE;
		notify_post(n, 0, 0, notification->u.channel_send.data, size);
		break;
	}
	case MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED:
		pthread_mutex_lock(&n->lock);
		notify_set_error_locked(n, MAGMA_STATUS_CONTEXT_KILLED);
		pthread_mutex_unlock(&n->lock);
		break;
	case MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED: {
		struct wire_perf_completion c = {
			.pool_id = notification->u.perf_counter_result.pool_id,
			.buffer_id = notification->u.perf_counter_result.buffer_id,
			.timestamp = notification->u.perf_counter_result.timestamp,
			.trigger_id = notification->u.perf_counter_result.trigger_id,
			.buffer_offset = notification->u.perf_counter_result.buffer_offset,
			.result_flags = notification->u.perf_counter_result.result_flags,
		};

		notify_post(n, 1, c.pool_id, &c, sizeof(c));
		break;
	}
	default:
		magma_system_log(MAGMA_LOG_ERROR, "unknown notification type %llu ignored",
				 (unsigned long long)notification->type);
		break;
	}
}

/*
 * magma_system_notify_queue_fd - the socket the oldest queued packet waits on, or -1 when nothing
 * is queued. Connection thread (the fd stays valid: pools are removed on that thread).
 */
int magma_system_notify_queue_fd(struct magma_system_notify *n)
{
	int fd = -1;

	pthread_mutex_lock(&n->lock);
	if (n->head)
		fd = n->head->is_perf ? pool_fd_locked(n, n->head->pool_id) : n->notif_fd;
	pthread_mutex_unlock(&n->lock);
	return fd;
}

/*
 * magma_system_notify_drain - sends queued packets until a socket is full again; clears the wake
 * counter. Returns MAGMA_STATUS_OK. Connection thread.
 */
magma_status_t magma_system_notify_drain(struct magma_system_notify *n)
{
	uint64_t v;

	pthread_mutex_lock(&n->lock);
	if (read(n->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending on the counter. */
	}
	while (n->head) {
		struct magma_system_notify_packet *p = n->head;

		if (notify_send_locked(n, p))
			break;
		n->head = p->next;
		if (!n->head)
			n->tail = NULL;
		n->queued--;
		free(p);
	}
	pthread_mutex_unlock(&n->lock);
	return MAGMA_STATUS_OK;
}

/* magma_system_notify_fail - post @status as the pending error (the first one stays); any thread.
 */
void magma_system_notify_fail(struct magma_system_notify *n, magma_status_t status)
{
	pthread_mutex_lock(&n->lock);
	notify_set_error_locked(n, status);
	pthread_mutex_unlock(&n->lock);
}

/* magma_system_notify_take_error - the pending error set by the driver thread, or OK. */
magma_status_t magma_system_notify_take_error(struct magma_system_notify *n)
{
	magma_status_t s;

	pthread_mutex_lock(&n->lock);
	s = n->pending_error;
	pthread_mutex_unlock(&n->lock);
	return s;
}

/* magma_system_notify_add_pool - registers @fd (ownership passes) as @pool_id's socket. */
magma_status_t magma_system_notify_add_pool(struct magma_system_notify *n, uint64_t pool_id, int fd)
{
	magma_status_t s = MAGMA_STATUS_OK;

	pthread_mutex_lock(&n->lock);
	if (n->pool_count >= MAGMA_SYSTEM_MAX_POOLS) {
		close(fd);
		s = MAGMA_STATUS_MEMORY_ERROR;
	} else {
		n->pools[n->pool_count].pool_id = pool_id;
		n->pools[n->pool_count].fd = fd;
		n->pool_count++;
	}
	pthread_mutex_unlock(&n->lock);
	return s;
}

/*
 * magma_system_notify_remove_pool - closes @pool_id's socket and drops its queued packets. Call
 * after the MSD released the pool (no more completions for it).
 */
void magma_system_notify_remove_pool(struct magma_system_notify *n, uint64_t pool_id)
{
	struct magma_system_notify_packet **pp;

	pthread_mutex_lock(&n->lock);
	for (uint32_t i = 0; i < n->pool_count; i++) {
		if (n->pools[i].pool_id != pool_id)
			continue;
		close(n->pools[i].fd);
		n->pools[i] = n->pools[--n->pool_count];
		break;
	}
	pp = &n->head;
	n->tail = NULL;
	while (*pp) {
		struct magma_system_notify_packet *p = *pp;

		if (p->is_perf && p->pool_id == pool_id) {
			*pp = p->next;
			n->queued--;
			free(p);
			continue;
		}
		n->tail = p;
		pp = &p->next;
	}
	pthread_mutex_unlock(&n->lock);
}

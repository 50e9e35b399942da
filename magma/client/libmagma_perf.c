/* SPDX-License-Identifier: MIT */
/*
 * libmagma_perf.c - performance counters: access, enable/clear, buffer pools and dumps.
 *
 * Access is the one round trip (WIRE_ENABLE_PERF_ACCESS carries the access token fd and the
 * service answers OK or ACCESS_DENIED without closing the connection); everything else is
 * feed-forward. A pool is an id from the connection's counter plus a SOCK_SEQPACKET pair: the
 * service end travels with WIRE_CREATE_PERF_POOL, the client end is the pool's notification
 * handle, and each dump completion arrives on it as one struct wire_perf_completion packet.
 * Unknown pool ids are sent anyway (the service closes the connection, as for any unknown id),
 * except for reading completions, which needs the local socket. Any thread; the pool list is
 * guarded by the connection's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libmagma_internal.h"

/*
 * magma_connection_enable_performance_counter_access - see magma.h. Consumes @channel; a handle
 * that is not an open fd is MAGMA_STATUS_INTERNAL_ERROR without asking the service (Magma cannot
 * read a token from it either). The service answers whether the connection has access, so once
 * granted every later call is OK, as Magma's.
 */
magma_status_t
libmagma_do_connection_enable_performance_counter_access(magma_connection_t connection,
							 magma_handle_t channel)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_enable_perf_access req = {.hdr = {WIRE_ENABLE_PERF_ACCESS, 0, sizeof(req), 1}};
	magma_status_t status;
	int fd = (int)channel;

	if (!conn) {
		libmagma_close_handle(channel);
		return MAGMA_STATUS_INVALID_ARGS;
	}
	if (!libmagma_fd_is_valid(channel))
		return MAGMA_STATUS_INTERNAL_ERROR;
	pthread_mutex_lock(&conn->lock);
	status = libmagma_connection_call_locked(conn, &req, sizeof(req), &fd, 1, WIRE_RESP(53));
	pthread_mutex_unlock(&conn->lock);
	close(fd);
	return status;
}

/* Sends WIRE_ENABLE/CLEAR_PERF_COUNTERS @type with @count ids. */
static magma_status_t libmagma_send_counters(magma_connection_t connection, uint32_t type,
					     const uint64_t *counters, uint64_t count)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_perf_counters *req;
	magma_status_t status;
	uint64_t size;

	if (!conn || (count && !counters) ||
	    count > (WIRE_MAX_MESSAGE - sizeof(*req)) / sizeof(uint64_t))
		return MAGMA_STATUS_INVALID_ARGS;
	size = sizeof(*req) + count * sizeof(uint64_t);
	req = calloc(1, (size_t)size);
	if (!req)
		return MAGMA_STATUS_MEMORY_ERROR;
	req->hdr = (struct wire_hdr){type, 0, (uint32_t)size, 0};
	req->count = count;
	if (count)
		memcpy(req + 1, counters, count * sizeof(uint64_t));
	status = libmagma_connection_send(conn, req, (size_t)size, NULL, 0, 0);
	free(req);
	return status;
}

/* magma_connection_enable_performance_counters - see magma.h. Feed-forward. */
magma_status_t libmagma_do_connection_enable_performance_counters(magma_connection_t connection,
								  uint64_t *counters,
								  uint64_t counters_count)
{
	return libmagma_send_counters(connection, WIRE_ENABLE_PERF_COUNTERS, counters,
				      counters_count);
}

/* magma_connection_clear_performance_counters - see magma.h. Feed-forward. */
magma_status_t libmagma_do_connection_clear_performance_counters(magma_connection_t connection,
								 uint64_t *counters,
								 uint64_t counters_count)
{
	return libmagma_send_counters(connection, WIRE_CLEAR_PERF_COUNTERS, counters,
				      counters_count);
}

/*
 * magma_connection_create_performance_counter_buffer_pool - see magma.h. The notification handle
 * belongs to the pool (closed by its release or the connection's).
 */
magma_status_t libmagma_do_connection_create_performance_counter_buffer_pool(
	magma_connection_t connection, magma_perf_count_pool_t *pool_id_out,
	magma_handle_t *notification_handle_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_perf_pool req = {.hdr = {WIRE_CREATE_PERF_POOL, 0, sizeof(req), 1}};
	struct libmagma_pool *pool;
	magma_status_t status;
	int sv[2];

	if (!conn || !pool_id_out || !notification_handle_out)
		return MAGMA_STATUS_INVALID_ARGS;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return MAGMA_STATUS_MEMORY_ERROR;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_free;
	}
	pthread_mutex_lock(&conn->lock);
	req.pool_id = conn->next_pool_id;
	status = libmagma_connection_send_locked(conn, &req, sizeof(req), &sv[1], 1, 0);
	close(sv[1]);
	if (status) {
		pthread_mutex_unlock(&conn->lock);
		close(sv[0]);
		goto err_free;
	}
	pool->id = conn->next_pool_id++;
	pool->fd = sv[0];
	pool->next = conn->pools;
	conn->pools = pool;
	pthread_mutex_unlock(&conn->lock);
	*pool_id_out = pool->id;
	*notification_handle_out = (magma_handle_t)pool->fd;
	return MAGMA_STATUS_OK;

err_free:
	free(pool);
	return status;
}

/*
 * magma_connection_release_performance_counter_buffer_pool - see magma.h. Sends the release and
 * closes the pool's socket, so no completion of it can be read afterwards.
 */
magma_status_t
libmagma_do_connection_release_performance_counter_buffer_pool(magma_connection_t connection,
							       magma_perf_count_pool_t pool_id)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_perf_pool req = {
		.hdr = {WIRE_RELEASE_PERF_POOL, 0, sizeof(req), 0},
		.pool_id = pool_id,
	};
	struct libmagma_pool **link, *pool = NULL;
	magma_status_t status;

	if (!conn)
		return MAGMA_STATUS_INVALID_ARGS;
	pthread_mutex_lock(&conn->lock);
	status = libmagma_connection_send_locked(conn, &req, sizeof(req), NULL, 0, 0);
	for (link = &conn->pools; *link; link = &(*link)->next) {
		if ((*link)->id == pool_id) {
			pool = *link;
			*link = pool->next;
			break;
		}
	}
	pthread_mutex_unlock(&conn->lock);
	if (pool) {
		close(pool->fd);
		free(pool);
	}
	return status;
}

/* magma_connection_add_performance_counter_buffer_offsets_to_pool - see magma.h. */
magma_status_t libmagma_do_connection_add_performance_counter_buffer_offsets_to_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id,
	const magma_buffer_offset_t *offsets, uint64_t offsets_count)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_add_perf_offsets *req;
	magma_status_t status;
	uint64_t size;

	if (!conn || (offsets_count && !offsets) ||
	    offsets_count > (WIRE_MAX_MESSAGE - sizeof(*req)) / sizeof(magma_buffer_offset_t))
		return MAGMA_STATUS_INVALID_ARGS;
	size = sizeof(*req) + offsets_count * sizeof(magma_buffer_offset_t);
	req = calloc(1, (size_t)size);
	if (!req)
		return MAGMA_STATUS_MEMORY_ERROR;
	req->hdr = (struct wire_hdr){WIRE_ADD_PERF_OFFSETS, 0, (uint32_t)size, 0};
	req->pool_id = pool_id;
	req->count = offsets_count;
	if (offsets_count)
		memcpy(req + 1, offsets, offsets_count * sizeof(magma_buffer_offset_t));
	status = libmagma_connection_send(conn, req, (size_t)size, NULL, 0, 0);
	free(req);
	return status;
}

/*
 * magma_connection_remove_performance_counter_buffer_from_pool - see magma.h. Feed-forward: the
 * id of any live buffer handle is sent (the service refuses one the connection does not have).
 */
magma_status_t libmagma_do_connection_remove_performance_counter_buffer_from_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, magma_buffer_t buffer)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	struct wire_remove_perf_buffer req = {
		.hdr = {WIRE_REMOVE_PERF_BUFFER, 0, sizeof(req), 0},
		.pool_id = pool_id,
	};

	if (!conn || !buf)
		return MAGMA_STATUS_INVALID_ARGS;
	req.buffer_id = buf->id;
	return libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
}

/* magma_connection_dump_performance_counters - see magma.h. Feed-forward. */
magma_status_t libmagma_do_connection_dump_performance_counters(magma_connection_t connection,
								magma_perf_count_pool_t pool_id,
								uint32_t trigger_id)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_dump_perf req = {
		.hdr = {WIRE_DUMP_PERF_COUNTERS, 0, sizeof(req), 0},
		.pool_id = pool_id,
		.trigger_id = trigger_id,
	};

	if (!conn)
		return MAGMA_STATUS_INVALID_ARGS;
	return libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
}

/*
 * magma_connection_read_performance_counter_completion - see magma.h. Reads one packet from the
 * pool's socket without blocking: MAGMA_STATUS_TIMED_OUT when none is pending,
 * MAGMA_STATUS_INVALID_ARGS for an unknown pool or NULL outs, CONNECTION_LOST after a hang-up,
 * INTERNAL_ERROR for a malformed packet.
 */
magma_status_t libmagma_do_connection_read_performance_counter_completion(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, uint32_t *trigger_id_out,
	uint64_t *buffer_id_out, uint32_t *buffer_offset_out, uint64_t *time_out,
	uint32_t *result_flags_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	magma_status_t status = MAGMA_STATUS_OK;
	struct wire_perf_completion c;
	struct libmagma_pool *pool;
	ssize_t n;
	int fd = -1;

	if (!conn || !trigger_id_out || !buffer_id_out || !buffer_offset_out || !time_out ||
	    !result_flags_out)
		return MAGMA_STATUS_INVALID_ARGS;
	pthread_mutex_lock(&conn->lock);
	for (pool = conn->pools; pool; pool = pool->next) {
		if (pool->id == pool_id) {
			fd = pool->fd;
			break;
		}
	}
	if (fd < 0) {
		status = MAGMA_STATUS_INVALID_ARGS;
		goto out_unlock;
	}
	n = recv(fd, &c, sizeof(c), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		status = errno == EAGAIN || errno == EWOULDBLOCK ? MAGMA_STATUS_TIMED_OUT
								 : MAGMA_STATUS_CONNECTION_LOST;
		goto out_unlock;
	}
	if (n == 0) {
		status = MAGMA_STATUS_CONNECTION_LOST;
		goto out_unlock;
	}
	if (n != (ssize_t)sizeof(c) || c.pool_id != pool_id) {
		status = MAGMA_STATUS_INTERNAL_ERROR;
		goto out_unlock;
	}
	*trigger_id_out = c.trigger_id;
	*buffer_id_out = c.buffer_id;
	*buffer_offset_out = c.buffer_offset;
	*time_out = c.timestamp;
	*result_flags_out = c.result_flags;
out_unlock:
	pthread_mutex_unlock(&conn->lock);
	return status;
}

/* SPDX-License-Identifier: MIT */
/*
 * libmagma_connection.c - connections: the primary-channel send path with flow control and the
 * sticky error, flush, get_error, the notification channel, contexts, GPU mappings and command
 * submission.
 *
 * Feed-forward, as Magma does it: requests are written to the primary channel and the call
 * returns MAGMA_STATUS_OK once the message is sent. Only what the library itself cannot send is
 * refused here (an unknown connection or buffer handle, NULL pointers, a message too large for
 * the wire): everything the system driver decides - ranges against a buffer's size, alignment,
 * flags, overlaps, VA limits, foreign or released ids - is checked by the service, whose first
 * error closes the connection. The service answers only WIRE_FLUSH, WIRE_ENABLE_PERF_ACCESS and
 * WIRE_ALLOC_OBJECT_IDS. It also sends events unprompted: WIRE_EVT_MESSAGES_CONSUMED
 * acknowledges processed messages and imported bytes, and WIRE_EVT_ERROR carries the status that
 * made it close the connection. Events are read only by a thread holding the connection's lock:
 * when it waits for a reply, when flow control blocks it (every message counts one, every buffer
 * import its size, until acknowledged) and in cheap non-blocking drains (sends past half the
 * limit). The first error seen - an EVT_ERROR status, a hang-up, a failed send or a reply out of
 * protocol - is latched: magma_connection_flush and magma_connection_get_error return it, and
 * every later send returns MAGMA_STATUS_CONNECTION_LOST without sending (what Magma's
 * PEER_CLOSED channel gives); void calls do nothing. Any thread; see the locking note in
 * libmagma_internal.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libmagma_internal.h"

enum libmagma_recv {
	LIBMAGMA_RECV_NONE,  /* non-blocking and nothing pending */
	LIBMAGMA_RECV_EVENT, /* an event was processed */
	LIBMAGMA_RECV_REPLY, /* a reply is in *reply (the caller frees it) */
	LIBMAGMA_RECV_ERROR, /* the sticky error is set */
};

/* libmagma_connection_get - see libmagma_internal.h. */
struct libmagma_connection *libmagma_connection_get(magma_connection_t handle)
{
	return libmagma_handle_lookup(handle, LIBMAGMA_CONNECTION_MAGIC);
}

/* libmagma_connection_create - see libmagma_internal.h. */
struct libmagma_connection *libmagma_connection_create(int primary_fd, int notify_fd,
						       uint64_t max_messages, uint64_t max_bytes,
						       uint64_t object_id_base)
{
	struct libmagma_connection *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	conn->magic = LIBMAGMA_CONNECTION_MAGIC;
	conn->primary_fd = primary_fd;
	conn->notify_fd = notify_fd;
	conn->max_messages = max_messages;
	conn->max_bytes = max_bytes;
	conn->id_base = object_id_base;
	conn->next_object_id = object_id_base;
	conn->object_id_end = object_id_base + WIRE_OBJECT_ID_BLOCK;
	conn->next_context_id = 1;
	conn->next_pool_id = 1;
	pthread_mutex_init(&conn->lock, NULL);
	if (libmagma_handle_add(conn)) {
		pthread_mutex_destroy(&conn->lock);
		free(conn);
		return NULL;
	}
	return conn;
}

/* The first error wins; the channel is shut down so the service sees the client give up too. */
static void libmagma_connection_fail_locked(struct libmagma_connection *conn, magma_status_t status)
{
	if (conn->error)
		return;
	conn->error = status ? status : MAGMA_STATUS_CONNECTION_LOST;
	shutdown(conn->primary_fd, SHUT_RDWR);
}

static void libmagma_connection_consumed_locked(struct libmagma_connection *conn,
						const struct wire_evt_consumed *evt)
{
	conn->inflight_messages -=
		evt->messages < conn->inflight_messages ? evt->messages : conn->inflight_messages;
	conn->inflight_bytes -=
		evt->bytes < conn->inflight_bytes ? evt->bytes : conn->inflight_bytes;
}

/*
 * Reads one message from the primary channel (@block: wait for it) and processes it if it is an
 * event. Replies go to @reply. Anything out of protocol sets the sticky error.
 */
static enum libmagma_recv libmagma_connection_recv_locked(struct libmagma_connection *conn,
							  bool block, struct wire_msg *reply)
{
	struct wire_msg msg;
	uint32_t type, size;
	int ret;

	if (conn->error)
		return LIBMAGMA_RECV_ERROR;
	if (!block) {
		ret = libmagma_wait_readable(conn->primary_fd, 0);
		if (ret == 0)
			return LIBMAGMA_RECV_NONE;
	}
	ret = wire_recv(conn->primary_fd, &msg);
	if (ret) {
		libmagma_connection_fail_locked(conn, MAGMA_STATUS_CONNECTION_LOST);
		return LIBMAGMA_RECV_ERROR;
	}
	type = msg.hdr->type;
	size = msg.hdr->size;
	if (msg.fd_count)
		goto err_protocol;
	switch (type) {
	case WIRE_EVT_MESSAGES_CONSUMED:
		if (size != sizeof(struct wire_evt_consumed))
			goto err_protocol;
		libmagma_connection_consumed_locked(conn, (struct wire_evt_consumed *)msg.hdr);
		wire_msg_free(&msg);
		return LIBMAGMA_RECV_EVENT;
	case WIRE_EVT_ERROR: {
		magma_status_t status;

		if (size != sizeof(struct wire_evt_error))
			goto err_protocol;
		status = ((struct wire_evt_error *)msg.hdr)->status;
		if (status >= 0 || status < MAGMA_STATUS_ALIAS_FOR_LAST)
			status = MAGMA_STATUS_CONNECTION_LOST;
		libmagma_connection_fail_locked(conn, status);
		wire_msg_free(&msg);
		return LIBMAGMA_RECV_ERROR;
	}
	case WIRE_RESP(79):
	case WIRE_RESP(53):
	case WIRE_ALLOC_OBJECT_IDS_RESP:
		/* The waiting caller checks the type and size it expects. */
		if (!reply)
			goto err_protocol;
		*reply = msg;
		return LIBMAGMA_RECV_REPLY;
	default:
		goto err_protocol;
	}

err_protocol:
	wire_msg_free(&msg);
	libmagma_connection_fail_locked(conn, MAGMA_STATUS_CONNECTION_LOST);
	return LIBMAGMA_RECV_ERROR;
}

/* Processes every event already pending, without blocking. */
static void libmagma_connection_drain_locked(struct libmagma_connection *conn)
{
	while (libmagma_connection_recv_locked(conn, false, NULL) == LIBMAGMA_RECV_EVENT)
		;
}

/* libmagma_connection_is_lost - see libmagma_internal.h. Takes conn->lock. */
bool libmagma_connection_is_lost(struct libmagma_connection *conn)
{
	bool lost;

	pthread_mutex_lock(&conn->lock);
	libmagma_connection_drain_locked(conn);
	lost = conn->error != MAGMA_STATUS_OK;
	pthread_mutex_unlock(&conn->lock);
	return lost;
}

static bool libmagma_connection_at_limit_locked(struct libmagma_connection *conn,
						uint64_t import_bytes)
{
	if (conn->max_messages && conn->inflight_messages >= conn->max_messages)
		return true;
	/* One import bigger than the whole budget still goes once nothing else is in flight. */
	return conn->max_bytes && import_bytes && conn->inflight_bytes &&
	       conn->inflight_bytes + import_bytes > conn->max_bytes;
}

/* libmagma_connection_send_locked - see libmagma_internal.h. Caller holds conn->lock. */
magma_status_t libmagma_connection_send_locked(struct libmagma_connection *conn, const void *msg,
					       size_t size, const int *fds, uint32_t fd_count,
					       uint64_t import_bytes)
{
	int ret;

	if (conn->max_messages && conn->inflight_messages >= conn->max_messages / 2)
		libmagma_connection_drain_locked(conn);
	while (!conn->error && libmagma_connection_at_limit_locked(conn, import_bytes)) {
		if (libmagma_connection_recv_locked(conn, true, NULL) == LIBMAGMA_RECV_ERROR)
			break;
	}
	if (conn->error)
		return MAGMA_STATUS_CONNECTION_LOST;
	if (conn->direct) {
		/* Processed before this returns: nothing stays in flight. */
		ret = conn->direct_ops->deliver(conn->direct, msg, size, fds, fd_count);
		if (ret)
			libmagma_connection_drain_locked(conn);
		if (ret)
			libmagma_connection_fail_locked(conn, MAGMA_STATUS_CONNECTION_LOST);
		return ret ? MAGMA_STATUS_CONNECTION_LOST : MAGMA_STATUS_OK;
	}
	ret = wire_send(conn->primary_fd, msg, size, fds, fd_count);
	if (ret) {
		/* The service may have said why before it hung up. */
		if (ret == -EPIPE)
			libmagma_connection_drain_locked(conn);
		libmagma_connection_fail_locked(conn, ret == -EINVAL
							      ? MAGMA_STATUS_INTERNAL_ERROR
							      : MAGMA_STATUS_CONNECTION_LOST);
		return ret == -EINVAL ? MAGMA_STATUS_INTERNAL_ERROR : MAGMA_STATUS_CONNECTION_LOST;
	}
	conn->inflight_messages++;
	conn->inflight_bytes += import_bytes;
	return MAGMA_STATUS_OK;
}

/* libmagma_connection_send - see libmagma_internal.h. Takes conn->lock. */
magma_status_t libmagma_connection_send(struct libmagma_connection *conn, const void *msg,
					size_t size, const int *fds, uint32_t fd_count,
					uint64_t import_bytes)
{
	magma_status_t status;

	pthread_mutex_lock(&conn->lock);
	status = libmagma_connection_send_locked(conn, msg, size, fds, fd_count, import_bytes);
	pthread_mutex_unlock(&conn->lock);
	return status;
}

/*
 * Sends @req and waits (processing events) for the reply of @resp_type, which must be
 * @resp_size bytes; the caller owns *@reply. MAGMA_STATUS_CONNECTION_LOST once the connection has
 * failed (the latched error stays in conn->error).
 */
static magma_status_t libmagma_connection_round_trip_locked(struct libmagma_connection *conn,
							    const void *req, size_t req_size,
							    const int *fds, uint32_t fd_count,
							    uint32_t resp_type, size_t resp_size,
							    struct wire_msg *reply)
{
	magma_status_t status;

	status = libmagma_connection_send_locked(conn, req, req_size, fds, fd_count, 0);
	if (status)
		return status;
	for (;;) {
		enum libmagma_recv r = libmagma_connection_recv_locked(conn, true, reply);

		if (r == LIBMAGMA_RECV_ERROR)
			return MAGMA_STATUS_CONNECTION_LOST;
		if (r != LIBMAGMA_RECV_REPLY)
			continue;
		if (reply->hdr->type != resp_type || reply->hdr->size != resp_size) {
			wire_msg_free(reply);
			libmagma_connection_fail_locked(conn, MAGMA_STATUS_CONNECTION_LOST);
			return MAGMA_STATUS_CONNECTION_LOST;
		}
		return MAGMA_STATUS_OK;
	}
}

/* libmagma_connection_call_locked - see libmagma_internal.h. Caller holds conn->lock. */
magma_status_t libmagma_connection_call_locked(struct libmagma_connection *conn, const void *req,
					       size_t req_size, const int *fds, uint32_t fd_count,
					       uint32_t resp_type)
{
	magma_status_t status;
	struct wire_msg reply;

	status =
		libmagma_connection_round_trip_locked(conn, req, req_size, fds, fd_count, resp_type,
						      sizeof(struct wire_status_resp), &reply);
	if (status)
		return status;
	status = ((struct wire_status_resp *)reply.hdr)->status;
	wire_msg_free(&reply);
	return status;
}

/* libmagma_connection_new_object_id_locked - see libmagma_internal.h. */
magma_status_t libmagma_connection_new_object_id_locked(struct libmagma_connection *conn,
							uint64_t *id_out)
{
	struct wire_alloc_object_ids req = {.hdr = {WIRE_ALLOC_OBJECT_IDS, 0, sizeof(req), 0}};
	struct wire_alloc_object_ids_resp *resp;
	magma_status_t status;
	struct wire_msg reply;

	if (conn->next_object_id == conn->object_id_end) {
		status = libmagma_connection_round_trip_locked(conn, &req, sizeof(req), NULL, 0,
							       WIRE_ALLOC_OBJECT_IDS_RESP,
							       sizeof(*resp), &reply);
		if (status)
			return status;
		resp = (struct wire_alloc_object_ids_resp *)reply.hdr;
		status = resp->status;
		if (status == MAGMA_STATUS_OK) {
			conn->next_object_id = resp->object_id_base;
			conn->object_id_end = resp->object_id_base + WIRE_OBJECT_ID_BLOCK;
		}
		wire_msg_free(&reply);
		if (status)
			return status;
	}
	*id_out = conn->next_object_id++;
	return MAGMA_STATUS_OK;
}

/*
 * magma_connection_release - see magma.h. Tells the service (unless the connection already
 * failed), closes both channels and frees every buffer, semaphore and pool of the connection.
 */
void libmagma_do_connection_release(magma_connection_t connection)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_flush req = {.hdr = {WIRE_CONNECTION_RELEASE, 0, sizeof(req), 0}};

	if (!conn)
		return;
	libmagma_handle_remove(conn);
	pthread_mutex_lock(&conn->lock);
	if (!conn->error && conn->direct)
		conn->direct_ops->deliver(conn->direct, &req, sizeof(req), NULL, 0);
	else if (!conn->error)
		wire_send(conn->primary_fd, &req, sizeof(req), NULL, 0);
	if (conn->direct)
		conn->direct_ops->put(conn->direct);
	while (conn->buffers) {
		struct libmagma_buffer *buf = conn->buffers;

		conn->buffers = buf->next;
		libmagma_buffer_destroy(buf);
	}
	while (conn->semaphores) {
		struct libmagma_semaphore *sem = conn->semaphores;

		conn->semaphores = sem->next;
		libmagma_semaphore_destroy(sem);
	}
	while (conn->pools) {
		struct libmagma_pool *pool = conn->pools;

		conn->pools = pool->next;
		close(pool->fd);
		free(pool);
	}
	close(conn->primary_fd);
	close(conn->notify_fd);
	conn->magic = 0;
	pthread_mutex_unlock(&conn->lock);
	pthread_mutex_destroy(&conn->lock);
	free(conn);
}

/*
 * Makes sure the service has processed every message sent before: a WIRE_FLUSH round trip
 * (events are processed meanwhile). Returns the latched error, MAGMA_STATUS_OK if none.
 */
static magma_status_t libmagma_connection_sync(struct libmagma_connection *conn)
{
	struct wire_flush req = {.hdr = {WIRE_FLUSH, 0, sizeof(req), 0}};
	magma_status_t status;

	pthread_mutex_lock(&conn->lock);
	if (!conn->error) {
		status = libmagma_connection_call_locked(conn, &req, sizeof(req), NULL, 0,
							 WIRE_RESP(79));
		if (status)
			libmagma_connection_fail_locked(conn, status);
	}
	status = conn->error;
	pthread_mutex_unlock(&conn->lock);
	return status;
}

/*
 * magma_connection_get_error - see magma.h. Like Magma's, it asks the service (a flush round
 * trip) while no error is known, so an error from any earlier call is returned.
 */
magma_status_t libmagma_do_connection_get_error(magma_connection_t connection)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);

	if (!conn)
		return MAGMA_STATUS_INVALID_ARGS;
	return libmagma_connection_sync(conn);
}

/* magma_connection_flush - see magma.h. A WIRE_FLUSH round trip; returns the latched error. */
magma_status_t libmagma_do_connection_flush(magma_connection_t connection)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);

	if (!conn)
		return MAGMA_STATUS_INVALID_ARGS;
	return libmagma_connection_sync(conn);
}

/* magma_connection_get_notification_channel_handle - see magma.h. -1 for a bad connection. */
magma_handle_t libmagma_do_connection_get_notification_channel_handle(magma_connection_t connection)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);

	return conn ? (magma_handle_t)conn->notify_fd : (magma_handle_t)-1;
}

/*
 * magma_connection_read_notification_channel - see magma.h. One seqpacket packet is one
 * notification: its size is peeked first so a too-small @buffer leaves it queued. Packets already
 * queued are returned even after the connection failed (the service sends a fault's payload just
 * before closing the connection, and it must not be lost to that race). A drained channel that is
 * still open reads as size 0; one the service hung up is MAGMA_STATUS_CONNECTION_LOST (Magma's
 * PEER_CLOSED), and the service's reason is then what magma_connection_get_error returns.
 */
magma_status_t libmagma_do_connection_read_notification_channel(magma_connection_t connection,
								void *buffer, uint64_t buffer_size,
								uint64_t *buffer_size_out,
								magma_bool_t *more_data_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	ssize_t len, n;
	char probe;

	if (!conn || !buffer_size_out || !more_data_out || (!buffer && buffer_size))
		return MAGMA_STATUS_INVALID_ARGS;
	len = recv(conn->notify_fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (len < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return MAGMA_STATUS_CONNECTION_LOST;
		*buffer_size_out = 0;
		*more_data_out = 0;
		return MAGMA_STATUS_OK;
	}
	if (len == 0) {
		/* Either the end of the channel or an empty notification (consumed, size 0). */
		struct pollfd pfd = {.fd = conn->notify_fd, .events = POLLIN};

		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR))) {
			/* The service closed the connection: latch its reason for get_error. */
			pthread_mutex_lock(&conn->lock);
			libmagma_connection_drain_locked(conn);
			libmagma_connection_fail_locked(conn, MAGMA_STATUS_CONNECTION_LOST);
			pthread_mutex_unlock(&conn->lock);
			return MAGMA_STATUS_CONNECTION_LOST;
		}
		n = recv(conn->notify_fd, &probe, 0, MSG_DONTWAIT);
		(void)n;
		*buffer_size_out = 0;
		*more_data_out = recv(conn->notify_fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
		return MAGMA_STATUS_OK;
	}
	if ((uint64_t)len > buffer_size) {
		*buffer_size_out = (uint64_t)len;
		return MAGMA_STATUS_INVALID_ARGS;
	}
	n = recv(conn->notify_fd, buffer, (size_t)buffer_size, MSG_DONTWAIT);
	if (n < 0)
		return MAGMA_STATUS_CONNECTION_LOST;
	*buffer_size_out = (uint64_t)n;
	*more_data_out = recv(conn->notify_fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
	return MAGMA_STATUS_OK;
}

/* magma_connection_create_context2 - see magma.h. The id is allocated here; no round trip. */
magma_status_t libmagma_do_connection_create_context2(magma_connection_t connection,
						      magma_priority_t priority,
						      uint32_t *context_id_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_create_context req = {
		.hdr = {WIRE_CREATE_CONTEXT, 0, sizeof(req), 0},
		.priority = priority,
	};
	magma_status_t status;

	if (!conn || !context_id_out)
		return MAGMA_STATUS_INVALID_ARGS;
	pthread_mutex_lock(&conn->lock);
	req.context_id = conn->next_context_id;
	status = libmagma_connection_send_locked(conn, &req, sizeof(req), NULL, 0, 0);
	if (status == MAGMA_STATUS_OK) {
		conn->next_context_id++;
		*context_id_out = req.context_id;
	}
	pthread_mutex_unlock(&conn->lock);
	return status;
}

/* magma_connection_release_context - see magma.h. Feed-forward. */
void libmagma_do_connection_release_context(magma_connection_t connection, uint32_t context_id)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_release_context req = {
		.hdr = {WIRE_RELEASE_CONTEXT, 0, sizeof(req), 0},
		.context_id = context_id,
	};

	if (conn)
		libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
}

/*
 * magma_connection_map_buffer - see magma.h. Feed-forward: any live buffer handle is sent (one
 * of another connection too, as Magma sends its id); alignment, range, flags, overlap and the
 * VA limits are the service's to check, and its error closes the connection.
 */
magma_status_t libmagma_do_connection_map_buffer(magma_connection_t connection, uint64_t hw_va,
						 magma_buffer_t buffer, uint64_t offset,
						 uint64_t length, uint64_t map_flags)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	struct wire_map_buffer req = {
		.hdr = {WIRE_MAP_BUFFER, 0, sizeof(req), 0},
		.hw_va = hw_va,
		.offset = offset,
		.length = length,
		.flags = map_flags,
	};

	magma_status_t st;

	if (!conn || !buf)
		return MAGMA_STATUS_INVALID_ARGS;
	req.buffer_id = buf->id;
	st = libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
	if (!st && (map_flags & MAGMA_MAP_FLAG_WRITE))
		buf->gpu_writable = true; /* for the recorder's unsettled ranges */
	return st;
}

/* magma_connection_unmap_buffer - see magma.h. Feed-forward; unknown handles are ignored. */
void libmagma_do_connection_unmap_buffer(magma_connection_t connection, uint64_t hw_va,
					 magma_buffer_t buffer)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	struct wire_unmap_buffer req = {
		.hdr = {WIRE_UNMAP_BUFFER, 0, sizeof(req), 0},
		.hw_va = hw_va,
	};

	if (!conn || !buf)
		return;
	req.buffer_id = buf->id;
	libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
}

/*
 * magma_connection_execute_command - see magma.h. Copies the descriptor and its arrays into one
 * WIRE_EXECUTE_COMMAND; NULL arrays with nonzero counts and messages over WIRE_MAX_MESSAGE are
 * MAGMA_STATUS_INVALID_ARGS. Ids and indices are checked by the service.
 */
magma_status_t libmagma_do_connection_execute_command(magma_connection_t connection,
						      uint32_t context_id,
						      magma_command_descriptor_t *descriptor)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct wire_execute_command *req;
	magma_status_t status;
	uint64_t size, nsem;
	char *p;

	if (!conn || !descriptor)
		return MAGMA_STATUS_INVALID_ARGS;
	nsem = (uint64_t)descriptor->wait_semaphore_count + descriptor->signal_semaphore_count;
	if ((descriptor->resource_count && !descriptor->resources) ||
	    (descriptor->command_buffer_count && !descriptor->command_buffers) ||
	    (nsem && !descriptor->semaphore_ids))
		return MAGMA_STATUS_INVALID_ARGS;
	size = sizeof(*req) + (uint64_t)descriptor->resource_count * sizeof(magma_exec_resource_t) +
	       (uint64_t)descriptor->command_buffer_count * sizeof(magma_exec_command_buffer_t) +
	       nsem * sizeof(uint64_t);
	if (size > WIRE_MAX_MESSAGE)
		return MAGMA_STATUS_INVALID_ARGS;
	req = calloc(1, (size_t)size);
	if (!req)
		return MAGMA_STATUS_MEMORY_ERROR;
	req->hdr = (struct wire_hdr){WIRE_EXECUTE_COMMAND, 0, (uint32_t)size, 0};
	req->context_id = context_id;
	req->resource_count = descriptor->resource_count;
	req->command_buffer_count = descriptor->command_buffer_count;
	req->wait_semaphore_count = descriptor->wait_semaphore_count;
	req->signal_semaphore_count = descriptor->signal_semaphore_count;
	req->flags = descriptor->flags;
	p = (char *)(req + 1);
	if (descriptor->resource_count) {
		memcpy(p, descriptor->resources,
		       descriptor->resource_count * sizeof(magma_exec_resource_t));
		p += descriptor->resource_count * sizeof(magma_exec_resource_t);
	}
	if (descriptor->command_buffer_count) {
		memcpy(p, descriptor->command_buffers,
		       descriptor->command_buffer_count * sizeof(magma_exec_command_buffer_t));
		p += descriptor->command_buffer_count * sizeof(magma_exec_command_buffer_t);
	}
	if (nsem)
		memcpy(p, descriptor->semaphore_ids, nsem * sizeof(uint64_t));
	status = libmagma_connection_send(conn, req, (size_t)size, NULL, 0, 0);
	free(req);
	return status;
}

/* Bytes one inline command takes on the wire (record, padded data, semaphore ids). */
static uint64_t libmagma_inline_record_size(const magma_inline_command_buffer_t *cmd)
{
	return sizeof(struct wire_inline_command) + ((cmd->size + 7) & ~7ull) +
	       (uint64_t)cmd->semaphore_count * sizeof(uint64_t);
}

/* Sends commands [@first, @first + @count) as one WIRE_EXECUTE_INLINE_COMMANDS of @size bytes. */
static magma_status_t libmagma_send_inline_locked(struct libmagma_connection *conn,
						  uint32_t context_id,
						  const magma_inline_command_buffer_t *cmds,
						  uint64_t count, uint64_t size)
{
	struct wire_execute_inline *req = calloc(1, (size_t)size);
	magma_status_t status;
	char *p;

	if (!req)
		return MAGMA_STATUS_MEMORY_ERROR;
	req->hdr = (struct wire_hdr){WIRE_EXECUTE_INLINE_COMMANDS, 0, (uint32_t)size, 0};
	req->context_id = context_id;
	req->command_count = (uint32_t)count;
	p = (char *)(req + 1);
	for (uint64_t i = 0; i < count; i++) {
		struct wire_inline_command rec = {
			.size = cmds[i].size,
			.semaphore_count = cmds[i].semaphore_count,
		};

		memcpy(p, &rec, sizeof(rec));
		p += sizeof(rec);
		if (cmds[i].size)
			memcpy(p, cmds[i].data, (size_t)cmds[i].size);
		p += (cmds[i].size + 7) & ~7ull;
		if (cmds[i].semaphore_count)
			memcpy(p, cmds[i].semaphore_ids,
			       cmds[i].semaphore_count * sizeof(uint64_t));
		p += cmds[i].semaphore_count * sizeof(uint64_t);
	}
	status = libmagma_connection_send_locked(conn, req, (size_t)size, NULL, 0, 0);
	free(req);
	return status;
}

/*
 * magma_connection_execute_inline_commands - see magma.h. Everything is validated before
 * anything is sent; the commands go in as few messages as WIRE_MAX_MESSAGE allows, in order,
 * under one hold of the lock. A single command too big for a message is
 * MAGMA_STATUS_INVALID_ARGS.
 */
magma_status_t
libmagma_do_connection_execute_inline_commands(magma_connection_t connection, uint32_t context_id,
					       uint64_t command_count,
					       magma_inline_command_buffer_t *command_buffers)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	const uint64_t max_body = WIRE_MAX_MESSAGE - sizeof(struct wire_execute_inline);
	magma_status_t status = MAGMA_STATUS_OK;
	uint64_t first = 0, size = 0;

	if (!conn || (command_count && !command_buffers))
		return MAGMA_STATUS_INVALID_ARGS;
	for (uint64_t i = 0; i < command_count; i++) {
		const magma_inline_command_buffer_t *cmd = &command_buffers[i];

		if ((cmd->size && !cmd->data) || (cmd->semaphore_count && !cmd->semaphore_ids) ||
		    cmd->size > max_body || libmagma_inline_record_size(cmd) > max_body)
			return MAGMA_STATUS_INVALID_ARGS;
	}
	pthread_mutex_lock(&conn->lock);
	if (conn->error) {
		status = MAGMA_STATUS_CONNECTION_LOST;
		goto out_unlock;
	}
	for (uint64_t i = 0; i < command_count; i++) {
		uint64_t rec = libmagma_inline_record_size(&command_buffers[i]);

		if (size + rec > max_body || i - first == UINT32_MAX) {
			status = libmagma_send_inline_locked(
				conn, context_id, command_buffers + first, i - first,
				sizeof(struct wire_execute_inline) + size);
			if (status)
				goto out_unlock;
			first = i;
			size = 0;
		}
		size += rec;
	}
	if (command_count > first)
		status = libmagma_send_inline_locked(conn, context_id, command_buffers + first,
						     command_count - first,
						     sizeof(struct wire_execute_inline) + size);
out_unlock:
	pthread_mutex_unlock(&conn->lock);
	return status;
}

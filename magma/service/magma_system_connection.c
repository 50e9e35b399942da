/* SPDX-License-Identifier: MIT */
/*
 * magma_system_connection.c - one client connection: its thread, dispatch and teardown.
 *
 * Each connection runs on a thread of its own that polls the primary channel (requests), an
 * eventfd the notification path uses to wake it (pending errors, queued notifications) and,
 * when something waits to be sent, the socket it waits on; right after a request the next one is
 * taken without polling, up to CONN_RECV_BURST in a row. Requests are read ahead (wire_reader: one
 * recvmsg takes every byte the socket holds, whole messages are cut from them), so a client
 * streaming commands costs the service a fraction of a system call per request. A request is
 * received whole, validated completely (magma_system_validate.c) and dispatched through a table to
 * its handler, which calls msd.h with ids already resolved to MSD objects. Requests marked
 * "reply" in wire.h (FLUSH, ENABLE_PERF_ACCESS) are answered in order on the primary channel.
 *
 * Errors. A framing error, a message that fails validation, an MSD error, a pending error from
 * the driver thread (CONTEXT_KILLED, an undrained notification queue) all end the connection
 * the same way: the notification channel is shut down, every object is released through msd.h,
 * WIRE_EVT_ERROR{status} is sent if the channel can take it at once, and the primary channel is
 * shut down (the client sees a hang-up on each). WIRE_CONNECTION_RELEASE or a hang-up of the
 * primary channel ends it the same way without the event. Teardown order (what msd.h requires):
 * unset the notification callback, destroy contexts, release performance-counter pools, for each
 * buffer remove its mappings (msd_connection_release_buffer, if it was ever mapped) and release it,
 * release semaphores, close the MSD connection. Other connections are never touched.
 *
 * Limits. What a request makes the service hold (an imported handle and its bytes, a buffer the
 * driver maps into the service, a GPU mapping and the bus memory it pins) is charged to the
 * connection's client process and to the device before the driver sees it
 * (magma_system_account.c); a refused charge is MEMORY_ERROR and ends the connection like any
 * error, and every charge is given back when its object goes, at the latest in teardown.
 *
 * Hooks. With hooks installed (magma_system.h), the thread tells them when it starts and ends,
 * and, for each validated message, which msd.h call it is about to make (the dispatch table
 * names it) and whether it submits work; a hook may answer a call with a status, which ends the
 * message exactly as if the entry point had returned it. The service's failure points (a
 * context's, buffer's or semaphore's table entry, a submission's arrays) ask the hooks before
 * allocating.
 *
 * Threading: everything here runs on the connection's thread except
 * magma_system_connection_shutdown (any thread, under the device lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magma_probe/probe.h"
#include "magma_sim/status_name.h"
#include "magma_system_internal.h"

/* A handler's extra result: close in order after this message. */
/* Messages taken back to back without a poll() before the other fds are looked at. */
#define CONN_RECV_BURST 16
#define CONN_EXEC_SMALL 16 /* resources or semaphores of a submission kept on the stack */

static magma_status_t send_status_reply(struct magma_system_connection *conn, uint32_t type,
					magma_status_t status)
{
	struct wire_status_resp r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = type;
	r.hdr.size = sizeof(r);
	r.status = status;
	/* A client gone away is seen as a hang-up on the next receive. */
	wire_send(conn->primary_fd, &r, sizeof(r), NULL, 0);
	return MAGMA_STATUS_OK;
}

static magma_status_t do_flush(struct magma_system_connection *conn, struct wire_msg *msg,
			       int *action)
{
	(void)msg;
	(void)action;
	return send_status_reply(conn, WIRE_RESP(79), MAGMA_STATUS_OK);
}

/* A new block of device-wide object ids for the client (wire.h, "Ids"). */
static magma_status_t do_alloc_object_ids(struct magma_system_connection *conn,
					  struct wire_msg *msg, int *action)
{
	struct wire_alloc_object_ids_resp r;

	(void)msg;
	(void)action;
	memset(&r, 0, sizeof(r));
	r.hdr.type = WIRE_ALLOC_OBJECT_IDS_RESP;
	r.hdr.size = sizeof(r);
	r.status = magma_system_device_alloc_object_ids(conn->dev, &r.object_id_base);
	/* A client gone away is seen as a hang-up on the next receive. */
	wire_send(conn->primary_fd, &r, sizeof(r), NULL, 0);
	return r.status;
}

static magma_status_t do_release_connection(struct magma_system_connection *conn,
					    struct wire_msg *msg, int *action)
{
	(void)conn;
	(void)msg;
	*action = CONN_CLOSE_ORDERLY;
	return MAGMA_STATUS_OK;
}

/* Where @conn's hooks are called from. */
static struct magma_system_site connection_site(const struct magma_system_connection *conn,
						uint32_t context, const char *call)
{
	return (struct magma_system_site){
		.connection = conn->number,
		.id_base = conn->id_base,
		.pid = conn->client->pid,
		.comm = conn->comm,
		.msd = conn->msd_name,
		.context = context,
		.call = call,
	};
}

/*
 * The service's failure points: OK, or the status the allocation @conn is about to make fails
 * with (the hooks inject it); a handler treats that exactly as memory running out there.
 */
static magma_status_t alloc_fails(struct magma_system_connection *conn, uint32_t context)
{
	struct magma_system_site site = connection_site(conn, context, NULL);

	return magma_system_device_alloc_fails(conn->dev, &site);
}

/* A table insert that the hooks may make fail, as if growing the table had failed. */
static magma_status_t table_insert(struct magma_system_connection *conn,
				   struct magma_system_table *t, const void *item, uint32_t context)
{
	magma_status_t s = alloc_fails(conn, context);

	return s ? s : magma_system_table_insert(t, item);
}

static magma_status_t do_create_context(struct magma_system_connection *conn, struct wire_msg *msg,
					int *action)
{
	const struct wire_create_context *m = (const void *)msg->hdr;
	struct magma_system_context c = {.id = m->context_id};
	magma_status_t s;

	(void)action;
	c.msd = msd_connection_create_context(conn->msd, m->priority);
	if (!c.msd)
		return MAGMA_STATUS_MEMORY_ERROR;
	s = table_insert(conn, &conn->handles.contexts, &c, m->context_id);
	if (s)
		msd_context_destroy(c.msd);
	return s;
}

static magma_status_t do_release_context(struct magma_system_connection *conn, struct wire_msg *msg,
					 int *action)
{
	const struct wire_release_context *m = (const void *)msg->hdr;
	struct magma_system_context c;

	(void)action;
	if (!magma_system_table_remove(&conn->handles.contexts, m->context_id, &c))
		return MAGMA_STATUS_INVALID_ARGS;
	msd_context_destroy(c.msd);
	return MAGMA_STATUS_OK;
}

static magma_status_t charge(struct magma_system_connection *conn, enum magma_system_resource res,
			     uint64_t amount)
{
	return magma_system_account_charge(&conn->dev->acct, conn->client, res, amount);
}

static void uncharge(struct magma_system_connection *conn, enum magma_system_resource res,
		     uint64_t amount)
{
	magma_system_account_uncharge(&conn->dev->acct, conn->client, res, amount);
}

/* An imported buffer holds a handle and its bytes; undone by uncharge_buffer. */
static magma_status_t charge_buffer(struct magma_system_connection *conn, uint64_t size)
{
	magma_status_t s = charge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);

	if (s)
		return s;
	s = charge(conn, MAGMA_SYSTEM_RES_BUFFER_BYTES, size);
	if (s)
		uncharge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);
	return s;
}

static void uncharge_buffer(struct magma_system_connection *conn, uint64_t size)
{
	uncharge(conn, MAGMA_SYSTEM_RES_BUFFER_BYTES, size);
	uncharge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);
}

/*
 * The driver maps a buffer into the service the first time it needs its memory (a GPU mapping,
 * a performance-counter dump): from then on the buffer is resident, charged once until released.
 */
static magma_status_t make_resident(struct magma_system_connection *conn,
				    struct magma_system_buffer *b)
{
	magma_status_t s;

	if (b->resident)
		return MAGMA_STATUS_OK;
	s = charge(conn, MAGMA_SYSTEM_RES_RESIDENT_BUFFERS, 1);
	b->resident = s == MAGMA_STATUS_OK;
	return s;
}

static magma_status_t do_import_buffer(struct magma_system_connection *conn, struct wire_msg *msg,
				       int *action)
{
	const struct wire_import_buffer *m = (const void *)msg->hdr;
	struct magma_system_buffer b = {.id = m->buffer_id, .size = m->size};
	int fd = msg->fds[0];
	magma_status_t s;

	(void)action;
	s = charge_buffer(conn, b.size);
	if (s)
		return s;
	msg->fds[0] = -1; /* ownership passes to the driver on success and failure */
	s = msd_driver_import_buffer(conn->dev->drv, (magma_handle_t)fd, conn->client_id, &b.msd);
	if (s)
		goto err_uncharge;
	s = table_insert(conn, &conn->handles.buffers, &b, 0);
	if (s)
		goto err_release;
	return MAGMA_STATUS_OK;

err_release:
	msd_buffer_release(b.msd);
err_uncharge:
	uncharge_buffer(conn, b.size);
	return s;
}

static void release_buffer_object(struct magma_system_connection *conn,
				  struct magma_system_buffer *b)
{
	uint64_t bytes = 0;
	uint32_t mappings =
		magma_system_handles_remove_buffer_mappings(&conn->handles, b->id, &bytes);

	uncharge(conn, MAGMA_SYSTEM_RES_MAPPINGS, mappings);
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPED_BYTES, bytes);
	if (b->mapped_ever)
		msd_connection_release_buffer(conn->msd, b->msd);
	msd_buffer_release(b->msd);
	if (b->resident)
		uncharge(conn, MAGMA_SYSTEM_RES_RESIDENT_BUFFERS, 1);
	uncharge_buffer(conn, b->size);
}

static magma_status_t do_release_buffer(struct magma_system_connection *conn, struct wire_msg *msg,
					int *action)
{
	const struct wire_release_buffer *m = (const void *)msg->hdr;
	struct magma_system_buffer b;

	(void)action;
	if (!magma_system_table_remove(&conn->handles.buffers, m->buffer_id, &b))
		return MAGMA_STATUS_INVALID_ARGS;
	release_buffer_object(conn, &b);
	return MAGMA_STATUS_OK;
}

static magma_status_t do_import_semaphore(struct magma_system_connection *conn,
					  struct wire_msg *msg, int *action)
{
	const struct wire_import_semaphore *m = (const void *)msg->hdr;
	struct magma_system_semaphore sem = {.id = m->semaphore_id};
	int fd = msg->fds[0];
	magma_status_t s;

	(void)action;
	s = charge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);
	if (s)
		return s;
	msg->fds[0] = -1; /* ownership passes to the driver on success and failure */
	s = msd_driver_import_semaphore(conn->dev->drv, (magma_handle_t)fd, conn->client_id,
					m->flags, &sem.msd);
	if (s)
		goto err_uncharge;
	s = table_insert(conn, &conn->handles.semaphores, &sem, 0);
	if (s)
		goto err_release;
	return MAGMA_STATUS_OK;

err_release:
	msd_semaphore_release(sem.msd);
err_uncharge:
	uncharge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);
	return s;
}

static void release_semaphore_object(struct magma_system_connection *conn,
				     struct magma_system_semaphore *sem)
{
	msd_semaphore_release(sem->msd);
	uncharge(conn, MAGMA_SYSTEM_RES_HANDLES, 1);
}

static magma_status_t do_release_semaphore(struct magma_system_connection *conn,
					   struct wire_msg *msg, int *action)
{
	const struct wire_release_semaphore *m = (const void *)msg->hdr;
	struct magma_system_semaphore sem;

	(void)action;
	if (!magma_system_table_remove(&conn->handles.semaphores, m->semaphore_id, &sem))
		return MAGMA_STATUS_INVALID_ARGS;
	release_semaphore_object(conn, &sem);
	return MAGMA_STATUS_OK;
}

static magma_status_t do_buffer_op(struct magma_system_connection *conn, struct wire_msg *msg,
				   int *action)
{
	const struct wire_perform_buffer_op *m = (const void *)msg->hdr;
	struct magma_system_buffer *b =
		magma_system_table_find(&conn->handles.buffers, m->buffer_id);

	(void)action;
	return msd_connection_buffer_range_op(conn->msd, b->msd, m->options, m->start_offset,
					      m->length);
}

static magma_status_t do_map_buffer(struct magma_system_connection *conn, struct wire_msg *msg,
				    int *action)
{
	const struct wire_map_buffer *m = (const void *)msg->hdr;
	struct magma_system_buffer *b =
		magma_system_table_find(&conn->handles.buffers, m->buffer_id);
	struct magma_system_mapping map = {
		.hw_va = m->hw_va,
		.length = m->length,
		.buffer_id = m->buffer_id,
	};
	magma_status_t s;

	(void)action;
	s = make_resident(conn, b);
	if (s)
		return s;
	s = charge(conn, MAGMA_SYSTEM_RES_MAPPINGS, 1);
	if (s)
		return s;
	s = charge(conn, MAGMA_SYSTEM_RES_MAPPED_BYTES, m->length);
	if (s)
		goto err_uncharge_mapping;
	s = magma_system_handles_add_mapping(&conn->handles, &map);
	if (s)
		goto err_uncharge_bytes;
	s = msd_connection_map_buffer(conn->msd, b->msd, m->hw_va, m->offset, m->length, m->flags);
	if (s)
		goto err_remove;
	b->mapped_ever = true;
	b->mapping_count++;
	return MAGMA_STATUS_OK;

err_remove:
	magma_system_handles_remove_mapping(&conn->handles, m->hw_va);
err_uncharge_bytes:
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPED_BYTES, m->length);
err_uncharge_mapping:
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPINGS, 1);
	return s;
}

static magma_status_t do_unmap_buffer(struct magma_system_connection *conn, struct wire_msg *msg,
				      int *action)
{
	const struct wire_unmap_buffer *m = (const void *)msg->hdr;
	struct magma_system_buffer *b =
		magma_system_table_find(&conn->handles.buffers, m->buffer_id);
	magma_status_t s;

	uint64_t length = magma_system_handles_find_mapping(&conn->handles, m->hw_va)->length;

	(void)action;
	s = msd_connection_unmap_buffer(conn->msd, b->msd, m->hw_va);
	if (s)
		return s;
	magma_system_handles_remove_mapping(&conn->handles, m->hw_va);
	b->mapping_count--;
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPED_BYTES, length);
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPINGS, 1);
	return MAGMA_STATUS_OK;
}

static struct msd_semaphore_t *semaphore_msd(struct magma_system_connection *conn, uint64_t id)
{
	struct magma_system_semaphore *s = magma_system_table_find(&conn->handles.semaphores, id);

	return s->msd; /* validated to exist */
}

static magma_status_t do_execute_command(struct magma_system_connection *conn, struct wire_msg *msg,
					 int *action)
{
	const struct wire_execute_command *m = (const void *)msg->hdr;
	const struct magma_exec_resource *res = (const void *)(m + 1);
	const struct magma_exec_command_buffer *cb = (const void *)(res + m->resource_count);
	const uint64_t *sems = (const void *)(cb + m->command_buffer_count);
	struct magma_system_context *ctx;
	struct msd_command_descriptor desc;
	/* The usual small submission needs no allocation: the arrays live on the stack. */
	struct msd_buffer_t *buffers_small[CONN_EXEC_SMALL], **buffers = buffers_small;
	struct msd_semaphore_t *sems_small[CONN_EXEC_SMALL], **sem_objs = sems_small;
	uint32_t nsem = m->wait_semaphore_count + m->signal_semaphore_count;
	magma_status_t s;

	(void)action;
	ctx = magma_system_table_find(&conn->handles.contexts, m->context_id);
	s = alloc_fails(conn, m->context_id);
	if (s)
		return s;
	if (m->resource_count > CONN_EXEC_SMALL)
		buffers = calloc(m->resource_count, sizeof(*buffers));
	if (nsem > CONN_EXEC_SMALL)
		sem_objs = calloc(nsem, sizeof(*sem_objs));
	if (!buffers || !sem_objs) {
		s = MAGMA_STATUS_MEMORY_ERROR;
		goto out_free;
	}
	for (uint32_t i = 0; i < m->resource_count; i++) {
		struct magma_system_buffer *b =
			magma_system_table_find(&conn->handles.buffers, res[i].buffer_id);

		buffers[i] = b->msd;
	}
	for (uint32_t i = 0; i < nsem; i++)
		sem_objs[i] = semaphore_msd(conn, sems[i]);
	desc = (struct msd_command_descriptor){
		.command_buffer_count = m->command_buffer_count,
		.resource_count = m->resource_count,
		.wait_semaphore_count = m->wait_semaphore_count,
		.signal_semaphore_count = m->signal_semaphore_count,
		.flags = m->flags,
		.command_buffers = cb,
		.exec_resources = res,
		.buffers = buffers,
		.wait_semaphores = sem_objs,
		.signal_semaphores = sem_objs + m->wait_semaphore_count,
	};
	s = msd_context_execute_command_buffers(ctx->msd, &desc);
out_free:
	if (buffers != buffers_small)
		free(buffers);
	if (sem_objs != sems_small)
		free(sem_objs);
	return s;
}

static magma_status_t do_execute_inline(struct magma_system_connection *conn, struct wire_msg *msg,
					int *action)
{
	const struct wire_execute_inline *m = (const void *)msg->hdr;
	const uint8_t *p = (const uint8_t *)(m + 1);
	struct magma_system_context *ctx;
	magma_status_t s = MAGMA_STATUS_OK;

	(void)action;
	ctx = magma_system_table_find(&conn->handles.contexts, m->context_id);
	for (uint32_t i = 0; i < m->command_count && s == MAGMA_STATUS_OK; i++) {
		struct msd_semaphore_t *sem_objs[MAGMA_SYSTEM_MAX_EXEC_SEMAPHORES];
		struct wire_inline_command rec;
		const uint8_t *data;

		memcpy(&rec, p, sizeof(rec));
		data = p + sizeof(rec);
		p = data + ((rec.size + 7) & ~7ull);
		for (uint32_t k = 0; k < rec.semaphore_count; k++) {
			uint64_t id;

			memcpy(&id, p + (size_t)k * sizeof(id), sizeof(id));
			sem_objs[k] = semaphore_msd(conn, id);
		}
		p += (size_t)rec.semaphore_count * sizeof(uint64_t);
		s = msd_context_execute_inline_commands(ctx->msd, rec.size, data,
							rec.semaphore_count, sem_objs);
	}
	return s;
}

/*
 * The access token is the file the device issued (magma_system_device_perf_token, or the daemon's
 * DIR/magmaN.perf-token): granted iff the fd refers to that same file. Without access, any other
 * fd, a device channel included, is refused with ACCESS_DENIED in the reply; the connection stays
 * open.
 */
static magma_status_t do_enable_perf_access(struct magma_system_connection *conn,
					    struct wire_msg *msg, int *action)
{
	bool granted = magma_system_device_is_perf_token(conn->dev, msg->fds[0]);

	(void)action;
	conn->perf_access = conn->perf_access || granted;
	/* The answer is whether the connection has access (Magma's IsPerformanceCounterAccess-
	 * Allowed): once granted, a later call with any fd is OK. */
	return send_status_reply(conn, WIRE_RESP(53),
				 conn->perf_access ? MAGMA_STATUS_OK : MAGMA_STATUS_ACCESS_DENIED);
}

static magma_status_t do_perf_counters(struct magma_system_connection *conn, struct wire_msg *msg,
				       int *action)
{
	const struct wire_perf_counters *m = (const void *)msg->hdr;
	const uint64_t *ids = (const void *)(m + 1);

	(void)action;
	if (m->hdr.type == WIRE_ENABLE_PERF_COUNTERS)
		return msd_connection_enable_performance_counters(conn->msd, ids, m->count);
	return msd_connection_clear_performance_counters(conn->msd, ids, m->count);
}

static magma_status_t do_create_pool(struct magma_system_connection *conn, struct wire_msg *msg,
				     int *action)
{
	const struct wire_perf_pool *m = (const void *)msg->hdr;
	struct magma_system_pool pool = {.id = m->pool_id};
	int fd = msg->fds[0];
	magma_status_t s;

	(void)action;
	s = msd_connection_create_performance_counter_buffer_pool(conn->msd, m->pool_id, &pool.msd);
	if (s)
		return s;
	s = magma_system_table_insert(&conn->handles.pools, &pool);
	if (s)
		goto err_release;
	msg->fds[0] = -1;
	s = magma_system_notify_add_pool(&conn->notify, m->pool_id, fd);
	if (s) {
		magma_system_table_remove(&conn->handles.pools, m->pool_id, NULL);
		goto err_release;
	}
	return MAGMA_STATUS_OK;

err_release:
	msd_connection_release_performance_counter_buffer_pool(conn->msd, pool.msd);
	return s;
}

static magma_status_t release_pool_object(struct magma_system_connection *conn,
					  struct magma_system_pool *pool)
{
	magma_status_t s;

	s = msd_connection_release_performance_counter_buffer_pool(conn->msd, pool->msd);
	magma_system_notify_remove_pool(&conn->notify, pool->id);
	return s;
}

static magma_status_t do_release_pool(struct magma_system_connection *conn, struct wire_msg *msg,
				      int *action)
{
	const struct wire_perf_pool *m = (const void *)msg->hdr;
	struct magma_system_pool pool;

	(void)action;
	if (!magma_system_table_remove(&conn->handles.pools, m->pool_id, &pool))
		return MAGMA_STATUS_INVALID_ARGS;
	return release_pool_object(conn, &pool);
}

static magma_status_t do_add_offsets(struct magma_system_connection *conn, struct wire_msg *msg,
				     int *action)
{
	const struct wire_add_perf_offsets *m = (const void *)msg->hdr;
	const struct magma_buffer_offset *o = (const void *)(m + 1);
	struct magma_system_pool *pool = magma_system_table_find(&conn->handles.pools, m->pool_id);
	magma_status_t s = MAGMA_STATUS_OK;

	(void)action;
	for (uint64_t i = 0; i < m->count && s == MAGMA_STATUS_OK; i++) {
		struct magma_system_buffer *b =
			magma_system_table_find(&conn->handles.buffers, o[i].buffer_id);

		/* A dump writes the buffer through the service's mapping of it. */
		s = make_resident(conn, b);
		if (s)
			break;
		s = msd_connection_add_performance_counter_buffer_offset_to_pool(
			conn->msd, pool->msd, b->msd, o[i].buffer_id, o[i].offset, o[i].length);
	}
	return s;
}

static magma_status_t do_remove_perf_buffer(struct magma_system_connection *conn,
					    struct wire_msg *msg, int *action)
{
	const struct wire_remove_perf_buffer *m = (const void *)msg->hdr;
	struct magma_system_pool *pool = magma_system_table_find(&conn->handles.pools, m->pool_id);
	struct magma_system_buffer *b =
		magma_system_table_find(&conn->handles.buffers, m->buffer_id);

	(void)action;
	return msd_connection_remove_performance_counter_buffer_from_pool(conn->msd, pool->msd,
									  b->msd);
}

static magma_status_t do_dump_perf(struct magma_system_connection *conn, struct wire_msg *msg,
				   int *action)
{
	const struct wire_dump_perf *m = (const void *)msg->hdr;
	struct magma_system_pool *pool = magma_system_table_find(&conn->handles.pools, m->pool_id);

	(void)action;
	return msd_connection_dump_performance_counters(conn->msd, pool->msd, m->trigger_id);
}

/* clang-format off */
/* Each message's handler, and the msd.h entry point it calls (for the hooks; NULL: none). */
static const struct {
	uint32_t type;
	magma_status_t (*fn)(struct magma_system_connection *conn, struct wire_msg *msg,
			     int *action);
	const char *call;
} dispatch[] = {
	{ WIRE_CONNECTION_RELEASE,      do_release_connection, NULL },
	{ WIRE_FLUSH,                   do_flush,              NULL },
	{ WIRE_ALLOC_OBJECT_IDS,        do_alloc_object_ids,   NULL },
	{ WIRE_CREATE_CONTEXT,          do_create_context,     "msd_connection_create_context" },
	{ WIRE_RELEASE_CONTEXT,         do_release_context,    "msd_context_destroy" },
	{ WIRE_IMPORT_BUFFER,           do_import_buffer,      "msd_driver_import_buffer" },
	{ WIRE_RELEASE_BUFFER,          do_release_buffer,     "msd_buffer_release" },
	{ WIRE_IMPORT_SEMAPHORE,        do_import_semaphore,   "msd_driver_import_semaphore" },
	{ WIRE_RELEASE_SEMAPHORE,       do_release_semaphore,  "msd_semaphore_release" },
	{ WIRE_PERFORM_BUFFER_OP,       do_buffer_op,          "msd_connection_buffer_range_op" },
	{ WIRE_MAP_BUFFER,              do_map_buffer,         "msd_connection_map_buffer" },
	{ WIRE_UNMAP_BUFFER,            do_unmap_buffer,       "msd_connection_unmap_buffer" },
	{ WIRE_EXECUTE_COMMAND,         do_execute_command,
	  "msd_context_execute_command_buffers" },
	{ WIRE_EXECUTE_INLINE_COMMANDS, do_execute_inline,
	  "msd_context_execute_inline_commands" },
	{ WIRE_ENABLE_PERF_ACCESS,      do_enable_perf_access, NULL },
	{ WIRE_ENABLE_PERF_COUNTERS,    do_perf_counters,
	  "msd_connection_enable_performance_counters" },
	{ WIRE_CLEAR_PERF_COUNTERS,     do_perf_counters,
	  "msd_connection_clear_performance_counters" },
	{ WIRE_CREATE_PERF_POOL,        do_create_pool,
	  "msd_connection_create_performance_counter_buffer_pool" },
	{ WIRE_RELEASE_PERF_POOL,       do_release_pool,
	  "msd_connection_release_performance_counter_buffer_pool" },
	{ WIRE_ADD_PERF_OFFSETS,        do_add_offsets,
	  "msd_connection_add_performance_counter_buffer_offset_to_pool" },
	{ WIRE_REMOVE_PERF_BUFFER,      do_remove_perf_buffer,
	  "msd_connection_remove_performance_counter_buffer_from_pool" },
	{ WIRE_DUMP_PERF_COUNTERS,      do_dump_perf,
	  "msd_connection_dump_performance_counters" },
};
/* clang-format on */

/* The context a (validated) message names, or 0. */
static uint32_t message_context(const struct wire_msg *msg)
{
	switch (msg->hdr->type) {
	case WIRE_CREATE_CONTEXT:
		return ((const struct wire_create_context *)(const void *)msg->hdr)->context_id;
	case WIRE_RELEASE_CONTEXT:
		return ((const struct wire_release_context *)(const void *)msg->hdr)->context_id;
	case WIRE_EXECUTE_COMMAND:
		return ((const struct wire_execute_command *)(const void *)msg->hdr)->context_id;
	case WIRE_EXECUTE_INLINE_COMMANDS:
		return ((const struct wire_execute_inline *)(const void *)msg->hdr)->context_id;
	default:
		return 0;
	}
}

/*
 * Tells the hooks what a validated message is about to do: its call (which they may fail in
 * the driver's place: the message then ends as if @call had returned that status) and, for a
 * submission, that one is about to reach the driver.
 */
static magma_status_t connection_hooks(struct magma_system_connection *conn,
				       const struct wire_msg *msg, const char *call)
{
	const struct magma_system_hooks *hooks = &conn->dev->hooks;
	struct magma_system_site site = connection_site(conn, message_context(msg), call);
	magma_status_t s = MAGMA_STATUS_OK;

	if (hooks->call)
		s = hooks->call(hooks->ctx, &site);
	if (s == MAGMA_STATUS_OK && hooks->submission &&
	    (msg->hdr->type == WIRE_EXECUTE_COMMAND ||
	     msg->hdr->type == WIRE_EXECUTE_INLINE_COMMANDS))
		hooks->submission(hooks->ctx, &site);
	return s;
}

/* Validates and dispatches one message. */
static magma_status_t connection_process(struct magma_system_connection *conn, struct wire_msg *msg,
					 int *action)
{
	magma_status_t s = magma_system_validate(conn, msg);

	if (s)
		return s;
	for (size_t i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++) {
		if (dispatch[i].type != msg->hdr->type)
			continue;
		if (conn->dev->has_hooks) {
			s = connection_hooks(conn, msg, dispatch[i].call);
			if (s)
				return s;
		}
		return dispatch[i].fn(conn, msg, action);
	}
	return MAGMA_STATUS_INVALID_ARGS; /* unreachable: the validator knows the same types */
}

/* Releases every object through msd.h in the documented order, then closes the MSD connection. */
static void connection_teardown(struct magma_system_connection *conn)
{
	struct magma_system_handles *h = &conn->handles;

	uint64_t bytes;
	uint32_t mappings;

	msd_connection_set_notification_callback(conn->msd, NULL, NULL);
	/* In ascending id order, whatever order the tables hold them in. */
	magma_system_table_sort(&h->contexts);
	magma_system_table_sort(&h->pools);
	magma_system_table_sort(&h->buffers);
	magma_system_table_sort(&h->semaphores);
	for (uint32_t i = 0; i < h->contexts.count; i++) {
		struct magma_system_context *c = magma_system_table_at(&h->contexts, i);

		msd_context_destroy(c->msd);
	}
	for (uint32_t i = 0; i < h->pools.count; i++)
		release_pool_object(conn, magma_system_table_at(&h->pools, i));
	/* Every mapping goes with its buffer: forgotten at once, not looked up buffer by buffer. */
	mappings = magma_system_handles_remove_all_mappings(h, &bytes);
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPED_BYTES, bytes);
	uncharge(conn, MAGMA_SYSTEM_RES_MAPPINGS, mappings);
	for (uint32_t i = 0; i < h->buffers.count; i++)
		release_buffer_object(conn, magma_system_table_at(&h->buffers, i));
	for (uint32_t i = 0; i < h->semaphores.count; i++)
		release_semaphore_object(conn, magma_system_table_at(&h->semaphores, i));
	msd_connection_close(conn->msd);
	conn->msd = NULL;
	magma_system_handles_fini(h);
}

static void send_error_event(struct magma_system_connection *conn, magma_status_t status)
{
	struct pollfd pfd = {.fd = conn->primary_fd, .events = POLLOUT};
	struct wire_evt_error evt;

	/* Best effort: a client that does not read gets the hang-up only. */
	if (poll(&pfd, 1, 100) <= 0 || !(pfd.revents & POLLOUT))
		return;
	memset(&evt, 0, sizeof(evt));
	evt.hdr.type = WIRE_EVT_ERROR;
	evt.hdr.size = sizeof(evt);
	evt.status = status;
	wire_send(conn->primary_fd, &evt, sizeof(evt), NULL, 0);
}

static magma_status_t status_of_recv_error(int ret)
{
	switch (ret) {
	case -ENOMEM:
		return MAGMA_STATUS_MEMORY_ERROR;
	case -EBADMSG:
		return MAGMA_STATUS_INVALID_ARGS;
	default:
		return MAGMA_STATUS_CONNECTION_LOST;
	}
}

/*
 * Input is idle: send the pending consumed-counts if due. When the socket cannot take them now,
 * POLLOUT is added to @primary so the wait ends when it can. Returns 0, or -1 when the peer is
 * gone.
 */
static int connection_idle_flow(struct magma_system_connection *conn, struct pollfd *primary)
{
	int ret;

	if (!magma_system_flow_should_send(&conn->flow, true))
		return 0;
	ret = magma_system_flow_try_send(&conn->flow, conn->primary_fd);
	if (ret == -EAGAIN)
		primary->events |= POLLOUT; /* wake when it can be sent */
	else if (ret)
		return -1;
	return 0;
}

/*
 * Wait until the primary channel has input, handling the notification path and consumed-counts
 * meanwhile; *@readable says whether the channel has input (false: look again). @input_idle says
 * the channel is known to be empty, so the first look without waiting is skipped.
 */
static magma_status_t connection_wait(struct magma_system_connection *conn, bool input_idle,
				      bool *readable)
{
	struct pollfd pfd[3];
	int queue_fd, timeout, ret;

	*readable = false;
	pfd[0] = (struct pollfd){.fd = conn->primary_fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = conn->notify.wake_fd, .events = POLLIN};
	queue_fd = magma_system_notify_queue_fd(&conn->notify);
	pfd[2] = (struct pollfd){.fd = queue_fd, .events = POLLOUT};
	/* Look without waiting first: idle input is when consumed-events go out. */
	timeout = 0;
	if (input_idle) {
		if (connection_idle_flow(conn, &pfd[0]))
			return MAGMA_STATUS_CONNECTION_LOST;
		timeout = -1;
	}
	for (;;) {
		/* Asleep: a client in this process may deliver meanwhile (magma_system_direct.c).
		 */
		magma_system_direct_unlock(conn->direct);
		ret = poll(pfd, 3, timeout);
		magma_system_direct_lock(conn->direct);
		if (ret < 0 && errno != EINTR)
			return MAGMA_STATUS_INTERNAL_ERROR;
		/* A whole message read ahead is input too: never wait while one is there. */
		if (ret > 0 || timeout < 0 || wire_reader_has_message(&conn->reader))
			break;
		if (connection_idle_flow(conn, &pfd[0]))
			return MAGMA_STATUS_CONNECTION_LOST;
		timeout = -1;
	}
	if (ret <= 0)
		return MAGMA_STATUS_OK;
	if (pfd[1].revents & POLLIN || (pfd[2].revents & (POLLOUT | POLLERR | POLLHUP)))
		magma_system_notify_drain(&conn->notify);
	if (pfd[0].revents & POLLOUT && !(pfd[0].revents & POLLIN)) {
		if (magma_system_flow_should_send(&conn->flow, true))
			magma_system_flow_try_send(&conn->flow, conn->primary_fd);
	}
	*readable = pfd[0].revents & (POLLIN | POLLHUP | POLLERR);
	return MAGMA_STATUS_OK;
}

/*
 * Runs until the connection ends; returns the status it ended with (OK when orderly). Right after
 * a message the next one is taken (from the read-ahead, else one non-blocking read) without a
 * poll() first; after CONN_RECV_BURST such messages (or when none is queued) the loop polls all
 * its fds again (without waiting while a whole message is read ahead).
 */
static magma_status_t connection_loop(struct magma_system_connection *conn)
{
	int fl = fcntl(conn->primary_fd, F_GETFL);
	uint32_t burst = 0;

	/* Flow events go out with a non-blocking send (magma_system_flow_try_send). */
	if (fl >= 0)
		fcntl(conn->primary_fd, F_SETFL, fl | O_NONBLOCK);

	for (;;) {
		bool input_idle = false, readable = true;
		int action = 0, ret = -EAGAIN;
		magma_status_t s;
		struct wire_msg msg;

		s = magma_system_notify_take_error(&conn->notify);
		if (s)
			return s;
		if (burst && burst < CONN_RECV_BURST) {
			ret = wire_reader_recv(&conn->reader, conn->primary_fd, &msg);
			input_idle = ret == -EAGAIN;
		}
		if (ret == -EAGAIN) {
			burst = 0;
			s = connection_wait(conn, input_idle, &readable);
			if (s)
				return s;
			/* Messages read ahead are not in the socket: poll() cannot show them. */
			if (!readable && !wire_reader_has_message(&conn->reader))
				continue;
			ret = wire_reader_recv(&conn->reader, conn->primary_fd, &msg);
			if (ret == -EAGAIN)
				continue;
		}
		if (ret == -ECONNRESET)
			return MAGMA_STATUS_OK; /* the client hung up: orderly */
		if (ret)
			return status_of_recv_error(ret);
		burst++;
		magma_probe_mark(MAGMA_PROBE_SERVICE_RECV);
		s = connection_process(conn, &msg, &action);
		if (s == MAGMA_STATUS_OK)
			magma_system_flow_note(&conn->flow, &msg);
		wire_msg_free(&msg);
		if (s)
			return s;
		if (action == CONN_CLOSE_ORDERLY)
			return MAGMA_STATUS_OK;
		if (magma_system_flow_should_send(&conn->flow, false)) {
			ret = magma_system_flow_try_send(&conn->flow, conn->primary_fd);
			if (ret && ret != -EAGAIN)
				return MAGMA_STATUS_CONNECTION_LOST;
		}
	}
}

static void *connection_thread(void *arg)
{
	struct magma_system_connection *conn = arg;
	const struct magma_system_hooks *hooks = &conn->dev->hooks;
	struct magma_system_site site = connection_site(conn, 0, NULL);
	magma_status_t s;

	magma_system_direct_lock(conn->direct);
	if (hooks->connection_opened)
		hooks->connection_opened(hooks->ctx, &site);
	s = connection_loop(conn);
	magma_system_direct_closing(conn->direct);
	if (hooks->connection_ended)
		hooks->connection_ended(hooks->ctx, &site, s);
	/*
	 * Deliver what the driver said before the end (a fault report before CONTEXT_KILLED), then
	 * hang up the notification channel before the error goes out: a client that has seen the
	 * error finds the channel closed, never still open. Every object is released before the
	 * error goes out too, so a client that has seen it finds everything the connection held
	 * given back (a retry is not refused for what the dead connection still held).
	 */
	magma_system_notify_drain(&conn->notify);
	shutdown(conn->notif_fd, SHUT_RDWR);
	connection_teardown(conn);
	if (s != MAGMA_STATUS_OK && s != MAGMA_STATUS_CONNECTION_LOST) {
		/* The client's mistake (or a GPU fault of its own) unless the service failed. */
		magma_system_log(s == MAGMA_STATUS_INTERNAL_ERROR ? MAGMA_LOG_ERROR
								  : MAGMA_LOG_WARNING,
				 "closing connection of client %llu: %s (%d)",
				 (unsigned long long)conn->client_id, magma_status_name(s), s);
		send_error_event(conn, s);
	}
	shutdown(conn->primary_fd, SHUT_RDWR);
	if (conn->direct) {
		const struct magma_system_direct_ops *dops = &conn->dev->direct_ops;

		magma_system_direct_detach_locked(conn->direct);
		magma_system_direct_unlock(conn->direct);
		if (dops->withdraw)
			dops->withdraw(dops->ctx, conn->direct);
	}
	magma_system_notify_fini(&conn->notify);
	if (hooks->connection_closed)
		hooks->connection_closed(hooks->ctx, &site);
	magma_system_device_connection_finished(conn->dev, conn);
	return NULL;
}

/*
 * The MSD's notification callback of a connection (a driver thread): the hooks see the driver's
 * own payloads, then the notification path queues it for the client.
 */
static void connection_notification(void *token, struct msd_notification_t *notification)
{
	struct magma_system_connection *conn = token;
	const struct magma_system_hooks *hooks = &conn->dev->hooks;

	if (hooks->notification && notification->type == MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND) {
		struct magma_system_site site = connection_site(conn, 0, NULL);
		uint32_t size = notification->u.channel_send.size;

		hooks->notification(hooks->ctx, &site, notification->u.channel_send.data,
				    size < MSD_CHANNEL_SEND_MAX_SIZE ? size
								     : MSD_CHANNEL_SEND_MAX_SIZE);
	}
	magma_system_notify_callback(&conn->notify, notification);
}

/*
 * magma_system_connection_create - a connection over @msd (ownership passes, also on failure)
 * with channels @primary_fd and @notif_fd (ownership passes, also on failure), for the process
 * @client named @comm (for hooks; copied) (a reference, and its MAGMA_SYSTEM_RES_CONNECTIONS
 * charge of one, pass too, also on failure; magma_system_connection_free gives both back).
 * Installs the notification callback. NULL on failure. The caller numbers it, adds it to the
 * device and starts it.
 */
struct magma_system_connection *magma_system_connection_create(struct magma_system_device *dev,
							       struct msd_connection_t *msd,
							       struct magma_system_client *client,
							       uint64_t client_id, const char *comm,
							       int primary_fd, int notif_fd)
{
	struct magma_system_connection *conn = calloc(1, sizeof(*conn));

	if (!conn)
		goto err_close;
	conn->magic = MAGMA_SYSTEM_CONNECTION_MAGIC;
	conn->dev = dev;
	conn->msd = msd;
	conn->msd_name = msd;
	conn->client = client;
	conn->client_id = client_id;
	snprintf(conn->comm, sizeof(conn->comm), "%s", comm);
	conn->primary_fd = primary_fd;
	conn->notif_fd = notif_fd;
	wire_reader_init(&conn->reader);
	magma_system_handles_init(&conn->handles);
	if (magma_system_notify_init(&conn->notify, notif_fd))
		goto err_free;
	/* Observed connections keep the channel: hooks run on the connection thread. */
	if (dev->has_direct && !dev->has_hooks) {
		conn->direct = magma_system_direct_create(conn);
		if (!conn->direct) {
			magma_system_notify_fini(&conn->notify);
			goto err_free;
		}
	}
	msd_connection_set_notification_callback(msd, connection_notification, conn);
	return conn;

err_free:
	free(conn);
err_close:
	msd_connection_close(msd);
	close(primary_fd);
	close(notif_fd);
	magma_system_account_uncharge(&dev->acct, client, MAGMA_SYSTEM_RES_CONNECTIONS, 1);
	magma_system_account_client_put(&dev->acct, client);
	return NULL;
}

/* magma_system_connection_deliver_locked - see magma_system_internal.h. Endpoint lock held. */
void magma_system_connection_deliver_locked(struct magma_system_connection *conn,
					    struct wire_msg *msg, magma_status_t *s, int *action)
{
	*action = 0;
	*s = connection_process(conn, msg, action);
}

/* magma_system_connection_fail - see magma_system_internal.h. */
void magma_system_connection_fail(struct magma_system_connection *conn, magma_status_t s)
{
	magma_system_notify_fail(&conn->notify, s);
}

/*
 * magma_system_connection_publish - after a successful start: tells the device layer about the
 * connection's endpoint (a reference passes), keyed by the service end of its primary channel.
 */
void magma_system_connection_publish(struct magma_system_connection *conn)
{
	const struct magma_system_direct_ops *dops = &conn->dev->direct_ops;
	struct stat st;

	if (!conn->direct || !dops->publish || fstat(conn->primary_fd, &st))
		return;
	magma_system_direct_get(conn->direct);
	dops->publish(dops->ctx, (uint64_t)st.st_dev, (uint64_t)st.st_ino, conn->direct);
}

/* magma_system_connection_start - starts the thread. 0 or -errno (then the caller frees). */
int magma_system_connection_start(struct magma_system_connection *conn)
{
	return -pthread_create(&conn->thread, NULL, connection_thread, conn);
}

/*
 * magma_system_connection_shutdown - makes the thread end (its receive sees a hang-up). Any
 * thread; the caller holds the device lock and the connection is not finished.
 */
void magma_system_connection_shutdown(struct magma_system_connection *conn)
{
	shutdown(conn->primary_fd, SHUT_RDWR);
}

/*
 * magma_system_connection_free - after the thread was joined (or never started): releases what is
 * left, closes the channels and gives back the connection's charge and client reference.
 */
void magma_system_connection_free(struct magma_system_connection *conn)
{
	if (!conn)
		return;
	if (conn->msd) { /* never started */
		connection_teardown(conn);
		magma_system_notify_fini(&conn->notify);
	}
	wire_reader_fini(&conn->reader);
	magma_system_direct_put(conn->direct);
	close(conn->primary_fd);
	close(conn->notif_fd);
	magma_system_account_uncharge(&conn->dev->acct, conn->client, MAGMA_SYSTEM_RES_CONNECTIONS,
				      1);
	magma_system_account_client_put(&conn->dev->acct, conn->client);
	conn->magic = 0;
	free(conn);
}

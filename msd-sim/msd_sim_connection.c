/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_connection.c - connections: their address space, buffer mappings and notifications.
 *
 * A connection owns one GPU address space (msd_sim_mmu.c) from msd_device_open on. Mapping a
 * buffer range validates it (page-aligned, non-empty, inside the buffer, inside
 * [MAGMA_SIM_GPU_VA_MIN, MAGMA_SIM_GPU_VA_LIMIT), no overlap), pins the pages of the buffer's
 * shared host mapping into bus frames and writes leaf entries with the MAGMA_MAP_FLAG_* rights;
 * invalid entries become valid, so no TLB flush is needed. Unmapping clears the entries, flushes
 * the range on the bound slot, then unpins. A mapping that in-flight work references (a command
 * buffer, or a resource listed in the descriptor) stays alive until that work retires: unmap
 * returns at once, the mapping is marked dying (its VA range stays reserved, so it cannot be
 * mapped over) and is torn down by the retirement. The connection is refcounted (caller until
 * close, contexts, jobs, queued notifications) so the address space outlives close while the GPU
 * uses it; closing abandons the work of its contexts (msd_sim_abandon.c), so that is not long.
 * Entry points run on the connection's thread; state is guarded by the device lock.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"

/* msd_sim_connection_from - @c as a live, open msd-sim connection, or NULL. */
struct msd_sim_connection *msd_sim_connection_from(struct msd_connection_t *c)
{
	if (!c || c->magic_ != MSD_SIM_CONNECTION_MAGIC)
		return NULL;
	return (struct msd_sim_connection *)c;
}

/* msd_sim_connection_next_sequence - see msd_sim_hooks.h. */
uint64_t msd_sim_connection_next_sequence(struct msd_connection_t *c)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	uint64_t seq;

	if (!conn)
		return 0;
	msd_sim_mutex_lock(&conn->dev->lock);
	seq = conn->next_sequence;
	msd_sim_mutex_unlock(&conn->dev->lock);
	return seq;
}

/* msd_device_open - see msd.h. */
struct msd_connection_t *msd_device_open(struct msd_device_t *d, msd_client_id_t client_id)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);
	struct msd_sim_connection *conn;

	if (!dev) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad device");
		return NULL;
	}
	conn = msd_sim_calloc(dev->drv, 1, sizeof(*conn));
	if (!conn)
		return NULL;
	if (msd_sim_as_init(dev, &conn->as) != MAGMA_STATUS_OK) {
		free(conn);
		return NULL;
	}
	conn->base.magic_ = MSD_SIM_CONNECTION_MAGIC;
	conn->dev = dev;
	conn->client_id = client_id;
	conn->refs = 1;
	conn->next_context_id = 1;
	conn->next_sequence = 1;
	msd_sim_va_pool_init(&conn->inline_va, MAGMA_SIM_GPU_VA_LIMIT, MSD_SIM_INLINE_VA_END);
	msd_sim_list_init(&conn->inline_cache);
	msd_sim_list_init(&conn->mappings);
	msd_sim_list_init(&conn->pools);
	msd_sim_sched_connection_init(conn);
	msd_sim_mutex_init(&conn->notify_lock);
	msd_sim_mutex_lock(&dev->lock);
	conn->client = msd_sim_client_get_locked(dev, client_id);
	if (!conn->client) {
		msd_sim_mutex_unlock(&dev->lock);
		msd_sim_mutex_fini(&conn->notify_lock);
		msd_sim_as_fini(dev, &conn->as);
		free(conn);
		return NULL;
	}
	dev->connections++;
	msd_sim_mutex_unlock(&dev->lock);
	return &conn->base;
}

/* msd_sim_connection_get_locked - take a reference (device lock held). */
void msd_sim_connection_get_locked(struct msd_sim_connection *conn)
{
	msd_sim_mutex_assert_held(&conn->dev->lock);
	conn->refs++;
}

struct msd_sim_flush_args {
	struct msd_sim_as *as;
	uint64_t va;
	uint64_t pages;
};

static void msd_sim_connection_flush_fn(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_flush_args *a = arg;

	msd_sim_as_flush_range_locked(dev, a->as, a->va, a->pages);
}

static void msd_sim_connection_unbind_fn(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	msd_sim_as_unbind_locked(dev, arg);
}

/* Clear the entries, flush the bound slot, unpin, drop the buffer. The mapping is unused. */
static void msd_sim_mapping_teardown_locked(struct msd_sim_device *dev,
					    struct msd_sim_connection *conn,
					    struct msd_sim_mapping *m) MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_flush_args a = {&conn->as, m->gpu_va, m->length / SIM_PAGE_SIZE};

	msd_sim_list_del(&m->link);
	msd_sim_as_clear_ptes(&conn->as, m->gpu_va, a.pages);
	msd_sim_device_call_locked(dev, msd_sim_connection_flush_fn, &a);
	if (sim_bus_unmap(dev->sim, m->pa, a.pages))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "bus unmap of a mapping failed");
	msd_sim_buffer_put(m->buffer);
	free(m->pa);
	free(m);
}

/* Last reference: mappings, slot, inline chunks and tables, perf state, then the memory. */
static void msd_sim_connection_release_locked(struct msd_sim_connection *conn)
	MSD_SIM_REQUIRES(conn->dev->lock)
{
	struct msd_sim_device *dev = conn->dev;
	struct msd_sim_list *pos, *tmp;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
		struct msd_sim_mapping *m = msd_sim_container_of(pos, struct msd_sim_mapping, link);

		msd_sim_mapping_teardown_locked(dev, conn, m);
	}
	msd_sim_perf_connection_fini_locked(conn);
	msd_sim_device_call_locked(dev, msd_sim_connection_unbind_fn, &conn->as);
	msd_sim_inline_connection_fini_locked(dev, conn);
	msd_sim_as_fini(dev, &conn->as);
	msd_sim_client_put_locked(dev, conn->client);
	dev->connections--;
	msd_sim_mutex_fini(&conn->notify_lock);
	conn->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(conn);
}

/* msd_sim_connection_put_locked - drop a reference; the last frees the address space. */
void msd_sim_connection_put_locked(struct msd_sim_connection *conn)
{
	msd_sim_mutex_assert_held(&conn->dev->lock);
	if (--conn->refs == 0)
		msd_sim_connection_release_locked(conn);
}

/*
 * msd_connection_close - see msd.h. No notification is delivered once this returns. The work of
 * contexts not destroyed yet is abandoned like theirs (msd_sim_abandon.c); the address space
 * lives until the last job holding it is dropped or retires.
 */
void msd_connection_close(struct msd_connection_t *c)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_device *dev;

	if (!conn) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection");
		return;
	}
	dev = conn->dev;
	msd_sim_mutex_lock(&conn->notify_lock);
	conn->notify_fn = NULL;
	conn->notify_token = NULL;
	msd_sim_mutex_unlock(&conn->notify_lock);
	msd_sim_mutex_lock(&dev->lock);
	conn->closed = true;
	conn->base.magic_ = MSD_SIM_DEAD_MAGIC;
	if (conn->jobs)
		msd_sim_abandon_locked(dev, conn);
	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_connection_put_locked(conn);
	msd_sim_mutex_unlock(&dev->lock);
}

/* Any mapping (live or dying) of @conn that overlaps [@va, @va + @len). */
static bool msd_sim_connection_overlaps_locked(struct msd_sim_connection *conn, uint64_t va,
					       uint64_t len) MSD_SIM_REQUIRES(conn->dev->lock)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
		struct msd_sim_mapping *m = msd_sim_container_of(pos, struct msd_sim_mapping, link);

		if (va < m->gpu_va + m->length && m->gpu_va < va + len)
			return true;
	}
	return false;
}

/* msd_connection_map_buffer - see msd.h. MEMORY_ERROR when pinning or tables fail. */
magma_status_t msd_connection_map_buffer(struct msd_connection_t *c, struct msd_buffer_t *b,
					 uint64_t gpu_va, uint64_t offset, uint64_t length,
					 uint64_t flags)
{
	const uint64_t page_mask = SIM_PAGE_SIZE - 1;
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_mapping *m;
	struct msd_sim_device *dev;
	magma_status_t status;
	uint8_t *host;

	if (!conn || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
	/*
	 * GROWABLE asks for tables populated on demand; msd-sim populates every mapping at map
	 * time, which satisfies it.
	 */
	if (flags & ~(MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE | MAGMA_MAP_FLAG_EXECUTE |
		      MAGMA_MAP_FLAG_GROWABLE))
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "map flags %#" PRIx64, flags);
	if ((gpu_va | offset | length) & page_mask || !length)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "va %#" PRIx64 " offset %#" PRIx64 " length %#" PRIx64
				   ": unaligned or empty",
				   gpu_va, offset, length);
	if (offset > buf->size || length > buf->size - offset)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "range %#" PRIx64 "+%#" PRIx64 " outside buffer of %#" PRIx64,
				   offset, length, buf->size);
	if (gpu_va < MAGMA_SIM_GPU_VA_MIN || gpu_va > MAGMA_SIM_GPU_VA_LIMIT ||
	    length > MAGMA_SIM_GPU_VA_LIMIT - gpu_va)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "va %#" PRIx64 "+%#" PRIx64 " outside the client range", gpu_va,
				   length);
	status = msd_sim_buffer_host(buf, (void **)&host);
	if (status != MAGMA_STATUS_OK)
		return status;
	m = msd_sim_calloc(conn->dev->drv, 1, sizeof(*m));
	if (!m)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	m->pa = msd_sim_calloc(conn->dev->drv, length / SIM_PAGE_SIZE, sizeof(uint64_t));
	if (!m->pa) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		goto err_free;
	}
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_mutex_assert_held(&conn->dev->lock);
	if (msd_sim_connection_overlaps_locked(conn, gpu_va, length)) {
		status = MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				     "va %#" PRIx64 "+%#" PRIx64 " overlaps a mapping", gpu_va,
				     length);
		goto err_unlock;
	}
	if (sim_bus_map(dev->sim, host + offset, length / SIM_PAGE_SIZE, m->pa)) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "bus full");
		goto err_unlock;
	}
	status = msd_sim_as_write_ptes(dev, &conn->as, gpu_va, m->pa, length / SIM_PAGE_SIZE,
				       msd_sim_map_flags_to_pte(flags));
	if (status != MAGMA_STATUS_OK)
		goto err_unpin;
	m->buffer = buf;
	msd_sim_buffer_get(buf);
	m->host = host + offset;
	m->gpu_va = gpu_va;
	m->offset = offset;
	m->length = length;
	m->flags = flags;
	msd_sim_list_add_tail(&conn->mappings, &m->link);
	msd_sim_mutex_unlock(&dev->lock);
	return MAGMA_STATUS_OK;

err_unpin:
	/* The entries were invalid before and the GPU was never told: clearing needs no flush. */
	msd_sim_as_clear_ptes(&conn->as, gpu_va, length / SIM_PAGE_SIZE);
	sim_bus_unmap(dev->sim, m->pa, length / SIM_PAGE_SIZE);
err_unlock:
	msd_sim_mutex_unlock(&dev->lock);
err_free:
	free(m->pa);
	free(m);
	return status;
}

/* Remove @m now, or mark it dying when in-flight work still uses it. */
static void msd_sim_mapping_remove_locked(struct msd_sim_device *dev,
					  struct msd_sim_connection *conn,
					  struct msd_sim_mapping *m) MSD_SIM_REQUIRES(dev->lock)
{
	if (m->uses)
		m->dying = true;
	else
		msd_sim_mapping_teardown_locked(dev, conn, m);
}

/* msd_connection_unmap_buffer - see msd.h. Deferred while in-flight work uses the mapping. */
magma_status_t msd_connection_unmap_buffer(struct msd_connection_t *c, struct msd_buffer_t *b,
					   uint64_t gpu_va)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_list *pos, *tmp;
	struct msd_sim_device *dev;

	if (!conn || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
		struct msd_sim_mapping *m = msd_sim_container_of(pos, struct msd_sim_mapping, link);

		if (m->buffer == buf && m->gpu_va == gpu_va && !m->dying) {
			msd_sim_mapping_remove_locked(dev, conn, m);
			msd_sim_mutex_unlock(&dev->lock);
			return MAGMA_STATUS_OK;
		}
	}
	msd_sim_mutex_unlock(&dev->lock);
	return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "no mapping of the buffer at %#" PRIx64,
			   gpu_va);
}

/* msd_connection_release_buffer - see msd.h: every mapping of @b goes (deferred if in use). */
void msd_connection_release_buffer(struct msd_connection_t *c, struct msd_buffer_t *b)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_list *pos, *tmp;
	struct msd_sim_device *dev;

	if (!conn || !buf) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
		return;
	}
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	/* Teardown may drop the lock (flush on the device thread): restart after each removal. */
restart:
	msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
		struct msd_sim_mapping *m = msd_sim_container_of(pos, struct msd_sim_mapping, link);

		if (m->buffer == buf && !m->dying) {
			msd_sim_mapping_remove_locked(dev, conn, m);
			goto restart;
		}
	}
	msd_sim_mutex_unlock(&dev->lock);
}

/*
 * msd_connection_buffer_range_op - see msd.h. Tables are always populated at map time, so
 * POPULATE_TABLES commits the range's pages (as Magma defines it: populating commits) and
 * DEPOPULATE_TABLES keeps the tables (the range stays mapped until unmapped). COMMIT allocates
 * the memfd's pages; DECOMMIT frees them and fails with BAD_STATE while part of the range is
 * mapped in this connection. The range must lie inside the
 * buffer and be non-empty; offsets need not be page-aligned.
 */
magma_status_t msd_connection_buffer_range_op(struct msd_connection_t *c, struct msd_buffer_t *b,
					      uint32_t options, uint64_t start_offset,
					      uint64_t length)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_list *pos, *tmp;
	bool mapped = false;

	if (!conn || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
	if (!length || start_offset > buf->size || length > buf->size - start_offset)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "range %#" PRIx64 "+%#" PRIx64 " outside buffer of %#" PRIx64,
				   start_offset, length, buf->size);
	switch (options) {
	case MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES:
	case MAGMA_BUFFER_RANGE_OP_COMMIT:
		return msd_sim_buffer_commit(buf, start_offset, length);
	case MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES:
		return MAGMA_STATUS_OK;
	case MAGMA_BUFFER_RANGE_OP_DECOMMIT:
		msd_sim_mutex_lock(&conn->dev->lock);
		msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
			struct msd_sim_mapping *m =
				msd_sim_container_of(pos, struct msd_sim_mapping, link);

			if (m->buffer == buf && start_offset < m->offset + m->length &&
			    m->offset < start_offset + length)
				mapped = true;
		}
		msd_sim_mutex_unlock(&conn->dev->lock);
		if (mapped)
			return MSD_SIM_RET(MAGMA_STATUS_BAD_STATE, "decommit of a mapped range");
		return msd_sim_buffer_decommit(buf, start_offset, length);
	default:
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "range op %u", options);
	}
}

/* msd_connection_set_notification_callback - see msd.h. Waits out a delivery in progress. */
void msd_connection_set_notification_callback(struct msd_connection_t *c,
					      msd_connection_notification_callback_t callback,
					      void *token)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);

	if (!conn) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection");
		return;
	}
	msd_sim_mutex_lock(&conn->notify_lock);
	conn->notify_fn = callback;
	conn->notify_token = callback ? token : NULL;
	msd_sim_mutex_unlock(&conn->notify_lock);
}

/*
 * msd_sim_connection_find_mapping_locked - the live mapping of @buf in @conn that covers buffer
 * bytes [@offset, @offset + @length), or NULL.
 */
struct msd_sim_mapping *msd_sim_connection_find_mapping_locked(struct msd_sim_connection *conn,
							       struct msd_sim_buffer *buf,
							       uint64_t offset, uint64_t length)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_list_for_each_safe(pos, tmp, &conn->mappings) {
		struct msd_sim_mapping *m = msd_sim_container_of(pos, struct msd_sim_mapping, link);

		if (m->buffer == buf && !m->dying && m->offset <= offset &&
		    offset + length <= m->offset + m->length)
			return m;
	}
	return NULL;
}

/* msd_sim_mapping_put_use_locked - a job is done with @m; a dying mapping goes with its last use.
 */
void msd_sim_mapping_put_use_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
				    struct msd_sim_mapping *m)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (--m->uses == 0 && m->dying)
		msd_sim_mapping_teardown_locked(dev, conn, m);
}

/* msd_sim_connection_notify_locked - queue @size bytes for the client's notification channel. */
void msd_sim_connection_notify_locked(struct msd_sim_connection *conn, const void *data,
				      uint32_t size)
{
	struct msd_notification_t n;

	memset(&n, 0, sizeof(n));
	n.type = MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND;
	memcpy(n.u.channel_send.data, data, size);
	n.u.channel_send.size = size;
	msd_sim_device_queue_notify_locked(conn->dev, conn, &n);
}

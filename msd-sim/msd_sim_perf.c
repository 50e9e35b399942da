/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_perf.c - performance counters over the SIM_PERF_* registers.
 *
 * The GPU has SIM_PERF_COUNT global counters that count while PERF_CONTROL.ENABLE is set; the
 * driver sets it while any connection has counters enabled. A connection enables a set of
 * counter ids (< SIM_PERF_COUNT), creates pools, and adds buffer ranges to them. A dump reads the
 * live counters on the device thread, writes the enabled ones as little-endian u64 in ascending
 * id order into the oldest buffer range of the pool (each range is used once; the client adds it
 * back after reading), and queues PERFORMANCE_COUNTERS_READ_COMPLETED with the GPU timestamp.
 * DISCONTINUITY is set on the first result after enabling or clearing. A dump with no range in the
 * pool is dropped and logged (the next result carries DISCONTINUITY). Clearing zeroes every
 * counter (the hardware clears all at once). Once a pool is released no notification for it is
 * delivered: delivery checks the pool is still listed, under the connection's notify lock.
 * Connection thread; register access on the device thread.
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* A pool: buffer ranges waiting to receive dumps. Listed in conn->pools (notify_lock). */
struct msd_sim_pool {
	struct msd_perf_count_pool_t base;
	struct msd_sim_list link;
	struct msd_sim_connection *conn;
	uint64_t pool_id;
	struct msd_sim_list ranges; /* device lock */
};

struct msd_sim_pool_range {
	struct msd_sim_list link;
	struct msd_sim_buffer *buffer; /* reference */
	uint64_t buffer_id;
	uint64_t offset;
	uint64_t size;
};

static struct msd_sim_pool *msd_sim_pool_from(struct msd_sim_connection *conn,
					      struct msd_perf_count_pool_t *p)
{
	struct msd_sim_pool *pool = (struct msd_sim_pool *)p;

	if (!p || p->magic_ != MSD_SIM_POOL_MAGIC || pool->conn != conn)
		return NULL;
	return pool;
}

static magma_status_t msd_sim_perf_mask(const uint64_t *counters, uint64_t count,
					uint32_t *mask_out)
{
	uint32_t mask = 0;

	if (count && !counters)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "NULL counter list");
	for (uint64_t i = 0; i < count; i++) {
		if (counters[i] >= SIM_PERF_COUNT)
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "counter %" PRIu64,
					   counters[i]);
		mask |= 1u << counters[i];
	}
	*mask_out = mask;
	return MAGMA_STATUS_OK;
}

static void msd_sim_perf_apply_fn(struct msd_sim_device *dev, void *arg) MSD_SIM_REQUIRES(dev->lock)
{
	(void)arg;
	msd_sim_write32(dev, SIM_PERF_CONTROL, dev->perf_users ? SIM_PERF_CONTROL_ENABLE : 0);
}

static void msd_sim_perf_clear_fn(struct msd_sim_device *dev, void *arg) MSD_SIM_REQUIRES(dev->lock)
{
	(void)arg;
	msd_sim_write32(dev, SIM_PERF_COMMAND, SIM_PERF_COMMAND_CLEAR);
}

/* Set @conn's enabled counters to @mask, keeping PERF_CONTROL in step. Device lock held. */
static void msd_sim_perf_set_mask_locked(struct msd_sim_connection *conn, uint32_t mask)
	MSD_SIM_REQUIRES(conn->dev->lock)
{
	struct msd_sim_device *dev = conn->dev;
	bool was = conn->perf_mask != 0;

	conn->perf_mask = mask;
	conn->perf_discontinuity = true;
	if (was == (mask != 0))
		return;
	dev->perf_users += mask ? 1 : -1;
	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_device_call_locked(dev, msd_sim_perf_apply_fn, NULL);
}

/* msd_connection_enable_performance_counters - see msd.h. An empty list disables counting. */
magma_status_t msd_connection_enable_performance_counters(struct msd_connection_t *c,
							  const uint64_t *counters,
							  uint64_t counter_count)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	magma_status_t status;
	uint32_t mask = 0;

	if (!conn)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection");
	status = msd_sim_perf_mask(counters, counter_count, &mask);
	if (status != MAGMA_STATUS_OK)
		return status;
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_perf_set_mask_locked(conn, mask);
	msd_sim_mutex_unlock(&conn->dev->lock);
	return MAGMA_STATUS_OK;
}

/* msd_connection_create_performance_counter_buffer_pool - see msd.h. */
magma_status_t
msd_connection_create_performance_counter_buffer_pool(struct msd_connection_t *c, uint64_t pool_id,
						      struct msd_perf_count_pool_t **pool_out)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_pool *pool;

	if (!conn || !pool_out)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or NULL out");
	pool = msd_sim_calloc(conn->dev->drv, 1, sizeof(*pool));
	if (!pool)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	pool->base.magic_ = MSD_SIM_POOL_MAGIC;
	pool->conn = conn;
	pool->pool_id = pool_id;
	msd_sim_list_init(&pool->ranges);
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_mutex_lock(&conn->notify_lock);
	msd_sim_list_add_tail(&conn->pools, &pool->link);
	msd_sim_mutex_unlock(&conn->notify_lock);
	msd_sim_mutex_unlock(&conn->dev->lock);
	*pool_out = &pool->base;
	return MAGMA_STATUS_OK;
}

static void msd_sim_pool_free_locked(struct msd_sim_pool *pool)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_list_for_each_safe(pos, tmp, &pool->ranges) {
		struct msd_sim_pool_range *r =
			msd_sim_container_of(pos, struct msd_sim_pool_range, link);

		msd_sim_buffer_put(r->buffer);
		free(r);
	}
	pool->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(pool);
}

/* msd_connection_release_performance_counter_buffer_pool - see msd.h. */
magma_status_t
msd_connection_release_performance_counter_buffer_pool(struct msd_connection_t *c,
						       struct msd_perf_count_pool_t *p)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_pool *pool = msd_sim_pool_from(conn, p);

	if (!conn || !pool)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or pool");
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_mutex_lock(&conn->notify_lock);
	msd_sim_list_del(&pool->link);
	msd_sim_mutex_unlock(&conn->notify_lock);
	msd_sim_pool_free_locked(pool);
	msd_sim_mutex_unlock(&conn->dev->lock);
	return MAGMA_STATUS_OK;
}

/* msd_connection_add_performance_counter_buffer_offset_to_pool - see msd.h. */
magma_status_t msd_connection_add_performance_counter_buffer_offset_to_pool(
	struct msd_connection_t *c, struct msd_perf_count_pool_t *p, struct msd_buffer_t *b,
	uint64_t buffer_id, uint64_t buffer_offset, uint64_t size)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_pool *pool = msd_sim_pool_from(conn, p);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_pool_range *r;

	if (!conn || !pool || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection, pool or buffer");
	if (!size || buffer_offset > buf->size || size > buf->size - buffer_offset ||
	    buffer_offset > UINT32_MAX)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "range %#" PRIx64 "+%#" PRIx64 " outside buffer of %#" PRIx64,
				   buffer_offset, size, buf->size);
	r = msd_sim_calloc(conn->dev->drv, 1, sizeof(*r));
	if (!r)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	msd_sim_buffer_get(buf);
	r->buffer = buf;
	r->buffer_id = buffer_id;
	r->offset = buffer_offset;
	r->size = size;
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_list_add_tail(&pool->ranges, &r->link);
	msd_sim_mutex_unlock(&conn->dev->lock);
	return MAGMA_STATUS_OK;
}

/* msd_connection_remove_performance_counter_buffer_from_pool - see msd.h. INVALID_ARGS if the
 * buffer has no range in the pool. */
magma_status_t msd_connection_remove_performance_counter_buffer_from_pool(
	struct msd_connection_t *c, struct msd_perf_count_pool_t *p, struct msd_buffer_t *b)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_pool *pool = msd_sim_pool_from(conn, p);
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);
	struct msd_sim_list *pos, *tmp;
	bool found = false;

	if (!conn || !pool || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection, pool or buffer");
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_list_for_each_safe(pos, tmp, &pool->ranges) {
		struct msd_sim_pool_range *r =
			msd_sim_container_of(pos, struct msd_sim_pool_range, link);

		if (r->buffer != buf)
			continue;
		msd_sim_list_del(&r->link);
		msd_sim_buffer_put(r->buffer);
		free(r);
		found = true;
	}
	msd_sim_mutex_unlock(&conn->dev->lock);
	if (!found)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "buffer not in pool");
	return MAGMA_STATUS_OK;
}

struct msd_sim_perf_sample {
	uint64_t values[SIM_PERF_COUNT];
	uint64_t timestamp;
};

static void msd_sim_perf_sample_fn(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_perf_sample *s = arg;

	for (uint32_t i = 0; i < SIM_PERF_COUNT; i++)
		s->values[i] = msd_sim_read64(dev, SIM_PERF_COUNTER_LO(i));
	s->timestamp = msd_sim_read64(dev, SIM_GPU_TIMESTAMP_LO);
}

/* msd_connection_dump_performance_counters - see msd.h and the file comment. */
magma_status_t msd_connection_dump_performance_counters(struct msd_connection_t *c,
							struct msd_perf_count_pool_t *p,
							uint32_t trigger_id)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_pool *pool = msd_sim_pool_from(conn, p);
	struct msd_sim_perf_sample s;
	struct msd_sim_pool_range *r;
	struct msd_notification_t n;
	magma_status_t status;
	uint8_t *host;
	uint64_t off = 0;

	if (!conn || !pool)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or pool");
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_device_call_locked(conn->dev, msd_sim_perf_sample_fn, &s);
	if (msd_sim_list_empty(&pool->ranges)) {
		MSD_SIM_LOG(conn->dev->drv, MAGMA_LOG_WARNING,
			    "perf dump %u dropped: pool %" PRIu64 " has no buffer", trigger_id,
			    pool->pool_id);
		conn->perf_discontinuity = true;
		msd_sim_mutex_unlock(&conn->dev->lock);
		return MAGMA_STATUS_OK;
	}
	r = msd_sim_container_of(pool->ranges.next, struct msd_sim_pool_range, link);
	msd_sim_list_del(&r->link);
	status = msd_sim_buffer_host(r->buffer, (void **)&host);
	if (status != MAGMA_STATUS_OK)
		goto out;
	for (uint32_t i = 0; i < SIM_PERF_COUNT && off + 8 <= r->size; i++) {
		if (!(conn->perf_mask & (1u << i)))
			continue;
		memcpy(host + r->offset + off, &s.values[i], 8);
		off += 8;
	}
	memset(&n, 0, sizeof(n));
	n.type = MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED;
	n.u.perf_counter_result.pool_id = pool->pool_id;
	n.u.perf_counter_result.trigger_id = trigger_id;
	n.u.perf_counter_result.buffer_id = r->buffer_id;
	n.u.perf_counter_result.buffer_offset = (uint32_t)r->offset;
	n.u.perf_counter_result.timestamp = s.timestamp;
	n.u.perf_counter_result.result_flags =
		conn->perf_discontinuity ? MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY : 0;
	conn->perf_discontinuity = false;
	msd_sim_device_queue_notify_locked(conn->dev, conn, &n);
out:
	msd_sim_buffer_put(r->buffer);
	free(r);
	msd_sim_mutex_unlock(&conn->dev->lock);
	return status;
}

/* msd_connection_clear_performance_counters - see msd.h: zeroes every counter. */
magma_status_t msd_connection_clear_performance_counters(struct msd_connection_t *c,
							 const uint64_t *counters,
							 uint64_t counter_count)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	magma_status_t status;
	uint32_t mask = 0;

	if (!conn)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection");
	status = msd_sim_perf_mask(counters, counter_count, &mask);
	if (status != MAGMA_STATUS_OK)
		return status;
	msd_sim_mutex_lock(&conn->dev->lock);
	msd_sim_device_call_locked(conn->dev, msd_sim_perf_clear_fn, NULL);
	conn->perf_discontinuity = true;
	msd_sim_mutex_unlock(&conn->dev->lock);
	return MAGMA_STATUS_OK;
}

/*
 * msd_sim_perf_pool_is_live - true when @pool_id still names a pool of @conn. Called with
 * conn->notify_lock held by the delivery path.
 */
bool msd_sim_perf_pool_is_live(struct msd_sim_connection *conn, uint64_t pool_id)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_list_for_each_safe(pos, tmp, &conn->pools) {
		if (msd_sim_container_of(pos, struct msd_sim_pool, link)->pool_id == pool_id)
			return true;
	}
	return false;
}

/* msd_sim_perf_connection_fini_locked - free @conn's pools and stop counting for it. */
void msd_sim_perf_connection_fini_locked(struct msd_sim_connection *conn)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_list_for_each_safe(pos, tmp, &conn->pools) {
		struct msd_sim_pool *pool = msd_sim_container_of(pos, struct msd_sim_pool, link);

		msd_sim_list_del(&pool->link);
		msd_sim_pool_free_locked(pool);
	}
	msd_sim_perf_set_mask_locked(conn, 0);
}

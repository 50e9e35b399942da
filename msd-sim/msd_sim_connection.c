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
 * mapped over) and is torn down by the retirement. Mappings are indexed by GPU address and by
 * buffer range (index_tree.h), so that mapping, unmapping and resolving a submission's buffers
 * cost O(log n) in the connection's mappings, not a walk over all of them; where several
 * mappings qualify, the oldest is taken first, as in creation order. The connection is refcounted
 * (caller until close, contexts, jobs, queued notifications) so the address space outlives close
 * while the GPU uses it; closing abandons the work of its contexts (msd_sim_abandon.c), so that is
 * not long. Entry points run on the connection's thread; state is guarded by the device lock.
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

/* conn->mappings_by_va: by gpu_va, unique since mappings (dying ones too) never overlap. */
static int msd_sim_mapping_va_cmp(const struct index_node *a, const struct index_node *b)
{
	uint64_t x = index_entry(a, struct msd_sim_mapping, va_node)->gpu_va;
	uint64_t y = index_entry(b, struct msd_sim_mapping, va_node)->gpu_va;

	return (x > y) - (x < y);
}

static int msd_sim_mapping_va_key_cmp(const void *key, const struct index_node *n)
{
	uint64_t x = *(const uint64_t *)key;
	uint64_t y = index_entry(n, struct msd_sim_mapping, va_node)->gpu_va;

	return (x > y) - (x < y);
}

/* The order of buffers in conn->mappings_by_buffer: by address (any fixed order would do). */
static int msd_sim_buffer_order(const struct msd_sim_buffer *a, const struct msd_sim_buffer *b)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return (x > y) - (x < y);
}

/* conn->mappings_by_buffer: by buffer, then offset, then gpu_va (unique). */
static int msd_sim_mapping_buffer_cmp(const struct index_node *a, const struct index_node *b)
{
	const struct msd_sim_mapping *x = index_entry(a, struct msd_sim_mapping, buffer_node);
	const struct msd_sim_mapping *y = index_entry(b, struct msd_sim_mapping, buffer_node);
	int c = msd_sim_buffer_order(x->buffer, y->buffer);

	if (c)
		return c;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->gpu_va > y->gpu_va) - (x->gpu_va < y->gpu_va);
}

static uint64_t msd_sim_mapping_max_end(const struct index_node *n)
{
	return n ? index_entry(n, struct msd_sim_mapping, buffer_node)->max_end : 0;
}

/* Augmentation of conn->mappings_by_buffer: the largest offset + length in the subtree. */
static void msd_sim_mapping_buffer_update(struct index_node *n)
{
	struct msd_sim_mapping *m = index_entry(n, struct msd_sim_mapping, buffer_node);
	uint64_t end = m->offset + m->length;

	if (msd_sim_mapping_max_end(n->left) > end)
		end = msd_sim_mapping_max_end(n->left);
	if (msd_sim_mapping_max_end(n->right) > end)
		end = msd_sim_mapping_max_end(n->right);
	m->max_end = end;
}

/*
 * Calls @fn on every mapping (dying ones too) of @buf under @n whose buffer bytes overlap
 * [@lo, @hi), in (offset, gpu_va) order; stops when @fn returns true, and returns whether it did.
 * Subtrees are skipped when their keys cannot be @buf's below @hi, or when nothing in them ends
 * after @lo: O(log n + k) for k overlapping mappings (an interval tree query).
 */
static bool msd_sim_mapping_visit(struct index_node *n, const struct msd_sim_buffer *buf,
				  uint64_t lo, uint64_t hi,
				  bool (*fn)(struct msd_sim_mapping *m, void *arg), void *arg)
{
	struct msd_sim_mapping *m;
	int c;

	if (!n || msd_sim_mapping_max_end(n) <= lo)
		return false;
	m = index_entry(n, struct msd_sim_mapping, buffer_node);
	c = msd_sim_buffer_order(m->buffer, buf);
	if (c >= 0 && msd_sim_mapping_visit(n->left, buf, lo, hi, fn, arg))
		return true;
	if (!c && m->offset < hi && m->offset + m->length > lo && fn(m, arg))
		return true;
	if (c < 0 || (!c && m->offset < hi))
		return msd_sim_mapping_visit(n->right, buf, lo, hi, fn, arg);
	return false;
}

/* Merges two lists linked by work_next, each in seq order, into one. */
static struct msd_sim_mapping *msd_sim_mapping_merge(struct msd_sim_mapping *a,
						     struct msd_sim_mapping *b)
{
	struct msd_sim_mapping *head = NULL, **tail = &head;

	while (a && b) {
		struct msd_sim_mapping **least = a->seq < b->seq ? &a : &b;

		*tail = *least;
		tail = &(*least)->work_next;
		*least = (*least)->work_next;
	}
	*tail = a ? a : b;
	return head;
}

/* Sorts a list linked by work_next by seq (merge sort: O(k log k), no allocation). */
static struct msd_sim_mapping *msd_sim_mapping_sort(struct msd_sim_mapping *head)
{
	struct msd_sim_mapping *slow = head, *fast, *second;

	if (!head || !head->work_next)
		return head;
	for (fast = head->work_next; fast && fast->work_next; fast = fast->work_next->work_next)
		slow = slow->work_next;
	second = slow->work_next;
	slow->work_next = NULL;
	return msd_sim_mapping_merge(msd_sim_mapping_sort(head), msd_sim_mapping_sort(second));
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
	index_tree_init(&conn->mappings_by_va, msd_sim_mapping_va_cmp, NULL);
	index_tree_init(&conn->mappings_by_buffer, msd_sim_mapping_buffer_cmp,
			msd_sim_mapping_buffer_update);
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
	index_tree_remove(&conn->mappings_by_va, &m->va_node);
	index_tree_remove(&conn->mappings_by_buffer, &m->buffer_node);
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

/*
 * Any mapping (live or dying) of @conn that overlaps [@va, @va + @len): the first one at or
 * after @va, or the one before it. O(log n).
 */
static bool msd_sim_connection_overlaps_locked(struct msd_sim_connection *conn, uint64_t va,
					       uint64_t len) MSD_SIM_REQUIRES(conn->dev->lock)
{
	struct index_node *next =
		index_tree_lower_bound(&conn->mappings_by_va, msd_sim_mapping_va_key_cmp, &va);
	struct index_node *prev =
		next ? index_tree_prev(next) : index_tree_last(&conn->mappings_by_va);
	const struct msd_sim_mapping *m;

	if (next) {
		m = index_entry(next, struct msd_sim_mapping, va_node);
		if (m->gpu_va < va + len)
			return true;
	}
	if (prev) {
		m = index_entry(prev, struct msd_sim_mapping, va_node);
		if (m->gpu_va + m->length > va)
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
	m->seq = conn->next_mapping_seq++;
	msd_sim_list_add_tail(&conn->mappings, &m->link);
	index_tree_insert(&conn->mappings_by_va, &m->va_node);
	index_tree_insert(&conn->mappings_by_buffer, &m->buffer_node);
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
	struct msd_sim_device *dev;
	struct index_node *n;

	if (!conn || !buf)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_mutex_assert_held(&conn->dev->lock);
	n = index_tree_find(&conn->mappings_by_va, msd_sim_mapping_va_key_cmp, &gpu_va);
	if (n) {
		struct msd_sim_mapping *m = index_entry(n, struct msd_sim_mapping, va_node);

		if (m->buffer == buf && !m->dying) {
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
	struct msd_sim_mapping *m, *next;
	struct msd_sim_device *dev;

	if (!conn || !buf) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection or buffer");
		return;
	}
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	/*
	 * Teardown may drop the lock (flush on the device thread), but only this thread makes a
	 * mapping of this connection dying or tears down a live one, so the list stays valid.
	 */
	msd_sim_mutex_assert_held(&conn->dev->lock);
	m = msd_sim_connection_overlapping_locked(conn, buf, 0, buf->size);
	for (; m; m = next) {
		next = m->work_next;
		msd_sim_mapping_remove_locked(dev, conn, m);
	}
	msd_sim_mutex_unlock(&dev->lock);
}

/* A visit that stops at the first mapping. */
static bool msd_sim_mapping_found(struct msd_sim_mapping *m, void *arg)
{
	(void)m;
	(void)arg;
	return true;
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
	bool mapped;

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
		/* Dying mappings too: their pages stay pinned until the GPU is done with them. */
		mapped = msd_sim_mapping_visit(conn->mappings_by_buffer.root, buf, start_offset,
					       start_offset + length, msd_sim_mapping_found, NULL);
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

/* What msd_sim_connection_find_mapping_locked looks for, and the oldest match so far. */
struct msd_sim_cover {
	uint64_t offset, length;
	struct msd_sim_mapping *found;
};

static bool msd_sim_mapping_cover(struct msd_sim_mapping *m, void *arg)
{
	struct msd_sim_cover *cv = arg;

	if (!m->dying && m->offset <= cv->offset &&
	    cv->offset + cv->length <= m->offset + m->length &&
	    (!cv->found || m->seq < cv->found->seq))
		cv->found = m;
	return false;
}

/*
 * msd_sim_connection_find_mapping_locked - the oldest live mapping of @buf in @conn that covers
 * buffer bytes [@offset, @offset + @length), or NULL.
 */
struct msd_sim_mapping *msd_sim_connection_find_mapping_locked(struct msd_sim_connection *conn,
							       struct msd_sim_buffer *buf,
							       uint64_t offset, uint64_t length)
{
	struct msd_sim_cover cv = {offset, length, NULL};

	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_mapping_visit(conn->mappings_by_buffer.root, buf, offset, offset + length,
			      msd_sim_mapping_cover, &cv);
	return cv.found;
}

/* Pushes a live mapping onto the work list at @arg. */
static bool msd_sim_mapping_collect(struct msd_sim_mapping *m, void *arg)
{
	struct msd_sim_mapping **head = arg;

	if (!m->dying) {
		m->work_next = *head;
		*head = m;
	}
	return false;
}

/*
 * msd_sim_connection_overlapping_locked - the live mappings of @buf in @conn that overlap buffer
 * bytes [@offset, @offset + @length), oldest first, as a list linked by work_next (NULL: none).
 * The list is valid until the device lock is dropped or another such list is made.
 */
struct msd_sim_mapping *msd_sim_connection_overlapping_locked(struct msd_sim_connection *conn,
							      struct msd_sim_buffer *buf,
							      uint64_t offset, uint64_t length)
{
	struct msd_sim_mapping *head = NULL;

	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_mapping_visit(conn->mappings_by_buffer.root, buf, offset, offset + length,
			      msd_sim_mapping_collect, &head);
	return msd_sim_mapping_sort(head);
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

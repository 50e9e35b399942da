/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_inline.c - driver memory for inline commands: chunks and the GPU address slots they use.
 *
 * msd_context_execute_inline_commands copies the client's commands into driver-owned pages that
 * the connection's address space maps read-only above MAGMA_SIM_GPU_VA_LIMIT. Giving every
 * submission its own page (and VA range) cost a page per held submission and used the range up
 * for good; instead submissions are packed into chunks: MSD_SIM_INLINE_CHUNK_PAGES pinned, mapped
 * pages that small submissions share (each at a MSD_SIM_INLINE_ALIGN-aligned offset; the command
 * processor reads exactly a ring entry's size, so neighbours never run into each other). A
 * chunk counts the jobs using it (@live); the connection's current chunk is refilled from offset
 * 0 once it is idle, a chunk that filled up is released when its last job retires: kept mapped in
 * a small per-connection cache (no page-table work to reuse it) or torn down (entries cleared,
 * range flushed, pages unpinned) with its GPU address slot returned to the pool. A submission
 * larger than a chunk gets a chunk of its own. Address slots are power-of-two sized (guard page
 * included: the page after a chunk is never mapped) and recycled per size class, so a connection
 * can submit inline commands forever. The bytes of all chunks of a connection are bounded by
 * MSD_SIM_MAX_INLINE_BYTES. Connection threads and the device thread, device lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"

/* Size class of a slot of @pages pages: 2^(class + MSD_SIM_VA_CLASS_MIN_SHIFT) pages, or -1. */
static int msd_sim_va_pool_class(uint64_t pages)
{
	for (int c = 0; c < MSD_SIM_VA_CLASSES; c++) {
		if (pages <= (1ull << (c + MSD_SIM_VA_CLASS_MIN_SHIFT)))
			return c;
	}
	return -1;
}

/* msd_sim_va_pool_init - an empty pool handing out slots from [@start, @end) (page-aligned). */
void msd_sim_va_pool_init(struct msd_sim_va_pool *p, uint64_t start, uint64_t end)
{
	memset(p, 0, sizeof(*p));
	p->next = start;
	p->end = end;
}

/* msd_sim_va_pool_fini - free the pool's free lists; every slot is forgotten. */
void msd_sim_va_pool_fini(struct msd_sim_va_pool *p)
{
	for (int c = 0; c < MSD_SIM_VA_CLASSES; c++)
		free(p->free[c].va);
	memset(p, 0, sizeof(*p));
}

/*
 * msd_sim_va_pool_alloc - a slot of at least @pages pages: a freed slot of the same size class
 * when there is one, else fresh space. Fresh slots reserve room on their class's free list at
 * once, so msd_sim_va_pool_free never needs memory. MEMORY_ERROR when the range is exhausted, the
 * size is over the largest class or memory runs out. Caller serialises (device lock).
 */
magma_status_t msd_sim_va_pool_alloc(struct msd_sim_driver *drv, struct msd_sim_va_pool *p,
				     uint64_t pages, uint64_t *va_out)
{
	int c = msd_sim_va_pool_class(pages);
	uint64_t bytes;

	if (c < 0 || !pages)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "slot of %" PRIu64 " pages", pages);
	if (p->free[c].count) {
		*va_out = p->free[c].va[--p->free[c].count];
		return MAGMA_STATUS_OK;
	}
	bytes = (1ull << (c + MSD_SIM_VA_CLASS_MIN_SHIFT)) * SIM_PAGE_SIZE;
	if (p->next > p->end || p->end - p->next < bytes)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "inline address range exhausted");
	if (p->free[c].slots == p->free[c].cap) {
		uint32_t cap = p->free[c].cap ? p->free[c].cap * 2 : 16;
		uint64_t *grown = msd_sim_calloc(drv, cap, sizeof(*grown));

		if (!grown)
			return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		if (p->free[c].count)
			memcpy(grown, p->free[c].va, p->free[c].count * sizeof(*grown));
		free(p->free[c].va);
		p->free[c].va = grown;
		p->free[c].cap = cap;
	}
	p->free[c].slots++;
	*va_out = p->next;
	p->next += bytes;
	return MAGMA_STATUS_OK;
}

/* msd_sim_va_pool_free - return the slot at @va, allocated for @pages pages, to its class. */
void msd_sim_va_pool_free(struct msd_sim_va_pool *p, uint64_t va, uint64_t pages)
{
	int c = msd_sim_va_pool_class(pages);

	p->free[c].va[p->free[c].count++] = va;
}

static void msd_sim_inline_flush_fn(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_inline_chunk *chunk = arg;

	msd_sim_as_flush_range_locked(dev, &chunk->conn->as, chunk->va, chunk->pages.count);
}

/* Tear @chunk down: entries cleared and flushed (may drop the lock), pages, slot, memory. */
static void msd_sim_inline_destroy_locked(struct msd_sim_device *dev,
					  struct msd_sim_inline_chunk *chunk)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_connection *conn = chunk->conn;

	msd_sim_as_clear_ptes(&conn->as, chunk->va, chunk->pages.count);
	msd_sim_device_call_locked(dev, msd_sim_inline_flush_fn, chunk);
	msd_sim_va_pool_free(&conn->inline_va, chunk->va, chunk->pages.count + 1);
	msd_sim_work_sub_locked(dev, conn, 0, chunk->pages.count * SIM_PAGE_SIZE);
	msd_sim_pages_free(dev, &chunk->pages);
	free(chunk);
}

/* A chunk nobody uses any more: into the cache (still mapped) or torn down. */
static void msd_sim_inline_release_locked(struct msd_sim_device *dev,
					  struct msd_sim_inline_chunk *chunk)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_connection *conn = chunk->conn;

	if (chunk->pages.count == MSD_SIM_INLINE_CHUNK_PAGES &&
	    conn->inline_cached < MSD_SIM_INLINE_CACHE) {
		chunk->used = 0;
		msd_sim_list_add_tail(&conn->inline_cache, &chunk->link);
		conn->inline_cached++;
		return;
	}
	msd_sim_inline_destroy_locked(dev, chunk);
}

/* A chunk of @pages pages: from the cache when it has the size, else made, pinned and mapped. */
static magma_status_t
msd_sim_inline_get_chunk_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
				uint64_t pages, struct msd_sim_inline_chunk **out)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_inline_chunk *chunk;
	magma_status_t status;

	if (pages == MSD_SIM_INLINE_CHUNK_PAGES && conn->inline_cached) {
		chunk = msd_sim_container_of(conn->inline_cache.next, struct msd_sim_inline_chunk,
					     link);
		msd_sim_list_del(&chunk->link);
		conn->inline_cached--;
		*out = chunk;
		return MAGMA_STATUS_OK;
	}
	status = msd_sim_work_check_locked(dev, conn, 0, pages * SIM_PAGE_SIZE);
	if (status != MAGMA_STATUS_OK)
		return status;
	chunk = msd_sim_calloc(dev->drv, 1, sizeof(*chunk));
	if (!chunk)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	msd_sim_list_init(&chunk->link);
	chunk->conn = conn;
	status = msd_sim_va_pool_alloc(dev->drv, &conn->inline_va, pages + 1, &chunk->va);
	if (status != MAGMA_STATUS_OK)
		goto err_free;
	status = msd_sim_pages_alloc(dev, pages, &chunk->pages);
	if (status != MAGMA_STATUS_OK)
		goto err_slot;
	/* The entries were invalid and are not cached anywhere: writing them needs no flush. */
	status = msd_sim_as_write_ptes(dev, &conn->as, chunk->va, chunk->pages.pa, pages,
				       SIM_PTE_READ);
	if (status != MAGMA_STATUS_OK)
		goto err_pages;
	msd_sim_work_add_locked(dev, conn, 0, pages * SIM_PAGE_SIZE);
	*out = chunk;
	return MAGMA_STATUS_OK;

err_pages:
	msd_sim_as_clear_ptes(&conn->as, chunk->va, pages);
	msd_sim_pages_free(dev, &chunk->pages);
err_slot:
	msd_sim_va_pool_free(&conn->inline_va, chunk->va, pages + 1);
err_free:
	free(chunk);
	return status;
}

/*
 * msd_sim_inline_alloc_locked - copy @size bytes of @commands into inline-command memory of
 * @conn and take a use of the chunk holding them (put by msd_sim_inline_put_locked). The GPU VA of
 * the copy goes to *@va_out. Never drops the lock. MEMORY_ERROR when the connection's inline
 * bytes would pass MSD_SIM_MAX_INLINE_BYTES, or memory, bus frames or addresses run out.
 */
magma_status_t msd_sim_inline_alloc_locked(struct msd_sim_device *dev,
					   struct msd_sim_connection *conn, const void *commands,
					   uint64_t size, struct msd_sim_inline_chunk **chunk_out,
					   uint64_t *va_out)
{
	uint64_t aligned =
		(size + MSD_SIM_INLINE_ALIGN - 1) & ~(uint64_t)(MSD_SIM_INLINE_ALIGN - 1);
	uint64_t pages = (size + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	struct msd_sim_inline_chunk *cur = conn->inline_cur, *chunk = NULL;
	magma_status_t status;

	msd_sim_mutex_assert_held(&dev->lock);
	if (cur && !cur->live)
		cur->used = 0;
	if (cur && cur->used + aligned <= cur->pages.count * SIM_PAGE_SIZE) {
		chunk = cur;
	} else {
		if (pages < MSD_SIM_INLINE_CHUNK_PAGES)
			pages = MSD_SIM_INLINE_CHUNK_PAGES;
		status = msd_sim_inline_get_chunk_locked(dev, conn, pages, &chunk);
		if (status != MAGMA_STATUS_OK)
			return status;
		/*
		 * A busy current chunk is replaced (it is released with its last job); an idle
		 * one that is merely too small stays current and the new chunk serves this
		 * submission alone, so nothing here has to be torn down with the lock dropped.
		 */
		if (!cur || cur->live)
			conn->inline_cur = chunk;
	}
	memcpy((uint8_t *)chunk->pages.host + chunk->used, commands, size);
	*va_out = chunk->va + chunk->used;
	chunk->used += (uint32_t)aligned;
	chunk->live++;
	*chunk_out = chunk;
	return MAGMA_STATUS_OK;
}

/*
 * msd_sim_inline_put_locked - a job is done with @chunk. A chunk that is no longer current is
 * released with its last use (cached, or torn down: that may drop the lock to flush).
 */
void msd_sim_inline_put_locked(struct msd_sim_device *dev, struct msd_sim_inline_chunk *chunk)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (--chunk->live == 0 && chunk != chunk->conn->inline_cur)
		msd_sim_inline_release_locked(dev, chunk);
}

/*
 * msd_sim_inline_connection_fini_locked - free @conn's idle chunks and its address pool at its
 * release, after its address space left its slot (no flush needed: the tables go too).
 */
void msd_sim_inline_connection_fini_locked(struct msd_sim_device *dev,
					   struct msd_sim_connection *conn)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (conn->inline_cur) {
		msd_sim_list_add_tail(&conn->inline_cache, &conn->inline_cur->link);
		conn->inline_cur = NULL;
	}
	while (!msd_sim_list_empty(&conn->inline_cache)) {
		struct msd_sim_inline_chunk *chunk = msd_sim_container_of(
			conn->inline_cache.next, struct msd_sim_inline_chunk, link);

		msd_sim_list_del(&chunk->link);
		msd_sim_work_sub_locked(dev, conn, 0, chunk->pages.count * SIM_PAGE_SIZE);
		msd_sim_pages_free(dev, &chunk->pages);
		free(chunk);
	}
	conn->inline_cached = 0;
	msd_sim_va_pool_fini(&conn->inline_va);
}

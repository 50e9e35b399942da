/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_mmu.c - GPU address spaces: page tables in pinned host pages, slot binding, TLB flushes.
 *
 * Each address space is a 4-level tree of 4 KiB tables (sim_regs.h "Page tables") that the
 * driver writes with plain stores into host pages it pinned with sim_bus_map; the GPU walks them
 * itself. Tables are created on demand and kept until the address space dies (empty tables are
 * not reclaimed). Hardware has few slots: slot 0 holds the driver's kernel address space (rings,
 * fences) for good; slots 1..N-1 are bound to connection address spaces when they have work to
 * run, least recently used first among slots with no work in flight; a slot whose address space
 * has ring entries in flight is never stolen. New mappings need no TLB flush (only invalid
 * entries change); clearing entries must be followed by FLUSH_RANGE on the bound slot before the
 * pages are unpinned. Register access here runs on the device thread with the device lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/*
 * msd_sim_pages_alloc - @count zeroed page-aligned host pages pinned into bus frames. Returns
 * MEMORY_ERROR when host memory or bus frames run out (nothing allocated then).
 */
magma_status_t msd_sim_pages_alloc(struct msd_sim_device *dev, uint64_t count,
				   struct msd_sim_pages *out)
{
	memset(out, 0, sizeof(*out));
	out->host = msd_sim_page_alloc(dev->drv, count);
	out->pa = msd_sim_calloc(dev->drv, count, sizeof(uint64_t));
	if (!out->host || !out->pa)
		goto err_free;
	if (sim_bus_map(dev->sim, out->host, count, out->pa))
		goto err_free;
	out->count = count;
	return MAGMA_STATUS_OK;

err_free:
	free(out->host);
	free(out->pa);
	memset(out, 0, sizeof(*out));
	return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "cannot pin %" PRIu64 " pages", count);
}

/* msd_sim_pages_free - unpin and free @pages (zeroed afterwards; empty is a no-op). */
void msd_sim_pages_free(struct msd_sim_device *dev, struct msd_sim_pages *pages)
{
	if (pages->count && sim_bus_unmap(dev->sim, pages->pa, pages->count))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "bus unmap of driver pages failed");
	free(pages->host);
	free(pages->pa);
	memset(pages, 0, sizeof(*pages));
}

static struct msd_sim_pt *msd_sim_pt_create(struct msd_sim_device *dev, int level)
{
	struct msd_sim_pt *pt = msd_sim_calloc(dev->drv, 1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->entries = msd_sim_page_alloc(dev->drv, 1);
	if (level < SIM_PT_LEVELS - 1)
		pt->child = msd_sim_calloc(dev->drv, SIM_PT_ENTRIES, sizeof(*pt->child));
	if (!pt->entries || (level < SIM_PT_LEVELS - 1 && !pt->child))
		goto err_free;
	if (sim_bus_map(dev->sim, pt->entries, 1, &pt->pa))
		goto err_free;
	return pt;

err_free:
	free(pt->entries);
	free(pt->child);
	free(pt);
	return NULL;
}

static void msd_sim_pt_destroy(struct msd_sim_device *dev, struct msd_sim_pt *pt, int level)
{
	if (!pt)
		return;
	if (pt->child) {
		for (int i = 0; i < SIM_PT_ENTRIES; i++)
			msd_sim_pt_destroy(dev, pt->child[i], level + 1);
	}
	if (sim_bus_unmap(dev->sim, &pt->pa, 1))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "bus unmap of a page table failed");
	free(pt->entries);
	free(pt->child);
	free(pt);
}

/* msd_sim_as_init - give @as an empty level-0 table; unbound. MEMORY_ERROR on failure. */
magma_status_t msd_sim_as_init(struct msd_sim_device *dev, struct msd_sim_as *as)
{
	as->slot = -1;
	as->inflight = 0;
	as->root = msd_sim_pt_create(dev, 0);
	if (!as->root)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "no page for a level-0 table");
	return MAGMA_STATUS_OK;
}

/* msd_sim_as_fini - free every table of @as. It must be unbound (no slot can walk it). */
void msd_sim_as_fini(struct msd_sim_device *dev, struct msd_sim_as *as)
{
	msd_sim_pt_destroy(dev, as->root, 0);
	as->root = NULL;
}

/* Leaf table holding @va, creating the path when @create. */
static struct msd_sim_pt *msd_sim_as_leaf(struct msd_sim_device *dev, struct msd_sim_as *as,
					  uint64_t va, bool create)
{
	struct msd_sim_pt *pt = as->root;

	for (int level = 0; level < SIM_PT_LEVELS - 1; level++) {
		uint32_t idx = SIM_PT_INDEX(va, level);
		struct msd_sim_pt *next = pt->child[idx];

		if (!next) {
			if (!create)
				return NULL;
			next = msd_sim_pt_create(dev, level + 1);
			if (!next)
				return NULL;
			pt->child[idx] = next;
			/* The GPU may walk concurrently: the entry goes valid after the table is
			 * zeroed. */
			__atomic_store_n(&pt->entries[idx], next->pa | SIM_PTE_VALID,
					 __ATOMIC_RELEASE);
		}
		pt = next;
	}
	return pt;
}

/*
 * msd_sim_as_write_ptes - point @count pages from @va at frames @pa with leaf bits @pte_flags.
 * Only entries that were invalid may be written (no flush is issued). MEMORY_ERROR if a table
 * cannot be allocated; entries written before that stay (the caller clears them).
 */
magma_status_t msd_sim_as_write_ptes(struct msd_sim_device *dev, struct msd_sim_as *as, uint64_t va,
				     const uint64_t *pa, uint64_t count, uint64_t pte_flags)
{
	for (uint64_t i = 0; i < count; i++) {
		uint64_t page_va = va + i * SIM_PAGE_SIZE;
		struct msd_sim_pt *leaf = msd_sim_as_leaf(dev, as, page_va, true);

		if (!leaf)
			return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "no page for a table");
		__atomic_store_n(&leaf->entries[SIM_PT_INDEX(page_va, 3)],
				 (pa[i] & SIM_PTE_ADDR_MASK) | pte_flags | SIM_PTE_VALID,
				 __ATOMIC_RELEASE);
	}
	return MAGMA_STATUS_OK;
}

/* msd_sim_as_clear_ptes - invalidate @count leaf entries from @va (missing tables are skipped). */
void msd_sim_as_clear_ptes(struct msd_sim_as *as, uint64_t va, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		uint64_t page_va = va + i * SIM_PAGE_SIZE;
		struct msd_sim_pt *leaf = msd_sim_as_leaf(NULL, as, page_va, false);

		if (leaf)
			__atomic_store_n(&leaf->entries[SIM_PT_INDEX(page_va, 3)], 0,
					 __ATOMIC_RELEASE);
	}
}

/* msd_sim_as_translate - walk the driver's own tables: physical address of @va, if mapped. */
bool msd_sim_as_translate(struct msd_sim_as *as, uint64_t va, uint64_t *pa_out)
{
	struct msd_sim_pt *leaf;
	uint64_t pte;

	if (va >> SIM_VA_BITS)
		return false;
	leaf = msd_sim_as_leaf(NULL, as, va, false);
	if (!leaf)
		return false;
	pte = leaf->entries[SIM_PT_INDEX(va, 3)];
	if (!(pte & SIM_PTE_VALID))
		return false;
	*pa_out = (pte & SIM_PTE_ADDR_MASK) | (va & (SIM_PAGE_SIZE - 1));
	return true;
}

/* msd_sim_map_flags_to_pte - leaf permission bits for MAGMA_MAP_FLAG_* @map_flags. Pure. */
uint64_t msd_sim_map_flags_to_pte(uint64_t map_flags)
{
	uint64_t pte = 0;

	if (map_flags & MAGMA_MAP_FLAG_READ)
		pte |= SIM_PTE_READ;
	if (map_flags & MAGMA_MAP_FLAG_WRITE)
		pte |= SIM_PTE_WRITE;
	if (map_flags & MAGMA_MAP_FLAG_EXECUTE)
		pte |= SIM_PTE_EXECUTE;
	return pte;
}

/*
 * msd_sim_as_flush_range_locked - drop TLB entries of @count pages from @va if @as is bound:
 * RANGE_BASE, RANGE_PAGES, then AS_COMMAND FLUSH_RANGE. Device thread.
 */
void msd_sim_as_flush_range_locked(struct msd_sim_device *dev, struct msd_sim_as *as, uint64_t va,
				   uint64_t count)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (as->slot < 0)
		return;
	while (count) {
		uint32_t n = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;

		msd_sim_write64(dev, SIM_AS_RANGE_BASE_LO(as->slot), va);
		msd_sim_write32(dev, SIM_AS_RANGE_PAGES(as->slot), n);
		msd_sim_write32(dev, SIM_AS_COMMAND(as->slot), SIM_AS_COMMAND_FLUSH_RANGE);
		va += (uint64_t)n * SIM_PAGE_SIZE;
		count -= n;
	}
}

/*
 * msd_sim_as_program_slot_locked - make @slot translate through @as (NULL: disable it):
 * TRANSTAB, CONFIG, then AS_COMMAND UPDATE, which also flushes the slot's TLB. Device thread.
 */
void msd_sim_as_program_slot_locked(struct msd_sim_device *dev, uint32_t slot,
				    struct msd_sim_as *as)
{
	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_write64(dev, SIM_AS_TRANSTAB_LO(slot), as ? as->root->pa : 0);
	msd_sim_write32(dev, SIM_AS_CONFIG(slot), as ? SIM_AS_CONFIG_ENABLE : 0);
	msd_sim_write32(dev, SIM_AS_COMMAND(slot), SIM_AS_COMMAND_UPDATE);
	dev->slot_as[slot] = as;
	if (as)
		as->slot = (int)slot;
}

/*
 * msd_sim_as_bind_locked - make sure @as is live in a hardware slot, for a job about to run.
 * Keeps its slot if it has one; else takes a free slot, else evicts the least recently used
 * address space with nothing in flight. Returns false when every slot is busy (the job waits).
 */
bool msd_sim_as_bind_locked(struct msd_sim_device *dev, struct msd_sim_as *as)
{
	int victim = -1;

	msd_sim_mutex_assert_held(&dev->lock);
	if (as->slot < 0) {
		for (uint32_t s = 1; s < dev->as_slots; s++) {
			struct msd_sim_as *held = dev->slot_as[s];

			if (held && held->inflight)
				continue;
			if (victim < 0 || !held ||
			    (dev->slot_as[victim] && dev->slot_lru[s] < dev->slot_lru[victim]))
				victim = (int)s;
			if (!held)
				break;
		}
		if (victim < 0)
			return false;
		if (dev->slot_as[victim])
			dev->slot_as[victim]->slot = -1;
		msd_sim_as_program_slot_locked(dev, (uint32_t)victim, as);
	}
	dev->slot_lru[as->slot] = ++dev->lru_clock;
	return true;
}

/* msd_sim_as_unbind_locked - disable @as's slot (if bound) so its tables can be freed. */
void msd_sim_as_unbind_locked(struct msd_sim_device *dev, struct msd_sim_as *as)
{
	uint32_t slot;

	if (as->slot < 0)
		return;
	slot = (uint32_t)as->slot;
	msd_sim_as_program_slot_locked(dev, slot, NULL);
	as->slot = -1;
}

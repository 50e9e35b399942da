/* SPDX-License-Identifier: MIT */
/*
 * sim_bus.c - the GPU's physical memory: 4 KiB frames backed by host pages the driver pins.
 *
 * A flat table maps each physical frame number to the host page behind it (or NULL). Frames are
 * handed out lowest-free-first, so a given sequence of map/unmap calls always yields the same
 * physical addresses (traces and golden files depend on it); frame 0 is never used so that PA 0
 * stays an obvious bug. Map and unmap are all-or-nothing. Unmapping also drops TLB entries that
 * cache the frame's host pointer (sim_mmu.c), because the model must never touch host memory
 * that is no longer pinned; the next GPU access walks the tables and takes a bus error. There is
 * no IOMMU, no caching and no partial-frame mapping. Every entry point takes the device lock.
 */
#include <errno.h>
#include <string.h>

#include "sim_internal.h"

#define SIM_BUS_TAG ((uintptr_t)1) /* marks a frame while an unmap is being validated */

static void sim_bus_emit_runs_locked(struct sim_device *dev, const uint64_t *pa, uint64_t count,
				     uint32_t code) SIM_REQUIRES(dev->lock)
{
	uint64_t start = 0;

	if (!sim_event_wanted(dev, SIM_EV_BUS_MAP))
		return;
	for (uint64_t i = 1; i <= count; i++) {
		if (i < count && pa[i] == pa[i - 1] + SIM_PAGE_SIZE)
			continue;
		sim_event_locked(dev, SIM_EV_BUS_MAP, SIM_EVENT_NO_UNIT, code, pa[start], i - start,
				 NULL);
		start = i;
	}
}

/*
 * sim_bus_map - see sim.h. Zero pages is a successful no-op. Cost is linear in the number of
 * frames scanned from the lowest free one.
 */
int sim_bus_map(struct sim_device *dev, void *host, uint64_t page_count, uint64_t *pa_out)
{
	struct sim_bus *bus;
	uint64_t pfn;
	int ret = 0;

	if (!dev || !host || !pa_out || ((uintptr_t)host & (SIM_PAGE_SIZE - 1)))
		return -EINVAL;
	if (page_count > (UINTPTR_MAX - (uintptr_t)host) / SIM_PAGE_SIZE)
		return -EINVAL;
	if (!page_count)
		return 0;
	sim_host_lock(dev);
	bus = &dev->bus;
	if (page_count > bus->max_frames - 1 - bus->mapped) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	pfn = bus->lowest_free;
	for (uint64_t i = 0; i < page_count; i++, pfn++) {
		while (bus->frames[pfn])
			pfn++;
		assert(pfn < bus->max_frames);
		bus->frames[pfn] = (uint8_t *)host + i * SIM_PAGE_SIZE;
		pa_out[i] = pfn << SIM_PAGE_SHIFT;
	}
	/* Every frame below pfn is now taken. */
	bus->lowest_free = pfn;
	bus->mapped += page_count;
	sim_bus_emit_runs_locked(dev, pa_out, page_count, 0);
out_unlock:
	sim_mutex_unlock(&dev->lock);
	return ret;
}

static bool sim_bus_is_tagged(const uint8_t *p)
{
	return ((uintptr_t)p & SIM_BUS_TAG) != 0;
}

/*
 * sim_bus_unmap - see sim.h. Validation tags each listed frame (host pages are page aligned, so
 * bit 0 of the pointer is free), which also rejects a frame listed twice; on failure the tags
 * are removed and nothing changes.
 */
int sim_bus_unmap(struct sim_device *dev, const uint64_t *pa, uint64_t page_count)
{
	struct sim_bus *bus;
	uint64_t i, ok;
	int ret = 0;

	if (!dev || (!pa && page_count))
		return -EINVAL;
	if (!page_count)
		return 0;
	sim_host_lock(dev);
	bus = &dev->bus;
	for (ok = 0; ok < page_count; ok++) {
		uint64_t pfn = pa[ok] >> SIM_PAGE_SHIFT;
		uint8_t *f;

		if ((pa[ok] & (SIM_PAGE_SIZE - 1)) || pfn == 0 || pfn >= bus->max_frames)
			break;
		f = bus->frames[pfn];
		if (!f || sim_bus_is_tagged(f))
			break;
		bus->frames[pfn] = (uint8_t *)((uintptr_t)f | SIM_BUS_TAG);
	}
	if (ok < page_count) {
		for (i = 0; i < ok; i++) {
			uint64_t pfn = pa[i] >> SIM_PAGE_SHIFT;

			bus->frames[pfn] = (uint8_t *)((uintptr_t)bus->frames[pfn] & ~SIM_BUS_TAG);
		}
		ret = -EINVAL;
		goto out_unlock;
	}
	for (i = 0; i < page_count; i++) {
		uint64_t pfn = pa[i] >> SIM_PAGE_SHIFT;

		bus->frames[pfn] = NULL;
		if (pfn < bus->lowest_free)
			bus->lowest_free = pfn;
		sim_tlb_drop_pa_locked(dev, pa[i]);
	}
	bus->mapped -= page_count;
	sim_bus_emit_runs_locked(dev, pa, page_count, 1);
out_unlock:
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/* sim_bus_host_locked - see sim_internal.h. */
uint8_t *sim_bus_host_locked(struct sim_device *dev, uint64_t pa)
{
	uint64_t pfn = pa >> SIM_PAGE_SHIFT;
	uint8_t *f;

	sim_mutex_assert_held(&dev->lock);
	if (pfn >= dev->bus.max_frames)
		return NULL;
	f = dev->bus.frames[pfn];
	return f ? f + (pa & (SIM_PAGE_SIZE - 1)) : NULL;
}

/* True when every byte of [pa, pa + len) lies in mapped frames (len > 0). */
static bool sim_bus_range_mapped_locked(struct sim_device *dev, uint64_t pa, size_t len)
	SIM_REQUIRES(dev->lock)
{
	uint64_t last = pa + len - 1;

	if (last < pa)
		return false;
	for (uint64_t pfn = pa >> SIM_PAGE_SHIFT; pfn <= last >> SIM_PAGE_SHIFT; pfn++)
		if (pfn >= dev->bus.max_frames || !dev->bus.frames[pfn])
			return false;
	return true;
}

/*
 * Copy [pa, pa + len) into @dst, or @src into it when @dst is NULL, frame by frame. The range is
 * known to be mapped.
 */
static void sim_bus_copy_locked(struct sim_device *dev, uint64_t pa, uint8_t *dst,
				const uint8_t *src, size_t len) SIM_REQUIRES(dev->lock)
{
	while (len) {
		uint64_t in_page = SIM_PAGE_SIZE - (pa & (SIM_PAGE_SIZE - 1));
		size_t n = len < in_page ? len : (size_t)in_page;
		uint8_t *host = sim_bus_host_locked(dev, pa);

		if (dst) {
			memcpy(dst, host, n);
			dst += n;
		} else {
			memcpy(host, src, n);
			src += n;
		}
		pa += n;
		len -= n;
	}
}

/* sim_bus_read - see sim.h. Takes the device lock. */
int sim_bus_read(struct sim_device *dev, uint64_t pa, void *dst, size_t len)
{
	int ret = 0;

	if (!len)
		return 0;
	if (!dev || !dst)
		return -EINVAL;
	sim_host_lock(dev);
	if (!sim_bus_range_mapped_locked(dev, pa, len))
		ret = -EFAULT;
	else
		sim_bus_copy_locked(dev, pa, dst, NULL, len);
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/*
 * sim_bus_write - see sim.h. Takes the device lock. A host write may satisfy a GPU WAIT, so it
 * bumps the memory epoch and wakes the clock thread.
 */
int sim_bus_write(struct sim_device *dev, uint64_t pa, const void *src, size_t len)
{
	int ret = 0;

	if (!len)
		return 0;
	if (!dev || !src)
		return -EINVAL;
	sim_host_lock(dev);
	if (!sim_bus_range_mapped_locked(dev, pa, len)) {
		ret = -EFAULT;
	} else {
		sim_bus_copy_locked(dev, pa, NULL, src, len);
		dev->mem_epoch++;
		sim_clock_kick_locked(dev);
	}
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/* sim_bus_frames_mapped - see sim.h. Takes the device lock. */
uint64_t sim_bus_frames_mapped(struct sim_device *dev)
{
	uint64_t n;

	sim_host_lock(dev);
	n = dev->bus.mapped;
	sim_mutex_unlock(&dev->lock);
	return n;
}

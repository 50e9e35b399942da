/* SPDX-License-Identifier: MIT */
/*
 * sim_mmu.c - the SIM-1 MMU: address-space slots, the 4-level page walk and the TLB.
 *
 * Each slot has staged TRANSTAB/CONFIG registers that AS_COMMAND UPDATE makes live (flushing the
 * slot's TLB entries), a fault latch (first fault wins until FAULTCLEAR) and a LOCK bit the CP
 * honours at command boundaries. Translation checks the TLB first -- a 4-way set-associative
 * cache of (slot, page) -> host page pointer, PA and R/W/X, with a round-robin victim per set --
 * and on a miss walks four levels of 512 u64 entries in pinned frames, charging tlb_walk_level
 * cycles per level read. Like hardware, the TLB is not coherent with the page tables: only
 * UPDATE, FLUSH_ALL, FLUSH_RANGE and resets drop entries, so a driver that edits a PTE without
 * flushing keeps seeing the old page. The single exception is sim_bus_unmap, which drops entries
 * for the unpinned frame because the model must never touch host memory it no longer owns. Not
 * modelled: walk caching of intermediate levels, access/dirty bits, large pages, AS_STATUS busy
 * (commands complete instantly). Runs on whichever thread holds the device lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SIM_TLB_WAYS 4
#define SIM_VA_LIMIT (1ull << SIM_VA_BITS)

/* sim_tlb_init - allocate an empty TLB of cfg.tlb_entries (rounded down to whole 4-way sets). */
int sim_tlb_init(struct sim_device *dev)
{
	struct sim_tlb *tlb = &dev->tlb;
	uint32_t sets = dev->cfg.tlb_entries / SIM_TLB_WAYS;

	if (!sets)
		sets = 1;
	tlb->sets = sets;
	tlb->ways = SIM_TLB_WAYS;
	tlb->entries = sim_alloc(dev, (size_t)sets * SIM_TLB_WAYS * sizeof(*tlb->entries));
	tlb->victim = sim_alloc(dev, sets);
	if (!tlb->entries || !tlb->victim) {
		sim_tlb_fini(dev);
		return -ENOMEM;
	}
	return 0;
}

/* sim_tlb_fini - free the TLB arrays. Safe on a partly initialised TLB. */
void sim_tlb_fini(struct sim_device *dev)
{
	free(dev->tlb.entries);
	free(dev->tlb.victim);
	dev->tlb.entries = NULL;
	dev->tlb.victim = NULL;
}

static inline uint32_t sim_tlb_set(const struct sim_tlb *tlb, uint32_t slot, uint64_t vpn)
{
	uint64_t h = vpn ^ (uint32_t)(slot * 0x9e3779b1u);

	if (!(tlb->sets & (tlb->sets - 1)))
		return (uint32_t)(h & (tlb->sets - 1));
	return (uint32_t)(h % tlb->sets);
}

static inline struct sim_tlb_entry *sim_tlb_lookup(struct sim_tlb *tlb, uint32_t slot, uint64_t vpn)
{
	struct sim_tlb_entry *e = &tlb->entries[(size_t)sim_tlb_set(tlb, slot, vpn) * SIM_TLB_WAYS];

	for (uint32_t w = 0; w < SIM_TLB_WAYS; w++) {
		if (e[w].valid && e[w].vpn == vpn && e[w].slot == slot)
			return &e[w];
	}
	return NULL;
}

static void sim_tlb_insert(struct sim_tlb *tlb, uint32_t slot, uint64_t vpn, uint8_t *host,
			   uint64_t pa, uint8_t perms)
{
	uint32_t set = sim_tlb_set(tlb, slot, vpn);
	uint32_t way = tlb->victim[set];
	struct sim_tlb_entry *e = &tlb->entries[(size_t)set * SIM_TLB_WAYS + way];

	tlb->victim[set] = (uint8_t)((way + 1) % SIM_TLB_WAYS);
	e->vpn = vpn;
	e->host = host;
	e->pa = pa;
	e->slot = (uint8_t)slot;
	e->perms = perms;
	e->valid = true;
}

/*
 * sim_tlb_flush_locked - see sim_internal.h. Emits SIM_EV_TLB_FLUSH (value2 0 = whole slot).
 * The victim pointers are left alone: replacement stays round-robin across flushes.
 */
void sim_tlb_flush_locked(struct sim_device *dev, uint32_t slot, uint64_t va, uint64_t pages)
{
	struct sim_tlb *tlb = &dev->tlb;
	uint64_t first = va >> SIM_PAGE_SHIFT;
	size_t n = (size_t)tlb->sets * SIM_TLB_WAYS;

	sim_mutex_assert_held(&dev->lock);
	for (size_t i = 0; i < n; i++) {
		struct sim_tlb_entry *e = &tlb->entries[i];

		if (!e->valid || e->slot != slot)
			continue;
		if (pages && (e->vpn < first || e->vpn - first >= pages))
			continue;
		e->valid = false;
	}
	if (sim_event_wanted(dev, SIM_EV_TLB_FLUSH))
		sim_event_locked(dev, SIM_EV_TLB_FLUSH, slot, 0, first << SIM_PAGE_SHIFT, pages,
				 NULL);
}

/* sim_tlb_drop_pa_locked - see sim_internal.h. No event: this is not a guest-visible flush. */
void sim_tlb_drop_pa_locked(struct sim_device *dev, uint64_t pa)
{
	struct sim_tlb *tlb = &dev->tlb;
	uint64_t page = pa & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	size_t n = (size_t)tlb->sets * SIM_TLB_WAYS;

	sim_mutex_assert_held(&dev->lock);
	for (size_t i = 0; i < n; i++) {
		if (tlb->entries[i].valid && tlb->entries[i].pa == page)
			tlb->entries[i].valid = false;
	}
}

static void sim_tlb_clear_all(struct sim_device *dev)
{
	struct sim_tlb *tlb = &dev->tlb;

	memset(tlb->entries, 0, (size_t)tlb->sets * SIM_TLB_WAYS * sizeof(*tlb->entries));
	memset(tlb->victim, 0, tlb->sets);
}

/*
 * sim_mmu_reset_locked - soft reset (@hard false): flush the whole TLB, unlatch every fault and
 * release LOCKs, keeping TRANSTAB/CONFIG (staged and live) and the range registers. Hard reset:
 * every slot register to 0 (slots disabled), injected MMU faults disarmed, TLB empty with its
 * replacement pointers rewound.
 */
void sim_mmu_reset_locked(struct sim_device *dev, bool hard)
{
	sim_mutex_assert_held(&dev->lock);
	sim_tlb_clear_all(dev);
	for (uint32_t i = 0; i < SIM_AS_MAX; i++) {
		struct sim_as *as = &dev->as[i];

		if (hard) {
			memset(as, 0, sizeof(*as));
			continue;
		}
		as->locked = false;
		as->fault_latched = false;
		as->faultstatus = 0;
		as->faultaddr = 0;
	}
}

/* sim_mmu_mmio_read_locked - see sim_internal.h. @reg is the offset within the slot. */
uint32_t sim_mmu_mmio_read_locked(struct sim_device *dev, uint32_t slot, uint32_t reg)
{
	struct sim_as *as;
	uint32_t v = 0;

	sim_mutex_assert_held(&dev->lock);
	if (slot >= dev->cfg.as_slots)
		return 0;
	as = &dev->as[slot];
	switch (reg) {
	case SIM_AS_REG(SIM_AS_TRANSTAB_LO):
		return (uint32_t)as->transtab_staged;
	case SIM_AS_REG(SIM_AS_TRANSTAB_HI):
		return (uint32_t)(as->transtab_staged >> 32);
	case SIM_AS_REG(SIM_AS_CONFIG):
		return as->config_staged;
	case SIM_AS_REG(SIM_AS_STATUS):
		if (as->config & SIM_AS_CONFIG_ENABLE)
			v |= SIM_AS_STATUS_ENABLED;
		if (as->locked)
			v |= SIM_AS_STATUS_LOCKED;
		if (as->fault_latched)
			v |= SIM_AS_STATUS_FAULTED;
		return v;
	case SIM_AS_REG(SIM_AS_FAULTSTATUS):
		return as->faultstatus;
	case SIM_AS_REG(SIM_AS_FAULTADDRESS_LO):
		return (uint32_t)as->faultaddr;
	case SIM_AS_REG(SIM_AS_FAULTADDRESS_HI):
		return (uint32_t)(as->faultaddr >> 32);
	case SIM_AS_REG(SIM_AS_RANGE_BASE_LO):
		return (uint32_t)as->range_base;
	case SIM_AS_REG(SIM_AS_RANGE_BASE_HI):
		return (uint32_t)(as->range_base >> 32);
	case SIM_AS_REG(SIM_AS_RANGE_PAGES):
		return as->range_pages;
	default: /* COMMAND and FAULTCLEAR are write-only */
		return 0;
	}
}

static void sim_mmu_command_locked(struct sim_device *dev, uint32_t slot, uint32_t cmd)
	SIM_REQUIRES(dev->lock)
{
	struct sim_as *as = &dev->as[slot];
	uint64_t base;

	switch (cmd) {
	case SIM_AS_COMMAND_NOP:
		break;
	case SIM_AS_COMMAND_UPDATE:
		as->transtab = as->transtab_staged;
		as->config = as->config_staged;
		sim_tlb_flush_locked(dev, slot, 0, 0);
		break;
	case SIM_AS_COMMAND_FLUSH_ALL:
		sim_tlb_flush_locked(dev, slot, 0, 0);
		break;
	case SIM_AS_COMMAND_FLUSH_RANGE:
		base = as->range_base;
		if (base & (SIM_PAGE_SIZE - 1))
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
				       "AS%u: FLUSH_RANGE base %#llx not page aligned", slot,
				       (unsigned long long)base);
		/* RANGE_PAGES 0 flushes nothing (a zero-length range), not the whole slot. */
		if (as->range_pages)
			sim_tlb_flush_locked(dev, slot, base & ~(uint64_t)(SIM_PAGE_SIZE - 1),
					     as->range_pages);
		break;
	case SIM_AS_COMMAND_LOCK:
		as->locked = true;
		break;
	case SIM_AS_COMMAND_UNLOCK:
		as->locked = false;
		sim_clock_kick_locked(dev);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "AS%u: unknown AS_COMMAND %#x", slot, cmd);
		break;
	}
}

/*
 * sim_mmu_mmio_write_locked - see sim_internal.h. TRANSTAB/CONFIG only reach the walker through
 * UPDATE; CONFIG keeps only its defined bit; writes to read-only registers are guest errors.
 */
void sim_mmu_mmio_write_locked(struct sim_device *dev, uint32_t slot, uint32_t reg, uint32_t value)
{
	struct sim_as *as;

	sim_mutex_assert_held(&dev->lock);
	if (slot >= dev->cfg.as_slots) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
			       "AS%u: slot not present in this configuration", slot);
		return;
	}
	as = &dev->as[slot];
	switch (reg) {
	case SIM_AS_REG(SIM_AS_TRANSTAB_LO):
		as->transtab_staged = (as->transtab_staged & ~0xffffffffull) | value;
		break;
	case SIM_AS_REG(SIM_AS_TRANSTAB_HI):
		as->transtab_staged =
			(as->transtab_staged & 0xffffffffull) | ((uint64_t)value << 32);
		break;
	case SIM_AS_REG(SIM_AS_CONFIG):
		as->config_staged = value & SIM_AS_CONFIG_ENABLE;
		break;
	case SIM_AS_REG(SIM_AS_COMMAND):
		sim_mmu_command_locked(dev, slot, value);
		break;
	case SIM_AS_REG(SIM_AS_FAULTCLEAR):
		if (value & 1) {
			as->fault_latched = false;
			as->faultstatus = 0;
			as->faultaddr = 0;
		}
		break;
	case SIM_AS_REG(SIM_AS_RANGE_BASE_LO):
		as->range_base = (as->range_base & ~0xffffffffull) | value;
		break;
	case SIM_AS_REG(SIM_AS_RANGE_BASE_HI):
		as->range_base = (as->range_base & 0xffffffffull) | ((uint64_t)value << 32);
		break;
	case SIM_AS_REG(SIM_AS_RANGE_PAGES):
		as->range_pages = value;
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "AS%u: write to read-only register %#x",
			       slot, reg);
		break;
	}
}

/* Report a translation fault: latch (first wins), raise MMU_FAULT, emit FAULT. Returns @code. */
static uint32_t sim_mmu_fault_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
				     uint32_t code, uint32_t level, uint32_t access)
	SIM_REQUIRES(dev->lock)
{
	x->fault_va = va;
	if (x->as < dev->cfg.as_slots) {
		struct sim_as *as = &dev->as[x->as];

		if (!as->fault_latched) {
			as->fault_latched = true;
			as->faultstatus = SIM_FIELD_PREP(SIM_AS_FAULT_CODE, code) |
					  SIM_FIELD_PREP(SIM_AS_FAULT_ACCESS, access) |
					  SIM_FIELD_PREP(SIM_AS_FAULT_LEVEL, level) |
					  SIM_FIELD_PREP(SIM_AS_FAULT_QUEUE, x->queue) |
					  SIM_FIELD_PREP(SIM_AS_FAULT_SOURCE, x->source);
			as->faultaddr = va;
		}
		sim_irq_raise_locked(dev, SIM_IRQ_MMU_FAULT(x->as));
	}
	if (sim_event_wanted(dev, SIM_EV_FAULT))
		sim_event_locked(dev, SIM_EV_FAULT, x->queue, code, va, x->as,
				 sim_fault_name(code));
	return code;
}

static inline bool sim_perms_allow(uint32_t perms, uint32_t access)
{
	static const uint8_t need[4] = {
		[SIM_ACCESS_READ] = SIM_PTE_READ,
		[SIM_ACCESS_WRITE] = SIM_PTE_WRITE,
		[SIM_ACCESS_EXECUTE] = SIM_PTE_EXECUTE,
		[SIM_ACCESS_ATOMIC] = SIM_PTE_READ | SIM_PTE_WRITE,
	};

	return (perms & need[access & 3]) == need[access & 3];
}

static inline uint64_t sim_load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* TLB miss: walk the tables of @x->as for @va, fill the TLB, check permissions. */
static uint32_t sim_mmu_walk_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
				    uint32_t access, uint8_t **host_out) SIM_REQUIRES(dev->lock)
{
	struct sim_as *as = &dev->as[x->as];
	uint64_t table = as->transtab & SIM_PTE_ADDR_MASK;
	uint64_t vpn = va >> SIM_PAGE_SHIFT;
	uint32_t level, code = SIM_FAULT_NONE;
	uint64_t entry = 0, page_pa = 0;
	uint8_t *p = NULL;

	for (level = 0; level < SIM_PT_LEVELS; level++) {
		p = sim_bus_host_locked(dev, table + SIM_PT_INDEX(va, level) * 8);
		if (!p) {
			code = SIM_FAULT_MMU_BUS_ERROR;
			break;
		}
		entry = sim_load_le64(p);
		if (!(entry & SIM_PTE_VALID)) {
			code = SIM_FAULT_MMU_TRANSLATION;
			break;
		}
		table = entry & SIM_PTE_ADDR_MASK;
	}
	if (level == SIM_PT_LEVELS) {
		level = SIM_PT_LEVELS - 1;
		page_pa = entry & SIM_PTE_ADDR_MASK;
		p = sim_bus_host_locked(dev, page_pa);
		if (!p)
			code = SIM_FAULT_MMU_BUS_ERROR;
	}
	x->cycles += (uint64_t)dev->cfg.timing.tlb_walk_level * (level + 1);
	dev->stats.tlb_misses++;
	sim_perf_add(dev, SIM_PERF_TLB_MISSES, 1);
	if (sim_event_wanted(dev, SIM_EV_TLB_MISS))
		sim_event_locked(dev, SIM_EV_TLB_MISS, x->as, level + 1, va, 0, NULL);
	if (code)
		return sim_mmu_fault_locked(dev, x, va, code, level, access);
	sim_tlb_insert(&dev->tlb, x->as, vpn, p, page_pa,
		       (uint8_t)(entry & (SIM_PTE_READ | SIM_PTE_WRITE | SIM_PTE_EXECUTE)));
	if (!sim_perms_allow((uint32_t)entry, access))
		return sim_mmu_fault_locked(dev, x, va, SIM_FAULT_MMU_PERMISSION, level, access);
	*host_out = p + (va & (SIM_PAGE_SIZE - 1));
	return SIM_FAULT_NONE;
}

/*
 * sim_mmu_translate_locked - see sim_internal.h. Order of checks: slot implemented, injected
 * fault, live ENABLE, VA size, then the TLB (a hit costs nothing), then the walk.
 */
uint32_t sim_mmu_translate_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
				  uint32_t access, uint8_t **host_out)
{
	struct sim_tlb_entry *e;
	struct sim_as *as;

	if (x->as >= dev->cfg.as_slots)
		return sim_mmu_fault_locked(dev, x, va, SIM_FAULT_MMU_AS_DISABLED, 0, access);
	as = &dev->as[x->as];
	if (as->inject_fault_count) {
		uint32_t code = as->inject_fault_code;

		if (!--as->inject_fault_count)
			as->inject_fault_code = 0;
		if (code)
			return sim_mmu_fault_locked(dev, x, va, code, SIM_PT_LEVELS - 1, access);
	}
	if (!(as->config & SIM_AS_CONFIG_ENABLE))
		return sim_mmu_fault_locked(dev, x, va, SIM_FAULT_MMU_AS_DISABLED, 0, access);
	if (va >= SIM_VA_LIMIT)
		return sim_mmu_fault_locked(dev, x, va, SIM_FAULT_MMU_ADDRESS_SIZE, 0, access);
	e = sim_tlb_lookup(&dev->tlb, x->as, va >> SIM_PAGE_SHIFT);
	if (!e)
		return sim_mmu_walk_locked(dev, x, va, access, host_out);
	dev->stats.tlb_hits++;
	if (!sim_perms_allow(e->perms, access))
		return sim_mmu_fault_locked(dev, x, va, SIM_FAULT_MMU_PERMISSION, SIM_PT_LEVELS - 1,
					    access);
	*host_out = e->host + (va & (SIM_PAGE_SIZE - 1));
	return SIM_FAULT_NONE;
}

/*
 * sim_gpu_read_locked - see sim_internal.h. Bytes before a faulting page have been copied to
 * @dst; the rest of @dst is untouched.
 */
uint32_t sim_gpu_read_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va, void *dst,
			     uint64_t len)
{
	uint8_t *out = dst;

	while (len) {
		uint64_t in_page = SIM_PAGE_SIZE - (va & (SIM_PAGE_SIZE - 1));
		uint64_t n = len < in_page ? len : in_page;
		uint8_t *host;
		uint32_t code = sim_mmu_translate_locked(dev, x, va, SIM_ACCESS_READ, &host);

		if (code)
			return code;
		memcpy(out, host, n);
		out += n;
		va += n;
		len -= n;
	}
	return SIM_FAULT_NONE;
}

/*
 * sim_gpu_write_locked - see sim_internal.h. Pages before a faulting one are written (the access
 * is not atomic across pages, as on hardware); mem_epoch is bumped if any byte was written.
 */
uint32_t sim_gpu_write_locked(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
			      const void *src, uint64_t len)
{
	const uint8_t *in = src;
	uint32_t code = SIM_FAULT_NONE;
	bool wrote = false;

	while (len) {
		uint64_t in_page = SIM_PAGE_SIZE - (va & (SIM_PAGE_SIZE - 1));
		uint64_t n = len < in_page ? len : in_page;
		uint8_t *host;

		code = sim_mmu_translate_locked(dev, x, va, SIM_ACCESS_WRITE, &host);
		if (code)
			break;
		memcpy(host, in, n);
		wrote = true;
		in += n;
		va += n;
		len -= n;
	}
	if (wrote)
		dev->mem_epoch++;
	return code;
}

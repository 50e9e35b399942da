/* SPDX-License-Identifier: MIT */
/*
 * sim_test_util.h - a tiny host-side "driver" for sim tests, benchmarks and the demo.
 *
 * It programs the model only through sim.h (MMIO, bus memory, clock), the way the real system
 * driver will: host pages pinned as frames, 4-level page tables written into pinned pages, rings
 * in GPU memory, doorbells. Deliberately minimal and single-threaded; not product code. Functions
 * returning int give 0 or -errno.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <stdint.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"

/* clang-format off */
#define SIMT_RING_VA(q) (0x7f0000000000ull + (uint64_t)(q) * 0x100000ull)
/* clang-format on */

/* Host memory pinned into bus frames. */
struct simt_buf {
	void *host;    /* page-aligned, zeroed at allocation */
	uint64_t size; /* bytes, a multiple of 4 KiB */
	uint64_t pages;
	uint64_t *pa; /* physical address of each page */
};

struct simt {
	struct sim_device *dev;
	struct simt_buf *tables[SIM_AS_MAX][1024]; /* page-table pages per slot (owned) */
	uint32_t table_count[SIM_AS_MAX];
	uint64_t root_pa[SIM_AS_MAX];
	struct simt_buf *rings[SIM_QUEUE_MAX];
	uint32_t ring_size[SIM_QUEUE_MAX];
	uint32_t ring_as[SIM_QUEUE_MAX];
};

/*
 * simt_create - sim_create(@cfg) (NULL = defaults), power up every core (waiting for
 * POWER_CHANGED by stepping), unmask every interrupt cause. NULL on failure.
 */
struct simt *simt_create(const struct sim_config *cfg);
/* simt_destroy - free every buffer and table, then the device. NULL is a no-op. */
void simt_destroy(struct simt *t);

/* simt_alloc - page-aligned zeroed host memory of @size (rounded up to 4 KiB), pinned. */
struct simt_buf *simt_alloc(struct simt *t, uint64_t size);
/* simt_free - unpin and free. NULL is a no-op. */
void simt_free(struct simt *t, struct simt_buf *b);

/* simt_as_init - give @slot an empty level-0 table, enable it (TRANSTAB, CONFIG, UPDATE). */
int simt_as_init(struct simt *t, uint32_t slot);
/*
 * simt_map - map [@offset, @offset + @size) of @b at @va (all page-aligned) in @slot with leaf
 * flags @pte_flags (SIM_PTE_READ/WRITE/EXECUTE; VALID is added), allocating tables as needed.
 * Does not flush the TLB (call simt_flush), like a driver that must remember to.
 */
int simt_map(struct simt *t, uint32_t slot, uint64_t va, struct simt_buf *b, uint64_t offset,
	     uint64_t size, uint64_t pte_flags);
/* simt_unmap - clear the leaf PTEs of [@va, @va + @size). No TLB flush. */
int simt_unmap(struct simt *t, uint32_t slot, uint64_t va, uint64_t size);
/* simt_flush - AS_COMMAND FLUSH_ALL on @slot. */
void simt_flush(struct simt *t, uint32_t slot);
/* simt_pte - host pointer to the entry for @va at @level (0..3) in @slot, or NULL if the path
 * to it is not present. For tests that corrupt tables. */
uint64_t *simt_pte(struct simt *t, uint32_t slot, uint64_t va, int level);

/*
 * simt_queue_init - allocate a ring of @entries (power of two) for queue @q, map it at
 * SIMT_RING_VA(q) in @ring_slot (initialising the slot if needed), program RING_BASE/SIZE/AS and
 * CONTROL.ENABLE.
 */
int simt_queue_init(struct simt *t, uint32_t q, uint32_t ring_slot, uint32_t entries);
/* simt_submit - write one ring entry at TAIL, advance TAIL, ring the doorbell. -ENOSPC if full. */
int simt_submit(struct simt *t, uint32_t q, uint32_t job_slot, uint64_t cmd_va, uint32_t cmd_size,
		uint64_t seqno, uint16_t flags);
/* simt_run - sim_clock_run_until_idle with @max_cycles; returns its result. */
int simt_run(struct simt *t, uint64_t max_cycles);

/* simt_read32/simt_write32/simt_read64 - MMIO shorthands (read64 reads a _LO/_HI pair). */
uint32_t simt_read32(struct simt *t, uint32_t offset);
void simt_write32(struct simt *t, uint32_t offset, uint32_t value);
uint64_t simt_read64(struct simt *t, uint32_t offset);
/* simt_qstate - the STATE field of queue @q's Q_STATUS (SIM_Q_STATE_*). */
uint32_t simt_qstate(struct simt *t, uint32_t q);

/*
 * The common CP test fixture: a device, a command buffer mapped READ, a data buffer mapped
 * READ|WRITE and, when prog_size is not 0, a program buffer mapped READ|EXECUTE, all in slot 0,
 * and 16-entry rings in slot 0 for queues 0 .. queues - 1. Sizes are multiples of 4 KiB.
 */
struct simt_fix_layout {
	uint64_t cmd_va, data_va, prog_va;
	uint32_t cmd_size, data_size, prog_size;
	uint32_t queues;
};

struct simt_fix {
	struct simt *t;
	struct sim_device *dev; /* t->dev */
	struct simt_buf *cmd, *data, *prog;
};

/* simt_fix_init - build @f as @l describes on simt_create(@cfg). On failure nothing is left. */
int simt_fix_init(struct simt_fix *f, const struct sim_config *cfg,
		  const struct simt_fix_layout *l);
/* simt_fix_fini - destroy the device and every buffer. */
void simt_fix_fini(struct simt_fix *f);
/* simt_fix_cmd - host pointer to byte @off of the command buffer. */
uint32_t *simt_fix_cmd(struct simt_fix *f, uint32_t off);
/* simt_fix_data32/simt_fix_data64 - the (host-endian) word at byte @off of the data buffer. */
uint32_t simt_fix_data32(struct simt_fix *f, uint32_t off);
uint64_t simt_fix_data64(struct simt_fix *f, uint32_t off);

#endif /* SIM_TEST_UTIL_H */

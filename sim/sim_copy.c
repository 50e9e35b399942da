/* SPDX-License-Identifier: MIT */
/*
 * sim_copy.c - the copy engine behind the CP's COPY and FILL commands.
 *
 * A transfer advances by at most SIM_COPY_CHUNK bytes per scheduler unit, so a long copy does
 * not hold the device lock for long and STOP/RESET stay responsive. Within a chunk it walks page
 * by page: one translation per source page and per destination page (the TLB makes repeated
 * pages free), then a host memmove/pattern store over the largest run both pages allow -- no
 * per-byte calls and no events on the hot path, so large copies run near host memcpy speed.
 * Chunks go in ascending address order and each chunk behaves like memmove (a chunk whose
 * destination overlaps above its source is copied descending), so overlapping ranges up to
 * 64 KiB apart give chunk-wise memmove results, as documented. Faults stop the transfer where they
 * happen: bytes before the faulting page have been written (no rollback, as on hardware). The
 * engine's bandwidth is timing.copy_bytes_per_cycle; translation walks add their own cost. Not
 * modelled: bus contention between queues, cache effects. Runs with dev->lock held, called by
 * sim_cp.c.
 */
#include <string.h>

#include "sim_internal.h"

#define SIM_COPY_CHUNK (64u * 1024u)

static inline uint64_t sim_page_left(uint64_t va)
{
	return SIM_PAGE_SIZE - (va & (SIM_PAGE_SIZE - 1));
}

/*
 * Copy @n bytes of q->op starting at op->done, ascending (also right for a destination below an
 * overlapping source). Bytes copied go to *@moved.
 */
static uint32_t sim_copy_chunk_locked(struct sim_device *dev, struct sim_xfer *x,
				      const struct sim_op *op, uint64_t n, uint64_t *moved)
	SIM_REQUIRES(dev->lock)
{
	uint64_t src = op->src + op->done, dst = op->dst + op->done;
	uint64_t s_left = 0, d_left = 0;
	uint8_t *s = NULL, *d = NULL;
	uint32_t code;

	while (n) {
		uint64_t k = n;

		if (!s_left) {
			code = sim_mmu_translate_locked(dev, x, src, SIM_ACCESS_READ, &s);
			if (code)
				return code;
			s_left = sim_page_left(src);
		}
		if (!d_left) {
			code = sim_mmu_translate_locked(dev, x, dst, SIM_ACCESS_WRITE, &d);
			if (code)
				return code;
			d_left = sim_page_left(dst);
		}
		if (k > s_left)
			k = s_left;
		if (k > d_left)
			k = d_left;
		memmove(d, s, k);
		s += k;
		d += k;
		src += k;
		dst += k;
		s_left -= k;
		d_left -= k;
		n -= k;
		*moved += k;
	}
	return SIM_FAULT_NONE;
}

/*
 * Copy @n bytes descending, for a destination above an overlapping source, so the chunk as a
 * whole behaves like memmove. Rare, so it simply translates both sides for every run.
 */
static uint32_t sim_copy_chunk_down_locked(struct sim_device *dev, struct sim_xfer *x,
					   const struct sim_op *op, uint64_t n, uint64_t *moved)
	SIM_REQUIRES(dev->lock)
{
	uint64_t src = op->src + op->done, dst = op->dst + op->done;
	uint8_t *s, *d;
	uint32_t code;

	while (n) {
		uint64_t se = src + n, de = dst + n, k = n;
		uint64_t sk = ((se - 1) & (SIM_PAGE_SIZE - 1)) + 1;
		uint64_t dk = ((de - 1) & (SIM_PAGE_SIZE - 1)) + 1;

		if (k > sk)
			k = sk;
		if (k > dk)
			k = dk;
		code = sim_mmu_translate_locked(dev, x, se - k, SIM_ACCESS_READ, &s);
		if (!code)
			code = sim_mmu_translate_locked(dev, x, de - k, SIM_ACCESS_WRITE, &d);
		if (code)
			return code;
		memmove(d, s, k);
		n -= k;
		*moved += k;
	}
	return SIM_FAULT_NONE;
}

/* Store @k bytes at @d where byte i is byte ((@phase + i) % 4) of @pattern (little-endian). */
static void sim_fill_run(uint8_t *d, uint64_t k, uint32_t pattern, uint64_t phase)
{
	uint32_t rot = (uint32_t)(phase & 3) * 8;
	uint32_t w = rot ? (pattern >> rot) | (pattern << (32 - rot)) : pattern;
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(w >> (8 * (i & 3)));
	if (b[0] == b[1] && b[0] == b[2] && b[0] == b[3]) {
		memset(d, b[0], k);
		return;
	}
	for (; k >= 8; k -= 8, d += 8)
		memcpy(d, b, 8);
	for (uint64_t i = 0; i < k; i++)
		d[i] = b[i];
}

/* Fill @n bytes of q->op starting at op->done; bytes stored go to *@moved. */
static uint32_t sim_fill_chunk_locked(struct sim_device *dev, struct sim_xfer *x,
				      const struct sim_op *op, uint64_t n, uint64_t *moved)
	SIM_REQUIRES(dev->lock)
{
	uint64_t pos = op->done;

	while (n) {
		uint64_t dst = op->dst + pos;
		uint64_t k = sim_page_left(dst);
		uint8_t *d;
		uint32_t code = sim_mmu_translate_locked(dev, x, dst, SIM_ACCESS_WRITE, &d);

		if (code)
			return code;
		if (k > n)
			k = n;
		sim_fill_run(d, k, op->pattern, pos);
		n -= k;
		pos += k;
		*moved += k;
	}
	return SIM_FAULT_NONE;
}

/*
 * sim_copy_step_locked - advance queue @qi's COPY or FILL (q->op) by one chunk of at most 64 KiB.
 * Adds ceil(bytes moved / copy_bytes_per_cycle) plus translation cost to *@cycles and counts
 * perf BYTES. Clears q->op.kind when the transfer is complete. On a fault (MMU, or an armed
 * DMA_ERROR injection, checked when a transfer starts, with FAULT_ADDR = dst) it faults the
 * queue itself through sim_cp_fault_locked() and returns the SIM_FAULT_* code; else returns 0.
 */
uint32_t sim_copy_step_locked(struct sim_device *dev, uint32_t qi, uint64_t *cycles)
{
	struct sim_queue *q = &dev->q[qi];
	struct sim_op *op = &q->op;
	struct sim_xfer x = {.as = q->job_as, .queue = qi, .source = SIM_SOURCE_COPY};
	uint64_t bpc =
		dev->cfg.timing.copy_bytes_per_cycle ? dev->cfg.timing.copy_bytes_per_cycle : 1;
	uint64_t n = op->size - op->done, moved = 0;
	uint32_t code;

	sim_mutex_assert_held(&dev->lock);
	if (!op->done && sim_cp_inject_take_locked(q, &q->inject_dma, &q->scoped_dma)) {
		sim_log_locked(dev, SIM_LOG_INFO, "injected: DMA error on queue %u", qi);
		sim_cp_fault_locked(dev, qi, SIM_FAULT_DMA_ERROR, op->dst);
		return SIM_FAULT_DMA_ERROR;
	}
	if (n > SIM_COPY_CHUNK)
		n = SIM_COPY_CHUNK;
	if (op->kind == SIM_OPK_FILL)
		code = sim_fill_chunk_locked(dev, &x, op, n, &moved);
	else if (op->dst > op->src && op->dst - op->src < n)
		code = sim_copy_chunk_down_locked(dev, &x, op, n, &moved);
	else
		code = sim_copy_chunk_locked(dev, &x, op, n, &moved);
	op->done += moved;
	*cycles += (moved + bpc - 1) / bpc + x.cycles;
	if (moved) {
		dev->mem_epoch++;
		dev->stats.bytes_copied += moved;
		sim_perf_add(dev, SIM_PERF_BYTES, moved);
	}
	if (code) {
		sim_cp_fault_locked(dev, qi, code, x.fault_va);
		return code;
	}
	if (op->done == op->size)
		op->kind = SIM_OPK_NONE;
	return SIM_FAULT_NONE;
}

/* SPDX-License-Identifier: MIT */
/*
 * sim_test_util.c - the tiny host-side driver behind sim_test_util.h.
 *
 * It does what a system driver does, minus everything a real one needs for robustness: host
 * pages from aligned_alloc pinned with sim_bus_map, 4-level page tables built in pinned pages and
 * located again by physical address, rings written directly in host memory, doorbells through
 * MMIO. Every buffer handed out is kept on a private list so simt_destroy frees whatever a test
 * forgot. It never flushes TLBs behind the caller's back (simt_flush is explicit) and has no
 * locking: one thread per struct simt. Ring entries written by simt_submit carry no fence
 * address (FENCE_VA = 0); tests that need fences write their own entries.
 */
#include "sim_test_util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A buffer and its link in the owner's list of live buffers. */
struct simt_node {
	struct simt_buf buf;
	struct simt_node *prev, *next;
};

/* struct simt plus the private list of buffers; simt_create allocates this. */
struct simt_priv {
	struct simt pub;
	struct simt_node *bufs;
};

static struct simt_priv *simt_priv(struct simt *t)
{
	return (struct simt_priv *)((char *)t - offsetof(struct simt_priv, pub));
}

static void simt_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Power every present core and wait (by stepping) until they all report ready. */
static int simt_power_up(struct simt *t)
{
	uint32_t present = simt_read32(t, SIM_PWR_CORES_PRESENT);

	simt_write32(t, SIM_PWR_CORES_ON, present);
	for (int i = 0; i < 1000; i++) {
		if (simt_read32(t, SIM_PWR_CORES_READY) == present &&
		    !(simt_read32(t, SIM_PWR_STATUS) & SIM_PWR_STATUS_TRANSITION))
			break;
		if (sim_clock_run_until_idle(t->dev, 1000000, NULL) == -EBUSY)
			return -EBUSY;
		if (simt_read32(t, SIM_PWR_CORES_READY) != present)
			sim_clock_step(t->dev, 1000);
	}
	if (simt_read32(t, SIM_PWR_CORES_READY) != present)
		return -ETIMEDOUT;
	simt_write32(t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_POWER_CHANGED);
	return 0;
}

/*
 * simt_create - see sim_test_util.h. The returned object is really a struct simt_priv; free it
 * only with simt_destroy.
 */
struct simt *simt_create(const struct sim_config *cfg)
{
	struct simt_priv *p = calloc(1, sizeof(*p));
	struct simt *t;

	if (!p)
		return NULL;
	t = &p->pub;
	t->dev = sim_create(cfg);
	if (!t->dev)
		goto err_free;
	if (simt_power_up(t))
		goto err_destroy;
	simt_write32(t, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	return t;

err_destroy:
	sim_destroy(t->dev);
err_free:
	free(p);
	return NULL;
}

/* simt_destroy - destroy the device first (nothing may touch the pages after), then free them. */
void simt_destroy(struct simt *t)
{
	struct simt_priv *p;
	struct simt_node *n, *next;

	if (!t)
		return;
	p = simt_priv(t);
	sim_destroy(t->dev);
	for (n = p->bufs; n; n = next) {
		next = n->next;
		free(n->buf.host);
		free(n->buf.pa);
		free(n);
	}
	free(p);
}

/* simt_alloc - see sim_test_util.h. Returns NULL on allocation or bus-mapping failure. */
struct simt_buf *simt_alloc(struct simt *t, uint64_t size)
{
	struct simt_priv *p = simt_priv(t);
	struct simt_node *n;
	uint64_t bytes = (size + SIM_PAGE_SIZE - 1) & ~(uint64_t)(SIM_PAGE_SIZE - 1);

	if (!bytes)
		bytes = SIM_PAGE_SIZE;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->buf.size = bytes;
	n->buf.pages = bytes / SIM_PAGE_SIZE;
	n->buf.host = aligned_alloc(SIM_PAGE_SIZE, bytes);
	n->buf.pa = calloc(n->buf.pages, sizeof(uint64_t));
	if (!n->buf.host || !n->buf.pa)
		goto err_free;
	memset(n->buf.host, 0, bytes);
	if (sim_bus_map(t->dev, n->buf.host, n->buf.pages, n->buf.pa))
		goto err_free;
	n->next = p->bufs;
	if (p->bufs)
		p->bufs->prev = n;
	p->bufs = n;
	return &n->buf;

err_free:
	free(n->buf.host);
	free(n->buf.pa);
	free(n);
	return NULL;
}

/* simt_free - see sim_test_util.h. @b must come from simt_alloc on @t. */
void simt_free(struct simt *t, struct simt_buf *b)
{
	struct simt_priv *p;
	struct simt_node *n;

	if (!b)
		return;
	p = simt_priv(t);
	n = (struct simt_node *)((char *)b - offsetof(struct simt_node, buf));
	sim_bus_unmap(t->dev, b->pa, b->pages);
	if (n->prev)
		n->prev->next = n->next;
	else
		p->bufs = n->next;
	if (n->next)
		n->next->prev = n->prev;
	free(b->host);
	free(b->pa);
	free(n);
}

/* Host view of the page-table page at @pa in @slot, or NULL if it is not one of ours. */
static uint64_t *simt_table_host(struct simt *t, uint32_t slot, uint64_t pa)
{
	for (uint32_t i = t->table_count[slot]; i-- > 0;) {
		if (t->tables[slot][i]->pa[0] == pa)
			return t->tables[slot][i]->host;
	}
	return NULL;
}

/* Allocate a zeroed table page for @slot; its PA goes to *@pa_out. */
static int simt_table_new(struct simt *t, uint32_t slot, uint64_t *pa_out)
{
	struct simt_buf *b;

	if (t->table_count[slot] >= sizeof(t->tables[slot]) / sizeof(t->tables[slot][0]))
		return -ENOSPC;
	b = simt_alloc(t, SIM_PAGE_SIZE);
	if (!b)
		return -ENOMEM;
	t->tables[slot][t->table_count[slot]++] = b;
	*pa_out = b->pa[0];
	return 0;
}

/* simt_as_init - see sim_test_util.h. Keeps an existing root table; reprograms the slot. */
int simt_as_init(struct simt *t, uint32_t slot)
{
	int ret;

	if (slot >= SIM_AS_MAX)
		return -EINVAL;
	if (!t->root_pa[slot]) {
		ret = simt_table_new(t, slot, &t->root_pa[slot]);
		if (ret)
			return ret;
	}
	sim_mmio_write64(t->dev, SIM_AS_TRANSTAB_LO(slot), t->root_pa[slot]);
	simt_write32(t, SIM_AS_CONFIG(slot), SIM_AS_CONFIG_ENABLE);
	simt_write32(t, SIM_AS_COMMAND(slot), SIM_AS_COMMAND_UPDATE);
	return 0;
}

/* Entry for @va at @level, creating intermediate tables when @create. NULL if absent/failed. */
static uint64_t *simt_walk(struct simt *t, uint32_t slot, uint64_t va, int level, bool create)
{
	uint64_t *table;
	uint64_t pa;

	if (slot >= SIM_AS_MAX || level < 0 || level >= SIM_PT_LEVELS || !t->root_pa[slot])
		return NULL;
	table = simt_table_host(t, slot, t->root_pa[slot]);
	for (int l = 0; table; l++) {
		uint64_t *e = &table[SIM_PT_INDEX(va, l)];

		if (l == level)
			return e;
		if (!(*e & SIM_PTE_VALID)) {
			if (!create || simt_table_new(t, slot, &pa))
				return NULL;
			*e = pa | SIM_PTE_VALID;
		}
		table = simt_table_host(t, slot, *e & SIM_PTE_ADDR_MASK);
	}
	return NULL;
}

/* simt_map - see sim_test_util.h. Initialises @slot first if it has no root table yet. */
int simt_map(struct simt *t, uint32_t slot, uint64_t va, struct simt_buf *b, uint64_t offset,
	     uint64_t size, uint64_t pte_flags)
{
	uint64_t mask = SIM_PAGE_SIZE - 1;
	int ret;

	if (slot >= SIM_AS_MAX || !b || ((va | offset | size) & mask) || offset > b->size ||
	    size > b->size - offset || va + size > (1ull << SIM_VA_BITS))
		return -EINVAL;
	if (!t->root_pa[slot]) {
		ret = simt_as_init(t, slot);
		if (ret)
			return ret;
	}
	for (uint64_t i = 0; i < size / SIM_PAGE_SIZE; i++) {
		uint64_t *e = simt_walk(t, slot, va + i * SIM_PAGE_SIZE, SIM_PT_LEVELS - 1, true);

		if (!e)
			return -ENOMEM;
		*e = b->pa[offset / SIM_PAGE_SIZE + i] | (pte_flags & ~SIM_PTE_ADDR_MASK) |
		     SIM_PTE_VALID;
	}
	return 0;
}

/* simt_unmap - see sim_test_util.h. Pages that were never mapped are skipped. */
int simt_unmap(struct simt *t, uint32_t slot, uint64_t va, uint64_t size)
{
	if (slot >= SIM_AS_MAX || ((va | size) & (SIM_PAGE_SIZE - 1)))
		return -EINVAL;
	for (uint64_t off = 0; off < size; off += SIM_PAGE_SIZE) {
		uint64_t *e = simt_walk(t, slot, va + off, SIM_PT_LEVELS - 1, false);

		if (e)
			*e = 0;
	}
	return 0;
}

/* simt_flush - see sim_test_util.h. */
void simt_flush(struct simt *t, uint32_t slot)
{
	simt_write32(t, SIM_AS_COMMAND(slot), SIM_AS_COMMAND_FLUSH_ALL);
}

/* simt_pte - see sim_test_util.h. */
uint64_t *simt_pte(struct simt *t, uint32_t slot, uint64_t va, int level)
{
	return simt_walk(t, slot, va, level, false);
}

/*
 * simt_queue_init - see sim_test_util.h. @entries must be a power of two whose ring fits the
 * 1 MiB window at SIMT_RING_VA(q) (at most 32768 entries). A previous ring of @q is replaced.
 */
int simt_queue_init(struct simt *t, uint32_t q, uint32_t ring_slot, uint32_t entries)
{
	struct simt_buf *b;
	uint64_t bytes = (uint64_t)entries * SIM_RING_ENTRY_SIZE;
	int ret;

	if (q >= SIM_QUEUE_MAX || ring_slot >= SIM_AS_MAX || !entries ||
	    (entries & (entries - 1)) || bytes > 0x100000)
		return -EINVAL;
	if (t->rings[q]) {
		simt_unmap(t, t->ring_as[q], SIMT_RING_VA(q), t->rings[q]->size);
		simt_free(t, t->rings[q]);
		t->rings[q] = NULL;
	}
	b = simt_alloc(t, bytes);
	if (!b)
		return -ENOMEM;
	ret = simt_map(t, ring_slot, SIMT_RING_VA(q), b, 0, b->size, SIM_PTE_READ | SIM_PTE_WRITE);
	if (ret) {
		simt_free(t, b);
		return ret;
	}
	t->rings[q] = b;
	t->ring_size[q] = entries;
	t->ring_as[q] = ring_slot;
	sim_mmio_write64(t->dev, SIM_Q_RING_BASE_LO(q), SIMT_RING_VA(q));
	simt_write32(t, SIM_Q_RING_SIZE(q), entries);
	simt_write32(t, SIM_Q_RING_AS(q), ring_slot);
	simt_write32(t, SIM_Q_CONTROL(q), SIM_Q_CONTROL_ENABLE);
	return 0;
}

/* simt_submit - see sim_test_util.h. The entry's FENCE_VA is 0. */
int simt_submit(struct simt *t, uint32_t q, uint32_t job_slot, uint64_t cmd_va, uint32_t cmd_size,
		uint64_t seqno, uint16_t flags)
{
	uint32_t head, tail, size;
	uint8_t *e;

	if (q >= SIM_QUEUE_MAX || !t->rings[q])
		return -EINVAL;
	size = t->ring_size[q];
	head = simt_read32(t, SIM_Q_HEAD(q));
	tail = simt_read32(t, SIM_Q_TAIL(q));
	if (((tail + 1) & (size - 1)) == head)
		return -ENOSPC;
	e = (uint8_t *)t->rings[q]->host + (uint64_t)tail * SIM_RING_ENTRY_SIZE;
	memset(e, 0, SIM_RING_ENTRY_SIZE);
	simt_put_le64(e + SIM_RING_ENTRY_CMD_VA, cmd_va);
	e[SIM_RING_ENTRY_CMD_SIZE + 0] = (uint8_t)cmd_size;
	e[SIM_RING_ENTRY_CMD_SIZE + 1] = (uint8_t)(cmd_size >> 8);
	e[SIM_RING_ENTRY_CMD_SIZE + 2] = (uint8_t)(cmd_size >> 16);
	e[SIM_RING_ENTRY_CMD_SIZE + 3] = (uint8_t)(cmd_size >> 24);
	e[SIM_RING_ENTRY_AS + 0] = (uint8_t)job_slot;
	e[SIM_RING_ENTRY_AS + 1] = (uint8_t)(job_slot >> 8);
	e[SIM_RING_ENTRY_FLAGS + 0] = (uint8_t)flags;
	e[SIM_RING_ENTRY_FLAGS + 1] = (uint8_t)(flags >> 8);
	simt_put_le64(e + SIM_RING_ENTRY_SEQNO, seqno);
	simt_write32(t, SIM_Q_TAIL(q), (tail + 1) & (size - 1));
	simt_write32(t, SIM_Q_DOORBELL(q), 1);
	return 0;
}

/* simt_run - see sim_test_util.h. */
int simt_run(struct simt *t, uint64_t max_cycles)
{
	return sim_clock_run_until_idle(t->dev, max_cycles, NULL);
}

/* simt_read32 - see sim_test_util.h. */
uint32_t simt_read32(struct simt *t, uint32_t offset)
{
	return sim_mmio_read32(t->dev, offset);
}

/* simt_write32 - see sim_test_util.h. */
void simt_write32(struct simt *t, uint32_t offset, uint32_t value)
{
	sim_mmio_write32(t->dev, offset, value);
}

/* simt_read64 - see sim_test_util.h. */
uint64_t simt_read64(struct simt *t, uint32_t offset)
{
	return sim_mmio_read64(t->dev, offset);
}

/* simt_qstate - see sim_test_util.h. */
uint32_t simt_qstate(struct simt *t, uint32_t q)
{
	return SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(q)));
}

/*
 * simt_fix_init - see sim_test_util.h. Buffers are allocated (and so pinned) in the order
 * command, data, program before the slot's tables, so frame numbers do not depend on the caller.
 */
int simt_fix_init(struct simt_fix *f, const struct sim_config *cfg, const struct simt_fix_layout *l)
{
	struct simt *t;

	memset(f, 0, sizeof(*f));
	t = simt_create(cfg);
	if (!t)
		return -ENOMEM;
	f->t = t;
	f->dev = t->dev;
	f->cmd = simt_alloc(t, l->cmd_size);
	f->data = simt_alloc(t, l->data_size);
	if (l->prog_size)
		f->prog = simt_alloc(t, l->prog_size);
	if (!f->cmd || !f->data || (l->prog_size && !f->prog) || simt_as_init(t, 0) ||
	    simt_map(t, 0, l->cmd_va, f->cmd, 0, l->cmd_size, SIM_PTE_READ) ||
	    simt_map(t, 0, l->data_va, f->data, 0, l->data_size, SIM_PTE_READ | SIM_PTE_WRITE) ||
	    (l->prog_size &&
	     simt_map(t, 0, l->prog_va, f->prog, 0, l->prog_size, SIM_PTE_READ | SIM_PTE_EXECUTE)))
		goto err_destroy;
	for (uint32_t q = 0; q < l->queues; q++)
		if (simt_queue_init(t, q, 0, 16))
			goto err_destroy;
	return 0;

err_destroy:
	simt_fix_fini(f);
	return -ENOMEM;
}

/* simt_fix_fini - see sim_test_util.h. */
void simt_fix_fini(struct simt_fix *f)
{
	simt_destroy(f->t);
}

/* simt_fix_cmd - see sim_test_util.h. */
uint32_t *simt_fix_cmd(struct simt_fix *f, uint32_t off)
{
	return (uint32_t *)((uint8_t *)f->cmd->host + off);
}

/* simt_fix_data32 - see sim_test_util.h. */
uint32_t simt_fix_data32(struct simt_fix *f, uint32_t off)
{
	uint32_t v;

	memcpy(&v, (uint8_t *)f->data->host + off, sizeof(v));
	return v;
}

/* simt_fix_data64 - see sim_test_util.h. */
uint64_t simt_fix_data64(struct simt_fix *f, uint32_t off)
{
	uint64_t v;

	memcpy(&v, (uint8_t *)f->data->host + off, sizeof(v));
	return v;
}

/* SPDX-License-Identifier: MIT */
/*
 * test_mmu.c - address-space slots, the 4-level page walk, translation/permission/bus faults,
 * the TLB (staleness until flushed, round-robin eviction), fault latching, LOCK/UNLOCK and
 * MMU_FAULT injection.
 *
 * Accesses are made the way a driver would cause them: CP commands (WRITE32 for writes, WAIT
 * for reads, SIGNAL ADD for atomics) and DISPATCH program fetch (execute). Page tables are built
 * with sim_test_util and corrupted through simt_pte(). Every fault check reads FAULTSTATUS
 * field by field and FAULTADDRESS, plus the queue's FAULT_* registers.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define CMD_VA	 0x10000000ull
#define DATA_VA	 0x20000000ull
#define BUF_SIZE (64u * 1024u)
#define MAX_RUN	 10000000ull

static const struct simt_fix_layout layout = {
	.cmd_va = CMD_VA,
	.cmd_size = BUF_SIZE,
	.data_va = DATA_VA,
	.data_size = BUF_SIZE,
	.queues = 2,
};

/* Submit @n dwords at CMD_VA + @off on @q as a job in @slot and run to idle. */
static void run_job(struct simt_fix *f, uint32_t q, uint32_t slot, uint32_t off, uint32_t n)
{
	REQUIRE(!simt_submit(f->t, q, slot, CMD_VA + off, n * 4, 1, 0));
	CHECK_EQ(simt_run(f->t, MAX_RUN), 0);
}

/* Expect slot @as latched {code, access, level, queue, source} at @va, and queue @q faulted. */
static void expect_mmu_fault(struct simt_fix *f, uint32_t as, uint32_t q, uint32_t code,
			     uint32_t access, uint32_t level, uint32_t source, uint64_t va)
{
	uint32_t fs = simt_read32(f->t, SIM_AS_FAULTSTATUS(as));

	CHECK_EQ(simt_qstate(f->t, q), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f->t, SIM_Q_FAULT_CODE(q)), code);
	CHECK_EQ(simt_read64(f->t, SIM_Q_FAULT_ADDR_LO(q)), va);
	CHECK_EQ(simt_read32(f->t, SIM_AS_STATUS(as)) & SIM_AS_STATUS_FAULTED,
		 SIM_AS_STATUS_FAULTED);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_CODE, fs), code);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, fs), access);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_LEVEL, fs), level);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, fs), q);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_SOURCE, fs), source);
	CHECK_EQ(simt_read64(f->t, SIM_AS_FAULTADDRESS_LO(as)), va);
	CHECK(simt_read32(f->t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_MMU_FAULT(as));
	CHECK(simt_read32(f->t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(q));
}

/* Acknowledge: FAULTCLEAR the slot, clear IRQs, RESUME the queue (drops the job). */
static void ack_fault(struct simt_fix *f, uint32_t as, uint32_t q)
{
	simt_write32(f->t, SIM_AS_FAULTCLEAR(as), 1);
	simt_write32(f->t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	simt_write32(f->t, SIM_Q_COMMAND(q), SIM_Q_COMMAND_RESUME);
}

struct miss_log {
	uint32_t n;
	uint64_t va[32];
	uint32_t levels[32];
};

static void on_miss(void *ctx, const struct sim_event *ev)
{
	struct miss_log *l = ctx;

	if (l->n < 32) {
		l->va[l->n] = ev->value;
		l->levels[l->n] = ev->code;
	}
	l->n++;
}

static void test_walk_resolves_every_level(void)
{
	/* Four VAs that differ from the first at level 0, 1, 2 and 3 respectively. */
	static const uint64_t base = (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12);
	static const uint64_t va[5] = {
		base,
		base + (1ull << 39),
		base + (1ull << 30),
		base + (1ull << 21),
		base + (1ull << 12),
	};
	struct simt_fix f;
	struct miss_log log = {0};
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	for (uint32_t i = 0; i < 5; i++) {
		REQUIRE(!simt_map(f.t, 0, va[i], f.data, 0x1000 * (i + 1), 0x1000,
				  SIM_PTE_READ | SIM_PTE_WRITE));
		n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), va[i] + 4 * i, 0xa0 + i);
	}
	for (int l = 0; l < 4; l++)
		CHECK(simt_pte(f.t, 0, base, l) && (*simt_pte(f.t, 0, base, l) & SIM_PTE_VALID));
	CHECK(sim_events_subscribe(f.dev, SIM_EV_MASK(SIM_EV_TLB_MISS), on_miss, &log) >= 0);
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(simt_fix_data32(&f, 0x1000 * (i + 1) + 4 * i), 0xa0 + i);
	/* Ring page, command page, then each data page: full 4-level walks. */
	REQUIRE_EQ(log.n, 7);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK_EQ(log.va[2 + i], va[i] + 4 * i);
		CHECK_EQ(log.levels[2 + i], 4);
	}
	simt_fix_fini(&f);
}

static void test_translation_fault_each_level(void)
{
	static const uint64_t base = (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12);
	struct simt_fix f;
	struct miss_log log = {0};
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	REQUIRE(!simt_map(f.t, 0, base, f.data, 0, 0x1000, SIM_PTE_READ | SIM_PTE_WRITE));
	CHECK(sim_events_subscribe(f.dev, SIM_EV_MASK(SIM_EV_TLB_MISS), on_miss, &log) >= 0);
	for (uint32_t level = 0; level < 4; level++) {
		uint64_t va = base + (1ull << (39 - 9 * level)) + 0x24;

		n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0x100 * level), va, 1);
		log.n = 0;
		run_job(&f, 1, 0, 0x100 * level, n);
		expect_mmu_fault(&f, 0, 1, SIM_FAULT_MMU_TRANSLATION, SIM_ACCESS_WRITE, level,
				 SIM_SOURCE_COPY, va);
		CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_CMD_LO(1)), CMD_VA + 0x100 * level);
		CHECK(log.n >= 1);
		CHECK_EQ(log.levels[log.n - 1], level + 1);
		ack_fault(&f, 0, 1);
		CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(0)), SIM_AS_STATUS_ENABLED);
		CHECK_EQ(simt_read32(f.t, SIM_AS_FAULTSTATUS(0)), 0);
	}
	/* A read through an unmapped command buffer: source CP, READ, level 3. */
	run_job(&f, 0, 0, BUF_SIZE, 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE); /* an empty job reads nothing */
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + BUF_SIZE, 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_TRANSLATION, SIM_ACCESS_READ, 3, SIM_SOURCE_CP,
			 CMD_VA + BUF_SIZE);
	simt_fix_fini(&f);
}

static void test_permission_faults(void)
{
	struct simt_fix f;
	struct simt_buf *b;
	uint64_t wo = 0x30000000ull, ro = 0x30001000ull, rx = 0x30002000ull;
	uint64_t *prog;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	b = simt_alloc(f.t, 3 * 4096);
	REQUIRE(b);
	REQUIRE(!simt_map(f.t, 0, wo, b, 0, 4096, SIM_PTE_WRITE));
	REQUIRE(!simt_map(f.t, 0, ro, b, 4096, 4096, SIM_PTE_READ));
	REQUIRE(!simt_map(f.t, 0, rx, b, 8192, 4096, SIM_PTE_READ | SIM_PTE_EXECUTE));
	prog = (uint64_t *)((uint8_t *)b->host + 4096);
	prog[0] = SIM_OP_EXIT;
	prog = (uint64_t *)((uint8_t *)b->host + 8192);
	prog[0] = SIM_OP_EXIT;

	/* WRITE to a write-only page works, READ (WAIT) faults. */
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), wo + 8, 0x99);
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(((uint32_t *)b->host)[2], 0x99);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), wo + 8, 0x99, SIM_CMD_WAIT_EQ);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_PERMISSION, SIM_ACCESS_READ, 3, SIM_SOURCE_COPY,
			 wo + 8);
	ack_fault(&f, 0, 0);
	/* ATOMIC (SIGNAL ADD) needs R and W. */
	n = sim_cmd_emit_signal(simt_fix_cmd(&f, 0), wo + 8, 1, SIM_CMD_SIGNAL_ADD);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_PERMISSION, SIM_ACCESS_ATOMIC, 3, SIM_SOURCE_COPY,
			 wo + 8);
	CHECK_EQ(((uint32_t *)b->host)[2], 0x99);
	ack_fault(&f, 0, 0);
	/* WRITE to a read-only page. */
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), ro + 12, 1);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_PERMISSION, SIM_ACCESS_WRITE, 3, SIM_SOURCE_COPY,
			 ro + 12);
	ack_fault(&f, 0, 0);
	/* EXECUTE: program fetch from a page without X; then from one with X. */
	n = sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0), ro, 1, 0, 1, 1, 1);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_PERMISSION, SIM_ACCESS_EXECUTE, 3,
			 SIM_SOURCE_COMPUTE, ro);
	CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_CMD_LO(0)), CMD_VA);
	ack_fault(&f, 0, 0);
	n = sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0), rx, 1, 0, 1, 1, 1);
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	simt_fix_fini(&f);
}

static void test_bus_errors(void)
{
	struct simt_fix f;
	struct simt_buf *b;
	uint64_t va = 0x50000000ull, pa;
	uint64_t *pte;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	b = simt_alloc(f.t, 4096);
	REQUIRE(b);
	pa = b->pa[0];
	REQUIRE(!simt_map(f.t, 0, va, b, 0, 4096, SIM_PTE_READ | SIM_PTE_WRITE));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), va, 0x1234);
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(*(uint32_t *)b->host, 0x1234);
	/* Unpinning drops the cached translation: the walk now hits an unmapped page. */
	simt_free(f.t, b);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), va + 4, 0x5678);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_BUS_ERROR, SIM_ACCESS_WRITE, 3, SIM_SOURCE_COPY,
			 va + 4);
	ack_fault(&f, 0, 0);
	/* A level-1 entry pointing at an unpinned frame: the level-2 table read fails. */
	pte = simt_pte(f.t, 0, va, 1);
	REQUIRE(pte);
	*pte = pa | SIM_PTE_VALID;
	simt_flush(f.t, 0);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), va + 8, 1);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_BUS_ERROR, SIM_ACCESS_WRITE, 2, SIM_SOURCE_COPY,
			 va + 8);
	ack_fault(&f, 0, 0);
	/* TRANSTAB itself outside the bus: level 0. */
	simt_write32(f.t, SIM_AS_TRANSTAB_LO(2), 0x7fff000);
	simt_write32(f.t, SIM_AS_CONFIG(2), SIM_AS_CONFIG_ENABLE);
	simt_write32(f.t, SIM_AS_COMMAND(2), SIM_AS_COMMAND_UPDATE);
	run_job(&f, 0, 2, 0, 1);
	expect_mmu_fault(&f, 2, 0, SIM_FAULT_MMU_BUS_ERROR, SIM_ACCESS_READ, 0, SIM_SOURCE_CP,
			 CMD_VA);
	simt_fix_fini(&f);
}

static void test_as_disabled_and_address_size(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	/* Slot 3 was never enabled. */
	sim_cmd_emit_end(simt_fix_cmd(&f, 0x800));
	run_job(&f, 0, 3, 0x800, 1);
	expect_mmu_fault(&f, 3, 0, SIM_FAULT_MMU_AS_DISABLED, SIM_ACCESS_READ, 0, SIM_SOURCE_CP,
			 CMD_VA + 0x800);
	ack_fault(&f, 3, 0);
	/* Staged CONFIG = 0 changes nothing until UPDATE. */
	simt_write32(f.t, SIM_AS_CONFIG(0), 0);
	CHECK_EQ(simt_read32(f.t, SIM_AS_CONFIG(0)), 0);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(0)), SIM_AS_STATUS_ENABLED);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 5);
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(simt_fix_data32(&f, 0), 5);
	/* A VA at 2^48 faults ADDRESS_SIZE. */
	simt_write32(f.t, SIM_AS_CONFIG(0), SIM_AS_CONFIG_ENABLE);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), 1ull << 48, 5);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_ADDRESS_SIZE, SIM_ACCESS_WRITE, 0, SIM_SOURCE_COPY,
			 1ull << 48);
	ack_fault(&f, 0, 0);
	/* Disable slot 1 (used only for jobs here) after it worked. */
	REQUIRE(!simt_map(f.t, 1, CMD_VA, f.cmd, 0, BUF_SIZE, SIM_PTE_READ));
	run_job(&f, 0, 1, 0x800, 1);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_write32(f.t, SIM_AS_CONFIG(1), 0);
	simt_write32(f.t, SIM_AS_COMMAND(1), SIM_AS_COMMAND_UPDATE);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(1)), 0);
	run_job(&f, 0, 1, 0x800, 1);
	expect_mmu_fault(&f, 1, 0, SIM_FAULT_MMU_AS_DISABLED, SIM_ACCESS_READ, 0, SIM_SOURCE_CP,
			 CMD_VA + 0x800);
	simt_fix_fini(&f);
}

/* Point the leaf PTE of DATA_VA at data page @page (no flush), WRITE32 @v at DATA_VA. */
static void retarget_and_write(struct simt_fix *f, uint32_t page, uint32_t v)
{
	uint32_t n;

	REQUIRE(!simt_map(f->t, 0, DATA_VA, f->data, 0x1000 * page, 0x1000,
			  SIM_PTE_READ | SIM_PTE_WRITE));
	n = sim_cmd_emit_write32(simt_fix_cmd(f, 0), DATA_VA, v);
	run_job(f, 0, 0, 0, n);
}

static void test_tlb_stale_until_flushed(void)
{
	struct simt_fix f;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	retarget_and_write(&f, 0, 1);
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	retarget_and_write(&f, 1, 2); /* stale: still page 0 */
	CHECK_EQ(simt_fix_data32(&f, 0), 2);
	CHECK_EQ(simt_fix_data32(&f, 0x1000), 0);
	simt_flush(f.t, 0);
	retarget_and_write(&f, 1, 3);
	CHECK_EQ(simt_fix_data32(&f, 0x1000), 3);
	/* FLUSH_RANGE that misses the page keeps it; one that covers it drops it. */
	retarget_and_write(&f, 2, 4);
	CHECK_EQ(simt_fix_data32(&f, 0x1000), 4);
	sim_mmio_write64(f.dev, SIM_AS_RANGE_BASE_LO(0), DATA_VA + 0x1000);
	simt_write32(f.t, SIM_AS_RANGE_PAGES(0), 16);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_FLUSH_RANGE);
	retarget_and_write(&f, 2, 5);
	CHECK_EQ(simt_fix_data32(&f, 0x1000), 5);
	sim_mmio_write64(f.dev, SIM_AS_RANGE_BASE_LO(0), DATA_VA - 0x3000);
	simt_write32(f.t, SIM_AS_RANGE_PAGES(0), 4);
	CHECK_EQ(simt_read64(f.t, SIM_AS_RANGE_BASE_LO(0)), DATA_VA - 0x3000);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_FLUSH_RANGE);
	retarget_and_write(&f, 2, 6);
	CHECK_EQ(simt_fix_data32(&f, 0x2000), 6);
	/* UPDATE flushes too. */
	retarget_and_write(&f, 3, 7);
	CHECK_EQ(simt_fix_data32(&f, 0x2000), 7);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_UPDATE);
	retarget_and_write(&f, 3, 8);
	CHECK_EQ(simt_fix_data32(&f, 0x3000), 8);
	/* A stale entry also keeps its old permissions. */
	REQUIRE(!simt_map(f.t, 0, DATA_VA, f.data, 0x3000, 0x1000, SIM_PTE_READ));
	retarget_and_write(&f, 3, 9);
	CHECK_EQ(simt_fix_data32(&f, 0x3000), 9);
	simt_fix_fini(&f);
}

static void test_tlb_capacity(void)
{
	struct simt_fix f;
	struct simt_buf *b;
	struct sim_stats s0, s1, s2;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	b = simt_alloc(f.t, 33 * 4096);
	REQUIRE(b);
	REQUIRE(!simt_map(f.t, 0, 0x40000000ull, b, 0, b->size, SIM_PTE_READ | SIM_PTE_WRITE));
	/* Pages 1..32 fill sets 1..15 twice and set 0 with the ring and command pages: 34 of
	 * the 64 entries, no set over its four ways. */
	for (uint32_t i = 1; i <= 32; i++)
		n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), 0x40000000ull + 0x1000 * i, i);
	simt_flush(f.t, 0);
	sim_get_stats(f.dev, &s0);
	run_job(&f, 0, 0, 0, n);
	sim_get_stats(f.dev, &s1);
	CHECK_EQ(s1.tlb_misses - s0.tlb_misses, 34);
	run_job(&f, 0, 0, 0, n);
	sim_get_stats(f.dev, &s2);
	CHECK_EQ(s2.tlb_misses - s1.tlb_misses, 0);
	CHECK_EQ(s2.tlb_hits - s1.tlb_hits, s1.tlb_hits - s0.tlb_hits + 34);
	CHECK_EQ(((uint32_t *)b->host)[32 * 1024], 32);
	simt_fix_fini(&f);
}

static void test_tlb_round_robin_eviction(void)
{
	struct sim_config cfg;
	struct simt_fix f;
	struct miss_log log = {0};
	static const uint32_t pages[6] = {1, 2, 3, 1, 4, 1};
	uint64_t ring = SIMT_RING_VA(0);
	uint32_t *c, n = 0;

	sim_config_default(&cfg);
	cfg.tlb_entries = 4; /* one set of four ways */
	REQUIRE(!simt_fix_init(&f, &cfg, &layout));
	CHECK_EQ(SIM_FIELD_GET(SIM_CONFIG1_TLB_ENTRIES, simt_read32(f.t, SIM_GPU_CONFIG1)), 4);
	/* Commands live in the ring's page, so ring and command fetches share one entry. */
	c = (uint32_t *)((uint8_t *)f.t->rings[0]->host + 0x800);
	for (uint32_t i = 0; i < 6; i++)
		n += sim_cmd_emit_write32(c + n, DATA_VA + 0x1000 * pages[i], i);
	simt_flush(f.t, 0);
	CHECK(sim_events_subscribe(f.dev, SIM_EV_MASK(SIM_EV_TLB_MISS), on_miss, &log) >= 0);
	REQUIRE(!simt_submit(f.t, 0, 0, ring + 0x800, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	/* Ways fill R,p1,p2,p3; p1 hits; p4 evicts R; R evicts p1; p1 evicts p2. */
	REQUIRE_EQ(log.n, 7);
	CHECK_EQ(log.va[0], ring);
	CHECK_EQ(log.va[1], DATA_VA + 0x1000);
	CHECK_EQ(log.va[2], DATA_VA + 0x2000);
	CHECK_EQ(log.va[3], DATA_VA + 0x3000);
	CHECK_EQ(log.va[4], DATA_VA + 0x4000);
	CHECK_EQ(log.va[5], ring + 0x800 + 5 * 16);
	CHECK_EQ(log.va[6], DATA_VA + 0x1000);
	simt_fix_fini(&f);
}

static void test_fault_latch_first_wins(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), 0x60000000ull, 1);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0x100), 0x60001000ull, 1);
	run_job(&f, 0, 0, 0, n);
	run_job(&f, 1, 0, 0x100, n);
	CHECK_EQ(simt_qstate(f.t, 1), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_ADDR_LO(1)), 0x60001000ull);
	/* The slot still shows queue 0's fault. */
	CHECK_EQ(simt_read64(f.t, SIM_AS_FAULTADDRESS_LO(0)), 0x60000000ull);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, simt_read32(f.t, SIM_AS_FAULTSTATUS(0))), 0);
	/* MMU_FAULT is raised again for every fault. */
	simt_write32(f.t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	simt_write32(f.t, SIM_Q_COMMAND(1), SIM_Q_COMMAND_RESUME);
	run_job(&f, 1, 0, 0x100, n);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT),
		 SIM_IRQ_MMU_FAULT(0) | SIM_IRQ_JOB_FAULT(1));
	CHECK_EQ(simt_read64(f.t, SIM_AS_FAULTADDRESS_LO(0)), 0x60000000ull);
	/* FAULTCLEAR bit 0 unlatches; other bits do nothing. */
	simt_write32(f.t, SIM_AS_FAULTCLEAR(0), 2);
	CHECK(simt_read32(f.t, SIM_AS_STATUS(0)) & SIM_AS_STATUS_FAULTED);
	simt_write32(f.t, SIM_AS_FAULTCLEAR(0), 1);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(0)) & SIM_AS_STATUS_FAULTED, 0);
	CHECK_EQ(simt_read32(f.t, SIM_AS_FAULTSTATUS(0)), 0);
	CHECK_EQ(simt_read64(f.t, SIM_AS_FAULTADDRESS_LO(0)), 0);
	simt_write32(f.t, SIM_Q_COMMAND(1), SIM_Q_COMMAND_RESUME);
	run_job(&f, 1, 0, 0x100, n);
	CHECK_EQ(simt_read64(f.t, SIM_AS_FAULTADDRESS_LO(0)), 0x60001000ull);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, simt_read32(f.t, SIM_AS_FAULTSTATUS(0))), 1);
	simt_fix_fini(&f);
}

static void test_lock_stalls_unlock_resumes(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), DATA_VA + 4, 2);
	/* Locked before submission: the ring fetch waits. */
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_LOCK);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(0)), SIM_AS_STATUS_ENABLED | SIM_AS_STATUS_LOCKED);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, 100000), -ETIMEDOUT);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	CHECK_EQ(simt_read64(f.t, SIM_Q_CMD_PTR_LO(0)), 0);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_UNLOCK);
	/* Let the fetch and the first command run, then lock between commands. */
	REQUIRE(!sim_clock_step(f.dev, 64 + 96 + 1));
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_LOCK);
	CHECK_EQ(simt_run(f.t, 100000), -ETIMEDOUT);
	CHECK_EQ(simt_fix_data32(&f, 4), 0);
	CHECK_EQ(simt_read64(f.t, SIM_Q_CMD_PTR_LO(0)), CMD_VA + 16);
	simt_write32(f.t, SIM_AS_COMMAND(0), SIM_AS_COMMAND_UNLOCK);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 4), 2);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_fix_fini(&f);
}

static void test_mmu_fault_injection(void)
{
	struct simt_fix f;
	struct sim_inject inj = {.kind = SIM_INJECT_MMU_FAULT,
				 .target = 0,
				 .count = 2,
				 .arg = SIM_FAULT_MMU_BUS_ERROR};
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 3);
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	/* First translation: the ring fetch. */
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_BUS_ERROR, SIM_ACCESS_READ, 3, SIM_SOURCE_CP,
			 SIMT_RING_VA(0));
	ack_fault(&f, 0, 0);
	run_job(&f, 0, 0, 0, n);
	expect_mmu_fault(&f, 0, 0, SIM_FAULT_MMU_BUS_ERROR, SIM_ACCESS_READ, 3, SIM_SOURCE_CP,
			 SIMT_RING_VA(0) + 32);
	ack_fault(&f, 0, 0);
	/* Used up: the next job runs. */
	run_job(&f, 0, 0, 0, n);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_fix_data32(&f, 0), 3);
	simt_fix_fini(&f);
}

static void test_as_registers(void)
{
	struct simt_fix f;
	uint32_t errs;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	sim_mmio_write64(f.dev, SIM_AS_TRANSTAB_LO(5), 0x123456789000ull);
	CHECK_EQ(simt_read64(f.t, SIM_AS_TRANSTAB_LO(5)), 0x123456789000ull);
	simt_write32(f.t, SIM_AS_CONFIG(5), 0xffffffffu);
	CHECK_EQ(simt_read32(f.t, SIM_AS_CONFIG(5)), SIM_AS_CONFIG_ENABLE);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(5)), 0);
	simt_write32(f.t, SIM_AS_COMMAND(5), SIM_AS_COMMAND_UPDATE);
	CHECK_EQ(simt_read32(f.t, SIM_AS_STATUS(5)), SIM_AS_STATUS_ENABLED);
	CHECK_EQ(simt_read32(f.t, SIM_AS_COMMAND(5)), 0);
	errs = simt_read32(f.t, SIM_GPU_GUEST_ERRORS);
	simt_write32(f.t, SIM_AS_FAULTSTATUS(5), 1);
	simt_write32(f.t, SIM_AS_COMMAND(5), 99);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_GUEST_ERRORS), errs + 2);
	CHECK_EQ(simt_read32(f.t, SIM_AS_FAULTSTATUS(5)), 0);
	simt_fix_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_walk_resolves_every_level),
	SIM_TEST(test_translation_fault_each_level),
	SIM_TEST(test_permission_faults),
	SIM_TEST(test_bus_errors),
	SIM_TEST(test_as_disabled_and_address_size),
	SIM_TEST(test_tlb_stale_until_flushed),
	SIM_TEST(test_tlb_capacity),
	SIM_TEST(test_tlb_round_robin_eviction),
	SIM_TEST(test_fault_latch_first_wins),
	SIM_TEST(test_lock_stalls_unlock_resumes),
	SIM_TEST(test_mmu_fault_injection),
	SIM_TEST(test_as_registers),
};
SIM_TEST_SUITE(tests);

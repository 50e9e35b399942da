/* SPDX-License-Identifier: MIT */
/*
 * test_copy.c - the COPY and FILL engine: page crossings, unaligned sizes and addresses, size 0,
 * 1 MiB transfers and their exact cycle cost, FILL byte order, overlap, faults in the middle of
 * a transfer, DMA_ERROR injection and the BYTES/BUSY_COPY counters.
 *
 * Source data lives at SRC_VA and destinations at DST_VA (both read-write, 2 MiB each, slot 0);
 * results are compared byte for byte against a host-side model of the operation.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim_test.h"
#include "sim_test_util.h"

#define CMD_VA	0x10000000ull
#define SRC_VA	0x20000000ull
#define DST_VA	0x30000000ull
#define BIG	(2u * 1024u * 1024u)
#define MAX_RUN 100000000ull

struct fix {
	struct simt *t;
	struct sim_device *dev;
	struct simt_buf *cmd, *src, *dst;
	uint8_t *s, *d;
};

static int fix_init(struct fix *f)
{
	memset(f, 0, sizeof(*f));
	f->t = simt_create(NULL);
	if (!f->t)
		return -1;
	f->dev = f->t->dev;
	f->cmd = simt_alloc(f->t, 64 * 1024);
	f->src = simt_alloc(f->t, BIG);
	f->dst = simt_alloc(f->t, BIG);
	if (!f->cmd || !f->src || !f->dst ||
	    simt_map(f->t, 0, CMD_VA, f->cmd, 0, f->cmd->size, SIM_PTE_READ) ||
	    simt_map(f->t, 0, SRC_VA, f->src, 0, BIG, SIM_PTE_READ | SIM_PTE_WRITE) ||
	    simt_map(f->t, 0, DST_VA, f->dst, 0, BIG, SIM_PTE_READ | SIM_PTE_WRITE) ||
	    simt_queue_init(f->t, 0, 0, 64) || simt_queue_init(f->t, 1, 0, 64))
		return -1;
	f->s = f->src->host;
	f->d = f->dst->host;
	for (uint32_t i = 0; i < BIG; i++)
		f->s[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	return 0;
}

static void fix_fini(struct fix *f)
{
	simt_destroy(f->t);
}

static uint32_t *cmdp(struct fix *f, uint32_t off)
{
	return (uint32_t *)((uint8_t *)f->cmd->host + off);
}

static uint64_t rd64(struct fix *f, uint32_t off)
{
	return sim_mmio_read64(f->dev, off);
}

static uint32_t qstate(struct fix *f, uint32_t q)
{
	return SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(f->t, SIM_Q_STATUS(q)));
}

/* Run @n dwords at CMD_VA + @off as one job on queue @q; return the elapsed cycles. */
static uint64_t run_job(struct fix *f, uint32_t q, uint32_t off, uint32_t n)
{
	uint64_t elapsed = 0;

	if (simt_submit(f->t, q, 0, CMD_VA + off, n * 4, 1, 0))
		return 0;
	if (sim_clock_run_until_idle(f->dev, MAX_RUN, &elapsed))
		return 0;
	return elapsed;
}

/* COPY @size bytes from SRC_VA + @so to DST_VA + @dof and check dst against the host model. */
static void check_copy(struct fix *f, uint32_t so, uint32_t dof, uint32_t size)
{
	uint32_t n = sim_cmd_emit_copy(cmdp(f, 0), DST_VA + dof, SRC_VA + so, size);
	uint32_t lo = dof > 64 ? dof - 64 : 0;

	memset(f->d, 0xee, BIG);
	REQUIRE(run_job(f, 0, 0, n));
	REQUIRE_EQ(qstate(f, 0), SIM_Q_STATE_IDLE);
	CHECK(!memcmp(f->d + dof, f->s + so, size));
	for (uint32_t i = lo; i < dof; i++)
		CHECK_EQ(f->d[i], 0xee);
	for (uint32_t i = dof + size; i < dof + size + 64 && i < BIG; i++)
		CHECK_EQ(f->d[i], 0xee);
}

static void test_copy_across_pages(void)
{
	struct fix f;

	REQUIRE(!fix_init(&f));
	check_copy(&f, 100, 4000, 10000);
	check_copy(&f, 0, 0, 3 * 4096);
	check_copy(&f, 4095, 1, 4098);
	fix_fini(&f);
}

static void test_copy_unaligned(void)
{
	static const uint32_t offs[] = {0, 1, 2, 3, 4093};
	static const uint32_t sizes[] = {1, 2, 3, 5, 63, 4095, 4097, 65537};
	struct fix f;

	REQUIRE(!fix_init(&f));
	for (uint32_t a = 0; a < 5; a++)
		for (uint32_t b = 0; b < 5; b += 2)
			for (uint32_t c = 0; c < 8; c++)
				check_copy(&f, offs[a], offs[b] + 8192, sizes[c]);
	fix_fini(&f);
}

static void test_size_zero(void)
{
	struct fix f;
	uint32_t n;

	REQUIRE(!fix_init(&f));
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	memset(f.d, 0xee, 64);
	/* Zero bytes touch nothing, not even unmapped addresses. */
	n = sim_cmd_emit_copy(cmdp(&f, 0), 0x7000000000ull, 0x7100000000ull, 0);
	n += sim_cmd_emit_fill(cmdp(&f, n * 4), 0x7200000000ull, 0, 0x12345678u);
	n += sim_cmd_emit_copy(cmdp(&f, n * 4), DST_VA, SRC_VA, 0);
	CHECK(run_job(&f, 0, 0, n));
	CHECK_EQ(qstate(&f, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	CHECK_EQ(f.d[0], 0xee);
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 0);
	fix_fini(&f);
}

static void test_copy_1mib_and_cost(void)
{
	struct fix f;
	uint64_t elapsed, warm;
	uint32_t n;

	REQUIRE(!fix_init(&f));
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	n = sim_cmd_emit_copy(cmdp(&f, 0), DST_VA + 0x80000, SRC_VA + 0x40000, 1u << 20);
	simt_flush(f.t, 0);
	elapsed = run_job(&f, 0, 0, n);
	CHECK(!memcmp(f.d + 0x80000, f.s + 0x40000, 1u << 20));
	/* 256 source + 256 destination pages miss a 64-entry TLB: 512 walks of 4 levels. */
	CHECK_EQ(elapsed, 64 + 96 + (4 + 6) + 96 + (1u << 20) / 64 + 512 * 96 + 16);
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 1u << 20);
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_COPY)),
		 (4 + 6) + 96 + (1u << 20) / 64 + 512 * 96 + 16);
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_TLB_MISSES)), 2 + 512);
	/* A copy whose 16 + 16 pages fit the TLB costs only bandwidth the second time. */
	n = sim_cmd_emit_copy(cmdp(&f, 0), DST_VA, SRC_VA, 65536);
	simt_flush(f.t, 0);
	run_job(&f, 0, 0, n);
	warm = run_job(&f, 0, 0, n);
	CHECK_EQ(warm, 64 + (4 + 6) + 65536 / 64 + 16);
	fix_fini(&f);
}

static void test_fill_pattern_byte_order(void)
{
	static const uint8_t pat[4] = {0x11, 0x22, 0x33, 0x44};
	struct fix f;
	uint32_t n;

	REQUIRE(!fix_init(&f));
	memset(f.d, 0xee, BIG);
	n = sim_cmd_emit_fill(cmdp(&f, 0), DST_VA + 1, 10, 0x44332211u);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK_EQ(f.d[0], 0xee);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ(f.d[1 + i], pat[i % 4]);
	CHECK_EQ(f.d[11], 0xee);
	/* Across pages and 64 KiB chunks the phase continues from the start of the range. */
	n = sim_cmd_emit_fill(cmdp(&f, 0), DST_VA + 4093, 200003, 0x44332211u);
	REQUIRE(run_job(&f, 0, 0, n));
	for (uint32_t i = 0; i < 200003; i++) {
		if (f.d[4093 + i] != pat[i % 4]) {
			CHECK_EQ(f.d[4093 + i], pat[i % 4]);
			break;
		}
	}
	CHECK_EQ(f.d[4093 + 200003], 0xee);
	/* A uniform pattern. */
	n = sim_cmd_emit_fill(cmdp(&f, 0), DST_VA + 3, 5, 0u);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK_EQ(f.d[2], 0x22);
	CHECK_EQ(f.d[3], 0);
	CHECK_EQ(f.d[7], 0);
	CHECK_EQ(f.d[8], 0x44);
	fix_fini(&f);
}

static void test_copy_overlap_is_memmove_per_chunk(void)
{
	struct fix f;
	uint8_t *ref = malloc(20000);
	uint32_t n;

	REQUIRE(ref);
	REQUIRE(!fix_init(&f));
	/* Destination above the source, crossing a page, within one chunk. */
	memcpy(ref, f.s + 4000, 20000);
	n = sim_cmd_emit_copy(cmdp(&f, 0), SRC_VA + 4003, SRC_VA + 4000, 12000);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK(!memcmp(f.s + 4003, ref, 12000));
	/* Destination below the source. */
	memcpy(ref, f.s + 8000, 20000);
	n = sim_cmd_emit_copy(cmdp(&f, 0), SRC_VA + 7990, SRC_VA + 8000, 9000);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK(!memcmp(f.s + 7990, ref, 9000));
	free(ref);
	fix_fini(&f);
}

static void test_write_fault_mid_copy(void)
{
	struct fix f;
	uint32_t n, fs;

	REQUIRE(!fix_init(&f));
	memset(f.d, 0xee, BIG);
	/* The destination's third page becomes read-only. */
	REQUIRE(!simt_map(f.t, 0, DST_VA + 0x2000, f.dst, 0x2000, 0x1000, SIM_PTE_READ));
	n = sim_cmd_emit_nop(cmdp(&f, 0), 0);
	n += sim_cmd_emit_copy(cmdp(&f, n * 4), DST_VA + 100, SRC_VA, 3 * 4096);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 0), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(rd64(&f, SIM_Q_FAULT_ADDR_LO(0)), DST_VA + 0x2000);
	CHECK_EQ(rd64(&f, SIM_Q_FAULT_CMD_LO(0)), CMD_VA + 4);
	fs = simt_read32(f.t, SIM_AS_FAULTSTATUS(0));
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, fs), SIM_ACCESS_WRITE);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_SOURCE, fs), SIM_SOURCE_COPY);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_LEVEL, fs), 3);
	CHECK_EQ(rd64(&f, SIM_AS_FAULTADDRESS_LO(0)), DST_VA + 0x2000);
	/* Bytes before the faulting page landed; nothing after it. */
	CHECK(!memcmp(f.d + 100, f.s, 0x2000 - 100));
	CHECK_EQ(f.d[0x2000], 0xee);
	CHECK_EQ(f.d[0x3000], 0xee);
	CHECK_EQ(rd64(&f, SIM_Q_SEQNO_LO(0)), 0);
	/* A source read fault reports the source address. */
	simt_write32(f.t, SIM_AS_FAULTCLEAR(0), 1);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	n = sim_cmd_emit_copy(cmdp(&f, 0), DST_VA, SRC_VA + BIG - 16, 32);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(rd64(&f, SIM_Q_FAULT_ADDR_LO(0)), SRC_VA + BIG);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, simt_read32(f.t, SIM_AS_FAULTSTATUS(0))),
		 SIM_ACCESS_READ);
	fix_fini(&f);
}

static void test_dma_error_injection(void)
{
	struct fix f;
	struct sim_inject inj = {.kind = SIM_INJECT_DMA_ERROR, .target = 1};
	uint32_t n;

	REQUIRE(!fix_init(&f));
	memset(f.d, 0xee, BIG);
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	/* Queue 0 is not the target. */
	n = sim_cmd_emit_copy(cmdp(&f, 0), DST_VA, SRC_VA, 256);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK_EQ(qstate(&f, 0), SIM_Q_STATE_IDLE);
	n = sim_cmd_emit_write32(cmdp(&f, 0x100), DST_VA + 0x1000, 5);
	n += sim_cmd_emit_fill(cmdp(&f, 0x100 + n * 4), DST_VA + 0x2000, 64, 7);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 1), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(1)), SIM_FAULT_DMA_ERROR);
	CHECK_EQ(rd64(&f, SIM_Q_FAULT_ADDR_LO(1)), DST_VA + 0x2000);
	CHECK_EQ(rd64(&f, SIM_Q_FAULT_CMD_LO(1)), CMD_VA + 0x110);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(1),
		 SIM_IRQ_JOB_FAULT(1));
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_ALL_MMU_FAULT, 0);
	CHECK_EQ(f.d[0x1000], 5);
	CHECK_EQ(f.d[0x2000], 0xee);
	/* One-shot: after RESUME the same transfer works. */
	simt_write32(f.t, SIM_Q_COMMAND(1), SIM_Q_COMMAND_RESUME);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 1), SIM_Q_STATE_IDLE);
	CHECK_EQ(f.d[0x2000], 7);
	fix_fini(&f);
}

/*
 * A DMA error scoped to the jobs with SEQNO 2..3 of queue 1: job 1's FILL is not hit, job 2 has
 * no COPY or FILL, job 3's FILL is hit; scoped again to job 4 only, which does no transfer, it
 * lapses at that job's end and job 5's FILL is not hit.
 */
static void test_dma_error_injection_scoped_to_jobs(void)
{
	struct fix f;
	struct sim_inject inj = {
		.kind = SIM_INJECT_DMA_ERROR, .target = 1, .seqno_first = 2, .seqno_last = 3};
	uint32_t fill, write;

	REQUIRE(!fix_init(&f));
	memset(f.d, 0xee, BIG);
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	fill = sim_cmd_emit_fill(cmdp(&f, 0x100), DST_VA + 0x2000, 64, 7);
	write = sim_cmd_emit_write32(cmdp(&f, 0x200), DST_VA + 0x1000, 5);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, fill * 4, 1, 0));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x200, write * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 1), SIM_Q_STATE_IDLE);
	CHECK_EQ(f.d[0x2000], 7);
	CHECK_EQ(f.d[0x1000], 5);
	memset(f.d, 0xee, BIG);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, fill * 4, 3, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 1), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(1)), SIM_FAULT_DMA_ERROR);
	CHECK_EQ(f.d[0x2000], 0xee);
	simt_write32(f.t, SIM_Q_COMMAND(1), SIM_Q_COMMAND_RESUME);
	inj.seqno_first = inj.seqno_last = 4;
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x200, write * 4, 4, 0));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, fill * 4, 5, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(qstate(&f, 1), SIM_Q_STATE_IDLE);
	CHECK_EQ(f.d[0x2000], 7);
	/* A range that ends before it starts is refused. */
	inj.seqno_first = 9;
	inj.seqno_last = 8;
	CHECK_EQ(sim_inject_fault(f.dev, &inj), -EINVAL);
	fix_fini(&f);
}

static void test_perf_bytes(void)
{
	struct fix f;
	struct sim_stats st0, st1;
	uint32_t n;

	REQUIRE(!fix_init(&f));
	n = sim_cmd_emit_copy(cmdp(&f, 0), DST_VA, SRC_VA, 1000);
	n += sim_cmd_emit_fill(cmdp(&f, n * 4), DST_VA + 5000, 24, 1);
	/* Counters count only while enabled; stats always. */
	sim_get_stats(f.dev, &st0);
	REQUIRE(run_job(&f, 0, 0, n));
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 0);
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	REQUIRE(run_job(&f, 0, 0, n));
	sim_get_stats(f.dev, &st1);
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 1024);
	CHECK_EQ(st1.bytes_copied - st0.bytes_copied, 2048);
	/* Warm TLB: hdr + 6 dw + 1000/64 rounded up; hdr + 5 dw + 24/64 rounded up + job_end
	 * (the job ends in the FILL's unit). */
	CHECK_EQ(rd64(&f, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_COPY)),
		 (4 + 6 + 16) + (4 + 5 + 1 + 16));
	fix_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_copy_across_pages),
	SIM_TEST(test_copy_unaligned),
	SIM_TEST(test_size_zero),
	SIM_TEST(test_copy_1mib_and_cost),
	SIM_TEST(test_fill_pattern_byte_order),
	SIM_TEST(test_copy_overlap_is_memmove_per_chunk),
	SIM_TEST(test_write_fault_mid_copy),
	SIM_TEST(test_dma_error_injection),
	SIM_TEST(test_dma_error_injection_scoped_to_jobs),
	SIM_TEST(test_perf_bytes),
};
SIM_TEST_SUITE(tests);

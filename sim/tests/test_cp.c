/* SPDX-License-Identifier: MIT */
/*
 * test_cp.c - command processor: rings, jobs, every command, faults, STOP/RESUME/RESET, WAIT and
 * SIGNAL between queues, injected hangs, and the exact cycle cost of simple commands.
 *
 * Each test builds a device with the tiny host driver (sim_test_util), places command buffers at
 * CMD_VA (read-only) and data at DATA_VA (read-write) in slot 0, rings doorbells and steps the
 * virtual clock, then checks registers and memory. Costs are computed from the default timing
 * table, so a change there must show up here.
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

/* Default timing (sim_config_default); a full TLB walk reads 4 levels. */
#define T_JOB_START 64
#define T_JOB_END   16
#define T_HDR	    4
#define T_DW	    1
#define T_LINE	    4
#define T_WALK	    (4 * 24)
#define T_POLL	    32

static const struct simt_fix_layout layout = {
	.cmd_va = CMD_VA,
	.cmd_size = BUF_SIZE,
	.data_va = DATA_VA,
	.data_size = BUF_SIZE,
	.queues = 2,
};

/* Write a raw ring entry at TAIL of @q (with fence), advance TAIL and ring the doorbell. */
static void ring_put(struct simt_fix *f, uint32_t q, uint64_t cmd_va, uint32_t size, uint16_t slot,
		     uint16_t flags, uint64_t seqno, uint64_t fence_va)
{
	uint32_t tail = simt_read32(f->t, SIM_Q_TAIL(q));
	uint8_t *e = (uint8_t *)f->t->rings[q]->host + tail * SIM_RING_ENTRY_SIZE;

	memcpy(e + SIM_RING_ENTRY_CMD_VA, &cmd_va, 8);
	memcpy(e + SIM_RING_ENTRY_CMD_SIZE, &size, 4);
	memcpy(e + SIM_RING_ENTRY_AS, &slot, 2);
	memcpy(e + SIM_RING_ENTRY_FLAGS, &flags, 2);
	memcpy(e + SIM_RING_ENTRY_SEQNO, &seqno, 8);
	memcpy(e + SIM_RING_ENTRY_FENCE_VA, &fence_va, 8);
	simt_write32(f->t, SIM_Q_TAIL(q), (tail + 1) & (f->t->ring_size[q] - 1));
	simt_write32(f->t, SIM_Q_DOORBELL(q), 1);
}

static void test_nop_end_seqno(void)
{
	struct simt_fix f;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n += sim_cmd_emit_nop(simt_fix_cmd(&f, 0), 3);
	n += sim_cmd_emit_nop(simt_fix_cmd(&f, n * 4), 0);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 0x1234567890ull, SIM_RING_FLAG_IRQ));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_STATUS) & SIM_STATUS_BUSY, SIM_STATUS_BUSY);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 0x1234567890ull);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 1);
	CHECK_EQ(simt_read32(f.t, SIM_Q_TAIL(0)), 1);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_JOB_DONE(0));
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	simt_fix_fini(&f);
}

static void test_write32_write64(void)
{
	struct simt_fix f;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n += sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA + 8, 0xcafef00du);
	n += sim_cmd_emit_write64(simt_fix_cmd(&f, n * 4), DATA_VA + 0xffc, 0x1122334455667788ull);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 8), 0xcafef00du);
	CHECK_EQ(simt_fix_data32(&f, 0xffc), 0x55667788u); /* straddles a page boundary */
	CHECK_EQ(simt_fix_data32(&f, 0x1000), 0x11223344u);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 1);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), 0); /* no FLAG_IRQ */
	simt_fix_fini(&f);
}

static void test_timestamp_at_execution(void)
{
	struct simt_fix f;
	uint32_t n = 0;
	uint64_t t0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n += sim_cmd_emit_timestamp(simt_fix_cmd(&f, 0), DATA_VA, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_timestamp(simt_fix_cmd(&f, n * 4), DATA_VA + 8, 0);
	t0 = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	/* fetch unit: job_start + ring-page walk; first TIMESTAMP: header, 2 dwords, line,
	 * command-page and data-page walks. At 1 GHz and divider 1, ns == cycles. */
	CHECK_EQ(simt_fix_data64(&f, 0), t0 + T_JOB_START + T_WALK);
	CHECK_EQ(simt_fix_data64(&f, 8),
		 t0 + T_JOB_START + T_WALK + T_HDR + 2 * T_DW + T_LINE + 2 * T_WALK);
	simt_fix_fini(&f);
}

static void test_copy_fill_commands(void)
{
	struct simt_fix f;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	for (uint32_t i = 0; i < 64; i++)
		((uint8_t *)f.data->host)[i] = (uint8_t)(i + 1);
	n += sim_cmd_emit_copy(simt_fix_cmd(&f, 0), DATA_VA + 0x100, DATA_VA, 64);
	n += sim_cmd_emit_fill(simt_fix_cmd(&f, n * 4), DATA_VA + 0x200, 6, 0x44332211u);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK(!memcmp((uint8_t *)f.data->host + 0x100, f.data->host, 64));
	CHECK_EQ(simt_fix_data32(&f, 0x200), 0x44332211u);
	CHECK_EQ(simt_fix_data32(&f, 0x204), 0x00002211u);
	simt_fix_fini(&f);
}

static void test_dispatch_command(void)
{
	struct simt_fix f;
	struct sim_isa_insn in[3] = {
		{.op = SIM_OP_MOV, .rd = 4, .has_imm = true, .imm = 42},
		{.op = SIM_OP_ST, .ra = 0, .rb = 4, .has_imm = true, .imm = 0},
		{.op = SIM_OP_EXIT},
	};
	uint64_t *prog;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	prog = (uint64_t *)simt_fix_cmd(&f, 0x1000);
	for (int i = 0; i < 3; i++)
		prog[i] = sim_isa_encode(&in[i]);
	REQUIRE(!simt_map(f.t, 0, CMD_VA + 0x1000, f.cmd, 0x1000, 0x1000,
			  SIM_PTE_READ | SIM_PTE_EXECUTE));
	n += sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0), CMD_VA + 0x1000, 3, DATA_VA + 0x40, 1, 1,
				   1);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 9, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0x40), 42);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 9);
	simt_fix_fini(&f);
}

static void test_ring_wraps(void)
{
	struct simt_fix f;
	uint32_t seq = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	REQUIRE(!simt_queue_init(f.t, 0, 0, 4));
	for (uint32_t i = 0; i < 10; i++)
		sim_cmd_emit_write32(simt_fix_cmd(&f, i * 16), DATA_VA + i * 4, 100 + i);
	/* A ring of 4 holds 3 jobs; submit in rounds so HEAD/TAIL wrap twice. */
	for (uint32_t round = 0; round < 4; round++) {
		for (uint32_t k = 0; k < 3 && seq < 10; k++, seq++)
			REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + seq * 16, 16, seq + 1, 0));
		if (round == 0)
			CHECK_EQ(simt_submit(f.t, 0, 0, CMD_VA, 16, 99, 0), -ENOSPC);
		CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
		CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), seq & 3);
		CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), seq);
	}
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ(simt_fix_data32(&f, i * 4), 100 + i);
	simt_fix_fini(&f);
}

static void test_fence_and_job_done(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_end(simt_fix_cmd(&f, 0));
	ring_put(&f, 0, CMD_VA, n * 4, 0, SIM_RING_FLAG_FENCE, 0xabcdef0123ull, DATA_VA + 0x80);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data64(&f, 0x80), 0xabcdef0123ull);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), 0);
	ring_put(&f, 0, CMD_VA, n * 4, 0, SIM_RING_FLAG_FENCE | SIM_RING_FLAG_IRQ, 77,
		 DATA_VA + 0x88);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data64(&f, 0x88), 77);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 77);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_JOB_DONE(0));
	/* A fence into read-only memory faults the job with the fence address; SEQNO stays. */
	ring_put(&f, 0, CMD_VA, n * 4, 0, SIM_RING_FLAG_FENCE, 78, CMD_VA + 0x800);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_ADDR_LO(0)), CMD_VA + 0x800);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 77);
	simt_fix_fini(&f);
}

static void test_interrupt_payload(void)
{
	struct simt_fix f;
	uint32_t n = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	REQUIRE(!simt_queue_init(f.t, 2, 0, 8));
	n += sim_cmd_emit_interrupt(simt_fix_cmd(&f, 0), 0xdeadbeefu);
	REQUIRE(!simt_submit(f.t, 2, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_IRQ_PAYLOAD(2)), 0xdeadbeefu);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_QUEUE_USER(2));
	CHECK(sim_irq_is_asserted(f.dev));
	simt_fix_fini(&f);
}

static void test_jump_chain(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	n += sim_cmd_emit_jump(simt_fix_cmd(&f, n * 4), CMD_VA + 0x200, 5 * 4);
	*simt_fix_cmd(&f, n * 4) = sim_cmd_header(0x7f, 0, 0); /* discarded */
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0x200), DATA_VA + 4, 2);
	sim_cmd_emit_nop(simt_fix_cmd(&f, 0x200 + n * 4), 0);  /* last dword of the 20 bytes */
	*simt_fix_cmd(&f, 0x214) = sim_cmd_header(0x7f, 0, 0); /* beyond the jump's size */
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, 9 * 4, 5, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	CHECK_EQ(simt_fix_data32(&f, 4), 2);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 5);
	/* A chain of three buffers ending with END. */
	n = sim_cmd_emit_jump(simt_fix_cmd(&f, 0x400), CMD_VA + 0x500, 16);
	n = sim_cmd_emit_jump(simt_fix_cmd(&f, 0x500), CMD_VA + 0x600, 64);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0x600), DATA_VA + 8, 3);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x600 + n * 4));
	*simt_fix_cmd(&f, 0x600 + n * 4) = sim_cmd_header(0x7f, 0, 0);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, 16, 6, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 8), 3);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 6);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	simt_fix_fini(&f);
}

static void test_end_mid_buffer(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 7);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, n * 4));
	*simt_fix_cmd(&f, n * 4) = sim_cmd_header(0x7f, 0, 0);
	sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4 + 4), DATA_VA + 4, 8);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, 64, 3, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_fix_data32(&f, 0), 7);
	CHECK_EQ(simt_fix_data32(&f, 4), 0);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 3);
	simt_fix_fini(&f);
}

/* Run a one-job buffer of @n dwords and check the queue faulted with @code/@addr/@cmd. */
static void expect_fault(struct simt_fix *f, uint32_t n, uint32_t code, uint64_t addr, uint64_t cmd)
{
	uint32_t before = simt_read32(f->t, SIM_GPU_GUEST_ERRORS);

	simt_write32(f->t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	REQUIRE(!simt_submit(f->t, 0, 0, CMD_VA, n * 4, 50, 0));
	CHECK_EQ(simt_run(f->t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f->t, 0), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f->t, SIM_GPU_STATUS) & SIM_STATUS_FAULT, SIM_STATUS_FAULT);
	CHECK_EQ(simt_read32(f->t, SIM_Q_FAULT_CODE(0)), code);
	CHECK_EQ(simt_read64(f->t, SIM_Q_FAULT_ADDR_LO(0)), addr);
	CHECK_EQ(simt_read64(f->t, SIM_Q_FAULT_CMD_LO(0)), cmd);
	CHECK_EQ(simt_read32(f->t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(0),
		 SIM_IRQ_JOB_FAULT(0));
	CHECK(simt_read32(f->t, SIM_GPU_GUEST_ERRORS) > before);
	CHECK(simt_read64(f->t, SIM_Q_SEQNO_LO(0)) != 50);
}

static void test_illegal_opcode(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	*simt_fix_cmd(&f, n * 4) = sim_cmd_header(SIM_CMD_OPCODE_COUNT, 0, 0);
	expect_fault(&f, n + 1, SIM_FAULT_ILLEGAL_OPCODE, CMD_VA + 16, CMD_VA + 16);
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	simt_fix_fini(&f);
}

static void test_bad_length(void)
{
	struct simt_fix f;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	*simt_fix_cmd(&f, 0) = sim_cmd_header(SIM_CMD_WRITE32, 0, 2);
	expect_fault(&f, 4, SIM_FAULT_BAD_LENGTH, CMD_VA, CMD_VA);
	simt_fix_fini(&f);
}

static void test_truncated_command(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_nop(simt_fix_cmd(&f, 0), 1);
	sim_cmd_emit_write64(simt_fix_cmd(&f, n * 4), DATA_VA, 5);
	expect_fault(&f, n + 4, SIM_FAULT_BAD_LENGTH, CMD_VA + 8, CMD_VA + 8);
	CHECK_EQ(simt_fix_data64(&f, 0), 0);
	simt_fix_fini(&f);
}

static void test_bad_ring_entries(void)
{
	static const struct {
		uint64_t va;
		uint32_t size;
		uint16_t slot, flags;
	} bad[] = {
		{CMD_VA + 2, 4, 0, 0},
		{CMD_VA, 6, 0, 0},
		{CMD_VA, 4, 0, 0x4},
		{CMD_VA, 4, 8, 0},
	};
	struct simt_fix f;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	sim_cmd_emit_end(simt_fix_cmd(&f, 0));
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t head = simt_read32(f.t, SIM_Q_HEAD(0));

		ring_put(&f, 0, bad[i].va, bad[i].size, bad[i].slot, bad[i].flags, 10 + i, 0);
		CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
		CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_FAULTED);
		CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), SIM_FAULT_BAD_RING_ENTRY);
		CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_ADDR_LO(0)), SIMT_RING_VA(0) + head * 32);
		CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_CMD_LO(0)), SIMT_RING_VA(0) + head * 32);
		CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), head);
		simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
		CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
		CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), head + 1);
		CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	}
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 0);
	simt_fix_fini(&f);
}

static void test_resume_after_fault_runs_next_job(void)
{
	struct simt_fix f;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	*simt_fix_cmd(&f, 0) = sim_cmd_header(0xee, 0, 0);
	sim_cmd_emit_write32(simt_fix_cmd(&f, 0x100), DATA_VA, 0x55);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, 4, 1, 0));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x100, 16, 2, SIM_RING_FLAG_IRQ));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_fix_data32(&f, 0), 0x55);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 2);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 2);
	CHECK_EQ(simt_read32(f.t, SIM_Q_FAULT_CODE(0)), 0);
	CHECK_EQ(simt_read64(f.t, SIM_Q_FAULT_CMD_LO(0)), 0);
	simt_fix_fini(&f);
}

static void test_stop_resume_at_boundary(void)
{
	struct simt_fix f;
	uint32_t n = 0;
	uint64_t t0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	for (uint32_t i = 0; i < 3; i++)
		n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), DATA_VA + 4 * i, i + 1);
	t0 = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 4, 0));
	/* Unit 1 (fetch) at t0, unit 2 (first WRITE32) at t0 + 160; stop right after it starts. */
	REQUIRE(!sim_clock_step(f.dev, T_JOB_START + T_WALK + 1 - (sim_clock_now(f.dev) - t0)));
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_QUEUE_STOPPED(0));
	CHECK_EQ(simt_read64(f.t, SIM_Q_CMD_PTR_LO(0)), CMD_VA + 16);
	CHECK_EQ(simt_read32(f.t, SIM_Q_CMD_REMAIN(0)), 32);
	CHECK_EQ(simt_read32(f.t, SIM_Q_JOB_AS(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 4), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 4), 2);
	CHECK_EQ(simt_fix_data32(&f, 8), 3);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 4);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_fix_fini(&f);
}

static void test_stop_idle_and_long_copy(void)
{
	struct simt_fix f;
	struct simt_buf *big;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	/* STOP on an idle queue: stopped at once, later doorbells start nothing. */
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	big = simt_alloc(f.t, 512 * 1024);
	REQUIRE(big);
	REQUIRE(!simt_map(f.t, 0, 0x40000000ull, big, 0, big->size, SIM_PTE_READ | SIM_PTE_WRITE));
	n = sim_cmd_emit_fill(simt_fix_cmd(&f, 0), 0x40000000ull, 256 * 1024, 0x5a5a5a5au);
	n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), DATA_VA, 9);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	/*
	 * Two units in: the fill is mid-way (64 KiB per unit), between two chunks, a preemption
	 * point: STOP takes effect at once and CMD_PTR shows the interrupted FILL.
	 */
	REQUIRE(!sim_clock_step(f.dev, T_JOB_START + T_WALK + 1));
	CHECK_EQ(((uint8_t *)big->host)[0], 0x5a);
	CHECK_EQ(((uint8_t *)big->host)[64 * 1024 - 1], 0x5a);
	CHECK_EQ(((uint8_t *)big->host)[64 * 1024], 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_PROGRESS(0)), 1);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(((uint8_t *)big->host)[64 * 1024], 0);
	CHECK_EQ(simt_read64(f.t, SIM_Q_CMD_PTR_LO(0)), CMD_VA);
	CHECK_EQ(simt_read32(f.t, SIM_Q_CMD_REMAIN(0)), 40);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RESUME_GROUP(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	/* RESUME continues the fill where it stopped: three more chunks, the FILL, the WRITE32. */
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 9);
	CHECK_EQ(((uint8_t *)big->host)[256 * 1024 - 1], 0x5a);
	CHECK_EQ(((uint8_t *)big->host)[256 * 1024], 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_PROGRESS(0)), 6);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_fix_fini(&f);
}

static void test_queue_reset(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA, 1, SIM_CMD_WAIT_EQ);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, 5000), -ETIMEDOUT);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 2);
	CHECK_EQ(simt_read32(f.t, SIM_Q_TAIL(0)), 2);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 0);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	/* The queue is usable again. */
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0x100), DATA_VA + 4, 3);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x100, n * 4, 3, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 4), 3);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 3);
	simt_fix_fini(&f);
}

static void test_wait_satisfied_by_other_queue(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA + 8, 5,
			      SIM_CMD_WAIT_GE | SIM_CMD_WAIT_64);
	n += sim_cmd_emit_write32(simt_fix_cmd(&f, n * 4), DATA_VA, 0xd0d0);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, 10000), -ETIMEDOUT);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_STATUS) & SIM_STATUS_BUSY, SIM_STATUS_BUSY);
	/* Queue 1 adds 2 three times: 6 >= 5 releases queue 0. */
	n = 0;
	for (int i = 0; i < 3; i++)
		n += sim_cmd_emit_signal(simt_fix_cmd(&f, 0x100 + n * 4), DATA_VA + 8, 2,
					 SIM_CMD_SIGNAL_ADD | SIM_CMD_SIGNAL_64);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x100, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data64(&f, 8), 6);
	CHECK_EQ(simt_fix_data32(&f, 0), 0xd0d0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	/* SIGNAL SET of a 32-bit word; a 32-bit WAIT ignores ref_hi. */
	n = sim_cmd_emit_signal(simt_fix_cmd(&f, 0x200), DATA_VA + 16, 0x1ffffffffull, 0);
	n += sim_cmd_emit_wait(simt_fix_cmd(&f, 0x200 + n * 4), DATA_VA + 16, 0x7ffffffffull,
			       SIM_CMD_WAIT_EQ);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x200, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data64(&f, 16), 0xffffffffull);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 2);
	simt_fix_fini(&f);
}

static void test_wait_misaligned_and_bad_op(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA + 4, 0, SIM_CMD_WAIT_64);
	expect_fault(&f, n, SIM_FAULT_BAD_LENGTH, DATA_VA + 4, CMD_VA);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	n = sim_cmd_emit_signal(simt_fix_cmd(&f, 0), DATA_VA + 2, 0, 0);
	expect_fault(&f, n, SIM_FAULT_BAD_LENGTH, DATA_VA + 2, CMD_VA);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA, 0, 6);
	expect_fault(&f, n, SIM_FAULT_ILLEGAL_OPCODE, CMD_VA, CMD_VA);
	simt_fix_fini(&f);
}

/* One device, one WAIT that nothing satisfies: run for @cycles, report busy cycles. */
static uint64_t wait_forever_busy(uint64_t cycles, int *ret_out, uint64_t *elapsed_out)
{
	struct simt_fix f;
	uint64_t busy;
	uint32_t n;

	if (simt_fix_init(&f, NULL, &layout))
		return 0;
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA, 1, SIM_CMD_WAIT_EQ);
	simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0);
	*ret_out = sim_clock_run_until_idle(f.dev, cycles, elapsed_out);
	busy = simt_read64(f.t, SIM_Q_BUSY_CYCLES_LO(0));
	if (simt_read64(f.t, SIM_PERF_COUNTER_LO(SIM_PERF_MEM_WAIT_CYCLES)) == 0)
		busy = 0;
	simt_fix_fini(&f);
	return busy;
}

static void test_wait_forever_times_out_deterministically(void)
{
	uint64_t e1 = 0, e2 = 0, b1, b2;
	int r1 = 0, r2 = 0;

	b1 = wait_forever_busy(1000000000ull, &r1, &e1);
	b2 = wait_forever_busy(1000000000ull, &r2, &e2);
	CHECK_EQ(r1, -ETIMEDOUT);
	CHECK_EQ(r2, -ETIMEDOUT);
	CHECK_EQ(e1, 1000000000ull);
	CHECK_EQ(e2, 1000000000ull);
	CHECK(b1 > 999000000ull);
	CHECK_EQ(b1, b2);
}

static void test_cp_hang_injection(void)
{
	struct simt_fix f;
	struct sim_inject inj = {.kind = SIM_INJECT_CP_HANG, .target = 0};
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, 1000000), -ETIMEDOUT);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	CHECK(simt_read64(f.t, SIM_Q_BUSY_CYCLES_LO(0)) > 990000);
	/* A hung CP does not honour STOP; RESET recovers it. */
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_run(f.t, 10000), -ETIMEDOUT);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 1);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 2);
	simt_fix_fini(&f);
}

static void test_disabled_queue_latches_doorbell(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	simt_write32(f.t, SIM_Q_CONTROL(0), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_STATUS(0)), SIM_Q_STATE_IDLE);
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 0x77);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	simt_write32(f.t, SIM_Q_CONTROL(0), SIM_Q_CONTROL_ENABLE);
	CHECK_EQ(simt_read32(f.t, SIM_Q_STATUS(0)), SIM_Q_STATE_RUNNING | SIM_Q_STATUS_ENABLED);
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 0x77);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 1);
	simt_fix_fini(&f);
}

static void test_ring_registers(void)
{
	struct simt_fix f;
	uint32_t errs, n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	errs = simt_read32(f.t, SIM_GPU_GUEST_ERRORS);
	simt_write32(f.t, SIM_Q_RING_SIZE(0), 12);
	simt_write32(f.t, SIM_Q_RING_SIZE(0), 131072);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_SIZE(0)), 16);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_GUEST_ERRORS), errs + 2);
	simt_write32(f.t, SIM_Q_TAIL(0), 17);
	CHECK_EQ(simt_read32(f.t, SIM_Q_TAIL(0)), 1);
	simt_write32(f.t, SIM_Q_TAIL(0), 0);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA, 1, SIM_CMD_WAIT_EQ);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	CHECK_EQ(simt_run(f.t, 1000), -ETIMEDOUT);
	/* Ring registers are frozen while the queue is busy. */
	simt_write32(f.t, SIM_Q_RING_BASE_LO(0), 0x1000);
	simt_write32(f.t, SIM_Q_RING_AS(0), 3);
	CHECK_EQ(simt_read64(f.t, SIM_Q_RING_BASE_LO(0)), SIMT_RING_VA(0));
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_AS(0)), 0);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_GUEST_ERRORS), errs + 4);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	simt_write32(f.t, SIM_Q_RING_SIZE(0), 8);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_SIZE(0)), 8);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_TAIL(0)), 0);
	simt_fix_fini(&f);
}

/* A FAULTED queue still holds its job at HEAD: its ring stays frozen until RESUME drops it. */
static void test_ring_frozen_while_faulted(void)
{
	struct simt_fix f;
	uint32_t errs;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	*simt_fix_cmd(&f, 0) = sim_cmd_header(SIM_CMD_OPCODE_COUNT, 0, 0);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, 4, 1, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	REQUIRE_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_FAULTED);
	errs = simt_read32(f.t, SIM_GPU_GUEST_ERRORS);
	simt_write32(f.t, SIM_Q_RING_SIZE(0), 8);
	simt_write32(f.t, SIM_Q_RING_AS(0), 2);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_SIZE(0)), f.t->ring_size[0]);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_AS(0)), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_HEAD(0)), 0);
	CHECK_EQ(simt_read32(f.t, SIM_Q_TAIL(0)), 1);
	CHECK_EQ(simt_read32(f.t, SIM_GPU_GUEST_ERRORS), errs + 2);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_write32(f.t, SIM_Q_RING_SIZE(0), 8);
	CHECK_EQ(simt_read32(f.t, SIM_Q_RING_SIZE(0)), 8);
	simt_fix_fini(&f);
}

/* Elapsed cycles of one job of @n dwords at CMD_VA, run twice: cold TLB, then warm. */
static void job_cost(struct simt_fix *f, uint32_t n, uint64_t *cold, uint64_t *warm)
{
	simt_flush(f->t, 0);
	simt_submit(f->t, 0, 0, CMD_VA, n * 4, 1, 0);
	sim_clock_run_until_idle(f->dev, MAX_RUN, cold);
	simt_submit(f->t, 0, 0, CMD_VA, n * 4, 2, 0);
	sim_clock_run_until_idle(f->dev, MAX_RUN, warm);
}

static void test_cycle_costs(void)
{
	struct simt_fix f;
	uint64_t cold, warm, busy0;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	/* WRITE32 + END: job_start, (hdr + 3 dw + line), (hdr + job_end). */
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, n * 4));
	job_cost(&f, n, &cold, &warm);
	CHECK_EQ(warm, T_JOB_START + (T_HDR + 3 * T_DW + T_LINE) + (T_HDR + T_JOB_END));
	CHECK_EQ(cold, warm + 3 * T_WALK); /* ring, command and data pages */

	/* NOP(5) + INTERRUPT, job ends when its bytes run out. */
	n = sim_cmd_emit_nop(simt_fix_cmd(&f, 0), 5);
	n += sim_cmd_emit_interrupt(simt_fix_cmd(&f, n * 4), 1);
	job_cost(&f, n, &cold, &warm);
	CHECK_EQ(warm, T_JOB_START + (T_HDR + 5 * T_DW) + (T_HDR + 1 * T_DW) + T_JOB_END);
	CHECK_EQ(cold, warm + 2 * T_WALK);

	/* WRITE64, TIMESTAMP, SIGNAL, satisfied WAIT, JUMP to the next dword. */
	n = sim_cmd_emit_write64(simt_fix_cmd(&f, 0), DATA_VA, 1);
	n += sim_cmd_emit_timestamp(simt_fix_cmd(&f, n * 4), DATA_VA + 8, 0);
	n += sim_cmd_emit_signal(simt_fix_cmd(&f, n * 4), DATA_VA + 16, 3, 0);
	n += sim_cmd_emit_wait(simt_fix_cmd(&f, n * 4), DATA_VA + 16, 3, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_jump(simt_fix_cmd(&f, n * 4), CMD_VA + (n + 4) * 4, 4);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, n * 4));
	job_cost(&f, n, &cold, &warm);
	CHECK_EQ(warm, T_JOB_START + (T_HDR + 4 * T_DW + T_LINE) + (T_HDR + 2 * T_DW + T_LINE) +
			       (T_HDR + 4 * T_DW + T_LINE) + (T_HDR + 4 * T_DW) +
			       (T_HDR + 3 * T_DW) + (T_HDR + T_JOB_END));

	/* An unsatisfied WAIT polls: busy cycles grow by wait_poll per check. */
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0), DATA_VA + 16, 4, SIM_CMD_WAIT_EQ);
	busy0 = simt_read64(f.t, SIM_Q_BUSY_CYCLES_LO(0));
	simt_submit(f.t, 0, 0, CMD_VA, n * 4, 3, 0);
	sim_clock_step(f.dev, T_JOB_START + 1);
	CHECK_EQ(simt_read64(f.t, SIM_Q_BUSY_CYCLES_LO(0)) - busy0,
		 T_JOB_START + T_HDR + 4 * T_DW + T_POLL);
	simt_fix_fini(&f);
}

static void test_perf_and_stats(void)
{
	struct simt_fix f;
	struct sim_stats st0, st1;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	sim_get_stats(f.dev, &st0);
	n = sim_cmd_emit_fill(simt_fix_cmd(&f, 0), DATA_VA, 100, 1);
	n += sim_cmd_emit_nop(simt_fix_cmd(&f, n * 4), 0);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 1, 0));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 2, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	sim_get_stats(f.dev, &st1);
	CHECK_EQ(st1.jobs_completed - st0.jobs_completed, 2);
	CHECK_EQ(st1.commands - st0.commands, 4);
	CHECK_EQ(st1.bytes_copied - st0.bytes_copied, 200);
	CHECK_EQ(simt_read64(f.t, SIM_PERF_COUNTER_LO(SIM_PERF_JOBS)), 2);
	CHECK_EQ(simt_read64(f.t, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 200);
	CHECK_EQ(simt_read64(f.t, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_CP)),
		 simt_read64(f.t, SIM_Q_BUSY_CYCLES_LO(0)));
	/* FILL units: hdr + 5 dw + ceil(100/64) (+ command and data walks the first time). */
	CHECK_EQ(simt_read64(f.t, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_COPY)),
		 2 * (T_HDR + 5 * T_DW + 2) + 2 * T_WALK);
	simt_fix_fini(&f);
}

struct ev_log {
	uint32_t n;
	struct sim_event ev[16];
};

static void on_event(void *ctx, const struct sim_event *ev)
{
	struct ev_log *l = ctx;

	if (l->n < 16)
		l->ev[l->n] = *ev;
	l->n++;
}

static void test_events(void)
{
	struct simt_fix f;
	struct ev_log log = {0};
	uint32_t mask = SIM_EV_MASK(SIM_EV_JOB_START) | SIM_EV_MASK(SIM_EV_JOB_END) |
			SIM_EV_MASK(SIM_EV_CMD) | SIM_EV_MASK(SIM_EV_QUEUE_STATE) |
			SIM_EV_MASK(SIM_EV_FAULT);
	uint32_t n;
	uint64_t t0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_write32(simt_fix_cmd(&f, 0), DATA_VA, 1);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, n * 4));
	*simt_fix_cmd(&f, 0x100) = sim_cmd_header(0x40, 0, 0);
	REQUIRE(sim_events_subscribe(f.dev, mask, on_event, &log) >= 0);
	t0 = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA, n * 4, 7, 0));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x100, 4, 8, 0));
	CHECK_EQ(simt_run(f.t, MAX_RUN), 0);
	REQUIRE_EQ(log.n, 9);
	CHECK_EQ(log.ev[0].type, SIM_EV_QUEUE_STATE);
	CHECK_EQ(log.ev[0].code, SIM_Q_STATE_RUNNING);
	CHECK_EQ(log.ev[0].cycle, t0);
	CHECK_EQ(log.ev[1].type, SIM_EV_JOB_START);
	CHECK_EQ(log.ev[1].unit, 0);
	CHECK_EQ(log.ev[1].code, 0);
	CHECK_EQ(log.ev[1].value, CMD_VA);
	CHECK_EQ(log.ev[1].value2, 7);
	CHECK_EQ(log.ev[2].type, SIM_EV_CMD);
	CHECK_EQ(log.ev[2].code, SIM_CMD_WRITE32);
	CHECK_EQ(log.ev[2].value, CMD_VA);
	CHECK_EQ(log.ev[2].cycle, t0 + T_JOB_START + T_WALK);
	CHECK(log.ev[2].name && !strcmp(log.ev[2].name, "WRITE32"));
	CHECK_EQ(log.ev[3].type, SIM_EV_CMD);
	CHECK_EQ(log.ev[3].code, SIM_CMD_END);
	CHECK_EQ(log.ev[3].value, CMD_VA + 16);
	CHECK_EQ(log.ev[4].type, SIM_EV_JOB_END);
	CHECK_EQ(log.ev[4].code, 0);
	CHECK_EQ(log.ev[4].value2, 7);
	CHECK_EQ(log.ev[5].type, SIM_EV_JOB_START);
	CHECK_EQ(log.ev[5].value2, 8);
	CHECK_EQ(log.ev[6].type, SIM_EV_FAULT);
	CHECK_EQ(log.ev[6].code, SIM_FAULT_ILLEGAL_OPCODE);
	CHECK_EQ(log.ev[6].value, CMD_VA + 0x100);
	CHECK_EQ(log.ev[7].type, SIM_EV_QUEUE_STATE);
	CHECK_EQ(log.ev[7].code, SIM_Q_STATE_FAULTED);
	CHECK_EQ(log.ev[8].type, SIM_EV_JOB_END);
	CHECK_EQ(log.ev[8].code, SIM_FAULT_ILLEGAL_OPCODE);
	CHECK_EQ(log.ev[8].value, CMD_VA + 0x100);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	REQUIRE_EQ(log.n, 10);
	CHECK_EQ(log.ev[9].type, SIM_EV_QUEUE_STATE);
	CHECK_EQ(log.ev[9].code, SIM_Q_STATE_IDLE);
	simt_fix_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_nop_end_seqno),
	SIM_TEST(test_write32_write64),
	SIM_TEST(test_timestamp_at_execution),
	SIM_TEST(test_copy_fill_commands),
	SIM_TEST(test_dispatch_command),
	SIM_TEST(test_ring_wraps),
	SIM_TEST(test_fence_and_job_done),
	SIM_TEST(test_interrupt_payload),
	SIM_TEST(test_jump_chain),
	SIM_TEST(test_end_mid_buffer),
	SIM_TEST(test_illegal_opcode),
	SIM_TEST(test_bad_length),
	SIM_TEST(test_truncated_command),
	SIM_TEST(test_bad_ring_entries),
	SIM_TEST(test_resume_after_fault_runs_next_job),
	SIM_TEST(test_stop_resume_at_boundary),
	SIM_TEST(test_stop_idle_and_long_copy),
	SIM_TEST(test_queue_reset),
	SIM_TEST(test_wait_satisfied_by_other_queue),
	SIM_TEST(test_wait_misaligned_and_bad_op),
	SIM_TEST(test_wait_forever_times_out_deterministically),
	SIM_TEST(test_cp_hang_injection),
	SIM_TEST(test_disabled_queue_latches_doorbell),
	SIM_TEST(test_ring_registers),
	SIM_TEST(test_ring_frozen_while_faulted),
	SIM_TEST(test_cycle_costs),
	SIM_TEST(test_perf_and_stats),
	SIM_TEST(test_events),
};
SIM_TEST_SUITE(tests);

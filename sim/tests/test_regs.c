/* SPDX-License-Identifier: MIT */
/*
 * test_regs.c - the register file: reset values of every register, read-only and unmapped
 * accesses (ignored and counted in GUEST_ERRORS), configuration reflected in CONFIG0/1,
 * completeness and uniqueness of sim_reg_name(), and the HI latch of live 64-bit counters.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim_test.h"

static struct sim_device *new_dev(void)
{
	return sim_create(NULL);
}

static uint32_t rd(struct sim_device *d, uint32_t off)
{
	return sim_mmio_read32(d, off);
}

static void test_gpu_block_reset_values(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	CHECK_EQ(rd(d, SIM_GPU_ID), 0x51A10100u);
	CHECK_EQ(rd(d, SIM_GPU_VENDOR), SIM_VENDOR_ID);
	CHECK_EQ(rd(d, SIM_GPU_FEATURES), 0x1ffu);
	CHECK_EQ(rd(d, SIM_GPU_CONFIG0), 8u | 4u << 8 | 4u << 16 | 32u << 24);
	CHECK_EQ(rd(d, SIM_GPU_CONFIG1), 64u | 48u << 16 | 52u << 24);
	CHECK_EQ(rd(d, SIM_GPU_CLOCK_KHZ), 1000000u);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_COMMAND), 0);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_CLEAR), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_MASK), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_LO), 0);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_HI), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMESTAMP_LO), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMESTAMP_HI), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMER_COMPARE_LO), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMER_COMPARE_HI), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMER_CONTROL), 0);
	CHECK_EQ(rd(d, SIM_PWR_CORES_PRESENT), 0xfu);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0);
	CHECK_EQ(rd(d, SIM_PWR_CORES_ON), 0);
	CHECK_EQ(rd(d, SIM_PWR_CORES_OFF), 0);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 1);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), 0);
	CHECK_EQ(rd(d, SIM_PERF_CONTROL), 0);
	CHECK_EQ(rd(d, SIM_PERF_COMMAND), 0);
	for (uint32_t i = 0; i < SIM_PERF_COUNT; i++) {
		CHECK_EQ(rd(d, SIM_PERF_COUNTER_LO(i)), 0);
		CHECK_EQ(rd(d, SIM_PERF_COUNTER_HI(i)), 0);
		CHECK_EQ(rd(d, SIM_PERF_SAMPLE_LO(i)), 0);
		CHECK_EQ(rd(d, SIM_PERF_SAMPLE_HI(i)), 0);
	}
	/* Reading every valid register is not a guest error. */
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	sim_destroy(d);
}

static void test_queue_and_as_reset_values(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	for (uint32_t q = 0; q < SIM_QUEUE_MAX; q++)
		for (uint32_t reg = 0; reg < SIM_Q_REG_END; reg += 4)
			CHECK_EQ(rd(d, SIM_QUEUE_BASE + q * SIM_QUEUE_STRIDE + reg), 0);
	for (uint32_t as = 0; as < SIM_AS_MAX; as++)
		for (uint32_t reg = 0; reg < SIM_AS_REG_END; reg += 4)
			CHECK_EQ(rd(d, SIM_AS_BASE + as * SIM_AS_STRIDE + reg), 0);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	sim_destroy(d);
}

static void test_config_reflected(void)
{
	struct sim_config cfg, got;
	struct sim_device *d;

	sim_config_default(&cfg);
	cfg.as_slots = 2;
	cfg.queues = 1;
	cfg.cores = 3;
	cfg.lanes = 16;
	cfg.tlb_entries = 10;
	cfg.clock_hz = 500000000;
	d = sim_create(&cfg);
	REQUIRE(d);
	CHECK_EQ(rd(d, SIM_GPU_CONFIG0), 2u | 1u << 8 | 3u << 16 | 16u << 24);
	CHECK_EQ(rd(d, SIM_GPU_CONFIG1), 8u | 48u << 16 | 52u << 24);
	CHECK_EQ(rd(d, SIM_GPU_CLOCK_KHZ), 500000u);
	CHECK_EQ(rd(d, SIM_PWR_CORES_PRESENT), 0x7u);
	sim_get_config(d, &got);
	CHECK_EQ(got.tlb_entries, 8);
	CHECK_EQ(got.queues, 1);
	CHECK_EQ(got.timing.hard_reset, 10000);
	sim_destroy(d);

	cfg.cores = 32;
	d = sim_create(&cfg);
	REQUIRE(d);
	CHECK_EQ(rd(d, SIM_PWR_CORES_PRESENT), 0xffffffffu);
	sim_destroy(d);
}

static void test_config_defaults(void)
{
	struct sim_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	sim_config_default(&cfg);
	CHECK_EQ(cfg.as_slots, 8);
	CHECK_EQ(cfg.queues, 4);
	CHECK_EQ(cfg.cores, 4);
	CHECK_EQ(cfg.lanes, 32);
	CHECK_EQ(cfg.clock_hz, 1000000000ull);
	CHECK_EQ(cfg.tlb_entries, 64);
	CHECK_EQ(cfg.max_frames, 1ull << 20);
	CHECK_EQ(cfg.log_mask, 0);
	CHECK_EQ(cfg.timing.job_start, 64);
	CHECK_EQ(cfg.timing.job_end, 16);
	CHECK_EQ(cfg.timing.cmd_header, 4);
	CHECK_EQ(cfg.timing.cmd_dword, 1);
	CHECK_EQ(cfg.timing.mem_line, 4);
	CHECK_EQ(cfg.timing.copy_bytes_per_cycle, 64);
	CHECK_EQ(cfg.timing.tlb_walk_level, 24);
	CHECK_EQ(cfg.timing.wait_poll, 32);
	CHECK_EQ(cfg.timing.alu, 1);
	CHECK_EQ(cfg.timing.alu_mul, 2);
	CHECK_EQ(cfg.timing.alu_div, 16);
	CHECK_EQ(cfg.timing.alu_fdiv, 8);
	CHECK_EQ(cfg.timing.branch, 2);
	CHECK_EQ(cfg.timing.mem_op, 4);
	CHECK_EQ(cfg.timing.group_launch, 16);
	CHECK_EQ(cfg.timing.soft_reset, 1000);
	CHECK_EQ(cfg.timing.hard_reset, 10000);
	CHECK_EQ(cfg.timing.core_power, 500);
}

static void test_config_invalid_rejected(void)
{
	struct sim_config cfg;

#define EXPECT_REJECTED(field, value)                                                              \
	do {                                                                                       \
		sim_config_default(&cfg);                                                          \
		cfg.field = value;                                                                 \
		CHECK(sim_create(&cfg) == NULL);                                                   \
	} while (0)
	EXPECT_REJECTED(as_slots, 0);
	EXPECT_REJECTED(as_slots, SIM_AS_MAX + 1);
	EXPECT_REJECTED(queues, 0);
	EXPECT_REJECTED(queues, SIM_QUEUE_MAX + 1);
	EXPECT_REJECTED(cores, 0);
	EXPECT_REJECTED(cores, 33);
	EXPECT_REJECTED(lanes, 0);
	EXPECT_REJECTED(lanes, 65);
	EXPECT_REJECTED(clock_hz, 0);
	EXPECT_REJECTED(tlb_entries, 3);
	EXPECT_REJECTED(tlb_entries, 65536);
	EXPECT_REJECTED(max_frames, 1);
	EXPECT_REJECTED(max_frames, (1ull << 40) + 1);
	EXPECT_REJECTED(timing.copy_bytes_per_cycle, 0);
#undef EXPECT_REJECTED
}

/* Every read-only register of the GPU, power and perf blocks ignores writes, one error each. */
static void test_ro_writes_ignored_and_counted(void)
{
	static const uint32_t ro[] = {
		SIM_GPU_ID,
		SIM_GPU_VENDOR,
		SIM_GPU_FEATURES,
		SIM_GPU_CONFIG0,
		SIM_GPU_CONFIG1,
		SIM_GPU_CLOCK_KHZ,
		SIM_GPU_STATUS,
		SIM_GPU_GUEST_ERRORS,
		SIM_GPU_IRQ_RAWSTAT,
		SIM_GPU_IRQ_STATUS,
		SIM_GPU_CYCLE_COUNT_LO,
		SIM_GPU_CYCLE_COUNT_HI,
		SIM_GPU_TIMESTAMP_LO,
		SIM_GPU_TIMESTAMP_HI,
		SIM_PWR_CORES_PRESENT,
		SIM_PWR_CORES_READY,
		SIM_PWR_STATUS,
		SIM_PERF_COUNTER_LO(0),
		SIM_PERF_COUNTER_HI(8),
		SIM_PERF_SAMPLE_LO(3),
		SIM_PERF_SAMPLE_HI(5),
	};
	struct sim_device *d = new_dev();
	uint32_t before[sizeof(ro) / sizeof(ro[0])];

	REQUIRE(d);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		before[i] = rd(d, ro[i]);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		sim_mmio_write32(d, ro[i], 0xffffffffu);
		CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), i + 1);
	}
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		if (ro[i] == SIM_GPU_GUEST_ERRORS)
			continue;
		CHECK_EQ(rd(d, ro[i]), before[i]);
	}
	sim_destroy(d);
}

static void test_scratch_and_timer_rw(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	sim_mmio_write32(d, SIM_GPU_SCRATCH, 0xdeadbeef);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0xdeadbeef);
	sim_mmio_write64(d, SIM_GPU_TIMER_COMPARE_LO, 0x123456789abcull);
	CHECK_EQ(sim_mmio_read64(d, SIM_GPU_TIMER_COMPARE_LO), 0x123456789abcull);
	sim_mmio_write32(d, SIM_GPU_IRQ_MASK, 0xffffffffu);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_MASK), SIM_IRQ_ALL);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	sim_destroy(d);
}

static void test_unmapped_offsets(void)
{
	static const uint32_t bad[] = {
		0x0018, 0x001c, 0x005c, 0x0098, 0x00c8, 0x0148, 0x01c8,	 0x0ffc,     0x106c, 0x107c,
		0x1200, 0x2030, 0x203c, 0x2200, 0x3ffc, 0x4000, 0x10000, 0xfffffffc, 0x0002, 0x1001,
	};
	struct sim_device *d = new_dev();
	uint32_t n = 0;

	REQUIRE(d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(rd(d, bad[i]), 0);
		CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), ++n);
		sim_mmio_write32(d, bad[i], 0x1234);
		CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), ++n);
	}
	/* An unaligned write next to SCRATCH must not reach it. */
	sim_mmio_write32(d, SIM_GPU_SCRATCH + 1, 0x55);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0);
	sim_destroy(d);
}

static void test_units_beyond_config_unmapped(void)
{
	struct sim_config cfg;
	struct sim_device *d;

	sim_config_default(&cfg);
	cfg.queues = 1;
	cfg.as_slots = 2;
	d = sim_create(&cfg);
	REQUIRE(d);
	sim_mmio_write32(d, SIM_Q_TAIL(1), 3);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 1);
	CHECK_EQ(rd(d, SIM_Q_CONTROL(3)), 0);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 2);
	sim_mmio_write32(d, SIM_AS_CONFIG(2), 1);
	CHECK_EQ(rd(d, SIM_AS_STATUS(7)), 0);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 4);
	/* The units that exist still work. */
	sim_mmio_write32(d, SIM_Q_RING_SIZE(0), 16);
	CHECK_EQ(rd(d, SIM_Q_RING_SIZE(0)), 16);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 4);
	sim_destroy(d);
}

static void test_errlog_clear_and_bad_command(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	sim_mmio_write32(d, SIM_GPU_COMMAND, 0x77);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 1);
	sim_mmio_write32(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_NOP);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 1);
	sim_mmio_write32(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_CLEAR_ERRLOG);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	sim_destroy(d);
}

struct name_case {
	uint32_t off;
	const char *name;
};

static void test_reg_names_exact(void)
{
	static const struct name_case cases[] = {
		{SIM_GPU_ID, "GPU_ID"},
		{SIM_GPU_CLOCK_KHZ, "GPU_CLOCK_KHZ"},
		{SIM_GPU_IRQ_MASK, "GPU_IRQ_MASK"},
		{SIM_GPU_TIMER_CONTROL, "GPU_TIMER_CONTROL"},
		{SIM_GPU_TIMESTAMP_HI, "GPU_TIMESTAMP_HI"},
		{SIM_PWR_CLOCK_DIV, "PWR_CLOCK_DIV"},
		{SIM_PERF_COMMAND, "PERF_COMMAND"},
		{SIM_PERF_COUNTER_LO(0), "PERF_COUNTER0_LO"},
		{SIM_PERF_COUNTER_HI(3), "PERF_COUNTER3_HI"},
		{SIM_PERF_SAMPLE_LO(0), "PERF_SAMPLE0_LO"},
		{SIM_PERF_SAMPLE_HI(8), "PERF_SAMPLE8_HI"},
		{SIM_Q_RING_BASE_LO(0), "Q0_RING_BASE_LO"},
		{SIM_Q_TAIL(2), "Q2_TAIL"},
		{SIM_Q_DOORBELL(3), "Q3_DOORBELL"},
		{SIM_Q_BUSY_CYCLES_HI(1), "Q1_BUSY_CYCLES_HI"},
		{SIM_AS_TRANSTAB_LO(0), "AS0_TRANSTAB_LO"},
		{SIM_AS_FAULTSTATUS(5), "AS5_FAULTSTATUS"},
		{SIM_AS_RANGE_PAGES(7), "AS7_RANGE_PAGES"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = sim_reg_name(cases[i].off);

		CHECK(n != NULL);
		if (n && strcmp(n, cases[i].name))
			SIM_TEST_FAIL("sim_reg_name(%#x) = %s, want %s", cases[i].off, n,
				      cases[i].name);
	}
	CHECK(sim_reg_name(SIM_GPU_ID + 2) == NULL);
	CHECK(sim_reg_name(0x0018) == NULL);
	CHECK(sim_reg_name(SIM_Q_REG_END + SIM_QUEUE_BASE) == NULL);
	CHECK(sim_reg_name(SIM_AS_BASE + SIM_AS_REG_END) == NULL);
	CHECK(sim_reg_name(SIM_MMIO_SIZE) == NULL);
}

/* Every register offset defined in sim_regs.h, by block. */
static size_t all_registers(uint32_t *out)
{
	static const uint32_t gpu[] = {
		SIM_GPU_ID,
		SIM_GPU_VENDOR,
		SIM_GPU_FEATURES,
		SIM_GPU_CONFIG0,
		SIM_GPU_CONFIG1,
		SIM_GPU_CLOCK_KHZ,
		SIM_GPU_STATUS,
		SIM_GPU_COMMAND,
		SIM_GPU_GUEST_ERRORS,
		SIM_GPU_SCRATCH,
		SIM_GPU_IRQ_RAWSTAT,
		SIM_GPU_IRQ_CLEAR,
		SIM_GPU_IRQ_MASK,
		SIM_GPU_IRQ_STATUS,
		SIM_GPU_CYCLE_COUNT_LO,
		SIM_GPU_CYCLE_COUNT_HI,
		SIM_GPU_TIMESTAMP_LO,
		SIM_GPU_TIMESTAMP_HI,
		SIM_GPU_TIMER_COMPARE_LO,
		SIM_GPU_TIMER_COMPARE_HI,
		SIM_GPU_TIMER_CONTROL,
		SIM_PWR_CORES_PRESENT,
		SIM_PWR_CORES_READY,
		SIM_PWR_CORES_ON,
		SIM_PWR_CORES_OFF,
		SIM_PWR_CLOCK_DIV,
		SIM_PWR_STATUS,
		SIM_PERF_CONTROL,
		SIM_PERF_COMMAND,
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(gpu) / sizeof(gpu[0]); i++)
		out[n++] = gpu[i];
	for (uint32_t i = 0; i < SIM_PERF_COUNT; i++) {
		out[n++] = SIM_PERF_COUNTER_LO(i);
		out[n++] = SIM_PERF_COUNTER_HI(i);
		out[n++] = SIM_PERF_SAMPLE_LO(i);
		out[n++] = SIM_PERF_SAMPLE_HI(i);
	}
	for (uint32_t q = 0; q < SIM_QUEUE_MAX; q++) {
		const uint32_t regs[] = {
			SIM_Q_RING_BASE_LO(q),	SIM_Q_RING_BASE_HI(q),	 SIM_Q_RING_SIZE(q),
			SIM_Q_RING_AS(q),	SIM_Q_HEAD(q),		 SIM_Q_TAIL(q),
			SIM_Q_DOORBELL(q),	SIM_Q_STATUS(q),	 SIM_Q_CONTROL(q),
			SIM_Q_COMMAND(q),	SIM_Q_FAULT_CODE(q),	 SIM_Q_FAULT_ADDR_LO(q),
			SIM_Q_FAULT_ADDR_HI(q), SIM_Q_FAULT_CMD_LO(q),	 SIM_Q_FAULT_CMD_HI(q),
			SIM_Q_SEQNO_LO(q),	SIM_Q_SEQNO_HI(q),	 SIM_Q_CMD_PTR_LO(q),
			SIM_Q_CMD_PTR_HI(q),	SIM_Q_CMD_REMAIN(q),	 SIM_Q_JOB_AS(q),
			SIM_Q_IRQ_PAYLOAD(q),	SIM_Q_BUSY_CYCLES_LO(q), SIM_Q_BUSY_CYCLES_HI(q),
			SIM_Q_PRIORITY(q),	SIM_Q_PROGRESS(q),	 SIM_Q_RESUME_GROUP(q),
		};

		for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
			out[n++] = regs[i];
	}
	for (uint32_t as = 0; as < SIM_AS_MAX; as++) {
		const uint32_t regs[] = {
			SIM_AS_TRANSTAB_LO(as),	    SIM_AS_TRANSTAB_HI(as),
			SIM_AS_CONFIG(as),	    SIM_AS_COMMAND(as),
			SIM_AS_STATUS(as),	    SIM_AS_FAULTSTATUS(as),
			SIM_AS_FAULTADDRESS_LO(as), SIM_AS_FAULTADDRESS_HI(as),
			SIM_AS_FAULTCLEAR(as),	    SIM_AS_RANGE_BASE_LO(as),
			SIM_AS_RANGE_BASE_HI(as),   SIM_AS_RANGE_PAGES(as),
		};

		for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
			out[n++] = regs[i];
	}
	return n;
}

/* Every defined register has a name, names are unique, and nothing else has one. */
static void test_reg_names_complete_and_unique(void)
{
	static uint32_t regs[512];
	const char *names[SIM_MMIO_SIZE / 4];
	size_t n = all_registers(regs), named = 0;

	CHECK_EQ(n, 29 + 4 * SIM_PERF_COUNT + 27 * SIM_QUEUE_MAX + 12 * SIM_AS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!sim_reg_name(regs[i]))
			SIM_TEST_FAIL("register %#x has no name", regs[i]);
	}
	for (uint32_t off = 0; off < SIM_MMIO_SIZE; off += 4) {
		names[off / 4] = sim_reg_name(off);
		if (!names[off / 4])
			continue;
		named++;
		for (uint32_t prev = 0; prev < off; prev += 4)
			if (names[prev / 4] && !strcmp(names[prev / 4], names[off / 4]))
				SIM_TEST_FAIL("%#x and %#x share the name %s", prev, off,
					      names[off / 4]);
	}
	CHECK_EQ(named, n);
	for (uint32_t off = 1; off < 0x40; off++)
		if (off & 3)
			CHECK(sim_reg_name(off) == NULL);
}

static void test_fault_and_cmd_names(void)
{
	CHECK(!strcmp(sim_fault_name(SIM_FAULT_MMU_TRANSLATION), "MMU_TRANSLATION"));
	CHECK(!strcmp(sim_fault_name(SIM_FAULT_DMA_ERROR), "DMA_ERROR"));
	CHECK(!strcmp(sim_fault_name(SIM_FAULT_COMPUTE_BAD_DISPATCH), "COMPUTE_BAD_DISPATCH"));
	CHECK(!strcmp(sim_fault_name(0x99), "UNKNOWN"));
	for (uint32_t op = 0; op < SIM_CMD_OPCODE_COUNT; op++)
		CHECK(sim_cmd_name(op) != NULL);
	CHECK(!strcmp(sim_cmd_name(SIM_CMD_DISPATCH), "DISPATCH"));
	CHECK(sim_cmd_name(SIM_CMD_OPCODE_COUNT) == NULL);
}

/* Reading _LO latches _HI: a carry between the two reads does not tear the value. */
static void test_cycle_count_hi_latched(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	REQUIRE_EQ(sim_clock_step(d, 0xfffffff0ull), 0);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_LO), 0xfffffff0u);
	REQUIRE_EQ(sim_clock_step(d, 0x20), 0);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_HI), 0); /* latched before the carry */
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_HI), 1); /* the latch is used once */
	CHECK_EQ(sim_mmio_read64(d, SIM_GPU_CYCLE_COUNT_LO), 0x100000010ull);
	/* TIMESTAMP (1 GHz: ns == cycles) latches the same way. */
	CHECK_EQ(rd(d, SIM_GPU_TIMESTAMP_LO), 0x10u);
	REQUIRE_EQ(sim_clock_step(d, 0xffffffffull), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMESTAMP_HI), 1);
	CHECK_EQ(sim_mmio_read64(d, SIM_GPU_TIMESTAMP_LO), 0x20000000full);
	/* Reading another register in between does not disturb the latch of the first. */
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_LO), 0x0000000fu);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0);
	REQUIRE_EQ(sim_clock_step(d, 0xffffffffull), 0);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_HI), 2);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	sim_destroy(d);
}

static void test_perf_counter_hi_latched(void)
{
	struct sim_device *d = new_dev();

	REQUIRE(d);
	sim_mmio_write32(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 0xffffffffull), 0);
	CHECK_EQ(rd(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 0xffffffffu);
	REQUIRE_EQ(sim_clock_step(d, 2), 0);
	CHECK_EQ(rd(d, SIM_PERF_COUNTER_HI(SIM_PERF_CYCLES)), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 0x100000001ull);
	sim_destroy(d);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_gpu_block_reset_values),
	SIM_TEST(test_queue_and_as_reset_values),
	SIM_TEST(test_config_reflected),
	SIM_TEST(test_config_defaults),
	SIM_TEST(test_config_invalid_rejected),
	SIM_TEST(test_ro_writes_ignored_and_counted),
	SIM_TEST(test_scratch_and_timer_rw),
	SIM_TEST(test_unmapped_offsets),
	SIM_TEST(test_units_beyond_config_unmapped),
	SIM_TEST(test_errlog_clear_and_bad_command),
	SIM_TEST(test_reg_names_exact),
	SIM_TEST(test_reg_names_complete_and_unique),
	SIM_TEST(test_fault_and_cmd_names),
	SIM_TEST(test_cycle_count_hi_latched),
	SIM_TEST(test_perf_counter_hi_latched),
};
SIM_TEST_SUITE(tests);

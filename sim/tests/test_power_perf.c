/* SPDX-License-Identifier: MIT */
/*
 * test_power_perf.c - core power transitions (timing per changed core, status bits,
 * POWER_CHANGED, SIM_EV_POWER, absent cores, transitions restarted mid-way), the clock divider's
 * validation, and the performance counters (enable, clear, sample + IRQ, read-only registers).
 */
#include <errno.h>

#include "sim/sim.h"
#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

static uint32_t rd(struct sim_device *d, uint32_t off)
{
	return sim_mmio_read32(d, off);
}

static void wr(struct sim_device *d, uint32_t off, uint32_t v)
{
	sim_mmio_write32(d, off, v);
}

struct power_log {
	int n;
	uint32_t ready;
	uint64_t div, cycle;
};

static void on_power(void *ctx, const struct sim_event *ev)
{
	struct power_log *l = ctx;

	l->n++;
	l->ready = ev->code;
	l->div = ev->value;
	l->cycle = ev->cycle;
}

static void test_power_up_sequence(void)
{
	struct sim_device *d = sim_create(NULL);
	struct power_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_POWER), on_power, &l) >= 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_POWER_CHANGED);
	wr(d, SIM_PWR_CORES_ON, 0x3);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), SIM_PWR_STATUS_TRANSITION);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_PWR_TRANSITION);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0);
	CHECK(!sim_is_idle(d));
	REQUIRE_EQ(sim_clock_step(d, 999), 0); /* 2 cores * 500 cycles */
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(l.n, 0);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0x3);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_POWER_CHANGED);
	CHECK(sim_irq_is_asserted(d));
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.ready, 0x3);
	CHECK_EQ(l.div, 1);
	CHECK_EQ(l.cycle, 1000);
	CHECK(sim_is_idle(d));
	sim_destroy(d);
}

static void test_power_off_and_run_until_idle(void)
{
	struct sim_device *d = sim_create(NULL);
	uint64_t elapsed = 0;

	REQUIRE(d);
	wr(d, SIM_PWR_CORES_ON, 0xf);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 2000);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0xf);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	wr(d, SIM_PWR_CORES_OFF, 0x5);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 1000);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0xa);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_POWER_CHANGED);
	sim_destroy(d);
}

/* A second write during a transition restarts it towards the new target. */
static void test_power_retarget_mid_transition(void)
{
	struct sim_device *d = sim_create(NULL);
	uint64_t elapsed = 0;

	REQUIRE(d);
	wr(d, SIM_PWR_CORES_ON, 0x1);
	REQUIRE_EQ(sim_clock_step(d, 300), 0);
	wr(d, SIM_PWR_CORES_ON, 0x2); /* target 0x3, two cores still to change */
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 1000);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0x3);
	sim_destroy(d);
}

static void test_power_absent_cores_and_noop(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	wr(d, SIM_PWR_CORES_ON, 0x31); /* cores 4, 5 do not exist */
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 1);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, NULL), 0);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0x1);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	/* Nothing changes: the transition completes at once. */
	wr(d, SIM_PWR_CORES_ON, 0x1);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_POWER_CHANGED);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0x1);
	/* Read-only power registers. */
	wr(d, SIM_PWR_CORES_READY, 0xf);
	wr(d, SIM_PWR_CORES_PRESENT, 0);
	wr(d, SIM_PWR_STATUS, 1);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 4);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0x1);
	CHECK_EQ(rd(d, SIM_PWR_CORES_PRESENT), 0xf);
	sim_destroy(d);
}

static void test_clock_div_validation(void)
{
	struct sim_device *d = sim_create(NULL);
	struct power_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_POWER), on_power, &l) >= 0);
	wr(d, SIM_PWR_CLOCK_DIV, 4);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 4);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.div, 4);
	wr(d, SIM_PWR_CLOCK_DIV, 0);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 4);
	wr(d, SIM_PWR_CLOCK_DIV, 17);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 4);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 2);
	CHECK_EQ(l.n, 1);
	wr(d, SIM_PWR_CLOCK_DIV, 16);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 16);
	wr(d, SIM_PWR_CLOCK_DIV, 1);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 1);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 2);
	/* The divider changes ns per cycle, not the cycle count. */
	wr(d, SIM_PWR_CLOCK_DIV, 2);
	REQUIRE_EQ(sim_clock_step(d, 10), 0);
	CHECK_EQ(sim_clock_now(d), 10);
	CHECK_EQ(sim_clock_ns(d), 20);
	sim_destroy(d);
}

static void test_perf_enable_counts_cycles(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	REQUIRE_EQ(sim_clock_step(d, 40), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 0);
	wr(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE | 0x100);
	CHECK_EQ(rd(d, SIM_PERF_CONTROL), SIM_PERF_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 100), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 100);
	wr(d, SIM_PERF_CONTROL, 0);
	REQUIRE_EQ(sim_clock_step(d, 50), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 100);
	/* Nothing else ran: the other counters stay 0. */
	for (uint32_t i = 1; i < SIM_PERF_COUNT; i++)
		CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(i)), 0);
	sim_destroy(d);
}

static void test_perf_clear(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	wr(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 77), 0);
	wr(d, SIM_PERF_COMMAND, SIM_PERF_COMMAND_SAMPLE);
	wr(d, SIM_PERF_COMMAND, SIM_PERF_COMMAND_CLEAR);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_SAMPLE_LO(SIM_PERF_CYCLES)), 77); /* samples kept */
	REQUIRE_EQ(sim_clock_step(d, 5), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 5);
	sim_destroy(d);
}

static void test_perf_sample_and_irq(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_PERFCNT_SAMPLE);
	wr(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 250), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_SAMPLE_LO(SIM_PERF_CYCLES)), 0);
	wr(d, SIM_PERF_COMMAND, SIM_PERF_COMMAND_SAMPLE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK(sim_irq_is_asserted(d));
	REQUIRE_EQ(sim_clock_step(d, 10), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_SAMPLE_LO(SIM_PERF_CYCLES)), 250);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 260);
	sim_destroy(d);
}

static void test_perf_bad_writes(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	wr(d, SIM_PERF_COMMAND, 7);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 1);
	wr(d, SIM_PERF_COUNTER_LO(2), 5);
	wr(d, SIM_PERF_SAMPLE_HI(8), 5);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 3);
	CHECK_EQ(rd(d, SIM_PERF_COUNTER_LO(2)), 0);
	CHECK_EQ(rd(d, SIM_PERF_SAMPLE_HI(8)), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	sim_destroy(d);
}

/* Cores used by a running dispatch power off only when it is done; POWER_CHANGED follows. */
static void test_power_off_deferred_behind_dispatch(void)
{
	const uint64_t cmd_va = 0x10000, prog_va = 0x20000;
	struct simt *t = simt_create(NULL);
	struct simt_buf *cmd, *prog;
	struct power_log l = {0};
	struct sim_device *d;
	uint64_t off_at;
	uint32_t n;

	REQUIRE(t);
	d = t->dev;
	cmd = simt_alloc(t, 4096);
	prog = simt_alloc(t, 4096);
	REQUIRE(cmd && prog);
	REQUIRE_EQ(simt_as_init(t, 0), 0);
	REQUIRE_EQ(simt_map(t, 0, cmd_va, cmd, 0, 4096, SIM_PTE_READ), 0);
	REQUIRE_EQ(simt_map(t, 0, prog_va, prog, 0, 4096, SIM_PTE_READ | SIM_PTE_EXECUTE), 0);
	REQUIRE_EQ(simt_queue_init(t, 0, 0, 16), 0);
	for (int i = 0; i < 50; i++)
		((uint64_t *)prog->host)[i] = SIM_OP_NOP;
	((uint64_t *)prog->host)[50] = SIM_OP_EXIT;
	n = sim_cmd_emit_dispatch(cmd->host, prog_va, 51, 0, 400, 1, 1);
	n += sim_cmd_emit_end((uint32_t *)cmd->host + n);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_POWER), on_power, &l) >= 0);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	REQUIRE_EQ(simt_submit(t, 0, 0, cmd_va, n * 4, 1, 0), 0);
	REQUIRE_EQ(sim_clock_step(d, 1000), 0);
	off_at = sim_clock_now(d);
	wr(d, SIM_PWR_CORES_OFF, 0x3);
	REQUIRE_EQ(sim_clock_step(d, 2000), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)), 0); /* still dispatching */
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0xf);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), SIM_PWR_STATUS_TRANSITION);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(simt_run(t, 10000000), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)), 1);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0xc);
	CHECK_EQ(rd(d, SIM_PWR_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_POWER_CHANGED);
	CHECK_EQ(l.n, 1);
	CHECK(l.cycle > off_at + 2000);
	CHECK(l.cycle <= sim_clock_now(d));
	simt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_power_up_sequence),
	SIM_TEST(test_power_off_and_run_until_idle),
	SIM_TEST(test_power_retarget_mid_transition),
	SIM_TEST(test_power_absent_cores_and_noop),
	SIM_TEST(test_power_off_deferred_behind_dispatch),
	SIM_TEST(test_clock_div_validation),
	SIM_TEST(test_perf_enable_counts_cycles),
	SIM_TEST(test_perf_clear),
	SIM_TEST(test_perf_sample_and_irq),
	SIM_TEST(test_perf_bad_writes),
};
SIM_TEST_SUITE(tests);

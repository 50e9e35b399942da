/* SPDX-License-Identifier: MIT */
/*
 * test_clock.c - virtual time: exact stepping, TIMESTAMP nanoseconds with the clock divider,
 * the timer comparator, sim_clock_run_until_idle (idle, -ETIMEDOUT, elapsed), fast-forward of
 * queues blocked in WAIT or by an injected hang, and the background clock thread (start/stop,
 * -EBUSY / -EALREADY, a doorbelled job running to completion, pacing to wall time).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define CMD_VA	0x10000ull
#define DATA_VA 0x20000ull

static uint32_t rd(struct sim_device *d, uint32_t off)
{
	return sim_mmio_read32(d, off);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	nanosleep(&ts, NULL);
}

/* A device with queue 0 on slot 0, a command page at CMD_VA and a data page at DATA_VA. */
struct rig {
	struct simt *t;
	struct simt_buf *cmd, *data;
};

static int rig_init(struct rig *r, const struct sim_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->t = simt_create(cfg);
	if (!r->t)
		return -1;
	r->cmd = simt_alloc(r->t, 4096);
	r->data = simt_alloc(r->t, 4096);
	if (!r->cmd || !r->data || simt_as_init(r->t, 0) ||
	    simt_map(r->t, 0, CMD_VA, r->cmd, 0, 4096, SIM_PTE_READ) ||
	    simt_map(r->t, 0, DATA_VA, r->data, 0, 4096, SIM_PTE_READ | SIM_PTE_WRITE) ||
	    simt_queue_init(r->t, 0, 0, 16))
		return -1;
	return 0;
}

/* Job: WRITE32 DATA_VA+4 = 0xcafe, END. Returns its size in bytes. */
static uint32_t emit_write_job(struct rig *r)
{
	uint32_t *p = r->cmd->host, n = 0;

	n += sim_cmd_emit_write32(p + n, DATA_VA + 4, 0xcafe);
	n += sim_cmd_emit_end(p + n);
	return n * 4;
}

/* Job: WAIT until the u32 at DATA_VA == 1, then WRITE32 DATA_VA+4 = 0xcafe, END. */
static uint32_t emit_wait_job(struct rig *r)
{
	uint32_t *p = r->cmd->host, n = 0;

	n += sim_cmd_emit_wait(p + n, DATA_VA, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_write32(p + n, DATA_VA + 4, 0xcafe);
	n += sim_cmd_emit_end(p + n);
	return n * 4;
}

static uint32_t data_word(struct rig *r, uint32_t index)
{
	return ((volatile uint32_t *)r->data->host)[index];
}

static void test_step_exact_cycles(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_stats st;

	REQUIRE(d);
	CHECK_EQ(sim_clock_now(d), 0);
	REQUIRE_EQ(sim_clock_step(d, 123), 0);
	CHECK_EQ(sim_clock_now(d), 123);
	CHECK_EQ(rd(d, SIM_GPU_CYCLE_COUNT_LO), 123);
	REQUIRE_EQ(sim_clock_step(d, 0), 0);
	CHECK_EQ(sim_clock_now(d), 123);
	REQUIRE_EQ(sim_clock_step(d, 1ull << 40), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_GPU_CYCLE_COUNT_LO), (1ull << 40) + 123);
	sim_get_stats(d, &st);
	CHECK_EQ(st.cycles, (1ull << 40) + 123);
	sim_destroy(d);
}

static void test_timestamp_ns_with_divider(void)
{
	struct sim_config cfg;
	struct sim_device *d;

	sim_config_default(&cfg);
	cfg.clock_hz = 3000000; /* 333.33 ns per base tick */
	d = sim_create(&cfg);
	REQUIRE(d);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(sim_clock_ns(d), 333);
	REQUIRE_EQ(sim_clock_step(d, 2), 0);
	CHECK_EQ(sim_clock_ns(d), 1000);
	CHECK_EQ(sim_mmio_read64(d, SIM_GPU_TIMESTAMP_LO), 1000);
	/* Divider 3: a cycle is 3 base ticks = 1 us. */
	sim_mmio_write32(d, SIM_PWR_CLOCK_DIV, 3);
	REQUIRE_EQ(sim_clock_step(d, 5), 0);
	CHECK_EQ(sim_clock_ns(d), 6000);
	CHECK_EQ(sim_clock_now(d), 8);
	sim_destroy(d);

	d = sim_create(NULL);
	REQUIRE(d);
	REQUIRE_EQ(sim_clock_step(d, 100), 0);
	sim_mmio_write32(d, SIM_PWR_CLOCK_DIV, 16);
	REQUIRE_EQ(sim_clock_step(d, 100), 0);
	CHECK_EQ(sim_clock_ns(d), 1700);
	CHECK_EQ(sim_clock_now(d), 200);
	sim_destroy(d);
}

static void test_timer_compare_irq(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	sim_mmio_write32(d, SIM_GPU_IRQ_MASK, SIM_IRQ_TIMER);
	sim_mmio_write64(d, SIM_GPU_TIMER_COMPARE_LO, 500);
	sim_mmio_write32(d, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 499), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(rd(d, SIM_GPU_TIMER_CONTROL), SIM_TIMER_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_TIMER);
	CHECK_EQ(rd(d, SIM_GPU_TIMER_CONTROL), 0); /* one-shot */
	CHECK(sim_irq_is_asserted(d));
	/* Enabling with a compare already passed fires at once. */
	sim_mmio_write32(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_TIMER);
	sim_mmio_write32(d, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_TIMER);
	sim_destroy(d);
}

struct cycle_log {
	uint64_t timer_cycle;
};

static void on_irq_event(void *ctx, const struct sim_event *ev)
{
	struct cycle_log *l = ctx;

	if (ev->type == SIM_EV_IRQ_RAISE && (ev->code & SIM_IRQ_TIMER))
		l->timer_cycle = ev->cycle;
}

/* Stepping far past the compare still fires the timer at its exact cycle. */
static void test_timer_fires_at_exact_cycle(void)
{
	struct sim_device *d = sim_create(NULL);
	struct cycle_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_IRQ_RAISE), on_irq_event, &l) >= 0);
	sim_mmio_write64(d, SIM_GPU_TIMER_COMPARE_LO, 777);
	sim_mmio_write32(d, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
	REQUIRE_EQ(sim_clock_step(d, 5000), 0);
	CHECK_EQ(l.timer_cycle, 777);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_TIMER);
	sim_destroy(d);
}

static void test_run_until_idle_idle_and_timer(void)
{
	struct sim_device *d = sim_create(NULL);
	uint64_t elapsed = 99;

	REQUIRE(d);
	CHECK(sim_is_idle(d));
	CHECK_EQ(sim_clock_run_until_idle(d, 1000, &elapsed), 0);
	CHECK_EQ(elapsed, 0);
	/* An armed timer alone does not keep the GPU busy. */
	sim_mmio_write64(d, SIM_GPU_TIMER_COMPARE_LO, 100);
	sim_mmio_write32(d, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
	CHECK(sim_is_idle(d));
	CHECK_EQ(sim_clock_run_until_idle(d, 1000, &elapsed), 0);
	CHECK_EQ(elapsed, 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	sim_destroy(d);
}

static void test_run_until_idle_timeout(void)
{
	struct sim_device *d = sim_create(NULL);
	uint64_t elapsed = 0;

	REQUIRE(d);
	sim_mmio_write32(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET); /* 1000 cycles */
	CHECK(!sim_is_idle(d));
	CHECK_EQ(sim_clock_run_until_idle(d, 400, &elapsed), -ETIMEDOUT);
	CHECK_EQ(elapsed, 400);
	CHECK_EQ(sim_clock_run_until_idle(d, 0, &elapsed), -ETIMEDOUT);
	CHECK_EQ(elapsed, 0);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 600);
	CHECK_EQ(sim_clock_now(d), 1000);
	sim_destroy(d);
}

/* A job's elapsed time equals the busy cycles of its queue, and is reproducible. */
static void test_job_elapsed_equals_busy(void)
{
	uint64_t elapsed[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		struct rig r;

		REQUIRE_EQ(rig_init(&r, NULL), 0);
		REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, SIM_RING_FLAG_IRQ),
			   0);
		CHECK(!sim_is_idle(r.t->dev));
		CHECK_EQ(sim_clock_run_until_idle(r.t->dev, 1000000, &elapsed[i]), 0);
		CHECK_EQ(data_word(&r, 1), 0xcafe);
		CHECK_EQ(sim_mmio_read64(r.t->dev, SIM_Q_SEQNO_LO(0)), 1);
		CHECK_EQ(sim_mmio_read64(r.t->dev, SIM_Q_BUSY_CYCLES_LO(0)), elapsed[i]);
		CHECK(elapsed[i] >= 64 + 16); /* at least job_start + job_end */
		simt_destroy(r.t);
	}
	CHECK_EQ(elapsed[0], elapsed[1]);
}

/* A WAIT nothing on the GPU will satisfy is fast-forwarded, charged, and resumes on a write. */
static void test_fast_forward_blocked_wait(void)
{
	struct rig r;
	struct sim_device *d;
	uint64_t elapsed = 0, before;
	uint32_t one = 1;

	REQUIRE_EQ(rig_init(&r, NULL), 0);
	d = r.t->dev;
	sim_mmio_write32(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_wait_job(&r), 7, 0), 0);
	before = sim_clock_now(d);
	CHECK_EQ(sim_clock_run_until_idle(d, 1000000000000ull, &elapsed), -ETIMEDOUT);
	CHECK_EQ(elapsed, 1000000000000ull);
	CHECK_EQ(sim_clock_now(d), before + 1000000000000ull);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, rd(d, SIM_Q_STATUS(0))), SIM_Q_STATE_WAITING);
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_BUSY_CYCLES_LO(0)), 1000000000000ull);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_CP)), 1000000000000ull);
	/* All but the job setup and the first command fetch was spent waiting. */
	CHECK(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_MEM_WAIT_CYCLES)) >
	      1000000000000ull - 1000);
	/* Stepping a blocked queue also moves time exactly. */
	REQUIRE_EQ(sim_clock_step(d, 12345), 0);
	CHECK_EQ(sim_clock_now(d), before + 1000000012345ull);
	CHECK_EQ(data_word(&r, 1), 0);
	REQUIRE_EQ(sim_bus_write(d, r.data->pa[0], &one, 4), 0);
	CHECK_EQ(sim_clock_run_until_idle(d, 1000000, NULL), 0);
	CHECK_EQ(data_word(&r, 1), 0xcafe);
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)), 7);
	simt_destroy(r.t);
}

static void test_fast_forward_injected_hang(void)
{
	struct sim_inject inj = {.kind = SIM_INJECT_CP_HANG, .target = 0};
	uint64_t elapsed = 0;
	struct rig r;

	REQUIRE_EQ(rig_init(&r, NULL), 0);
	REQUIRE_EQ(sim_inject_fault(r.t->dev, &inj), 0);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, 0), 0);
	CHECK_EQ(sim_clock_run_until_idle(r.t->dev, 1ull << 50, &elapsed), -ETIMEDOUT);
	CHECK_EQ(elapsed, 1ull << 50);
	CHECK_EQ(data_word(&r, 1), 0);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, rd(r.t->dev, SIM_Q_STATUS(0))),
		 SIM_Q_STATE_RUNNING);
	simt_destroy(r.t);
}

/* Poll (wall time, up to 5 s) until Q0_SEQNO == @seqno. */
static bool wait_seqno(struct sim_device *d, uint64_t seqno)
{
	uint64_t deadline = wall_ns() + 5000000000ull;

	while (wall_ns() < deadline) {
		if (sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)) == seqno)
			return true;
		sleep_us(100);
	}
	return false;
}

/* Poll (wall time, up to 5 s) until Q0 is in @state. */
static bool wait_state(struct sim_device *d, uint32_t state)
{
	uint64_t deadline = wall_ns() + 5000000000ull;

	while (wall_ns() < deadline) {
		if (SIM_FIELD_GET(SIM_Q_STATUS_STATE, rd(d, SIM_Q_STATUS(0))) == state)
			return true;
		sleep_us(100);
	}
	return false;
}

static void test_thread_runs_doorbelled_job(void)
{
	struct sim_device *d;
	uint32_t one = 1, size;
	struct rig r;

	REQUIRE_EQ(rig_init(&r, NULL), 0);
	d = r.t->dev;
	REQUIRE_EQ(sim_start(d), 0);
	CHECK_EQ(sim_start(d), -EALREADY);
	CHECK_EQ(sim_clock_step(d, 1), -EBUSY);
	CHECK_EQ(sim_clock_run_until_idle(d, 1, NULL), -EBUSY);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, SIM_RING_FLAG_IRQ), 0);
	CHECK(wait_seqno(d, 1));
	CHECK(rd(d, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_DONE(0));
	/* SEQNO moves before the END unit's cost has passed: the thread goes on to idle. */
	for (int i = 0; i < 2000 && !sim_is_idle(d); i++)
		sleep_us(1000);
	CHECK(sim_is_idle(d));
	sim_stop(d);
	sim_stop(d); /* no-op */
	CHECK_EQ(data_word(&r, 1), 0xcafe);

	/* A job blocked on host memory finishes once the host writes it. */
	((uint32_t *)r.data->host)[1] = 0;
	size = emit_wait_job(&r);
	REQUIRE_EQ(sim_start(d), 0);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, size, 3, 0), 0);
	CHECK(wait_state(d, SIM_Q_STATE_WAITING));
	sleep_us(3000); /* the clock thread keeps polling: still waiting */
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)), 1);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, rd(d, SIM_Q_STATUS(0))), SIM_Q_STATE_WAITING);
	REQUIRE_EQ(sim_bus_write(d, r.data->pa[0], &one, 4), 0);
	CHECK(wait_seqno(d, 3));
	sim_stop(d);
	CHECK_EQ(data_word(&r, 1), 0xcafe);
	CHECK_EQ(sim_clock_step(d, 1), 0);
	simt_destroy(r.t);
}

/*
 * sim_inline_begin/end: on an idle device whose clock thread runs, the caller runs the job to the
 * cycle the host-stepped device gives, the line rises without the eventfd write (the caller owes
 * the handling), and what is left over goes back to the clock thread.
 */
static void test_inline_run(void)
{
	uint64_t ref_cycles, c0, drain;
	struct sim_device *d;
	struct rig r;

	/* The reference: the job twice, host-stepped (the first powers the cores up). */
	REQUIRE_EQ(rig_init(&r, NULL), 0);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, SIM_RING_FLAG_IRQ), 0);
	REQUIRE_EQ(sim_clock_run_until_idle(r.t->dev, 1000000, NULL), 0);
	c0 = sim_clock_now(r.t->dev);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 2, SIM_RING_FLAG_IRQ), 0);
	REQUIRE_EQ(sim_clock_run_until_idle(r.t->dev, 1000000, NULL), 0);
	ref_cycles = sim_clock_now(r.t->dev) - c0;
	simt_destroy(r.t);

	REQUIRE_EQ(rig_init(&r, NULL), 0);
	d = r.t->dev;
	CHECK(!sim_inline_begin(d)); /* no clock thread */
	CHECK(!sim_inline_end(d));
	REQUIRE_EQ(sim_start(d), 0);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, SIM_RING_FLAG_IRQ), 0);
	CHECK(wait_seqno(d, 1));
	while (!sim_is_idle(d))
		sleep_us(100);
	/* A clean line: no earlier cause pending, the eventfd drained. */
	sim_mmio_write32(d, SIM_GPU_IRQ_CLEAR, rd(d, SIM_GPU_IRQ_RAWSTAT));
	CHECK(!sim_irq_is_asserted(d));
	while (read(sim_irq_fd(d), &drain, sizeof(drain)) > 0)
		;
	c0 = sim_clock_now(d);
	REQUIRE(sim_inline_begin(d));
	CHECK(!sim_inline_begin(d)); /* already armed */
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 2, SIM_RING_FLAG_IRQ), 0);
	CHECK(sim_inline_end(d));
	CHECK(sim_is_idle(d));
	CHECK_EQ(sim_clock_now(d) - c0, ref_cycles);
	CHECK_EQ(sim_mmio_read64(d, SIM_Q_SEQNO_LO(0)), 2);
	CHECK(rd(d, SIM_GPU_IRQ_STATUS) & SIM_IRQ_JOB_DONE(0));
	CHECK(read(sim_irq_fd(d), &drain, sizeof(drain)) < 0); /* the write is the caller's */
	sim_mmio_write32(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL_JOB_DONE);

	/* Held or paced: not armed. */
	sim_set_hold(d, true);
	CHECK(!sim_inline_begin(d));
	sim_set_hold(d, false);
	sim_set_pacing(d, true);
	CHECK(!sim_inline_begin(d));
	sim_set_pacing(d, false);

	/* Work the caller cannot finish (a WAIT on host memory) goes on on the clock thread. */
	((uint32_t *)r.data->host)[0] = 0;
	((uint32_t *)r.data->host)[1] = 0;
	REQUIRE(sim_inline_begin(d));
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_wait_job(&r), 3, 0), 0);
	CHECK(!sim_inline_end(d));
	CHECK(!sim_inline_begin(d)); /* busy */
	CHECK(wait_state(d, SIM_Q_STATE_WAITING));
	REQUIRE_EQ(sim_bus_write(d, r.data->pa[0], &(uint32_t){1}, 4), 0);
	CHECK(wait_seqno(d, 3));
	sim_stop(d);
	CHECK_EQ(data_word(&r, 1), 0xcafe);
	simt_destroy(r.t);
}

/* A hung queue under the clock thread: GPU time moves, but no faster than wall time. */
static void test_thread_blocked_time_follows_wall(void)
{
	struct sim_inject inj = {.kind = SIM_INJECT_CP_HANG, .target = 0};
	uint64_t t0, c0, c1, wall;
	struct rig r;

	REQUIRE_EQ(rig_init(&r, NULL), 0);
	REQUIRE_EQ(sim_inject_fault(r.t->dev, &inj), 0);
	REQUIRE_EQ(simt_submit(r.t, 0, 0, CMD_VA, emit_write_job(&r), 1, 0), 0);
	c0 = sim_clock_now(r.t->dev);
	t0 = wall_ns();
	REQUIRE_EQ(sim_start(r.t->dev), 0);
	sleep_us(20000);
	sim_stop(r.t->dev);
	wall = wall_ns() - t0;
	c1 = sim_clock_now(r.t->dev);
	CHECK(c1 > c0);
	/* 1 GHz: one cycle per ns; allow the first quantum of 20000 cycles on top. */
	CHECK(c1 - c0 <= wall + 20000);
	CHECK_EQ(data_word(&r, 1), 0);
	simt_destroy(r.t);
}

/* With pacing, GPU time does not run ahead of wall time: a 10 ms (GPU) reset takes >= 10 ms. */
static void test_thread_pacing(void)
{
	struct sim_config cfg;
	struct sim_device *d;
	uint64_t t0, deadline;
	bool done = false;

	sim_config_default(&cfg);
	cfg.clock_hz = 1000000; /* 1 cycle = 1 us: hard reset = 10 ms */
	d = sim_create(&cfg);
	REQUIRE(d);
	sim_set_pacing(d, true);
	REQUIRE_EQ(sim_start(d), 0);
	t0 = wall_ns();
	sim_mmio_write32(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	deadline = t0 + 5000000000ull;
	while (wall_ns() < deadline) {
		if (!(rd(d, SIM_GPU_STATUS) & SIM_STATUS_RESETTING)) {
			done = true;
			break;
		}
		sleep_us(200);
	}
	CHECK(done);
	CHECK(wall_ns() - t0 >= 10000000ull);
	CHECK(sim_clock_ns(d) >= 10000000ull);
	sim_set_pacing(d, false);
	sim_stop(d);
	sim_destroy(d);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_step_exact_cycles),
	SIM_TEST(test_timestamp_ns_with_divider),
	SIM_TEST(test_timer_compare_irq),
	SIM_TEST(test_timer_fires_at_exact_cycle),
	SIM_TEST(test_run_until_idle_idle_and_timer),
	SIM_TEST(test_run_until_idle_timeout),
	SIM_TEST(test_job_elapsed_equals_busy),
	SIM_TEST(test_fast_forward_blocked_wait),
	SIM_TEST(test_fast_forward_injected_hang),
	SIM_TEST(test_thread_runs_doorbelled_job),
	SIM_TEST(test_inline_run),
	SIM_TEST(test_thread_blocked_time_follows_wall),
	SIM_TEST(test_thread_pacing),
};
SIM_TEST_SUITE(tests);

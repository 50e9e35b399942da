/* SPDX-License-Identifier: MIT */
/*
 * test_irq.c - the interrupt block: RAWSTAT vs MASK vs STATUS, write-one-to-clear, the line
 * level, eventfd edges and re-arming, the handler callback, IRQ events, and the DROP_IRQ and
 * DELAY_IRQ injections. Causes are produced through MMIO only: PERF SAMPLE raises
 * PERFCNT_SAMPLE and the timer raises TIMER.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "sim/sim.h"
#include "sim_test.h"

static uint32_t rd(struct sim_device *d, uint32_t off)
{
	return sim_mmio_read32(d, off);
}

static void wr(struct sim_device *d, uint32_t off, uint32_t v)
{
	sim_mmio_write32(d, off, v);
}

static void raise_sample(struct sim_device *d)
{
	wr(d, SIM_PERF_COMMAND, SIM_PERF_COMMAND_SAMPLE);
}

/* Fire the timer now (compare 0 <= now). */
static void raise_timer(struct sim_device *d)
{
	wr(d, SIM_GPU_TIMER_COMPARE_LO, 0);
	wr(d, SIM_GPU_TIMER_CONTROL, SIM_TIMER_CONTROL_ENABLE);
}

/* Number of edges signalled on the eventfd since the last call (0 if not readable). */
static uint64_t fd_edges(struct sim_device *d)
{
	uint64_t v = 0;

	if (read(sim_irq_fd(d), &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static void test_rawstat_mask_status(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	raise_sample(d);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_STATUS), 0);
	CHECK(!sim_irq_is_asserted(d));
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_TIMER);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_STATUS), 0);
	CHECK(!sim_irq_is_asserted(d));
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_TIMER | SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_STATUS), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK(sim_irq_is_asserted(d));
	/* Masking again lowers the line but keeps the cause latched. */
	wr(d, SIM_GPU_IRQ_MASK, 0);
	CHECK(!sim_irq_is_asserted(d));
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE);
	sim_destroy(d);
}

static void test_clear_is_w1c(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	raise_sample(d);
	raise_timer(d);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE | SIM_IRQ_TIMER);
	wr(d, SIM_GPU_IRQ_CLEAR, 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE | SIM_IRQ_TIMER);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_RESET_DONE | SIM_IRQ_TIMER);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_CLEAR), 0); /* write-only */
	wr(d, SIM_GPU_IRQ_CLEAR, 0xffffffffu);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	/* RAWSTAT and STATUS themselves are read-only. */
	wr(d, SIM_GPU_IRQ_RAWSTAT, SIM_IRQ_TIMER);
	wr(d, SIM_GPU_IRQ_STATUS, SIM_IRQ_TIMER);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 2);
	sim_destroy(d);
}

static void test_line_follows_status(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	CHECK(!sim_irq_is_asserted(d));
	raise_timer(d);
	CHECK(sim_irq_is_asserted(d));
	raise_sample(d);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_TIMER);
	CHECK(sim_irq_is_asserted(d));
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_PERFCNT_SAMPLE);
	CHECK(!sim_irq_is_asserted(d));
	sim_destroy(d);
}

static void test_eventfd_edges_and_rearm(void)
{
	struct sim_device *d = sim_create(NULL);

	REQUIRE(d);
	REQUIRE(sim_irq_fd(d) >= 0);
	CHECK_EQ(fd_edges(d), 0);
	raise_sample(d); /* masked: no edge */
	CHECK_EQ(fd_edges(d), 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL); /* unmasking raises the line */
	CHECK_EQ(fd_edges(d), 1);
	raise_timer(d); /* line already high: no new edge */
	CHECK_EQ(fd_edges(d), 0);
	/* Clearing one cause while another is pending re-arms the fd. */
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(fd_edges(d), 1);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_TIMER);
	CHECK_EQ(fd_edges(d), 0);
	CHECK(!sim_irq_is_asserted(d));
	raise_sample(d);
	CHECK_EQ(fd_edges(d), 1);
	/* An IRQ_MASK write leaving the line up also re-arms. */
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(fd_edges(d), 1);
	sim_destroy(d);
}

struct handler_log {
	int rises, falls;
	bool last;
};

static void handler(void *ctx, bool asserted)
{
	struct handler_log *h = ctx;

	if (asserted)
		h->rises++;
	else
		h->falls++;
	h->last = asserted;
}

static void test_handler_callback(void)
{
	struct sim_device *d = sim_create(NULL);
	struct handler_log h = {0};

	REQUIRE(d);
	sim_irq_set_handler(d, handler, &h);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	raise_sample(d);
	CHECK_EQ(h.rises, 1);
	CHECK(h.last);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	CHECK_EQ(h.falls, 1);
	CHECK(!h.last);
	sim_irq_set_handler(d, NULL, NULL);
	raise_sample(d);
	CHECK_EQ(h.rises, 1);
	sim_destroy(d);
}

struct ev_log {
	int raise, line_up, line_down;
	uint32_t raise_code, line_code;
};

static void on_event(void *ctx, const struct sim_event *ev)
{
	struct ev_log *l = ctx;

	if (ev->type == SIM_EV_IRQ_RAISE) {
		l->raise++;
		l->raise_code = ev->code;
	} else if (ev->type == SIM_EV_IRQ_LINE) {
		if (ev->value)
			l->line_up++;
		else
			l->line_down++;
		l->line_code = ev->code;
	}
}

static void test_irq_events(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d,
				     SIM_EV_MASK(SIM_EV_IRQ_RAISE) | SIM_EV_MASK(SIM_EV_IRQ_LINE),
				     on_event, &l) >= 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_PERFCNT_SAMPLE);
	raise_sample(d);
	CHECK_EQ(l.raise, 1);
	CHECK_EQ(l.raise_code, SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(l.line_up, 1);
	CHECK_EQ(l.line_code, SIM_IRQ_PERFCNT_SAMPLE);
	raise_sample(d); /* already latched: nothing new */
	CHECK_EQ(l.raise, 1);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(l.line_down, 1);
	sim_destroy(d);
}

static void test_drop_irq_injection(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject inj = {.kind = SIM_INJECT_DROP_IRQ, .count = 1};
	struct handler_log h = {0};
	struct sim_stats st;

	REQUIRE(d);
	sim_irq_set_handler(d, handler, &h);
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	raise_sample(d);
	/* The edge is lost, the cause is not: a polling driver still sees it. */
	CHECK(sim_irq_is_asserted(d));
	CHECK_EQ(rd(d, SIM_GPU_IRQ_STATUS), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(fd_edges(d), 0);
	CHECK_EQ(h.rises, 0);
	sim_get_stats(d, &st);
	CHECK_EQ(st.irqs_delivered, 0);
	wr(d, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	raise_sample(d); /* count consumed: delivered */
	CHECK_EQ(fd_edges(d), 1);
	CHECK_EQ(h.rises, 1);
	sim_get_stats(d, &st);
	CHECK_EQ(st.irqs_delivered, 1);
	sim_destroy(d);
}

static void test_delay_irq_injection(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject inj = {.kind = SIM_INJECT_DELAY_IRQ, .count = 1, .arg = 100};

	REQUIRE(d);
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	raise_sample(d);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK(!sim_is_idle(d)); /* a delayed IRQ is pending work */
	REQUIRE_EQ(sim_clock_step(d, 99), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE);
	CHECK(sim_irq_is_asserted(d));
	CHECK_EQ(fd_edges(d), 1);
	CHECK(sim_is_idle(d));
	/* Count consumed: the next cause is immediate. */
	raise_timer(d);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE | SIM_IRQ_TIMER);
	sim_destroy(d);
}

static void test_delay_irq_run_until_idle(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject inj = {.kind = SIM_INJECT_DELAY_IRQ, .count = 2, .arg = 250};
	uint64_t elapsed = 0;

	REQUIRE(d);
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	raise_sample(d);
	REQUIRE_EQ(sim_clock_step(d, 50), 0);
	raise_timer(d);
	CHECK_EQ(sim_clock_run_until_idle(d, 1000, &elapsed), 0);
	CHECK_EQ(elapsed, 250);
	CHECK_EQ(sim_clock_now(d), 300);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_PERFCNT_SAMPLE | SIM_IRQ_TIMER);
	sim_destroy(d);
}

/* Each device has its own non-blocking, close-on-exec eventfd and its own line. */
static void test_fd_flags_and_two_devices(void)
{
	struct sim_device *a = sim_create(NULL), *b = sim_create(NULL);

	REQUIRE(a && b);
	CHECK(sim_irq_fd(a) != sim_irq_fd(b));
	CHECK(fcntl(sim_irq_fd(a), F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(sim_irq_fd(a), F_GETFD) & FD_CLOEXEC);
	wr(a, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	wr(b, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	raise_sample(a);
	CHECK(sim_irq_is_asserted(a));
	CHECK(!sim_irq_is_asserted(b));
	CHECK_EQ(fd_edges(b), 0);
	CHECK_EQ(fd_edges(a), 1);
	REQUIRE_EQ(sim_clock_step(a, 10), 0);
	CHECK_EQ(sim_clock_now(b), 0);
	sim_destroy(a);
	sim_destroy(b);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_rawstat_mask_status),
	SIM_TEST(test_clear_is_w1c),
	SIM_TEST(test_line_follows_status),
	SIM_TEST(test_eventfd_edges_and_rearm),
	SIM_TEST(test_handler_callback),
	SIM_TEST(test_irq_events),
	SIM_TEST(test_drop_irq_injection),
	SIM_TEST(test_delay_irq_injection),
	SIM_TEST(test_delay_irq_run_until_idle),
	SIM_TEST(test_fd_flags_and_two_devices),
};
/* clang-format on */
SIM_TEST_SUITE(tests);

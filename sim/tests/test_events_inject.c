/* SPDX-License-Identifier: MIT */
/*
 * test_events_inject.c - the event stream (subscribe/unsubscribe, masks, register events with
 * decoded names, log events), soft and hard reset sequences (what is kept, RESETTING timing,
 * RESET_DONE, writes ignored meanwhile), and fault injection: RESET_FAIL, BIT_FLIP, argument
 * validation, clearing, and allocation failures walking every error path of sim_create().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

#define LOG_MAX 32

struct ev_log {
	int n;
	struct sim_event ev[LOG_MAX];
	char text[LOG_MAX][64];
};

static void on_event(void *ctx, const struct sim_event *ev)
{
	struct ev_log *l = ctx;

	if (l->n >= LOG_MAX)
		return;
	l->ev[l->n] = *ev;
	l->text[l->n][0] = 0;
	if (ev->text) {
		strncpy(l->text[l->n], ev->text, sizeof(l->text[0]) - 1);
		l->text[l->n][sizeof(l->text[0]) - 1] = 0;
	}
	l->n++;
}

static void test_subscribe_masks(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log a = {0}, b = {0};
	int ia, ib;

	REQUIRE(d);
	ia = sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_REG_WRITE), on_event, &a);
	ib = sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_REG_READ) | SIM_EV_MASK(SIM_EV_REG_WRITE),
				  on_event, &b);
	CHECK_EQ(ia, 0);
	CHECK_EQ(ib, 1);
	wr(d, SIM_GPU_SCRATCH, 5);
	rd(d, SIM_GPU_SCRATCH);
	CHECK_EQ(a.n, 1);
	CHECK_EQ(b.n, 2);
	CHECK_EQ(sim_events_unsubscribe(d, ia), 0);
	CHECK_EQ(sim_events_unsubscribe(d, ia), -ENOENT);
	CHECK_EQ(sim_events_unsubscribe(d, 99), -ENOENT);
	CHECK_EQ(sim_events_unsubscribe(d, -1), -ENOENT);
	wr(d, SIM_GPU_SCRATCH, 6);
	CHECK_EQ(a.n, 1);
	CHECK_EQ(b.n, 3);
	/* The freed id is reused first. */
	CHECK_EQ(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_LOG), on_event, &a), 0);
	CHECK_EQ(sim_events_unsubscribe(d, ib), 0);
	wr(d, SIM_GPU_SCRATCH, 7);
	CHECK_EQ(b.n, 3);
	sim_destroy(d);
}

static void test_subscribe_invalid_and_full(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log l = {0};

	REQUIRE(d);
	CHECK_EQ(sim_events_subscribe(d, SIM_EV_MASK_ALL, NULL, NULL), -EINVAL);
	CHECK_EQ(sim_events_subscribe(d, 0, on_event, &l), -EINVAL);
	CHECK_EQ(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_COUNT), on_event, &l), -EINVAL);
	for (int i = 0; i < SIM_MAX_SUBSCRIBERS; i++)
		CHECK_EQ(sim_events_subscribe(d, SIM_EV_MASK_ALL, on_event, &l), i);
	CHECK_EQ(sim_events_subscribe(d, SIM_EV_MASK_ALL, on_event, &l), -ENOSPC);
	sim_destroy(d);
}

static void test_reg_events_carry_names(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d,
				     SIM_EV_MASK(SIM_EV_REG_READ) | SIM_EV_MASK(SIM_EV_REG_WRITE),
				     on_event, &l) >= 0);
	REQUIRE_EQ(sim_clock_step(d, 42), 0);
	wr(d, SIM_Q_TAIL(2), 3);
	rd(d, SIM_AS_FAULTSTATUS(5));
	rd(d, 0x18); /* a gap: no name */
	REQUIRE_EQ(l.n, 3);
	CHECK_EQ(l.ev[0].type, SIM_EV_REG_WRITE);
	CHECK_EQ(l.ev[0].code, SIM_Q_TAIL(2));
	CHECK_EQ(l.ev[0].value, 3);
	CHECK_EQ(l.ev[0].cycle, 42);
	CHECK_EQ(l.ev[0].unit, SIM_EVENT_NO_UNIT);
	CHECK(l.ev[0].name && !strcmp(l.ev[0].name, "Q2_TAIL"));
	CHECK_EQ(l.ev[1].type, SIM_EV_REG_READ);
	CHECK(l.ev[1].name && !strcmp(l.ev[1].name, "AS5_FAULTSTATUS"));
	CHECK(l.ev[2].name == NULL);
	CHECK(!strcmp(sim_event_type_name(SIM_EV_REG_WRITE), "REG_WRITE"));
	CHECK(!strcmp(sim_event_type_name(SIM_EV_BUS_MAP), "BUS_MAP"));
	CHECK(!strcmp(sim_event_type_name(SIM_EV_COUNT), "UNKNOWN"));
	sim_destroy(d);
}

static void test_guest_error_log_event(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log l = {0};
	struct sim_stats st;

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_LOG), on_event, &l) >= 0);
	wr(d, SIM_GPU_ID, 1);
	REQUIRE_EQ(l.n, 1);
	CHECK_EQ(l.ev[0].code, SIM_LOG_GUEST_ERROR);
	CHECK(strstr(l.text[0], "GPU_ID") != NULL);
	sim_get_stats(d, &st);
	CHECK_EQ(st.guest_errors, 1);
	sim_destroy(d);
}

static void test_soft_reset_sequence(void)
{
	struct sim_device *d = sim_create(NULL);
	struct ev_log l = {0};

	REQUIRE(d);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_RESET), on_event, &l) >= 0);
	wr(d, SIM_GPU_SCRATCH, 0x1234);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_RESET_DONE | SIM_IRQ_PERFCNT_SAMPLE);
	wr(d, SIM_PWR_CLOCK_DIV, 2);
	wr(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	wr(d, SIM_PERF_COMMAND, SIM_PERF_COMMAND_SAMPLE);
	REQUIRE_EQ(sim_clock_step(d, 100), 0);
	CHECK(sim_irq_is_asserted(d));
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_RESETTING);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK(!sim_irq_is_asserted(d));
	/* Configuration survives. */
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0x1234);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_MASK), SIM_IRQ_RESET_DONE | SIM_IRQ_PERFCNT_SAMPLE);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 2);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 100);
	CHECK_EQ(sim_clock_now(d), 100);
	/* Only GPU_COMMAND and IRQ writes are accepted while resetting. */
	wr(d, SIM_GPU_SCRATCH, 0x9999);
	wr(d, SIM_Q_TAIL(0), 1);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0x1234);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 2);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_RESET_DONE);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_MASK), SIM_IRQ_RESET_DONE);
	REQUIRE_EQ(sim_clock_step(d, 999), 0);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_RESETTING);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_RESET_DONE);
	CHECK(sim_irq_is_asserted(d));
	REQUIRE_EQ(l.n, 2);
	CHECK_EQ(l.ev[0].code, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(l.ev[0].value, 0);
	CHECK_EQ(l.ev[0].cycle, 100);
	CHECK_EQ(l.ev[1].code, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(l.ev[1].value, 1);
	CHECK_EQ(l.ev[1].cycle, 1100);
	wr(d, SIM_GPU_SCRATCH, 0x9999);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0x9999);
	sim_destroy(d);
}

static void test_hard_reset_sequence(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = aligned_alloc(4096, 4096);
	uint64_t pa, elapsed = 0;
	uint8_t byte = 0x5a;

	REQUIRE(d && host);
	REQUIRE_EQ(sim_bus_map(d, host, 1, &pa), 0);
	REQUIRE_EQ(sim_bus_write(d, pa, &byte, 1), 0);
	wr(d, SIM_GPU_SCRATCH, 0x1234);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	wr(d, SIM_PWR_CLOCK_DIV, 3);
	wr(d, SIM_PWR_CORES_ON, 0x1);
	wr(d, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	wr(d, SIM_Q_RING_SIZE(1), 64);
	wr(d, SIM_GPU_ID, 0); /* one guest error */
	REQUIRE_EQ(sim_clock_step(d, 700), 0);
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_RESETTING);
	CHECK_EQ(sim_clock_now(d), 0);
	CHECK_EQ(sim_clock_ns(d), 0);
	CHECK_EQ(rd(d, SIM_GPU_SCRATCH), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_MASK), 0);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	CHECK_EQ(rd(d, SIM_GPU_GUEST_ERRORS), 0);
	CHECK_EQ(rd(d, SIM_PWR_CLOCK_DIV), 1);
	CHECK_EQ(rd(d, SIM_PWR_CORES_READY), 0);
	CHECK_EQ(rd(d, SIM_PERF_CONTROL), 0);
	CHECK_EQ(sim_mmio_read64(d, SIM_PERF_COUNTER_LO(SIM_PERF_CYCLES)), 0);
	CHECK_EQ(rd(d, SIM_Q_RING_SIZE(1)), 0);
	CHECK(!sim_irq_is_asserted(d));
	/* Bus memory belongs to the host and survives. */
	CHECK_EQ(sim_bus_frames_mapped(d), 1);
	byte = 0;
	CHECK_EQ(sim_bus_read(d, pa, &byte, 1), 0);
	CHECK_EQ(byte, 0x5a);
	REQUIRE_EQ(sim_clock_step(d, 9999), 0);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_RESETTING);
	REQUIRE_EQ(sim_clock_step(d, 1), 0);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), 0);
	/* RESET_DONE is latched, but the mask is 0 after a hard reset. */
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_RESET_DONE);
	CHECK(!sim_irq_is_asserted(d));
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 0);
	sim_destroy(d);
	free(host);
}

static void test_reset_fail_injection(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject inj = {.kind = SIM_INJECT_RESET_FAIL, .count = 1};
	uint64_t elapsed = 0;

	REQUIRE(d);
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), -ETIMEDOUT);
	CHECK_EQ(elapsed, 100000);
	CHECK_EQ(rd(d, SIM_GPU_STATUS), SIM_STATUS_RESETTING);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), 0);
	/* Only a hard reset recovers; it always succeeds. */
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 10000);
	CHECK_EQ(rd(d, SIM_GPU_IRQ_RAWSTAT), SIM_IRQ_RESET_DONE);
	/* The injection was used up: the next soft reset completes. */
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, &elapsed), 0);
	CHECK_EQ(elapsed, 1000);
	sim_destroy(d);
}

/* RESET_FAIL armed before a hard reset survives it; other injections do not. */
static void test_hard_reset_clears_injections_but_reset_fail(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject drop = {.kind = SIM_INJECT_DROP_IRQ, .count = 5};
	struct sim_inject fail = {.kind = SIM_INJECT_RESET_FAIL};
	struct sim_stats st;

	REQUIRE(d);
	REQUIRE_EQ(sim_inject_fault(d, &drop), 0);
	REQUIRE_EQ(sim_inject_fault(d, &fail), 0);
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, NULL), 0);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_RESET_DONE); /* edge: delivered, DROP was cleared */
	sim_get_stats(d, &st);
	CHECK_EQ(st.irqs_delivered, 1);
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 50000, NULL), -ETIMEDOUT);
	sim_destroy(d);
}

static void test_inject_clear_disarms(void)
{
	struct sim_device *d = sim_create(NULL);
	struct sim_inject fail = {.kind = SIM_INJECT_RESET_FAIL};
	struct sim_inject drop = {.kind = SIM_INJECT_DROP_IRQ};

	REQUIRE(d);
	REQUIRE_EQ(sim_inject_fault(d, &fail), 0);
	REQUIRE_EQ(sim_inject_fault(d, &drop), 0);
	sim_inject_clear(d);
	wr(d, SIM_GPU_IRQ_MASK, SIM_IRQ_RESET_DONE);
	wr(d, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	CHECK_EQ(sim_clock_run_until_idle(d, 100000, NULL), 0);
	CHECK(sim_irq_is_asserted(d));
	sim_destroy(d);
}

static void test_inject_invalid_arguments(void)
{
	struct sim_config cfg;
	struct sim_device *d;
	struct sim_inject inj;

	sim_config_default(&cfg);
	cfg.queues = 2;
	cfg.as_slots = 3;
	d = sim_create(&cfg);
	REQUIRE(d);
	CHECK_EQ(sim_inject_fault(d, NULL), -EINVAL);
	inj = (struct sim_inject){.kind = SIM_INJECT_KIND_COUNT};
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL);
	inj = (struct sim_inject){
		.kind = SIM_INJECT_MMU_FAULT, .target = 3, .arg = SIM_FAULT_MMU_PERMISSION};
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL);
	inj.target = 2;
	CHECK_EQ(sim_inject_fault(d, &inj), 0);
	inj.arg = SIM_FAULT_DMA_ERROR; /* not an MMU fault code */
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL);
	inj = (struct sim_inject){.kind = SIM_INJECT_CP_HANG, .target = 2};
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL);
	inj = (struct sim_inject){.kind = SIM_INJECT_DMA_ERROR, .target = 2};
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL);
	inj.target = 1;
	CHECK_EQ(sim_inject_fault(d, &inj), 0);
	inj = (struct sim_inject){.kind = SIM_INJECT_BIT_FLIP, .arg = 0x5000ull << 3};
	CHECK_EQ(sim_inject_fault(d, &inj), -EINVAL); /* not mapped */
	sim_destroy(d);
}

static void test_bit_flip(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = aligned_alloc(4096, 8192);
	struct sim_inject inj = {.kind = SIM_INJECT_BIT_FLIP};
	uint64_t pa[2];
	uint8_t b = 0;

	REQUIRE(d && host);
	memset(host, 0, 8192);
	REQUIRE_EQ(sim_bus_map(d, host, 2, pa), 0);
	inj.arg = ((pa[1] + 5) << 3) | 3;
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	CHECK_EQ(host[4096 + 5], 0x08);
	REQUIRE_EQ(sim_bus_read(d, pa[1] + 5, &b, 1), 0);
	CHECK_EQ(b, 0x08);
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0); /* flips back */
	CHECK_EQ(host[4096 + 5], 0);
	inj.arg = (pa[0] << 3) | 7;
	REQUIRE_EQ(sim_inject_fault(d, &inj), 0);
	CHECK_EQ(host[0], 0x80);
	sim_destroy(d);
	free(host);
}

/* Fail each host allocation of sim_create() in turn: NULL every time, then success. */
static void test_alloc_failure_in_create(void)
{
	struct sim_device *d = NULL;
	uint32_t n;

	for (n = 1; n < 64; n++) {
		sim_inject_alloc_failure(NULL, n);
		d = sim_create(NULL);
		if (d)
			break;
	}
	REQUIRE(d != NULL);
	CHECK(n >= 3); /* the device, its frame table and at least one TLB array */
	/* The injection is used up: a later create is unaffected. */
	sim_destroy(d);
	d = sim_create(NULL);
	CHECK(d != NULL);
	sim_destroy(d);
	/* An invalid configuration fails without allocating past the device. */
	sim_inject_alloc_failure(NULL, 2);
	{
		struct sim_config cfg;

		sim_config_default(&cfg);
		cfg.queues = 0;
		CHECK(sim_create(&cfg) == NULL);
	}
	d = sim_create(NULL);
	CHECK(d != NULL);
	sim_destroy(d);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_subscribe_masks),
	SIM_TEST(test_subscribe_invalid_and_full),
	SIM_TEST(test_reg_events_carry_names),
	SIM_TEST(test_guest_error_log_event),
	SIM_TEST(test_soft_reset_sequence),
	SIM_TEST(test_hard_reset_sequence),
	SIM_TEST(test_reset_fail_injection),
	SIM_TEST(test_hard_reset_clears_injections_but_reset_fail),
	SIM_TEST(test_inject_clear_disarms),
	SIM_TEST(test_inject_invalid_arguments),
	SIM_TEST(test_bit_flip),
	SIM_TEST(test_alloc_failure_in_create),
};
SIM_TEST_SUITE(tests);

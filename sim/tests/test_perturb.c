/* SPDX-License-Identifier: MIT */
/*
 * test_perturb.c - perturbed timing for race detection: sim_config_perturb (pure, in range,
 * reproducible), seeded engine arbitration (strict priorities kept, ties drawn reproducibly,
 * every job completes with the same results) and sim_set_hold (nothing runs while held).
 *
 * Host-stepped devices with the tiny test driver (sim_test_util.h): exact event orders, no
 * wall time.
 */
#include "sim_test.h"
#include "sim_test_util.h"

#define CMD_VA	  0x4001000ull
#define DATA_VA	  0x20004000ull
#define CMD_SIZE  (64u * 1024u)
#define DATA_SIZE (64u * 1024u)
#define MAX_RUN	  100000000ull
#define WRITES	  12
#define MAX_EV	  256

static const struct simt_fix_layout layout = {
	.cmd_va = CMD_VA,
	.cmd_size = CMD_SIZE,
	.data_va = DATA_VA,
	.data_size = DATA_SIZE,
	.queues = 3,
};

/* The queue of each WRITE32 command, in execution order. */
static struct order {
	uint32_t q[MAX_EV];
	uint32_t n;
} order;

static void on_event(void *ctx, const struct sim_event *e)
{
	struct order *o = ctx;

	if (e->type == SIM_EV_CMD && e->code == SIM_CMD_WRITE32 && o->n < MAX_EV)
		o->q[o->n++] = e->unit;
}

/* Job at @off of WRITES WRITE32s (value q * 100 + i at DATA_VA + 256 * q + 4 * i) and END. */
static uint32_t emit_writes(struct simt_fix *f, uint32_t off, uint32_t q)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < WRITES; i++)
		n += sim_cmd_emit_write32(simt_fix_cmd(f, off + n * 4), DATA_VA + 256 * q + 4 * i,
					  q * 100 + i);
	n += sim_cmd_emit_end(simt_fix_cmd(f, off + n * 4));
	return n * 4;
}

/*
 * Queues 0 and 1 (priorities @p0, @p1) each get a job of WRITES writes at once on a device
 * with @arb_seed; the WRITE32 order goes to @o, the final cycle count to *@cycles_out.
 */
static void run_two(uint64_t arb_seed, uint32_t p0, uint32_t p1, struct order *o,
		    uint64_t *cycles_out)
{
	struct sim_config cfg;
	struct simt_fix f;
	uint32_t b0, b1;

	sim_config_default(&cfg);
	cfg.arb_seed = arb_seed;
	REQUIRE(!simt_fix_init(&f, &cfg, &layout));
	simt_write32(f.t, SIM_Q_PRIORITY(0), p0);
	simt_write32(f.t, SIM_Q_PRIORITY(1), p1);
	b0 = emit_writes(&f, 0x400, 0);
	b1 = emit_writes(&f, 0x800, 1);
	order.n = 0;
	sim_events_subscribe(f.dev, SIM_EV_MASK(SIM_EV_CMD), on_event, &order);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, b0, 1, 0));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x800, b1, 1, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	for (uint32_t q = 0; q < 2; q++)
		for (uint32_t i = 0; i < WRITES; i++)
			CHECK_EQ(simt_fix_data32(&f, 256 * q + 4 * i), q * 100 + i);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 1);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(1)), 1);
	*cycles_out = sim_clock_now(f.dev);
	*o = order;
	simt_fix_fini(&f);
}

/* Defaults carry no perturbation: every existing figure stays what it was. */
static void test_default_is_round_robin(void)
{
	struct sim_config cfg;
	struct order o;
	uint64_t cycles;

	sim_config_default(&cfg);
	CHECK_EQ(cfg.arb_seed, 0);
	run_two(0, 0, 0, &o, &cycles);
	REQUIRE_EQ(o.n, 2 * WRITES);
	for (uint32_t i = 0; i < o.n; i++)
		CHECK_EQ(o.q[i], i % 2); /* strict alternation, queue 0 first */
}

/* The same seed gives the same configuration; every value is in its documented range. */
static void test_perturb_is_pure_and_in_range(void)
{
	struct sim_config base, a, b;
	struct sim_perturbation pa, pb;
	uint32_t distinct_cores = 0, seen = 0;

	sim_config_default(&base);
	for (uint64_t seed = 0; seed < 500; seed++) {
		struct sim_device *dev;

		a = base;
		b = base;
		sim_config_perturb(&a, seed, &pa);
		sim_config_perturb(&b, seed, &pb);
		CHECK(!memcmp(&a, &b, sizeof(a)));
		CHECK(!memcmp(&pa, &pb, sizeof(pa)));
		CHECK_EQ(pa.seed, seed);
		CHECK(pa.cores >= SIM_PERTURB_CORES_MIN && pa.cores <= SIM_PERTURB_CORES_MAX);
		CHECK_EQ(a.cores, pa.cores);
		for (uint32_t g = 0; g < SIM_PERTURB_GROUPS; g++)
			CHECK(pa.scale8[g] >= SIM_PERTURB_SCALE_MIN &&
			      pa.scale8[g] <= SIM_PERTURB_SCALE_MAX);
		CHECK(a.arb_seed != 0);
		CHECK(a.timing.copy_bytes_per_cycle >= 1 && a.timing.copy_bytes_per_cycle <= 128);
		CHECK(a.timing.job_start >= 32 && a.timing.job_start <= 256);
		CHECK(a.timing.alu >= 1 && a.timing.wait_poll >= 16);
		/* What a driver or client may size itself from is kept. */
		CHECK_EQ(a.queues, base.queues);
		CHECK_EQ(a.lanes, base.lanes);
		CHECK_EQ(a.as_slots, base.as_slots);
		CHECK_EQ(a.clock_hz, base.clock_hz);
		CHECK_EQ(a.timing.hard_reset, base.timing.hard_reset);
		if (!(seen >> (pa.cores % 32) & 1)) {
			seen |= 1u << (pa.cores % 32);
			distinct_cores++;
		}
		if (seed < 20) {
			dev = sim_create(&a);
			CHECK(dev != NULL);
			sim_destroy(dev);
		}
	}
	CHECK(distinct_cores > 16);
	CHECK(sim_perturb_group_name(SIM_PERTURB_COPY) != NULL);
	CHECK(sim_perturb_group_name(SIM_PERTURB_GROUPS) == NULL);
}

/*
 * Seeded arbitration draws among tied queues: some seed leaves the strict alternation, a seed
 * replays to the same order and cycles, results never change, priorities stay strict.
 */
static void test_seeded_arbitration(void)
{
	struct order a, b;
	bool differs = false;
	uint64_t ca, cb;

	for (uint64_t seed = 1; seed <= 8; seed++) {
		run_two(seed, 0, 0, &a, &ca);
		run_two(seed, 0, 0, &b, &cb);
		CHECK_EQ(ca, cb);
		REQUIRE_EQ(a.n, 2 * WRITES);
		CHECK(!memcmp(&a, &b, sizeof(a)));
		for (uint32_t i = 0; i < a.n; i++)
			if (a.q[i] != i % 2)
				differs = true;
	}
	CHECK(differs);
	/* Queue 1 has the higher priority: all its writes come first, whatever the seed. */
	for (uint64_t seed = 1; seed <= 4; seed++) {
		run_two(seed, 0, 2, &a, &ca);
		REQUIRE_EQ(a.n, 2 * WRITES);
		for (uint32_t i = 0; i < a.n; i++)
			CHECK_EQ(a.q[i], i < WRITES ? 1u : 0u);
	}
}

/* While held nothing runs and time stands; after the release the job runs as usual. */
static void test_hold(void)
{
	struct simt_fix f;
	uint32_t bytes;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	bytes = emit_writes(&f, 0x400, 0);
	sim_set_hold(f.dev, true);
	t = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, bytes, 7, 0));
	CHECK(sim_is_idle(f.dev));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(sim_clock_now(f.dev), t);
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 0);
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	/* A reset still completes while held: timed events are not queue work. */
	simt_write32(f.t, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK(sim_clock_now(f.dev) > t);
	simt_write32(f.t, SIM_GPU_IRQ_CLEAR, 0xffffffffu);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, bytes, 8, 0));
	sim_set_hold(f.dev, false);
	CHECK(!sim_is_idle(f.dev));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_read64(f.t, SIM_Q_SEQNO_LO(0)), 8);
	CHECK_EQ(simt_fix_data32(&f, 4 * (WRITES - 1)), WRITES - 1);
	simt_fix_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_default_is_round_robin),
	SIM_TEST(test_perturb_is_pure_and_in_range),
	SIM_TEST(test_seeded_arbitration),
	SIM_TEST(test_hold),
};
SIM_TEST_SUITE(tests);

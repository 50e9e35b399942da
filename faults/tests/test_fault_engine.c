/* SPDX-License-Identifier: MIT */
/*
 * test_fault_engine.c - when faults fire: each trigger (nth, every, probability, cycle, VA
 * range), each target (any, the Nth connection, a process, a context), the "times" limit, the
 * entry point of fail_call and fail_alloc, determinism of probability triggers, and reset.
 */
#include <string.h>

#include "faults/fault_engine.h"
#include "sim_test.h"

static struct fault_plan *plan_of(const char *text)
{
	char error[FAULT_ERROR_MAX];
	struct fault_plan *p = fault_plan_parse(text, strlen(text), "test", error);

	if (!p)
		fprintf(stderr, "plan refused: %s\n", error);
	return p;
}

/* Reports @n events like @ev and returns how many of them fired fault 0; @fired_at[k] gets the
 * 1-based event number of the k-th firing (up to 16). */
static uint32_t feed(struct fault_engine *e, struct fault_event ev, uint32_t n, uint64_t *fired_at)
{
	struct fault_firing out[4];
	uint32_t fired = 0;

	for (uint32_t i = 1; i <= n; i++) {
		uint32_t k = fault_engine_observe(e, &ev, out, 4);

		for (uint32_t j = 0; j < k; j++) {
			if (out[j].index != 0)
				continue;
			if (fired_at && fired < 16)
				fired_at[fired] = i;
			fired++;
		}
	}
	return fired;
}

static const struct fault_event submission = {.type = FAULT_EVENT_SUBMISSION, .connection = 1};

static void test_nth(void)
{
	struct fault_plan *p =
		plan_of("{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 3}}]}");
	struct fault_engine *e;
	uint64_t at[16];
	struct fault_event call = {.type = FAULT_EVENT_CALL, .connection = 1};

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	/* Calls are not submissions: they do not count. */
	CHECK_EQ(feed(e, call, 10, NULL), 0);
	CHECK_EQ(feed(e, submission, 10, at), 1);
	CHECK_EQ(at[0], 3);
	CHECK_EQ(fault_engine_fired(e, 0), 1);
	CHECK_EQ(fault_engine_fired(e, 7), 0);
	/* Reset: the same again. */
	fault_engine_reset(e);
	CHECK_EQ(fault_engine_fired(e, 0), 0);
	CHECK_EQ(feed(e, submission, 3, at), 1);
	CHECK_EQ(at[0], 3);
	fault_engine_destroy(e);
	fault_plan_destroy(p);
	fault_engine_destroy(NULL);
}

static void test_every_and_times(void)
{
	struct fault_plan *p = plan_of("{\"faults\": ["
				       "{\"kind\": \"dma_error\", \"trigger\": {\"every\": 4},"
				       " \"times\": 3},"
				       "{\"kind\": \"dma_error\", \"trigger\": {\"every\": 5},"
				       " \"times\": 0}]}");
	struct fault_engine *e;
	uint64_t at[16];

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	CHECK_EQ(feed(e, submission, 40, at), 3);
	CHECK_EQ(at[0], 4);
	CHECK_EQ(at[1], 8);
	CHECK_EQ(at[2], 12);
	CHECK_EQ(fault_engine_fired(e, 1), 8); /* no limit: 5, 10, ..., 40 */
	fault_engine_destroy(e);
	fault_plan_destroy(p);
}

static void test_probability_is_seeded(void)
{
	static const char text[] = "{\"seed\": 11, \"faults\": ["
				   "{\"kind\": \"cp_hang\", \"trigger\": {\"probability\": 0.25},"
				   " \"times\": 0},"
				   "{\"kind\": \"cp_hang\", \"trigger\": {\"probability\": 0.25},"
				   " \"times\": 0}]}";
	struct fault_plan *p = plan_of(text);
	struct fault_engine *a, *b;
	uint64_t at_a[16], at_b[16];
	uint32_t na, nb;

	REQUIRE(p);
	a = fault_engine_create(p);
	b = fault_engine_create(p);
	REQUIRE(a && b);
	na = feed(a, submission, 10000, at_a);
	nb = feed(b, submission, 10000, at_b);
	/* The same plan gives the same firings, at the same events. */
	CHECK_EQ(na, nb);
	CHECK(memcmp(at_a, at_b, sizeof(at_a)) == 0);
	/* About a quarter (10000 draws: 2500 +- 6 standard deviations). */
	CHECK(na > 2240 && na < 2760);
	/* The second fault of the plan draws its own sequence. */
	CHECK(fault_engine_fired(a, 1) != fault_engine_fired(a, 0));
	fault_engine_reset(a);
	CHECK_EQ(feed(a, submission, 10000, at_b), na);
	CHECK(memcmp(at_a, at_b, sizeof(at_a)) == 0);
	fault_engine_destroy(a);
	fault_engine_destroy(b);
	fault_plan_destroy(p);
}

static void test_cycle(void)
{
	struct fault_plan *p =
		plan_of("{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"cycle\": 1000},"
			" \"target\": {\"connection\": 2}, \"times\": 5}]}");
	struct fault_engine *e;
	struct fault_firing out[2];
	struct fault_event clock = {.type = FAULT_EVENT_CYCLE};

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	clock.value = 999;
	CHECK_EQ(fault_engine_observe(e, &clock, out, 2), 0);
	/* The clock belongs to no connection: the first report at or past the cycle fires. */
	clock.value = 1500;
	REQUIRE_EQ(fault_engine_observe(e, &clock, out, 2), 1);
	CHECK_EQ(out[0].index, 0);
	CHECK(out[0].fault == &p->faults[0]);
	/* Once, whatever "times" says. */
	clock.value = 5000;
	CHECK_EQ(fault_engine_observe(e, &clock, out, 2), 0);
	fault_engine_destroy(e);
	fault_plan_destroy(p);
}

static void test_va_range(void)
{
	struct fault_plan *p = plan_of(
		"{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"va\": [4096, 8192]},"
		" \"target\": {\"connection\": 3}}]}");
	struct fault_engine *e;
	struct fault_firing out[2];
	struct fault_event access = {.type = FAULT_EVENT_ACCESS, .connection = 3};

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	access.value = 4095;
	CHECK_EQ(fault_engine_observe(e, &access, out, 2), 0);
	access.value = 8192;
	CHECK_EQ(fault_engine_observe(e, &access, out, 2), 0);
	access.connection = 2;
	access.value = 5000;
	CHECK_EQ(fault_engine_observe(e, &access, out, 2), 0); /* another connection's VA */
	access.connection = 3;
	CHECK_EQ(fault_engine_observe(e, &access, out, 2), 1);
	CHECK_EQ(fault_engine_observe(e, &access, out, 2), 0); /* times: 1 */
	fault_engine_destroy(e);
	fault_plan_destroy(p);
}

static void test_targets(void)
{
	struct fault_plan *p = plan_of("{\"faults\": ["
				       "{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 2},"
				       " \"target\": {\"connection\": 2}},"
				       "{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1},"
				       " \"target\": {\"process\": \"vkcube\"}},"
				       "{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 2},"
				       " \"target\": {\"connection\": 1, \"context\": 7}},"
				       "{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 3}}]}");
	struct fault_engine *e;
	struct fault_firing out[8];
	struct fault_event ev = {.type = FAULT_EVENT_SUBMISSION};

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	/* 1: connection 1 context 7 of "app"; counts for faults 2 and 3. */
	ev.connection = 1;
	ev.context = 7;
	ev.process = "app";
	CHECK_EQ(fault_engine_observe(e, &ev, out, 8), 0);
	/* 2: connection 2 of "vkcube": fault 1 fires (its first), 3 counts its second. */
	ev.connection = 2;
	ev.context = 1;
	ev.process = "vkcube";
	REQUIRE_EQ(fault_engine_observe(e, &ev, out, 8), 1);
	CHECK_EQ(out[0].index, 1);
	/* 3: connection 1 context 1: fault 2 needs context 7; fault 3 fires (third of any). */
	ev.connection = 1;
	ev.process = NULL;
	REQUIRE_EQ(fault_engine_observe(e, &ev, out, 8), 1);
	CHECK_EQ(out[0].index, 3);
	CHECK_EQ(out[0].count, 3);
	/* 4: connection 1 context 7: fault 2's second. */
	ev.context = 7;
	REQUIRE_EQ(fault_engine_observe(e, &ev, out, 8), 1);
	CHECK_EQ(out[0].index, 2);
	/* 5: connection 2: fault 0's second; several at once come in plan order. */
	ev.connection = 2;
	REQUIRE_EQ(fault_engine_observe(e, &ev, out, 8), 1);
	CHECK_EQ(out[0].index, 0);
	fault_engine_destroy(e);
	fault_plan_destroy(p);
}

static void test_failure_points(void)
{
	struct fault_plan *p =
		plan_of("{\"faults\": ["
			"{\"kind\": \"fail_call\", \"call\": \"msd_connection_map_buffer\","
			" \"status\": \"MEMORY_ERROR\", \"trigger\": {\"nth\": 2}},"
			"{\"kind\": \"fail_alloc\", \"trigger\": {\"nth\": 1}},"
			"{\"kind\": \"kill_client\", \"trigger\": {\"nth\": 4}}]}");
	struct fault_engine *e;
	struct fault_firing out[4];
	struct fault_event map = {
		.type = FAULT_EVENT_CALL, .connection = 1, .point = "msd_connection_map_buffer"};
	struct fault_event query = {
		.type = FAULT_EVENT_CALL, .connection = 1, .point = "msd_device_query"};
	struct fault_event alloc = {.type = FAULT_EVENT_ALLOC, .connection = 1, .point = "service"};

	REQUIRE(p);
	e = fault_engine_create(p);
	REQUIRE(e);
	/* Calls of other entry points do not count for fail_call; every call counts for kill. */
	CHECK_EQ(fault_engine_observe(e, &query, out, 4), 0);
	CHECK_EQ(fault_engine_observe(e, &map, out, 4), 0);
	CHECK_EQ(fault_engine_observe(e, &query, out, 4), 0);
	REQUIRE_EQ(fault_engine_observe(e, &map, out, 4), 2);
	CHECK_EQ(out[0].index, 0);
	CHECK_EQ(out[0].count, 2);
	CHECK_EQ(out[1].index, 2); /* the fourth call */
	/* fail_alloc defaults to the driver's allocations. */
	CHECK_EQ(fault_engine_observe(e, &alloc, out, 4), 0);
	alloc.point = "driver";
	REQUIRE_EQ(fault_engine_observe(e, &alloc, out, 4), 1);
	CHECK_EQ(out[0].index, 1);
	/* More firings than room: the count still advances. */
	CHECK_EQ(fault_engine_observe(e, &alloc, out, 0), 0);
	fault_engine_destroy(e);
	fault_plan_destroy(p);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_nth),
	SIM_TEST(test_every_and_times),
	SIM_TEST(test_probability_is_seeded),
	SIM_TEST(test_cycle),
	SIM_TEST(test_va_range),
	SIM_TEST(test_targets),
	SIM_TEST(test_failure_points),
};
SIM_TEST_SUITE(tests);

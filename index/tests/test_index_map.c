/* SPDX-License-Identifier: MIT */
/*
 * test_index_map.c - the hash map of index_map.c: insert, find, set and remove agree with a
 * reference over long pseudo-random sequences (long probe runs, growth, backward-shift
 * deletion), keys that all share a home slot, any key value, and the refusals (duplicate key,
 * the one value it cannot hold).
 */
#include <errno.h>
#include <stdlib.h>

#include "index/index_map.h"
#include "sim_test.h"

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void test_empty_and_refusals(void)
{
	struct index_map m = {0};
	uint64_t v = 7;

	CHECK(!index_map_find(&m, 0, &v));
	CHECK(!index_map_remove(&m, 0, NULL));
	CHECK(!index_map_set(&m, 0, 1));
	CHECK_EQ(index_map_insert(&m, 1, UINT64_MAX), (uint64_t)-EINVAL);
	CHECK_EQ(index_map_count(&m), 0);
	CHECK_EQ(index_map_insert(&m, 0, 0), 0);
	CHECK_EQ(index_map_insert(&m, UINT64_MAX, UINT64_MAX - 1), 0);
	CHECK_EQ(index_map_insert(&m, 0, 5), (uint64_t)-EEXIST);
	REQUIRE(index_map_find(&m, 0, &v));
	CHECK_EQ(v, 0);
	REQUIRE(index_map_find(&m, UINT64_MAX, &v));
	CHECK_EQ(v, UINT64_MAX - 1);
	CHECK(index_map_set(&m, 0, 42));
	CHECK(!index_map_set(&m, 0, UINT64_MAX));
	REQUIRE(index_map_find(&m, 0, &v));
	CHECK_EQ(v, 42);
	CHECK(index_map_remove(&m, 0, &v));
	CHECK_EQ(v, 42);
	CHECK(!index_map_find(&m, 0, NULL));
	CHECK_EQ(index_map_count(&m), 1);
	index_map_fini(&m);
	CHECK_EQ(index_map_count(&m), 0);
	CHECK(!index_map_find(&m, UINT64_MAX, NULL));
}

#define N 4096

/* Keys k * 2^58 all hash to a handful of slots: long runs, wrapping around the table's end. */
static void test_colliding_keys(void)
{
	struct index_map m;
	uint64_t v;

	index_map_init(&m);
	for (uint64_t k = 0; k < 64; k++)
		REQUIRE_EQ(index_map_insert(&m, k << 58, k), 0);
	for (uint64_t k = 0; k < 64; k += 3)
		REQUIRE(index_map_remove(&m, k << 58, NULL));
	for (uint64_t k = 0; k < 64; k++) {
		bool there = index_map_find(&m, k << 58, &v);

		CHECK(there == (k % 3 != 0));
		if (there)
			CHECK_EQ(v, k);
	}
	index_map_fini(&m);
}

static void test_random_against_reference(void)
{
	static uint64_t keys[N], values[N];
	static bool live[N];
	struct index_map m;
	uint32_t seed = 99;
	size_t count = 0;

	index_map_init(&m);
	for (int i = 0; i < N; i++)
		keys[i] = ((uint64_t)rnd(&seed) << 32) ^ rnd(&seed) ^ (uint64_t)i;
	/* Sequential ids too, the service's usual keys. */
	for (int i = 0; i < N / 2; i++)
		keys[i] = 0x10000 + (uint64_t)i;
	for (int step = 0; step < 100000; step++) {
		int i = (int)(rnd(&seed) % N);

		if (live[i] && step % 5 == 0) {
			values[i] = rnd(&seed);
			CHECK(index_map_set(&m, keys[i], values[i]));
		} else if (live[i]) {
			uint64_t v;

			CHECK(index_map_remove(&m, keys[i], &v));
			CHECK_EQ(v, values[i]);
			live[i] = false;
			count--;
		} else {
			values[i] = rnd(&seed);
			REQUIRE_EQ(index_map_insert(&m, keys[i], values[i]), 0);
			live[i] = true;
			count++;
		}
		if (step % 1000)
			continue;
		REQUIRE_EQ(index_map_count(&m), count);
		REQUIRE(m.count * 2 <= m.cap);
		for (int j = 0; j < N; j++) {
			uint64_t v = UINT64_MAX;

			CHECK(index_map_find(&m, keys[j], &v) == live[j]);
			if (live[j])
				CHECK_EQ(v, values[j]);
		}
	}
	index_map_fini(&m);
}

static void test_reserve(void)
{
	struct index_map m;
	size_t cap;

	index_map_init(&m);
	REQUIRE_EQ(index_map_reserve(&m, 1000), 0);
	cap = m.cap;
	CHECK(cap >= 2000);
	for (uint64_t k = 0; k < 1000; k++)
		REQUIRE_EQ(index_map_insert(&m, k, k), 0);
	CHECK_EQ(m.cap, cap); /* no growth: the reservation covered them */
	CHECK_EQ(index_map_reserve(&m, 10), 0);
	CHECK_EQ(m.cap, cap); /* never shrinks */
	index_map_fini(&m);
}

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_empty_and_refusals),
	SIM_TEST(test_colliding_keys),
	SIM_TEST(test_random_against_reference),
	SIM_TEST(test_reserve),
};
/* clang-format on */
SIM_TEST_SUITE(tests);

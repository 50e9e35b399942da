/* SPDX-License-Identifier: MIT */
/*
 * test_handle.c - the registry of live libmagma objects (libmagma_handle.c): lookups answer
 * exactly for registered objects with the right magic, across growth and thousands of removals
 * in pseudo-random order (which exercises backward-shift deletion in long probe runs).
 */
#include <stdlib.h>

#include "libmagma_internal.h"
#include "sim_test.h"

struct obj {
	uint32_t magic;
	uint32_t pad;
};

#define N 5000

static void test_add_lookup_remove(void)
{
	static struct obj objs[N];
	static bool live[N];
	uint32_t seed = 12345;

	for (int i = 0; i < N; i++) {
		objs[i].magic = (i & 1) ? LIBMAGMA_BUFFER_MAGIC : LIBMAGMA_SEMAPHORE_MAGIC;
		REQUIRE_EQ(libmagma_handle_add(&objs[i]), 0);
		live[i] = true;
	}
	CHECK_EQ(libmagma_handle_add(&objs[0]), 0); /* twice: still one entry */
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < N; k++) {
			int i;

			seed = seed * 1103515245u + 12345u;
			i = (int)((seed >> 8) % N);
			if (live[i])
				libmagma_handle_remove(&objs[i]);
			else
				CHECK_EQ(libmagma_handle_add(&objs[i]), 0);
			live[i] = !live[i];
		}
		for (int i = 0; i < N; i++) {
			uint32_t magic = objs[i].magic;
			uint32_t other = magic == LIBMAGMA_BUFFER_MAGIC ? LIBMAGMA_SEMAPHORE_MAGIC
									: LIBMAGMA_BUFFER_MAGIC;
			void *want = live[i] ? &objs[i] : NULL;

			CHECK(libmagma_handle_lookup((uint64_t)(uintptr_t)&objs[i], magic) == want);
			CHECK(libmagma_handle_lookup((uint64_t)(uintptr_t)&objs[i], other) == NULL);
		}
	}
	for (int i = 0; i < N; i++) {
		if (live[i])
			libmagma_handle_remove(&objs[i]);
		CHECK(libmagma_handle_lookup((uint64_t)(uintptr_t)&objs[i], objs[i].magic) == NULL);
	}
	CHECK(libmagma_handle_lookup(0, LIBMAGMA_BUFFER_MAGIC) == NULL);
	CHECK(libmagma_handle_lookup(0xdeadbeef, LIBMAGMA_BUFFER_MAGIC) == NULL);
	libmagma_handle_remove(NULL);
	libmagma_handle_remove(&objs[0]); /* not registered: ignored */
}

static const struct sim_test tests[] = {
	SIM_TEST(test_add_lookup_remove),
};
SIM_TEST_SUITE(tests);

/* SPDX-License-Identifier: MIT */
/*
 * test_bench_util.c - the benchmarks' helpers that are not timing: bench_raise_fd_limit takes the
 * soft fd limit to the hard one, raises the hard one only as far as asked and only when the
 * process may (CAP_SYS_RESOURCE), and returns the soft limit in force. ctest runs each test as a
 * process of its own, so changing this process's limits touches nothing else.
 */
#include <stdint.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "sim_test.h"

/* A soft limit below the hard one goes up to it; asking for no more leaves the hard one. */
static void test_raise_fd_limit_to_hard(void)
{
	struct rlimit before, after;
	uint64_t got;

	REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
	if (before.rlim_max != RLIM_INFINITY && before.rlim_max > 64) {
		struct rlimit lowered = {.rlim_cur = 64, .rlim_max = before.rlim_max};

		REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
	}
	got = bench_raise_fd_limit(32);
	REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
	CHECK_EQ(after.rlim_max, before.rlim_max);
	CHECK_EQ(after.rlim_cur, after.rlim_max);
	CHECK_EQ(got, after.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)after.rlim_cur);
}

/*
 * Asking for more than the hard limit: with CAP_SYS_RESOURCE the hard limit becomes what was
 * asked, without it stays as it was; either way the soft limit ends at the hard one and is what
 * the call returns.
 */
static void test_raise_fd_limit_past_hard(void)
{
	struct rlimit before, after;
	uint64_t want, got;

	REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
	if (before.rlim_max == RLIM_INFINITY)
		SIM_TEST_SKIP("no hard fd limit");
	want = (uint64_t)before.rlim_max + 1000;
	got = bench_raise_fd_limit(want);
	REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
	CHECK(after.rlim_max == before.rlim_max || after.rlim_max == want);
	CHECK_EQ(after.rlim_cur, after.rlim_max);
	CHECK_EQ(got, (uint64_t)after.rlim_cur);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_raise_fd_limit_to_hard),
	SIM_TEST(test_raise_fd_limit_past_hard),
};
SIM_TEST_SUITE(tests);

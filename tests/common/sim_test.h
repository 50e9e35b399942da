/* SPDX-License-Identifier: MIT */
/*
 * sim_test.h - a minimal C test harness for the qtest-style unit tests.
 *
 * A test file defines `static void test_name(void)` functions and a main() that calls
 * SIM_TEST_RUN(test_name) for each, then returns SIM_TEST_DONE(). CHECK* macros record a failure
 * with file:line and keep going; REQUIRE* macros also return from the current test. The closing
 * line is "N passed, N failed" (one line per file), which ctest and CI read.
 */
#ifndef SIM_TEST_H
#define SIM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* unused: a file may include this header for its helpers without running tests. */
static int sim_test_failures_in_test __attribute__((unused));
static int sim_test_passed __attribute__((unused));
static int sim_test_failed __attribute__((unused));

#define SIM_TEST_FAIL_(fmt, ...)                                                                   \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);              \
		sim_test_failures_in_test++;                                                       \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			SIM_TEST_FAIL_("CHECK(%s) failed", #cond);                                 \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_)                                                                      \
			SIM_TEST_FAIL_("CHECK_EQ(%s, %s): %#" PRIx64 " != %#" PRIx64, #a, #b, a_,  \
				       b_);                                                        \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			SIM_TEST_FAIL_("REQUIRE(%s) failed", #cond);                               \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define REQUIRE_EQ(a, b)                                                                           \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_) {                                                                    \
			SIM_TEST_FAIL_("REQUIRE_EQ(%s, %s): %#" PRIx64 " != %#" PRIx64, #a, #b,    \
				       a_, b_);                                                    \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define SIM_TEST_RUN(fn)                                                                           \
	do {                                                                                       \
		sim_test_failures_in_test = 0;                                                     \
		fn();                                                                              \
		if (sim_test_failures_in_test) {                                                   \
			sim_test_failed++;                                                         \
			fprintf(stderr, "FAIL %s\n", #fn);                                         \
		} else {                                                                           \
			sim_test_passed++;                                                         \
			printf("ok   %s\n", #fn);                                                  \
		}                                                                                  \
	} while (0)

#define SIM_TEST_DONE()                                                                            \
	(printf("%d passed, %d failed\n", sim_test_passed, sim_test_failed),                       \
	 sim_test_failed ? 1 : 0)

#endif /* SIM_TEST_H */

/* SPDX-License-Identifier: MIT */
/*
 * sim_test.h - the C API of the unit tests, run by GoogleTest.
 *
 * A test file stays plain C: `static void test_name(void)` functions, then a table of them and
 * the file's suite, which tests/common/sim_test_main.cc (linked by magma_sim_add_test) registers
 * with GoogleTest as the tests "<executable>.<function>":
 *
 *	static const struct sim_test tests[] = {
 *		SIM_TEST(test_reset_values),
 *		SIM_TEST(test_w1c),
 *	};
 *	SIM_TEST_SUITE(tests);
 *
 * (clang-format packs a table of five or more short names into columns; such a table keeps one
 * test a line between clang-format off and on comments.)
 *
 * Every GoogleTest flag works (--gtest_filter, --gtest_output=xml:FILE, --gtest_repeat,
 * --gtest_shuffle, GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX), and ctest runs each test as its own
 * process, so a test must pass alone and in any order: state shared by several tests is made
 * around each one by the suite's hooks, not by an earlier test. A file with hooks spells its
 * suite out:
 *
 *	const struct sim_test_suite sim_tests = {
 *		.tests = tests,
 *		.count = SIM_TEST_COUNT(tests),
 *		.process_setup = process_setup,	-- once, first thing in main()
 *		.setup = setup,			-- before each test
 *		.teardown = teardown,		-- after each test, even one that failed
 *	};
 *
 * CHECK* and SIM_TEST_FAIL record a failure at the caller's file:line and keep going; REQUIRE*
 * also return from the current function (so only in functions returning void). A failure in
 * setup stops the test before its body runs; teardown still runs. SIM_TEST_SKIP reports the test
 * as skipped and returns. Failures may be recorded from any thread of the test process, never
 * from a forked child (it has its own copy of the results, which nobody reads).
 */
#ifndef SIM_TEST_H
#define SIM_TEST_H

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One test: its name (the function's), the function, and where the table lists it. */
struct sim_test {
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
};

/* Returned by process_setup to go on and run the tests. */
#define SIM_TEST_CONTINUE (-1)

/* A test file's tests and its optional hooks (NULL: none). */
struct sim_test_suite {
	const struct sim_test *tests;
	size_t count;
	/*
	 * Called first in main(), with its arguments, before GoogleTest reads them and also when
	 * the tests are only listed: process-wide settings (signals, environment, argv[0] kept to
	 * re-execute this file), never anything slow and nothing on stdout (ctest parses the
	 * list of tests from it). Returns SIM_TEST_CONTINUE, or the exit status of the process
	 * when the arguments ask for a helper mode (a file that re-executes itself as a child
	 * handles that child here).
	 */
	int (*process_setup)(int argc, char **argv);
	/* Around every test: setup may CHECK or REQUIRE; any failure there skips the body. */
	void (*setup)(void);
	void (*teardown)(void);
};

/* Defined by each test file (SIM_TEST_SUITE or by hand), read by sim_test_main.cc. */
extern const struct sim_test_suite sim_tests;

/*
 * sim_test_fail - record a failure of the running test at @file:@line with a printf-style
 * message. Used by the macros below; callable from any thread of the test process.
 */
void sim_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* sim_test_skip - mark the running test skipped, giving @why. Use SIM_TEST_SKIP. */
void sim_test_skip(const char *file, int line, const char *why);
/* sim_test_has_failure - nonzero once the running test (its setup included) has failed. */
int sim_test_has_failure(void);

#ifdef __cplusplus
}
#endif

#define SIM_TEST(func)                                                                             \
	{                                                                                          \
		.name = #func, .fn = func, .file = __FILE__, .line = __LINE__                      \
	}
#define SIM_TEST_COUNT(list) (sizeof(list) / sizeof((list)[0]))
#define SIM_TEST_SUITE(list)                                                                       \
	const struct sim_test_suite sim_tests = {.tests = (list), .count = SIM_TEST_COUNT(list)}

/* SIM_TEST_FAIL(fmt, ...) - record a failure here with a printf-style message, and go on. */
#define SIM_TEST_FAIL(...) sim_test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			sim_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);              \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_)                                                                      \
			sim_test_fail(__FILE__, __LINE__,                                          \
				      "CHECK_EQ(%s, %s): %#" PRIx64 " != %#" PRIx64, #a, #b, a_,   \
				      b_);                                                         \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			sim_test_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", #cond);            \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define REQUIRE_EQ(a, b)                                                                           \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_) {                                                                    \
			sim_test_fail(__FILE__, __LINE__,                                          \
				      "REQUIRE_EQ(%s, %s): %#" PRIx64 " != %#" PRIx64, #a, #b, a_, \
				      b_);                                                         \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define SIM_TEST_SKIP(why)                                                                         \
	do {                                                                                       \
		sim_test_skip(__FILE__, __LINE__, (why));                                          \
		return;                                                                            \
	} while (0)

#endif /* SIM_TEST_H */

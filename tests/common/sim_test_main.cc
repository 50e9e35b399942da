// SPDX-License-Identifier: MIT
//
// sim_test_main.cc - main() of every C unit test: registers the test file's table (sim_tests,
// sim_test.h) with GoogleTest, one test per C function, named "<executable>.<function>", and runs
// them with GoogleTest's flags (filter, XML output, repeat, shuffle, sharding).
//
// The C side reports failures through sim_test_fail(), which becomes a GoogleTest non-fatal
// failure at the C file and line, so the console and the XML carry them. The suite's setup and
// teardown hooks run as the fixture's SetUp and TearDown of every test; process_setup runs before
// GoogleTest sees the arguments. Single-threaded except for sim_test_fail, which GoogleTest lets
// any thread call.
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "sim_test.h"

namespace
{

class SimCTest : public testing::Test
{
      public:
	explicit SimCTest(const struct sim_test *test) : test_(test)
	{
	}

      protected:
	void SetUp() override
	{
		if (sim_tests.setup)
			sim_tests.setup();
	}

	void TearDown() override
	{
		if (sim_tests.teardown)
			sim_tests.teardown();
	}

	void TestBody() override
	{
		// The hooks report through sim_test_fail (non-fatal): a setup that failed or
		// skipped leaves nothing for the body to test.
		if (HasFailure() || IsSkipped())
			return;
		test_->fn();
	}

      private:
	const struct sim_test *test_;
};

// The suite name: the executable's file name, so "sim_test_mmu.test_walk" names one test of
// build/sim/tests/sim_test_mmu wherever it runs from.
std::string SuiteName(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : nullptr;
	const char *base = slash ? slash + 1 : argv0;

	return base && *base ? base : "sim_test";
}

} // namespace

// sim_test_fail - see sim_test.h.
extern "C" void sim_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap, ap2;
	std::string msg;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(nullptr, 0, fmt, ap);
	if (n > 0) {
		msg.resize(static_cast<size_t>(n) + 1);
		vsnprintf(&msg[0], msg.size(), fmt, ap2);
		msg.resize(static_cast<size_t>(n));
	}
	va_end(ap2);
	va_end(ap);
	ADD_FAILURE_AT(file, line) << msg;
}

// sim_test_skip - see sim_test.h. GTEST_SKIP() would name this line; ADD_FAILURE_AT's own
// building block names the caller's.
extern "C" void sim_test_skip(const char *file, int line, const char *why)
{
	GTEST_MESSAGE_AT_(file, line, why, testing::TestPartResult::kSkip);
}

// sim_test_has_failure - see sim_test.h.
extern "C" int sim_test_has_failure(void)
{
	return testing::Test::HasFailure();
}

int main(int argc, char **argv)
{
	std::set<std::string> names;
	std::string suite;

	if (sim_tests.process_setup) {
		int status = sim_tests.process_setup(argc, argv);

		if (status != SIM_TEST_CONTINUE)
			return status;
	}
	testing::InitGoogleTest(&argc, argv);
	suite = SuiteName(argv[0]);
	for (size_t i = 0; i < sim_tests.count; i++) {
		const struct sim_test *test = &sim_tests.tests[i];

		if (!names.insert(test->name).second) {
			fprintf(stderr, "%s:%d: %s is listed twice\n", test->file, test->line,
				test->name);
			return 2;
		}
		testing::RegisterTest(suite.c_str(), test->name, nullptr, nullptr, test->file,
				      test->line,
				      [test]() -> SimCTest * { return new SimCTest(test); });
	}
	return RUN_ALL_TESTS();
}

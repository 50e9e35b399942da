/* SPDX-License-Identifier: MIT */
/*
 * test_trace_calls.c - the shared table of recorded calls (traces/trace_calls.h): every id has a
 * row with a name and NULL-terminated key lists, the names are unique, the by-name index is in
 * strcmp order and holds every id once, and trace_call_find finds each name and nothing else
 * (prefixes, longer names, names with a NUL inside, NULL).
 */
#include <stdbool.h>
#include <string.h>

#include "sim_test.h"
#include "traces/trace_calls.h"

static void every_row_is_filled(void)
{
	for (int id = 0; id < TRACE_CALL_COUNT; id++) {
		const struct trace_call *c = &trace_calls[id];
		int n = 0;

		REQUIRE(c->name != NULL);
		CHECK(c->name[0] != '\0');
		while (n <= TRACE_CALL_MAX_ARGS && c->args[n])
			n++;
		CHECK(n <= TRACE_CALL_MAX_ARGS);
		n = 0;
		while (n <= TRACE_CALL_MAX_OUTS && c->outs[n])
			n++;
		CHECK(n <= TRACE_CALL_MAX_OUTS);
		for (int other = 0; other < id; other++)
			CHECK(strcmp(trace_calls[other].name, c->name) != 0);
	}
	/* The 45 entry points of magma.h (docs/trace-format.md "call"). */
	CHECK_EQ(TRACE_CALL_COUNT, 45);
}

static void index_is_sorted_and_complete(void)
{
	bool seen[TRACE_CALL_COUNT] = {false};

	for (int i = 0; i < TRACE_CALL_COUNT; i++) {
		int id = trace_calls_by_name[i];

		REQUIRE(id < TRACE_CALL_COUNT);
		CHECK(!seen[id]);
		seen[id] = true;
		if (i)
			CHECK(strcmp(trace_calls[trace_calls_by_name[i - 1]].name,
				     trace_calls[id].name) < 0);
	}
}

static void find_by_name(void)
{
	for (int id = 0; id < TRACE_CALL_COUNT; id++) {
		const char *name = trace_calls[id].name;

		CHECK_EQ(trace_call_find(name, strlen(name)), id);
		CHECK_EQ(trace_call_find(name, strlen(name) - 1), -1); /* a prefix */
	}
	CHECK_EQ(trace_call_find("flushes", 7), -1);
	CHECK_EQ(trace_call_find("flush\0x", 7), -1);
	CHECK_EQ(trace_call_find("flush\0x", 5), TRACE_CALL_FLUSH); /* only @len bytes count */
	CHECK_EQ(trace_call_find("", 0), -1);
	CHECK_EQ(trace_call_find(NULL, 0), -1);
	CHECK_EQ(trace_call_find("aaa", 3), -1);
	CHECK_EQ(trace_call_find("zzz", 3), -1);
}

static const struct sim_test tests[] = {
	SIM_TEST(every_row_is_filled),
	SIM_TEST(index_is_sorted_and_complete),
	SIM_TEST(find_by_name),
};
SIM_TEST_SUITE(tests);

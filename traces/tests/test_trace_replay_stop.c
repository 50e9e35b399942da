/* SPDX-License-Identifier: MIT */
/*
 * test_trace_replay_stop.c - looking inside a stopped replay (stop_at + on_stop, magma-view's
 * buffer view): traces/samples/fill.json fills 512 bytes of its data buffer (recorded id 2) with
 * round + 1 per round, so after the first completion event the first 512 bytes are 0x01 and,
 * after the fourth, [512k, 512k + 512) holds k + 1. Every bad id or range is an error status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim_test.h"
#include "traces/trace_replay.h"

#define FILL_DATA_ID	 2
#define FILL_DATA_SIZE	 8192
#define FILL_FIRST_DONE	 120 /* the completion event of round 0 */
#define FILL_LAST_DONE	 171 /* the completion event of round 3 */
#define FILL_RELEASED_AT 178 /* after release_buffer of the data buffer */

struct stop_probe {
	bool called;
	int size_ret, read_ret;
	uint64_t size;
	uint8_t data[FILL_DATA_SIZE];
	int errors[8];
};

static void probe_on_stop(void *ctx, const struct trace_replay_access *acc)
{
	struct stop_probe *p = ctx;
	uint64_t size;
	uint8_t b[16];

	p->called = true;
	p->size_ret =
		trace_replay_buffer_size(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID, &p->size);
	p->read_ret = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID, 0,
					       FILL_DATA_SIZE, p->data);
	/* bad ids, bad ranges, NULL arguments */
	p->errors[0] = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, 99, 0, 1, b);
	p->errors[1] = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID,
						FILL_DATA_SIZE, 1, b);
	p->errors[2] = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID,
						UINT64_MAX, 16, b);
	p->errors[3] = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID, 8,
						UINT64_MAX - 4, b);
	p->errors[4] = trace_replay_read_buffer(acc, 12345, FILL_DATA_ID, 0, 1, b);
	p->errors[5] =
		trace_replay_read_buffer(NULL, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID, 0, 1, b);
	p->errors[6] =
		trace_replay_buffer_size(acc, TRACE_REPLAY_ANY_CONNECTION, FILL_DATA_ID, NULL);
	p->errors[7] = trace_replay_buffer_size(acc, TRACE_REPLAY_ANY_CONNECTION, 0, &size);
}

static int run_to(uint64_t stop_at, struct stop_probe *p, struct trace_replay_result *res)
{
	struct trace_replay_options o;
	char path[256];

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "%s/fill.json", TRACE_SAMPLES_DIR);
	trace_replay_default_options(&o);
	o.stop_at = stop_at;
	o.on_stop = probe_on_stop;
	o.stop_ctx = p;
	return trace_replay_run(path, &o, res);
}

static void check_errors(const struct stop_probe *p)
{
	CHECK_EQ(p->errors[0], -ENOENT);
	CHECK_EQ(p->errors[1], -EINVAL);
	CHECK_EQ(p->errors[2], -EINVAL);
	CHECK_EQ(p->errors[3], -EINVAL);
	CHECK_EQ(p->errors[4], -ENOENT);
	CHECK_EQ(p->errors[5], -EINVAL);
	CHECK_EQ(p->errors[6], -EINVAL);
	CHECK_EQ(p->errors[7], -ENOENT);
}

/* After round 0's completion: the first 512 bytes hold the fill pattern 0x01. */
static void stop_after_first_fill(void)
{
	static struct stop_probe p;
	struct trace_replay_result res;

	REQUIRE_EQ(run_to(FILL_FIRST_DONE + 1, &p, &res), TRACE_REPLAY_OK);
	CHECK_EQ(res.stopped_at, FILL_FIRST_DONE + 1);
	REQUIRE(p.called);
	CHECK_EQ(p.size_ret, 0);
	CHECK_EQ(p.size, FILL_DATA_SIZE);
	REQUIRE_EQ(p.read_ret, 0);
	for (int i = 0; i < 512; i++)
		CHECK_EQ(p.data[i], 0x01);
	check_errors(&p);
}

/* After the last round: four 512-byte bands of 1, 2, 3, 4. */
static void stop_after_last_fill(void)
{
	static struct stop_probe p;
	struct trace_replay_result res;

	REQUIRE_EQ(run_to(FILL_LAST_DONE + 1, &p, &res), TRACE_REPLAY_OK);
	REQUIRE_EQ(p.read_ret, 0);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 512; i++)
			CHECK_EQ(p.data[512 * k + i], k + 1);
}

/* Once the trace released the buffer, it is gone: -ENOENT, and the replay still ends well. */
static void stop_after_release(void)
{
	static struct stop_probe p;
	struct trace_replay_result res;

	REQUIRE_EQ(run_to(FILL_RELEASED_AT, &p, &res), TRACE_REPLAY_OK);
	REQUIRE(p.called);
	CHECK_EQ(p.size_ret, -ENOENT);
	CHECK_EQ(p.read_ret, -ENOENT);
}

/* A stop past the end: on_stop is not called. */
static void stop_past_the_end(void)
{
	static struct stop_probe p;
	struct trace_replay_result res;

	REQUIRE_EQ(run_to(1000000, &p, &res), TRACE_REPLAY_OK);
	CHECK(!p.called);
	CHECK_EQ(res.stopped_at, UINT64_MAX);
}

static const struct sim_test tests[] = {
	SIM_TEST(stop_after_first_fill),
	SIM_TEST(stop_after_last_fill),
	SIM_TEST(stop_after_release),
	SIM_TEST(stop_past_the_end),
};
SIM_TEST_SUITE(tests);

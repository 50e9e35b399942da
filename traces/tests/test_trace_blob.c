/* SPDX-License-Identifier: MIT */
/*
 * test_trace_blob.c - digests and the blob codec: known FNV-1a values, round trips of literal,
 * zero-run and mixed contents at awkward sizes, and every kind of malformed blob text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test.h"
#include "traces/trace.h"

static void round_trip(const uint8_t *data, size_t len)
{
	char *text = trace_blob_encode(data, len);
	uint8_t *out = NULL;

	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ(trace_blob_decode(text, len, &out, NULL), 0);
	CHECK(out && !memcmp(out, data, len));
	free(out);
	free(text);
}

static void digest_known_values(void)
{
	char hex[17];
	uint64_t d;

	CHECK_EQ(trace_digest("", 0), 0xcbf29ce484222325ull);
	CHECK_EQ(trace_digest("a", 1), 0xaf63dc4c8601ec8cull);
	trace_digest_hex(0x0123456789abcdefull, hex);
	CHECK(!strcmp(hex, "0123456789abcdef"));
	CHECK_EQ(trace_digest_parse(hex, &d), 0);
	CHECK_EQ(d, 0x0123456789abcdefull);
	CHECK_EQ(trace_digest_parse("0123", &d), -EINVAL);
	CHECK_EQ(trace_digest_parse("0123456789abcdeg", &d), -EINVAL);
}

static void blob_round_trips(void)
{
	uint8_t buf[9000];

	for (size_t len = 0; len < 40; len++) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i * 31 + 1);
		round_trip(buf, len);
	}
	memset(buf, 0, sizeof(buf));
	round_trip(buf, sizeof(buf));
	round_trip(buf, 15); /* short zero run stays literal */
	buf[100] = 1;
	buf[117] = 2;
	buf[8999] = 3;
	round_trip(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (i / 50) % 2 ? 0 : (uint8_t)i;
	round_trip(buf, sizeof(buf));
}

static void blob_zero_runs_are_compact(void)
{
	uint8_t *zeros = calloc(1, 1 << 20);
	char *text = trace_blob_encode(zeros, 1 << 20);

	CHECK(text && !strcmp(text, "~1048576."));
	free(text);
	free(zeros);
}

static void blob_malformed(void)
{
	static const char *const bad[] = {"~",	  "~x.",  "~5",	  "~99.",   "AAA",
					  "A===", "AA=A", "!!!!", "AAAA~1."};
	static const size_t size[] = {1, 1, 5, 5, 3, 1, 2, 3, 3};
	uint8_t *out = NULL;
	size_t where = 99;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(trace_blob_decode(bad[i], size[i], &out, &where), -EINVAL);
	CHECK_EQ(trace_blob_decode("AAAA", 4, &out, &where), -EINVAL); /* size mismatch */
	CHECK_EQ(trace_blob_decode("AAAA", 3, &out, &where), 0);
	free(out);
}

int main(void)
{
	SIM_TEST_RUN(digest_known_values);
	SIM_TEST_RUN(blob_round_trips);
	SIM_TEST_RUN(blob_zero_runs_are_compact);
	SIM_TEST_RUN(blob_malformed);
	return SIM_TEST_DONE();
}

/* SPDX-License-Identifier: MIT */
/*
 * test_trace_blob.c - digests and the blob codec: known FNV-1a values, round trips of literal,
 * zero-run and mixed contents at awkward sizes (decoded whole, scanned, and streamed in odd
 * chunks), every kind of malformed blob text, and text that declares more than a limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test.h"
#include "traces/trace.h"

/* @text (blob text of @len bytes @data) scans to their size and digest, and streams back. */
static void scan_and_stream(const char *text, const uint8_t *data, size_t len)
{
	uint64_t size = 0, digest = 0;
	struct trace_blob_reader rd;
	uint8_t *streamed = malloc(len + 1);
	size_t done = 0, step = 1, n;

	CHECK_EQ(trace_blob_scan(text, len, &size, &digest, NULL), 0);
	CHECK_EQ(size, len);
	CHECK_EQ(digest, trace_digest(data, len));
	if (len)
		CHECK_EQ(trace_blob_scan(text, len - 1, &size, NULL, NULL), -EFBIG);
	REQUIRE(streamed != NULL);
	trace_blob_reader_init(&rd, text);
	while ((n = trace_blob_read(&rd, streamed + done, step)) > 0) {
		done += n;
		step = step * 3 % 17 + 1; /* 1..17 bytes at a time */
	}
	CHECK_EQ(done, len);
	CHECK(!memcmp(streamed, data, len));
	free(streamed);
}

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
	scan_and_stream(text, data, len);
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
	CHECK_EQ(trace_digest_more(trace_digest("ab", 2), "c", 1), trace_digest("abc", 3));
	CHECK_EQ(trace_digest_more(TRACE_DIGEST_INIT, "", 0), trace_digest("", 0));
}

static void blob_round_trips(void)
{
	uint8_t buf[9000] = {0};

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

/* Zero runs are counted, never materialised: 4 GiB of zeros scans at once, to the right digest. */
static void blob_scan_huge_zero_runs(void)
{
	uint64_t size = 0, digest = 0;
	size_t where = 0;

	CHECK_EQ(trace_blob_scan("~4294967296.", UINT64_MAX, &size, &digest, NULL), 0);
	CHECK_EQ(size, 1ull << 32);
	CHECK_EQ(digest, 0x4714be7884222325ull); /* FNV-1a of 2^32 zero bytes */
	CHECK_EQ(trace_blob_scan("AAAA~4294967296.", 1ull << 32, &size, NULL, &where), -EFBIG);
	CHECK_EQ(where, 4);
	CHECK_EQ(trace_blob_scan("~99999999999999999999999.", UINT64_MAX, &size, NULL, NULL),
		 -EFBIG);
	/* A decode that the text cannot satisfy allocates nothing of the declared size. */
	CHECK_EQ(trace_blob_decode("~16.", SIZE_MAX / 2, NULL, &where), -EINVAL);
	CHECK_EQ(trace_blob_decode("~4294967296.", 16, NULL, &where), -EINVAL);
	CHECK_EQ(where, 0);
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

static const struct sim_test tests[] = {
	SIM_TEST(digest_known_values),
	SIM_TEST(blob_round_trips),
	SIM_TEST(blob_zero_runs_are_compact),
	SIM_TEST(blob_scan_huge_zero_runs),
	SIM_TEST(blob_malformed),
};
SIM_TEST_SUITE(tests);

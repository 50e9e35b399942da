/* SPDX-License-Identifier: MIT */
/*
 * test_trace_bad_input.c - magma-replay's reader against damaged traces: missing, empty,
 * truncated (mid-line and at a line boundary), invalid JSON, future version, wrong format,
 * missing fields, wrong types, unknown calls and event types, corrupt blobs, binary garbage.
 * Each must give TRACE_REPLAY_BAD_INPUT with a message naming the line (the file, for a missing
 * or binary file), and never crash. Also a changed completion digest (a divergence, reported
 * with the first differing byte) and the --stop-at and --from options. The damaged files are made
 * from samples/write.json in a private directory under /tmp.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_test.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

static char *sample;	     /* samples/write.json */
static char dir[64];	     /* private scratch directory */
static char path[128];	     /* the current damaged file */
static const char *made[64]; /* files written into dir */
static int made_count;

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *text;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static void put(const char *name, const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (made_count < 64)
		made[made_count++] = name;
	f = fopen(path, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

/* Writes the sample with the first occurrence of @from replaced by @to. */
static int put_replaced(const char *name, const char *from, const char *to)
{
	char *at = strstr(sample, from), *text;
	size_t n = strlen(sample), fl = strlen(from), tl = strlen(to);

	if (!at)
		return -1;
	text = malloc(n - fl + tl + 1);
	memcpy(text, sample, (size_t)(at - sample));
	memcpy(text + (at - sample), to, tl);
	strcpy(text + (at - sample) + tl, at + fl);
	put(name, text, strlen(text));
	free(text);
	return 0;
}

static int run(struct trace_replay_result *res)
{
	struct trace_replay_options o;

	trace_replay_default_options(&o);
	return trace_replay_run(path, &o, res);
}

/* Whole-file problems (cannot open, binary) have no line to name; all others must. */
static void expect_bad(const char *what, const char *needle)
{
	struct trace_replay_result res;
	int ret = run(&res);
	bool whole_file = !strcmp(needle, "cannot open") || !strcmp(needle, "NUL");

	if (ret != TRACE_REPLAY_BAD_INPUT || !strstr(res.message, needle) ||
	    (!whole_file && !strstr(res.message, "line")))
		fprintf(stderr, "%s: ret %d, message: %s\n", what, ret, res.message);
	CHECK_EQ(ret, TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(res.message, needle) != NULL);
	CHECK(whole_file || strstr(res.message, "line") != NULL);
}

static void missing_and_empty(void)
{
	snprintf(path, sizeof(path), "%s/does-not-exist.json", dir);
	expect_bad("missing", "cannot open");
	put("empty.json", "", 0);
	expect_bad("empty", "no header");
	put("garbage.bin",
	    "\x7f"
	    "ELF\x02\x01\x01\x00\x00\x00",
	    10);
	expect_bad("garbage", "NUL");
	put("text.txt", "hello\nworld\n", 12);
	expect_bad("text", "not a trace");
}

static void truncated(void)
{
	size_t n = strlen(sample);
	const char *end = strstr(sample, "\"type\":\"end\"");

	put("cut-mid-line.json", sample, n / 2 + 7);
	expect_bad("cut mid-line", "truncated");
	REQUIRE(end != NULL);
	while (end > sample && end[-1] != '\n')
		end--;
	put("cut-at-line.json", sample, (size_t)(end - sample));
	expect_bad("cut at a line", "truncated");
	put("no-trailer.json", sample, n - 3);
	expect_bad("no trailer", "]}");
}

static void header_problems(void)
{
	REQUIRE(!put_replaced("future.json", "\"version\":2", "\"version\":99"));
	expect_bad("future version", "newer than this reader");
	REQUIRE(!put_replaced("format.json", "magma-sim-trace", "other-trace"));
	expect_bad("format", "format");
	REQUIRE(!put_replaced("version-type.json", "\"version\":2", "\"version\":\"2\""));
	expect_bad("version type", "version");
}

static void event_problems(void)
{
	REQUIRE(!put_replaced("json.json", "{\"seq\":3,", "{\"seq\":3,,"));
	expect_bad("invalid JSON", "invalid JSON");
	REQUIRE(!put_replaced("seq.json", "{\"seq\":3,", "{\"seq\":4,"));
	expect_bad("seq", "seq");
	REQUIRE(!put_replaced("call.json", "\"call\":\"create_context\"",
			      "\"call\":\"frobnicate\""));
	expect_bad("unknown call", "unknown call");
	REQUIRE(!put_replaced("type.json", "\"type\":\"call\"", "\"type\":\"cal\""));
	expect_bad("unknown type", "unknown event type");
	REQUIRE(!put_replaced("result.json", ",\"result\":0,\"out\":{\"connection\"",
			      ",\"out\":{\"connection\""));
	expect_bad("missing result", "result");
	REQUIRE(!put_replaced("size.json", "\"size\":4096}", "\"size\":\"big\"}"));
	expect_bad("wrong type", "size");
	REQUIRE(!put_replaced("args.json", "\"args\":{\"connection\"",
			      "\"args\":[{\"connection\""));
	expect_bad("args not an object", "");
	REQUIRE(!put_replaced("neg.json", "\"hw_va\":1048576", "\"hw_va\":-1"));
	expect_bad("negative", "hw_va");
	REQUIRE(!put_replaced("notobj.json", "{\"seq\":3,", "[3,"));
	expect_bad("not an object", "");
}

static void blob_problems(void)
{
	REQUIRE(!put_replaced("blob-data.json", "\"data\":\"AQAD", "\"data\":\"AQAE"));
	expect_bad("blob content", "digest mismatch");
	REQUIRE(!put_replaced("blob-syntax.json", "\"data\":\"AQAD", "\"data\":\"A!AD"));
	expect_bad("blob syntax", "malformed");
	REQUIRE(!put_replaced("blob-ref.json", "\"contents\":\"",
			      "\"contents\":\"0000000000000000"));
	expect_bad("blob reference", "");
}

static void divergence(void)
{
	struct trace_replay_result res;
	uint8_t *zeros = calloc(1, 8192);
	char zero_hex[17], *line, *dig, *text;
	int ret;

	trace_digest_hex(trace_digest(zeros, 8192), zero_hex);
	free(zeros);
	text = strdup(sample);
	line = strstr(text, "\"type\":\"completion\"");
	REQUIRE(line != NULL);
	dig = strstr(strstr(line, "\"index\":1"), "\"digest\":\"");
	REQUIRE(dig != NULL);
	memcpy(dig + 10, zero_hex, 16);
	put("diverge.json", text, strlen(text));
	free(text);
	ret = run(&res);
	CHECK_EQ(ret, TRACE_REPLAY_DIVERGED);
	CHECK(strstr(res.message, "first difference at byte") != NULL);
	CHECK(strstr(res.message, "divergence at event") != NULL);
	printf("     (%s)\n", res.message);
}

static void window_and_stop(void)
{
	struct trace_replay_options o;
	struct trace_replay_result res;

	snprintf(path, sizeof(path), "%s/write.json", TRACE_SAMPLES_DIR);
	trace_replay_default_options(&o);
	o.stop_at = 70;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	CHECK_EQ(res.stopped_at, 70);
	trace_replay_default_options(&o);
	o.from = 100;
	o.to = 140;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	CHECK(res.completions >= 1);
}

int main(void)
{
	char sp[256];

	snprintf(sp, sizeof(sp), "%s/write.json", TRACE_SAMPLES_DIR);
	sample = slurp(sp);
	strcpy(dir, "/tmp/magma-trace-bad-XXXXXX");
	if (!sample || !mkdtemp(dir)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	SIM_TEST_RUN(missing_and_empty);
	SIM_TEST_RUN(truncated);
	SIM_TEST_RUN(header_problems);
	SIM_TEST_RUN(event_problems);
	SIM_TEST_RUN(blob_problems);
	SIM_TEST_RUN(divergence);
	SIM_TEST_RUN(window_and_stop);
	free(sample);
	for (int i = 0; i < made_count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
	rmdir(dir);
	return SIM_TEST_DONE();
}

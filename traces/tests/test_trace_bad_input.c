/* SPDX-License-Identifier: MIT */
/*
 * test_trace_bad_input.c - magma-replay's reader against damaged traces: missing, empty,
 * truncated (mid-line and at a line boundary), invalid JSON, future version, wrong format,
 * missing fields, wrong types, unknown calls and event types, corrupt blobs, binary garbage.
 * Each must give TRACE_REPLAY_BAD_INPUT with a message naming the line (the file, for a missing
 * or binary file), and never crash. Sizes: a few bytes of blob text that declare gigabytes (a
 * zero run larger than the range it fills, or than any limit), contents outside their buffer's
 * recorded size and buffers over the caller's limit are bad traces too, found without the
 * replay's memory growing by more than a few MiB. Also a changed completion digest (a
 * divergence, reported with the first differing byte), jobs that fault in the replay only
 * (reported at once, with what the trace says about the address), a host failure (never called
 * a divergence) and the --stop-at and --from options. The damaged files are made from
 * samples/write.json in a private directory under /tmp.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim_test.h"
#include "trace_test_util.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

static char *sample;	     /* samples/write.json */
static char dir[64];	     /* private scratch directory */
static char path[128];	     /* the current damaged file */
static const char *made[64]; /* files written into dir */
static int made_count;

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

/* Writes the sample with each @from[i] replaced by @to[i] (first occurrence, in order). */
static int put_edited(const char *name, size_t n, const char *const *from, const char *const *to)
{
	char *text = strdup(sample);

	for (size_t i = 0; text && i < n; i++) {
		char *at = strstr(text, from[i]), *next;
		size_t len = strlen(text), fl = strlen(from[i]), tl = strlen(to[i]);

		if (!at) {
			free(text);
			return -1;
		}
		next = malloc(len - fl + tl + 1);
		if (!next)
			break;
		memcpy(next, text, (size_t)(at - text));
		memcpy(next + (at - text), to[i], tl);
		strcpy(next + (at - text) + tl, at + fl);
		free(text);
		text = next;
	}
	if (text)
		put(name, text, strlen(text));
	free(text);
	return text ? 0 : -1;
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

/* A cut file replays its complete events and says where it ends (a crashed recording). */
static void expect_truncated(const char *what, uint64_t events, const char *needle)
{
	struct trace_replay_result res;
	int ret = run(&res);

	if (ret != TRACE_REPLAY_OK || !res.truncated || !strstr(res.warning, needle))
		fprintf(stderr, "%s: ret %d, message: %s, warning: %s\n", what, ret, res.message,
			res.warning);
	CHECK_EQ(ret, TRACE_REPLAY_OK);
	CHECK(res.truncated);
	CHECK_EQ(res.events, events);
	CHECK(strstr(res.warning, needle) != NULL);
	CHECK_EQ(res.message[0], '\0');
}

static void truncated(void)
{
	size_t n = strlen(sample);
	const char *end = strstr(sample, "\"type\":\"end\"");
	const char *mid = sample + n / 2 + 7;
	uint64_t complete = 0;

	/* The events before the line cut in the middle: count the newlines before it. */
	for (const char *p = strchr(sample, '\n') + 1; p < mid; p = strchr(p, '\n') + 1)
		if (strchr(p, '\n') < mid)
			complete++;
	put("cut-mid-line.json", sample, n / 2 + 7);
	expect_truncated("cut mid-line", complete, "cut short");
	REQUIRE(end != NULL);
	while (end > sample && end[-1] != '\n')
		end--;
	put("cut-at-line.json", sample, (size_t)(end - sample));
	expect_truncated("cut at a line", 202, "without the \"end\" event");
	put("no-trailer.json", sample, n - 3);
	expect_truncated("no trailer", 202, "]}");
	put("half-trailer.json", sample, n - 2);
	expect_truncated("half a trailer", 202, "]}");
	/* Cut inside the header: nothing to replay, a bad trace. */
	put("cut-header.json", sample, 20);
	expect_bad("cut in the header", "no header line");
}

/*
 * Every sample cut at many places (mid-line, at line ends, inside blobs) replays what is left
 * without a divergence and with a warning; never a crash.
 */
static void truncated_samples(void)
{
	static const char *const names[] = {"write", "copy", "fill", "compute"};

	for (int i = 0; i < 4; i++) {
		char sp[256], *text;
		size_t n, header;

		snprintf(sp, sizeof(sp), "%s/%s.json", TRACE_SAMPLES_DIR, names[i]);
		text = trace_test_read(sp);
		REQUIRE(text != NULL);
		n = strlen(text);
		header = (size_t)(strchr(text, '\n') - text) + 1;
		for (size_t cut = header; cut < n - 3; cut += (n - header) / 23 + 1) {
			struct trace_replay_result res;
			int ret;

			put("cut-sample.json", text, cut);
			ret = run(&res);
			if (ret != TRACE_REPLAY_OK || !res.truncated)
				fprintf(stderr, "%s cut at %zu of %zu: ret %d: %s\n", names[i], cut,
					n, ret, res.message);
			CHECK_EQ(ret, TRACE_REPLAY_OK);
			CHECK(res.truncated);
			CHECK(res.warning[0] != '\0');
		}
		free(text);
	}
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
	/* Ids past 2^64 were converted from double to uint64: undefined behaviour (fuzz_trace). */
	REQUIRE(!put_replaced("id-huge.json", "\"signal\":[1]", "\"signal\":[1e300]"));
	expect_bad("id past 2^64", "non-id");
	REQUIRE(!put_replaced("id-2-64.json", "\"signal\":[1]",
			      "\"signal\":[18446744073709551616]"));
	expect_bad("id of 2^64", "non-id");
	REQUIRE(!put_replaced("id-fraction.json", "\"signal\":[1]", "\"signal\":[1.5]"));
	expect_bad("fractional id", "non-id");
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

/* FNV-1a of @n zero bytes, computed here independently of the code under test. */
static uint64_t zeros_digest(uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull, p = 0x100000001b3ull;

	for (; n; n >>= 1, p *= p)
		if (n & 1)
			h *= p;
	return h;
}

/* The process's peak resident set in KiB. */
static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_maxrss;
}

/*
 * expect_bad, and the replay's peak memory grew by less than 64 MiB: the trace declares GiBs in
 * a few bytes, and an implementation that believed it would show here (or be killed).
 */
static void expect_bad_small(const char *what, const char *needle)
{
	long before = peak_rss_kib();

	expect_bad(what, needle);
	CHECK(peak_rss_kib() - before < 64 * 1024);
}

/* The write sample's 8 KiB data buffer (id 2) and the blob of zeros that fills it. */
#define WRITE_BLOB_8K "\"digest\":\"b9d103fd6854a325\",\"size\":8192,\"data\":\"~8192.\""
#define WRITE_RES_8K                                                                               \
	"{\"buffer_id\":2,\"offset\":0,\"length\":8192,\"contents\":\"b9d103fd6854a325\"}"

/*
 * Regression: one zero-run blob declaring 4 GiB used to cost 4 GiB and many seconds, and then
 * replayed (or reported running out of memory as a divergence). Each variant is a bad trace.
 */
static void size_amplification(void)
{
	char blob[160], res[160], blob_over[160];
	char hex[17];
	const char *from[2] = {WRITE_BLOB_8K, WRITE_RES_8K}, *to[2] = {blob, res};

	trace_digest_hex(zeros_digest(1ull << 32), hex);
	snprintf(blob, sizeof(blob),
		 "\"digest\":\"%s\",\"size\":4294967296,\"data\":\"~4294967296.\"", hex);
	snprintf(res, sizeof(res),
		 "{\"buffer_id\":2,\"offset\":0,\"length\":8192,\"contents\":\"%s\"}", hex);
	/* The 100-byte edit: size and data changed, digest left alone. */
	REQUIRE(!put_replaced("blob-4g-edit.json", WRITE_BLOB_8K,
			      "\"digest\":\"b9d103fd6854a325\",\"size\":4294967296,"
			      "\"data\":\"~4294967296.\""));
	expect_bad_small("4 GiB blob, old digest", "line 71");
	/* The same with a correct digest: the range it fills is 8 KiB. */
	REQUIRE(!put_edited("blob-4g.json", 2, from, to));
	expect_bad_small("4 GiB blob for an 8 KiB range", "holds 4294967296 bytes");
	expect_bad_small("4 GiB blob for an 8 KiB range", "(line 71)");
	/* Over any limit, named at the blob itself. */
	trace_digest_hex(zeros_digest((1ull << 32) + 1), hex);
	snprintf(blob_over, sizeof(blob_over),
		 "\"digest\":\"%s\",\"size\":4294967297,\"data\":\"~4294967297.\"", hex);
	REQUIRE(!put_replaced("blob-over.json", WRITE_BLOB_8K, blob_over));
	expect_bad_small("blob over the limit", "over the limit");
	/* Contents for a range past the end of the buffer the trace created. */
	REQUIRE(!put_replaced("range-outside.json", WRITE_RES_8K,
			      "{\"buffer_id\":2,\"offset\":4096,\"length\":8192,"
			      "\"contents\":\"b9d103fd6854a325\"}"));
	expect_bad_small("contents outside the buffer", "recorded size is 8192");
}

/* A caller's smaller limit applies to the buffers the trace creates. */
static void size_limit_option(void)
{
	struct trace_replay_options o;
	struct trace_replay_result res;

	snprintf(path, sizeof(path), "%s/write.json", TRACE_SAMPLES_DIR);
	trace_replay_default_options(&o);
	o.max_size = 4096;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(res.message, "create_buffer: recorded size 8192 is over the limit") != NULL);
	CHECK(strstr(res.message, "line 64") != NULL);
	o.max_size = 8192;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
}

/* A failure of the host is its own kind of error: exit 3, never worded as a divergence. */
static void host_error(void)
{
	struct trace_replay_options o;
	struct trace_replay_result res;

	snprintf(path, sizeof(path), "%s/write.json", TRACE_SAMPLES_DIR);
	trace_replay_default_options(&o);
	o.timeline = "/nonexistent-magma-sim-dir/timeline.json";
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_ENV_ERROR);
	CHECK(strstr(res.message, "replay error") == res.message);
	CHECK(strstr(res.message, "divergence") == NULL);
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

/* Replays with a long wait, so a fault that did not end the wait at once shows as a timeout. */
static int run_long_wait(struct trace_replay_result *res)
{
	struct trace_replay_options o;

	trace_replay_default_options(&o);
	o.wait_ns = 60ull * 1000 * 1000 * 1000;
	return trace_replay_run(path, &o, res);
}

/* A fault of the replayed job, reported at once with what the trace knows about its address. */
static void expect_fault(const char *what, const char *fault, const char *hint)
{
	struct trace_replay_result res;
	int ret = run_long_wait(&res);

	printf("     (%s: %s)\n", what, res.message);
	CHECK_EQ(ret, TRACE_REPLAY_DIVERGED);
	CHECK(strstr(res.message, "a replayed job faulted where the recording did not") != NULL);
	CHECK(strstr(res.message, fault) != NULL);
	CHECK(strstr(res.message, "at VA 0x200000") != NULL);
	CHECK(strstr(res.message, "in its WRITE32 command at VA 0x100000") != NULL);
	CHECK(strstr(res.message, "execute_command at event 70 (line 72)") != NULL);
	CHECK(strstr(res.message, hint) != NULL);
	CHECK(strstr(res.message, "not signaled") == NULL);
}

/*
 * The write sample's first command buffer stores to the data buffer at 0x200000. Moved
 * elsewhere, mapped read-only, or read-only and never listed as a resource, the replay's job
 * faults where the recording's did not.
 */
static void replay_faults(void)
{
	static const char data_map[] = "\"hw_va\":2097152,\"buffer\":94640424213488";
	static const char data_res[] =
		",{\"buffer_id\":2,\"offset\":0,\"length\":8192,\"contents\":\"b9d103fd6854a325\"}]";
	const char *from[2] = {"\"length\":8192,\"flags\":3}", data_res};
	const char *to[2] = {"\"length\":8192,\"flags\":1}", "]"};

	REQUIRE(!put_replaced("fault-unmapped.json", data_map,
			      "\"hw_va\":3145728,\"buffer\":94640424213488"));
	expect_fault("unmapped", "MMU_TRANSLATION (0x10)",
		     "hint: VA 0x200000 is in no range the trace mapped (map_buffer)");
	REQUIRE(!put_edited("fault-read-only.json", 1, from, to));
	expect_fault(
		"read-only", "MMU_PERMISSION (0x11)",
		"VA 0x200000 is at offset 0 of buffer id 2 (mapped at VA 0x200000 by event 64)");
	REQUIRE(!put_edited("fault-unlisted.json", 2, from, to));
	expect_fault("unlisted", "MMU_PERMISSION (0x11)",
		     "which no submission listed as a resource");
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
	/* Only what lies in the window counts as checked: two completions, not the first. */
	CHECK_EQ(res.completions, 2);
	CHECK_EQ(res.checked_submissions, 1);
	CHECK(res.checked_calls < res.calls);
	/* Without check_window, values past the end mean "to the end" (magma-view relies on it). */
	o.from = 0;
	o.to = 99999;
	o.stop_at = 99999;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	CHECK_EQ(res.completions, 4);
}

/* With check_window, from, to and stop_at must fit the trace's 202 events. */
static void window_must_fit(void)
{
	static const struct {
		uint64_t from, to, stop_at;
		const char *message;
	} bad[] = {
		{99999, UINT64_MAX, UINT64_MAX,
		 "--from 99999 is past the trace's last event: it has 202 events (0 to 201)"},
		{202, UINT64_MAX, UINT64_MAX, "--from 202 is past"},
		{0, 202, UINT64_MAX, "--to 202 is past the trace's last event"},
		{150, 100, UINT64_MAX, "--from 150 is after --to 100"},
		{0, UINT64_MAX, 203, "--stop-at 203 is past the trace's end: it has 202 events"},
	};
	struct trace_replay_options o;
	struct trace_replay_result res;

	snprintf(path, sizeof(path), "%s/write.json", TRACE_SAMPLES_DIR);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trace_replay_default_options(&o);
		o.check_window = true;
		o.from = bad[i].from;
		o.to = bad[i].to;
		o.stop_at = bad[i].stop_at;
		CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_BAD_OPTIONS);
		CHECK(strstr(res.message, "bad options: ") == res.message);
		CHECK(strstr(res.message, bad[i].message) != NULL);
	}
	/* The edges: the first and last event, a stop before the end. */
	trace_replay_default_options(&o);
	o.check_window = true;
	o.from = 0;
	o.to = 201;
	o.stop_at = 202;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	CHECK_EQ(res.stopped_at, 202);
}

/* Every test gets the sample and a fresh scratch directory... */
static void setup(void)
{
	char sp[256];

	snprintf(sp, sizeof(sp), "%s/write.json", TRACE_SAMPLES_DIR);
	sample = trace_test_read(sp);
	REQUIRE(sample != NULL);
	strcpy(dir, "/tmp/magma-trace-bad-XXXXXX");
	if (!mkdtemp(dir)) {
		SIM_TEST_FAIL("mkdtemp(%s) failed", dir);
		dir[0] = '\0';
	}
}

/* ...which goes, with every file the test made in it. */
static void teardown(void)
{
	free(sample);
	sample = NULL;
	for (int i = 0; i < made_count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
	made_count = 0;
	if (dir[0])
		rmdir(dir);
	dir[0] = '\0';
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(missing_and_empty),
	SIM_TEST(truncated),
	SIM_TEST(truncated_samples),
	SIM_TEST(header_problems),
	SIM_TEST(event_problems),
	SIM_TEST(blob_problems),
	SIM_TEST(size_amplification),
	SIM_TEST(size_limit_option),
	SIM_TEST(host_error),
	SIM_TEST(divergence),
	SIM_TEST(replay_faults),
	SIM_TEST(window_and_stop),
	SIM_TEST(window_must_fit),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

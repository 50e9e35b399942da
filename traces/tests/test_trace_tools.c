/* SPDX-License-Identifier: MIT */
/*
 * test_trace_tools.c - the library under magma-trace (trace_tool.h): command-line numbers, the
 * line reader on good and damaged files, the PNG writer (read back by a small decoder of stored
 * deflate blocks, every CRC and the Adler-32 checked), the replay's semaphore state at a stop,
 * and the subcommands run in-process: trim round trips on every sample at several cuts (the
 * output replays with the range's completions), diff of a sample against itself and against
 * edited copies, dump of known bytes. The command-line behaviour (messages, exit statuses of
 * every bad input) is tests/trace_tools.sh's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_test.h"
#include "trace_tool.h"
#include "traces/trace_replay.h"

static const char *const samples[] = {"write", "copy", "fill", "compute"};

static const char *sample_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.json", TRACE_SAMPLES_DIR, name);
	return buf;
}

/* A scratch file name under $TMPDIR (or /tmp), unique to this process, into @buf. */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(buf, size, "%s/trace-tools-test-%d-%s", dir, (int)getpid(), name);
	return buf;
}

/* Runs a subcommand with standard output thrown away; returns its exit status. */
static int run_quiet(int (*fn)(int, char **), int argc, const char **argv)
{
	int saved, devnull, ret;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || devnull < 0)
		return -1;
	dup2(devnull, STDOUT_FILENO);
	close(devnull);
	ret = fn(argc, (char **)argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return ret;
}

/* Copies the sample @name to @dst, with the first @from replaced by @to when @from != NULL. */
static bool copy_edited(const char *name, const char *dst, const char *from, const char *to)
{
	char src[256], *text, *at;
	FILE *f = fopen(sample_path(name, src, sizeof(src)), "r"), *out;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return false;
	text = calloc(1, (size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(text);
		return false;
	}
	fclose(f);
	out = fopen(dst, "w");
	at = from ? strstr(text, from) : NULL;
	if (!out || (from && !at)) {
		if (out)
			fclose(out);
		free(text);
		return false;
	}
	if (at) {
		fwrite(text, 1, (size_t)(at - text), out);
		fputs(to, out);
		fputs(at + strlen(from), out);
	} else {
		fputs(text, out);
	}
	free(text);
	return !fclose(out);
}

static void parse_numbers(void)
{
	uint64_t v = 7;

	CHECK(tt_parse_u64("0", &v) && v == 0);
	CHECK(tt_parse_u64("120", &v) && v == 120);
	CHECK(tt_parse_u64("0x10", &v) && v == 16);
	CHECK(tt_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	CHECK(!tt_parse_u64("18446744073709551616", &v));
	CHECK(!tt_parse_u64("", &v));
	CHECK(!tt_parse_u64(NULL, &v));
	CHECK(!tt_parse_u64("-1", &v));
	CHECK(!tt_parse_u64("+1", &v));
	CHECK(!tt_parse_u64(" 1", &v));
	CHECK(!tt_parse_u64("12x", &v));
	CHECK(!tt_parse_u64("abc", &v));
	CHECK(!tt_parse_u64("0x", &v));
}

/* Every sample reads to its end event; the end event's count agrees with the tail read. */
static void reader_reads_samples(void)
{
	char path[256];

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct tt_reader rd;
		uint64_t events = 0, blobs = 0, offset = 0, line = 0;
		int ret;

		REQUIRE_EQ(tt_reader_open(&rd, sample_path(samples[i], path, sizeof(path))), 0);
		while (!(ret = tt_reader_next(&rd)) && rd.type != TT_END) {
			blobs += rd.type == TT_BLOB;
			if (rd.index == 100) {
				offset = rd.offset;
				line = rd.line_no;
			}
		}
		CHECK_EQ(ret, 0);
		CHECK(rd.ended);
		CHECK(tt_trace_event_count(path, &events));
		CHECK_EQ(events, rd.index);
		CHECK(blobs > 0);
		/* Seeking back to event 100 reads it again. */
		REQUIRE_EQ(tt_reader_seek(&rd, offset, line, 100), 0);
		REQUIRE_EQ(tt_reader_next(&rd), 0);
		CHECK_EQ(rd.index, 100);
		CHECK_EQ(tt_u64(rd.ev, "seq"), 100);
		tt_reader_close(&rd);
		tt_reader_close(&rd); /* twice is harmless */
	}
}

/* Reads @path to the end; returns the status and leaves the message in @msg. */
static int read_all(const char *path, char *msg, size_t size)
{
	struct tt_reader rd;
	int ret = tt_reader_open(&rd, path);

	while (!ret && !(ret = tt_reader_next(&rd)) && rd.type != TT_END)
		;
	snprintf(msg, size, "%s", ret ? rd.error : "");
	tt_reader_close(&rd);
	return ret;
}

static void reader_rejects_bad_files(void)
{
	static const struct {
		const char *from, *to, *says;
	} edits[] = {
		{"\"version\":2", "\"version\":3", "newer than this reader"},
		{"\"format\":\"magma-sim-trace\"", "\"format\":\"other\"", "\"format\" is not"},
		{"{\"seq\":5,", "{\"seq\":6,", "\"seq\" missing or not 5"},
		{"\"type\":\"dev\"", "\"type\":\"nonsense\"", "unknown event type"},
		{"{\"seq\":7,", "{\"seq\":7,,", "invalid JSON"},
		{"]}\n", "]}\ntrailing garbage\n", "data after the end"},
		{"{\"seq\":202,\"type\":\"end\",\"events\":202}\n]}\n", "", "truncated"},
		{"]}\n", "", "must be followed by"},
		{"{\"seq\":3,\"type\":\"dev\",\"cycle\":0,\"ev\":\"REG_WRITE\",\"unit\":-1,\"code\":56,"
		 "\"value\":33554432,\"value2\":0,\"name\":\"GPU_IRQ_MASK\"}",
		 "[3]", "must be a JSON object"},
	};
	char buf[256], msg[1024];
	const char *path = tmp_path("bad.json", buf, sizeof(buf));
	FILE *f;

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		REQUIRE(copy_edited("compute", path, edits[i].from, edits[i].to));
		CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
		if (!strstr(msg, edits[i].says) || !strstr(msg, "line "))
			SIM_TEST_FAIL("edit %zu: message \"%s\" does not say \"%s\"", i, msg,
				      edits[i].says);
	}
	/* cut in the middle of a line */
	REQUIRE(copy_edited("compute", path, NULL, NULL));
	REQUIRE_EQ(truncate(path, 5000), 0);
	CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(msg, "cut short") != NULL);
	CHECK(!tt_trace_event_count(path, &(uint64_t){0}));
	/* a NUL byte, an empty file, not JSON at all, a missing file */
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n{\"seq\":0,\"ty", f);
	fputc('\0', f);
	fputs("pe\":\"end\",\"events\":0}\n]}\n", f);
	fclose(f);
	CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(msg, "NUL") != NULL);
	f = fopen(path, "w");
	REQUIRE(f);
	fclose(f);
	CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(msg, "no header") != NULL);
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("hello world\n", f);
	fclose(f);
	CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(msg, "not a trace") != NULL);
	unlink(path);
	CHECK_EQ(read_all(path, msg, sizeof(msg)), TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(msg, "cannot open") != NULL);
}

/* ---- PNG: a decoder for what tt_png writes (stored blocks only) ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Checks @png (@len bytes): signature, chunk CRCs, IHDR against @w x @h of @color, the zlib
 * stream's stored blocks and Adler-32, and that the rows are @rows (filter 0 each).
 */
static void check_png(const uint8_t *png, size_t len, uint32_t w, uint32_t h,
		      enum tt_png_color color, const uint8_t *rows)
{
	size_t row = (size_t)w * tt_png_channels(color), raw_len = 0, p = 8;
	uint8_t *idat = malloc(len), *raw = malloc(len);
	size_t idat_len = 0, q;
	uint32_t a = 1, b = 0;
	bool iend = false;

	REQUIRE(idat && raw);
	REQUIRE(len > 8 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8));
	while (p + 12 <= len && !iend) {
		uint32_t n = be32(png + p);

		REQUIRE(p + 12 + n <= len);
		CHECK_EQ(tt_crc32(0, png + p + 4, 4 + n), be32(png + p + 8 + n));
		if (!memcmp(png + p + 4, "IHDR", 4)) {
			CHECK_EQ(be32(png + p + 8), w);
			CHECK_EQ(be32(png + p + 12), h);
			CHECK_EQ(png[p + 16], 8);
			CHECK_EQ(png[p + 17], color);
		} else if (!memcmp(png + p + 4, "IDAT", 4)) {
			memcpy(idat + idat_len, png + p + 8, n);
			idat_len += n;
		}
		iend = !memcmp(png + p + 4, "IEND", 4);
		p += 12 + n;
	}
	CHECK(iend);
	CHECK_EQ(p, len);
	REQUIRE(idat_len >= 2 + 4);
	CHECK_EQ((idat[0] * 256 + idat[1]) % 31, 0);
	for (q = 2;;) {
		uint8_t final = idat[q] & 1;
		uint16_t n = (uint16_t)(idat[q + 1] | idat[q + 2] << 8);
		uint16_t nn = (uint16_t)(idat[q + 3] | idat[q + 4] << 8);

		CHECK_EQ(idat[q] >> 1, 0); /* BTYPE 00: stored */
		CHECK_EQ((uint16_t)~n, nn);
		REQUIRE(q + 5 + n <= idat_len);
		memcpy(raw + raw_len, idat + q + 5, n);
		raw_len += n;
		q += 5 + n;
		if (final)
			break;
	}
	CHECK_EQ(q + 4, idat_len);
	for (size_t i = 0; i < raw_len; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	CHECK_EQ(be32(idat + q), b << 16 | a);
	REQUIRE_EQ(raw_len, (size_t)h * (row + 1));
	for (uint32_t y = 0; y < h; y++) {
		CHECK_EQ(raw[y * (row + 1)], 0);
		CHECK(!memcmp(raw + y * (row + 1) + 1, rows + y * row, row));
	}
	free(idat);
	free(raw);
}

static void png_one(uint32_t w, uint32_t h, enum tt_png_color color)
{
	size_t row = (size_t)w * tt_png_channels(color), len;
	uint8_t *pixels = malloc(row * h), *file;
	struct tt_png png;
	FILE *f = tmpfile();
	long n;

	REQUIRE(pixels && f);
	for (size_t i = 0; i < row * h; i++)
		pixels[i] = (uint8_t)(i * 7 + i / 251);
	REQUIRE_EQ(tt_png_begin(&png, f, w, h, color), 0);
	CHECK_EQ(tt_png_end(&png), -EINVAL); /* no rows yet: refused, and freed */
	rewind(f);
	REQUIRE_EQ(tt_png_begin(&png, f, w, h, color), 0);
	for (uint32_t y = 0; y < h; y++)
		REQUIRE_EQ(tt_png_row(&png, pixels + y * row), 0);
	CHECK_EQ(tt_png_row(&png, pixels), -EINVAL); /* one too many */
	REQUIRE_EQ(tt_png_end(&png), 0);
	fflush(f);
	n = ftell(f);
	REQUIRE(n > 0);
	len = (size_t)n;
	file = malloc(len);
	rewind(f);
	REQUIRE(file && fread(file, 1, len, f) == len);
	check_png(file, len, w, h, color, pixels);
	free(file);
	free(pixels);
	fclose(f);
}

static void png_round_trip(void)
{
	struct tt_png png;

	png_one(1, 1, TT_PNG_GRAY8);
	png_one(7, 5, TT_PNG_RGB8);
	png_one(300, 300, TT_PNG_RGBA8); /* 360 KB: several stored blocks */
	png_one(16383, 1, TT_PNG_RGBA8); /* 65533 bytes: the row ends one byte short of a block */
	CHECK_EQ(tt_png_begin(&png, stdout, 0, 1, TT_PNG_GRAY8), -EINVAL);
	CHECK_EQ(tt_png_begin(&png, stdout, 1, 0, TT_PNG_GRAY8), -EINVAL);
	CHECK_EQ(tt_png_begin(&png, stdout, 0x80000000u, 1, TT_PNG_GRAY8), -EINVAL);
	/* The CRC of "IEND" from the PNG specification. */
	CHECK_EQ(tt_crc32(0, "IEND", 4), 0xae426082u);
}

/* ---- the replay's semaphore state at a stop (trace_replay_semaphore_wait) ---- */

struct sem_probe {
	int at_stop, unknown, null_access;
};

static void sem_on_stop(void *ctx, const struct trace_replay_access *acc)
{
	struct sem_probe *p = ctx;

	p->at_stop = trace_replay_semaphore_wait(acc, TRACE_REPLAY_ANY_CONNECTION, 1, 0);
	p->unknown = trace_replay_semaphore_wait(acc, TRACE_REPLAY_ANY_CONNECTION, 99, 0);
	p->null_access = trace_replay_semaphore_wait(NULL, TRACE_REPLAY_ANY_CONNECTION, 1, 0);
}

/* Runs fill.json to @stop_at with the probe, by the recorded connection of its semaphore. */
static int sem_run(uint64_t stop_at, struct sem_probe *p)
{
	struct trace_replay_options o;
	struct trace_replay_result res;
	char path[256];

	memset(p, 0x55, sizeof(*p));
	trace_replay_default_options(&o);
	o.stop_at = stop_at;
	o.on_stop = sem_on_stop;
	o.stop_ctx = p;
	return trace_replay_run(sample_path("fill", path, sizeof(path)), &o, &res);
}

static void semaphore_state_at_stop(void)
{
	struct sem_probe p;

	/*
	 * fill.json: the semaphore (id 1) is signaled by the job polled at event 119, reset at
	 * event 121 and released at event 175.
	 */
	REQUIRE_EQ(sem_run(121, &p), TRACE_REPLAY_OK);
	CHECK_EQ(p.at_stop, 0);
	CHECK_EQ(p.unknown, -ENOENT);
	CHECK_EQ(p.null_access, -EINVAL);
	REQUIRE_EQ(sem_run(122, &p), TRACE_REPLAY_OK);
	CHECK_EQ(p.at_stop, -ETIMEDOUT);
	REQUIRE_EQ(sem_run(176, &p), TRACE_REPLAY_OK);
	CHECK_EQ(p.at_stop, -ENOENT);
}

/* The same through the connection handle the trace recorded. */
struct sem_probe_conn {
	uint64_t conn;
	int before_reset, after_reset, after_release;
	int which;
};

static void sem_conn_on_stop(void *ctx, const struct trace_replay_access *acc)
{
	struct sem_probe_conn *p = ctx;
	int r = trace_replay_semaphore_wait(acc, p->conn, 1, 0);

	if (p->which == 0)
		p->before_reset = r;
	else if (p->which == 1)
		p->after_reset = r;
	else
		p->after_release = r;
}

static void semaphore_state_by_connection(void)
{
	struct sem_probe_conn p = {0};
	struct trace_replay_options o;
	struct trace_replay_result res;
	struct tt_reader rd;
	char path[256];
	const uint64_t stops[3] = {121, 122, 176};

	sample_path("fill", path, sizeof(path));
	REQUIRE_EQ(tt_reader_open(&rd, path), 0);
	while (!tt_reader_next(&rd) && rd.type != TT_END)
		if (rd.type == TT_CALL && !strcmp(tt_str(rd.ev, "call"), "create_semaphore"))
			p.conn = tt_u64(tt_member(rd.ev, "args"), "connection");
	tt_reader_close(&rd);
	REQUIRE(p.conn);
	for (p.which = 0; p.which < 3; p.which++) {
		trace_replay_default_options(&o);
		o.stop_at = stops[p.which];
		o.on_stop = sem_conn_on_stop;
		o.stop_ctx = &p;
		REQUIRE_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	}
	CHECK_EQ(p.before_reset, 0);
	CHECK_EQ(p.after_reset, -ETIMEDOUT);
	CHECK_EQ(p.after_release, -ENOENT);
}

/* ---- subcommands in-process ---- */

/* Completions in [@from, @to] of @path whose submission is in the range too. */
static uint64_t range_completions(const char *path, uint64_t from, uint64_t to)
{
	struct tt_reader rd;
	uint64_t n = 0;

	if (tt_reader_open(&rd, path))
		return UINT64_MAX;
	while (!tt_reader_next(&rd) && rd.type != TT_END)
		n += rd.type == TT_COMPLETION && rd.index >= from && rd.index <= to &&
		     tt_u64(rd.ev, "submission") >= from;
	tt_reader_close(&rd);
	return n;
}

/* trim N..M, then the output replays with every completion of the range checked. */
static void trim_round_trips(void)
{
	static const uint64_t cuts[][2] = {{0, 201},   {0, 60},	   {58, 120},  {68, 119}, {70, 125},
					   {119, 171}, {121, 201}, {150, 160}, {201, 201}};
	char buf[256], path[256], from[24], to[24];
	const char *out = tmp_path("trim.json", buf, sizeof(buf));

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
			const char *argv[] = {"trim", "--from",
					      from,   "--to",
					      to,     sample_path(samples[i], path, sizeof(path)),
					      out};
			struct trace_replay_options o;
			struct trace_replay_result res;
			int ret;

			snprintf(from, sizeof(from), "%" PRIu64, cuts[k][0]);
			snprintf(to, sizeof(to), "%" PRIu64, cuts[k][1]);
			ret = run_quiet(trace_tool_trim, 7, argv);
			if (ret) {
				SIM_TEST_FAIL("trim %s %s..%s: exit %d", samples[i], from, to, ret);
				continue;
			}
			trace_replay_default_options(&o);
			ret = trace_replay_run(out, &o, &res);
			if (ret != TRACE_REPLAY_OK)
				SIM_TEST_FAIL("trim %s %s..%s: replay %d: %s", samples[i], from, to,
					      ret, res.message);
			CHECK_EQ(res.completions, range_completions(path, cuts[k][0], cuts[k][1]));
		}
	}
	unlink(out);
}

static void diff_self_and_edited(void)
{
	char buf[256], path[256], copy[256];
	const char *edited = tmp_path("edited.json", buf, sizeof(buf));
	const char *argv[] = {"diff", NULL, NULL};

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		argv[1] = argv[2] = sample_path(samples[i], path, sizeof(path));
		CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 0);
	}
	/* Handles are compared by order of appearance: renaming one everywhere changes nothing. */
	tmp_path("renamed.json", copy, sizeof(copy));
	{
		char from[256], *text = NULL;
		FILE *f;
		long n;

		f = fopen(sample_path("compute", from, sizeof(from)), "r");
		REQUIRE(f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 &&
			!fseek(f, 0, SEEK_SET));
		text = calloc(1, (size_t)n + 1);
		REQUIRE(text && fread(text, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
		f = fopen(copy, "w");
		REQUIRE(f);
		for (char *p = text, *at; *p; p = at + 14) {
			at = strstr(p, "93850281757360"); /* the connection handle */
			if (!at) {
				fputs(p, f);
				break;
			}
			fwrite(p, 1, (size_t)(at - p), f);
			fputs("11111111111111", f);
		}
		fclose(f);
		free(text);
	}
	argv[1] = sample_path("compute", path, sizeof(path));
	argv[2] = copy;
	CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 0);
	/* A changed argument, a changed status: they differ. */
	REQUIRE(copy_edited("compute", edited, "\"hw_va\":2097152,", "\"hw_va\":2101248,"));
	argv[2] = edited;
	CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 1);
	REQUIRE(copy_edited(
		"compute", edited,
		"\"call\":\"flush\",\"args\":{\"connection\":93850281757360},\"result\":0",
		"\"call\":\"flush\",\"args\":{\"connection\":93850281757360},\"result\":-2"));
	CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 1);
	/* Different samples differ; a damaged file is bad input. */
	argv[2] = sample_path("fill", copy, sizeof(copy));
	CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 1);
	REQUIRE(copy_edited("compute", edited, "]}\n", ""));
	argv[2] = edited;
	CHECK_EQ(run_quiet(trace_tool_diff, 3, argv), 2);
	unlink(edited);
	unlink(tmp_path("renamed.json", copy, sizeof(copy)));
}

/* fill.json's data buffer after the first and last rounds (see test_trace_replay_stop.c). */
static void dump_known_bytes(void)
{
	char buf[256], path[256];
	const char *out = tmp_path("dump.bin", buf, sizeof(buf));
	const char *argv[] = {"dump",	  sample_path("fill", path, sizeof(path)),
			      "--at",	  "120",
			      "--buffer", "2",
			      "--raw",	  "-o",
			      out};
	uint8_t data[8192];
	FILE *f;

	REQUIRE_EQ(run_quiet(trace_tool_dump, 9, argv), 0);
	f = fopen(out, "rb");
	REQUIRE(f);
	CHECK_EQ(fread(data, 1, sizeof(data) + 1, f), sizeof(data));
	fclose(f);
	for (int i = 0; i < 512; i++)
		CHECK_EQ(data[i], 1);
	argv[3] = "171";
	REQUIRE_EQ(run_quiet(trace_tool_dump, 9, argv), 0);
	f = fopen(out, "rb");
	REQUIRE(f);
	CHECK_EQ(fread(data, 1, sizeof(data), f), sizeof(data));
	fclose(f);
	for (int k = 0; k < 4; k++)
		CHECK_EQ(data[512 * k + 100], k + 1);
	/* an unknown buffer, a released one, an event beyond the trace: exit 2, no file left */
	argv[5] = "7";
	CHECK_EQ(run_quiet(trace_tool_dump, 9, argv), 2);
	CHECK(access(out, F_OK) != 0);
	argv[5] = "2";
	argv[3] = "190";
	CHECK_EQ(run_quiet(trace_tool_dump, 9, argv), 2);
	argv[3] = "203";
	CHECK_EQ(run_quiet(trace_tool_dump, 9, argv), 2);
	unlink(out);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(parse_numbers),
	SIM_TEST(reader_reads_samples),
	SIM_TEST(reader_rejects_bad_files),
	SIM_TEST(png_round_trip),
	SIM_TEST(semaphore_state_at_stop),
	SIM_TEST(semaphore_state_by_connection),
	SIM_TEST(trim_round_trips),
	SIM_TEST(diff_self_and_edited),
	SIM_TEST(dump_known_bytes),
};
/* clang-format on */
SIM_TEST_SUITE(tests);

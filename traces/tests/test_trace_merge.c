/* SPDX-License-Identifier: MIT */
/*
 * test_trace_merge.c - magma-trace merge (traces/trace_merge.c) on hand-written traces: a client
 * recording and a daemon recording whose host times, connections and jobs are chosen so that
 * every rule of the merge shows in one exact expected output (device events by time, a device
 * event first on a tie, a job never before the call that submitted it, other clients' jobs and
 * events outside the session left out, seq and completion renumbering, the job's connection and
 * submission in client terms, device created/destroyed around them), the same output twice, and
 * every refusal (exit 2 or 3, a message naming the problem, no OUT left behind). The end to end
 * run against a real magma-simd is tests/trace_merge.sh's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_test.h"
#include "trace_test_util.h"
#include "trace_tool.h"
#include "traces/trace_replay.h"

/* How a test varies the two recordings from the good pair. */
struct variant {
	uint64_t daemon_ns_offset;   /* added to every daemon stamp */
	const char *instance;	     /* the daemon's (the client's is ...aa) */
	uint64_t shared_id_base;     /* the daemon's CONNECTION_OPENED of the client's */
	bool client_dev_event;	     /* the client has a dev event (an embedded recording) */
	bool client_no_clock;	     /* no "clock" in the client's header */
	bool client_no_id_base;	     /* create_connection without id_base */
	bool daemon_unstamped_event; /* a dev event without "ns" */
	bool daemon_cut;	     /* the daemon's file ends without its end event */
};

#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			SIM_TEST_FAIL(__VA_ARGS__);                                                \
	} while (0)
#define REQUIRE_MSG(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			SIM_TEST_FAIL(__VA_ARGS__);                                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static const struct variant good = {.instance = "00000000000000aa", .shared_id_base = 4097};

/* A scratch file name under $TMPDIR (or /tmp), unique to this process, into @buf. */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(buf, size, "%s/trace-merge-test-%d-%s", dir, (int)getpid(), name);
	return buf;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = false;
	return ok;
}

/*
 * The client: imports the daemon's device (instance ...aa), opens connection 8 (first object id
 * 4097), submits an execute_command (stamped 2000) and an execute_inline (6000), polls (5000)
 * and gets the first's completion.
 */
static bool write_client(const char *path, const struct variant *v)
{
	char text[4096];

	snprintf(
		text, sizeof(text),
		"{\"format\":\"magma-sim-trace\",\"version\":2,\"writer\":\"libmagma\",\"digest\":"
		"\"fnv1a64\",%s\"pid\":100,\"events\":[\n"
		"{\"seq\":0,\"type\":\"call\",\"call\":\"device_import\",\"args\":{\"channel\":3},"
		"\"result\":0,\"out\":{\"device\":7},\"instance\":\"00000000000000aa\",\"ns\":1000},\n"
		"{\"seq\":1,\"type\":\"call\",\"call\":\"create_connection\",\"args\":{\"device\":7},"
		"\"result\":0,\"out\":{\"connection\":8}%s,\"ns\":1100},\n"
		"{\"seq\":2,\"type\":\"call\",\"call\":\"create_context\",\"args\":{\"connection\":8,"
		"\"priority\":256},\"result\":0,\"out\":{\"context\":1},\"ns\":1200},\n"
		"{\"seq\":3,\"type\":\"%s\",\"digest\":\"af63bd4c8601b7df\",\"size\":1,\"data\":"
		"\"AA==\"%s},\n"
		"{\"seq\":4,\"type\":\"call\",\"call\":\"execute_command\",\"args\":{\"connection\":8,"
		"\"context\":1,\"flags\":0,\"resources\":[],\"command_buffers\":[],\"wait\":[],"
		"\"signal\":[9]},\"result\":0,\"out\":{},\"ns\":2000},\n"
		"{\"seq\":5,\"type\":\"call\",\"call\":\"poll\",\"args\":{\"items\":[{\"type\":1,"
		"\"object\":9,\"condition\":3}],\"timeout_ns\":1000},\"result\":0,\"out\":{"
		"\"results\":[3]},\"ns\":5000},\n"
		"{\"seq\":6,\"type\":\"completion\",\"connection\":8,\"submission\":4,\"resources\":[],"
		"\"ns\":5100},\n"
		"{\"seq\":7,\"type\":\"call\",\"call\":\"execute_inline\",\"args\":{\"connection\":8,"
		"\"context\":1,\"commands\":[]},\"result\":0,\"out\":{},\"ns\":6000},\n"
		"{\"seq\":8,\"type\":\"call\",\"call\":\"connection_release\",\"args\":{"
		"\"connection\":8},\"out\":{},\"ns\":9000},\n"
		"{\"seq\":9,\"type\":\"end\",\"events\":9,\"ns\":9500}\n"
		"]}\n",
		v->client_no_clock ? "" : "\"clock\":\"monotonic\",",
		v->client_no_id_base ? "" : ",\"id_base\":4097",
		v->client_dev_event ? "dev" : "blob",
		v->client_dev_event ? ",\"cycle\":1,\"ev\":\"POWER\"" : "");
	return write_file(path, text);
}

/* Appends one daemon event (its seq next, "ns" the stamp plus the variant's offset). */
static void daemon_line(char *text, size_t size, size_t *len, unsigned int *seq,
			const struct variant *v, uint64_t ns, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void daemon_line(char *text, size_t size, size_t *len, unsigned int *seq,
			const struct variant *v, uint64_t ns, const char *fmt, ...)
{
	va_list ap;

	*len += (size_t)snprintf(text + *len, size - *len, "{\"seq\":%u,", (*seq)++);
	va_start(ap, fmt);
	*len += (size_t)vsnprintf(text + *len, size - *len, fmt, ap);
	va_end(ap);
	if (v->daemon_unstamped_event && *seq == 6)
		*len += (size_t)snprintf(text + *len, size - *len, "},\n");
	else
		*len += (size_t)snprintf(text + *len, size - *len, ",\"ns\":%" PRIu64 "},\n",
					 ns + v->daemon_ns_offset);
}

/*
 * The daemon: a register write before the session, another client's connection 1 and job, the
 * client's connection 2 (id_base 4097) with a job per submission (the first stamped before the
 * call that submitted it; the second faults), an interrupt stamped exactly with the poll, and a
 * register write after the session.
 */
static bool write_daemon(const char *path, const struct variant *v)
{
	char text[8192];
	size_t len = 0;
	unsigned int seq = 0;

	len += (size_t)snprintf(text, sizeof(text),
				"{\"format\":\"magma-sim-trace\",\"version\":2,\"writer\":"
				"\"magma-simd\",\"digest\":\"fnv1a64\",\"clock\":\"monotonic\","
				"\"pid\":50,\"daemon\":{\"device\":0,\"devices\":1,\"socket\":"
				"\"/s/magma0\",\"instance\":\"%s\"},\"events\":[\n",
				v->instance);
#define DEV(ns, ...) daemon_line(text, sizeof(text), &len, &seq, v, ns, __VA_ARGS__)
	DEV(10, "\"type\":\"device\",\"event\":\"created\",\"device\":0");
	DEV(20, "\"type\":\"dev\",\"cycle\":5,\"ev\":\"REG_WRITE\",\"unit\":-1,\"code\":36,"
		"\"value\":2,\"value2\":0,\"name\":\"GPU_COMMAND\"");
	DEV(500, "\"type\":\"dev\",\"cycle\":6,\"ev\":\"CONNECTION_OPENED\",\"unit\":-1,\"code\":0,"
		 "\"value\":0,\"value2\":0,\"name\":\"other\",\"connection\":1,\"pid\":200,"
		 "\"id_base\":1");
	DEV(1150,
	    "\"type\":\"dev\",\"cycle\":7,\"ev\":\"CONNECTION_OPENED\",\"unit\":-1,\"code\":0,"
	    "\"value\":0,\"value2\":0,\"name\":\"me\",\"connection\":2,\"pid\":100,"
	    "\"id_base\":%" PRIu64,
	    v->shared_id_base);
	DEV(1500, "\"type\":\"dev\",\"cycle\":100,\"ev\":\"JOB_START\",\"unit\":1,\"code\":2,"
		  "\"value\":4096,\"value2\":1,\"name\":\"\",\"connection\":1,\"submission\":1");
	DEV(1900, "\"type\":\"dev\",\"cycle\":110,\"ev\":\"REG_WRITE\",\"unit\":-1,\"code\":4120,"
		  "\"value\":1,\"value2\":0,\"name\":\"Q0_DOORBELL\"");
	DEV(1950, "\"type\":\"dev\",\"cycle\":120,\"ev\":\"JOB_START\",\"unit\":0,\"code\":1,"
		  "\"value\":1048576,\"value2\":1,\"name\":\"\",\"connection\":2,\"submission\":1");
	DEV(2500, "\"type\":\"dev\",\"cycle\":130,\"ev\":\"JOB_END\",\"unit\":0,\"code\":0,"
		  "\"value\":1048576,\"value2\":1,\"name\":\"\",\"connection\":2,\"submission\":1");
	DEV(5000, "\"type\":\"dev\",\"cycle\":140,\"ev\":\"IRQ_RAISE\",\"unit\":-1,\"code\":1,"
		  "\"value\":1,\"value2\":0,\"name\":\"\"");
	DEV(6100, "\"type\":\"dev\",\"cycle\":200,\"ev\":\"JOB_START\",\"unit\":0,\"code\":1,"
		  "\"value\":2097152,\"value2\":2,\"name\":\"\",\"connection\":2,\"submission\":2");
	DEV(6200, "\"type\":\"dev\",\"cycle\":250,\"ev\":\"FAULT\",\"unit\":0,\"code\":16,"
		  "\"value\":2097152,\"value2\":1,\"name\":\"\",\"connection\":2,\"submission\":2");
	DEV(6300, "\"type\":\"dev\",\"cycle\":260,\"ev\":\"JOB_END\",\"unit\":0,\"code\":16,"
		  "\"value\":2097152,\"value2\":2,\"name\":\"\",\"connection\":2,\"submission\":2");
	DEV(9100,
	    "\"type\":\"dev\",\"cycle\":270,\"ev\":\"CONNECTION_CLOSED\",\"unit\":-1,"
	    "\"code\":0,\"value\":0,\"value2\":0,\"name\":\"me\",\"connection\":2,\"pid\":100,"
	    "\"id_base\":4097");
	DEV(9600, "\"type\":\"dev\",\"cycle\":280,\"ev\":\"REG_WRITE\",\"unit\":-1,\"code\":36,"
		  "\"value\":2,\"value2\":0,\"name\":\"GPU_COMMAND\"");
	if (!v->daemon_cut) {
		DEV(9700,
		    "\"type\":\"device\",\"event\":\"destroyed\",\"device\":0,\"cycles\":280");
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"{\"seq\":%u,\"type\":\"end\",\"events\":%u,\"ns\":%" PRIu64
					"}\n]}\n",
					seq, seq, 9800 + v->daemon_ns_offset);
	}
#undef DEV
	return len < sizeof(text) && write_file(path, text);
}

/* What merging the good pair writes after the header line. */
static const char expected_events[] =
	"{\"seq\":0,\"type\":\"device\",\"event\":\"created\",\"device\":0,\"ns\":1000},\n"
	"{\"seq\":1,\"type\":\"call\",\"call\":\"device_import\",\"args\":{\"channel\":3},"
	"\"result\":0,\"out\":{\"device\":7},\"instance\":\"00000000000000aa\",\"ns\":1000},\n"
	"{\"seq\":2,\"type\":\"call\",\"call\":\"create_connection\",\"args\":{\"device\":7},"
	"\"result\":0,\"out\":{\"connection\":8},\"id_base\":4097,\"ns\":1100},\n"
	"{\"seq\":3,\"type\":\"call\",\"call\":\"create_context\",\"args\":{\"connection\":8,"
	"\"priority\":256},\"result\":0,\"out\":{\"context\":1},\"ns\":1200},\n"
	"{\"seq\":4,\"type\":\"blob\",\"digest\":\"af63bd4c8601b7df\",\"size\":1,\"data\":\"AA==\"},"
	"\n"
	/* before the call by time */
	"{\"seq\":5,\"type\":\"dev\",\"cycle\":110,\"ev\":\"REG_WRITE\",\"unit\":-1,\"code\":4120,"
	"\"value\":1,\"value2\":0,\"name\":\"Q0_DOORBELL\",\"ns\":1900},\n"
	"{\"seq\":6,\"type\":\"call\",\"call\":\"execute_command\",\"args\":{\"connection\":8,"
	"\"context\":1,\"flags\":0,\"resources\":[],\"command_buffers\":[],\"wait\":[],"
	"\"signal\":[9]},\"result\":0,\"out\":{},\"ns\":2000},\n"
	/* stamped 1950, but after the call that submitted it */
	"{\"seq\":7,\"type\":\"dev\",\"cycle\":120,\"ev\":\"JOB_START\",\"unit\":0,\"code\":1,"
	"\"value\":1048576,\"value2\":1,\"name\":\"\",\"connection\":8,\"submission\":6,"
	"\"ns\":1950},\n"
	"{\"seq\":8,\"type\":\"dev\",\"cycle\":130,\"ev\":\"JOB_END\",\"unit\":0,\"code\":0,"
	"\"value\":1048576,\"value2\":1,\"name\":\"\",\"connection\":8,\"submission\":6,"
	"\"ns\":2500},\n"
	/* a tie: the device first */
	"{\"seq\":9,\"type\":\"dev\",\"cycle\":140,\"ev\":\"IRQ_RAISE\",\"unit\":-1,\"code\":1,"
	"\"value\":1,\"value2\":0,\"name\":\"\",\"ns\":5000},\n"
	"{\"seq\":10,\"type\":\"call\",\"call\":\"poll\",\"args\":{\"items\":[{\"type\":1,"
	"\"object\":9,\"condition\":3}],\"timeout_ns\":1000},\"result\":0,\"out\":{"
	"\"results\":[3]},\"ns\":5000},\n"
	"{\"seq\":11,\"type\":\"completion\",\"connection\":8,\"submission\":6,\"resources\":[],"
	"\"ns\":5100},\n"
	"{\"seq\":12,\"type\":\"call\",\"call\":\"execute_inline\",\"args\":{\"connection\":8,"
	"\"context\":1,\"commands\":[]},\"result\":0,\"out\":{},\"ns\":6000},\n"
	"{\"seq\":13,\"type\":\"dev\",\"cycle\":200,\"ev\":\"JOB_START\",\"unit\":0,\"code\":1,"
	"\"value\":2097152,\"value2\":2,\"name\":\"\",\"connection\":8,\"submission\":12,"
	"\"ns\":6100},\n"
	"{\"seq\":14,\"type\":\"dev\",\"cycle\":250,\"ev\":\"FAULT\",\"unit\":0,\"code\":16,"
	"\"value\":2097152,\"value2\":1,\"name\":\"\",\"connection\":8,\"submission\":12,"
	"\"ns\":6200},\n"
	"{\"seq\":15,\"type\":\"dev\",\"cycle\":260,\"ev\":\"JOB_END\",\"unit\":0,\"code\":16,"
	"\"value\":2097152,\"value2\":2,\"name\":\"\",\"connection\":8,\"submission\":12,"
	"\"ns\":6300},\n"
	"{\"seq\":16,\"type\":\"call\",\"call\":\"connection_release\",\"args\":{"
	"\"connection\":8},\"out\":{},\"ns\":9000},\n"
	"{\"seq\":17,\"type\":\"device\",\"event\":\"destroyed\",\"device\":0,\"cycles\":260,"
	"\"ns\":9500},\n"
	"{\"seq\":18,\"type\":\"end\",\"events\":18,\"ns\":9500}\n"
	"]}\n";

/*
 * Runs magma-trace merge with @argc/@argv (argv[0] "merge"), standard output thrown away and
 * standard error kept in @err (@size bytes). Returns the exit status.
 */
static int run_merge(char *err, size_t size, int argc, const char **argv)
{
	char path[256];
	int saved_out, saved_err, devnull, errfd, ret;
	ssize_t n;

	tmp_path("stderr", path, sizeof(path));
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	errfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (saved_out < 0 || saved_err < 0 || devnull < 0 || errfd < 0)
		return -1;
	dup2(devnull, STDOUT_FILENO);
	dup2(errfd, STDERR_FILENO);
	close(devnull);
	ret = trace_tool_merge(argc, (char **)argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	n = pread(errfd, err, size - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(errfd);
	unlink(path);
	return ret;
}

struct files {
	char client[256], daemon[256], out[256];
};

/* Writes the client and daemon recordings of @v; OUT is a name nothing holds yet. */
static bool make_files(struct files *f, const struct variant *v)
{
	tmp_path("client.json", f->client, sizeof(f->client));
	tmp_path("daemon.json", f->daemon, sizeof(f->daemon));
	tmp_path("out.json", f->out, sizeof(f->out));
	unlink(f->out);
	return write_client(f->client, v) && write_daemon(f->daemon, v);
}

static void remove_files(const struct files *f)
{
	unlink(f->client);
	unlink(f->daemon);
	unlink(f->out);
}

/* Merges the recordings of @v: the exit status is @want, stderr holds @message, no OUT. */
static void check_refused(const struct variant *v, int want, const char *message)
{
	struct files f;
	char err[2048];
	int ret;

	REQUIRE(make_files(&f, v));
	ret = run_merge(err, sizeof(err), 4, (const char *[]){"merge", f.client, f.daemon, f.out});
	CHECK_EQ(ret, want);
	CHECK_MSG(strstr(err, message) != NULL, "stderr \"%s\" lacks \"%s\"", err, message);
	CHECK_MSG(access(f.out, F_OK) != 0, "a failed merge left %s", f.out);
	remove_files(&f);
}

/* The good pair merges into exactly the expected trace, which the tools read. */
static void test_merge_exact(void)
{
	struct files f;
	char err[2048], *text, *events;
	struct tt_reader rd;
	int ret;

	REQUIRE(make_files(&f, &good));
	ret = run_merge(err, sizeof(err), 4, (const char *[]){"merge", f.client, f.daemon, f.out});
	REQUIRE_MSG(ret == 0, "exit %d: %s", ret, err);
	text = trace_test_read(f.out);
	REQUIRE(text);
	CHECK(strstr(text, "\"writer\":\"magma-trace merge\"") != NULL);
	CHECK(strstr(text, "\"socket\":\"/s/magma0\",\"instance\":\"00000000000000aa\"") != NULL);
	CHECK(strstr(text, "\"clock\":\"monotonic\",\"pid\":100") != NULL);
	events = strchr(text, '\n');
	REQUIRE(events);
	CHECK_MSG(!strcmp(events + 1, expected_events), "merged:\n%s\nexpected:\n%s", events + 1,
		  expected_events);
	free(text);
	/* The shape every tool checks: header, seq, types, end and trailer. */
	REQUIRE_EQ(tt_reader_open(&rd, f.out), 0);
	do {
		ret = tt_reader_next(&rd);
	} while (!ret && !rd.ended);
	CHECK_MSG(ret == 0, "%s", rd.error);
	tt_reader_close(&rd);
	remove_files(&f);
}

/* The same inputs give the same bytes. */
static void test_merge_deterministic(void)
{
	struct files f;
	char err[2048], out2[256], *a, *b;

	REQUIRE(make_files(&f, &good));
	tmp_path("out2.json", out2, sizeof(out2));
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, f.daemon, f.out}),
		 0);
	CHECK_EQ(
		run_merge(err, sizeof(err), 4, (const char *[]){"merge", f.client, f.daemon, out2}),
		0);
	a = trace_test_read(f.out);
	b = trace_test_read(out2);
	CHECK(a && b && !strcmp(a, b));
	free(a);
	free(b);
	unlink(out2);
	remove_files(&f);
}

/* Recordings that do not belong together, or cannot be used, are refused with exit 2. */
static void test_merge_mismatch(void)
{
	struct variant v;

	v = good;
	v.instance = "00000000000000bb";
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "never imported the device");
	v = good;
	v.shared_id_base = 999;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "holds none of the 1 connection(s)");
	v = good;
	v.daemon_ns_offset = 100000;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "do not overlap: not the same session");
	v = good;
	v.client_dev_event = true;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "has device events already");
	v = good;
	v.client_no_clock = true;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "has no host times");
	v = good;
	v.client_no_id_base = true;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "has no \"id_base\"");
	v = good;
	v.daemon_unstamped_event = true;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "line 7 (byte offset");
	v = good;
	v.daemon_cut = true;
	check_refused(&v, TRACE_REPLAY_BAD_INPUT, "without the \"end\" event: truncated");
}

/* Bad command lines and paths: swapped inputs, OUT an input, an unwritable OUT, not a trace. */
static void test_merge_arguments(void)
{
	struct files f;
	char err[2048], bad_out[300], *before, *after;

	REQUIRE(make_files(&f, &good));
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.daemon, f.client, f.out}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "the client's comes first") != NULL);
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, f.client, f.out}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "is not a magma-simd --trace recording") != NULL);
	before = trace_test_read(f.client);
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, f.daemon, f.client}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "is one of the inputs") != NULL);
	after = trace_test_read(f.client);
	CHECK(before && after && !strcmp(before, after));
	free(before);
	free(after);
	snprintf(bad_out, sizeof(bad_out), "%s.nodir/out.json", f.out);
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, f.daemon, bad_out}),
		 TRACE_REPLAY_ENV_ERROR);
	CHECK(strstr(err, "cannot create") != NULL);
	CHECK(write_file(f.daemon, "not a trace\n"));
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, f.daemon, f.out}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "not a trace") != NULL);
	CHECK_EQ(run_merge(err, sizeof(err), 4,
			   (const char *[]){"merge", f.client, "/nonexistent/d.json", f.out}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "cannot open /nonexistent/d.json") != NULL);
	CHECK_EQ(run_merge(err, sizeof(err), 3, (const char *[]){"merge", f.client, f.daemon}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "needs CLIENT DAEMON OUT") != NULL);
	CHECK_EQ(run_merge(err, sizeof(err), 5,
			   (const char *[]){"merge", f.client, f.daemon, f.out, "more"}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK_EQ(run_merge(err, sizeof(err), 2, (const char *[]){"merge", "--bogus"}),
		 TRACE_REPLAY_BAD_INPUT);
	CHECK(strstr(err, "unknown option '--bogus'") != NULL);
	CHECK_EQ(run_merge(err, sizeof(err), 2, (const char *[]){"merge", "--help"}), 0);
	CHECK(access(f.out, F_OK) != 0);
	remove_files(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_merge_exact),
	SIM_TEST(test_merge_deterministic),
	SIM_TEST(test_merge_mismatch),
	SIM_TEST(test_merge_arguments),
};
SIM_TEST_SUITE(tests);

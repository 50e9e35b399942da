/* SPDX-License-Identifier: MIT */
/*
 * witness_test.c - magma-witness end to end: a real magma-simd in a temporary directory, the
 * witness run against it as a separate process, its stdout protocol and exit status checked.
 * Each test that needs a daemon starts its own. The expected digest is computed here from
 * witness_work.c's CPU answer, so "round K DIGEST" is checked against the value, not only
 * against itself. Deadlines (WT_DEADLINE_NS) only guard against a hang; nothing bounds real time
 * from above. Paths come from the build: MAGMA_WITNESS_PATH, MAGMA_SIMD_PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim_test.h"
#include "witness_work.h"

#define WT_DEADLINE_NS (120ull * 1000000000ull)
#define WT_OUT_SIZE    65536

/* A magma-simd serving DIR/magma0. */
struct wt_daemon {
	char dir[64];
	char sock[96];
	pid_t pid;
};

/* What a witness run left: exit status (-1: did not exit by itself) and its stdout. */
struct wt_run {
	int status;
	char out[WT_OUT_SIZE];
	char err[WT_OUT_SIZE];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pause_ms(long ms)
{
	const struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits for child @pid up to WT_DEADLINE_NS: its exit status, or -1 (then it is killed). */
static int wait_child(pid_t pid)
{
	uint64_t deadline = now_ns() + WT_DEADLINE_NS;
	int status;

	while (now_ns() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		pause_ms(5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* The digest every ok round must print: the CPU's answer put through witness_work_digest. */
static void expected_digest(char *text, size_t size)
{
	static uint8_t data[WITNESS_DATA_SIZE];

	for (uint32_t r = WITNESS_RESULT_FIRST; r < WITNESS_REGION_COUNT; r++) {
		uint32_t *words = (uint32_t *)(data + (size_t)r * WITNESS_REGION_SIZE);

		for (uint32_t i = 0; i < WITNESS_WORDS; i++)
			words[i] = witness_work_expected((enum witness_region)r, i);
	}
	snprintf(text, size, "%016" PRIx64, witness_work_digest(data));
}

/* Starts a magma-simd (with fault plan @plan_json unless NULL) and waits for its socket. */
static bool daemon_start(struct wt_daemon *d, const char *plan_json)
{
	char plan[128] = "";
	struct stat st;

	snprintf(d->dir, sizeof(d->dir), "/tmp/witness-test-XXXXXX");
	if (!mkdtemp(d->dir))
		return false;
	snprintf(d->sock, sizeof(d->sock), "%s/magma0", d->dir);
	if (plan_json) {
		FILE *f;

		snprintf(plan, sizeof(plan), "%s/plan.json", d->dir);
		f = fopen(plan, "w");
		if (!f)
			return false;
		fputs(plan_json, f);
		fclose(f);
	}
	d->pid = fork();
	if (d->pid == 0) {
		if (plan_json)
			execl(MAGMA_SIMD_PATH, MAGMA_SIMD_PATH, "--dir", d->dir, "--foreground",
			      "--quiet", "--faults", plan, (char *)NULL);
		else
			execl(MAGMA_SIMD_PATH, MAGMA_SIMD_PATH, "--dir", d->dir, "--foreground",
			      "--quiet", (char *)NULL);
		_exit(127);
	}
	if (d->pid < 0)
		return false;
	for (uint64_t deadline = now_ns() + WT_DEADLINE_NS; now_ns() < deadline;) {
		if (stat(d->sock, &st) == 0)
			return true;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			return false;
		}
		pause_ms(5);
	}
	return false;
}

/* Stops the daemon (it removes its socket) and removes the directory. */
static void daemon_stop(struct wt_daemon *d)
{
	char plan[128];

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		CHECK_EQ(wait_child(d->pid), 0);
	}
	snprintf(plan, sizeof(plan), "%s/plan.json", d->dir);
	unlink(plan);
	rmdir(d->dir);
}

/* Reads all of @fd (from the start) into @buf, NUL-terminated. */
static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

/*
 * Runs magma-witness with @args (NULL-terminated, after argv[0]), standard input from /dev/null,
 * the environment variable MAGMA_SIM_DEVICE_DIR set to @device_dir (unset when NULL). A failure
 * (with both outputs) when it does not exit with @want_status.
 */
static void run_witness(const char *const *args, const char *device_dir, int want_status,
			struct wt_run *run)
{
	char out_path[] = "/tmp/witness-out-XXXXXX", err_path[] = "/tmp/witness-err-XXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
	char *argv[16] = {MAGMA_WITNESS_PATH};
	pid_t pid;

	memset(run, 0, sizeof(*run));
	run->status = -1;
	for (int i = 0; args[i] && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	if (out_fd < 0 || err_fd < 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		dup2(null_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		if (device_dir)
			setenv("MAGMA_SIM_DEVICE_DIR", device_dir, 1);
		else
			unsetenv("MAGMA_SIM_DEVICE_DIR");
		execv(MAGMA_WITNESS_PATH, argv);
		_exit(127);
	}
	if (pid > 0)
		run->status = wait_child(pid);
	read_all(out_fd, run->out, sizeof(run->out));
	read_all(err_fd, run->err, sizeof(run->err));
	if (run->status != want_status)
		SIM_TEST_FAIL("magma-witness exited %d, want %d; stdout:\n%sstderr:\n%s",
			      run->status, want_status, run->out, run->err);
out:
	if (out_fd >= 0)
		close(out_fd), unlink(out_path);
	if (err_fd >= 0)
		close(err_fd), unlink(err_path);
}

/*
 * Checks that @out is exactly @rounds lines "round K DIGEST" (K = 1..@rounds, the expected
 * digest) then "rounds N ok N lost 0 mismatch 0".
 */
static void check_ok_rounds(const char *out, uint32_t rounds)
{
	char digest[24], want[4096], line[64];

	expected_digest(digest, sizeof(digest));
	want[0] = '\0';
	for (uint32_t k = 1; k <= rounds; k++) {
		snprintf(line, sizeof(line), "round %" PRIu32 " %s\n", k, digest);
		strcat(want, line);
	}
	snprintf(line, sizeof(line), "rounds %" PRIu32 " ok %" PRIu32 " lost 0 mismatch 0\n",
		 rounds, rounds);
	strcat(want, line);
	if (strcmp(out, want))
		SIM_TEST_FAIL("stdout\n%swant\n%s", out, want);
}

/* --rounds 3 on a fresh daemon: three ok rounds with the expected digest, exit 0. */
static void test_rounds(void)
{
	const char *args[] = {"--device", NULL, "--rounds", "3", NULL};
	static struct wt_run run;
	struct wt_daemon d;

	REQUIRE(daemon_start(&d, NULL));
	args[1] = d.sock;
	run_witness(args, NULL, 0, &run);
	check_ok_rounds(run.out, 3);
	CHECK(strstr(run.err, "lanes per workgroup") != NULL); /* not --quiet */
	/* No --device: $MAGMA_SIM_DEVICE_DIR/magma0; --quiet leaves stderr empty. */
	{
		const char *env_args[] = {"--rounds", "2", "--quiet", NULL};

		run_witness(env_args, d.dir, 0, &run);
		check_ok_rounds(run.out, 2);
		CHECK_EQ(strlen(run.err), 0);
	}
	daemon_stop(&d);
}

/* --until-eof with standard input at EOF from the start: exactly one round. */
static void test_until_eof_closed(void)
{
	const char *args[] = {"--device", NULL, "--until-eof", "--quiet", NULL};
	static struct wt_run run;
	struct wt_daemon d;

	REQUIRE(daemon_start(&d, NULL));
	args[1] = d.sock;
	run_witness(args, NULL, 0, &run);
	check_ok_rounds(run.out, 1);
	daemon_stop(&d);
}

/*
 * --until-eof with standard input a pipe left open: rounds go on (the witness never blocks on
 * it) until the pipe is closed after round 3 was printed; then exactly one more round.
 */
static void test_until_eof_open(void)
{
	static char out[WT_OUT_SIZE];
	int in_pipe[2], out_pipe[2];
	struct wt_daemon d;
	size_t len = 0;
	bool closed = false;
	uint32_t last = 0, rounds = 0;
	char *p, digest[24], want[64];
	pid_t pid;

	REQUIRE(daemon_start(&d, NULL));
	REQUIRE(pipe(in_pipe) == 0 && pipe(out_pipe) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		close(in_pipe[1]);
		close(out_pipe[0]);
		execl(MAGMA_WITNESS_PATH, MAGMA_WITNESS_PATH, "--device", d.sock, "--until-eof",
		      "--quiet", (char *)NULL);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (write(in_pipe[1], "input is ignored\n", 17) != 17)
		CHECK(!"write to the witness's stdin");
	for (uint64_t deadline = now_ns() + WT_DEADLINE_NS; now_ns() < deadline;) {
		ssize_t n = read(out_pipe[0], out + len, sizeof(out) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
		if (!closed && strstr(out, "round 3 ")) {
			close(in_pipe[1]);
			closed = true;
		}
	}
	if (!closed)
		close(in_pipe[1]);
	close(out_pipe[0]);
	CHECK_EQ(wait_child(pid), 0);
	CHECK(closed);
	expected_digest(digest, sizeof(digest));
	for (p = out; !strncmp(p, "round ", 6); p = strchr(p, '\n') + 1) {
		uint32_t k = 0;
		char got[24] = "";

		CHECK(sscanf(p, "round %" SCNu32 " %23s", &k, got) == 2);
		CHECK_EQ(k, last + 1);
		CHECK(!strcmp(got, digest));
		last = k;
		rounds++;
		if (!strchr(p, '\n'))
			break;
	}
	CHECK(rounds >= 4);
	snprintf(want, sizeof(want), "rounds %" PRIu32 " ok %" PRIu32 " lost 0 mismatch 0\n",
		 rounds, rounds);
	CHECK(!strcmp(p, want));
	if (strcmp(p, want))
		fprintf(stderr, "stdout:\n%s", out);
	daemon_stop(&d);
}

/* A device that is not there, or not a socket: exit 4 with the status and a hint. */
static void test_bad_device(void)
{
	char dir[] = "/tmp/witness-test-XXXXXX", path[64];
	const char *args[] = {"--device", path, "--rounds", "1", NULL};
	static struct wt_run run;
	FILE *f;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/magma0", dir);
	run_witness(args, NULL, 4, &run);
	CHECK_EQ(strlen(run.out), 0);
	CHECK(strstr(run.err, "cannot open device") != NULL);
	CHECK(strstr(run.err, "CONNECTION_LOST") != NULL);
	CHECK(strstr(run.err, "magma-simd") != NULL);
	f = fopen(path, "w");
	REQUIRE(f);
	fclose(f);
	run_witness(args, NULL, 4, &run);
	unlink(path);
	rmdir(dir);
}

/* Unknown arguments, bad counts, no device: exit 2 with a pointer to --help. */
static void test_usage(void)
{
	const char *unknown[] = {"--device", "/nonexistent", "--bogus", NULL};
	const char *bad_count[] = {"--device", "/nonexistent", "--rounds", "0", NULL};
	const char *both[] = {"--device", "/nonexistent", "--rounds", "2", "--until-eof", NULL};
	const char *no_device[] = {"--rounds", "1", NULL};
	const char *version[] = {"--version", NULL};
	static struct wt_run run;

	run_witness(unknown, NULL, 2, &run);
	CHECK(strstr(run.err, "--bogus") && strstr(run.err, "--help"));
	CHECK_EQ(strlen(run.out), 0);
	run_witness(bad_count, NULL, 2, &run);
	run_witness(both, NULL, 2, &run);
	run_witness(no_device, NULL, 2, &run);
	CHECK(strstr(run.err, "MAGMA_SIM_DEVICE_DIR") != NULL);
	run_witness(version, NULL, 0, &run);
	CHECK(!strncmp(run.out, "magma-witness ", 14) && strchr(run.out, '\n'));
}

/* --help: exit 0, every option and the exit statuses on stdout. */
static void test_help(void)
{
	static const char *const mentions[] = {
		"--device",  "--rounds", "--until-eof",		 "--quiet",
		"--version", "--help",	 "MAGMA_SIM_DEVICE_DIR", "Exit status",
		"lost",	     "mismatch",
	};
	const char *args[] = {"--help", NULL};
	static struct wt_run run;

	run_witness(args, NULL, 0, &run);
	for (size_t i = 0; i < sizeof(mentions) / sizeof(mentions[0]); i++)
		if (!strstr(run.out, mentions[i]))
			SIM_TEST_FAIL("--help does not mention %s", mentions[i]);
}

/*
 * Faults in the witness's connections: the second submission of connection 1 faults (round 2
 * lost CONTEXT_KILLED), then connection 2's first map fails (round 3 lost MEMORY_ERROR while
 * opening); round 4 runs on connection 3 and is ok. Exit 3.
 */
static void test_lost(void)
{
	const char *args[] = {"--device", NULL, "--rounds", "4", NULL};
	static struct wt_run run;
	char digest[24], want[256];
	struct wt_daemon d;

	REQUIRE(daemon_start(
		&d, "{\"name\": \"witness\", \"faults\": [\n"
		    " {\"name\": \"second job faults\", \"kind\": \"mmu_fault\","
		    "  \"trigger\": {\"nth\": 2}, \"target\": {\"connection\": 1}},\n"
		    " {\"name\": \"map fails\", \"kind\": \"fail_call\","
		    "  \"call\": \"msd_connection_map_buffer\", \"status\": \"MEMORY_ERROR\","
		    "  \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 2}}]}\n"));
	args[1] = d.sock;
	run_witness(args, NULL, 3, &run);
	expected_digest(digest, sizeof(digest));
	snprintf(want, sizeof(want),
		 "round 1 %s\nround 2 lost CONTEXT_KILLED\nround 3 lost MEMORY_ERROR\n"
		 "round 4 %s\nrounds 4 ok 2 lost 2 mismatch 0\n",
		 digest, digest);
	if (strcmp(run.out, want))
		SIM_TEST_FAIL("stdout\n%swant\n%s", run.out, want);
	CHECK(strstr(run.err, "round 2: the driver reported fault MMU_TRANSLATION") != NULL);
	daemon_stop(&d);
}

/*
 * The check and the digest themselves (what the daemon cannot provoke: wrong results): the CPU's
 * answer passes; one flipped bit in OUT is found at its word and changes the digest; a stale
 * result left in a result page is cleared by witness_work_prepare.
 */
static void test_work(void)
{
	static uint8_t data[WITNESS_DATA_SIZE];
	struct witness_mismatch bad = {0};
	uint32_t *out = (uint32_t *)(data + (size_t)WITNESS_OUT * WITNESS_REGION_SIZE);
	uint64_t good;

	memset(data, 0xee, sizeof(data));
	witness_work_prepare(data);
	CHECK(!witness_work_check(data, &bad));
	CHECK_EQ(bad.region, WITNESS_FILLED);
	CHECK_EQ(bad.word, 0);
	CHECK_EQ(bad.got, 0); /* cleared, not 0xeeeeeeee */
	CHECK_EQ(bad.wrong_words, 3 * WITNESS_WORDS + 1);
	for (uint32_t r = WITNESS_RESULT_FIRST; r < WITNESS_REGION_COUNT; r++)
		for (uint32_t i = 0; i < WITNESS_WORDS; i++)
			((uint32_t *)(data + (size_t)r * WITNESS_REGION_SIZE))[i] =
				witness_work_expected((enum witness_region)r, i);
	REQUIRE(witness_work_check(data, &bad));
	good = witness_work_digest(data);
	out[77] ^= 0x100;
	CHECK(!witness_work_check(data, &bad));
	CHECK_EQ(bad.region, WITNESS_OUT);
	CHECK_EQ(bad.word, 77);
	CHECK_EQ(bad.got ^ bad.want, 0x100);
	CHECK_EQ(bad.wrong_words, 1);
	CHECK(witness_work_digest(data) != good);
	CHECK(!strcmp(witness_region_name(WITNESS_MARKER), "MARKER"));
}

/* A write to a child that is gone fails with EPIPE instead of killing the test. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_rounds),
	SIM_TEST(test_until_eof_closed),
	SIM_TEST(test_until_eof_open),
	SIM_TEST(test_bad_device),
	SIM_TEST(test_usage),
	SIM_TEST(test_help),
	SIM_TEST(test_lost),
	SIM_TEST(test_work),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

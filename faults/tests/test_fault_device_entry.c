/* SPDX-License-Identifier: MIT */
/*
 * test_fault_device_entry.c - the three ways to hand a device a fault plan, with no C.
 *
 * MAGMA_SIM_FAULTS for the embedded device, magma-simd --faults and magma-sim-run --faults: a
 * plan with an error is refused by each with one message naming the file, the line and the field,
 * and nothing starts (no embedded device, no socket, no command); a plan a device cannot apply
 * (kill_client at a cycle with nobody to kill) is refused the same way. A good plan given to
 * magma-simd applies to its devices for every client: a libmagma client sees fail_call and
 * mmu_fault as planned, a client process that connected by itself is killed by kill_client, the
 * daemon keeps serving, logs each firing in one line and answers MAGMA_SYSTEM_QUERY_FAULTS_FIRED.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_test_client.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "sim_test.h"

#define VICTIM_NAME "ftc-victim"

static const char *g_self;

/* A plan with a typo on its third line. */
static const char bad_plan[] = "{\"faults\": [\n"
			       "  {\"kind\": \"mmu_fault\",\n"
			       "   \"trigger\": {\"nht\": 2}}]}\n";
static const char bad_field[] = ":3: faults[0].trigger.nht: unknown member";

/* The contents of @path (at most @size - 1 bytes) into @out; "" when it cannot be read. */
static void read_file(const char *path, char *out, size_t size)
{
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, out, size - 1);
		close(fd);
	}
	out[n > 0 ? n : 0] = '\0';
}

/* A new empty file for captured output; its path in @path (64 bytes). -1 on failure. */
static int capture_file(char *path)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(path, 64, "%s/fault-err-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkstemp(path);
}

/* Runs @argv with stderr into a file; its exit code (-1: killed or not run) and @err. */
static int run(char *const argv[], char *err, size_t size)
{
	char path[64];
	int fd = capture_file(path), status = 0;
	uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	while (pid > 0 && waitpid(pid, &status, WNOHANG) != pid) {
		if (ftc_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	read_file(path, err, size);
	unlink(path);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ftc_embedded(@plan) with stderr captured into @err. */
static struct magma_system_embedded *embedded_capture(const char *plan, char *err, size_t size)
{
	struct magma_system_embedded *emb;
	char path[64];
	int fd = capture_file(path), saved = dup(2);

	if (fd < 0 || saved < 0)
		return NULL;
	fflush(stderr);
	dup2(fd, 2);
	emb = ftc_embedded(plan);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	read_file(path, err, size);
	unlink(path);
	return emb;
}

/* MAGMA_SIM_FAULTS with an error: no device, and a message naming file, line and field. */
static void test_env_bad_plan(void)
{
	char err[1024];

	CHECK(!embedded_capture(bad_plan, err, sizeof(err)));
	CHECK(strstr(err, "MAGMA_SIM_FAULTS: ") != NULL);
	CHECK(strstr(err, "/fault-plan-") != NULL); /* the file */
	CHECK(strstr(err, bad_field) != NULL);
}

/* A plan no device can apply is refused the same way, never half-applied. */
static void test_env_plan_a_device_cannot_apply(void)
{
	char err[1024];

	CHECK(!embedded_capture("{\"faults\": [\n"
				"  {\"kind\": \"kill_client\", \"trigger\": {\"cycle\": 1000}}]}",
				err, sizeof(err)));
	CHECK(strstr(err, ":2: faults[0].target: a kill_client at a cycle") != NULL);
	CHECK(!embedded_capture("{\"faults\": [{\"kind\": \"fail_alloc\",\n"
				" \"status\": \"BAD_STATE\", \"trigger\": {\"nth\": 1}}]}",
				err, sizeof(err)));
	CHECK(strstr(err, ":1: faults[0].status: a failed driver allocation") != NULL);
}

/* An empty MAGMA_SIM_FAULTS means no plan. */
static void test_env_empty_is_no_plan(void)
{
	struct magma_system_embedded *emb;

	setenv("MAGMA_SIM_FAULTS", "", 1);
	emb = magma_system_embedded_create(NULL);
	unsetenv("MAGMA_SIM_FAULTS");
	CHECK(emb != NULL);
	magma_system_embedded_destroy(emb);
}

/* magma-simd --faults with an error: exit 2 with the message, no socket. */
static void test_simd_bad_plan(void)
{
	char dir[] = "/tmp/fault-simd-XXXXXX", sock[64], err[1024];
	const char *plan = ftc_write_plan(bad_plan);
	char plan_path[256];
	struct stat st;

	REQUIRE(plan && mkdtemp(dir));
	snprintf(plan_path, sizeof(plan_path), "%s", plan);
	{
		char *argv[] = {MAGMA_SIMD_PATH, "--dir",   dir,	 "--foreground",
				"--faults",	 plan_path, (char *)NULL};

		CHECK_EQ(run(argv, err, sizeof(err)), 2);
	}
	CHECK(strstr(err, "magma-simd: --faults: ") != NULL);
	CHECK(strstr(err, plan_path) != NULL);
	CHECK(strstr(err, bad_field) != NULL);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	CHECK(stat(sock, &st) != 0);
	unlink(plan_path);
	rmdir(dir);
}

/* magma-sim-run --faults with an error: exit 2 with the message; the command never runs. */
static void test_sim_run_bad_plan(void)
{
	char dir[] = "/tmp/fault-run-XXXXXX", marker[64], script[128], err[1024];
	const char *plan = ftc_write_plan(bad_plan);
	char plan_path[256];
	struct stat st;

	REQUIRE(plan && mkdtemp(dir));
	snprintf(plan_path, sizeof(plan_path), "%s", plan);
	snprintf(marker, sizeof(marker), "%s/ran", dir);
	snprintf(script, sizeof(script), "touch %s", marker);
	{
		char *argv[] = {MAGMA_SIM_RUN_PATH, "--faults", plan_path, "--",
				"/bin/sh",	    "-c",	script,	   (char *)NULL};

		CHECK_EQ(run(argv, err, sizeof(err)), 2);
	}
	CHECK(strstr(err, "magma-sim-run: --faults: ") != NULL);
	CHECK(strstr(err, bad_field) != NULL);
	CHECK(stat(marker, &st) != 0);
	unlink(plan_path);
	rmdir(dir);
}

/* The victim (--victim-at SOCKET): connects by itself as VICTIM_NAME and works until killed. */
static int victim_main(const char *path)
{
	struct ftc_client c;
	magma_device_t dev;

	prctl(PR_SET_NAME, VICTIM_NAME);
	if (magma_device_import((magma_handle_t)ftc_connect(path), &dev) != MAGMA_STATUS_OK)
		return 10;
	if (ftc_open(dev, &c) != MAGMA_STATUS_OK)
		return 11;
	for (uint32_t i = 0; i < 10000; i++) {
		if (ftc_write(&c, i % 64, i) != MAGMA_STATUS_OK || ftc_wait(&c) != MAGMA_STATUS_OK)
			return 12;
	}
	return 0;
}

static uint64_t query(magma_device_t dev, uint64_t id)
{
	uint64_t v = ~0ull;

	if (magma_device_query(dev, id, NULL, &v) != MAGMA_STATUS_OK)
		return ~0ull;
	return v;
}

/* Counts the lines of @text holding @needle. */
static uint32_t count_lines_with(const char *text, const char *needle)
{
	uint32_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * magma-simd --faults with a good plan, and clients of its own: fail_call of connection 1, an
 * MMU fault on connection 2's first submission, and a client process killed at its sixth call;
 * the daemon serves a fourth connection afterwards and logged each firing.
 */
static void test_simd_applies_plan(void)
{
	char dir[] = "/tmp/fault-simd-XXXXXX", sock[64], log_path[64], plan_path[256];
	char log[16384];
	const char *plan = ftc_write_plan(
		"{\"name\": \"daemon\", \"faults\": [\n"
		" {\"name\": \"map fails\", \"kind\": \"fail_call\","
		"  \"call\": \"msd_connection_map_buffer\", \"status\": \"MEMORY_ERROR\","
		"  \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 1}},\n"
		" {\"name\": \"first job faults\", \"kind\": \"mmu_fault\","
		"  \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 2}},\n"
		" {\"name\": \"victim dies\", \"kind\": \"kill_client\","
		"  \"trigger\": {\"nth\": 6, \"of\": \"call\"},"
		"  \"target\": {\"process\": \"" VICTIM_NAME "\"}}]}\n");
	struct ftc_client c1, c2, c4;
	magma_device_t dev = 0;
	int log_fd, status;
	pid_t daemon, victim;
	struct stat st;

	REQUIRE(plan && mkdtemp(dir));
	snprintf(plan_path, sizeof(plan_path), "%s", plan);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	log_fd = capture_file(log_path);
	REQUIRE(log_fd >= 0);
	daemon = fork();
	if (daemon == 0) {
		dup2(log_fd, 2);
		execl(MAGMA_SIMD_PATH, MAGMA_SIMD_PATH, "--dir", dir, "--foreground", "--quiet",
		      "--faults", plan_path, (char *)NULL);
		_exit(127);
	}
	close(log_fd);
	for (uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;
	     stat(sock, &st) && ftc_now_ns() < deadline;)
		usleep(5000);
	CHECK(magma_device_import((magma_handle_t)ftc_connect(sock), &dev) == MAGMA_STATUS_OK);
	if (dev) {
		CHECK_EQ(ftc_open(dev, &c1), MAGMA_STATUS_MEMORY_ERROR); /* connection 1 */
		CHECK_EQ(ftc_open(dev, &c2), MAGMA_STATUS_OK);		 /* connection 2 */
		CHECK_EQ(ftc_write(&c2, 0, 1u), MAGMA_STATUS_OK);
		CHECK_EQ(ftc_wait(&c2), MAGMA_STATUS_CONTEXT_KILLED);
		CHECK_EQ(ftc_fault_code(&c2), SIM_FAULT_MMU_TRANSLATION);
		CHECK_EQ(query(dev, MAGMA_SYSTEM_QUERY_FAULTS_FIRED), 2);
		ftc_close(&c2);
		victim = fork();
		if (victim == 0) {
			execl(g_self, g_self, "--victim-at", sock, (char *)NULL);
			_exit(127);
		}
		status = ftc_wait_child(victim);
		CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CHECK_EQ(query(dev, MAGMA_SYSTEM_QUERY_FAULTS_FIRED), 3);
		CHECK_EQ(ftc_open(dev, &c4), MAGMA_STATUS_OK);
		CHECK_EQ(ftc_write(&c4, 0, 0x44u), MAGMA_STATUS_OK);
		CHECK_EQ(ftc_wait(&c4), MAGMA_STATUS_OK);
		CHECK_EQ(c4.cpu[0], 0x44u);
		ftc_close(&c4);
		magma_device_release(dev);
	}
	kill(daemon, SIGTERM);
	status = ftc_wait_child(daemon);
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_file(log_path, log, sizeof(log));
	CHECK(strstr(log, "faults[magma0]: plan \"daemon\": 3 fault(s) armed") != NULL);
	CHECK_EQ(count_lines_with(log, "faults[magma0]: \""), 3);
	CHECK(strstr(log, "\"map fails\" (fail_call) fired") != NULL);
	CHECK(strstr(log, "\"first job faults\" (mmu_fault) fired") != NULL);
	CHECK(strstr(log, "\"victim dies\" (kill_client) fired") != NULL);
	CHECK(strstr(log, "(SIGKILL)") != NULL);
	unlink(log_path);
	unlink(plan_path);
	rmdir(dir);
}

/* Re-executed with --victim-at WHEN: be the victim client. Otherwise keep our path for that, and
 * let a write to a closed socket fail with EPIPE. */
static int process_setup(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--victim-at"))
		return victim_main(argv[2]);
	g_self = argv[0];
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_env_bad_plan),
	SIM_TEST(test_env_plan_a_device_cannot_apply),
	SIM_TEST(test_env_empty_is_no_plan),
	SIM_TEST(test_simd_bad_plan),
	SIM_TEST(test_sim_run_bad_plan),
	SIM_TEST(test_simd_applies_plan),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

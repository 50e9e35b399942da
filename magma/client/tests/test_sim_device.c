/* SPDX-License-Identifier: MIT */
/*
 * test_sim_device.c - magma_sim_device_open (magma_sim/device.h) against a real magma-simd
 * (MAGMA_SIMD_PATH, started in a temporary directory): a daemon's socket opens and answers
 * queries; bad arguments, paths that name no socket (missing, a file, a directory, a FIFO, which
 * must not block), a directory the caller may not enter, sockets of another type, a stale
 * socket, a listener that is not a magma service, a daemon stopped (socket gone) and a daemon
 * killed (socket left behind) each give the documented status and errno, and no failure leaves
 * a file descriptor open.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim/device.h"
#include "magma_sim/status_name.h"
#include "sim_test.h"

#ifndef MAGMA_SIMD_PATH
#error "MAGMA_SIMD_PATH (the magma-simd executable) must be defined"
#endif

#define SIM_VENDOR_ID 0x5349 /* MAGMA_SIM_VENDOR_ID of magma_sim_defs.h */

static char g_tmp[64]; /* this run's temporary directory */

/* @name inside the temporary directory. */
static const char *tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", g_tmp, name);
	return buf;
}

/* The number of open file descriptors of this process (below 1024: plenty for a test). */
static int open_fd_count(void)
{
	int count = 0;

	for (int fd = 0; fd < 1024; fd++)
		count += fcntl(fd, F_GETFD) >= 0;
	return count;
}

/* Expects magma_sim_device_open(@path) to fail with @want and errno @want_errno, leaking no fd. */
static void expect_open_fails(const char *path, magma_status_t want, int want_errno)
{
	magma_device_t device = 77;
	int fds_before = open_fd_count();
	magma_status_t status;
	int err;

	errno = 0;
	status = magma_sim_device_open(path, &device);
	err = errno;
	CHECK_EQ(status, want);
	CHECK_EQ(err, want_errno);
	CHECK_EQ(device, 77); /* untouched on failure */
	CHECK_EQ(open_fd_count(), fds_before);
	if (status != want || err != want_errno)
		fprintf(stderr, "  path %s: %s, errno %s\n", path ? path : "(null)",
			magma_status_name(status), strerror(err));
}

static void test_bad_arguments(void)
{
	magma_device_t device = 77;
	char long_path[109];

	expect_open_fails(NULL, MAGMA_STATUS_INVALID_ARGS, EINVAL);
	expect_open_fails("", MAGMA_STATUS_INVALID_ARGS, EINVAL);
	errno = 0;
	CHECK_EQ(magma_sim_device_open("/tmp/x", NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(errno, EINVAL);
	/* 108 bytes and the NUL: one more than a sockaddr_un holds */
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	expect_open_fails(long_path, MAGMA_STATUS_INVALID_ARGS, ENAMETOOLONG);
	CHECK_EQ(device, 77);
}

static void test_paths_that_are_not_sockets(void)
{
	char path[128];
	FILE *f;

	expect_open_fails(tmp_path(path, sizeof(path), "missing/magma0"), MAGMA_STATUS_INVALID_ARGS,
			  ENOENT);
	expect_open_fails(tmp_path(path, sizeof(path), "magma9"), MAGMA_STATUS_INVALID_ARGS,
			  ENOENT);
	/* a regular file: connect() alone would say ECONNREFUSED, as for a dead daemon */
	f = fopen(tmp_path(path, sizeof(path), "file"), "w");
	REQUIRE(f);
	fclose(f);
	expect_open_fails(path, MAGMA_STATUS_INVALID_ARGS, ENOTSOCK);
	expect_open_fails(g_tmp, MAGMA_STATUS_INVALID_ARGS, ENOTSOCK);
	/* a FIFO nobody writes: open() would block here forever */
	REQUIRE(mkfifo(tmp_path(path, sizeof(path), "fifo"), 0600) == 0);
	expect_open_fails(path, MAGMA_STATUS_INVALID_ARGS, ENOTSOCK);
	/* a character device, as /dev/magma0 would be on a machine with a Magma driver */
	expect_open_fails("/dev/null", MAGMA_STATUS_INVALID_ARGS, ENOTSOCK);
}

/* Binds a Unix socket of @type at @path; listens unless @listening is false. fd or -1. */
static int bind_socket(const char *path, int type, bool listening)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    (listening && listen(fd, 4))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Accepts one connection on the listening socket @arg and hangs up at once. */
static void *accept_and_hang_up(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);

	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_sockets_that_are_not_devices(void)
{
	pthread_t thread;
	char path[128];
	int fd;

	/* a datagram or seqpacket socket: not a device channel */
	fd = bind_socket(tmp_path(path, sizeof(path), "seqpacket"), SOCK_SEQPACKET, true);
	REQUIRE(fd >= 0);
	expect_open_fails(path, MAGMA_STATUS_INVALID_ARGS, EPROTOTYPE);
	close(fd);
	/* bound, never listened on (what a killed daemon leaves): nobody answers */
	fd = bind_socket(tmp_path(path, sizeof(path), "stale"), SOCK_STREAM, false);
	REQUIRE(fd >= 0);
	close(fd);
	expect_open_fails(path, MAGMA_STATUS_CONNECTION_LOST, ECONNREFUSED);
	/* a stream listener that is no magma service: connected, but the handshake fails */
	fd = bind_socket(tmp_path(path, sizeof(path), "not-magma"), SOCK_STREAM, true);
	REQUIRE(fd >= 0);
	REQUIRE(pthread_create(&thread, NULL, accept_and_hang_up, &fd) == 0);
	expect_open_fails(path, MAGMA_STATUS_CONNECTION_LOST, EPROTO);
	pthread_join(thread, NULL);
	close(fd);
}

static void test_access_denied(void)
{
	char dir[128], path[160];
	int fd, status = 0;
	pid_t pid;

	REQUIRE(mkdir(tmp_path(dir, sizeof(dir), "closed"), 0700) == 0);
	snprintf(path, sizeof(path), "%s/magma0", dir);
	fd = bind_socket(path, SOCK_STREAM, true);
	REQUIRE(fd >= 0);
	if (geteuid() != 0) {
		REQUIRE(chmod(dir, 0) == 0);
		expect_open_fails(path, MAGMA_STATUS_ACCESS_DENIED, EACCES);
		chmod(dir, 0700);
		close(fd);
		return;
	}
	/* Root may connect anywhere: ask as "nobody" (65534), whom mode 0700 keeps out. */
	fflush(NULL); /* the child must not print what this process has buffered */
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		expect_open_fails(path, MAGMA_STATUS_ACCESS_DENIED, EACCES);
		_exit(sim_test_has_failure() ? 1 : 0);
	}
	REQUIRE(pid > 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

/* ---- Against magma-simd ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Starts magma-simd --foreground on @dir as a child (so that the test can kill and reap it) and
 * waits (30 s at most) for @dir/magma0. Returns its pid, or -1.
 */
static pid_t daemon_start(const char *dir)
{
	char sock[160];
	struct stat st;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl(MAGMA_SIMD_PATH, MAGMA_SIMD_PATH, "--dir", dir, "--foreground", "--quiet",
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (uint64_t deadline = now_ms() + 30000; stat(sock, &st) && now_ms() < deadline;)
		usleep(5000);
	if (stat(sock, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* Sends @sig to the daemon @pid and reaps it; true when it exited cleanly (SIGTERM). */
static bool daemon_stop(pid_t pid, int sig)
{
	int status = 0;

	kill(pid, sig);
	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_daemon_socket_opens(void)
{
	magma_connection_t connection = 0;
	magma_device_t device = 0;
	uint64_t vendor_id = 0;
	char dir[128], sock[160];
	pid_t pid;

	pid = daemon_start(tmp_path(dir, sizeof(dir), "sims"));
	REQUIRE(pid > 0);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	CHECK_EQ(magma_sim_device_open(sock, &device), MAGMA_STATUS_OK);
	CHECK(device != 0);
	if (device) {
		CHECK_EQ(magma_device_query(device, MAGMA_QUERY_VENDOR_ID, NULL, &vendor_id),
			 MAGMA_STATUS_OK);
		CHECK_EQ(vendor_id, SIM_VENDOR_ID);
		CHECK_EQ(magma_device_create_connection(device, &connection), MAGMA_STATUS_OK);
		CHECK_EQ(magma_connection_flush(connection), MAGMA_STATUS_OK);
		magma_connection_release(connection);
		magma_device_release(device);
	}
	/* A second device of the daemon is a second socket; magma1 is not served here. */
	snprintf(sock, sizeof(sock), "%s/magma1", dir);
	expect_open_fails(sock, MAGMA_STATUS_INVALID_ARGS, ENOENT);
	/* A stopped daemon removes its socket: the path names no device any more. */
	CHECK(daemon_stop(pid, SIGTERM));
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	expect_open_fails(sock, MAGMA_STATUS_INVALID_ARGS, ENOENT);
}

static void test_killed_daemon_leaves_a_dead_socket(void)
{
	char dir[128], sock[160];
	pid_t pid;

	pid = daemon_start(tmp_path(dir, sizeof(dir), "killed"));
	REQUIRE(pid > 0);
	daemon_stop(pid, SIGKILL);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	expect_open_fails(sock, MAGMA_STATUS_CONNECTION_LOST, ECONNREFUSED);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Every test's files live in a fresh directory of its own... */
static void setup(void)
{
	snprintf(g_tmp, sizeof(g_tmp), "%s", "/tmp/magma-sim-device-XXXXXX");
	REQUIRE(mkdtemp(g_tmp) != NULL);
}

/* ...removed after it, whatever happened. */
static void teardown(void)
{
	nftw(g_tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_bad_arguments),
	SIM_TEST(test_paths_that_are_not_sockets),
	SIM_TEST(test_sockets_that_are_not_devices),
	SIM_TEST(test_access_denied),
	SIM_TEST(test_daemon_socket_opens),
	SIM_TEST(test_killed_daemon_leaves_a_dead_socket),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

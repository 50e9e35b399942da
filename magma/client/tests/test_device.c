/* SPDX-License-Identifier: MIT */
/*
 * test_device.c - libmagma devices: import (handshake, refusal, non-sockets, dead peers),
 * queries (value and buffer answers, the out-pointer rules), release (connections outlive it),
 * enumerate_devices under MAGMA_SIM_DEVICE_DIR / MAGMA_DEVICE and its size errors, and the
 * Fuchsia-only diagnostics calls.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_service.h"
#include "sim_test.h"

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_import(void)
{
	struct fake_service *fs;
	magma_device_t dev;
	int fds[2];

	/* not a socket: consumed, INVALID_ARGS */
	REQUIRE(pipe(fds) == 0);
	CHECK_EQ(magma_device_import((magma_handle_t)fds[0], &dev), MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	CHECK_EQ(magma_device_import((magma_handle_t)-1, &dev), MAGMA_STATUS_INVALID_ARGS);
	/* a socket, but not a stream socket */
	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
	CHECK_EQ(magma_device_import((magma_handle_t)fds[0], &dev), MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	/* NULL out: consumed */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	CHECK_EQ(magma_device_import((magma_handle_t)fds[0], NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	/* peer gone: CONNECTION_LOST, consumed */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	close(fds[1]);
	CHECK_EQ(magma_device_import((magma_handle_t)fds[0], &dev), MAGMA_STATUS_CONNECTION_LOST);
	CHECK(!fd_is_open(fds[0]));
	/* a peer that answers out of protocol */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	{
		struct wire_flush junk = {.hdr = {WIRE_RESP(79), 0, sizeof(junk), 0}};

		CHECK_EQ(wire_send(fds[1], &junk, sizeof(junk), NULL, 0), 0);
	}
	CHECK_EQ(magma_device_import((magma_handle_t)fds[0], &dev), MAGMA_STATUS_CONNECTION_LOST);
	close(fds[1]);
	/* refused handshake: the service's status */
	fs = fake_service_start(0, true);
	REQUIRE(fs);
	fs->refuse_handshake = true;
	CHECK_EQ(magma_device_import((magma_handle_t)fs->client_fd, &dev),
		 MAGMA_STATUS_ACCESS_DENIED);
	CHECK(!fd_is_open(fs->client_fd));
	fs->client_fd = -1;
	fake_service_stop(fs);
	/* and the good case */
	REQUIRE_EQ(fake_device_open(&fs, &dev, 0, true), 0);
	CHECK(dev != 0);
	magma_device_release(dev);
	magma_device_release(dev); /* twice: ignored */
	magma_device_release(0);
	magma_device_release(0x1234);
	fake_service_stop(fs);
}

static void test_query(void)
{
	struct fake_service *fs;
	magma_device_t dev;
	magma_handle_t h = 0;
	uint64_t v = 0;

	REQUIRE_EQ(fake_device_open(&fs, &dev, (5ull << 32) | 7, true), 0);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), 0);
	CHECK_EQ(v, 0x1234);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, &h, &v), 0);
	CHECK_EQ(v, (5ull << 32) | 7);
	CHECK_EQ(magma_device_query(dev, 77777, NULL, &v), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_VENDOR_ID, NULL, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_VENDOR_ID, &h, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_TOTAL_TIME, NULL, &v),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_TOTAL_TIME, &h, NULL), 0);
	{
		magma_total_time_query_result_t t = {0};

		CHECK(pread((int)h, &t, sizeof(t), 0) == sizeof(t));
		CHECK_EQ(t.gpu_time_ns, 1);
		CHECK_EQ(t.monotonic_time_ns, 2);
		close((int)h);
	}
	CHECK_EQ(magma_device_query(0, MAGMA_QUERY_VENDOR_ID, NULL, &v), MAGMA_STATUS_INVALID_ARGS);
	/* The device channel still works after all that. */
	CHECK_EQ(magma_device_query(dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), 0);
	magma_device_release(dev);
	fake_service_stop(fs);
}

static void test_connection_outlives_device(void)
{
	struct fake_service *fs;
	magma_device_t dev;
	magma_connection_t conn;

	REQUIRE_EQ(fake_device_open(&fs, &dev, 0, true), 0);
	REQUIRE_EQ(magma_device_create_connection(dev, &conn), 0);
	CHECK_EQ(magma_device_create_connection(dev, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_device_create_connection(0, &conn), MAGMA_STATUS_INVALID_ARGS);
	magma_device_release(dev);
	CHECK_EQ(magma_connection_flush(conn), 0);
	magma_connection_release(conn);
	fake_service_stop(fs);
}

static void make_socket(const char *dir, const char *name)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, name);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		close(fd); /* the socket file stays */
	else if (fd >= 0)
		close(fd);
}

static void test_enumerate(void)
{
	char dir[] = "/tmp/libmagma-enum-XXXXXX";
	char paths[4][32];
	char path[256];
	uint32_t count;
	int fd;

	REQUIRE(mkdtemp(dir));
	make_socket(dir, "magma0");
	make_socket(dir, "magma2");
	make_socket(dir, "magmaX");
	make_socket(dir, "other");
	snprintf(path, sizeof(path), "%s/magma1", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600); /* a plain file: not a device */
	if (fd >= 0)
		close(fd);
	setenv("MAGMA_SIM_DEVICE_DIR", dir, 1);
	setenv("MAGMA_DEVICE", "/ignored/when/dir/set", 1);
	count = 4;
	CHECK_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &count, 32, &paths[0][0]), 0);
	CHECK_EQ(count, 2);
	CHECK(strcmp(paths[0], "/dev/magma0") == 0);
	CHECK(strcmp(paths[1], "/dev/magma2") == 0);
	count = 1;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 32, &paths[0][0]),
		 MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(count, 1);
	count = 4;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 11, &paths[0][0]),
		 MAGMA_STATUS_INVALID_ARGS);
	count = 4;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 12, &paths[0][0]), 0); /* exact fit */
	CHECK_EQ(magma_enumerate_devices("", 0, NULL, 32, &paths[0][0]), MAGMA_STATUS_INVALID_ARGS);
	/* MAGMA_DEVICE alone */
	unsetenv("MAGMA_SIM_DEVICE_DIR");
	setenv("MAGMA_DEVICE", "/run/magma/gpu7", 1);
	count = 4;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 32, &paths[0][0]), 0);
	CHECK_EQ(count, 1);
	CHECK(strcmp(paths[0], "/run/magma/gpu7") == 0);
	/* An empty directory reports none. */
	unsetenv("MAGMA_DEVICE");
	snprintf(path, sizeof(path), "%s/empty", dir);
	mkdir(path, 0700);
	setenv("MAGMA_SIM_DEVICE_DIR", path, 1);
	count = 4;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 32, &paths[0][0]), 0);
	CHECK_EQ(count, 0);
	count = 0;
	CHECK_EQ(magma_enumerate_devices("", 0, &count, 32, NULL), 0);
	unsetenv("MAGMA_SIM_DEVICE_DIR");
	rmdir(path);
	for (const char *n = "magma0\0magma2\0magmaX\0other\0magma1\0"; *n; n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
}

static void test_diagnostics(void)
{
	int fds[2];

	CHECK_EQ(magma_initialize_tracing((magma_handle_t)-1), 0);
	CHECK_EQ(magma_initialize_logging((magma_handle_t)-1), 0);
	REQUIRE(pipe(fds) == 0);
	CHECK_EQ(magma_initialize_tracing((magma_handle_t)fds[0]), 0);
	CHECK_EQ(magma_initialize_logging((magma_handle_t)fds[1]), 0);
	CHECK(!fd_is_open(fds[0]));
	CHECK(!fd_is_open(fds[1]));
}

static int fds_at_start;

/* Every test closes every fd it opened: counted around each one. */
static void setup(void)
{
	fds_at_start = fake_count_fds();
}

static void teardown(void)
{
	CHECK_EQ(fake_count_fds(), fds_at_start);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_import),
	SIM_TEST(test_query),
	SIM_TEST(test_connection_outlives_device),
	SIM_TEST(test_enumerate),
	SIM_TEST(test_diagnostics),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

/* SPDX-License-Identifier: MIT */
/*
 * test_shim.c - run under `magma-sim-run --devices 2`: the preload shim turns open() of the
 * device nodes into connected device channels of the daemon, and leaves everything else alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim_test.h"
#include "test_client.h"

static void check_device(int fd)
{
	uint64_t v = 0;
	int buf_fd;

	REQUIRE(fd >= 0);
	CHECK_EQ(tc_handshake(fd, WIRE_PROTOCOL_VERSION), MAGMA_STATUS_OK);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &v, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(v, 0x5349);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void test_device_nodes_open_the_daemon(void)
{
	REQUIRE(getenv("MAGMA_SIM_DEVICE_DIR") != NULL);
	check_device(open("/dev/magma0", O_RDWR | O_CLOEXEC));
	check_device(open("/dev/magma1", O_RDWR | O_CLOEXEC));
	check_device(openat(AT_FDCWD, "/dev/dri/renderD128", O_RDWR | O_CLOEXEC));
	check_device(openat(-1, "/dev/dri/renderD129", O_RDWR | O_CLOEXEC));
}

static void test_other_paths_pass_through(void)
{
	int fd;

	errno = 0;
	CHECK_EQ(open("/dev/magma7", O_RDWR), -1); /* not served */
	CHECK_EQ(errno, ENOENT);
	CHECK_EQ(open("/dev/dri/renderD127", O_RDWR), -1);
	fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "x", 1), 1);
	close(fd);
	fd = open("/dev/magma0x", O_RDWR);
	CHECK_EQ(fd, -1);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_device_nodes_open_the_daemon),
	SIM_TEST(test_other_paths_pass_through),
};
SIM_TEST_SUITE(tests);

/* SPDX-License-Identifier: MIT */
/*
 * test_e2e.c - the whole stack through the public API: libmagma over the embedded device
 * (magma_system + msd-sim + sim in this process). Creates a buffer, maps it, executes a WRITE32
 * command buffer that signals a semaphore, waits with magma_poll and reads the result back
 * through magma_buffer_get_handle + mmap; shares a buffer between two connections; and checks
 * that a rejected request surfaces through flush, get_error and the notification channel while
 * the other connection keeps working; floods the service through libmagma's flow control; and
 * shares a buffer and a semaphore with another process (this program run again) that has a
 * device of its own.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "sim_test.h"

#define VA     0x200000ull
#define SECOND 1000000000ull

static magma_device_t g_dev;

static uint32_t *map_cpu(magma_buffer_t buffer, uint64_t size)
{
	magma_handle_t handle;
	void *p;

	if (magma_buffer_get_handle(buffer, &handle) != MAGMA_STATUS_OK)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	return p == MAP_FAILED ? NULL : p;
}

/* Executes a WRITE32 of @value at @target_va from commands at byte 0x1000 of @buffer. */
static magma_status_t write32(magma_connection_t conn, uint32_t ctx, magma_buffer_t buffer,
			      magma_buffer_id_t buffer_id, uint32_t *cpu, uint64_t target_va,
			      uint32_t value, magma_semaphore_id_t signal)
{
	uint32_t n = 0;
	struct magma_exec_resource res;
	struct magma_exec_command_buffer cb = {.resource_index = 0, .start_offset = 0x1000};
	uint64_t sem_ids[1] = {signal};
	magma_command_descriptor_t desc = {
		.resource_count = 1,
		.command_buffer_count = 1,
		.signal_semaphore_count = 1,
		.resources = &res,
		.command_buffers = &cb,
		.semaphore_ids = sem_ids,
	};

	(void)buffer;
	n += sim_cmd_emit_write32(cpu + 0x400 + n, target_va, value);
	n += sim_cmd_emit_end(cpu + 0x400 + n);
	res = (struct magma_exec_resource){buffer_id, 0x1000, n * 4u};
	return magma_connection_execute_command(conn, ctx, &desc);
}

static magma_status_t wait_semaphore(magma_semaphore_t sem)
{
	magma_poll_item_t item = {.semaphore = sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};

	return magma_poll(&item, 1, 5 * SECOND);
}

static void test_execute_and_read_back(void)
{
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint64_t size = 0;
	uint32_t ctx, *cpu;

	REQUIRE(magma_device_create_connection(g_dev, &conn) == MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx) ==
		MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_buffer(conn, 0x8000, &size, &buf, &buf_id) ==
		MAGMA_STATUS_OK);
	CHECK_EQ(size, 0x8000);
	CHECK_EQ(magma_connection_map_buffer(conn, VA, buf, 0, size,
					     MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
						     MAGMA_MAP_FLAG_EXECUTE),
		 MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_semaphore(conn, &sem, &sem_id) == MAGMA_STATUS_OK);
	cpu = map_cpu(buf, size);
	REQUIRE(cpu != NULL);
	CHECK_EQ(write32(conn, ctx, buf, buf_id, cpu, VA + 0x10, 0xc0ffee01u, sem_id),
		 MAGMA_STATUS_OK);
	CHECK_EQ(wait_semaphore(sem), MAGMA_STATUS_OK);
	CHECK_EQ(cpu[4], 0xc0ffee01u);
	{
		/* A fresh handle maps the same memory. */
		uint32_t *again = map_cpu(buf, size);

		REQUIRE(again != NULL);
		CHECK_EQ(again[4], 0xc0ffee01u);
		munmap(again, size);
	}
	CHECK_EQ(magma_connection_flush(conn), MAGMA_STATUS_OK);
	munmap(cpu, size);
	magma_connection_unmap_buffer(conn, VA, buf);
	magma_connection_release_semaphore(conn, sem);
	magma_connection_release_buffer(conn, buf);
	magma_connection_release_context(conn, ctx);
	CHECK_EQ(magma_connection_flush(conn), MAGMA_STATUS_OK);
	magma_connection_release(conn);
}

static void test_shared_buffer_between_connections(void)
{
	magma_connection_t a, b;
	magma_buffer_t buf_a, buf_b;
	magma_buffer_id_t id_a, id_b;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	magma_handle_t exported;
	uint64_t size = 0, size_b = 0;
	uint32_t ctx, *cpu;

	REQUIRE(magma_device_create_connection(g_dev, &a) == MAGMA_STATUS_OK);
	REQUIRE(magma_device_create_connection(g_dev, &b) == MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_buffer(a, 0x4000, &size, &buf_a, &id_a) == MAGMA_STATUS_OK);
	REQUIRE(magma_buffer_export(buf_a, &exported) == MAGMA_STATUS_OK);
	REQUIRE(magma_connection_import_buffer(b, exported, &size_b, &buf_b, &id_b) ==
		MAGMA_STATUS_OK);
	CHECK_EQ(size_b, size);
	REQUIRE(magma_connection_create_context2(b, MAGMA_PRIORITY_MEDIUM, &ctx) ==
		MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_map_buffer(b, VA, buf_b, 0, size_b,
					     MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
						     MAGMA_MAP_FLAG_EXECUTE),
		 MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_semaphore(b, &sem, &sem_id) == MAGMA_STATUS_OK);
	cpu = map_cpu(buf_a, size); /* written by the CPU through A's buffer */
	REQUIRE(cpu != NULL);
	CHECK_EQ(write32(b, ctx, buf_b, id_b, cpu, VA, 0x5a5a0001u, sem_id), MAGMA_STATUS_OK);
	CHECK_EQ(wait_semaphore(sem), MAGMA_STATUS_OK);
	CHECK_EQ(cpu[0], 0x5a5a0001u);
	CHECK_EQ(magma_connection_flush(a), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_flush(b), MAGMA_STATUS_OK);
	munmap(cpu, size);
	magma_connection_release(b);
	magma_connection_release(a);
}

static void test_error_surfaces_and_isolates(void)
{
	magma_connection_t bad, good;
	magma_buffer_t buf;
	magma_buffer_id_t id;
	uint64_t size;

	REQUIRE(magma_device_create_connection(g_dev, &bad) == MAGMA_STATUS_OK);
	REQUIRE(magma_device_create_connection(g_dev, &good) == MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_buffer(bad, 0x2000, &size, &buf, &id) == MAGMA_STATUS_OK);
	/* Overlapping mappings: the second is rejected by the service. */
	CHECK_EQ(magma_connection_map_buffer(bad, VA, buf, 0, 0x2000, MAGMA_MAP_FLAG_READ),
		 MAGMA_STATUS_OK);
	magma_connection_map_buffer(bad, VA + 0x1000, buf, 0, 0x1000, MAGMA_MAP_FLAG_READ);
	CHECK_EQ(magma_connection_flush(bad), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_get_error(bad), MAGMA_STATUS_INVALID_ARGS);
	{
		magma_poll_item_t item = {
			.handle = magma_connection_get_notification_channel_handle(bad),
			.type = MAGMA_POLL_TYPE_HANDLE,
			.condition = MAGMA_POLL_CONDITION_READABLE,
		};

		CHECK_EQ(magma_poll(&item, 1, 5 * SECOND), MAGMA_STATUS_CONNECTION_LOST);
	}
	CHECK_EQ(magma_connection_flush(good), MAGMA_STATUS_OK);
	magma_connection_release(bad);
	magma_connection_release(good);
}

static void test_flood_is_throttled(void)
{
	magma_connection_t conn;
	uint32_t ctx;
	int ok = 1;

	REQUIRE(magma_device_create_connection(g_dev, &conn) == MAGMA_STATUS_OK);
	/* 10,000 feed-forward messages; libmagma waits for the service's consumed events. */
	for (int i = 0; i < 5000 && ok; i++) {
		ok = magma_connection_create_context2(conn, MAGMA_PRIORITY_LOW, &ctx) ==
		     MAGMA_STATUS_OK;
		if (ok)
			magma_connection_release_context(conn, ctx);
	}
	CHECK(ok);
	CHECK_EQ(magma_connection_flush(conn), MAGMA_STATUS_OK);
	magma_connection_release(conn);
}

/* Passes @fds over @sock with SCM_RIGHTS. 0 or -1. */
static int send_fds(int sock, const int *fds, int n)
{
	char byte = 'f';
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fds(int sock, int *fds, int n)
{
	char byte;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)n))
		return -1;
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)n);
	return 0;
}

/* The child: its own device; imports the parent's buffer and semaphore; the GPU writes+signals. */
static int child_main(int sock)
{
	magma_device_t dev;
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint64_t size = 0;
	uint32_t ctx, *cpu;
	int fds[2], fd;

	if (recv_fds(sock, fds, 2))
		return 10;
	/* A device of this process (the parent's has no threads here). */
	fd = magma_sim_embedded_open();
	if (fd < 0 || magma_device_import((magma_handle_t)fd, &dev) != MAGMA_STATUS_OK ||
	    magma_device_create_connection(dev, &conn) != MAGMA_STATUS_OK)
		return 11;
	if (magma_connection_import_buffer(conn, (magma_handle_t)fds[0], &size, &buf, &buf_id) ||
	    magma_connection_import_semaphore2(conn, (magma_handle_t)fds[1], 0, &sem, &sem_id) ||
	    magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx) ||
	    magma_connection_map_buffer(conn, VA, buf, 0, size,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
						MAGMA_MAP_FLAG_EXECUTE))
		return 12;
	cpu = map_cpu(buf, size);
	if (!cpu || write32(conn, ctx, buf, buf_id, cpu, VA + 8, 0x0b0e0001u, sem_id))
		return 13;
	if (magma_connection_flush(conn) != MAGMA_STATUS_OK || wait_semaphore(sem))
		return 14;
	magma_connection_release(conn);
	magma_device_release(dev);
	return 0;
}

static void test_share_with_another_process(void)
{
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	magma_handle_t fds[2];
	uint64_t size = 0;
	uint32_t *cpu;
	int sv[2], status = -1;
	pid_t pid;

	REQUIRE(magma_device_create_connection(g_dev, &conn) == MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_buffer(conn, 0x4000, &size, &buf, &buf_id) ==
		MAGMA_STATUS_OK);
	REQUIRE(magma_connection_create_semaphore(conn, &sem, &sem_id) == MAGMA_STATUS_OK);
	REQUIRE(magma_buffer_export(buf, &fds[0]) == MAGMA_STATUS_OK);
	REQUIRE(magma_semaphore_export(sem, &fds[1]) == MAGMA_STATUS_OK);
	cpu = map_cpu(buf, size);
	REQUIRE(cpu != NULL);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		/*
		 * A fresh process image, not the forked copy: this process has threads (its
		 * device's), and a lock one of them held at fork time (the sanitizers' allocator or
		 * thread registry under ASan) stays held forever in a copy - its new device's clock
		 * thread then never ran, and the child hung. The socket stays open across exec.
		 */
		char arg[16];

		close(sv[0]);
		fcntl(sv[1], F_SETFD, 0);
		snprintf(arg, sizeof(arg), "%d", sv[1]);
		execl("/proc/self/exe", "test_e2e", "--share-child", arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	CHECK_EQ(send_fds(sv[0], (const int *)fds, 2), 0);
	close((int)fds[0]);
	close((int)fds[1]);
	CHECK_EQ(wait_semaphore(sem), MAGMA_STATUS_OK); /* signaled by the other process's GPU */
	CHECK_EQ(cpu[2], 0x0b0e0001u);
	{
		/* The child's answer, or - should it hang (a lock another thread of ours held at
		 * fork time) - a failure after 60 s instead of blocking the test forever. */
		struct pollfd p = {.fd = sv[0], .events = POLLIN};
		char result = -1;

		if (poll(&p, 1, 60000) == 1) {
			CHECK_EQ(read(sv[0], &result, 1), 1);
		} else {
			fprintf(stderr, "the child process gave no answer in 60 s: killed\n");
			kill(pid, SIGKILL);
		}
		CHECK_EQ(result, 0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(magma_connection_flush(conn), MAGMA_STATUS_OK);
	close(sv[0]);
	munmap(cpu, size);
	magma_connection_release(conn);
}

/* The exec'd child of test_share_with_another_process: its answer goes over the socket @fd. */
static int share_child(int fd)
{
	char result = (char)child_main(fd);

	return write(fd, &result, 1) == 1 ? 0 : 1;
}

/*
 * Run again with --share-child FD: be test_share_with_another_process's other process.
 * Otherwise quiet the service, which logs every rejected request the tests provoke.
 */
static int process_setup(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--share-child"))
		return share_child(atoi(argv[2]));
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	return SIM_TEST_CONTINUE;
}

/* Every test gets a device channel of its own to the process-wide embedded device. */
static void setup(void)
{
	int fd = magma_sim_embedded_open();

	REQUIRE(fd >= 0);
	REQUIRE_EQ(magma_device_import((magma_handle_t)fd, &g_dev), MAGMA_STATUS_OK);
}

static void teardown(void)
{
	if (g_dev)
		magma_device_release(g_dev);
	g_dev = 0;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_execute_and_read_back),
	SIM_TEST(test_shared_buffer_between_connections),
	SIM_TEST(test_error_surfaces_and_isolates),
	SIM_TEST(test_flood_is_throttled),
	SIM_TEST(test_share_with_another_process),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};

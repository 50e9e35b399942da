/* SPDX-License-Identifier: MIT */
/*
 * test_sim.c - the service on the real msd-sim and sim, through the embedded device, with the
 * raw wire client: queries, a WRITE32 command buffer executed on the GPU and read back through
 * the client's own mapping of the memfd, the signal semaphore (an eventfd) becoming readable,
 * driver-level rejections closing only their connection, teardown on hang-up, and what an
 * imported buffer costs the process with and without MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE.
 */
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "sim_test.h"
#include "test_client.h"

#define VA	 0x100000ull
#define BUF_SIZE 0x10000ull

static struct magma_system_embedded *g_emb;

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static void test_queries(void)
{
	uint64_t result = 0;
	int fd = magma_system_embedded_connect(g_emb), buf_fd;

	REQUIRE(fd >= 0);
	REQUIRE(tc_handshake(fd, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &result, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(result, MAGMA_SIM_VENDOR_ID);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, &result, &buf_fd),
		 MAGMA_STATUS_OK);
	CHECK_EQ(result, (1000ull << 32) | 1024);
	if (tc_query(fd, MAGMA_QUERY_TOTAL_TIME, &result, &buf_fd) == MAGMA_STATUS_OK) {
		magma_total_time_query_result_t t = {0};

		REQUIRE(buf_fd >= 0);
		CHECK_EQ(pread(buf_fd, &t, sizeof(t), 0), sizeof(t));
		CHECK(t.monotonic_time_ns != 0);
		close(buf_fd);
	}
	CHECK_EQ(tc_query(fd, 0xdead0000ull, &result, &buf_fd), MAGMA_STATUS_INVALID_ARGS);
	close(fd);
}

static void test_execute_write32(void)
{
	struct wire_map_buffer map = {.hw_va = VA,
				      .buffer_id = 1,
				      .length = BUF_SIZE,
				      .flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
					       MAGMA_MAP_FLAG_EXECUTE};
	struct wire_import_buffer ib = {.buffer_id = 1, .size = BUF_SIZE};
	struct wire_import_semaphore is = {.semaphore_id = 1};
	struct {
		struct wire_execute_command m;
		struct magma_exec_resource res;
		struct magma_exec_command_buffer cb;
		uint64_t signal;
	} ex;
	struct tc_conn c, other;
	uint32_t *cpu, n = 0;
	int fd, mem, sem;

	fd = magma_system_embedded_connect(g_emb);
	REQUIRE(fd >= 0);
	REQUIRE(tc_handshake(fd, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &other) == MAGMA_STATUS_OK);
	mem = tc_memfd(BUF_SIZE);
	sem = tc_eventfd();
	REQUIRE(mem >= 0 && sem >= 0);
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	REQUIRE(cpu != MAP_FAILED);
	/* Commands at 0x1000: write 0xdeadbeef to the buffer's first word, then end. */
	n += sim_cmd_emit_write32(cpu + 0x400 + n, VA, 0xdeadbeefu);
	n += sim_cmd_emit_end(cpu + 0x400 + n);

	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_send(c.primary, &ib, sizeof(ib), WIRE_IMPORT_BUFFER, &mem, 1), 0);
	CHECK_EQ(tc_send(c.primary, &is, sizeof(is), WIRE_IMPORT_SEMAPHORE, &sem, 1), 0);
	CHECK_EQ(tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0), 0);
	memset(&ex, 0, sizeof(ex));
	ex.m.context_id = 1;
	ex.m.resource_count = 1;
	ex.m.command_buffer_count = 1;
	ex.m.signal_semaphore_count = 1;
	ex.res = (struct magma_exec_resource){1, 0x1000, n * 4u};
	ex.cb.start_offset = 0x1000;
	ex.signal = 1;
	CHECK_EQ(tc_send(c.primary, &ex, sizeof(ex), WIRE_EXECUTE_COMMAND, NULL, 0), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK(wait_readable(sem, 5000));
	CHECK_EQ(cpu[0], 0xdeadbeefu);

	/* A NOTIFY submission reports its completion on the notification channel. */
	{
		struct magma_sim_notification note;

		cpu[0] = 0;
		ex.m.flags = MAGMA_SIM_COMMAND_FLAG_NOTIFY;
		ex.m.signal_semaphore_count = 0;
		ex.m.hdr.size = 0; /* tc_send sets it */
		CHECK_EQ(tc_send(c.primary, &ex, sizeof(ex) - sizeof(uint64_t),
				 WIRE_EXECUTE_COMMAND, NULL, 0),
			 0);
		CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
		REQUIRE(wait_readable(c.notif, 5000));
		CHECK_EQ(recv(c.notif, &note, sizeof(note), 0), sizeof(note));
		CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_COMPLETED);
		CHECK_EQ(note.context_id, 1);
		CHECK_EQ(cpu[0], 0xdeadbeefu);
	}

	/* The driver refuses a mapping above the client range: only that connection closes. */
	map.hw_va = MAGMA_SIM_GPU_VA_LIMIT;
	map.length = 0x1000;
	CHECK_EQ(tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(tc_flush(&other), MAGMA_STATUS_OK);
	tc_close(&c);
	tc_close(&other);
	for (int i = 0; i < 400 && magma_system_device_connection_count(
					   magma_system_embedded_device(g_emb)) != 0;
	     i++)
		usleep(5000);
	CHECK_EQ(magma_system_device_connection_count(magma_system_embedded_device(g_emb)), 0);
	munmap(cpu, BUF_SIZE);
	close(mem);
	close(sem);
	close(fd);
}

static void test_gpu_fault_kills_only_its_connection(void)
{
	struct wire_map_buffer map = {.hw_va = VA,
				      .buffer_id = 1,
				      .length = BUF_SIZE,
				      .flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE};
	struct wire_import_buffer ib = {.buffer_id = 1, .size = BUF_SIZE};
	struct {
		struct wire_execute_command m;
		struct magma_exec_resource res;
		struct magma_exec_command_buffer cb;
	} ex;
	struct magma_sim_notification note;
	struct tc_conn c, other;
	uint32_t *cpu, n = 0;
	int fd, mem;

	fd = magma_system_embedded_connect(g_emb);
	REQUIRE(fd >= 0);
	REQUIRE(tc_handshake(fd, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &other) == MAGMA_STATUS_OK);
	mem = tc_memfd(BUF_SIZE);
	REQUIRE(mem >= 0);
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	REQUIRE(cpu != MAP_FAILED);
	/* Writes to an address nothing is mapped at: an MMU fault. */
	n += sim_cmd_emit_write32(cpu + 0x400 + n, 0x40000000ull, 1);
	n += sim_cmd_emit_end(cpu + 0x400 + n);
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_send(c.primary, &ib, sizeof(ib), WIRE_IMPORT_BUFFER, &mem, 1), 0);
	CHECK_EQ(tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0), 0);
	memset(&ex, 0, sizeof(ex));
	ex.m.context_id = 1;
	ex.m.resource_count = 1;
	ex.m.command_buffer_count = 1;
	ex.res = (struct magma_exec_resource){1, 0x1000, n * 4u};
	ex.cb.start_offset = 0x1000;
	CHECK_EQ(tc_send(c.primary, &ex, sizeof(ex), WIRE_EXECUTE_COMMAND, NULL, 0), 0);
	CHECK_EQ(tc_wait_error(&c), MAGMA_STATUS_CONTEXT_KILLED);
	/* The fault report arrived before the hang-up. */
	REQUIRE(wait_readable(c.notif, 5000));
	CHECK_EQ(recv(c.notif, &note, sizeof(note), 0), sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_address, 0x40000000ull);
	CHECK_EQ(tc_flush(&other), MAGMA_STATUS_OK);
	tc_close(&c);
	tc_close(&other);
	munmap(cpu, BUF_SIZE);
	close(mem);
	close(fd);
}

static void test_process_wide_device(void)
{
	int a = magma_sim_embedded_open(), b = magma_sim_embedded_open();
	struct tc_conn c;

	REQUIRE(a >= 0 && b >= 0);
	CHECK_EQ(tc_handshake(a, WIRE_PROTOCOL_VERSION), MAGMA_STATUS_OK);
	CHECK_EQ(tc_handshake(b, WIRE_PROTOCOL_VERSION), MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_connection(b, &c), MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	tc_close(&c);
	close(a);
	close(b); /* the device itself goes at exit */
}

/*
 * Open fds of this process on the file @fd is open on (same device and inode), @fd included;
 * counting only those, fds other threads open or close meanwhile (a connection the service is
 * still tearing down) do not count. -1 on error.
 */
static int fds_on_file_of(int fd)
{
	DIR *d = opendir("/proc/self/fd");
	struct stat want, st;
	struct dirent *e;
	int n = 0;

	if (!d || fstat(fd, &want)) {
		if (d)
			closedir(d);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!fstatat(dirfd(d), e->d_name, &st, 0) && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * Imports buffer 2 on a fresh connection of @emb and keeps the client's memfd of it open: the
 * service's fds of that file are *@kept_out after the import and *@mapped_out once the GPU
 * mapped it (buffer 1 is imported and mapped first, so that whatever the first import sets up
 * is in place).
 */
static void fds_kept_per_buffer(struct magma_system_embedded *emb, int *kept_out, int *mapped_out)
{
	struct wire_map_buffer map = {
		.hw_va = VA, .buffer_id = 1, .length = 0x1000, .flags = MAGMA_MAP_FLAG_READ};
	struct wire_import_buffer ib = {.buffer_id = 2, .size = 0x1000};
	struct tc_conn c;
	int fd = magma_system_embedded_connect(emb), mem;

	REQUIRE(fd >= 0);
	REQUIRE(tc_handshake(fd, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_import_buffer(&c, 1, 0x1000), 0);
	CHECK_EQ(tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	mem = tc_memfd(0x1000);
	REQUIRE(mem >= 0);
	CHECK_EQ(tc_send(c.primary, &ib, sizeof(ib), WIRE_IMPORT_BUFFER, &mem, 1), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	*kept_out = fds_on_file_of(mem) - 1;
	map.buffer_id = 2;
	map.hw_va = VA + 0x1000;
	CHECK_EQ(tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	*mapped_out = fds_on_file_of(mem) - 1;
	close(mem);
	tc_close(&c);
	close(fd);
}

/*
 * The embedded device maps a buffer at import and keeps no fd of it (the client holds one);
 * created with MAP_BUFFERS_ON_USE it keeps the fd until the GPU maps the buffer, instead.
 */
static void test_map_buffers_on_use(void)
{
	struct magma_system_embedded *on_use = magma_system_embedded_create_flags(
		NULL, NULL, MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE);
	int kept = -1, mapped = -1;

	REQUIRE(on_use != NULL);
	fds_kept_per_buffer(g_emb, &kept, &mapped);
	CHECK_EQ(kept, 0);
	CHECK_EQ(mapped, 0);
	fds_kept_per_buffer(on_use, &kept, &mapped);
	CHECK_EQ(kept, 1);
	CHECK_EQ(mapped, 0);
	magma_system_embedded_destroy(on_use);
}

/* The service logs every rejected message; the tests provoke some. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	return SIM_TEST_CONTINUE;
}

/* Every test gets a fresh embedded device. */
static void setup(void)
{
	g_emb = magma_system_embedded_create(NULL);
	REQUIRE(g_emb != NULL);
}

static void teardown(void)
{
	magma_system_embedded_destroy(g_emb);
	g_emb = NULL;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_queries),
	SIM_TEST(test_execute_write32),
	SIM_TEST(test_gpu_fault_kills_only_its_connection),
	SIM_TEST(test_process_wide_device),
	SIM_TEST(test_map_buffers_on_use),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};

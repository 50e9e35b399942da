/* SPDX-License-Identifier: MIT */
/*
 * test_buffer.c - libmagma buffers against the in-test fake service: creation sizes and ids,
 * what the service is told, committed bytes through COMMIT / DECOMMIT / CPU writes, every
 * buffer-op and map misuse, get_handle and export fds, import validation, cache policy, names,
 * release (twice, foreign, by connection release) and bad handles.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_service.h"
#include "sim_test.h"

#define PAGE 4096ull

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static uint64_t committed(magma_buffer_t b)
{
	magma_buffer_info_t info = {0};

	if (magma_buffer_get_info(b, &info))
		return UINT64_MAX;
	return info.committed_byte_count;
}

static void test_create_sizes_and_ids(void)
{
	static const uint64_t sizes[][2] = {
		{1, PAGE},
		{PAGE, PAGE},
		{PAGE + 1, 2 * PAGE},
		{3 * PAGE - 1, 3 * PAGE},
		{1ull << 20, 1ull << 20},
	};
	struct fake_fixture fx;
	magma_buffer_t b[5];
	magma_buffer_id_t id;
	uint64_t size;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	for (int i = 0; i < 5; i++) {
		magma_buffer_info_t info;
		struct fake_record r;
		magma_handle_t h;

		CHECK_EQ(magma_connection_create_buffer(fx.conn, sizes[i][0], &size, &b[i], &id),
			 0);
		CHECK_EQ(size, sizes[i][1]);
		CHECK_EQ(id, i + 1);
		CHECK_EQ(magma_buffer_get_info(b[i], &info), 0);
		CHECK_EQ(info.size, sizes[i][1]);
		CHECK_EQ(info.committed_byte_count, 0);
		REQUIRE(fake_service_wait_count(fx.fs, (uint32_t)i + 1));
		r = fake_service_record(fx.fs, (uint32_t)i);
		CHECK_EQ(r.type, WIRE_IMPORT_BUFFER);
		CHECK_EQ(r.fd_count, 1);
		CHECK_EQ(r.words[0], i + 1);	   /* buffer_id */
		CHECK_EQ(r.words[1], sizes[i][1]); /* size */
		REQUIRE_EQ(magma_buffer_get_handle(b[i], &h), 0);
		CHECK_EQ(r.fd_ino, ino_of((int)h));
		close((int)h);
	}
	/* Misuse: nothing is sent and ids are not consumed. Size 0 fails as Magma's allocation. */
	CHECK_EQ(magma_connection_create_buffer(fx.conn, 0, &size, &b[0], &id),
		 MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(magma_connection_create_buffer(fx.conn, PAGE, NULL, &b[0], &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, NULL, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b[0], NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_buffer(fx.conn, UINT64_MAX, &size, &b[0], &id),
		 MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(magma_connection_create_buffer(0, PAGE, &size, &b[0], &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 6); /* 5 imports + flush */
	{
		magma_buffer_t nb;

		CHECK_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &nb, &id), 0);
		CHECK_EQ(id, 6);
	}
	fake_fixture_close(&fx);
}

static void test_committed_bytes(void)
{
	struct fake_fixture fx;
	magma_buffer_t b;
	magma_buffer_id_t id;
	magma_handle_t h;
	uint64_t size;
	uint8_t *p;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, 16 * PAGE, &size, &b, &id), 0);
	CHECK_EQ(committed(b), 0);
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, MAGMA_BUFFER_RANGE_OP_COMMIT, 0,
						    4 * PAGE),
		 0);
	CHECK_EQ(committed(b), 4 * PAGE);
	/* Committing again or overlapping adds only the new pages. */
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, MAGMA_BUFFER_RANGE_OP_COMMIT,
						    2 * PAGE, 4 * PAGE),
		 0);
	CHECK_EQ(committed(b), 6 * PAGE);
	/* CPU writes commit too. */
	REQUIRE_EQ(magma_buffer_get_handle(b, &h), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	REQUIRE(p != MAP_FAILED);
	close((int)h);
	p[10 * PAGE] = 0xab;
	p[10 * PAGE + 1] = 0xcd;
	CHECK_EQ(committed(b), 7 * PAGE);
	p[0] = 0x11;
	CHECK_EQ(committed(b), 7 * PAGE);
	/* DECOMMIT frees pages and zeroes them. */
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0,
						    2 * PAGE),
		 0);
	CHECK_EQ(committed(b), 5 * PAGE);
	CHECK_EQ(p[0], 0);
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0,
						    16 * PAGE),
		 0);
	CHECK_EQ(committed(b), 0);
	CHECK_EQ(p[10 * PAGE], 0);
	/* Whole-buffer commit is exactly the size. */
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, MAGMA_BUFFER_RANGE_OP_COMMIT, 0,
						    16 * PAGE),
		 0);
	CHECK_EQ(committed(b), 16 * PAGE);
	munmap(p, size);
	/* COMMIT/DECOMMIT are local: nothing but the import reached the service. */
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 2);
	fake_fixture_close(&fx);
}

static void test_buffer_op_misuse(void)
{
	struct fake_fixture fx, fx2;
	magma_buffer_t b, other;
	magma_buffer_id_t id;
	struct fake_record r;
	uint64_t size;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(fake_fixture_open(&fx2, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, 4 * PAGE, &size, &b, &id), 0);
	REQUIRE_EQ(magma_connection_create_buffer(fx2.conn, 4 * PAGE, &size, &other, &id), 0);
	/* Unknown ops, bad handles, a bad connection: refused here. */
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, 0, 0, PAGE),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, 5, 0, PAGE),
		 MAGMA_STATUS_INVALID_ARGS);
	for (uint32_t op = MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES;
	     op <= MAGMA_BUFFER_RANGE_OP_DECOMMIT; op++) {
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, 0, op, 0, PAGE),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, 0xdead0000, op, 0, PAGE),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_connection_perform_buffer_op(0, b, op, 0, PAGE),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_connection_perform_buffer_op(b, b, op, 0, PAGE),
			 MAGMA_STATUS_INVALID_ARGS);
	}
	/* COMMIT/DECOMMIT: alignment, then the end of the buffer, checked here. */
	for (int i = 0; i < 2; i++) {
		uint32_t op = i ? MAGMA_BUFFER_RANGE_OP_DECOMMIT : MAGMA_BUFFER_RANGE_OP_COMMIT;
		magma_status_t past = op == MAGMA_BUFFER_RANGE_OP_COMMIT
					      ? MAGMA_STATUS_MEMORY_ERROR
					      : MAGMA_STATUS_INVALID_ARGS;

		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 1, PAGE),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 0, PAGE + 1),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 0, 0), 0);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 0, 5 * PAGE), past);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 4 * PAGE, PAGE), past);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 3 * PAGE, 2 * PAGE),
			 past);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 2 * PAGE,
							    UINT64_MAX - PAGE + 1),
			 past);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, UINT64_MAX - PAGE + 1,
							    2 * PAGE),
			 past);
		/* the last page exactly is fine; so is another connection's buffer (local op) */
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, b, op, 3 * PAGE, PAGE), 0);
		CHECK_EQ(magma_connection_perform_buffer_op(fx.conn, other, op, 0, PAGE), 0);
	}
	/* POPULATE/DEPOPULATE: sent as they are (feed-forward), OK whatever the range. */
	CHECK_EQ(magma_connection_perform_buffer_op(
			 fx.conn, b, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 3 * PAGE, PAGE),
		 0);
	CHECK_EQ(magma_connection_perform_buffer_op(
			 fx.conn, b, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES, 1, 5 * PAGE),
		 0);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 4); /* import, populate, depopulate, flush */
	r = fake_service_record(fx.fs, 1);
	CHECK_EQ(r.type, WIRE_PERFORM_BUFFER_OP);
	CHECK_EQ(r.words[0], 1); /* buffer_id */
	CHECK_EQ(r.words[1] & 0xffffffff, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES);
	CHECK_EQ(r.words[2], 3 * PAGE);
	CHECK_EQ(r.words[3], PAGE);
	r = fake_service_record(fx.fs, 2);
	CHECK_EQ(r.words[1] & 0xffffffff, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES);
	CHECK_EQ(r.words[2], 1);
	CHECK_EQ(r.words[3], 5 * PAGE);
	fake_fixture_close(&fx);
	fake_fixture_close(&fx2);
}

/* Feed-forward: every mapping of a live buffer is sent as it is; the service decides. */
static void test_map_validation(void)
{
	static const struct {
		uint64_t va, offset, length, flags;
	} sent[] = {
		{0x100000001ull, 0, PAGE, 3},
		{0x100000000ull, 100, PAGE, 3},
		{0x100000000ull, 0, 0, 3},
		{0x100000000ull, 2 * PAGE, 3 * PAGE, 3},
		{UINT64_MAX - PAGE + 1, 0, 2 * PAGE, 3},
		{0x100000000ull, 0, PAGE, 1u << 4},
		{0x100000000ull, PAGE, 3 * PAGE, 0xfull | MAGMA_MAP_FLAG_VENDOR_0},
	};
	const uint64_t n = sizeof(sent) / sizeof(sent[0]);
	struct fake_fixture fx, fx2;
	magma_buffer_t b, other;
	magma_buffer_id_t id, other_id;
	struct fake_record r;
	uint64_t size;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(fake_fixture_open(&fx2, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, 4 * PAGE, &size, &b, &id), 0);
	REQUIRE_EQ(magma_connection_create_buffer(fx2.conn, PAGE, &size, &other, &other_id), 0);
	/* Only what cannot be sent is refused here. */
	CHECK_EQ(magma_connection_map_buffer(fx.conn, 0x100000000ull, 0, 0, PAGE, 3),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_map_buffer(fx.conn, 0x100000000ull, 0xdead0000, 0, PAGE, 3),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_map_buffer(0, 0x100000000ull, b, 0, PAGE, 3),
		 MAGMA_STATUS_INVALID_ARGS);
	for (uint64_t i = 0; i < n; i++)
		CHECK_EQ(magma_connection_map_buffer(fx.conn, sent[i].va, b, sent[i].offset,
						     sent[i].length, sent[i].flags),
			 0);
	/* Another connection's buffer goes by its id, as on Magma. */
	CHECK_EQ(magma_connection_map_buffer(fx.conn, 0x200000000ull, other, 0, PAGE, 3), 0);
	magma_connection_unmap_buffer(fx.conn, 0x100000000ull, b);
	magma_connection_unmap_buffer(fx.conn, 0x100000000ull, 0); /* ignored */
	magma_connection_unmap_buffer(0, 0x100000000ull, b);	   /* ignored */
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), n + 4); /* import, maps, foreign map, unmap, flush */
	for (uint64_t i = 0; i < n; i++) {
		r = fake_service_record(fx.fs, (uint32_t)i + 1);
		CHECK_EQ(r.type, WIRE_MAP_BUFFER);
		CHECK_EQ(r.words[0], sent[i].va);
		CHECK_EQ(r.words[1], id);
		CHECK_EQ(r.words[2], sent[i].offset);
		CHECK_EQ(r.words[3], sent[i].length);
		CHECK_EQ(r.words[4], sent[i].flags);
	}
	r = fake_service_record(fx.fs, (uint32_t)n + 1);
	CHECK_EQ(r.type, WIRE_MAP_BUFFER);
	CHECK_EQ(r.words[1], other_id);
	r = fake_service_record(fx.fs, (uint32_t)n + 2);
	CHECK_EQ(r.type, WIRE_UNMAP_BUFFER);
	CHECK_EQ(r.words[0], 0x100000000ull);
	CHECK_EQ(r.words[1], id);
	fake_fixture_close(&fx);
	fake_fixture_close(&fx2);
}

static void test_get_handle_and_export(void)
{
	struct fake_fixture fx;
	magma_buffer_t b, imp;
	magma_buffer_id_t id, id2;
	magma_handle_t h1, h2, e;
	uint64_t size, size2;
	uint8_t *p1, *p2, *p3;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, 2 * PAGE, &size, &b, &id), 0);
	REQUIRE_EQ(magma_buffer_get_handle(b, &h1), 0);
	REQUIRE_EQ(magma_buffer_get_handle(b, &h2), 0);
	CHECK(h1 != h2);
	CHECK_EQ(ino_of((int)h1), ino_of((int)h2));
	CHECK(fcntl((int)h1, F_GETFD) & FD_CLOEXEC);
	/* New open file descriptions: file offsets are independent. */
	CHECK_EQ(lseek((int)h1, 100, SEEK_SET), 100);
	CHECK_EQ(lseek((int)h2, 0, SEEK_CUR), 0);
	p1 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h1, 0);
	p2 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h2, 0);
	REQUIRE(p1 != MAP_FAILED && p2 != MAP_FAILED);
	close((int)h1);
	close((int)h2);
	/* Closing the handles does not undo the mappings; both share memory. */
	p1[PAGE + 5] = 0x5a;
	CHECK_EQ(p2[PAGE + 5], 0x5a);
	/* Export, then import into the same connection: a new buffer and id, the same memory. */
	REQUIRE_EQ(magma_buffer_export(b, &e), 0);
	REQUIRE(fake_service_wait_count(fx.fs, 1));
	CHECK_EQ(ino_of((int)e), fake_service_record(fx.fs, 0).fd_ino);
	REQUIRE_EQ(magma_connection_import_buffer(fx.conn, e, &size2, &imp, &id2), 0);
	CHECK(imp != b);
	CHECK_EQ(id2, id + 1);
	CHECK_EQ(size2, size);
	REQUIRE_EQ(magma_buffer_get_handle(imp, &h1), 0);
	p3 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h1, 0);
	REQUIRE(p3 != MAP_FAILED);
	close((int)h1);
	CHECK_EQ(p3[PAGE + 5], 0x5a);
	p3[7] = 7;
	CHECK_EQ(p1[7], 7);
	CHECK_EQ(committed(imp), committed(b));
	/* Bad arguments */
	CHECK_EQ(magma_buffer_get_handle(b, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_get_handle(0, &h1), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_export(b, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_export(fx.conn, &h1), MAGMA_STATUS_INVALID_ARGS);
	munmap(p1, size);
	munmap(p2, size);
	munmap(p3, size);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	fake_fixture_close(&fx);
}

/* Each import of something that is not a buffer fails and consumes the fd. */
static void test_import_validation(void)
{
	char path[] = "/tmp/libmagma-test-XXXXXX";
	struct fake_fixture fx;
	magma_buffer_t b;
	magma_buffer_id_t id;
	uint64_t size;
	int fds[2], fd;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE(pipe(fds) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fds[0], &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fds[0], &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	/* a regular file on disk (not shmem: F_GET_SEALS fails) */
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	CHECK(ftruncate(fd, PAGE) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	/* a memfd that cannot be sealed against shrinking (no MFD_ALLOW_SEALING) */
	fd = memfd_create("unsealable", 0);
	CHECK(ftruncate(fd, PAGE) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	/* an empty memfd, and one of an odd size */
	fd = memfd_create("empty", MFD_ALLOW_SEALING);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	fd = memfd_create("odd", MFD_ALLOW_SEALING);
	CHECK(ftruncate(fd, 100) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	/* NULL outs still consume the handle */
	fd = memfd_create("ok", MFD_ALLOW_SEALING);
	CHECK(ftruncate(fd, PAGE) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, NULL, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	fd = memfd_create("ok", MFD_ALLOW_SEALING);
	CHECK(ftruncate(fd, PAGE) == 0);
	CHECK_EQ(magma_connection_import_buffer(0, (magma_handle_t)fd, &size, &b, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	/* not an fd at all: INTERNAL_ERROR, as Magma's Linux build */
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)-1, &size, &b, &id),
		 MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, 9999, &size, &b, &id),
		 MAGMA_STATUS_INTERNAL_ERROR);
	/* a plain memfd from elsewhere is fine */
	fd = memfd_create("foreign", MFD_ALLOW_SEALING);
	CHECK(ftruncate(fd, 3 * PAGE) == 0);
	CHECK_EQ(magma_connection_import_buffer(fx.conn, (magma_handle_t)fd, &size, &b, &id), 0);
	CHECK_EQ(size, 3 * PAGE);
	CHECK_EQ(id, 1);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 2);
	fake_fixture_close(&fx);
}

static void test_cache_policy_clean_and_name(void)
{
	struct fake_fixture fx;
	magma_cache_policy_t pol;
	magma_buffer_t b;
	magma_buffer_id_t id;
	uint64_t size;
	char longname[300];

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, 2 * PAGE, &size, &b, &id), 0);
	CHECK_EQ(magma_buffer_get_cache_policy(b, &pol), 0);
	CHECK_EQ(pol, MAGMA_CACHE_POLICY_CACHED);
	CHECK_EQ(magma_buffer_set_cache_policy(b, MAGMA_CACHE_POLICY_WRITE_COMBINING), 0);
	CHECK_EQ(magma_buffer_get_cache_policy(b, &pol), 0);
	CHECK_EQ(pol, MAGMA_CACHE_POLICY_WRITE_COMBINING);
	CHECK_EQ(magma_buffer_set_cache_policy(b, MAGMA_CACHE_POLICY_UNCACHED), 0);
	CHECK_EQ(magma_buffer_set_cache_policy(b, 3), MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_buffer_get_cache_policy(b, &pol), 0);
	CHECK_EQ(pol, MAGMA_CACHE_POLICY_UNCACHED);
	CHECK_EQ(magma_buffer_get_cache_policy(b, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_set_cache_policy(0, 0), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_get_cache_policy(0, &pol), MAGMA_STATUS_INVALID_ARGS);

	CHECK_EQ(magma_buffer_clean_cache(b, 0, 2 * PAGE, MAGMA_CACHE_OPERATION_CLEAN), 0);
	CHECK_EQ(magma_buffer_clean_cache(b, 10, 20, MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE), 0);
	CHECK_EQ(magma_buffer_clean_cache(b, 0, 0, MAGMA_CACHE_OPERATION_CLEAN), 0);
	CHECK_EQ(magma_buffer_clean_cache(b, 0, 2 * PAGE + 1, MAGMA_CACHE_OPERATION_CLEAN),
		 MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_buffer_clean_cache(b, PAGE, UINT64_MAX, MAGMA_CACHE_OPERATION_CLEAN),
		 MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_buffer_clean_cache(b, 3 * PAGE, 0, MAGMA_CACHE_OPERATION_CLEAN),
		 MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_buffer_clean_cache(b, 0, PAGE, 2), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_clean_cache(0, 0, PAGE, 0), MAGMA_STATUS_INVALID_ARGS);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(magma_buffer_set_name(b, "vertex data"), 0);
	CHECK_EQ(magma_buffer_set_name(b, longname), 0);
	CHECK_EQ(magma_buffer_set_name(b, ""), 0);
	CHECK_EQ(magma_buffer_set_name(b, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_buffer_set_name(0, "x"), MAGMA_STATUS_INVALID_ARGS);
	{
		magma_buffer_info_t info;

		CHECK_EQ(magma_buffer_get_info(b, NULL), MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_buffer_get_info(0, &info), MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(magma_buffer_get_info(fx.conn, &info), MAGMA_STATUS_INVALID_ARGS);
	}
	fake_fixture_close(&fx);
}

static void test_release(void)
{
	struct fake_fixture fx, fx2;
	magma_buffer_t b1, b2, b3;
	magma_buffer_id_t id;
	magma_buffer_info_t info;
	struct fake_record r;
	uint64_t size;
	magma_handle_t h;
	int fd;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(fake_fixture_open(&fx2, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b1, &id), 0);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b2, &id), 0);
	REQUIRE_EQ(magma_connection_create_buffer(fx2.conn, PAGE, &size, &b3, &id), 0);
	REQUIRE_EQ(magma_buffer_get_handle(b1, &h), 0);
	fd = (int)h;
	magma_connection_release_buffer(fx.conn, b1);
	CHECK_EQ(magma_buffer_get_info(b1, &info), MAGMA_STATUS_INVALID_ARGS);
	magma_connection_release_buffer(fx.conn, b1); /* twice: ignored */
	magma_connection_release_buffer(fx.conn, 0);
	magma_connection_release_buffer(fx.conn, 0xdeadbeef);
	magma_connection_release_buffer(0, b2);
	CHECK_EQ(magma_buffer_get_info(b2, &info), 0);
	/* A handle got earlier stays usable after release. */
	CHECK(fd_is_open(fd));
	close(fd);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 4); /* import, import, release, flush */
	r = fake_service_record(fx.fs, 2);
	CHECK_EQ(r.type, WIRE_RELEASE_BUFFER);
	CHECK_EQ(r.words[0], 1);
	/*
	 * A buffer released through another connection: freed, its id sent to that connection (as
	 * Magma does; the service there refuses it).
	 */
	magma_connection_release_buffer(fx2.conn, b2);
	CHECK_EQ(magma_buffer_get_info(b2, &info), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_flush(fx2.conn), 0);
	REQUIRE_EQ(fake_service_count(fx2.fs), 3); /* import, release of b2, flush */
	r = fake_service_record(fx2.fs, 1);
	CHECK_EQ(r.type, WIRE_RELEASE_BUFFER);
	CHECK_EQ(r.words[0], 2);
	/* Releasing the connection releases its buffers. */
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b2, &id), 0);
	magma_connection_release(fx.conn);
	CHECK_EQ(magma_buffer_get_info(b2, &info), MAGMA_STATUS_INVALID_ARGS);
	magma_connection_release_buffer(fx.conn, b2); /* connection gone: ignored */
	magma_connection_release(fx.conn);	      /* twice: ignored */
	CHECK_EQ(magma_buffer_get_info(b3, &info), 0);
	magma_device_release(fx.dev);
	fake_service_stop(fx.fs);
	fake_fixture_close(&fx2);
}

/*
 * Buffers released in any order (middle, oldest, newest, then a scrambled rest): each release
 * sends its own id once, frees only that buffer, and the others stay usable.
 */
static void test_release_any_order(void)
{
	enum { COUNT = 64 };
	struct fake_fixture fx;
	magma_buffer_t bufs[COUNT];
	magma_buffer_id_t ids[COUNT];
	magma_buffer_info_t info;
	bool live[COUNT];
	uint32_t order[COUNT], n = 0, records;
	uint64_t size;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < COUNT; i++) {
		REQUIRE_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &bufs[i], &ids[i]),
			   0);
		live[i] = true;
	}
	order[n++] = COUNT / 2;
	order[n++] = 0;
	order[n++] = COUNT - 1;
	for (uint32_t i = 0; i < COUNT; i++) {
		uint32_t j = (i * 37 + 11) % COUNT; /* a permutation: 37 is prime to 64 */

		if (j != COUNT / 2 && j != 0 && j != COUNT - 1)
			order[n++] = j;
	}
	REQUIRE_EQ(n, COUNT);
	for (uint32_t k = 0; k < COUNT; k++) {
		uint32_t i = order[k];

		magma_connection_release_buffer(fx.conn, bufs[i]);
		magma_connection_release_buffer(fx.conn, bufs[i]); /* twice: ignored */
		live[i] = false;
		if (k % 7)
			continue;
		for (uint32_t j = 0; j < COUNT; j++)
			CHECK_EQ(magma_buffer_get_info(bufs[j], &info),
				 live[j] ? MAGMA_STATUS_OK : MAGMA_STATUS_INVALID_ARGS);
	}
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	records = fake_service_count(fx.fs);
	REQUIRE_EQ(records, 2 * COUNT + 1); /* imports, releases, flush */
	for (uint32_t k = 0; k < COUNT; k++) {
		struct fake_record r = fake_service_record(fx.fs, COUNT + k);

		CHECK_EQ(r.type, WIRE_RELEASE_BUFFER);
		CHECK_EQ(r.words[0], ids[order[k]]);
	}
	fake_fixture_close(&fx);
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

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_create_sizes_and_ids),
	SIM_TEST(test_committed_bytes),
	SIM_TEST(test_buffer_op_misuse),
	SIM_TEST(test_map_validation),
	SIM_TEST(test_get_handle_and_export),
	SIM_TEST(test_import_validation),
	SIM_TEST(test_cache_policy_clean_and_name),
	SIM_TEST(test_release),
	SIM_TEST(test_release_any_order),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

/* SPDX-License-Identifier: MIT */
/*
 * test_semaphore.c - libmagma semaphores against the in-test fake service: ids and what the
 * service is told, signal / reset / export readiness (seen through poll on the exported fd),
 * sharing through export + import, one-shot imports ignoring reset, import validation (a
 * non-eventfd fails and is consumed), release and bad handles.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_service.h"
#include "sim_test.h"

static bool readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_create_signal_reset(void)
{
	struct fake_fixture fx;
	magma_semaphore_t s1, s2;
	magma_semaphore_id_t id1, id2;
	magma_handle_t e1, e1b;
	struct fake_record r;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &s1, &id1), 0);
	REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &s2, &id2), 0);
	CHECK_EQ(id1, 1);
	CHECK_EQ(id2, 2);
	CHECK(s1 != s2);
	REQUIRE_EQ(magma_semaphore_export(s1, &e1), 0);
	REQUIRE_EQ(magma_semaphore_export(s1, &e1b), 0);
	CHECK(e1 != e1b);
	CHECK(!readable((int)e1));
	magma_semaphore_signal(s1);
	CHECK(readable((int)e1));
	CHECK(readable((int)e1b));
	/* Signal is idempotent: one reset clears any number of signals. */
	magma_semaphore_signal(s1);
	magma_semaphore_signal(s1);
	magma_semaphore_reset(s1);
	CHECK(!readable((int)e1));
	magma_semaphore_reset(s1); /* reset when not signaled: no-op */
	CHECK(!readable((int)e1));
	/* A signal through the exported fd is the semaphore's signal. */
	{
		uint64_t one = 1;

		CHECK(write((int)e1, &one, sizeof(one)) == sizeof(one));
	}
	CHECK(readable((int)e1b));
	magma_semaphore_reset(s1);
	CHECK(!readable((int)e1b));
	/* s2 is independent */
	magma_semaphore_signal(s2);
	CHECK(!readable((int)e1));
	close((int)e1);
	close((int)e1b);
	/* What the service saw: two imports with eventfds, ids, flags 0. */
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	r = fake_service_record(fx.fs, 0);
	CHECK_EQ(r.type, WIRE_IMPORT_SEMAPHORE);
	CHECK_EQ(r.fd_count, 1);
	CHECK_EQ(r.words[0], 1);
	CHECK_EQ(r.words[1], 0);
	CHECK_EQ(fake_service_record(fx.fs, 1).words[0], 2);
	/* Bad arguments */
	CHECK_EQ(magma_connection_create_semaphore(fx.conn, NULL, &id1), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_semaphore(fx.conn, &s1, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_semaphore(0, &s1, &id1), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_semaphore_export(s1, NULL), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_semaphore_export(0, &e1), MAGMA_STATUS_INVALID_ARGS);
	magma_semaphore_signal(0);
	magma_semaphore_reset(0xdeadbeef);
	magma_semaphore_signal(fx.conn); /* a connection is not a semaphore */
	fake_fixture_close(&fx);
}

static void test_import_shares_and_one_shot(void)
{
	struct fake_fixture fx;
	magma_semaphore_t s, imp, one_shot;
	magma_semaphore_id_t id, id_imp, id_os;
	magma_handle_t e, mon;
	struct fake_record r;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &s, &id), 0);
	REQUIRE_EQ(magma_semaphore_export(s, &mon), 0);
	REQUIRE_EQ(magma_semaphore_export(s, &e), 0);
	REQUIRE_EQ(magma_connection_import_semaphore2(fx.conn, e, 0, &imp, &id_imp), 0);
	CHECK_EQ(id_imp, 2);
	REQUIRE_EQ(magma_semaphore_export(s, &e), 0);
	REQUIRE_EQ(magma_connection_import_semaphore2(fx.conn, e, MAGMA_IMPORT_SEMAPHORE_ONE_SHOT,
						      &one_shot, &id_os),
		   0);
	CHECK_EQ(id_os, 3);
	magma_semaphore_signal(imp);
	CHECK(readable((int)mon));
	magma_semaphore_reset(one_shot); /* ignored */
	CHECK(readable((int)mon));
	magma_semaphore_reset(imp);
	CHECK(!readable((int)mon));
	magma_semaphore_signal(one_shot); /* signal works on one-shot imports */
	CHECK(readable((int)mon));
	magma_semaphore_reset(s);
	CHECK(!readable((int)mon));
	close((int)mon);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	r = fake_service_record(fx.fs, 2);
	CHECK_EQ(r.type, WIRE_IMPORT_SEMAPHORE);
	CHECK_EQ(r.words[0], 3);
	CHECK_EQ(r.words[1], MAGMA_IMPORT_SEMAPHORE_ONE_SHOT);
	CHECK_EQ(r.fd_ino, fake_service_record(fx.fs, 0).fd_ino);
	fake_fixture_close(&fx);
}

static void test_import_validation(void)
{
	struct fake_fixture fx;
	magma_semaphore_t s;
	magma_semaphore_id_t id;
	int fds[2], fd;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE(pipe(fds) == 0);
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)fds[0], 0, &s, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fds[0]));
	close(fds[1]);
	fd = memfd_create("not-an-eventfd", 0);
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)fd, 0, &s, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	/* not an fd: INTERNAL_ERROR, as Magma's Linux build */
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)-1, 0, &s, &id),
		 MAGMA_STATUS_INTERNAL_ERROR);
	/* NULL outs consume a good eventfd too */
	fd = eventfd(0, 0);
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)fd, 0, NULL, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	fd = eventfd(0, 0);
	CHECK_EQ(magma_connection_import_semaphore2(0, (magma_handle_t)fd, 0, &s, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	/* A foreign blocking eventfd is accepted (and reset never blocks on it). */
	fd = eventfd(0, 0);
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)fd, 0, &s, &id), 0);
	CHECK_EQ(id, 1);
	magma_semaphore_reset(s);
	magma_semaphore_signal(s);
	magma_semaphore_reset(s);
	/* Unknown flags are refused before sending, as Magma's import does; the fd is consumed. */
	fd = eventfd(0, 0);
	CHECK_EQ(magma_connection_import_semaphore2(fx.conn, (magma_handle_t)fd, 2, &s, &id),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK(!fd_is_open(fd));
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 2);
	fake_fixture_close(&fx);
}

static void test_release(void)
{
	struct fake_fixture fx, fx2;
	magma_semaphore_t s1, s2, s3;
	magma_semaphore_id_t id;
	magma_handle_t e;
	struct fake_record r;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(fake_fixture_open(&fx2, 0, true), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &s1, &id), 0);
	REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &s2, &id), 0);
	REQUIRE_EQ(magma_connection_create_semaphore(fx2.conn, &s3, &id), 0);
	REQUIRE_EQ(magma_semaphore_export(s1, &e), 0);
	magma_connection_release_semaphore(fx.conn, s1);
	CHECK_EQ(magma_semaphore_export(s1, &e), MAGMA_STATUS_INVALID_ARGS);
	magma_connection_release_semaphore(fx.conn, s1);  /* twice: ignored */
	magma_connection_release_semaphore(fx2.conn, s2); /* foreign: ignored */
	magma_connection_release_semaphore(fx.conn, 0);
	magma_connection_release_semaphore(0, s2);
	magma_semaphore_signal(s2);
	/* The exported fd outlives the semaphore. */
	CHECK(fd_is_open((int)e));
	close((int)e);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 4);
	r = fake_service_record(fx.fs, 2);
	CHECK_EQ(r.type, WIRE_RELEASE_SEMAPHORE);
	CHECK_EQ(r.words[0], 1);
	fake_fixture_close(&fx);
	/* Connection release took s2 with it; s3 lives on. */
	CHECK_EQ(magma_semaphore_export(s2, &e), MAGMA_STATUS_INVALID_ARGS);
	magma_semaphore_signal(s2);
	CHECK_EQ(magma_semaphore_export(s3, &e), 0);
	close((int)e);
	fake_fixture_close(&fx2);
}

/* Semaphores released oldest, newest, then from the middle: each sends its own id once. */
static void test_release_any_order(void)
{
	enum { COUNT = 16 };
	static const uint32_t order[COUNT] = {0, 15, 7, 8, 1, 14, 2, 13, 3, 12, 4, 11, 5, 10, 6, 9};
	struct fake_fixture fx;
	magma_semaphore_t sems[COUNT];
	magma_semaphore_id_t ids[COUNT];
	magma_handle_t e;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < COUNT; i++)
		REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &sems[i], &ids[i]), 0);
	for (uint32_t k = 0; k < COUNT; k++) {
		magma_connection_release_semaphore(fx.conn, sems[order[k]]);
		magma_connection_release_semaphore(fx.conn, sems[order[k]]); /* twice: ignored */
		CHECK_EQ(magma_semaphore_export(sems[order[k]], &e), MAGMA_STATUS_INVALID_ARGS);
		if (k + 1 < COUNT) {
			REQUIRE_EQ(magma_semaphore_export(sems[order[k + 1]], &e), 0);
			close((int)e);
		}
	}
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 2 * COUNT + 1); /* imports, releases, flush */
	for (uint32_t k = 0; k < COUNT; k++) {
		struct fake_record r = fake_service_record(fx.fs, COUNT + k);

		CHECK_EQ(r.type, WIRE_RELEASE_SEMAPHORE);
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
	SIM_TEST(test_create_signal_reset),
	SIM_TEST(test_import_shares_and_one_shot),
	SIM_TEST(test_import_validation),
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

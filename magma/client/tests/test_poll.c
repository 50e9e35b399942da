/* SPDX-License-Identifier: MIT */
/*
 * test_poll.c - magma_poll: any-of over semaphores and handles, per-item results, zero and
 * bounded timeouts, an infinite wait satisfied from another thread, ignored items, bad
 * arguments, and that polling never resets a semaphore. Notification-channel hang-ups are in
 * test_connection.c.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "fake_service.h"
#include "sim_test.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct fake_fixture fx;
static magma_semaphore_t sem[3];

static void item_sem(magma_poll_item_t *it, magma_semaphore_t s)
{
	*it = (magma_poll_item_t){.semaphore = s,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED,
				  .result = 0xff};
}

static void test_any_of(void)
{
	magma_poll_item_t items[3];

	for (int i = 0; i < 3; i++)
		item_sem(&items[i], sem[i]);
	magma_semaphore_signal(sem[1]);
	CHECK_EQ(magma_poll(items, 3, 0), MAGMA_STATUS_OK);
	CHECK_EQ(items[0].result, 0);
	CHECK_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
	CHECK_EQ(items[2].result, 0);
	/* Not reset by polling. */
	CHECK_EQ(magma_poll(items, 3, 1000000), MAGMA_STATUS_OK);
	CHECK_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
	magma_semaphore_signal(sem[2]);
	CHECK_EQ(magma_poll(items, 3, 0), MAGMA_STATUS_OK);
	CHECK_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
	CHECK_EQ(items[2].result, MAGMA_POLL_CONDITION_SIGNALED);
	magma_semaphore_reset(sem[1]);
	magma_semaphore_reset(sem[2]);
	CHECK_EQ(magma_poll(items, 3, 0), MAGMA_STATUS_TIMED_OUT);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(items[i].result, 0);
}

static void test_handles(void)
{
	magma_poll_item_t items[2];
	magma_handle_t e;

	REQUIRE_EQ(magma_semaphore_export(sem[0], &e), 0);
	items[0] = (magma_poll_item_t){.handle = e,
				       .type = MAGMA_POLL_TYPE_HANDLE,
				       .condition = MAGMA_POLL_CONDITION_READABLE};
	item_sem(&items[1], sem[2]);
	CHECK_EQ(magma_poll(items, 2, 0), MAGMA_STATUS_TIMED_OUT);
	magma_semaphore_signal(sem[0]);
	CHECK_EQ(magma_poll(items, 2, 0), MAGMA_STATUS_OK);
	CHECK_EQ(items[0].result, MAGMA_POLL_CONDITION_READABLE);
	CHECK_EQ(items[1].result, 0);
	magma_semaphore_reset(sem[0]);
	close((int)e);
	/* A closed fd cannot be waited on: INTERNAL_ERROR, as Magma. */
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INTERNAL_ERROR);
}

static void test_timeouts(void)
{
	magma_poll_item_t it;
	uint64_t t0, dt;

	item_sem(&it, sem[0]);
	t0 = now_ns();
	CHECK_EQ(magma_poll(&it, 1, 0), MAGMA_STATUS_TIMED_OUT);
	dt = now_ns() - t0;
	CHECK(dt < 1000000000ull);
	t0 = now_ns();
	CHECK_EQ(magma_poll(&it, 1, 30000000ull), MAGMA_STATUS_TIMED_OUT);
	dt = now_ns() - t0;
	CHECK(dt >= 30000000ull);
	CHECK(dt < 2000000000ull);
	/* A tiny timeout still times out. */
	CHECK_EQ(magma_poll(&it, 1, 1), MAGMA_STATUS_TIMED_OUT);
	/* No items: nothing to wait for, as Magma. */
	CHECK_EQ(magma_poll(NULL, 0, 1000), MAGMA_STATUS_INVALID_ARGS);
}

static void *signal_later(void *arg)
{
	struct timespec ts = {0, 30 * 1000 * 1000};

	nanosleep(&ts, NULL);
	magma_semaphore_signal(*(magma_semaphore_t *)arg);
	return NULL;
}

static void test_forever_satisfied_by_other_thread(void)
{
	magma_poll_item_t items[2];
	pthread_t th;
	uint64_t t0, dt;

	item_sem(&items[0], sem[0]);
	item_sem(&items[1], sem[1]);
	t0 = now_ns();
	REQUIRE(pthread_create(&th, NULL, signal_later, &sem[1]) == 0);
	CHECK_EQ(magma_poll(items, 2, UINT64_MAX), MAGMA_STATUS_OK);
	dt = now_ns() - t0;
	pthread_join(th, NULL);
	CHECK_EQ(items[0].result, 0);
	CHECK_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
	CHECK(dt >= 20000000ull);
	CHECK(dt < 5000000000ull);
	/* And a finite but long deadline, likewise. */
	magma_semaphore_reset(sem[1]);
	REQUIRE(pthread_create(&th, NULL, signal_later, &sem[0]) == 0);
	CHECK_EQ(magma_poll(items, 2, 10000000000ull), MAGMA_STATUS_OK);
	pthread_join(th, NULL);
	CHECK_EQ(items[0].result, MAGMA_POLL_CONDITION_SIGNALED);
	magma_semaphore_reset(sem[0]);
}

static void test_ignored_and_bad_items(void)
{
	magma_poll_item_t items[2];

	/* condition 0: ignored whatever the rest says */
	items[0] =
		(magma_poll_item_t){.semaphore = 0xdead, .type = 77, .condition = 0, .result = 5};
	item_sem(&items[1], sem[0]);
	magma_semaphore_signal(sem[0]);
	CHECK_EQ(magma_poll(items, 2, 0), MAGMA_STATUS_OK);
	CHECK_EQ(items[0].result, 0);
	CHECK_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
	magma_semaphore_reset(sem[0]);
	/* bad type, bad conditions, bad handles */
	item_sem(&items[0], sem[0]);
	items[0].type = 3;
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	item_sem(&items[0], sem[0]);
	items[0].condition = MAGMA_POLL_CONDITION_READABLE;
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	items[0] = (magma_poll_item_t){.handle = 0,
				       .type = MAGMA_POLL_TYPE_HANDLE,
				       .condition = MAGMA_POLL_CONDITION_SIGNALED};
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	item_sem(&items[0], 0);
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	item_sem(&items[0], 0xdeadbeef);
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	item_sem(&items[0], fx.conn);
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INVALID_ARGS);
	items[0] = (magma_poll_item_t){.handle = (magma_handle_t)-1,
				       .type = MAGMA_POLL_TYPE_HANDLE,
				       .condition = MAGMA_POLL_CONDITION_READABLE};
	CHECK_EQ(magma_poll(items, 1, 0), MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_poll(NULL, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

static int fds_at_start;

/*
 * Each test gets a fresh connection with three unsignaled semaphores, and must close every fd
 * it opened (counted around the fixture, which closes its own).
 */
static void setup(void)
{
	magma_semaphore_id_t id;

	fds_at_start = fake_count_fds();
	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	for (int i = 0; i < 3; i++)
		REQUIRE_EQ(magma_connection_create_semaphore(fx.conn, &sem[i], &id),
			   MAGMA_STATUS_OK);
}

static void teardown(void)
{
	fake_fixture_close(&fx);
	CHECK_EQ(fake_count_fds(), fds_at_start);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_any_of),
	SIM_TEST(test_handles),
	SIM_TEST(test_timeouts),
	SIM_TEST(test_forever_satisfied_by_other_thread),
	SIM_TEST(test_ignored_and_bad_items),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

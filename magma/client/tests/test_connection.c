/* SPDX-License-Identifier: MIT */
/*
 * test_connection.c - the libmagma connection send path against the in-test fake service:
 * flush and get_error, feed-forward errors surfacing through flush, get_error, the
 * notification channel (magma_poll CONNECTION_LOST) and every later call, silent hang-ups,
 * flow control blocking and unblocking on WIRE_EVT_MESSAGES_CONSUMED (messages and bytes),
 * notification reads, contexts, command submission layouts and their misuse, performance
 * counter calls, and concurrent senders never interleaving.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_service.h"
#include "sim_test.h"

#define PAGE 4096ull

/* Changes a field of the fake under its lock (its thread reads them). */
#define FAKE_SET(fs, field, value)                                                                 \
	do {                                                                                       \
		pthread_mutex_lock(&(fs)->lock);                                                   \
		(fs)->field = (value);                                                             \
		pthread_mutex_unlock(&(fs)->lock);                                                 \
	} while (0)

static int fake_pool_fd(struct fake_service *fs)
{
	int fd;

	pthread_mutex_lock(&fs->lock);
	fd = fs->pool_fd;
	pthread_mutex_unlock(&fs->lock);
	return fd;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void test_flush_and_get_error_ok(void)
{
	struct fake_fixture fx;
	uint32_t ctx[3];

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_get_error(fx.conn), 0);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(magma_connection_create_context2(fx.conn, MAGMA_PRIORITY_MEDIUM, &ctx[i]),
			 0);
		CHECK_EQ(ctx[i], i + 1);
	}
	magma_connection_release_context(fx.conn, ctx[1]);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	/* get_error asks the service (a flush) while it knows of no error, as Magma's does. */
	REQUIRE_EQ(fake_service_count(fx.fs), 7);
	CHECK_EQ(fake_service_record(fx.fs, 0).type, WIRE_FLUSH);
	CHECK_EQ(fake_service_record(fx.fs, 1).type, WIRE_FLUSH);
	CHECK_EQ(fake_service_record(fx.fs, 2).type, WIRE_CREATE_CONTEXT);
	CHECK_EQ(fake_service_record(fx.fs, 4).words[0] & 0xffffffff, 3);
	CHECK_EQ(fake_service_record(fx.fs, 4).words[1], MAGMA_PRIORITY_MEDIUM);
	CHECK_EQ(fake_service_record(fx.fs, 5).type, WIRE_RELEASE_CONTEXT);
	CHECK_EQ(fake_service_record(fx.fs, 5).words[0] & 0xffffffff, 2);
	CHECK_EQ(magma_connection_create_context2(fx.conn, MAGMA_PRIORITY_LOW, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_create_context2(0, MAGMA_PRIORITY_LOW, ctx),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_flush(0), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_get_error(0), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_get_error(fx.dev), MAGMA_STATUS_INVALID_ARGS);
	magma_connection_release_context(0, 1);
	fake_fixture_close(&fx);
}

/*
 * After a remote error get_error and flush return it; every call that would send returns
 * CONNECTION_LOST (Magma's PEER_CLOSED), as does a read of the drained notification channel;
 * nothing is sent, void calls included.
 */
static void check_sticky(struct fake_fixture *fx, magma_status_t want)
{
	magma_buffer_t b;
	magma_buffer_id_t id;
	magma_semaphore_t s;
	uint64_t size, buf[4];
	magma_bool_t more;
	uint32_t ctx;
	uint32_t before = fake_service_count(fx->fs);

	CHECK_EQ(magma_connection_get_error(fx->conn), want);
	CHECK_EQ(magma_connection_flush(fx->conn), want);
	CHECK_EQ(magma_connection_create_context2(fx->conn, MAGMA_PRIORITY_LOW, &ctx),
		 MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_create_buffer(fx->conn, PAGE, &size, &b, &id),
		 MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_create_semaphore(fx->conn, &s, &id),
		 MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_read_notification_channel(fx->conn, buf, sizeof(buf), &size,
							    &more),
		 MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_execute_inline_commands(fx->conn, 1, 0, NULL),
		 MAGMA_STATUS_CONNECTION_LOST);
	magma_connection_release_context(fx->conn, 1);
	CHECK_EQ(fake_service_count(fx->fs), before);
	CHECK_EQ(magma_connection_get_error(fx->conn), want);
}

static void check_notification_hangup(struct fake_fixture *fx)
{
	magma_poll_item_t it = {
		.handle = magma_connection_get_notification_channel_handle(fx->conn),
		.type = MAGMA_POLL_TYPE_HANDLE,
		.condition = MAGMA_POLL_CONDITION_READABLE,
	};

	CHECK_EQ(magma_poll(&it, 1, 1000000000ull), MAGMA_STATUS_CONNECTION_LOST);
}

static void test_feed_forward_error_via_flush(void)
{
	struct fake_fixture fx;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	FAKE_SET(fx.fs, fail_on_type, WIRE_RELEASE_CONTEXT);
	FAKE_SET(fx.fs, fail_status, MAGMA_STATUS_INVALID_ARGS);
	magma_connection_release_context(fx.conn, 42); /* "unknown id": the service closes */
	CHECK_EQ(magma_connection_flush(fx.conn), MAGMA_STATUS_INVALID_ARGS);
	check_sticky(&fx, MAGMA_STATUS_INVALID_ARGS);
	check_notification_hangup(&fx);
	fake_fixture_close(&fx);
}

static void test_error_via_get_error_only(void)
{
	struct fake_fixture fx;
	magma_status_t st = MAGMA_STATUS_OK;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	fake_service_fail(fx.fs, MAGMA_STATUS_CONTEXT_KILLED);
	/* The notification channel hangs up... */
	check_notification_hangup(&fx);
	/* ...and get_error reports the status. */
	for (int i = 0; i < 500 && st == MAGMA_STATUS_OK; i++) {
		st = magma_connection_get_error(fx.conn);
		if (st == MAGMA_STATUS_OK)
			sleep_ms(2);
	}
	CHECK_EQ(st, MAGMA_STATUS_CONTEXT_KILLED);
	check_sticky(&fx, MAGMA_STATUS_CONTEXT_KILLED);
	fake_fixture_close(&fx);
}

/*
 * A notification queued just before the service closes the connection (msd-sim's fault payload
 * before CONTEXT_KILLED) is still delivered: magma_poll reports the channel readable and the read
 * returns it with MAGMA_STATUS_OK; only the drained channel reports the loss and the error.
 */
static void test_notification_before_error_is_delivered(void)
{
	struct fake_fixture fx;
	magma_poll_item_t it = {.type = MAGMA_POLL_TYPE_HANDLE,
				.condition = MAGMA_POLL_CONDITION_READABLE};
	uint8_t buf[64];
	uint64_t size = 0;
	magma_bool_t more = 1;
	magma_status_t st = MAGMA_STATUS_OK;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	it.handle = magma_connection_get_notification_channel_handle(fx.conn);
	REQUIRE_EQ(fake_service_notify(fx.fs, "fault!", 6), 0);
	fake_service_fail(fx.fs, MAGMA_STATUS_CONTEXT_KILLED);
	/* The error is known to the client already... */
	for (int i = 0; i < 500 && st == MAGMA_STATUS_OK; i++) {
		st = magma_connection_get_error(fx.conn);
		if (st == MAGMA_STATUS_OK)
			sleep_ms(2);
	}
	CHECK_EQ(st, MAGMA_STATUS_CONTEXT_KILLED);
	/* ...yet the payload comes first, readable despite the hang-up. */
	CHECK_EQ(magma_poll(&it, 1, 1000000000ull), MAGMA_STATUS_OK);
	CHECK_EQ(it.result, MAGMA_POLL_CONDITION_READABLE);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		MAGMA_STATUS_OK);
	CHECK_EQ(size, 6);
	CHECK(memcmp(buf, "fault!", 6) == 0);
	CHECK_EQ(more, 0);
	/* Drained: the loss; the reason stays with get_error. */
	CHECK_EQ(magma_poll(&it, 1, 1000000000ull), MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_get_error(fx.conn), MAGMA_STATUS_CONTEXT_KILLED);
	fake_fixture_close(&fx);
}

static void test_silent_hangup(void)
{
	struct fake_fixture fx;
	uint32_t ctx;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	fake_service_fail(fx.fs, 0);
	check_notification_hangup(&fx);
	/* A send may still succeed into the dead socket or fail with EPIPE; either way the
	 * connection is lost by the time flush answers. */
	magma_connection_create_context2(fx.conn, MAGMA_PRIORITY_LOW, &ctx);
	CHECK_EQ(magma_connection_flush(fx.conn), MAGMA_STATUS_CONNECTION_LOST);
	check_sticky(&fx, MAGMA_STATUS_CONNECTION_LOST);
	fake_fixture_close(&fx);
}

static void test_send_after_hangup_is_connection_lost(void)
{
	struct fake_fixture fx;
	magma_status_t st = MAGMA_STATUS_OK;
	uint32_t ctx;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	fake_service_fail(fx.fs, 0);
	for (int i = 0; i < 100 && st == MAGMA_STATUS_OK; i++)
		st = magma_connection_create_context2(fx.conn, MAGMA_PRIORITY_LOW, &ctx);
	CHECK_EQ(st, MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_get_error(fx.conn), MAGMA_STATUS_CONNECTION_LOST);
	fake_fixture_close(&fx);
}

struct sender {
	magma_connection_t conn;
	int count;
	atomic_int done;
	magma_status_t status;
};

static void *send_contexts(void *arg)
{
	struct sender *s = arg;

	for (int i = 0; i < s->count; i++) {
		uint32_t ctx;

		s->status = magma_connection_create_context2(s->conn, MAGMA_PRIORITY_LOW, &ctx);
		if (s->status)
			break;
		atomic_fetch_add(&s->done, 1);
	}
	return NULL;
}

/* Waits (up to 5 s) for a sender to have finished @n calls. */
static void wait_done(atomic_int *done, int n)
{
	for (int i = 0; i < 2500 && atomic_load(done) < n; i++)
		sleep_ms(2);
}

static void test_flow_control_messages(void)
{
	struct fake_fixture fx;
	struct sender s;
	pthread_t th;

	/* 4 messages in flight at most; the fake acknowledges only when told. */
	REQUIRE_EQ(fake_fixture_open(&fx, (4ull << 32) | 1, false), MAGMA_STATUS_OK);
	s = (struct sender){.conn = fx.conn, .count = 10};
	REQUIRE(pthread_create(&th, NULL, send_contexts, &s) == 0);
	REQUIRE(fake_service_wait_count(fx.fs, 4));
	wait_done(&s.done, 4);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&s.done), 4);
	CHECK_EQ(fake_service_count(fx.fs), 4);
	fake_service_ack(fx.fs);
	REQUIRE(fake_service_wait_count(fx.fs, 8));
	wait_done(&s.done, 8);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&s.done), 8);
	CHECK_EQ(fake_service_count(fx.fs), 8);
	fake_service_ack(fx.fs);
	pthread_join(th, NULL);
	CHECK_EQ(s.status, 0);
	CHECK_EQ(atomic_load(&s.done), 10);
	/* A blocked sender also sees the connection die instead of waiting forever. */
	s = (struct sender){.conn = fx.conn, .count = 10};
	REQUIRE(pthread_create(&th, NULL, send_contexts, &s) == 0);
	REQUIRE(fake_service_wait_count(fx.fs, 12));
	sleep_ms(20);
	fake_service_fail(fx.fs, MAGMA_STATUS_INTERNAL_ERROR);
	pthread_join(th, NULL);
	CHECK_EQ(s.status, MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(magma_connection_get_error(fx.conn), MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(atomic_load(&s.done), 2);
	fake_fixture_close(&fx);
}

struct buf_sender {
	magma_connection_t conn;
	uint64_t size;
	atomic_int done;
	magma_status_t status;
};

static void *send_buffer(void *arg)
{
	struct buf_sender *s = arg;
	magma_buffer_t b;
	magma_buffer_id_t id;
	uint64_t size;

	s->status = magma_connection_create_buffer(s->conn, s->size, &size, &b, &id);
	atomic_store(&s->done, 1);
	return NULL;
}

static void test_flow_control_bytes(void)
{
	struct fake_fixture fx;
	struct buf_sender s;
	magma_buffer_t b;
	magma_buffer_id_t id;
	uint64_t size;
	pthread_t th;

	/* 1000 messages, 1 MB of imports in flight. */
	REQUIRE_EQ(fake_fixture_open(&fx, (1000ull << 32) | 1, false), MAGMA_STATUS_OK);
	/* A 2 MB import goes through alone, even though it exceeds the budget. */
	CHECK_EQ(magma_connection_create_buffer(fx.conn, 2ull << 20, &size, &b, &id), 0);
	s = (struct buf_sender){.conn = fx.conn, .size = PAGE};
	REQUIRE(pthread_create(&th, NULL, send_buffer, &s) == 0);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&s.done), 0);
	CHECK_EQ(fake_service_count(fx.fs), 1);
	fake_service_ack(fx.fs);
	pthread_join(th, NULL);
	CHECK_EQ(s.status, 0);
	CHECK(fake_service_wait_count(fx.fs, 2));
	/* Small imports within the budget do not wait. */
	for (int i = 0; i < 10; i++)
		CHECK_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b, &id), 0);
	CHECK(fake_service_wait_count(fx.fs, 12));
	fake_fixture_close(&fx);
}

static void test_notifications(void)
{
	struct fake_fixture fx;
	magma_poll_item_t it;
	magma_bool_t more = 7;
	uint64_t size = 99;
	char buf[64];

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	it = (magma_poll_item_t){
		.handle = magma_connection_get_notification_channel_handle(fx.conn),
		.type = MAGMA_POLL_TYPE_HANDLE,
		.condition = MAGMA_POLL_CONDITION_READABLE,
	};
	CHECK_EQ(it.handle, magma_connection_get_notification_channel_handle(fx.conn));
	CHECK_EQ(magma_connection_get_notification_channel_handle(0), (magma_handle_t)-1);
	CHECK_EQ(magma_poll(&it, 1, 0), MAGMA_STATUS_TIMED_OUT);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		0);
	CHECK_EQ(size, 0);
	CHECK_EQ(more, 0);
	REQUIRE_EQ(fake_service_notify(fx.fs, "hello", 5), 0);
	REQUIRE_EQ(fake_service_notify(fx.fs, "world!!", 7), 0);
	CHECK_EQ(magma_poll(&it, 1, 1000000000ull), 0);
	CHECK_EQ(it.result, MAGMA_POLL_CONDITION_READABLE);
	/* Too small: the size needed, and the notification stays queued. */
	CHECK_EQ(magma_connection_read_notification_channel(fx.conn, buf, 3, &size, &more),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(size, 5);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		0);
	CHECK_EQ(size, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(more, 1);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		0);
	CHECK_EQ(size, 7);
	CHECK(memcmp(buf, "world!!", 7) == 0);
	CHECK_EQ(more, 0);
	CHECK_EQ(
		magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, &more),
		0);
	CHECK_EQ(size, 0);
	CHECK_EQ(magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), NULL, &more),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_read_notification_channel(fx.conn, buf, sizeof(buf), &size, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_read_notification_channel(fx.conn, NULL, 8, &size, &more),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_read_notification_channel(0, buf, 8, &size, &more),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	fake_fixture_close(&fx);
}

static void test_execute_command_layout(void)
{
	struct fake_fixture fx;
	magma_exec_resource_t res[2] = {{5, 0, PAGE}, {6, PAGE, 2 * PAGE}};
	magma_exec_command_buffer_t cb[1] = {{.resource_index = 1, .start_offset = 64}};
	uint64_t sems[3] = {11, 12, 13};
	magma_command_descriptor_t d = {
		.resource_count = 2,
		.command_buffer_count = 1,
		.wait_semaphore_count = 1,
		.signal_semaphore_count = 2,
		.resources = res,
		.command_buffers = cb,
		.semaphore_ids = sems,
		.flags = MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0,
	};
	magma_command_descriptor_t bad;
	struct fake_record r;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &d), 0);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	r = fake_service_record(fx.fs, 0);
	CHECK_EQ(r.type, WIRE_EXECUTE_COMMAND);
	CHECK_EQ(r.size, sizeof(struct wire_execute_command) + 2 * 24 + 16 + 3 * 8);
	CHECK_EQ(r.words[0], 3 | (2ull << 32)); /* context_id, resource_count */
	CHECK_EQ(r.words[1], 1 | (1ull << 32)); /* command buffers, waits */
	CHECK_EQ(r.words[2] & 0xffffffff, 2);	/* signals */
	CHECK_EQ(r.words[3], MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0);
	CHECK_EQ(r.words[4], 5); /* resources[0].buffer_id */
	CHECK_EQ(r.words[7], 6); /* resources[1].buffer_id */
	/* misuse: nothing sent, connection fine */
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, NULL), MAGMA_STATUS_INVALID_ARGS);
	bad = d;
	bad.resources = NULL;
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &bad), MAGMA_STATUS_INVALID_ARGS);
	bad = d;
	bad.command_buffers = NULL;
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &bad), MAGMA_STATUS_INVALID_ARGS);
	bad = d;
	bad.semaphore_ids = NULL;
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &bad), MAGMA_STATUS_INVALID_ARGS);
	bad = d;
	bad.resource_count = 0xffffffffu;
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &bad), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_execute_command(0, 3, &d), MAGMA_STATUS_INVALID_ARGS);
	/* empty arrays with NULL pointers are fine */
	bad = (magma_command_descriptor_t){0};
	CHECK_EQ(magma_connection_execute_command(fx.conn, 3, &bad), 0);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 4);
	fake_fixture_close(&fx);
}

static void test_execute_inline_layout(void)
{
	struct fake_fixture fx;
	uint8_t data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	uint64_t sems[2] = {21, 22};
	magma_inline_command_buffer_t cmds[2] = {
		{.data = data, .size = 12, .semaphore_ids = sems, .semaphore_count = 2},
		{.data = data, .size = 8, .semaphore_ids = NULL, .semaphore_count = 0},
	};
	magma_inline_command_buffer_t bad;
	struct fake_record r;
	uint8_t *big;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 2, cmds), 0);
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 0, NULL), 0);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 2);
	r = fake_service_record(fx.fs, 0);
	CHECK_EQ(r.type, WIRE_EXECUTE_INLINE_COMMANDS);
	CHECK_EQ(r.size, sizeof(struct wire_execute_inline) + (16 + 16 + 16) + (16 + 8));
	CHECK_EQ(r.words[0], 9 | (2ull << 32));
	CHECK_EQ(r.words[1], 12);	      /* record 0 size */
	CHECK_EQ(r.words[2] & 0xffffffff, 2); /* record 0 semaphore_count */
	CHECK_EQ(r.words[3], 0x0807060504030201ull);
	CHECK_EQ(r.words[4], 0x0c0b0a09ull); /* padded with zeros */
	CHECK_EQ(r.words[5], 21);
	CHECK_EQ(r.words[6], 22);
	CHECK_EQ(r.words[7], 8); /* record 1 size */
	/* misuse */
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 1, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	bad = cmds[0];
	bad.data = NULL;
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 1, &bad),
		 MAGMA_STATUS_INVALID_ARGS);
	bad = cmds[0];
	bad.semaphore_ids = NULL;
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 1, &bad),
		 MAGMA_STATUS_INVALID_ARGS);
	bad = cmds[0];
	bad.size = WIRE_MAX_MESSAGE;
	CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 1, &bad),
		 MAGMA_STATUS_INVALID_ARGS);
	/* Many large commands are split into several messages, in order. */
	big = calloc(1, 400 * 1024);
	REQUIRE(big);
	{
		magma_inline_command_buffer_t many[5];

		for (int i = 0; i < 5; i++) {
			many[i] = (magma_inline_command_buffer_t){.data = big, .size = 400 * 1024};
			big[0] = (uint8_t)i;
		}
		CHECK_EQ(magma_connection_execute_inline_commands(fx.conn, 9, 5, many), 0);
	}
	free(big);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	REQUIRE_EQ(fake_service_count(fx.fs), 6); /* + 3 messages (2 + 2 + 1) + flush */
	CHECK_EQ(fake_service_record(fx.fs, 2).words[0] >> 32, 2);
	CHECK_EQ(fake_service_record(fx.fs, 3).words[0] >> 32, 2);
	CHECK_EQ(fake_service_record(fx.fs, 4).words[0] >> 32, 1);
	fake_fixture_close(&fx);
}

static void test_performance_counters(void)
{
	struct fake_fixture fx;
	uint64_t counters[2] = {7, 9}, buffer_id, time;
	magma_buffer_offset_t offs[1] = {{1, 0, PAGE}};
	uint32_t trigger, offset, flags;
	magma_perf_count_pool_t pool;
	magma_handle_t notif;
	magma_buffer_t b;
	magma_buffer_id_t bid;
	uint64_t size;
	int fds[2];

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	/* Access: denied by this fake, without closing the connection. */
	FAKE_SET(fx.fs, perf_access_status, MAGMA_STATUS_ACCESS_DENIED);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	close(fds[1]);
	CHECK_EQ(
		magma_connection_enable_performance_counter_access(fx.conn, (magma_handle_t)fds[0]),
		MAGMA_STATUS_ACCESS_DENIED);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	FAKE_SET(fx.fs, perf_access_status, 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	close(fds[1]);
	CHECK_EQ(
		magma_connection_enable_performance_counter_access(fx.conn, (magma_handle_t)fds[0]),
		0);
	/* Not an fd: no token can be read from it (INTERNAL_ERROR, as Magma). */
	CHECK_EQ(magma_connection_enable_performance_counter_access(fx.conn, (magma_handle_t)-1),
		 MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(magma_connection_enable_performance_counters(fx.conn, counters, 2), 0);
	CHECK_EQ(magma_connection_enable_performance_counters(fx.conn, NULL, 2),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_clear_performance_counters(fx.conn, counters, 1), 0);
	REQUIRE_EQ(magma_connection_create_performance_counter_buffer_pool(fx.conn, &pool, &notif),
		   0);
	CHECK_EQ(pool, 1);
	REQUIRE_EQ(magma_connection_create_buffer(fx.conn, PAGE, &size, &b, &bid), 0);
	CHECK_EQ(magma_connection_add_performance_counter_buffer_offsets_to_pool(fx.conn, pool,
										 offs, 1),
		 0);
	CHECK_EQ(magma_connection_add_performance_counter_buffer_offsets_to_pool(fx.conn, pool,
										 NULL, 1),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_dump_performance_counters(fx.conn, pool, 77), 0);
	CHECK_EQ(magma_connection_read_performance_counter_completion(
			 fx.conn, pool, &trigger, &buffer_id, &offset, &time, &flags),
		 MAGMA_STATUS_TIMED_OUT);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	/* The fake plays the driver: one completion on the pool socket. */
	{
		struct wire_perf_completion c = {.pool_id = pool,
						 .buffer_id = 1,
						 .timestamp = 555,
						 .trigger_id = 77,
						 .buffer_offset = 128,
						 .result_flags = 1};
		magma_poll_item_t it = {.handle = notif,
					.type = MAGMA_POLL_TYPE_HANDLE,
					.condition = MAGMA_POLL_CONDITION_READABLE};

		REQUIRE(fake_pool_fd(fx.fs) >= 0);
		CHECK(send(fake_pool_fd(fx.fs), &c, sizeof(c), 0) == sizeof(c));
		CHECK_EQ(magma_poll(&it, 1, 1000000000ull), 0);
	}
	CHECK_EQ(magma_connection_read_performance_counter_completion(
			 fx.conn, pool, &trigger, &buffer_id, &offset, &time, &flags),
		 0);
	CHECK_EQ(trigger, 77);
	CHECK_EQ(buffer_id, 1);
	CHECK_EQ(offset, 128);
	CHECK_EQ(time, 555);
	CHECK_EQ(flags, 1);
	CHECK_EQ(magma_connection_read_performance_counter_completion(
			 fx.conn, 99, &trigger, &buffer_id, &offset, &time, &flags),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_read_performance_counter_completion(
			 fx.conn, pool, NULL, &buffer_id, &offset, &time, &flags),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_remove_performance_counter_buffer_from_pool(fx.conn, pool, b), 0);
	CHECK_EQ(magma_connection_remove_performance_counter_buffer_from_pool(fx.conn, pool, 0),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_release_performance_counter_buffer_pool(fx.conn, pool), 0);
	CHECK_EQ(magma_connection_read_performance_counter_completion(
			 fx.conn, pool, &trigger, &buffer_id, &offset, &time, &flags),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	{
		static const uint32_t want[] = {
			WIRE_ENABLE_PERF_ACCESS,
			WIRE_FLUSH,
			WIRE_ENABLE_PERF_ACCESS,
			WIRE_ENABLE_PERF_COUNTERS,
			WIRE_CLEAR_PERF_COUNTERS,
			WIRE_CREATE_PERF_POOL,
			WIRE_IMPORT_BUFFER,
			WIRE_ADD_PERF_OFFSETS,
			WIRE_DUMP_PERF_COUNTERS,
			WIRE_FLUSH,
			WIRE_REMOVE_PERF_BUFFER,
			WIRE_RELEASE_PERF_POOL,
			WIRE_FLUSH,
		};

		REQUIRE_EQ(fake_service_count(fx.fs), sizeof(want) / sizeof(want[0]));
		for (uint32_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			CHECK_EQ(fake_service_record(fx.fs, i).type, want[i]);
		CHECK_EQ(fake_service_record(fx.fs, 0).fd_count, 1);
		CHECK_EQ(fake_service_record(fx.fs, 3).words[0], 2);
		CHECK_EQ(fake_service_record(fx.fs, 3).words[1], 7);
		CHECK_EQ(fake_service_record(fx.fs, 8).words[1] & 0xffffffff, 77);
	}
	fake_fixture_close(&fx);
}

static void *hammer(void *arg)
{
	struct sender *s = arg;

	for (int i = 0; i < s->count; i++) {
		uint8_t data[24] = {(uint8_t)i};
		magma_inline_command_buffer_t cmd = {.data = data, .size = sizeof(data)};

		s->status = magma_connection_execute_inline_commands(s->conn, 1, 1, &cmd);
		if (s->status)
			break;
	}
	return NULL;
}

/* Four threads sending at once with flow control active: every message arrives whole. */
static void test_concurrent_senders(void)
{
	struct fake_fixture fx;
	struct sender s[4];
	pthread_t th[4];

	REQUIRE_EQ(fake_fixture_open(&fx, (16ull << 32) | 1, true), MAGMA_STATUS_OK);
	for (int i = 0; i < 4; i++) {
		s[i] = (struct sender){.conn = fx.conn, .count = 300};
		REQUIRE(pthread_create(&th[i], NULL, hammer, &s[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(s[i].status, 0);
	}
	CHECK_EQ(magma_connection_flush(fx.conn), 0);
	CHECK_EQ(fake_service_count(fx.fs), 1201);
	fake_fixture_close(&fx);
}

static void test_release_tells_service(void)
{
	struct fake_fixture fx;

	REQUIRE_EQ(fake_fixture_open(&fx, 0, true), MAGMA_STATUS_OK);
	magma_connection_release(fx.conn);
	CHECK(fake_service_wait_closed(fx.fs));
	CHECK_EQ(fake_service_record(fx.fs, 0).type, WIRE_CONNECTION_RELEASE);
	magma_connection_release(fx.conn); /* twice: ignored */
	magma_device_release(fx.dev);
	fake_service_stop(fx.fs);
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
	SIM_TEST(test_flush_and_get_error_ok),
	SIM_TEST(test_feed_forward_error_via_flush),
	SIM_TEST(test_error_via_get_error_only),
	SIM_TEST(test_notification_before_error_is_delivered),
	SIM_TEST(test_silent_hangup),
	SIM_TEST(test_send_after_hangup_is_connection_lost),
	SIM_TEST(test_flow_control_messages),
	SIM_TEST(test_flow_control_bytes),
	SIM_TEST(test_notifications),
	SIM_TEST(test_execute_command_layout),
	SIM_TEST(test_execute_inline_layout),
	SIM_TEST(test_performance_counters),
	SIM_TEST(test_concurrent_senders),
	SIM_TEST(test_release_tells_service),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.setup = setup,
	.teardown = teardown,
};

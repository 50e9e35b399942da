/* SPDX-License-Identifier: MIT */
/*
 * test_service.c - the service's behaviour beyond validation, against the fake MSD: handle
 * tables, flow control under a flood, notification forwarding (channel, context killed, perf
 * completions, an undrained channel and its log line, once), teardown order, shutdown with
 * clients still attached, and the performance-counter access token (only the device's own
 * token file grants access, also once published on disk). The limits are test_limits.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_msd.h"
#include "magma_system_internal.h"
#include "sim_test.h"
#include "test_client.h"

static struct magma_system_device *g_dev;

static int ioctl_pending_bytes(int fd, int *n)
{
	return ioctl(fd, FIONREAD, n);
}
static int g_devfd = -1;

static void test_handle_tables(void)
{
	struct magma_system_table t;
	struct magma_system_handles h;
	struct magma_system_buffer b = {0}, out;
	struct magma_system_mapping m = {.hw_va = 0x10000, .length = 0x2000, .buffer_id = 5};

	magma_system_table_init(&t, sizeof(b), 3);
	for (uint64_t id = 3; id >= 1; id--) {
		b.id = id * 10;
		CHECK_EQ(magma_system_table_insert(&t, &b), MAGMA_STATUS_OK);
	}
	b.id = 20;
	CHECK_EQ(magma_system_table_insert(&t, &b), MAGMA_STATUS_INVALID_ARGS); /* duplicate */
	b.id = 40;
	CHECK_EQ(magma_system_table_insert(&t, &b), MAGMA_STATUS_MEMORY_ERROR); /* limit */
	magma_system_table_sort(&t); /* inserted 30, 20, 10 */
	CHECK_EQ(((struct magma_system_buffer *)magma_system_table_at(&t, 0))->id, 10);
	CHECK_EQ(((struct magma_system_buffer *)magma_system_table_at(&t, 2))->id, 30);
	CHECK(magma_system_table_find(&t, 20) != NULL);
	CHECK(magma_system_table_find(&t, 25) == NULL);
	CHECK(magma_system_table_remove(&t, 20, &out));
	CHECK_EQ(out.id, 20);
	CHECK(!magma_system_table_remove(&t, 20, NULL)); /* double release */
	CHECK(!magma_system_table_remove(&t, 99, NULL)); /* unknown */
	CHECK_EQ(t.count, 2);
	magma_system_table_fini(&t);

	magma_system_handles_init(&h);
	CHECK_EQ(magma_system_handles_add_mapping(&h, &m), MAGMA_STATUS_OK);
	CHECK(magma_system_handles_mapping_overlaps(&h, 0x11000, 0x1000));
	CHECK(magma_system_handles_mapping_overlaps(&h, 0xf000, 0x2000));
	CHECK(!magma_system_handles_mapping_overlaps(&h, 0xf000, 0x1000));
	CHECK(!magma_system_handles_mapping_overlaps(&h, 0x12000, 0x1000));
	CHECK(magma_system_handles_find_mapping(&h, 0x10000) != NULL);
	CHECK(magma_system_handles_find_mapping(&h, 0x11000) == NULL);
	m.hw_va = 0x20000;
	CHECK_EQ(magma_system_handles_add_mapping(&h, &m), MAGMA_STATUS_OK);
	m.hw_va = 0x30000;
	m.buffer_id = 6;
	CHECK_EQ(magma_system_handles_add_mapping(&h, &m), MAGMA_STATUS_OK);
	CHECK_EQ(magma_system_handles_remove_buffer_mappings(&h, 5, NULL), 2);
	CHECK_EQ(h.mapping_count, 1);
	magma_system_handles_remove_mapping(&h, 0x30000);
	CHECK_EQ(h.mapping_count, 0);
	magma_system_handles_fini(&h);
}

/*
 * Tables and mappings with thousands of entries: every lookup right after removals in scrambled
 * order (each moves the last element into the hole), teardown order after a sort, and one
 * buffer's mappings found and removed among many others' with their total length.
 */
static void test_handle_tables_many(void)
{
	enum { COUNT = 5000 };
	struct magma_system_table t;
	struct magma_system_handles h;
	struct magma_system_buffer b = {0};
	uint64_t bytes;

	magma_system_table_init(&t, sizeof(b), COUNT);
	for (uint64_t i = 0; i < COUNT; i++) {
		b.id = 1000 + i;
		b.size = i;
		REQUIRE_EQ(magma_system_table_insert(&t, &b), MAGMA_STATUS_OK);
	}
	for (uint64_t i = 0; i < COUNT; i += 3) /* every third, from the front */
		REQUIRE(magma_system_table_remove(&t, 1000 + (i * 7) % COUNT, NULL));
	for (uint64_t i = 0; i < COUNT; i++) {
		struct magma_system_buffer *found = magma_system_table_find(&t, 1000 + i);
		bool removed = false;

		for (uint64_t j = 0; j < COUNT && !removed; j += 3)
			removed = (j * 7) % COUNT == i;
		CHECK((found != NULL) == !removed);
		if (found)
			CHECK_EQ(found->size, i);
	}
	magma_system_table_sort(&t);
	for (uint32_t i = 1; i < t.count; i++)
		CHECK(((struct magma_system_buffer *)magma_system_table_at(&t, i - 1))->id <
		      ((struct magma_system_buffer *)magma_system_table_at(&t, i))->id);
	CHECK(magma_system_table_find(&t, 1001) != NULL); /* lookups still work after a sort */
	magma_system_table_fini(&t);

	magma_system_handles_init(&h);
	for (uint64_t i = 0; i < COUNT; i++) {
		struct magma_system_mapping m = {
			.hw_va = 0x100000 + i * 0x2000, .length = 0x1000, .buffer_id = i % 10};

		REQUIRE_EQ(magma_system_handles_add_mapping(&h, &m), MAGMA_STATUS_OK);
	}
	CHECK(!magma_system_handles_mapping_overlaps(&h, 0x101000, 0x1000));
	CHECK(magma_system_handles_mapping_overlaps(&h, 0x101000, 0x1001));
	CHECK(magma_system_handles_mapping_overlaps(&h, 0x100fff, 0x1));
	CHECK_EQ(magma_system_handles_remove_buffer_mappings(&h, 3, &bytes), COUNT / 10);
	CHECK_EQ(bytes, COUNT / 10 * 0x1000);
	CHECK_EQ(magma_system_handles_remove_buffer_mappings(&h, 3, &bytes), 0);
	CHECK(magma_system_handles_find_mapping(&h, 0x100000 + 3 * 0x2000) == NULL);
	CHECK(magma_system_handles_find_mapping(&h, 0x100000 + 4 * 0x2000) != NULL);
	CHECK_EQ(h.mapping_count, COUNT - COUNT / 10);
	CHECK_EQ(magma_system_handles_remove_all_mappings(&h, &bytes), COUNT - COUNT / 10);
	CHECK_EQ(bytes, (uint64_t)(COUNT - COUNT / 10) * 0x1000);
	CHECK_EQ(h.mapping_count, 0);
	magma_system_handles_fini(&h);
}

struct flood {
	struct tc_conn *c;
	int count;
	int sent;
};

static void *flood_thread(void *arg)
{
	struct flood *f = arg;

	for (f->sent = 0; f->sent < f->count; f->sent += 2) {
		struct wire_release_context r = {.context_id = 1};

		if (tc_create_context(f->c, 1))
			break;
		if (tc_send(f->c->primary, &r, sizeof(r), WIRE_RELEASE_CONTEXT, NULL, 0))
			break;
	}
	return NULL;
}

static void test_flow_control(void)
{
	struct flood f = {.count = 10000};
	struct tc_conn c;
	pthread_t th;
	int queued = 0;
	uint64_t base;

	REQUIRE(tc_create_connection(g_devfd, &c) == MAGMA_STATUS_OK);
	f.c = &c;
	/* The client sends 10,000 messages without reading anything. */
	REQUIRE(pthread_create(&th, NULL, flood_thread, &f) == 0);
	pthread_join(th, NULL);
	CHECK_EQ(f.sent, 10000);
	/* Events coalesced while the client did not read: its queue stayed small. */
	CHECK(ioctl_pending_bytes(c.primary, &queued) == 0);
	CHECK(queued < 64 * 1024);
	/* The service processed every message and said so. */
	CHECK_EQ(tc_wait_consumed(&c, 10000), MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK_EQ(c.consumed_messages >= 10000, 1);
	/*
	 * Imported bytes are reported too. The baseline is taken before sending: the event for
	 * the import may arrive before or after the flush reply, depending on when the service's
	 * input ran dry.
	 */
	c.consumed_bytes = 0;
	base = c.consumed_messages;
	CHECK_EQ(tc_import_buffer(&c, 1, 0x20000), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK_EQ(tc_wait_consumed(&c, base + 2), MAGMA_STATUS_OK);
	CHECK_EQ(c.consumed_bytes, 0x20000);
	tc_close(&c);
}

static void send_channel(int index, const char *text, uint32_t size)
{
	static struct msd_notification_t n;

	memset(&n, 0, sizeof(n));
	n.type = MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND;
	n.u.channel_send.size = size;
	memcpy(n.u.channel_send.data, text, strlen(text));
	fake_msd_notify(index, &n);
}

static void test_notifications(void)
{
	struct msd_notification_t n;
	struct wire_perf_completion pc;
	struct wire_perf_pool pool = {.pool_id = 3};
	struct wire_enable_perf_access acc;
	struct tc_conn c;
	char buf[8192];
	int sv[2], tok, idx;

	REQUIRE(tc_create_connection(g_devfd, &c) == MAGMA_STATUS_OK);
	idx = fake_msd_last_connection();
	send_channel(idx, "hello", 5);
	CHECK_EQ(recv(c.notif, buf, sizeof(buf), MSG_DONTWAIT), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);

	/* Perf completion goes to the pool's socket. */
	tok = magma_system_device_perf_token(g_dev);
	REQUIRE(tok >= 0);
	CHECK_EQ(tc_send(c.primary, &acc, sizeof(acc), WIRE_ENABLE_PERF_ACCESS, &tok, 1), 0);
	close(tok);
	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(tc_send(c.primary, &pool, sizeof(pool), WIRE_CREATE_PERF_POOL, &sv[1], 1), 0);
	close(sv[1]);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	memset(&n, 0, sizeof(n));
	n.type = MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED;
	n.u.perf_counter_result.pool_id = 3;
	n.u.perf_counter_result.trigger_id = 9;
	n.u.perf_counter_result.buffer_id = 4;
	n.u.perf_counter_result.timestamp = 1234;
	fake_msd_notify(idx, &n);
	CHECK_EQ(recv(sv[0], &pc, sizeof(pc), MSG_DONTWAIT), sizeof(pc));
	CHECK_EQ(pc.pool_id, 3);
	CHECK_EQ(pc.trigger_id, 9);
	CHECK_EQ(pc.buffer_id, 4);
	CHECK_EQ(pc.timestamp, 1234);
	close(sv[0]);

	/* A full channel queues in order; draining delivers everything. */
	for (int i = 0; i < 100; i++) {
		snprintf(buf, 16, "n%03d", i);
		send_channel(idx, buf, 4000);
	}
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = {.fd = c.notif, .events = POLLIN};
		char want[16];

		REQUIRE(poll(&pfd, 1, 5000) == 1);
		REQUIRE(recv(c.notif, buf, sizeof(buf), 0) == 4000);
		snprintf(want, sizeof(want), "n%03d", i);
		CHECK(memcmp(buf, want, 4) == 0);
	}
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);

	/* A client that never drains is cut off with MEMORY_ERROR once the bound is passed. */
	for (int i = 0; i < (int)MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS + 200; i++)
		send_channel(idx, "x", 4000);
	CHECK_EQ(tc_wait_error(&c), MAGMA_STATUS_MEMORY_ERROR);
	tc_close(&c);

	/* CONTEXT_KILLED closes the connection with that status. */
	REQUIRE(tc_create_connection(g_devfd, &c) == MAGMA_STATUS_OK);
	idx = fake_msd_last_connection();
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	memset(&n, 0, sizeof(n));
	n.type = MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED;
	fake_msd_notify(idx, &n);
	CHECK_EQ(tc_wait_error(&c), MAGMA_STATUS_CONTEXT_KILLED);
	{
		struct pollfd pfd = {.fd = c.notif, .events = POLLIN};

		CHECK_EQ(poll(&pfd, 1, 5000), 1);
		CHECK(pfd.revents & POLLHUP);
	}
	tc_close(&c);
}

/*
 * An undrained notification channel: the overflow that closes the connection is logged once (a
 * warning: MAGMA_SIM_LOG=warn shows it), not once per refused packet. Drives struct
 * magma_system_notify directly with stderr captured.
 */
static void test_notify_overflow_logs_once(void)
{
	struct magma_system_notify n;
	struct msd_notification_t note;
	char log[4096];
	int sv[2], saved, capture, lines = 0;
	ssize_t len;

	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	REQUIRE(magma_system_notify_init(&n, sv[0]) == 0);
	capture = fileno(tmpfile());
	REQUIRE(capture >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(capture, STDERR_FILENO);
	unsetenv("MAGMA_SYSTEM_QUIET");
	setenv("MAGMA_SIM_LOG", "warn", 1);
	memset(&note, 0, sizeof(note));
	note.type = MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND;
	note.u.channel_send.size = 4000;
	for (int i = 0; i < (int)MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS + 500; i++)
		magma_system_notify_callback(&n, &note);
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	unsetenv("MAGMA_SIM_LOG");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	CHECK_EQ(magma_system_notify_take_error(&n), MAGMA_STATUS_MEMORY_ERROR);
	/* Whatever the socket took, hundreds of packets overflowed. */
	CHECK_EQ(n.sent + n.queued + n.overflows, MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS + 500);
	CHECK(n.overflows > 100);
	len = pread(capture, log, sizeof(log) - 1, 0);
	REQUIRE(len >= 0);
	log[len] = 0;
	for (char *p = log; (p = strstr(p, "does not drain")); p++)
		lines++;
	CHECK_EQ(lines, 1);
	magma_system_notify_fini(&n);
	close(sv[0]);
	close(sv[1]);
}

/*
 * The log level (magma_system.h): errors by default, MAGMA_SIM_LOG names another, a level set by
 * the program (magma-simd --verbose) wins over it, MAGMA_SYSTEM_QUIET over everything; a bad
 * MAGMA_SIM_LOG means errors.
 */
static void test_log_levels(void)
{
	static const char *const names[] = {"off", "error", "warn", "info", "debug"};
	int level = -1;

	for (int l = 0; l < 5; l++) {
		char digit[2] = {(char)('0' + l), 0};

		CHECK_EQ(magma_system_log_level_parse(names[l], &level), 0);
		CHECK_EQ(level, l);
		CHECK_EQ(magma_system_log_level_parse(digit, &level), 0);
		CHECK_EQ(level, l);
		CHECK(!strcmp(magma_system_log_level_name(l), names[l]));
	}
	CHECK_EQ(magma_system_log_level_parse("warning", &level), 0);
	CHECK_EQ(level, MAGMA_LOG_WARNING);
	CHECK_EQ(magma_system_log_level_parse("verbose", &level), -1);
	CHECK_EQ(magma_system_log_level_parse("5", &level), -1);
	CHECK_EQ(magma_system_log_level_parse("", &level), -1);
	CHECK_EQ(magma_system_log_level_parse(NULL, &level), -1);

	unsetenv("MAGMA_SYSTEM_QUIET");
	unsetenv("MAGMA_SIM_LOG");
	CHECK_EQ(magma_system_log_level(), MAGMA_LOG_ERROR);
	setenv("MAGMA_SIM_LOG", "debug", 1);
	CHECK_EQ(magma_system_log_level(), MAGMA_LOG_DEBUG);
	magma_system_set_log_level(MAGMA_LOG_INFO);
	CHECK_EQ(magma_system_log_level(), MAGMA_LOG_INFO);
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	CHECK_EQ(magma_system_log_level(), MAGMA_SYSTEM_LOG_OFF);
	unsetenv("MAGMA_SYSTEM_QUIET");
	magma_system_set_log_level(-1);
	CHECK_EQ(magma_system_log_level(), MAGMA_LOG_DEBUG);
	magma_system_set_log_level(99);
	CHECK_EQ(magma_system_log_level(), MAGMA_LOG_DEBUG);
	magma_system_set_log_level(-1);
	setenv("MAGMA_SIM_LOG", "off", 1);
	CHECK_EQ(magma_system_log_level(), MAGMA_SYSTEM_LOG_OFF);
	unsetenv("MAGMA_SIM_LOG");
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
}

static void test_msd_error_closes(void)
{
	struct tc_conn a, b;

	REQUIRE(tc_create_connection(g_devfd, &a) == MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(g_devfd, &b) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&a), MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&b), MAGMA_STATUS_OK);
	fake_msd_fail_next("context_create", MAGMA_STATUS_OK); /* constructor returns NULL */
	CHECK_EQ(tc_create_context(&a, 1), 0);
	CHECK_EQ(tc_flush(&a), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(tc_import_buffer(&b, 1, 0x1000), 0);
	fake_msd_fail_next("map_buffer", MAGMA_STATUS_ACCESS_DENIED);
	{
		struct wire_map_buffer m = {.hw_va = 0x1000, .buffer_id = 1, .length = 0x1000};

		CHECK_EQ(tc_send(b.primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0), 0);
	}
	CHECK_EQ(tc_flush(&b), MAGMA_STATUS_ACCESS_DENIED);
	tc_close(&a);
	tc_close(&b);
}

/* Waits (bounded) until the service has torn down every closed connection. */
static void wait_no_connections(void)
{
	for (int i = 0; i < 400 && magma_system_device_connection_count(g_dev) != 0; i++)
		usleep(5000);
}

static void test_teardown_order(void)
{
	struct wire_map_buffer m = {.hw_va = 0x1000, .buffer_id = 1, .length = 0x1000};
	struct wire_perf_pool pool = {.pool_id = 1};
	struct wire_enable_perf_access acc;
	struct tc_conn c;
	int sv[2], tok, before, idx[7];
	static const char *const order[] = {
		"unset_callback",   "context_destroy",
		"pool_release",	    "connection_release_buffer",
		"buffer_release",   "semaphore_release",
		"connection_close",
	};

	wait_no_connections();
	before = fake_msd_live();
	REQUIRE(tc_create_connection(g_devfd, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_import_buffer(&c, 1, 0x4000), 0);
	CHECK_EQ(tc_import_semaphore(&c, 1), 0);
	CHECK_EQ(tc_send(c.primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0), 0);
	tok = magma_system_device_perf_token(g_dev);
	REQUIRE(tok >= 0);
	CHECK_EQ(tc_send(c.primary, &acc, sizeof(acc), WIRE_ENABLE_PERF_ACCESS, &tok, 1), 0);
	close(tok);
	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(tc_send(c.primary, &pool, sizeof(pool), WIRE_CREATE_PERF_POOL, &sv[1], 1), 0);
	close(sv[1]);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK_EQ(fake_msd_live(), before + 5); /* conn, ctx, buffer, semaphore, pool */
	fake_msd_reset();
	tc_close(&c); /* hang-up: the service releases everything */
	for (int i = 0; i < 400 && fake_msd_live() != before; i++)
		usleep(5000);
	CHECK_EQ(fake_msd_live(), before);
	for (int i = 0; i < 7; i++) {
		idx[i] = fake_msd_log_index(order[i]);
		CHECK(idx[i] >= 0);
		if (i)
			CHECK(idx[i] > idx[i - 1]);
	}
	/* The pool's socket was closed by the service. */
	{
		struct pollfd pfd = {.fd = sv[0], .events = POLLIN};

		CHECK_EQ(poll(&pfd, 1, 5000), 1);
		CHECK(pfd.revents & POLLHUP);
	}
	close(sv[0]);
}

static void test_destroy_with_clients_attached(void)
{
	struct magma_system_device *dev = magma_system_device_create(NULL);
	struct tc_conn c;
	struct pollfd pfd;
	int fd;

	REQUIRE(dev != NULL);
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK_EQ(magma_system_device_connection_count(dev), 1);
	magma_system_device_destroy(dev); /* must not wait for the client */
	pfd = (struct pollfd){.fd = c.notif, .events = POLLIN};
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK(pfd.revents & POLLHUP);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_CONNECTION_LOST);
	tc_close(&c);
	close(fd);
}

/*
 * A new connection presents @token (not consumed) and then uses the counters: the flush answers
 * OK when the token granted access, ACCESS_DENIED (and a closed connection) when it did not.
 */
static magma_status_t try_token(int token)
{
	struct wire_enable_perf_access acc;
	struct wire_perf_counters pc = {.count = 0};
	struct tc_conn c;
	magma_status_t s;

	if (tc_create_connection(g_devfd, &c) != MAGMA_STATUS_OK)
		return MAGMA_STATUS_INTERNAL_ERROR;
	if (tc_send(c.primary, &acc, sizeof(acc), WIRE_ENABLE_PERF_ACCESS, &token, 1) ||
	    tc_send(c.primary, &pc, sizeof(pc), WIRE_ENABLE_PERF_COUNTERS, NULL, 0))
		s = MAGMA_STATUS_INTERNAL_ERROR;
	else
		s = tc_flush(&c);
	tc_close(&c);
	return s;
}

static void test_perf_token(void)
{
	char dir[] = "/tmp/magma-token-XXXXXX", path[64];
	int sv[2], memfd, other, file;
	struct stat st;

	memfd = magma_system_device_perf_token(g_dev);
	REQUIRE(memfd >= 0);
	CHECK_EQ(try_token(memfd), MAGMA_STATUS_OK);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(try_token(sv[0]), MAGMA_STATUS_ACCESS_DENIED);
	CHECK_EQ(try_token(g_devfd), MAGMA_STATUS_ACCESS_DENIED);
	other = memfd_create("magma-perf-token", MFD_CLOEXEC);
	REQUIRE(other >= 0);
	CHECK_EQ(try_token(other), MAGMA_STATUS_ACCESS_DENIED);
	CHECK_EQ(magma_system_device_perf_token(NULL), -EINVAL);

	/* Published on disk: the file is the token now, the memfd no longer. */
	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/magma0.perf-token", dir);
	CHECK_EQ(magma_system_device_publish_perf_token(g_dev, path), 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	file = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(file >= 0);
	CHECK_EQ(try_token(file), MAGMA_STATUS_OK);
	CHECK_EQ(try_token(memfd), MAGMA_STATUS_ACCESS_DENIED);
	close(file);
	file = magma_system_device_perf_token(g_dev);
	CHECK_EQ(try_token(file), MAGMA_STATUS_OK);
	unlink(path);
	rmdir(dir);
	close(file);
	close(other);
	close(sv[0]);
	close(sv[1]);
	close(memfd);
}

/* The service logs every rejected message; the tests provoke many. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	return SIM_TEST_CONTINUE;
}

/* Every test gets a fresh device and a channel to it... */
static void setup(void)
{
	g_dev = magma_system_device_create(NULL);
	REQUIRE(g_dev != NULL);
	g_devfd = tc_open_device(g_dev);
	REQUIRE(g_devfd >= 0);
}

/* ...and, once the device is destroyed, no object of the fake MSD may be left. */
static void teardown(void)
{
	if (g_devfd >= 0)
		close(g_devfd);
	g_devfd = -1;
	magma_system_device_destroy(g_dev);
	g_dev = NULL;
	CHECK_EQ(fake_msd_live(), 0);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_handle_tables),
	SIM_TEST(test_handle_tables_many),
	SIM_TEST(test_flow_control),
	SIM_TEST(test_notifications),
	SIM_TEST(test_notify_overflow_logs_once),
	SIM_TEST(test_log_levels),
	SIM_TEST(test_msd_error_closes),
	SIM_TEST(test_teardown_order),
	SIM_TEST(test_destroy_with_clients_attached),
	SIM_TEST(test_perf_token),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};

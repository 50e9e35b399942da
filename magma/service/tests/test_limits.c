/* SPDX-License-Identifier: MIT */
/*
 * test_limits.c - no client can take the device from the others, against the fake MSD: every
 * resource the service accounts is limited per client process and for the device (a refusal is
 * MAGMA_STATUS_MEMORY_ERROR and closes the refused connection only, what others hold is
 * untouched, giving back makes room again), channels are limited per process and device, and so
 * are channels before their handshake, which is due within the handshake timeout (also for a
 * client that stalls halfway through its first message). "Another process" is a channel whose
 * socketpair a child made (tc_open_device_foreign): SO_PEERCRED names the child. Every wait is
 * bounded.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_msd.h"
#include "magma_system_internal.h"
#include "sim_test.h"
#include "test_client.h"

#define PAGE	 4096ull
#define VA(i)	 (0x100000ull + 0x10000ull * (uint64_t)(i))
#define WAIT_MS	 10000
#define POLL_MS	 5
#define MAPPABLE (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* Polls until @dev has @want live connections (WAIT_MS at most); returns the last count. */
static uint32_t wait_connections(struct magma_system_device *dev, uint32_t want)
{
	uint32_t n = magma_system_device_connection_count(dev);

	for (int i = 0; i < WAIT_MS / POLL_MS && n != want; i++) {
		sleep_ms(POLL_MS);
		n = magma_system_device_connection_count(dev);
	}
	return n;
}

static int map(struct tc_conn *c, uint64_t buffer_id, uint64_t va, uint64_t length)
{
	struct wire_map_buffer m = {
		.hw_va = va, .buffer_id = buffer_id, .length = length, .flags = MAPPABLE};

	return tc_send(c->primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0);
}

/* Takes unit @i of a resource on @c: 0 or -errno (a refusal shows at the next flush). */
typedef int (*take_fn)(struct tc_conn *c, uint32_t i);

static int take_semaphore(struct tc_conn *c, uint32_t i)
{
	return tc_import_semaphore(c, i + 1);
}

static int take_page_buffer(struct tc_conn *c, uint32_t i)
{
	return tc_import_buffer(c, i + 1, PAGE);
}

static int take_resident_buffer(struct tc_conn *c, uint32_t i)
{
	return tc_import_buffer(c, i + 1, PAGE) ? -1 : map(c, i + 1, VA(i), PAGE);
}

/* Mapping @i of one buffer (imported with the first): a mapping and a page of mapped bytes. */
static int take_page_mapping(struct tc_conn *c, uint32_t i)
{
	if (i == 0 && tc_import_buffer(c, 1, PAGE))
		return -1;
	return map(c, 1, VA(i), PAGE);
}

static const struct {
	enum magma_system_resource res;
	uint64_t unit; /* of the limit, per take */
	take_fn take;
} cases[] = {
	{MAGMA_SYSTEM_RES_HANDLES, 1, take_semaphore},
	{MAGMA_SYSTEM_RES_BUFFER_BYTES, PAGE, take_page_buffer},
	{MAGMA_SYSTEM_RES_RESIDENT_BUFFERS, 1, take_resident_buffer},
	{MAGMA_SYSTEM_RES_MAPPINGS, 1, take_page_mapping},
	{MAGMA_SYSTEM_RES_MAPPED_BYTES, PAGE, take_page_mapping},
};

/* A new connection over @fd that takes @n units: the status of the flush after them. */
static magma_status_t take_units(int fd, take_fn take, uint32_t n, struct tc_conn *c)
{
	if (tc_create_connection(fd, c) != MAGMA_STATUS_OK)
		return MAGMA_STATUS_INTERNAL_ERROR;
	for (uint32_t i = 0; i < n; i++) {
		if (take(c, i))
			break; /* refused earlier: the flush tells */
	}
	return tc_flush(c);
}

/*
 * For each resource, a process limit of 4 units and a device limit of 6: this process holds 4
 * on one connection, and a fifth on another connection is refused (that connection closes, the
 * holder does not); another process gets the 2 the device has left and is refused a third; once
 * the holder lets go, the other process gets them.
 */
static void test_every_resource_is_limited(void)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *name = magma_system_resource_name(cases[k].res);
		struct magma_system_limits limits;
		struct magma_system_device *dev;
		struct tc_conn holder, refused, theirs, more;
		int fd, other;

		magma_system_limits_default(&limits);
		limits.process[cases[k].res] = 4 * cases[k].unit;
		limits.device[cases[k].res] = 6 * cases[k].unit;
		dev = magma_system_device_create_limited(NULL, &limits, 0);
		REQUIRE(dev != NULL);
		fd = tc_open_device(dev);
		other = tc_open_device_foreign(dev);
		REQUIRE(fd >= 0 && other >= 0);

		CHECK_EQ(take_units(fd, cases[k].take, 4, &holder), MAGMA_STATUS_OK);
		CHECK_EQ(take_units(fd, cases[k].take, 1, &refused), MAGMA_STATUS_MEMORY_ERROR);
		CHECK_EQ(tc_flush(&holder), MAGMA_STATUS_OK);
		CHECK_EQ(take_units(other, cases[k].take, 3, &theirs), MAGMA_STATUS_MEMORY_ERROR);
		tc_close(&theirs);
		CHECK_EQ(take_units(other, cases[k].take, 2, &theirs), MAGMA_STATUS_OK);
		CHECK_EQ(tc_flush(&holder), MAGMA_STATUS_OK);
		tc_close(&holder);
		tc_close(&refused);
		CHECK_EQ(wait_connections(dev, 1), 1);
		CHECK_EQ(take_units(other, cases[k].take, 2, &more), MAGMA_STATUS_OK);
		if (sim_test_has_failure())
			fprintf(stderr, "  (resource %s)\n", name);
		tc_close(&more);
		tc_close(&theirs);
		close(fd);
		close(other);
		magma_system_device_destroy(dev);
		if (sim_test_has_failure())
			return;
	}
}

/*
 * Connections: a process at its limit gets MEMORY_ERROR for the next one, so does another
 * process once the device is full, and the connections already open are untouched; closing
 * them makes room again.
 */
static void test_connection_limits(void)
{
	struct tc_conn mine[4], theirs[2], extra;
	struct magma_system_limits limits;
	struct magma_system_device *dev;
	int fd, other;

	magma_system_limits_default(&limits);
	limits.process[MAGMA_SYSTEM_RES_CONNECTIONS] = 4;
	limits.device[MAGMA_SYSTEM_RES_CONNECTIONS] = 6;
	dev = magma_system_device_create_limited(NULL, &limits, 0);
	REQUIRE(dev != NULL);
	fd = tc_open_device(dev);
	other = tc_open_device_foreign(dev);
	REQUIRE(fd >= 0 && other >= 0);
	for (uint32_t i = 0; i < 4; i++)
		REQUIRE(tc_create_connection(fd, &mine[i]) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_connection(fd, &extra), MAGMA_STATUS_MEMORY_ERROR); /* per process */
	tc_close(&extra);
	for (uint32_t i = 0; i < 2; i++)
		REQUIRE(tc_create_connection(other, &theirs[i]) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_connection(other, &extra), MAGMA_STATUS_MEMORY_ERROR); /* device */
	tc_close(&extra);
	CHECK_EQ(tc_flush(&mine[0]), MAGMA_STATUS_OK); /* the others are unaffected */
	CHECK_EQ(tc_flush(&theirs[1]), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 4; i++)
		tc_close(&mine[i]);
	CHECK_EQ(wait_connections(dev, 2), 2);
	CHECK_EQ(tc_create_connection(other, &extra), MAGMA_STATUS_OK); /* room again */
	CHECK_EQ(tc_flush(&extra), MAGMA_STATUS_OK);
	tc_close(&extra);
	for (uint32_t i = 0; i < 2; i++)
		tc_close(&theirs[i]);
	close(fd);
	close(other);
	magma_system_device_destroy(dev);
}

/* A channel served without a handshake: the client end, or -1 (the service refused it). */
static int serve_raw(struct magma_system_device *dev)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (magma_system_device_serve(dev, sv[1])) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

/* Whether the service hung up @fd within WAIT_MS (reads see the end). */
static bool hung_up(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b;

	return poll(&pfd, 1, WAIT_MS) == 1 && read(fd, &b, 1) == 0;
}

/*
 * Channels: 2 per process before their handshake, 3 per process in all, 5 on the device. A
 * channel that completes its handshake stops counting as pending; another process still gets
 * what the device has left; a closed channel's place is free again as soon as it ends.
 */
static void test_channel_limits(void)
{
	struct magma_system_limits limits;
	struct magma_system_device *dev;
	int a, b, c, d, theirs[3];

	magma_system_limits_default(&limits);
	limits.process[MAGMA_SYSTEM_RES_PENDING_CHANNELS] = 2;
	limits.process[MAGMA_SYSTEM_RES_CHANNELS] = 3;
	limits.device[MAGMA_SYSTEM_RES_CHANNELS] = 5;
	dev = magma_system_device_create_limited(NULL, &limits, 0);
	REQUIRE(dev != NULL);
	a = serve_raw(dev);
	b = serve_raw(dev);
	REQUIRE(a >= 0 && b >= 0);
	CHECK_EQ(serve_raw(dev), -1); /* a third pending one */
	REQUIRE(tc_handshake(a, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	c = serve_raw(dev);
	CHECK(c >= 0);
	CHECK_EQ(serve_raw(dev), -1); /* a fourth channel */
	theirs[0] = tc_open_device_foreign(dev);
	theirs[1] = tc_open_device_foreign(dev);
	CHECK(theirs[0] >= 0 && theirs[1] >= 0);
	theirs[2] = tc_open_device_foreign(dev);
	CHECK_EQ(theirs[2], -1); /* the device is full */
	close(b);
	d = -1;
	for (int i = 0; i < WAIT_MS / POLL_MS && d < 0; i++) {
		d = serve_raw(dev); /* b's place, once its thread has ended */
		if (d < 0)
			sleep_ms(POLL_MS);
	}
	CHECK(d >= 0);
	for (int i = 0; i < 2; i++)
		close(theirs[i]);
	close(a);
	close(c);
	close(d);
	magma_system_device_destroy(dev);
}

/*
 * A channel must complete its handshake within the timeout: one that says nothing, and one that
 * stalls halfway through its first message, are both hung up on, and a channel that completed
 * its handshake is not.
 */
static void test_handshake_deadline(void)
{
	struct wire_device_import half = {.protocol_version = WIRE_PROTOCOL_VERSION};
	struct magma_system_limits limits;
	struct magma_system_device *dev;
	uint64_t v = 0;
	int silent, stalled, good, buf_fd;

	magma_system_limits_default(&limits);
	limits.handshake_timeout_ms = 200;
	dev = magma_system_device_create_limited(NULL, &limits, 0);
	REQUIRE(dev != NULL);
	silent = serve_raw(dev);
	stalled = serve_raw(dev);
	good = tc_open_device(dev);
	REQUIRE(silent >= 0 && stalled >= 0 && good >= 0);
	half.hdr.type = WIRE_DEVICE_IMPORT;
	half.hdr.size = sizeof(half);
	CHECK_EQ(write(stalled, &half, sizeof(half) / 2), (ssize_t)(sizeof(half) / 2));
	CHECK(hung_up(silent));
	CHECK(hung_up(stalled));
	CHECK_EQ(tc_query(good, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, &v, &buf_fd), MAGMA_STATUS_OK);
	close(silent);
	close(stalled);
	close(good);
	magma_system_device_destroy(dev);
}

/*
 * The defaults keep the guarantee (docs/devices.md, "Limits"): each device-wide limit is at
 * least three times the per-process one, so one process at its limit leaves at least twice its
 * share to everyone else; and the handshake is due within seconds.
 */
static void test_default_limits_leave_room(void)
{
	struct magma_system_limits limits;

	magma_system_limits_default(&limits);
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++) {
		CHECK(limits.process[r] > 0);
		CHECK(limits.device[r] >= 3 * limits.process[r]);
	}
	CHECK(limits.handshake_timeout_ms >= 1000 && limits.handshake_timeout_ms <= 10000);
	CHECK(magma_system_resource_name(MAGMA_SYSTEM_RES_COUNT) == NULL);
}

/*
 * The per-connection bounds (MAGMA_SYSTEM_MAX_*) are not what bounds a client's memory: they sit
 * above every default device limit, so the accounting refuses first, and with the limits raised
 * one connection holds more mappings than the default device-wide 65536 (the bound used to be
 * 65536 per connection); the next one past the raised limit is refused by the accounting.
 */
static void test_connection_bounds_above_limits(void)
{
	struct magma_system_limits limits;
	struct magma_system_device *dev;
	struct tc_conn c, refused;
	uint32_t n;
	int fd;

	magma_system_limits_default(&limits);
	CHECK(MAGMA_SYSTEM_MAX_BUFFERS >= limits.device[MAGMA_SYSTEM_RES_HANDLES]);
	CHECK(MAGMA_SYSTEM_MAX_SEMAPHORES >= limits.device[MAGMA_SYSTEM_RES_HANDLES]);
	CHECK(MAGMA_SYSTEM_MAX_MAPPINGS >= limits.device[MAGMA_SYSTEM_RES_MAPPINGS]);
	n = (uint32_t)limits.device[MAGMA_SYSTEM_RES_MAPPINGS] + 1;
	REQUIRE(n <= MAGMA_SYSTEM_MAX_MAPPINGS);
	limits.process[MAGMA_SYSTEM_RES_MAPPINGS] = limits.device[MAGMA_SYSTEM_RES_MAPPINGS] = n;
	dev = magma_system_device_create_limited(NULL, &limits, 0);
	REQUIRE(dev != NULL);
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	CHECK_EQ(take_units(fd, take_page_mapping, n, &c), MAGMA_STATUS_OK);
	REQUIRE(tc_create_connection(fd, &refused) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_import_buffer(&refused, 1, PAGE), 0);
	CHECK_EQ(map(&refused, 1, VA(n), PAGE), 0);
	CHECK_EQ(tc_flush(&refused), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	tc_close(&refused);
	tc_close(&c);
	close(fd);
	magma_system_device_destroy(dev);
}

/* The service logs every rejected message; the tests provoke many. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	return SIM_TEST_CONTINUE;
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_default_limits_leave_room),
	SIM_TEST(test_every_resource_is_limited),
	SIM_TEST(test_connection_limits),
	SIM_TEST(test_channel_limits),
	SIM_TEST(test_handshake_deadline),
	SIM_TEST(test_connection_bounds_above_limits),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

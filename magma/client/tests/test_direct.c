/* SPDX-License-Identifier: MIT */
/*
 * test_direct.c - in-process delivery (magma_sim/direct.h): the registry's publish, take and
 * withdraw; on the embedded device, a short job signals its semaphore before
 * magma_connection_execute_command returns (delivered on the caller's thread and run there), a
 * refused request still ends the connection the way the channel would (the error at the next
 * flush, then CONNECTION_LOST); MAGMA_SIM_DIRECT=0 keeps connections on their channel.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim/direct.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "sim_test.h"

#define CMD_VA 0x1000000ull

static int puts_seen;

static int fake_deliver(void *ep, const void *msg, size_t size, const int *fds, uint32_t n)
{
	(void)ep, (void)msg, (void)size, (void)fds, (void)n;
	return 0;
}

static void fake_put(void *ep)
{
	(void)ep;
	puts_seen++;
}

static const struct magma_sim_direct_ops fake_ops = {fake_deliver, fake_put};

static void test_registry(void)
{
	const struct magma_sim_direct_ops *ops = NULL;
	int a, b;

	puts_seen = 0;
	REQUIRE_EQ(magma_sim_direct_publish(1, 2, &a, &fake_ops), 0);
	REQUIRE_EQ(magma_sim_direct_publish(1, 3, &b, &fake_ops), 0);
	CHECK(magma_sim_direct_take(1, 4, &ops) == NULL);
	CHECK(magma_sim_direct_take(2, 2, &ops) == NULL);
	CHECK(magma_sim_direct_take(1, 2, &ops) == &a);
	CHECK(ops == &fake_ops);
	CHECK(magma_sim_direct_take(1, 2, &ops) == NULL); /* taken once */
	CHECK_EQ(puts_seen, 0);				  /* the reference went to the taker */
	magma_sim_direct_withdraw(&a);			  /* no longer registered: nothing */
	CHECK_EQ(puts_seen, 0);
	magma_sim_direct_withdraw(&b);
	CHECK_EQ(puts_seen, 1);
	CHECK(magma_sim_direct_take(1, 3, &ops) == NULL);
}

struct rig {
	magma_device_t device;
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint32_t cmd_bytes;
};

static int rig_open(struct rig *r)
{
	uint64_t size = 0;
	magma_handle_t h;
	uint32_t *cpu, n = 0;
	int fd = magma_sim_embedded_open();

	memset(r, 0, sizeof(*r));
	if (fd < 0 || magma_device_import((magma_handle_t)fd, &r->device) ||
	    magma_device_create_connection(r->device, &r->conn) ||
	    magma_connection_create_context2(r->conn, MAGMA_PRIORITY_MEDIUM, &r->ctx) ||
	    magma_connection_create_buffer(r->conn, 4096, &size, &r->buf, &r->buf_id) ||
	    magma_buffer_get_handle(r->buf, &h))
		return -1;
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (cpu == MAP_FAILED)
		return -1;
	n += sim_cmd_emit_nop(cpu + n, 0);
	n += sim_cmd_emit_end(cpu + n);
	r->cmd_bytes = n * 4;
	munmap(cpu, (size_t)size);
	if (magma_connection_map_buffer(r->conn, CMD_VA, r->buf, 0, size,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_create_semaphore(r->conn, &r->sem, &r->sem_id))
		return -1;
	return magma_connection_flush(r->conn) == MAGMA_STATUS_OK ? 0 : -1;
}

static void rig_close(struct rig *r)
{
	if (r->conn)
		magma_connection_release(r->conn);
	if (r->device)
		magma_device_release(r->device);
}

static magma_status_t submit(struct rig *r, uint32_t ctx)
{
	magma_exec_resource_t res = {r->buf_id, 0, r->cmd_bytes};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	uint64_t sems[1] = {r->sem_id};
	magma_command_descriptor_t desc = {
		.resource_count = 1,
		.command_buffer_count = 1,
		.signal_semaphore_count = 1,
		.resources = &res,
		.command_buffers = &cb,
		.semaphore_ids = sems,
	};

	return magma_connection_execute_command(r->conn, ctx, &desc);
}

static bool signaled_now(struct rig *r)
{
	magma_poll_item_t item = {.semaphore = r->sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};

	return magma_poll(&item, 1, 0) == MAGMA_STATUS_OK &&
	       (item.result & MAGMA_POLL_CONDITION_SIGNALED);
}

/* Short jobs on an idle GPU: done when the call returns (tried a few times: see below). */
static void test_completes_before_execute_returns(void)
{
	struct rig r;
	int synchronous = 0;

	REQUIRE_EQ(rig_open(&r), 0);
	for (int i = 0; i < 20; i++) {
		magma_poll_item_t item = {.semaphore = r.sem,
					  .type = MAGMA_POLL_TYPE_SEMAPHORE,
					  .condition = MAGMA_POLL_CONDITION_SIGNALED};

		REQUIRE_EQ(submit(&r, r.ctx), MAGMA_STATUS_OK);
		/* The first job may power the cores up on the device thread: not inline. */
		synchronous += signaled_now(&r);
		REQUIRE_EQ(magma_poll(&item, 1, 2000000000ull), MAGMA_STATUS_OK);
		magma_semaphore_reset(r.sem);
	}
	CHECK(synchronous >= 10);
	CHECK_EQ(magma_connection_flush(r.conn), MAGMA_STATUS_OK);
	rig_close(&r);
}

/* A refused request: the call itself returns OK (feed-forward), the next flush says why. */
static void test_refused_request_ends_connection(void)
{
	struct rig r;

	REQUIRE_EQ(rig_open(&r), 0);
	CHECK_EQ(submit(&r, r.ctx + 1000), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_flush(r.conn), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(magma_connection_get_error(r.conn), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(submit(&r, r.ctx), MAGMA_STATUS_CONNECTION_LOST);
	rig_close(&r);
}

/* MAGMA_SIM_DIRECT=0: the same works over the channel. */
static void test_channel_when_disabled(void)
{
	struct rig r;
	magma_poll_item_t item;

	setenv("MAGMA_SIM_DIRECT", "0", 1);
	REQUIRE_EQ(rig_open(&r), 0);
	REQUIRE_EQ(submit(&r, r.ctx), MAGMA_STATUS_OK);
	item = (magma_poll_item_t){.semaphore = r.sem,
				   .type = MAGMA_POLL_TYPE_SEMAPHORE,
				   .condition = MAGMA_POLL_CONDITION_SIGNALED};
	CHECK_EQ(magma_poll(&item, 1, 2000000000ull), MAGMA_STATUS_OK);
	CHECK_EQ(submit(&r, r.ctx + 1000), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_flush(r.conn), MAGMA_STATUS_INVALID_ARGS);
	rig_close(&r);
	unsetenv("MAGMA_SIM_DIRECT");
}

static const struct sim_test tests[] = {
	SIM_TEST(test_registry),
	SIM_TEST(test_completes_before_execute_returns),
	SIM_TEST(test_refused_request_ends_connection),
	SIM_TEST(test_channel_when_disabled),
};
SIM_TEST_SUITE(tests);

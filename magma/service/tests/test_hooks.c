/* SPDX-License-Identifier: MIT */
/*
 * test_hooks.c - the service's hooks (magma_system.h, struct magma_system_hooks) against the fake
 * MSD: they stay gpu-agnostic and need no driver of ours. Connections are numbered in the order
 * the device opened them and reported opened and closed with their client's pid and name; every
 * call a message makes (device-channel calls included, the service's debug queries not) reaches
 * the call hook first with its msd.h entry point and context, and a status it answers ends the
 * message as if the entry point had returned it, which is then never called; the alloc hook fails
 * the service's own failure points with its status; MAGMA_SYSTEM_QUERY_FAULTS_FIRED answers what
 * the hooks say; magma_system_device_kill_client refuses to kill this very process and shuts that
 * connection down instead. Each device has an instance number (MAGMA_SYSTEM_QUERY_INSTANCE, not
 * a call either) that a host may set before serving, a connection site names the connection's
 * first object id, and get_hooks returns what set_hooks installed (magma-simd --trace chains
 * in front of a fault plan's).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_msd.h"
#include "magma_system_internal.h"
#include "sim_test.h"
#include "test_client.h"

#define MAX_SITES 64

/* One hook call: which hook, and its site (strings copied). */
struct rec_site {
	char what[16]; /* "opened", "closed", "call", "alloc", "submission" */
	struct magma_system_site site;
	char call[64];
	char comm[16];
};

/* What the hooks saw (append only), and how they answer. */
struct rec {
	pthread_mutex_t lock;
	struct rec_site sites[MAX_SITES];
	uint32_t count;
	const char *fail_call; /* fail this entry point ... */
	magma_status_t fail_call_status;
	uint64_t fail_alloc_connection; /* fail allocations of this connection (0: none) ... */
	magma_status_t fail_alloc_status;
};

static struct rec g_rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record(const char *what, const struct magma_system_site *site)
{
	pthread_mutex_lock(&g_rec.lock);
	if (g_rec.count < MAX_SITES) {
		struct rec_site *s = &g_rec.sites[g_rec.count++];

		snprintf(s->what, sizeof(s->what), "%s", what);
		s->site = *site;
		snprintf(s->call, sizeof(s->call), "%s", site->call ? site->call : "");
		snprintf(s->comm, sizeof(s->comm), "%s", site->comm ? site->comm : "");
	}
	pthread_mutex_unlock(&g_rec.lock);
}

static void on_opened(void *ctx, const struct magma_system_site *site)
{
	(void)ctx;
	record("opened", site);
}

static void on_closed(void *ctx, const struct magma_system_site *site)
{
	(void)ctx;
	record("closed", site);
}

static magma_status_t on_call(void *ctx, const struct magma_system_site *site)
{
	(void)ctx;
	record("call", site);
	if (g_rec.fail_call && site->call && !strcmp(site->call, g_rec.fail_call))
		return g_rec.fail_call_status;
	return MAGMA_STATUS_OK;
}

static void on_submission(void *ctx, const struct magma_system_site *site)
{
	(void)ctx;
	record("submission", site);
}

static magma_status_t on_alloc(void *ctx, const struct magma_system_site *site)
{
	(void)ctx;
	record("alloc", site);
	if (g_rec.fail_alloc_connection && site->connection == g_rec.fail_alloc_connection)
		return g_rec.fail_alloc_status;
	return MAGMA_STATUS_OK;
}

static uint64_t on_fired(void *ctx)
{
	(void)ctx;
	return 42;
}

static const struct magma_system_hooks hooks = {
	.connection_opened = on_opened,
	.connection_closed = on_closed,
	.call = on_call,
	.submission = on_submission,
	.alloc = on_alloc,
	.faults_fired = on_fired,
};

static struct magma_system_device *device_with_hooks(void)
{
	struct magma_system_device *dev = magma_system_device_create(NULL);

	pthread_mutex_lock(&g_rec.lock);
	g_rec.count = 0;
	g_rec.fail_call = NULL;
	g_rec.fail_alloc_connection = 0;
	pthread_mutex_unlock(&g_rec.lock);
	fake_msd_reset();
	if (dev)
		magma_system_device_set_hooks(dev, &hooks);
	return dev;
}

/* The index of the first recorded site @what with call @call (NULL: any) from @from on; -1. */
static int find_site(uint32_t from, const char *what, const char *call)
{
	int found = -1;

	pthread_mutex_lock(&g_rec.lock);
	for (uint32_t i = from; i < g_rec.count && found < 0; i++) {
		if (!strcmp(g_rec.sites[i].what, what) &&
		    (!call || !strcmp(g_rec.sites[i].call, call)))
			found = (int)i;
	}
	pthread_mutex_unlock(&g_rec.lock);
	return found;
}

/* Waits until a site @what was recorded (the connection thread records asynchronously). */
static int wait_site(const char *what, const char *call)
{
	int i = -1;

	for (int tries = 0; tries < 6000 && i < 0; tries++) {
		i = find_site(0, what, call);
		if (i < 0)
			usleep(5000);
	}
	return i;
}

static void own_comm(char comm[16])
{
	FILE *f = fopen("/proc/self/comm", "r");

	comm[0] = '\0';
	if (f) {
		if (!fgets(comm, 16, f))
			comm[0] = '\0';
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = '\0';
}

static void test_sites(void)
{
	struct magma_system_device *dev = device_with_hooks();
	struct tc_conn a, b;
	uint64_t v = 0;
	int buf_fd = -1, fd, i;
	char comm[16];

	REQUIRE(dev);
	own_comm(comm);
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &v, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(tc_query(fd, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, &v, &buf_fd), MAGMA_STATUS_OK);
	i = find_site(0, "call", "msd_device_query");
	CHECK(i >= 0);
	if (i >= 0) {
		CHECK_EQ(g_rec.sites[i].site.connection, 0);
		CHECK_EQ(g_rec.sites[i].site.pid, getpid());
		CHECK(!strcmp(g_rec.sites[i].comm, comm));
		CHECK(find_site((uint32_t)i + 1, "call", "msd_device_query") <
		      0); /* not the debug one */
	}
	REQUIRE_EQ(tc_create_connection(fd, &a), MAGMA_STATUS_OK);
	CHECK(find_site(0, "alloc", NULL) >= 0);	     /* the connection's own */
	CHECK(find_site(0, "call", "msd_device_open") >= 0); /* before it opened */
	REQUIRE_EQ(tc_create_connection(fd, &b), MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_context(&b, 7), 0);
	CHECK_EQ(tc_import_buffer(&b, 1, 0x1000), 0);
	CHECK_EQ(tc_flush(&b), MAGMA_STATUS_OK);
	i = find_site(0, "call", "msd_connection_create_context");
	REQUIRE(i >= 0);
	CHECK_EQ(g_rec.sites[i].site.connection, 2); /* b was opened second */
	CHECK_EQ(g_rec.sites[i].site.context, 7);
	CHECK(g_rec.sites[i].site.msd != NULL);
	i = find_site(0, "call", "msd_driver_import_buffer");
	REQUIRE(i >= 0);
	CHECK_EQ(g_rec.sites[i].site.connection, 2);
	CHECK(find_site((uint32_t)i, "alloc", NULL) >= 0); /* its table entry */
	i = wait_site("opened", NULL);
	CHECK(i >= 0);
	tc_close(&b);
	i = wait_site("closed", NULL);
	REQUIRE(i >= 0);
	CHECK_EQ(g_rec.sites[i].site.connection, 2);
	CHECK_EQ(tc_query(fd, MAGMA_SYSTEM_QUERY_FAULTS_FIRED, &v, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(v, 42);
	tc_close(&a);
	close(fd);
	magma_system_device_destroy(dev);
}

/* A call the hook fails ends the message with its status; the entry point never runs. */
static void test_call_hook_fails_call(void)
{
	struct magma_system_device *dev = device_with_hooks();
	struct tc_conn c;
	int fd;

	REQUIRE(dev);
	g_rec.fail_call = "msd_connection_create_context";
	g_rec.fail_call_status = MAGMA_STATUS_BAD_STATE;
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(tc_create_connection(fd, &c), MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_wait_error(&c), MAGMA_STATUS_BAD_STATE);
	CHECK(fake_msd_log_index("context_create") < 0);
	tc_close(&c);
	/* msd_device_open failed by the hook: the connection is not created, with that status. */
	g_rec.fail_call = "msd_device_open";
	g_rec.fail_call_status = MAGMA_STATUS_ACCESS_DENIED;
	CHECK_EQ(tc_create_connection(fd, &c), MAGMA_STATUS_ACCESS_DENIED);
	close(fd);
	magma_system_device_destroy(dev);
	CHECK_EQ(fake_msd_live(), 0);
}

/* The alloc hook fails the service's failure points; what the driver made is released. */
static void test_alloc_hook_fails_import(void)
{
	struct magma_system_device *dev = device_with_hooks();
	struct tc_conn c;
	int fd;

	REQUIRE(dev);
	g_rec.fail_alloc_connection = 1;
	g_rec.fail_alloc_status = MAGMA_STATUS_MEMORY_ERROR;
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(tc_create_connection(fd, &c), MAGMA_STATUS_OK);
	CHECK_EQ(tc_import_buffer(&c, 1, 0x1000), 0);
	CHECK_EQ(tc_wait_error(&c), MAGMA_STATUS_MEMORY_ERROR);
	CHECK(fake_msd_log_index("buffer_import") >= 0);
	CHECK(fake_msd_log_index("buffer_release") >= 0);
	tc_close(&c);
	close(fd);
	magma_system_device_destroy(dev);
	CHECK_EQ(fake_msd_live(), 0);
}

/* The service never kills its own process: that connection is shut down instead. */
static void test_kill_client_own_process(void)
{
	struct magma_system_device *dev = device_with_hooks();
	struct tc_conn c;
	int fd;

	REQUIRE(dev);
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(tc_create_connection(fd, &c), MAGMA_STATUS_OK);
	CHECK_EQ(magma_system_device_kill_client(dev, 9, 0), -ESRCH);
	CHECK_EQ(magma_system_device_kill_client(dev, 0, getpid()), -EPERM);
	CHECK_EQ(magma_system_device_kill_client(dev, 1, 0), 1);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_CONNECTION_LOST);
	tc_close(&c);
	close(fd);
	magma_system_device_destroy(dev);
}

/* Instance numbers, connection id bases, and the hooks read back. */
static void test_instance_and_id_base(void)
{
	struct magma_system_device *dev = device_with_hooks(), *other;
	struct magma_system_hooks got;
	struct tc_conn a, b;
	uint64_t v = 0;
	int buf_fd = -1, fd, i;

	REQUIRE(dev);
	other = magma_system_device_create(NULL);
	REQUIRE(other);
	CHECK(magma_system_device_instance(dev) != 0);
	CHECK(magma_system_device_instance(dev) != magma_system_device_instance(other));
	magma_system_device_destroy(other);
	magma_system_device_set_instance(dev, 0); /* ignored */
	CHECK(magma_system_device_instance(dev) != 0);
	magma_system_device_set_instance(dev, 0x1234567890abcdefull);
	CHECK_EQ(magma_system_device_instance(NULL), 0);
	magma_system_device_get_hooks(dev, &got);
	CHECK(got.connection_opened == hooks.connection_opened && got.call == hooks.call &&
	      got.faults_fired == hooks.faults_fired && !got.notification);
	fd = tc_open_device(dev);
	REQUIRE(fd >= 0);
	CHECK_EQ(tc_query(fd, MAGMA_SYSTEM_QUERY_INSTANCE, &v, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(v, 0x1234567890abcdefull);
	CHECK(find_site(0, "call", "msd_device_query") < 0); /* a debug query, not a call */
	REQUIRE_EQ(tc_create_connection(fd, &a), MAGMA_STATUS_OK);
	REQUIRE_EQ(tc_create_connection(fd, &b), MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&b), MAGMA_STATUS_OK);
	/* A fresh device hands out object ids from 1, a block to each connection. */
	i = wait_site("opened", NULL);
	REQUIRE(i >= 0);
	for (int tries = 0; tries < 6000 && find_site((uint32_t)i + 1, "opened", NULL) < 0; tries++)
		usleep(5000); /* the other connection's thread reports on its own */
	for (int n = 0; n < 2; n++, i = find_site((uint32_t)i + 1, "opened", NULL)) {
		REQUIRE(i >= 0);
		CHECK_EQ(g_rec.sites[i].site.id_base,
			 1 + (g_rec.sites[i].site.connection - 1) * WIRE_OBJECT_ID_BLOCK);
	}
	i = find_site(0, "call", "msd_device_open");
	CHECK(i >= 0 && g_rec.sites[i].site.id_base == 0); /* a channel's site */
	tc_close(&a);
	tc_close(&b);
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

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_sites),
	SIM_TEST(test_call_hook_fails_call),
	SIM_TEST(test_alloc_hook_fails_import),
	SIM_TEST(test_kill_client_own_process),
	SIM_TEST(test_instance_and_id_base),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

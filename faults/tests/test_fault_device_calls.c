/* SPDX-License-Identifier: MIT */
/*
 * test_fault_device_calls.c - the driver's and the service's failure points and the client's
 * death, applied by a plan to a real device.
 *
 * Embedded devices with plans in MAGMA_SIM_FAULTS and a real client through magma.h: fail_call
 * (an msd.h entry point answers with the plan's status instead of running: the connection ends
 * with it, the next flush returns it), fail_alloc in the driver and in the service (a clear error
 * for the call that allocated, the device keeps serving), kill_client (a client process, which
 * connected its own channel, dies by SIGKILL and the device serves the others; a client that is
 * the device's own process has its connection shut down instead), and the determinism of seeded
 * probability triggers (the same plan and the same client give the same firings).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_test_client.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "sim_test.h"

#define VICTIM_NAME "ftc-victim"

static const char *g_self; /* this executable, for the child process */

/* A device with @plan, imported once. */
struct rig {
	struct magma_system_embedded *emb;
	magma_device_t dev;
};

static bool rig_open(struct rig *r, const char *plan)
{
	r->emb = ftc_embedded(plan);
	r->dev = r->emb ? ftc_import(r->emb) : 0;
	return r->dev != 0;
}

static void rig_close(struct rig *r)
{
	if (r->dev)
		magma_device_release(r->dev);
	magma_system_embedded_destroy(r->emb);
}

static magma_status_t write_and_wait(struct ftc_client *c, uint32_t index, uint32_t value)
{
	magma_status_t s = ftc_write(c, index, value);

	return s ? s : ftc_wait(c);
}

/* A fresh client on @dev runs work: the device survived. */
static void check_device_serves(magma_device_t dev)
{
	struct ftc_client c;

	REQUIRE_EQ(ftc_open(dev, &c), MAGMA_STATUS_OK);
	CHECK_EQ(write_and_wait(&c, 3, 0x5e12e5u), MAGMA_STATUS_OK);
	CHECK_EQ(c.cpu[3], 0x5e12e5u);
	ftc_close(&c);
}

/* fail_call msd_connection_map_buffer with MEMORY_ERROR, its first call: the next flush says so. */
static void test_fail_call_map_buffer(void)
{
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t id;
	uint64_t size;
	struct rig r;

	REQUIRE(rig_open(&r,
			 "{\"faults\": [{\"kind\": \"fail_call\","
			 " \"call\": \"msd_connection_map_buffer\", \"status\": \"MEMORY_ERROR\","
			 " \"trigger\": {\"nth\": 1}}]}"));
	REQUIRE_EQ(magma_device_create_connection(r.dev, &conn), MAGMA_STATUS_OK);
	REQUIRE_EQ(magma_connection_create_buffer(conn, 0x4000, &size, &buf, &id), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_map_buffer(conn, FTC_VA, buf, 0, 0x4000, MAGMA_MAP_FLAG_READ),
		 MAGMA_STATUS_OK); /* feed-forward */
	CHECK_EQ(magma_connection_flush(conn), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(magma_connection_get_error(conn), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	magma_connection_release_buffer(conn, buf);
	magma_connection_release(conn);
	check_device_serves(r.dev); /* maps again: nth fires once */
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	rig_close(&r);
}

/* fail_call of a call of connection 2 only, with the default status (INTERNAL_ERROR). */
static void test_fail_call_of_one_connection(void)
{
	struct ftc_client c1, c2;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"fail_call\","
			     " \"call\": \"msd_connection_create_context\","
			     " \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 2}}]}"));
	REQUIRE_EQ(ftc_open(r.dev, &c1), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_open(r.dev, &c2), MAGMA_STATUS_INTERNAL_ERROR);
	CHECK_EQ(write_and_wait(&c1, 0, 1u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	ftc_close(&c1);
	rig_close(&r);
}

/* fail_call msd_device_query: a query of a device channel answers the plan's status. */
static void test_fail_call_device_query(void)
{
	uint64_t v = 0;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"fail_call\","
			     " \"call\": \"msd_device_query\", \"status\": \"ACCESS_DENIED\","
			     " \"trigger\": {\"nth\": 1}}]}"));
	CHECK_EQ(magma_device_query(r.dev, MAGMA_QUERY_VENDOR_ID, NULL, &v),
		 MAGMA_STATUS_ACCESS_DENIED);
	CHECK_EQ(magma_device_query(r.dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, MAGMA_SIM_VENDOR_ID);
	CHECK_EQ(ftc_faults_fired(r.dev), 1); /* the debug query itself is never counted */
	rig_close(&r);
}

/* The driver's first allocation for connection 1 fails: that call's error, nothing else. */
static void test_fail_alloc_driver(void)
{
	struct ftc_client c1;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"fail_alloc\", \"in\": \"driver\","
			     " \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(ftc_open(r.dev, &c1), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_device_serves(r.dev);
	rig_close(&r);
}

/* The service's first allocation point of the device, a connection's creation, fails. */
static void test_fail_alloc_service_connection(void)
{
	magma_connection_t conn = 0;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"fail_alloc\", \"in\": \"service\","
			     " \"trigger\": {\"nth\": 1}}]}"));
	CHECK_EQ(magma_device_create_connection(r.dev, &conn), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_device_serves(r.dev);
	rig_close(&r);
}

/*
 * Connection 1's second service allocation (a context first, then a buffer's import) fails with
 * the plan's status instead of MEMORY_ERROR.
 */
static void test_fail_alloc_service_import_status(void)
{
	struct ftc_client c1;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"fail_alloc\", \"in\": \"service\","
			     " \"status\": \"BAD_STATE\", \"trigger\": {\"nth\": 2},"
			     " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(ftc_open(r.dev, &c1), MAGMA_STATUS_BAD_STATE);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_device_serves(r.dev);
	rig_close(&r);
}

/* Sends @fd over @sock (SCM_RIGHTS). 0 or -1. */
static int send_fd(int sock, int fd)
{
	char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

/* Receives an fd from @sock; -1 on failure. */
static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * The victim (this executable with --victim SOCK): named VICTIM_NAME, it makes its own device
 * channel (so the kernel names it as the peer), sends the service's end over SOCK to the parent,
 * and works on it until killed. Exits 0 when it is not killed, > 0 on a failure.
 */
static int victim_main(int sock)
{
	struct ftc_client c;
	magma_device_t dev;
	int sv[2];

	prctl(PR_SET_NAME, VICTIM_NAME);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || send_fd(sock, sv[1]))
		return 10;
	close(sv[1]);
	if (magma_device_import((magma_handle_t)sv[0], &dev) != MAGMA_STATUS_OK)
		return 11;
	if (ftc_open(dev, &c) != MAGMA_STATUS_OK)
		return 12;
	for (uint32_t i = 0; i < 10000; i++) {
		if (write_and_wait(&c, i % 64, i) != MAGMA_STATUS_OK)
			return 13;
	}
	return 0;
}

/* Starts the victim; its pid, and the parent's end of the socket in *@sock_out. */
static pid_t spawn_victim(int *sock_out)
{
	char arg[16];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		snprintf(arg, sizeof(arg), "%d", sv[1]);
		execl(g_self, g_self, "--victim", arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*sock_out = sv[0];
	return pid;
}

/*
 * kill_client by process name at the victim's @nth call: the victim dies by SIGKILL, its
 * connection goes away and the device serves this process afterwards. Its first call is on its
 * device channel (msd_device_open), before it has a connection: the process is killed all the
 * same.
 */
static void kill_client_process(uint32_t nth)
{
	uint64_t count = ~0ull;
	int sock = -1, fd, status;
	char plan[256];
	struct rig r;
	pid_t pid;

	snprintf(plan, sizeof(plan),
		 "{\"faults\": [{\"kind\": \"kill_client\", \"trigger\": {\"nth\": %u,"
		 " \"of\": \"call\"}, \"target\": {\"process\": \"" VICTIM_NAME "\"}}]}",
		 nth);
	REQUIRE(rig_open(&r, plan));
	pid = spawn_victim(&sock);
	REQUIRE(pid > 0);
	fd = recv_fd(sock);
	CHECK(fd >= 0);
	if (fd >= 0)
		CHECK_EQ(magma_system_device_serve(magma_system_embedded_device(r.emb), fd), 0);
	status = ftc_wait_child(pid);
	CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	for (int i = 0; i < 2000 && count != 0; i++) { /* the service sees the hang-up */
		CHECK_EQ(magma_device_query(r.dev, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, NULL,
					    &count),
			 MAGMA_STATUS_OK);
		if (count)
			usleep(5000);
	}
	CHECK_EQ(count, 0);
	check_device_serves(r.dev);
	close(sock);
	rig_close(&r);
}

static void test_kill_client_process_at_its_first_call(void)
{
	kill_client_process(1);
}

static void test_kill_client_process_at_its_fifth_call(void)
{
	kill_client_process(5);
}

/*
 * kill_client of a connection whose client is the device's own process (the embedded device):
 * the process is not killed; that connection is shut down instead, and it alone.
 */
static void test_kill_client_own_process_closes_connection(void)
{
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t id;
	uint32_t ctx;
	uint64_t size;
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"kill_client\","
			     " \"trigger\": {\"nth\": 2}, \"target\": {\"connection\": 1}}]}"));
	REQUIRE_EQ(magma_device_create_connection(r.dev, &conn), MAGMA_STATUS_OK);
	CHECK_EQ(magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx),
		 MAGMA_STATUS_OK); /* its first call */
	CHECK_EQ(magma_connection_create_buffer(conn, 0x1000, &size, &buf, &id),
		 MAGMA_STATUS_OK); /* the second: the import */
	CHECK_EQ(ftc_wait_error(&(struct ftc_client){.conn = conn}), MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	magma_connection_release_buffer(conn, buf);
	magma_connection_release(conn);
	check_device_serves(r.dev);
	rig_close(&r);
}

/*
 * kill_client at a GPU cycle, aimed at connection 1 (fired in the sim's event stream, applied by
 * the device's fault thread): its client is this process, so connection 1 is shut down while it
 * works; connection 2 is untouched.
 */
static void test_kill_client_at_cycle(void)
{
	struct ftc_client c1, c2;
	magma_status_t s = MAGMA_STATUS_OK;
	uint32_t jobs = 0;
	struct rig r;

	REQUIRE(rig_open(&r,
			 "{\"faults\": [{\"kind\": \"kill_client\","
			 " \"trigger\": {\"cycle\": 30000}, \"target\": {\"connection\": 1}}]}"));
	REQUIRE_EQ(ftc_open(r.dev, &c1), MAGMA_STATUS_OK);
	REQUIRE_EQ(ftc_open(r.dev, &c2), MAGMA_STATUS_OK);
	while (s == MAGMA_STATUS_OK && jobs < 100000) {
		s = write_and_wait(&c1, jobs % 256, jobs);
		jobs++;
	}
	CHECK_EQ(s, MAGMA_STATUS_CONNECTION_LOST);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	CHECK_EQ(write_and_wait(&c2, 0, 0x77u), MAGMA_STATUS_OK);
	ftc_close(&c1);
	ftc_close(&c2);
	rig_close(&r);
}

/*
 * The same plan and the same client give the same firings: seeded probability triggers over calls
 * and submissions, run twice on fresh devices, fire at the same steps.
 */
static void run_script(uint64_t fired_out[24])
{
	struct ftc_client c;
	struct rig r;

	if (!rig_open(&r, "{\"seed\": 42, \"faults\": ["
			  "{\"kind\": \"irq_delay\", \"cycles\": 1000, \"times\": 0,"
			  " \"trigger\": {\"probability\": 0.5, \"of\": \"call\"}},"
			  "{\"kind\": \"irq_delay\", \"cycles\": 3000, \"times\": 0,"
			  " \"trigger\": {\"probability\": 0.3, \"seed\": 7}}]}")) {
		CHECK(!"device");
		return;
	}
	CHECK_EQ(ftc_open(r.dev, &c), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 24; i++) {
		CHECK_EQ(write_and_wait(&c, i, i), MAGMA_STATUS_OK);
		fired_out[i] = ftc_faults_fired(r.dev);
	}
	ftc_close(&c);
	rig_close(&r);
}

static void test_same_plan_same_firings(void)
{
	uint64_t a[24] = {0}, b[24] = {0};

	run_script(a);
	run_script(b);
	for (uint32_t i = 0; i < 24; i++)
		CHECK_EQ(a[i], b[i]);
	/* 48+ calls at one half and 24 submissions at 0.3: some fire, not all. */
	CHECK(a[23] > 0 && a[23] < 24 * 3);
}

/* Re-executed with --victim N: be the victim client. Otherwise keep our path for that, quiet the
 * drivers unless FAULT_TEST_VERBOSE, and let a write to a closed socket fail with EPIPE. */
static int process_setup(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--victim"))
		return victim_main(atoi(argv[2]));
	g_self = argv[0];
	if (!getenv("FAULT_TEST_VERBOSE"))
		setenv("MAGMA_SYSTEM_QUIET", "1", 1); /* faults make the driver log a lot */
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_fail_call_map_buffer),
	SIM_TEST(test_fail_call_of_one_connection),
	SIM_TEST(test_fail_call_device_query),
	SIM_TEST(test_fail_alloc_driver),
	SIM_TEST(test_fail_alloc_service_connection),
	SIM_TEST(test_fail_alloc_service_import_status),
	SIM_TEST(test_kill_client_process_at_its_first_call),
	SIM_TEST(test_kill_client_process_at_its_fifth_call),
	SIM_TEST(test_kill_client_own_process_closes_connection),
	SIM_TEST(test_kill_client_at_cycle),
	SIM_TEST(test_same_plan_same_firings),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

/* SPDX-License-Identifier: MIT */
/*
 * test_fault_control.c - live fault-injection sessions: magma-simd --control and magma-ctl.
 *
 * A daemon started with no plan and a control socket: status shows a quiet device; bad requests
 * and a plan with an error are refused with a message (the plan's naming file, line and field)
 * and arm nothing; a plan injected while a client runs fires on that client's next submission;
 * dump shows the connection log (the killed connection's status) and the firing with its four
 * moments in order; clear disarms; once the clients are gone the device holds nothing; a client
 * that connects and says nothing does not stop the socket; magma-ctl prints and exits as
 * documented. Waits have generous deadlines and no upper bound on elapsed time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fault_test_client.h"
#include "sim_test.h"

/* A plan with a typo on its third line. */
static const char bad_plan[] = "{\"faults\": [\n"
			       "  {\"kind\": \"mmu_fault\",\n"
			       "   \"trigger\": {\"nht\": 2}}]}\n";

/* Sends @line (with its newline) to the control socket @path; the parsed answer or NULL. */
static cJSON *ask_raw(const char *path, const char *line)
{
	static char buf[1 << 20];
	size_t n = 0;
	int fd = ftc_connect(path);

	if (fd < 0)
		return NULL;
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		close(fd);
		return NULL;
	}
	for (ssize_t got;
	     n < sizeof(buf) - 1 && (got = recv(fd, buf + n, sizeof(buf) - 1 - n, 0));) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	return cJSON_ParseWithLength(buf, n);
}

/* @req as one line. */
static cJSON *ask(const char *path, cJSON *req)
{
	char *text = cJSON_PrintUnformatted(req), line[1 << 16];
	cJSON *a;

	snprintf(line, sizeof(line), "%s\n", text ? text : "");
	free(text);
	cJSON_Delete(req);
	a = ask_raw(path, line);
	return a;
}

static cJSON *cmd(const char *name)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "cmd", name);
	return req;
}

static cJSON *inject(const char *plan, const char *file)
{
	cJSON *req = cmd("inject");

	cJSON_AddStringToObject(req, "plan", plan);
	cJSON_AddStringToObject(req, "file", file);
	return req;
}

static bool ok(const cJSON *a)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "ok"));
}

static const char *error_of(const cJSON *a)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "error");

	return cJSON_IsString(e) ? e->valuestring : "";
}

/* The value at "a.b.c" under @obj (dots separate members), or NULL. */
static const cJSON *at(const cJSON *obj, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && obj; k = strtok_r(NULL, ".", &save))
		obj = cJSON_GetObjectItemCaseSensitive(obj, k);
	return obj;
}

static double num(const cJSON *obj, const char *path)
{
	const cJSON *v = at(obj, path);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Device 0 of a status or dump answer. */
static const cJSON *device0(const cJSON *a)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "devices"), 0);
}

/* Whether every "live" count of device 0 is 0. */
static bool holds_nothing(const cJSON *a)
{
	const cJSON *item;
	bool zero = at(device0(a), "live") != NULL;

	cJSON_ArrayForEach(item, at(device0(a), "live")) zero &= item->valuedouble == 0;
	return zero;
}

static bool session_start(struct ftc_daemon *d)
{
	return ftc_daemon_start(d, MAGMA_SIMD_PATH, "fault-ctl");
}

static void session_stop(struct ftc_daemon *d)
{
	struct stat st;
	char ctl[sizeof(d->ctl)];
	int status;

	snprintf(ctl, sizeof(ctl), "%s", d->ctl);
	status = ftc_daemon_stop(d);
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(stat(ctl, &st) != 0); /* removed at shutdown */
}

/* A quiet device, and requests it refuses without arming anything. */
static void test_status_and_bad_requests(void)
{
	struct ftc_daemon s;
	cJSON *a;

	REQUIRE(session_start(&s));
	a = ask(s.ctl, cmd("status"));
	CHECK(ok(a));
	CHECK(num(a, "fds") > 0);
	CHECK_EQ(num(device0(a), "device"), 0);
	CHECK(!strcmp(cJSON_GetStringValue(at(device0(a), "label")), "magma0"));
	CHECK_EQ(num(device0(a), "faults.armed"), 0);
	CHECK_EQ(num(device0(a), "connections.opened"), 0);
	CHECK(holds_nothing(a));
	CHECK(at(device0(a), "firings") == NULL); /* status has no lists; dump does */
	cJSON_Delete(a);

	a = ask_raw(s.ctl, "not json\n");
	CHECK(!ok(a) && strstr(error_of(a), "one JSON object"));
	cJSON_Delete(a);
	a = ask(s.ctl, cmd("frobnicate"));
	CHECK(!ok(a) && strstr(error_of(a), "unknown command \"frobnicate\""));
	cJSON_Delete(a);
	a = ask(s.ctl, cJSON_Parse("{\"cmd\": \"clear\", \"device\": 3}"));
	CHECK(!ok(a) && strstr(error_of(a), "from 0 to 0"));
	cJSON_Delete(a);
	a = ask(s.ctl, inject(bad_plan, "mine.json"));
	CHECK(!ok(a) && strstr(error_of(a), "mine.json:3: faults[0].trigger.nht: unknown member"));
	cJSON_Delete(a);
	a = ask(s.ctl, inject("{\"faults\": [{\"kind\": \"kill_client\", \"trigger\": "
			      "{\"cycle\": 5}}]}",
			      "cannot.json"));
	CHECK(!ok(a) && strstr(error_of(a), "cannot.json:1:")); /* fault_plan_check_device */
	cJSON_Delete(a);
	a = ask(s.ctl, cJSON_Parse("{\"cmd\": \"inject\", \"plan\": 7}"));
	CHECK(!ok(a) && strstr(error_of(a), "\"plan\" must be"));
	cJSON_Delete(a);
	a = ask(s.ctl, cmd("status"));
	CHECK_EQ(num(device0(a), "faults.armed"), 0); /* nothing armed half-way */
	cJSON_Delete(a);

	/* A client that connects and says nothing delays the next request, never stops it. */
	{
		int silent = ftc_connect(s.ctl);

		CHECK(silent >= 0);
		a = ask(s.ctl, cmd("status"));
		CHECK(ok(a));
		cJSON_Delete(a);
		close(silent);
	}
	session_stop(&s);
}

/* A plan armed while a client runs fires, is recorded with its moments, and clears. */
static void test_inject_dump_clear(void)
{
	struct ftc_client c1, c2;
	magma_device_t dev = 0;
	const cJSON *f, *log;
	struct ftc_daemon s;
	cJSON *a;

	REQUIRE(session_start(&s));
	REQUIRE(magma_device_import((magma_handle_t)ftc_connect(s.sock), &dev) == MAGMA_STATUS_OK);
	REQUIRE(ftc_open(dev, &c1) == MAGMA_STATUS_OK); /* connection 1 */
	CHECK_EQ(ftc_write(&c1, 0, 1u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c1), MAGMA_STATUS_OK);

	a = ask(s.ctl, inject("{\"name\": \"live\", \"faults\": [{\"name\": \"next job faults\","
			      " \"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 1},"
			      " \"target\": {\"connection\": 1}}]}",
			      "live.json"));
	CHECK(ok(a));
	CHECK_EQ(num(a, "armed"), 1);
	cJSON_Delete(a);
	CHECK_EQ(ftc_write(&c1, 1, 2u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c1), MAGMA_STATUS_CONTEXT_KILLED);
	REQUIRE(ftc_open(dev, &c2) == MAGMA_STATUS_OK); /* connection 2: work after the fault */
	CHECK_EQ(ftc_write(&c2, 0, 3u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c2), MAGMA_STATUS_OK);

	a = ask(s.ctl, cmd("dump"));
	CHECK(ok(a));
	CHECK_EQ(num(device0(a), "faults.fired"), 1);
	CHECK_EQ(num(device0(a), "connections.opened"), 2);
	f = cJSON_GetArrayItem(at(device0(a), "firings"), 0);
	CHECK(f != NULL);
	CHECK(!strcmp(cJSON_GetStringValue(at(f, "kind")), "mmu_fault"));
	CHECK(!strcmp(cJSON_GetStringValue(at(f, "fault")), "next job faults"));
	CHECK(!strcmp(cJSON_GetStringValue(at(f, "plan")), "live"));
	CHECK_EQ(num(f, "connection"), 1);
	CHECK(cJSON_IsTrue(at(f, "applied")));
	CHECK(num(f, "cycles.fired") >= 0);
	CHECK(num(f, "cycles.applied") >= num(f, "cycles.fired"));
	CHECK(num(f, "cycles.detected") >= num(f, "cycles.applied"));
	CHECK(num(f, "cycles.recovered") >= num(f, "cycles.detected"));
	CHECK(num(f, "ns.recovered") >= num(f, "ns.detected"));
	CHECK(num(f, "ns.detected") >= num(f, "ns.applied"));
	log = at(device0(a), "connection_log");
	CHECK_EQ(cJSON_GetArraySize(log), 2);
	CHECK(!strcmp(cJSON_GetStringValue(at(cJSON_GetArrayItem(log, 0), "status")),
		      "CONTEXT_KILLED"));
	CHECK(!strcmp(cJSON_GetStringValue(at(cJSON_GetArrayItem(log, 1), "status")), "OK"));
	CHECK(!strcmp(cJSON_GetStringValue(at(cJSON_GetArrayItem(log, 0), "fault")),
		      "MMU_TRANSLATION")); /* the driver's report before the kill */
	CHECK(cJSON_IsNull(at(cJSON_GetArrayItem(log, 1), "fault")));
	CHECK(cJSON_IsTrue(at(cJSON_GetArrayItem(log, 1), "open")));
	cJSON_Delete(a);

	/* Armed, then cleared before it could fire: connection 2 keeps working. */
	a = ask(s.ctl, inject("{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"every\": 1},"
			      " \"times\": 0}]}",
			      "hang.json"));
	CHECK(ok(a));
	cJSON_Delete(a);
	a = ask(s.ctl, cmd("clear"));
	CHECK(ok(a));
	CHECK_EQ(num(a, "cleared"), 1); /* the first plan's one fault was spent */
	cJSON_Delete(a);
	CHECK_EQ(ftc_write(&c2, 1, 4u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c2), MAGMA_STATUS_OK);
	a = ask(s.ctl, cmd("status"));
	CHECK_EQ(num(device0(a), "faults.armed"), 0);
	CHECK_EQ(num(device0(a), "faults.fired"), 1);
	cJSON_Delete(a);

	ftc_close(&c1);
	ftc_close(&c2);
	magma_device_release(dev);
	/* Once every client is gone the device holds nothing. */
	for (uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;; usleep(5000)) {
		a = ask(s.ctl, cmd("status"));
		if ((num(device0(a), "connections.open") == 0 && holds_nothing(a)) ||
		    ftc_now_ns() > deadline)
			break;
		cJSON_Delete(a);
	}
	CHECK_EQ(num(device0(a), "connections.open"), 0);
	CHECK(holds_nothing(a));
	cJSON_Delete(a);
	session_stop(&s);
}

/* magma-ctl: its output and exit statuses. */
static void test_magma_ctl(void)
{
	char out[8192], plan[] = "/tmp/fault-ctl-plan-XXXXXX";
	struct ftc_daemon s;
	int fd;

	REQUIRE(session_start(&s));
	{
		char *argv[] = {MAGMA_CTL_PATH, "--control", s.ctl, "status", NULL};

		CHECK_EQ(ftc_run(argv, out, sizeof(out)), 0);
		CHECK(strstr(out, "device 0 (magma0): GPU cycle") != NULL);
		CHECK(strstr(out, "faults: 0 armed, 0 fired") != NULL);
	}
	fd = mkstemp(plan);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, bad_plan, strlen(bad_plan)), (ssize_t)strlen(bad_plan));
	close(fd);
	{
		char *argv[] = {MAGMA_CTL_PATH, "--control", s.ctl, "inject", plan, NULL};

		CHECK_EQ(ftc_run(argv, out, sizeof(out)), 1);
		CHECK(strstr(out, ":3: faults[0].trigger.nht: unknown member") != NULL);
		CHECK(strstr(out, plan) != NULL);
	}
	fd = open(plan, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	{
		static const char good[] = "{\"faults\": [{\"kind\": \"irq_loss\", \"trigger\": "
					   "{\"nth\": 1}}, {\"kind\": \"cp_hang\", \"trigger\": "
					   "{\"nth\": 1}}]}\n";
		char *inj[] = {MAGMA_CTL_PATH, "--control", s.ctl, "inject",
			       plan,	       "--device",  "0",   NULL};
		char *clr[] = {MAGMA_CTL_PATH, "--control", s.ctl, "clear", NULL};
		char *dump[] = {MAGMA_CTL_PATH, "--control", s.ctl, "dump", NULL};

		CHECK_EQ(write(fd, good, strlen(good)), (ssize_t)strlen(good));
		close(fd);
		CHECK_EQ(ftc_run(inj, out, sizeof(out)), 0);
		CHECK(!strcmp(out, "armed 2 fault(s)\n"));
		CHECK_EQ(ftc_run(dump, out, sizeof(out)), 0);
		CHECK(strstr(out, "\"connection_log\"") != NULL);
		CHECK_EQ(ftc_run(clr, out, sizeof(out)), 0);
		CHECK(!strcmp(out, "cleared 2 fault(s)\n"));
	}
	{
		char *nowhere[] = {MAGMA_CTL_PATH, "--control", "/nonexistent/ctl", "status", NULL};
		char *unknown[] = {MAGMA_CTL_PATH, "--frob", NULL};
		char *nocmd[] = {MAGMA_CTL_PATH, "--control", s.ctl, NULL};
		char *help[] = {MAGMA_CTL_PATH, "--help", NULL};

		CHECK_EQ(ftc_run(nowhere, out, sizeof(out)), 3);
		CHECK(strstr(out, "cannot reach /nonexistent/ctl") != NULL);
		CHECK_EQ(ftc_run(unknown, out, sizeof(out)), 2);
		CHECK(strstr(out, "--help") != NULL);
		CHECK_EQ(ftc_run(nocmd, out, sizeof(out)), 2);
		CHECK_EQ(ftc_run(help, out, sizeof(out)), 0);
		CHECK(strstr(out, "inject PLAN [--device N]") != NULL);
	}
	unlink(plan);
	session_stop(&s);
}

/* Quiet drivers unless FAULT_TEST_VERBOSE; a write to a closed socket fails with EPIPE. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!getenv("FAULT_TEST_VERBOSE"))
		setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_status_and_bad_requests),
	SIM_TEST(test_inject_dump_clear),
	SIM_TEST(test_magma_ctl),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

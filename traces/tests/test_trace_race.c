/* SPDX-License-Identifier: MIT */
/*
 * test_trace_race.c - trace_race_explain's ordering model on small hand-written traces: an
 * unordered pair is named; a semaphore chain (also transitive), context order and a CPU wait
 * each order the pair; a CPU semaphore_signal orders what waits for it after what the CPU saw;
 * among several unordered submissions the one holding the first differing byte wins. Also the
 * gate a replay under --perturb moves before each call (trace_perturb_gate_for).
 *
 * Only the lines trace_race_explain reads are written (header, calls, end), one event per line
 * as the writer does. Single threaded; files under /tmp, removed after each case.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lib/magma/magma_common_defs.h>

#include "sim_test.h"
#include "traces/trace_perturb.h"
#include "traces/trace_race.h"

struct doc {
	char path[64];
	FILE *f;
	unsigned seq;
};

static void doc_open(struct doc *d)
{
	int fd;

	snprintf(d->path, sizeof(d->path), "%s", "/tmp/trace_race_XXXXXX");
	fd = mkstemp(d->path);
	REQUIRE(fd >= 0);
	d->f = fdopen(fd, "w");
	REQUIRE(d->f);
	d->seq = 0;
	fprintf(d->f, "{\"format\":\"magma-sim-trace\",\"version\":2,\"writer\":\"test\","
		      "\"digest\":\"fnv1a64\",\"events\":[\n");
}

/* One call event at the next seq; returns its seq. @body is "call..." without braces. */
static unsigned doc_call(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static unsigned doc_call(struct doc *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(d->f, "{\"seq\":%u,\"type\":\"call\",", d->seq);
	va_start(ap, fmt);
	vfprintf(d->f, fmt, ap);
	va_end(ap);
	fprintf(d->f, "},\n");
	return d->seq++;
}

/* execute_command on context @ctx listing buffer 5 [@off, +@len), waiting/signaling @w/@s. */
static unsigned doc_exec(struct doc *d, unsigned ctx, unsigned off, unsigned len, const char *w,
			 const char *s)
{
	return doc_call(
		d,
		"\"call\":\"execute_command\",\"args\":{\"connection\":7,\"context\":%u,"
		"\"flags\":0,\"resources\":[{\"buffer_id\":9,\"offset\":0,\"length\":4096,"
		"\"contents\":\"\"},{\"buffer_id\":5,\"offset\":%u,\"length\":%u,"
		"\"contents\":\"\"}],\"command_buffers\":[{\"resource_index\":0,"
		"\"start_offset\":0}],\"wait\":[%s],\"signal\":[%s]},\"result\":0,\"out\":{}",
		ctx, off, len, w, s);
}

/* create_semaphore giving handle 100 + @id and id @id. */
static void doc_sem(struct doc *d, unsigned id)
{
	doc_call(d,
		 "\"call\":\"create_semaphore\",\"args\":{\"connection\":7},\"result\":0,"
		 "\"out\":{\"semaphore\":%u,\"id\":%u}",
		 100 + id, id);
}

/* A poll that saw semaphore @id signaled. */
static unsigned doc_poll(struct doc *d, unsigned id)
{
	return doc_call(
		d,
		"\"call\":\"poll\",\"args\":{\"items\":[{\"type\":1,\"object\":%u,"
		"\"condition\":3}],\"timeout_ns\":1000},\"result\":0,\"out\":{\"results\":[3]}",
		100 + id);
}

/* Close the document and explain a mismatch of @sub's buffer 5 [0, +4096) at the next seq. */
static void doc_explain(struct doc *d, unsigned sub, uint64_t first_diff,
			struct trace_race_report *rep)
{
	struct trace_replay_mismatch m = {
		.valid = true,
		.event = d->seq,
		.submission = sub,
		.resource = 1,
		.buffer_id = 5,
		.offset = 0,
		.length = 4096,
		.first_diff = first_diff,
	};

	fprintf(d->f, "{\"seq\":%u,\"type\":\"end\",\"events\":%u}\n]}\n", d->seq, d->seq);
	fclose(d->f);
	REQUIRE_EQ(trace_race_explain(d->path, &m, rep), 0);
	unlink(d->path);
}

static void test_unordered_pair_is_named(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a, b;

	doc_open(&d);
	doc_sem(&d, 1);
	doc_sem(&d, 2);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	b = doc_exec(&d, 2, 0, 4096, "", "2");
	doc_poll(&d, 1);
	doc_poll(&d, 2);
	doc_explain(&d, a, 100, &rep);
	CHECK(rep.found);
	CHECK_EQ(rep.other_event, b);
	CHECK_EQ(rep.other_context, 2);
	CHECK(strstr(rep.text, "no semaphore chain") != NULL);
}

static void test_semaphore_chain_orders(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a, c;

	/* A signals 1; C waits 1, signals 2; B waits 2: A -> C -> B. */
	doc_open(&d);
	doc_sem(&d, 1);
	doc_sem(&d, 2);
	doc_sem(&d, 3);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	c = doc_exec(&d, 2, 8192, 4096, "1", "2");
	doc_exec(&d, 3, 0, 4096, "2", "3");
	doc_poll(&d, 3);
	doc_explain(&d, a, 0, &rep);
	CHECK(!rep.found);
	CHECK_EQ(rep.candidates, 1);
	CHECK(strstr(rep.text, "all ordered") != NULL);
	(void)c;
}

static void test_context_order_and_cpu_wait_order(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a;

	/* Same context: ordered. Another context after a poll that saw A: ordered. */
	doc_open(&d);
	doc_sem(&d, 1);
	doc_sem(&d, 2);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	doc_exec(&d, 1, 0, 4096, "", "");
	doc_poll(&d, 1);
	doc_exec(&d, 2, 0, 4096, "", "2");
	doc_explain(&d, a, 0, &rep);
	CHECK(!rep.found);
	CHECK_EQ(rep.candidates, 2);
}

static void test_cpu_wait_on_a_successor_orders(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a, b;

	/* A -> C by semaphore; the CPU saw C done; B comes after: A is before B. */
	doc_open(&d);
	doc_sem(&d, 1);
	doc_sem(&d, 2);
	doc_sem(&d, 3);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	doc_exec(&d, 2, 8192, 64, "1", "2");
	doc_poll(&d, 2);
	b = doc_exec(&d, 3, 0, 4096, "", "3");
	doc_explain(&d, b, 0, &rep);
	CHECK(!rep.found);
	(void)a;
}

static void test_cpu_signal_orders_the_waiter(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a, b;

	/* B waits 2, which the CPU signals only after it saw A complete. */
	doc_open(&d);
	doc_sem(&d, 1);
	doc_sem(&d, 2);
	doc_sem(&d, 3);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	b = doc_exec(&d, 2, 0, 4096, "2", "3");
	doc_poll(&d, 1);
	doc_call(&d, "\"call\":\"semaphore_signal\",\"args\":{\"semaphore\":102},\"out\":{}");
	doc_poll(&d, 3);
	doc_explain(&d, a, 0, &rep);
	CHECK(!rep.found);
	(void)b;
}

static void test_first_differing_byte_wins(void)
{
	struct trace_race_report rep;
	struct doc d;
	unsigned a, far;

	doc_open(&d);
	doc_sem(&d, 1);
	a = doc_exec(&d, 1, 0, 4096, "", "1");
	doc_exec(&d, 2, 0, 1024, "", "");
	far = doc_exec(&d, 3, 2048, 2048, "", "");
	doc_poll(&d, 1);
	doc_explain(&d, a, 3000, &rep);
	CHECK(rep.found);
	CHECK_EQ(rep.other_event, far);
	CHECK_EQ(rep.other_offset, 2048);
	CHECK_EQ(rep.candidates, 2);
}

static void test_bad_arguments(void)
{
	struct trace_replay_mismatch m = {.valid = true};
	struct trace_race_report rep;

	CHECK_EQ(trace_race_explain(NULL, &m, &rep), -EINVAL);
	m.valid = false;
	CHECK_EQ(trace_race_explain("/nonexistent", &m, &rep), -EINVAL);
	m.valid = true;
	CHECK_EQ(trace_race_explain("/nonexistent/trace.json", &m, &rep), -ENOENT);
}

/* Submissions pause the GPU, waits and releases let it run, a seen fault lets it finish first. */
static void test_gate_for_calls(void)
{
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_EXECUTE_COMMAND, 0), TRACE_PERTURB_HOLD);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_EXECUTE_INLINE, 0), TRACE_PERTURB_HOLD);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_POLL, MAGMA_STATUS_TIMED_OUT),
		 TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_READ_NOTIFICATION, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_PERF_READ_COMPLETION, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_PERF_DUMP, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_RELEASE_CONTEXT, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_CONNECTION_RELEASE, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_DEVICE_RELEASE, 0), TRACE_PERTURB_RUN);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_CREATE_BUFFER, 0), TRACE_PERTURB_KEEP);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_MAP_BUFFER, 0), TRACE_PERTURB_KEEP);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_GET_ERROR, MAGMA_STATUS_CONTEXT_KILLED),
		 TRACE_PERTURB_SETTLE);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_EXECUTE_COMMAND, MAGMA_STATUS_CONNECTION_LOST),
		 TRACE_PERTURB_SETTLE);
	CHECK_EQ(trace_perturb_gate_for(TRACE_CALL_COUNT, MAGMA_STATUS_CONTEXT_KILLED),
		 TRACE_PERTURB_KEEP);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_unordered_pair_is_named),
	SIM_TEST(test_semaphore_chain_orders),
	SIM_TEST(test_context_order_and_cpu_wait_order),
	SIM_TEST(test_cpu_wait_on_a_successor_orders),
	SIM_TEST(test_cpu_signal_orders_the_waiter),
	SIM_TEST(test_first_differing_byte_wins),
	SIM_TEST(test_bad_arguments),
	SIM_TEST(test_gate_for_calls),
};
SIM_TEST_SUITE(tests);

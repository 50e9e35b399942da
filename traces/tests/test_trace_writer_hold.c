/* SPDX-License-Identifier: MIT */
/*
 * test_trace_writer_hold.c - trace_writer_hold/release: the holding thread's dev events come
 * after the call event written before the release, in their order, with their own seq numbers;
 * another thread's dev events are not held; nested holds write at the outermost release.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_test.h"
#include "trace_test_util.h"
#include "traces/trace.h"

static void *other_thread(void *arg)
{
	trace_writer_dev_event(arg, "\"type\":\"dev\",\"ev\":\"OTHER\"");
	return NULL;
}

static void test_held_events_follow_the_call(void)
{
	char p[] = "/tmp/magma-trace-hold-XXXXXX";
	int fd = mkstemp(p);
	struct trace_writer *w;
	pthread_t t;
	char *text, *call, *a, *b, *other, *after;

	REQUIRE(fd >= 0);
	close(fd);
	w = trace_writer_open(p, "test");
	REQUIRE(w != NULL);
	trace_writer_hold(w);
	trace_writer_hold(w); /* nested */
	CHECK_EQ(trace_writer_dev_event(w, "\"type\":\"dev\",\"ev\":\"A\""), 0);
	REQUIRE_EQ(pthread_create(&t, NULL, other_thread, w), 0);
	pthread_join(t, NULL);
	CHECK_EQ(trace_writer_dev_event(w, "\"type\":\"dev\",\"ev\":\"B\""), 0);
	trace_writer_release(w); /* inner: nothing yet */
	trace_writer_event(w, "\"type\":\"call\",\"call\":\"CALL\"");
	trace_writer_release(w);
	trace_writer_dev_event(w, "\"type\":\"dev\",\"ev\":\"AFTER\"");
	trace_writer_close(w);
	text = trace_test_read(p);
	unlink(p);
	REQUIRE(text != NULL);
	other = strstr(text, "\"ev\":\"OTHER\"");
	call = strstr(text, "\"call\":\"CALL\"");
	a = strstr(text, "\"ev\":\"A\"");
	b = strstr(text, "\"ev\":\"B\"");
	after = strstr(text, "\"ev\":\"AFTER\"");
	CHECK(other && call && a && b && after);
	if (other && call && a && b && after) {
		CHECK(other < call); /* not held: written at once */
		CHECK(call < a);
		CHECK(a < b);
		CHECK(b < after);
	}
	CHECK(strstr(text, "{\"seq\":2,\"type\":\"dev\",\"ev\":\"A\"}") != NULL);
	free(text);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_held_events_follow_the_call),
};
SIM_TEST_SUITE(tests);

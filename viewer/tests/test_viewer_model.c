/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_model.c - magma-view's model and queries on the sample traces of traces/samples
 * and on recorded fault traces in viewer/tests/data (README there says how each was made).
 *
 * Numbers checked here are read off the trace files themselves (event indices, cycles, VAs), so
 * a test failure points at the reader, not at the recording.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim_regs.h"
#include "sim_test.h"
#include "viewer_model.h"
#include "viewer_query.h"

static struct viewer_model *load(const char *dir, const char *name)
{
	char path[512], err[1024];
	struct viewer_model *m;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	m = viewer_model_load(path, err, sizeof(err));
	if (!m)
		fprintf(stderr, "%s: %s\n", path, err);
	return m;
}

/* write.json: one connection, four jobs on queue 0, all matched to their submissions. */
static void test_sample_write(void)
{
	struct viewer_model *m = load(VIEWER_SAMPLES_DIR, "write.json");
	int idx[8];

	REQUIRE(m);
	CHECK_EQ(m->event_count, 202);
	CHECK_EQ(m->device_count, 1);
	CHECK_EQ(m->queue_count, 1);
	CHECK_EQ(m->connection_count, 1);
	CHECK_EQ(m->context_count, 1);
	CHECK_EQ(m->buffer_count, 2);
	CHECK_EQ(m->mapping_count, 2);
	CHECK_EQ(m->submission_count, 4);
	CHECK_EQ(m->fault_count, 0);
	REQUIRE_EQ(m->job_count, 4);
	CHECK_EQ(m->jobs[0].start_seq, 102);
	CHECK_EQ(m->jobs[0].end_seq, 103);
	CHECK_EQ(m->jobs[0].start_cycle, 12000);
	CHECK_EQ(m->jobs[0].end_cycle, 12440);
	CHECK_EQ(m->jobs[0].cmd_va, 1048576);
	CHECK_EQ(m->jobs[0].end, VIEWER_JOB_OK);
	for (size_t i = 0; i < m->job_count; i++) {
		CHECK_EQ(m->jobs[i].connection, 0);
		CHECK_EQ(m->jobs[i].submission, i);
		CHECK_EQ(m->jobs[i].seqno, i + 1);
	}
	CHECK_EQ(m->submissions[0].cmd_va, 1048576);
	CHECK_EQ(m->last_cycle, 13072);
	/* a call gets the cycle of the device event before it */
	CHECK_EQ(viewer_model_cycle_at(m, 70), 12000);
	CHECK_EQ(viewer_model_event_at_cycle(m, 12440), 105); /* IRQ_LINE after it */
	/* mappings: both live during the run, sorted by VA, gone after unmap */
	CHECK_EQ(viewer_query_mappings(m, 0, 120, idx, 8), 2);
	CHECK_EQ(m->mappings[idx[0]].va, 1048576);
	CHECK_EQ(m->mappings[idx[1]].va, 2097152);
	CHECK_EQ(viewer_query_mappings(m, 0, 174, idx, 8), 0);
	CHECK_EQ(viewer_query_mapping_at(m, 0, 2097152 + 8191, 100), idx[1]);
	CHECK_EQ(viewer_query_mapping_at(m, 0, 2097152 + 8192, 100), -1);
	/* markers: reset begin/done at creation, one power change, reset at destruction */
	CHECK(m->marker_count >= 5);
	CHECK_EQ(m->markers[0].kind, VIEWER_MARK_RESET_BEGIN);
	CHECK_EQ(viewer_model_default_event(m), 161);
	viewer_model_destroy(m);
}

static void test_all_samples_load(void)
{
	static const char *const names[] = {"write.json", "copy.json", "fill.json", "compute.json"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct viewer_model *m = load(VIEWER_SAMPLES_DIR, names[i]);

		REQUIRE(m);
		CHECK_EQ(m->job_count, 4);
		for (size_t j = 0; j < m->job_count; j++)
			CHECK(m->jobs[j].submission >= 0);
		viewer_model_destroy(m);
	}
}

/*
 * Two connections (A faults, B is innocent); buffer names were added to the recording by
 * inserting buffer_set_name calls (tests/data/README.md). B's job runs on queue 1 while A's
 * second submission is still pending: VA matching must give it to B.
 */
static void test_two_connections(void)
{
	struct viewer_model *m = load(VIEWER_DATA_DIR, "fault-two-connections.json");
	struct viewer_link links[VIEWER_CHAIN_MAX];
	const struct viewer_fault *f;
	size_t n;

	REQUIRE(m);
	CHECK_EQ(m->connection_count, 2);
	CHECK_EQ(m->queue_count, 2);
	REQUIRE_EQ(m->job_count, 3);
	/* A is the connection created first; B second */
	CHECK_EQ(m->jobs[0].connection, 0);
	CHECK_EQ(m->jobs[1].queue, 1);
	CHECK_EQ(m->jobs[1].connection, 1);
	CHECK_EQ(m->jobs[2].connection, 0);
	CHECK_EQ(m->jobs[0].end, VIEWER_JOB_FAULTED);
	CHECK_EQ(m->jobs[0].fault, SIM_FAULT_MMU_TRANSLATION);
	REQUIRE_EQ(m->fault_count, 1);
	f = &m->faults[0];
	CHECK_EQ(f->va, 272646144);
	CHECK_EQ(f->connection, 0);
	CHECK_EQ(f->job, 0);
	CHECK(!f->hang);
	CHECK(!strcmp(m->buffers[0].name, "B target"));
	n = viewer_chain_build(m, 0, links);
	REQUIRE(n >= 8);
	CHECK_EQ(links[0].kind, VIEWER_LINK_SUBMIT);
	CHECK_EQ(links[0].seq, m->submissions[m->jobs[0].submission].seq);
	CHECK_EQ(links[2].seq, f->seq);
	CHECK_EQ(links[3].kind, VIEWER_LINK_MAPPING);
	CHECK(strstr(links[3].text, "not mapped") != NULL);
	CHECK(strstr(links[3].text, "'A commands'") != NULL);
	CHECK_EQ(links[4].kind, VIEWER_LINK_KILLED);
	CHECK(links[4].seq != VIEWER_NONE);
	CHECK(strstr(links[4].text, "get_error") != NULL);
	CHECK_EQ(links[6].seq, VIEWER_NONE); /* no reset for an MMU fault */
	CHECK_EQ(links[7].kind, VIEWER_LINK_INNOCENT);
	viewer_model_destroy(m);
}

/* The notification the client read is decoded from its blob. */
static void test_notification(void)
{
	struct viewer_model *m = load(VIEWER_DATA_DIR, "fault-notification.json");
	struct viewer_link links[VIEWER_CHAIN_MAX];
	size_t n;

	REQUIRE(m);
	REQUIRE_EQ(m->notification_count, 1);
	CHECK(m->notifications[0].decoded);
	CHECK_EQ(m->notifications[0].seq, 128);
	CHECK_EQ(m->notifications[0].fault_code, SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(m->notifications[0].fault_address, 268435520);
	REQUIRE_EQ(m->fault_count, 1);
	n = viewer_chain_build(m, 0, links);
	REQUIRE(n >= 6);
	CHECK_EQ(links[5].kind, VIEWER_LINK_NOTIFY);
	CHECK_EQ(links[5].seq, 128);
	CHECK(strstr(links[5].text, "MMU_TRANSLATION at VA 0x10000040") != NULL);
	CHECK_EQ(links[4].seq, 138); /* get_error: CONTEXT_KILLED */
	viewer_model_destroy(m);
}

/* A write through a read-only mapping: the chain names the mapping and its flags. */
static void test_permission(void)
{
	struct viewer_model *m = load(VIEWER_DATA_DIR, "permission-fault.json");
	struct viewer_link links[VIEWER_CHAIN_MAX];

	REQUIRE(m);
	REQUIRE_EQ(m->fault_count, 1);
	CHECK_EQ(m->faults[0].code, SIM_FAULT_MMU_PERMISSION);
	REQUIRE(viewer_chain_build(m, 0, links) >= 4);
	CHECK_EQ(links[3].seq, 61); /* the map_buffer of the read-only mapping */
	CHECK(strstr(links[3].text, "with R--") != NULL);
	viewer_model_destroy(m);
}

/* An access after unmap: the chain points at the unmap_buffer call. */
static void test_after_unmap(void)
{
	struct viewer_model *m = load(VIEWER_DATA_DIR, "fault-after-unmap.json");
	struct viewer_link links[VIEWER_CHAIN_MAX];

	REQUIRE(m);
	REQUIRE_EQ(m->fault_count, 1);
	REQUIRE(viewer_chain_build(m, 0, links) >= 4);
	CHECK_EQ(links[3].seq, 121);
	CHECK(strstr(links[3].text, "unmapped at event 121") != NULL);
	viewer_model_destroy(m);
}

/*
 * A cp_hang (MAGMA_SIM_FAULTS plan in tests/data/README.md): no FAULT event; the job running at
 * the watchdog's soft reset becomes a hang fault, and the chain shows the reset.
 */
static void test_hang(void)
{
	struct viewer_model *m = load(VIEWER_DATA_DIR, "hang-reset.json");
	struct viewer_link links[VIEWER_CHAIN_MAX];

	REQUIRE(m);
	REQUIRE_EQ(m->fault_count, 1);
	CHECK(m->faults[0].hang);
	CHECK_EQ(m->faults[0].seq, 127);
	CHECK_EQ(m->jobs[m->faults[0].job].end, VIEWER_JOB_RESET);
	REQUIRE(viewer_chain_build(m, 0, links) >= 7);
	CHECK_EQ(links[6].seq, 127);
	CHECK(strstr(links[6].text, "soft reset from cycle 2032000 to 2033000") != NULL);
	viewer_model_destroy(m);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * A trace whose device starts at a large cycle (merged from a long-running daemon's): the events
 * before its first dev event are placed there, so the timeline starts there, not at cycle 0.
 */
static void test_starts_at_first_device_event(void)
{
	char path[] = "/tmp/viewer_test_model_XXXXXX";
	char err[1024];
	struct viewer_model *m;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	write_file(path,
		   "{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n"
		   "{\"seq\":0,\"type\":\"device\",\"event\":\"created\",\"device\":0},\n"
		   "{\"seq\":1,\"type\":\"dev\",\"cycle\":5000,\"ev\":\"JOB_START\",\"unit\":0,"
		   "\"code\":1,\"value\":4096,\"value2\":1,\"name\":\"\"},\n"
		   "{\"seq\":2,\"type\":\"dev\",\"cycle\":5100,\"ev\":\"JOB_END\",\"unit\":0,"
		   "\"code\":0,\"value\":4096,\"value2\":1,\"name\":\"\"},\n"
		   "{\"seq\":3,\"type\":\"device\",\"event\":\"destroyed\",\"device\":0,"
		   "\"cycles\":5100},\n"
		   "{\"seq\":4,\"type\":\"end\",\"events\":4}\n]}\n");
	m = viewer_model_load(path, err, sizeof(err));
	unlink(path);
	REQUIRE(m);
	CHECK_EQ(m->first_cycle, 5000);
	CHECK_EQ(m->events[0].cycle, 5000);
	CHECK_EQ(m->last_cycle, 5100);
	CHECK_EQ(m->job_count, 1);
	viewer_model_destroy(m);
}

/* Bad input is a message, never a crash or a model. */
static void test_bad_input(void)
{
	static const char *const bad[] = {
		"",
		"not json\n",
		/* a broken line that is not the last one (a cut last line is a truncated trace) */
		"{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n{\"seq\":0,\"type\":\"dev\"\n"
		"{\"seq\":1,\"type\":\"end\",\"events\":1}\n]}\n",
		"{\"format\":\"magma-sim-trace\",\"version\":9,\"events\":[\n{\"seq\":0,\"type\":\"end\","
		"\"events\":0}\n]}\n",
		"{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n{\"seq\":3,\"type\":\"end\","
		"\"events\":0}\n]}\n",
	};
	char path[] = "/tmp/viewer_test_model_XXXXXX";
	char err[1024];
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct viewer_model *m;

		write_file(path, bad[i]);
		err[0] = '\0';
		m = viewer_model_load(path, err, sizeof(err));
		CHECK(m == NULL);
		CHECK(!strncmp(err, "bad trace:", 10));
		viewer_model_destroy(m);
	}
	unlink(path);
	CHECK(viewer_model_load("/nonexistent/trace.json", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "cannot open") != NULL);
	/* a recording cut short (its last line, without a newline, is dropped): its events load */
	write_file(path,
		   "{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n{\"seq\":0,"
		   "\"type\":\"device\",\"event\":\"created\",\"device\":0},\n{\"seq\":1,\"ty");
	{
		struct viewer_model *m = viewer_model_load(path, err, sizeof(err));

		CHECK(m != NULL);
		if (m)
			CHECK_EQ(m->event_count, 1);
		viewer_model_destroy(m);
	}
	/* the smallest valid trace: no events at all */
	write_file(path, "{\"format\":\"magma-sim-trace\",\"version\":2,\"events\":[\n{\"seq\":0,"
			 "\"type\":\"end\",\"events\":0}\n]}\n");
	{
		struct viewer_model *m = viewer_model_load(path, err, sizeof(err));

		CHECK(m != NULL);
		if (m) {
			CHECK_EQ(m->event_count, 0);
			CHECK_EQ(viewer_model_event_at_cycle(m, 5), 0);
			CHECK_EQ(viewer_model_default_event(m), 0);
		}
		viewer_model_destroy(m);
	}
	unlink(path);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_sample_write),
	SIM_TEST(test_all_samples_load),
	SIM_TEST(test_two_connections),
	SIM_TEST(test_notification),
	SIM_TEST(test_permission),
	SIM_TEST(test_after_unmap),
	SIM_TEST(test_hang),
	SIM_TEST(test_starts_at_first_device_event),
	SIM_TEST(test_bad_input),
};
SIM_TEST_SUITE(tests);

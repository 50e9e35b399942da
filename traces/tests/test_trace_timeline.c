/* SPDX-License-Identifier: MIT */
/*
 * test_trace_timeline.c - the Chrome Trace Event timeline (trace_timeline.h) as Perfetto reads
 * it, every file checked by timeline_check.c: named tracks, commands nested in their jobs, flows
 * from a submission through its job's entries to its completion, busy and power counters,
 * faults and resets. First on hand-made device events (exact times and names), then on the
 * replays of the samples and of runs recorded here (two contexts; the recording-side timeline
 * of MAGMA_TRACE_TIMELINE=1), and the same trace twice gives the same bytes. The checker is
 * tested too, on broken timelines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_regs.h"
#include "sim_test.h"
#include "timeline_check.h"
#include "trace_test_util.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"
#include "traces/trace_timeline.h"

#define NO_UNIT SIM_EVENT_NO_UNIT

static void ev(struct trace_timeline *tl, enum sim_event_type type, uint64_t cycle, uint32_t unit,
	       uint32_t code, uint64_t value, uint64_t value2)
{
	struct sim_event e = {.type = type,
			      .cycle = cycle,
			      .unit = unit,
			      .code = code,
			      .value = value,
			      .value2 = value2};

	trace_timeline_add(tl, &e);
}

/* Checks the timeline at @path into @st; returns its text (NULL when unreadable). */
static char *check_file(const char *path, struct timeline_stats *st)
{
	if (timeline_check(path, st))
		SIM_TEST_FAIL("%s: %u problems, first: %s", path, st->problems, st->first_problem);
	return trace_test_read(path);
}

/* Writes @tl (then destroys it), checks the file into @st and returns its text. */
static char *write_check(struct trace_timeline *tl, struct timeline_stats *st)
{
	char path[] = "/tmp/magma-tl-XXXXXX";
	int fd = mkstemp(path);
	char *text;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return NULL;
	close(fd);
	CHECK_EQ(trace_timeline_write(tl, path), 0);
	trace_timeline_destroy(tl);
	text = check_file(path, st);
	unlink(path);
	return text;
}

static bool has(const char *text, const char *s)
{
	if (text && strstr(text, s))
		return true;
	fprintf(stderr, "not in the timeline: %s\n", s);
	return false;
}

/* The first job of a client: reset, power, one submission, three commands, completion. */
static void one_job_with_commands(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	ev(tl, SIM_EV_RESET, 0, NO_UNIT, SIM_GPU_COMMAND_HARD_RESET, 0, 0);
	ev(tl, SIM_EV_RESET, 10000, NO_UNIT, SIM_GPU_COMMAND_HARD_RESET, 1, 0);
	ev(tl, SIM_EV_IRQ_RAISE, 10000, NO_UNIT, 1u << 25, 0, 0);
	ev(tl, SIM_EV_POWER, 12000, NO_UNIT, 0xf, 1, 0);
	trace_timeline_submit(tl, 7, 1, 0x100000);
	ev(tl, SIM_EV_JOB_START, 12000, 0, 1, 0x100000, 1);
	ev(tl, SIM_EV_CMD, 12160, 0, SIM_CMD_WRITE32, 0x100000, 0);
	ev(tl, SIM_EV_CMD, 12363, 0, SIM_CMD_COPY, 0x100010, 0);
	ev(tl, SIM_EV_CMD, 12406, 0, SIM_CMD_END, 0x10002c, 0);
	ev(tl, SIM_EV_JOB_END, 12406, 0, 0, 0x100000, 1);
	ev(tl, SIM_EV_IRQ_RAISE, 12406, NO_UNIT, 1, 0, 0);
	text = write_check(tl, &st);
	CHECK_EQ(st.jobs, 1);
	CHECK_EQ(st.job_copies, 1);
	CHECK_EQ(st.commands, 3);
	CHECK_EQ(st.submits, 1);
	CHECK_EQ(st.dones, 1);
	CHECK_EQ(st.flows, 1);
	CHECK_EQ(st.flow_steps, 1); /* submit -> job -> done */
	CHECK_EQ(st.max_busy, 1);
	CHECK_EQ(st.power_samples, 1);
	CHECK_EQ(st.resets, 1);
	CHECK_EQ(st.global_instants, 1);
	CHECK_EQ(st.irqs, 2);
	CHECK_EQ(st.contexts, 1);
	CHECK_EQ(st.queues, 1);
	CHECK_EQ(st.clamped, 0);
	/* the job ends one cycle after JOB_END's stamp, so its END is inside it */
	CHECK(has(text, "\"name\":\"job 1\",\"pid\":1,\"tid\":100,\"ts\":12.000,\"dur\":0.407"));
	CHECK(has(text, "\"name\":\"WRITE32\",\"pid\":1,\"tid\":100,\"ts\":12.160,\"dur\":0.203"));
	CHECK(has(text, "\"name\":\"END\",\"pid\":1,\"tid\":100,\"ts\":12.406,\"dur\":0.001"));
	CHECK(has(text, "\"cores_ready\":4,\"clock_divider\":1"));
	CHECK(has(text, "\"name\":\"context 1 (connection 7)\""));
	CHECK(has(text, "\"name\":\"queue 0\""));
	CHECK(has(text, "\"name\":\"job 1 done\",\"pid\":2,\"tid\":2000,\"ts\":12.407"));
	free(text);
}

/* Two ring entries of one job (same slot and seqno): one flow, both entries steps, one done. */
static void entries_of_one_job(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	trace_timeline_submit(tl, 7, 1, 0x1000);
	ev(tl, SIM_EV_JOB_START, 100, 1, 2, 0x1000, 5);
	ev(tl, SIM_EV_CMD, 150, 1, SIM_CMD_END, 0x1000, 0);
	ev(tl, SIM_EV_JOB_END, 150, 1, 0, 0x1000, 5);
	ev(tl, SIM_EV_JOB_START, 200, 1, 2, 0x2000, 5);
	ev(tl, SIM_EV_CMD, 260, 1, SIM_CMD_END, 0x2000, 0);
	ev(tl, SIM_EV_JOB_END, 260, 1, 0, 0x2000, 5);
	text = write_check(tl, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK_EQ(st.flows, 1);
	CHECK_EQ(st.flow_steps, 2);
	CHECK_EQ(st.dones, 1);
	CHECK_EQ(st.busy_samples, 4); /* 1 at 100, 0 at 151, 1 at 200, 0 at 261 */
	CHECK(has(text, "\"entry\":1"));
	CHECK(has(text, "\"name\":\"job 5 done\",\"pid\":2,\"tid\":2000,\"ts\":0.261"));
	free(text);
}

/* A command faulting in the job's last unit: command and fault inside the job, named so. */
static void fault_in_the_last_unit(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	ev(tl, SIM_EV_JOB_START, 100, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_CMD, 150, 0, SIM_CMD_COPY, 0x1000, 0);
	ev(tl, SIM_EV_FAULT, 150, 0, SIM_FAULT_MMU_TRANSLATION, 0x9000, 1);
	ev(tl, SIM_EV_JOB_END, 150, 0, SIM_FAULT_MMU_TRANSLATION, 0x1000, 1);
	text = write_check(tl, &st);
	CHECK_EQ(st.commands, 1);
	CHECK_EQ(st.faults, 1);
	CHECK_EQ(st.max_depth, 2); /* job > COPY > fault */
	CHECK_EQ(st.flows, 1);	   /* without a submission: job -> completion */
	CHECK_EQ(st.contexts, 0);
	CHECK(has(text, "\"name\":\"job 1 (faulted)\",\"pid\":1,\"tid\":100,\"ts\":0.100,"
			"\"dur\":0.051"));
	CHECK(has(text, "\"name\":\"fault MMU_TRANSLATION\",\"pid\":1,\"tid\":100,\"ts\":0.150"));
	CHECK(has(text, "\"name\":\"job 1 faulted\",\"pid\":1,\"tid\":100,\"ts\":0.151"));
	free(text);
}

/*
 * A soft reset cuts the jobs of two connections; one is run again (same slot and seqno) and
 * completes. Its chain goes on through the rerun, the other's ends at the cut job.
 */
static void reset_cuts_jobs(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	trace_timeline_submit(tl, 1, 1, 0x1000);
	trace_timeline_submit(tl, 2, 1, 0x2000);
	ev(tl, SIM_EV_JOB_START, 100, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_JOB_START, 110, 1, 2, 0x2000, 1);
	ev(tl, SIM_EV_CMD, 120, 0, SIM_CMD_WAIT_EQ, 0x1000, 0);
	ev(tl, SIM_EV_CMD, 130, 1, SIM_CMD_WAIT_EQ, 0x2000, 0);
	ev(tl, SIM_EV_RESET, 140, NO_UNIT, SIM_GPU_COMMAND_SOFT_RESET, 0, 0);
	ev(tl, SIM_EV_RESET, 300, NO_UNIT, SIM_GPU_COMMAND_SOFT_RESET, 1, 0);
	ev(tl, SIM_EV_JOB_START, 310, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_CMD, 320, 0, SIM_CMD_END, 0x1000, 0);
	ev(tl, SIM_EV_JOB_END, 320, 0, 0, 0x1000, 1);
	text = write_check(tl, &st);
	CHECK_EQ(st.jobs, 3);
	CHECK_EQ(st.flows, 2);
	CHECK_EQ(st.flow_steps, 2); /* the cut job and its rerun */
	CHECK_EQ(st.dones, 1);
	CHECK_EQ(st.ctx_jobs[0], 2);
	CHECK_EQ(st.ctx_jobs[1], 1);
	CHECK(has(text, "\"name\":\"job 1 (reset)\",\"pid\":1,\"tid\":100,\"ts\":0.100,"
			"\"dur\":0.040"));
	CHECK(has(text, "\"name\":\"job 1 (reset)\",\"pid\":1,\"tid\":101,\"ts\":0.110"));
	CHECK(has(text, "\"name\":\"soft reset\",\"pid\":1,\"tid\":1,\"ts\":0.140,\"dur\":0.160"));
	CHECK(has(text, "\"name\":\"context 1 (connection 2)\""));
	free(text);
}

/* A hard reset restarts the sim's clock at 0: the timeline goes on from where it was. */
static void hard_reset_keeps_time(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	ev(tl, SIM_EV_JOB_START, 5000, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_JOB_END, 6000, 0, 0, 0x1000, 1);
	ev(tl, SIM_EV_RESET, 7000, NO_UNIT, SIM_GPU_COMMAND_HARD_RESET, 0, 0);
	ev(tl, SIM_EV_RESET, 10000, NO_UNIT, SIM_GPU_COMMAND_HARD_RESET, 1, 0);
	ev(tl, SIM_EV_JOB_START, 12000, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_JOB_END, 12500, 0, 0, 0x1000, 1);
	text = write_check(tl, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK(has(text, "\"name\":\"hard reset\",\"pid\":1,\"tid\":1,\"ts\":7.000,\"dur\":10.000"));
	CHECK(has(text, "\"name\":\"job 1\",\"pid\":1,\"tid\":100,\"ts\":19.000,\"dur\":0.501"));
	free(text);
}

/* A job the next one replaces without a JOB_END (a queue reset), and one the trace cuts. */
static void abandoned_and_unfinished(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	ev(tl, SIM_EV_JOB_START, 100, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_CMD, 110, 0, SIM_CMD_WAIT_EQ, 0x1000, 0);
	ev(tl, SIM_EV_JOB_START, 200, 0, 1, 0x2000, 2);
	ev(tl, SIM_EV_CMD, 210, 0, SIM_CMD_WAIT_EQ, 0x2000, 0);
	text = write_check(tl, &st);
	CHECK_EQ(st.jobs, 2);
	CHECK_EQ(st.commands, 2);
	CHECK_EQ(st.dones, 0);
	CHECK_EQ(st.flows, 0);
	CHECK(has(text, "\"name\":\"job 1 (abandoned)\",\"pid\":1,\"tid\":100,\"ts\":0.100,"
			"\"dur\":0.100"));
	CHECK(has(text, "\"name\":\"job 2 (unfinished)\",\"pid\":1,\"tid\":100,\"ts\":0.200,"
			"\"dur\":0.011"));
	free(text);
}

/*
 * Two jobs of one context overlapping on two queues (msd-sim never does this): the second
 * one's copy on the context track would end outside the first's, and is cut instead of being
 * dropped by Perfetto.
 */
static void overlap_is_clamped(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	trace_timeline_submit(tl, 1, 1, 0x1000);
	trace_timeline_submit(tl, 1, 1, 0x2000);
	ev(tl, SIM_EV_JOB_START, 100, 0, 1, 0x1000, 1);
	ev(tl, SIM_EV_JOB_START, 150, 1, 1, 0x2000, 1);
	ev(tl, SIM_EV_JOB_END, 200, 0, 0, 0x1000, 1);
	ev(tl, SIM_EV_JOB_END, 300, 1, 0, 0x2000, 1);
	text = write_check(tl, &st);
	CHECK_EQ(st.clamped, 1);
	CHECK_EQ(st.job_copies, 2);
	CHECK_EQ(st.max_busy, 2);
	CHECK(has(text, "\"pid\":2,\"tid\":2000,\"ts\":0.150,\"dur\":0.051"));
	free(text);
}

/* A cancelled submission leaves no trace; one never matched is drawn without a flow. */
static void cancelled_and_unmatched_submissions(void)
{
	struct trace_timeline *tl = trace_timeline_create();
	struct timeline_stats st;
	char *text;

	REQUIRE(tl != NULL);
	trace_timeline_cancel(tl, trace_timeline_submit(tl, 1, 1, 0));
	trace_timeline_submit(tl, 1, 2, 0x5000);
	ev(tl, SIM_EV_POWER, 50, NO_UNIT, 0x3, 2, 0);
	text = write_check(tl, &st);
	CHECK_EQ(st.submits, 1);
	CHECK_EQ(st.flows, 0);
	CHECK_EQ(st.contexts, 1);
	CHECK(has(text, "\"name\":\"submit (no job)\""));
	CHECK(has(text, "\"name\":\"context 2 (connection 1)\""));
	CHECK(text && !strstr(text, "context 1 "));
	free(text);
	CHECK_EQ(trace_timeline_submit(NULL, 1, 1, 0), 0);
	trace_timeline_cancel(NULL, 1);
}

/* No events at all (and no timeline at all): still a file Perfetto opens. */
static void empty_timeline(void)
{
	struct timeline_stats st;
	char path[] = "/tmp/magma-tl-empty-XXXXXX";
	int fd = mkstemp(path);
	char *text;

	text = write_check(trace_timeline_create(), &st);
	CHECK(has(text, "\"traceEvents\":["));
	free(text);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_EQ(trace_timeline_write(NULL, path), 0);
	CHECK_EQ(timeline_check(path, &st), 0);
	unlink(path);
}

/* The checker finds what Perfetto would drop or misdraw (so the tests above can fail). */
static void checker_finds_problems(void)
{
	static const char *const head =
		"{\"traceEvents\":[{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{"
		"\"name\":\"p\"}},{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":5,"
		"\"args\":{\"name\":\"t\"}}";
	static const char *const bad[] = {
		/* partial overlap */
		",{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"a\",\"pid\":1,\"tid\":5,\"ts\":1,\"dur\":2},"
		"{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"b\",\"pid\":1,\"tid\":5,\"ts\":2,\"dur\":2}",
		/* a command outside any job */
		",{\"ph\":\"X\",\"cat\":\"command\",\"name\":\"c\",\"pid\":1,\"tid\":5,\"ts\":1,"
		"\"dur\":1}",
		/* a command that starts where its job ends */
		",{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"a\",\"pid\":1,\"tid\":5,\"ts\":1,\"dur\":1},"
		"{\"ph\":\"X\",\"cat\":\"command\",\"name\":\"c\",\"pid\":1,\"tid\":5,\"ts\":2,"
		"\"dur\":0}",
		/* a track without a name */
		",{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"a\",\"pid\":1,\"tid\":6,\"ts\":1,\"dur\":1}",
		/* a flow that never ends */
		",{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"a\",\"pid\":1,\"tid\":5,\"ts\":1,\"dur\":1,"
		"\"bind_id\":3,\"flow_out\":true}",
		/* a flow step without a start */
		",{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"a\",\"pid\":1,\"tid\":5,\"ts\":1,\"dur\":1,"
		"\"bind_id\":3,\"flow_in\":true,\"flow_out\":true}",
		/* a counter with a string value */
		",{\"ph\":\"C\",\"name\":\"busy\",\"pid\":1,\"ts\":1,\"args\":{\"queues\":\"1\"}}",
		/* a counter sample at the time of the one before */
		",{\"ph\":\"C\",\"name\":\"busy\",\"pid\":1,\"ts\":1,\"args\":{\"queues\":1}},"
		"{\"ph\":\"C\",\"name\":\"busy\",\"pid\":1,\"ts\":1,\"args\":{\"queues\":0}}",
		/* time going backwards */
		",{\"ph\":\"i\",\"s\":\"t\",\"name\":\"i\",\"pid\":1,\"tid\":5,\"ts\":2},"
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"i\",\"pid\":1,\"tid\":5,\"ts\":1}",
		/* a process without a name */
		",{\"ph\":\"C\",\"name\":\"busy\",\"pid\":9,\"ts\":1,\"args\":{\"queues\":1}}",
		/* not JSON */
		",{",
	};
	char path[] = "/tmp/magma-tl-bad-XXXXXX";
	struct timeline_stats st;
	int fd = mkstemp(path);
	FILE *f;

	REQUIRE(fd >= 0);
	close(fd);
	for (size_t i = 0; i <= SIM_TEST_COUNT(bad); i++) {
		f = fopen(path, "w");
		REQUIRE(f != NULL);
		fprintf(f, "%s%s]}", head, i < SIM_TEST_COUNT(bad) ? bad[i] : "");
		fclose(f);
		if (i < SIM_TEST_COUNT(bad) && !timeline_check(path, &st))
			SIM_TEST_FAIL("bad timeline %zu passed the checker", i);
		if (i == SIM_TEST_COUNT(bad))
			CHECK_EQ(timeline_check(path, &st), 0); /* the head alone is good */
	}
	unlink(path);
}

/* Replays @trace with a timeline into @st; returns the file's text. */
static char *replay_check(const char *trace, struct timeline_stats *st,
			  struct trace_replay_result *res)
{
	char out[] = "/tmp/magma-tl-rp-XXXXXX";
	struct trace_replay_options o;
	int fd = mkstemp(out);
	char *text;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return NULL;
	close(fd);
	trace_replay_default_options(&o);
	o.timeline = out;
	if (trace_replay_run(trace, &o, res) != TRACE_REPLAY_OK)
		SIM_TEST_FAIL("%s: %s", trace, res->message);
	text = check_file(out, st);
	unlink(out);
	return text;
}

/* Every sample replays into a good timeline: each submission a complete flow, no cut. */
static void samples_replay_into_good_timelines(void)
{
	static const char *const names[] = {"write", "copy", "fill", "compute", "waits"};

	for (size_t i = 0; i < SIM_TEST_COUNT(names); i++) {
		struct trace_replay_result res;
		struct timeline_stats st;
		char p[256];

		snprintf(p, sizeof(p), "%s/%s.json", TRACE_SAMPLES_DIR, names[i]);
		free(replay_check(p, &st, &res));
		CHECK(st.jobs >= res.submissions);
		CHECK(st.commands >= st.jobs); /* at least an END each */
		CHECK_EQ(st.submits, res.submissions);
		CHECK_EQ(st.flows, res.submissions);
		CHECK_EQ(st.dones, res.submissions);
		CHECK(st.contexts >= 1);
		CHECK(st.busy_samples >= 2 && st.max_busy >= 1);
		CHECK(st.power_samples >= 1);
		CHECK(st.resets >= 1);
		CHECK_EQ(st.clamped, 0);
	}
}

/*
 * A client of @contexts contexts on @emb: @rounds WRITE32 + END submissions, each waited for,
 * round-robin over the contexts.
 */
static int small_client(struct magma_system_embedded *emb, uint32_t contexts, uint32_t rounds)
{
	struct trace_test_conn c;
	int bad = trace_test_conn_open(emb, &c, contexts);

	for (uint32_t k = 0; k < rounds && !bad; k++)
		bad = trace_test_conn_round(&c, k, k);
	trace_test_conn_close(&c);
	return bad;
}

/* Records small_client(@contexts, 4) into @p (a mkstemp template), with a timeline if @tl. */
static void record(char *p, uint32_t contexts, bool tl)
{
	struct magma_system_embedded *emb;
	struct trace_writer *w;
	int fd = mkstemp(p);

	REQUIRE(fd >= 0);
	close(fd);
	w = trace_writer_open(p, "test");
	REQUIRE(w != NULL);
	trace_global_install(w); /* from here on MAGMA_TRACE is not read */
	if (tl) {
		setenv("MAGMA_TRACE", p, 1);
		setenv("MAGMA_TRACE_TIMELINE", "1", 1);
	}
	emb = magma_system_embedded_create(NULL);
	if (emb) {
		CHECK_EQ(small_client(emb, contexts, 4), 0);
		magma_system_embedded_destroy(emb); /* writes the timeline */
	}
	unsetenv("MAGMA_TRACE");
	unsetenv("MAGMA_TRACE_TIMELINE");
	trace_global_install(NULL);
	trace_writer_close(w);
	CHECK(emb != NULL);
}

/* A run with two contexts replays into two context tracks, each with its jobs and flows. */
static void two_contexts_replayed(void)
{
	char p[] = "/tmp/magma-tl-2c-XXXXXX";
	struct trace_replay_result res;
	struct timeline_stats st;

	record(p, 2, false);
	free(replay_check(p, &st, &res));
	CHECK_EQ(res.submissions, 4);
	CHECK_EQ(st.contexts, 2);
	CHECK_EQ(st.ctx_jobs[0], 2); /* rounds 0 and 2 */
	CHECK_EQ(st.ctx_jobs[1], 2); /* rounds 1 and 3 */
	CHECK_EQ(st.flows, 4);
	CHECK_EQ(st.flow_steps, 4);
	CHECK_EQ(st.commands, 8); /* WRITE32 and END each */
	CHECK_EQ(st.clamped, 0);
	unlink(p);
}

/* The recording side (MAGMA_TRACE_TIMELINE=1): queue tracks, commands, job -> done flows. */
static void recording_side_timeline(void)
{
	char p[] = "/tmp/magma-tl-rec-XXXXXX", out[64];
	struct timeline_stats st;

	record(p, 1, true);
	/* FILE.timeline.N.json when N devices were recorded before in this process */
	snprintf(out, sizeof(out), "%s.timeline.json", p);
	for (int n = 1; n < 64 && access(out, F_OK); n++)
		snprintf(out, sizeof(out), "%s.timeline.%d.json", p, n);
	free(check_file(out, &st));
	CHECK_EQ(st.jobs, 4);
	CHECK_EQ(st.commands, 8);
	CHECK_EQ(st.contexts, 0);
	CHECK_EQ(st.submits, 0);
	CHECK_EQ(st.flows, 4);
	CHECK_EQ(st.dones, 4);
	CHECK(st.power_samples >= 1);
	unlink(out);
	unlink(p);
}

/* The same trace replayed twice gives the same timeline, byte for byte. */
static void same_trace_same_bytes(void)
{
	char p[256];
	struct trace_replay_result res;
	struct timeline_stats st;
	char *a, *b;

	snprintf(p, sizeof(p), "%s/waits.json", TRACE_SAMPLES_DIR);
	a = replay_check(p, &st, &res);
	b = replay_check(p, &st, &res);
	CHECK(a && b && !strcmp(a, b));
	free(a);
	free(b);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(one_job_with_commands),
	SIM_TEST(entries_of_one_job),
	SIM_TEST(fault_in_the_last_unit),
	SIM_TEST(reset_cuts_jobs),
	SIM_TEST(hard_reset_keeps_time),
	SIM_TEST(abandoned_and_unfinished),
	SIM_TEST(overlap_is_clamped),
	SIM_TEST(cancelled_and_unmatched_submissions),
	SIM_TEST(empty_timeline),
	SIM_TEST(checker_finds_problems),
	SIM_TEST(samples_replay_into_good_timelines),
	SIM_TEST(two_contexts_replayed),
	SIM_TEST(recording_side_timeline),
	SIM_TEST(same_trace_same_bytes),
};
/* clang-format on */
SIM_TEST_SUITE(tests);

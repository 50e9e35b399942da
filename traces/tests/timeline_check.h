/* SPDX-License-Identifier: MIT */
/*
 * timeline_check.h - reads a Chrome Trace Event JSON timeline (trace_timeline.h) back with cJSON
 * and checks it the way Perfetto's JSON importer would take it: every track and process named,
 * events in time order, slices nesting per track ([ts, ts + dur), a slice that begins inside
 * another and ends after it is what Perfetto drops), commands inside a job on their track, v2
 * flows (bind_id) as chains of one start, steps and one end bound to slices, counters with
 * numeric args and strictly increasing times. Test code: it counts what it found for the test
 * to compare.
 */
#ifndef TRACES_TESTS_TIMELINE_CHECK_H
#define TRACES_TESTS_TIMELINE_CHECK_H

#define TIMELINE_CHECK_CONTEXTS 8

struct timeline_stats {
	unsigned int problems; /* rule violations found (0: the timeline is good) */
	char first_problem[256];
	unsigned int jobs;	 /* "job" slices on the GPU process */
	unsigned int job_copies; /* "job" slices on the client process */
	unsigned int commands;
	unsigned int submits;
	unsigned int dones;
	unsigned int faults;
	unsigned int irqs;
	unsigned int resets;	      /* reset slices */
	unsigned int global_instants; /* "i" with scope "g" */
	unsigned int flows;	      /* complete chains */
	unsigned int flow_steps;      /* slices in the middle of a chain */
	unsigned int busy_samples;
	unsigned int max_busy;
	unsigned int power_samples;
	unsigned int clamped;				/* slices whose args say "clamped" */
	unsigned int contexts;				/* named tracks of the client process */
	unsigned int queues;				/* named queue tracks */
	unsigned int ctx_jobs[TIMELINE_CHECK_CONTEXTS]; /* job slices on tid 2000 + n */
	unsigned int max_depth;				/* deepest nesting seen (0: top level) */
};

/*
 * timeline_check - check the timeline at @path, filling @st (zeroed first). Returns
 * st->problems; each problem is also printed to stderr, the first kept in st->first_problem. A
 * file that cannot be read or parsed counts as one problem.
 */
unsigned int timeline_check(const char *path, struct timeline_stats *st);

#endif /* TRACES_TESTS_TIMELINE_CHECK_H */

/* SPDX-License-Identifier: MIT */
/*
 * trace_diff.c - magma-trace diff: the first event where two traces of the same program differ
 * (docs/trace-tools.md, "diff").
 *
 * Both files are read line by line in step. What is compared is the client's story: call,
 * completion, device and end events, in order. Blob events are not compared on their own (they
 * are content-addressed; the digests that refer to them are compared, and a differing digest is
 * explained with the first differing byte of the two blobs). Device ("dev") events are skipped,
 * because their interleaving with the client's events depends on thread timing; --dev compares
 * them too, as a stream of their own, after the client events.
 *
 * Handles and ids are compared by order of appearance, as replay maps them: a value a call
 * returns (out) gets the next number of its kind in that file, a value a call is given (args)
 * is looked up (a value never seen gets the next number too). Two traces agree when their
 * numbers agree. Kinds: device, connection, context, buffer, buffer id, semaphore, semaphore
 * id, handle (fds: exports, channels), pool; a completion's "submission" is the submission's
 * position among the compared events. Host times are ignored (perf_read_completion's "time",
 * and a device's "cycles" unless --dev). Single-threaded.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>

#include "trace_diff_internal.h"
#include "trace_tool.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

/* ---- events ---- */

/* The next event of @s to compare (no blobs; no dev events unless @dev_only, then only those). */
static int next_event(struct diff_side *s, bool dev_only)
{
	int ret;

	while (!(ret = tt_reader_next(&s->rd))) {
		if (s->rd.type == TT_BLOB) {
			if (!tt_blob_index_add(&s->blobs, &s->rd)) {
				snprintf(s->rd.error, sizeof(s->rd.error), "out of memory");
				return TRACE_REPLAY_ENV_ERROR;
			}
			continue;
		}
		if (s->rd.type == TT_END || (s->rd.type == TT_DEV) == dev_only)
			return 0;
	}
	return ret;
}

/* A one-line description of @s's current event. */
static void describe(const struct diff_side *s, char *out, size_t size)
{
	const cJSON *ev = s->rd.ev;

	switch (s->rd.type) {
	case TT_CALL:
		snprintf(out, size, "call %s", tt_str(ev, "call") ? tt_str(ev, "call") : "?");
		break;
	case TT_COMPLETION:
		snprintf(out, size, "completion of event %" PRIu64, tt_u64(ev, "submission"));
		break;
	case TT_DEV:
		snprintf(out, size, "dev %s", tt_str(ev, "ev") ? tt_str(ev, "ev") : "?");
		break;
	case TT_DEVICE:
		snprintf(out, size, "device %s", tt_str(ev, "event") ? tt_str(ev, "event") : "?");
		break;
	case TT_END:
		snprintf(out, size, "its end");
		break;
	case TT_BLOB:
		snprintf(out, size, "blob");
		break;
	}
}

/* Compares the current events of both sides into df->report. */
static void compare_events(struct diff *df)
{
	const cJSON *ea = df->a.rd.ev, *eb = df->b.rd.ev;
	char da[80], db[80];

	df->fields = 0;
	df->call = "";
	if (df->a.rd.type != df->b.rd.type) {
		describe(&df->a, da, sizeof(da));
		describe(&df->b, db, sizeof(db));
		diff_add_report(df, "type: A %s, B %s", da, db);
		return;
	}
	switch (df->a.rd.type) {
	case TT_CALL:
		df->call = tt_str(ea, "call") ? tt_str(ea, "call") : "";
		if (!tt_str(eb, "call") || strcmp(df->call, tt_str(eb, "call"))) {
			diff_add_report(df, "call: A %s, B %s", df->call,
					tt_str(eb, "call") ? tt_str(eb, "call") : "?");
			return;
		}
		diff_compare_value(df, "args", tt_member(ea, "args"), tt_member(eb, "args"),
				   DK_LITERAL, false);
		diff_compare_value(df, "result", tt_member(ea, "result"), tt_member(eb, "result"),
				   DK_LITERAL, false);
		diff_compare_value(df, "out", tt_member(ea, "out"), tt_member(eb, "out"),
				   DK_LITERAL, true);
		/* Completions name submissions by event: number them by their position here. */
		if (!strcmp(df->call, "execute_command") || !strcmp(df->call, "execute_inline")) {
			if (!trace_replay_map_put(&df->a.ord[DK_SUBMISSION], df->a.rd.index, 0,
						  df->a.compared) ||
			    !trace_replay_map_put(&df->b.ord[DK_SUBMISSION], df->b.rd.index, 0,
						  df->b.compared))
				df->oom = true;
		}
		break;
	case TT_COMPLETION: /* matched by submission instead (take_completion) */
	case TT_DEVICE:
		df->call = "device";
		diff_compare_value(df, "event", tt_member(ea, "event"), tt_member(eb, "event"),
				   DK_LITERAL, false);
		diff_compare_value(df, "device", tt_member(ea, "device"), tt_member(eb, "device"),
				   DK_LITERAL, false);
		if (df->dev)
			diff_compare_value(df, "cycles", tt_member(ea, "cycles"),
					   tt_member(eb, "cycles"), DK_LITERAL, false);
		break;
	case TT_DEV: {
		static const char *const keys[] = {"ev",     "unit", "code", "value",
						   "value2", "name", "cycle"};

		df->call = "dev";
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			diff_compare_value(df, keys[i], tt_member(ea, keys[i]),
					   tt_member(eb, keys[i]), DK_LITERAL, false);
		break;
	}
	case TT_END:
	case TT_BLOB:
		break;
	}
}

/* The English ordinal suffix of @n. */
static const char *ordinal(uint64_t n)
{
	return n % 10 == 1 && n % 100 != 11   ? "st"
	       : n % 10 == 2 && n % 100 != 12 ? "nd"
	       : n % 10 == 3 && n % 100 != 13 ? "rd"
					      : "th";
}

/* The recording thread of call event @ev: its "thread", 1 (the first thread) without one. */
static uint64_t thread_of(const cJSON *ev)
{
	uint64_t t = 1;

	return tt_number_u64(tt_member(ev, "thread"), &t) ? t : 1;
}

/* Notes the calls just compared when different threads of the client made them. */
static void note_threads(struct diff *df)
{
	uint64_t ta, tb;

	if (df->a.rd.type != TT_CALL || df->b.rd.type != TT_CALL)
		return;
	ta = thread_of(df->a.rd.ev);
	tb = thread_of(df->b.rd.ev);
	if (ta != tb)
		df->apart = (struct diff_apart){true, df->a.rd.index, df->b.rd.index, ta, tb};
}

/*
 * The likely reason for a difference in a client with several threads: where the two
 * recordings last had calls of different threads at the same place (diff compares in order,
 * and the threads interleaved differently there).
 */
static void print_thread_hint(struct diff *df)
{
	note_threads(df);
	if (df->apart.seen)
		printf("  threads: the last calls compared that different threads made are event "
		       "%" PRIu64 " of A (thread %" PRIu64 ") and event %" PRIu64
		       " of B (thread %" PRIu64
		       "), threads numbered by their first call; the client's threads "
		       "interleaved differently there, which may be all that differs\n",
		       df->apart.a_index, df->apart.a_thread, df->apart.b_index,
		       df->apart.b_thread);
}

static void print_difference(struct diff *df)
{
	char da[80];

	describe(&df->a, da, sizeof(da));
	printf("traces differ at event %" PRIu64 " (line %" PRIu64 ") of A and event %" PRIu64
	       " (line %" PRIu64 ") of B, the %" PRIu64 "%s %s event compared: %s\n",
	       df->a.rd.index, df->a.rd.line_no, df->b.rd.index, df->b.rd.line_no,
	       df->a.compared + 1, ordinal(df->a.compared + 1),
	       df->a.rd.type == TT_DEV ? "device" : "client", da);
	for (unsigned i = 0; i < df->fields && i < DIFF_MAX_FIELDS; i++)
		printf("  %s\n", df->report[i]);
	if (df->fields > DIFF_MAX_FIELDS)
		printf("  ... and %u more\n", df->fields - DIFF_MAX_FIELDS);
	print_thread_hint(df);
	printf("A: %s\nB: %s\n", df->a.rd.path, df->b.rd.path);
}

/* ---- completions, matched by the submission they complete ---- */

/* The completions of the @n-th compared event (a submission) differ: at @ea/@eb of A and B. */
static void print_completion_difference(const struct diff *df, uint64_t n, const cJSON *ea,
					uint64_t a_index, uint64_t a_line, const cJSON *eb,
					uint64_t b_index, uint64_t b_line)
{
	printf("traces differ in the completion of the %" PRIu64 "%s client event compared (the "
	       "submission at event %" PRIu64 " of A and event %" PRIu64 " of B): event %" PRIu64
	       " (line %" PRIu64 ") of A and event %" PRIu64 " (line %" PRIu64 ") of B\n",
	       n + 1, ordinal(n + 1), tt_u64(ea, "submission"), tt_u64(eb, "submission"), a_index,
	       a_line, b_index, b_line);
	for (unsigned i = 0; i < df->fields && i < DIFF_MAX_FIELDS; i++)
		printf("  %s\n", df->report[i]);
	if (df->fields > DIFF_MAX_FIELDS)
		printf("  ... and %u more\n", df->fields - DIFF_MAX_FIELDS);
	printf("A: %s\nB: %s\n", df->a.rd.path, df->b.rd.path);
}

/*
 * Side @s read a completion. A recorder writes one when the client's poll or flush finds the
 * submission done, so where it falls between the calls depends on timing: it is compared with
 * the other side's completion of the same submission (numbered by its position among the
 * compared events) wherever that one falls, or kept until it comes. Returns 0, 1 when the two
 * differ (printed), or TRACE_REPLAY_ENV_ERROR.
 */
static int take_completion(struct diff *df, struct diff_side *s)
{
	struct diff_side *o = s == &df->a ? &df->b : &df->a;
	struct diff_pending *p;
	uint64_t n;

	if (!tt_map_get(&s->ord[DK_SUBMISSION], tt_u64(s->rd.ev, "submission"), 0, &n))
		n = UINT64_MAX; /* not a compared submission: it matches nothing */
	for (size_t i = 0; n != UINT64_MAX && i < o->pending.count; i++) {
		cJSON *other;
		bool a = s == &df->a;

		p = trace_replay_vec_at(&o->pending, i);
		if (p->n != n)
			continue;
		other = cJSON_Parse(p->text);
		if (!other)
			return TRACE_REPLAY_ENV_ERROR;
		diff_compare_completions(df, a ? s->rd.ev : other, a ? other : s->rd.ev);
		if (df->fields) {
			print_completion_difference(
				df, n, a ? s->rd.ev : other, a ? s->rd.index : p->index,
				a ? s->rd.line_no : p->line_no, a ? other : s->rd.ev,
				a ? p->index : s->rd.index, a ? p->line_no : s->rd.line_no);
			cJSON_Delete(other);
			return 1;
		}
		cJSON_Delete(other);
		free(p->text);
		*p = *(struct diff_pending *)trace_replay_vec_at(&o->pending, o->pending.count - 1);
		o->pending.count--;
		s->completions++;
		o->completions++;
		return 0;
	}
	p = trace_replay_vec_push(&s->pending, sizeof(*p));
	if (!p)
		return TRACE_REPLAY_ENV_ERROR;
	*p = (struct diff_pending){n, s->rd.index, s->rd.line_no, strdup(s->rd.line)};
	return p->text ? 0 : TRACE_REPLAY_ENV_ERROR;
}

/*
 * At the end: a completion only one side recorded (the other's client never saw that
 * submission finish, or released its connection first) is reported, the first of A's, else of
 * B's. Returns 0 or 1.
 */
static int unmatched_completion(const struct diff *df)
{
	for (int k = 0; k < 2; k++) {
		const struct diff_side *s = k ? &df->b : &df->a;
		const struct diff_pending *p = trace_replay_vec_at(&s->pending, 0);

		if (!p)
			continue;
		printf("traces differ: %s has a completion at event %" PRIu64 " (line %" PRIu64
		       ") that %s does not have (%zu such in %s)\nA: %s\nB: %s\n",
		       s->name, p->index, p->line_no, k ? "A" : "B", s->pending.count, s->name,
		       df->a.rd.path, df->b.rd.path);
		return 1;
	}
	return 0;
}

/* One stream (client events, or with @dev_only the dev events): 0 same, 1 differ, 2/3 errors. */
static int compare_stream(struct diff *df, bool dev_only)
{
	struct diff_side *sides[2] = {&df->a, &df->b};
	int ret;

	for (;;) {
		for (int i = 0; i < 2; i++) {
			while (!(ret = next_event(sides[i], dev_only)) &&
			       sides[i]->rd.type == TT_COMPLETION) {
				ret = take_completion(df, sides[i]);
				if (ret == 1)
					return ret;
				if (ret) {
					fprintf(stderr, "magma-trace diff: out of memory\n");
					return ret;
				}
			}
			if (ret) {
				fprintf(stderr, "magma-trace diff: %s (%s)\n", sides[i]->rd.error,
					sides[i]->name);
				return ret;
			}
		}
		if (df->a.rd.type == TT_END && df->b.rd.type == TT_END)
			return unmatched_completion(df);
		compare_events(df);
		if (df->oom) {
			fprintf(stderr, "magma-trace diff: out of memory\n");
			return TRACE_REPLAY_ENV_ERROR;
		}
		if (df->fields) {
			print_difference(df);
			return 1;
		}
		note_threads(df);
		for (int i = 0; i < 2; i++) {
			sides[i]->compared++;
			sides[i]->calls += sides[i]->rd.type == TT_CALL;
			sides[i]->devs += sides[i]->rd.type == TT_DEV;
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: magma-trace diff A B [--dev]\n"
			"(magma-trace diff --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-trace diff A B [--dev]\n"
	       "\n"
	       "Finds the first event where traces A and B (two recordings of the same program)\n"
	       "differ, and says which fields differ with both values: the event index and line\n"
	       "in each file, the call, e.g. \"args.resources[0].contents: A ..., B ...\" (for\n"
	       "contents, the first differing byte). Calls and device events are compared in\n"
	       "order; completions with the other trace's completion of the same submission,\n"
	       "wherever it falls (when a client sees work finish depends on timing); handles\n"
	       "and ids by order of appearance (as replay maps them), not by value; host times\n"
	       "and device channels are ignored. Blob events are compared through the digests\n"
	       "that name them. When the client's threads interleaved differently, the last\n"
	       "place they did is named.\n"
	       "  --dev    also compare the GPU's \"dev\" events (cycles included), as a stream of\n"
	       "           their own after the client events (skipped by default: how they\n"
	       "           interleave with client events depends on thread timing)\n"
	       "  --help   this text\n"
	       "Exit status: 0 the same, 1 they differ (the first difference is printed), 2 bad\n"
	       "input (unreadable or malformed trace, bad options), 3 host error.\n");
}

static void side_fini(struct diff_side *s)
{
	for (size_t i = 0; i < s->pending.count; i++)
		free(((struct diff_pending *)trace_replay_vec_at(&s->pending, i))->text);
	trace_replay_vec_fini(&s->pending);
	tt_reader_close(&s->rd);
	for (int k = 0; k < DK_COUNT; k++)
		trace_replay_map_fini(&s->ord[k]);
	trace_replay_map_fini(&s->blobs);
}

/* trace_tool_diff - magma-trace diff (see the file head and help()). */
int trace_tool_diff(int argc, char **argv)
{
	struct diff *df = calloc(1, sizeof(*df));
	const char *paths[2] = {NULL, NULL};
	uint64_t calls, completions, compared;
	int ret = 0, n = 0;

	if (!df) {
		fprintf(stderr, "magma-trace diff: out of memory\n");
		return TRACE_REPLAY_ENV_ERROR;
	}
	for (int i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			free(df);
			return 0;
		} else if (!strcmp(argv[i], "--dev")) {
			df->dev = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "magma-trace diff: unknown option '%s'\n", argv[i]);
			ret = usage();
		} else if (n < 2) {
			paths[n++] = argv[i];
		} else {
			fprintf(stderr, "magma-trace diff: unexpected argument '%s'\n", argv[i]);
			ret = usage();
		}
	}
	if (!ret && n != 2) {
		fprintf(stderr, "magma-trace diff: needs two traces, A and B\n");
		ret = usage();
	}
	if (ret) {
		free(df);
		return ret;
	}
	df->a.name = "A";
	df->b.name = "B";
	ret = tt_reader_open(&df->a.rd, paths[0]);
	if (ret)
		fprintf(stderr, "magma-trace diff: %s (A)\n", df->a.rd.error);
	if (!ret) {
		ret = tt_reader_open(&df->b.rd, paths[1]);
		if (ret)
			fprintf(stderr, "magma-trace diff: %s (B)\n", df->b.rd.error);
	}
	if (!ret)
		ret = compare_stream(df, false);
	calls = df->a.calls;
	completions = df->a.completions;
	compared = df->a.compared;
	if (!ret && df->dev) {
		/* The dev events: both files again from the top. */
		side_fini(&df->a);
		side_fini(&df->b);
		memset(&df->a, 0, sizeof(df->a));
		memset(&df->b, 0, sizeof(df->b));
		df->a.name = "A";
		df->b.name = "B";
		ret = tt_reader_open(&df->a.rd, paths[0]);
		if (!ret)
			ret = tt_reader_open(&df->b.rd, paths[1]);
		if (!ret)
			ret = compare_stream(df, true);
	}
	if (!ret)
		printf("the same: %" PRIu64 " client events compared in order (%" PRIu64
		       " calls), %" PRIu64 " completions matched to their submissions, %s; handles "
		       "and ids by order of appearance\nA: %s (%" PRIu64 " events)\nB: %s (%" PRIu64
		       " events)\n",
		       compared, calls, completions,
		       df->dev ? "then the dev events" : "dev events not compared", paths[0],
		       df->a.rd.index, paths[1], df->b.rd.index);
	side_fini(&df->a);
	side_fini(&df->b);
	free(df);
	return ret;
}

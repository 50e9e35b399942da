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

/* The reader's current event as the one @s compares. */
static void view_current(struct diff_side *s)
{
	s->cur = (struct diff_view){s->rd.ev, s->rd.type, s->rd.index, s->rd.line_no};
}

/* A one-line description of event @v. */
static void describe(const struct diff_view *v, char *out, size_t size)
{
	const cJSON *ev = v->ev;

	switch (v->type) {
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

/* Compares the current events of both sides (a.cur, b.cur) into df->report. */
static void compare_events(struct diff *df)
{
	const cJSON *ea = df->a.cur.ev, *eb = df->b.cur.ev;
	char da[80], db[80];

	df->fields = 0;
	df->call = "";
	if (df->a.cur.type != df->b.cur.type) {
		describe(&df->a.cur, da, sizeof(da));
		describe(&df->b.cur, db, sizeof(db));
		diff_add_report(df, "type: A %s, B %s", da, db);
		return;
	}
	switch (df->a.cur.type) {
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
			if (!trace_replay_map_put(&df->a.ord[DK_SUBMISSION], df->a.cur.index, 0,
						  df->a.compared) ||
			    !trace_replay_map_put(&df->b.ord[DK_SUBMISSION], df->b.cur.index, 0,
						  df->b.compared))
				df->oom = true;
		}
		break;
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
	case TT_COMPLETION: /* matched by submission instead (match_completions) */
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

static void print_difference(struct diff *df)
{
	const struct diff_view *a = &df->a.cur, *b = &df->b.cur;
	char da[80];

	describe(a, da, sizeof(da));
	printf("traces differ at event %" PRIu64 " (line %" PRIu64 ") of A and event %" PRIu64
	       " (line %" PRIu64 ") of B, the %" PRIu64 "%s %s event compared: %s\n",
	       a->index, a->line_no, b->index, b->line_no, df->a.compared + 1,
	       ordinal(df->a.compared + 1), a->type == TT_DEV ? "device" : "client", da);
	for (unsigned i = 0; i < df->fields && i < DIFF_MAX_FIELDS; i++)
		printf("  %s\n", df->report[i]);
	if (df->fields > DIFF_MAX_FIELDS)
		printf("  ... and %u more\n", df->fields - DIFF_MAX_FIELDS);
	if ((a->type == TT_CALL && thread_of(a->ev) > 1) ||
	    (b->type == TT_CALL && thread_of(b->ev) > 1))
		printf("  compared within a thread: A's thread %" PRIu64 " and B's thread %" PRIu64
		       " (each thread's calls in order; threads numbered by their first call)\n",
		       a->type == TT_CALL ? thread_of(a->ev) : 0,
		       b->type == TT_CALL ? thread_of(b->ev) : 0);
	printf("A: %s\nB: %s\n", df->a.rd.path, df->b.rd.path);
}

/* ---- completions, matched by the submission they complete ---- */

/* The completions @pa (A's, parsed @ea) and @pb (B's, @eb) of one submission differ. */
static void print_completion_difference(const struct diff *df, const struct diff_item *pa,
					const cJSON *ea, const struct diff_item *pb,
					const cJSON *eb)
{
	printf("traces differ in the completion of the %" PRIu64 "%s client event compared (the "
	       "submission at event %" PRIu64 " of A and event %" PRIu64 " of B): event %" PRIu64
	       " (line %" PRIu64 ") of A and event %" PRIu64 " (line %" PRIu64 ") of B\n",
	       pa->n + 1, ordinal(pa->n + 1), tt_u64(ea, "submission"), tt_u64(eb, "submission"),
	       pa->index, pa->line_no, pb->index, pb->line_no);
	for (unsigned i = 0; i < df->fields && i < DIFF_MAX_FIELDS; i++)
		printf("  %s\n", df->report[i]);
	if (df->fields > DIFF_MAX_FIELDS)
		printf("  ... and %u more\n", df->fields - DIFF_MAX_FIELDS);
	printf("A: %s\nB: %s\n", df->a.rd.path, df->b.rd.path);
}

/* Removes item @i of @v (order not kept), freeing its text. */
static void item_remove(struct replay_vec *v, size_t i)
{
	struct diff_item *it = trace_replay_vec_at(v, i);

	free(it->text);
	*it = *(struct diff_item *)trace_replay_vec_at(v, v->count - 1);
	v->count--;
}

/*
 * Compares the completions both sides have for one submission, wherever they fell between the
 * calls (a recorder writes one when the client's poll or flush finds the work done, which timing
 * decides). A completion's submission gets its number once that submission was compared.
 * Returns 0, 1 when two differ (printed), or TRACE_REPLAY_ENV_ERROR.
 */
static int match_completions(struct diff *df)
{
	struct diff_side *sides[2] = {&df->a, &df->b};

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < sides[k]->pending.count; i++) {
			struct diff_item *p = trace_replay_vec_at(&sides[k]->pending, i);

			if (p->n == UINT64_MAX &&
			    !tt_map_get(&sides[k]->ord[DK_SUBMISSION], p->submission, 0, &p->n))
				p->n = UINT64_MAX;
		}
	for (size_t i = 0; i < df->a.pending.count; i++) {
		struct diff_item *pa = trace_replay_vec_at(&df->a.pending, i);

		for (size_t j = 0; pa->n != UINT64_MAX && j < df->b.pending.count; j++) {
			struct diff_item *pb = trace_replay_vec_at(&df->b.pending, j);
			cJSON *ea, *eb;

			if (pb->n != pa->n)
				continue;
			ea = cJSON_Parse(pa->text);
			eb = cJSON_Parse(pb->text);
			if (!ea || !eb) {
				cJSON_Delete(ea);
				cJSON_Delete(eb);
				return TRACE_REPLAY_ENV_ERROR;
			}
			diff_compare_completions(df, ea, eb);
			if (df->fields)
				print_completion_difference(df, pa, ea, pb, eb);
			cJSON_Delete(ea);
			cJSON_Delete(eb);
			if (df->fields)
				return 1;
			item_remove(&df->a.pending, i--);
			item_remove(&df->b.pending, j);
			df->a.completions++;
			df->b.completions++;
			break;
		}
	}
	return 0;
}

/* Side @s read a completion: kept until the other side's of the same submission comes. */
static int take_completion(struct diff_side *s)
{
	struct diff_item *p = trace_replay_vec_push(&s->pending, sizeof(*p));

	if (!p)
		return TRACE_REPLAY_ENV_ERROR;
	*p = (struct diff_item){strdup(s->rd.line),
				TT_COMPLETION,
				s->rd.index,
				s->rd.line_no,
				tt_u64(s->rd.ev, "submission"),
				UINT64_MAX};
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
		const struct diff_item *p = trace_replay_vec_at(&s->pending, 0);

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

/* ---- threads: each one's events compared in order, whatever the interleaving ---- */

/* The queue an event of @type (@ev) waits in: its call's thread, 0 for device events. */
static uint64_t key_of(enum tt_type type, const cJSON *ev)
{
	return type == TT_CALL ? thread_of(ev) : 0;
}

/*
 * @s's queue for thread @key; with @make, made when missing, from the reader's current event
 * (the thread's first: its signature). Device events and the first thread pair with their own
 * number on the other side at once; other threads when pair_thread finds their partner. NULL
 * when there is none (or no memory).
 */
static struct diff_queue *queue_for(struct diff_side *s, uint64_t key, bool make)
{
	struct diff_queue *q;
	uint64_t i;

	if (tt_map_get(&s->queue_of, key, 0, &i))
		return trace_replay_vec_at(&s->queues, i);
	if (!make)
		return NULL;
	q = trace_replay_vec_push(&s->queues, sizeof(*q));
	if (!q || !trace_replay_map_put(&s->queue_of, key, 0, s->queues.count - 1))
		return NULL;
	*q = (struct diff_queue){.key = key,
				 .sig = diff_signature(s->rd.type, s->rd.ev),
				 .paired = key <= 1,
				 .partner = key};
	return q;
}

static bool queue_empty(const struct diff_queue *q)
{
	return !q || q->head == q->items.count;
}

/* Puts @s's current event at the end of its thread's queue. */
static int enqueue(struct diff_side *s)
{
	struct diff_queue *q = queue_for(s, key_of(s->rd.type, s->rd.ev), true);
	struct diff_item *it = q ? trace_replay_vec_push(&q->items, sizeof(*it)) : NULL;

	if (!it)
		return TRACE_REPLAY_ENV_ERROR;
	*it = (struct diff_item){strdup(s->rd.line), s->rd.type, s->rd.index, s->rd.line_no, 0, 0};
	return it->text ? 0 : TRACE_REPLAY_ENV_ERROR;
}

/*
 * Compares a.cur with b.cur: 0 the same (counted; completions of a submission just compared
 * are matched), 1 they differ (printed), or an error.
 */
static int compare_current(struct diff *df)
{
	compare_events(df);
	if (df->oom)
		return TRACE_REPLAY_ENV_ERROR;
	if (df->fields) {
		print_difference(df);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		struct diff_side *s = i ? &df->b : &df->a;

		s->compared++;
		s->calls += s->cur.type == TT_CALL;
	}
	return match_completions(df);
}

/* Compares the first waiting events of @qa (A's) and @qb (B's): as compare_current. */
static int compare_heads(struct diff *df, struct diff_queue *qa, struct diff_queue *qb)
{
	struct diff_item *ia = trace_replay_vec_at(&qa->items, qa->head++);
	struct diff_item *ib = trace_replay_vec_at(&qb->items, qb->head++);
	cJSON *ea = cJSON_Parse(ia->text), *eb = cJSON_Parse(ib->text);
	int ret = TRACE_REPLAY_ENV_ERROR;

	if (ea && eb) {
		df->a.cur = (struct diff_view){ea, ia->type, ia->index, ia->line_no};
		df->b.cur = (struct diff_view){eb, ib->type, ib->index, ib->line_no};
		ret = compare_current(df);
	}
	cJSON_Delete(ea);
	cJSON_Delete(eb);
	free(ia->text);
	free(ib->text);
	ia->text = ib->text = NULL;
	/* An empty queue starts again at its beginning: memory stays what is waiting. */
	if (queue_empty(qa))
		qa->head = qa->items.count = 0;
	if (queue_empty(qb))
		qb->head = qb->items.count = 0;
	return ret;
}

static void pair(struct diff_queue *qa, struct diff_queue *qb)
{
	qa->paired = qb->paired = true;
	qa->partner = qb->key;
	qb->partner = qa->key;
}

/*
 * Pairs A's thread @qa, not paired yet and with its first event waiting, with a thread of B in
 * the same state whose first event has the same signature (diff_signature): the one of the same
 * number if it qualifies, else the first that does. Threads are numbered by their first call,
 * so the same thread of the program may have another number in each recording; its first call
 * (what it does, with which sizes and contents) says which it is. With @any (at the end), the
 * signature need not agree: the first unpaired thread of B with events waiting.
 */
static void pair_thread(struct diff *df, struct diff_queue *qa, bool any)
{
	struct diff_queue *same = queue_for(&df->b, qa->key, false), *first = NULL;

	if (qa->paired || queue_empty(qa))
		return;
	if (same && !same->paired && !queue_empty(same) && (any || same->sig == qa->sig)) {
		pair(qa, same);
		return;
	}
	for (size_t i = 0; i < df->b.queues.count && !first; i++) {
		struct diff_queue *qb = trace_replay_vec_at(&df->b.queues, i);

		if (!qb->paired && !queue_empty(qb) && (any || qb->sig == qa->sig))
			first = qb;
	}
	if (first)
		pair(qa, first);
}

/*
 * Compares every pair of waiting events of paired threads, pairing threads as their first
 * events come (@any: see pair_thread): as compare_current.
 */
static int drain(struct diff *df, bool any)
{
	bool progress = true;
	int ret;

	while (progress) {
		progress = false;
		for (size_t i = 0; i < df->a.queues.count; i++) {
			struct diff_queue *qa = trace_replay_vec_at(&df->a.queues, i), *qb;

			pair_thread(df, qa, any);
			qb = qa->paired ? queue_for(&df->b, qa->partner, false) : NULL;
			while (!queue_empty(qa) && !queue_empty(qb)) {
				ret = compare_heads(df, qa, qb);
				if (ret)
					return ret;
				progress = true;
			}
		}
	}
	return 0;
}

/* At the end: events of a thread only one side had. Returns 0 or 1 (printed). */
static int unmatched_events(const struct diff *df)
{
	for (int k = 0; k < 2; k++) {
		const struct diff_side *s = k ? &df->b : &df->a;

		for (size_t i = 0; i < s->queues.count; i++) {
			const struct diff_queue *q = trace_replay_vec_at(&s->queues, i);
			const struct diff_item *it;

			if (queue_empty(q))
				continue;
			it = trace_replay_vec_at(&q->items, q->head);
			printf("traces differ: %s has %zu more client event%s than %s on %s %" PRIu64
			       ", the first at event %" PRIu64 " (line %" PRIu64
			       ")\nA: %s\nB: %s\n",
			       s->name, q->items.count - q->head,
			       q->items.count - q->head == 1 ? "" : "s", k ? "A" : "B",
			       q->key ? "thread" : "device events", q->key, it->index, it->line_no,
			       df->a.rd.path, df->b.rd.path);
			return 1;
		}
	}
	return 0;
}

/*
 * Whether the two readers' events are of paired threads with nothing of theirs waiting: then
 * they are compared where they are. Makes their queues (empty) when missing.
 */
static bool same_thread(struct diff *df)
{
	struct diff_queue *qa = queue_for(&df->a, key_of(df->a.rd.type, df->a.rd.ev), true);
	struct diff_queue *qb = queue_for(&df->b, key_of(df->b.rd.type, df->b.rd.ev), true);

	if (!qa || !qb)
		return false; /* no memory: enqueue fails and says so */
	return qa->paired && qb->paired && qa->partner == qb->key && queue_empty(qa) &&
	       queue_empty(qb);
}

/* The next client event of @s into its reader, completions taken on the way. */
static int next_client_event(struct diff_side *s)
{
	int ret;

	while (!(ret = next_event(s, false)) && s->rd.type == TT_COMPLETION) {
		ret = take_completion(s);
		if (ret)
			return ret;
	}
	if (!ret && s->rd.type == TT_END)
		s->ended = true;
	return ret;
}

/*
 * The client events: calls, device events, the end. Each thread's calls are compared in order
 * with the other side's thread of the same number (threads are numbered by their first call),
 * so two recordings whose threads interleaved differently still compare equal. Both files are
 * read in step; an event whose thread is behind on the other side waits in a queue, and events
 * are compared as soon as both sides have them (pairs in one order for both sides, so handles
 * are numbered alike). Single-threaded traces never queue. 0 same, 1 differ, 2/3 errors.
 */
static int compare_client(struct diff *df)
{
	struct diff_side *sides[2] = {&df->a, &df->b};
	int ret;

	for (;;) {
		bool fresh[2];

		for (int i = 0; i < 2; i++) {
			fresh[i] = !sides[i]->ended;
			if (!fresh[i])
				continue;
			ret = next_client_event(sides[i]);
			if (ret == TRACE_REPLAY_ENV_ERROR && !sides[i]->rd.error[0])
				snprintf(sides[i]->rd.error, sizeof(sides[i]->rd.error),
					 "out of memory");
			if (ret) {
				fprintf(stderr, "magma-trace diff: %s (%s)\n", sides[i]->rd.error,
					sides[i]->name);
				return ret;
			}
			fresh[i] = !sides[i]->ended;
		}
		if (!fresh[0] && !fresh[1])
			break;
		/* The common case: paired threads on both sides, nothing waiting for them. */
		if (fresh[0] && fresh[1] && same_thread(df)) {
			view_current(&df->a);
			view_current(&df->b);
			ret = compare_current(df);
		} else {
			ret = 0;
			for (int i = 0; i < 2 && !ret; i++)
				if (fresh[i])
					ret = enqueue(sides[i]);
			if (!ret)
				ret = drain(df, false);
		}
		if (ret == TRACE_REPLAY_ENV_ERROR)
			fprintf(stderr, "magma-trace diff: out of memory\n");
		if (ret)
			return ret;
	}
	/* Threads that found no partner by their first call: paired as they come, to show how. */
	ret = drain(df, true);
	if (ret == TRACE_REPLAY_ENV_ERROR)
		fprintf(stderr, "magma-trace diff: out of memory\n");
	if (!ret)
		ret = unmatched_events(df);
	if (!ret)
		ret = match_completions(df); /* those that came after the last comparison */
	return ret ? ret : unmatched_completion(df);
}

/* The dev events (--dev), in step: 0 same, 1 differ, 2/3 errors. */
static int compare_dev(struct diff *df)
{
	struct diff_side *sides[2] = {&df->a, &df->b};
	int ret;

	for (;;) {
		for (int i = 0; i < 2; i++) {
			ret = next_event(sides[i], true);
			if (ret) {
				fprintf(stderr, "magma-trace diff: %s (%s)\n", sides[i]->rd.error,
					sides[i]->name);
				return ret;
			}
			view_current(sides[i]);
		}
		if (df->a.rd.type == TT_END && df->b.rd.type == TT_END)
			return 0;
		ret = compare_current(df);
		if (ret == TRACE_REPLAY_ENV_ERROR)
			fprintf(stderr, "magma-trace diff: out of memory\n");
		if (ret)
			return ret;
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
	       "contents, the first differing byte). Each thread's calls are compared in order\n"
	       "with the other trace's thread of the same number (threads are numbered by their\n"
	       "first call), however the threads interleaved; device events in order;\n"
	       "completions with the other trace's completion of the same submission, wherever\n"
	       "it falls (when a client sees work finish depends on timing). Handles and ids\n"
	       "are compared by order of appearance (as replay maps them), not by value; host\n"
	       "times and device channels are ignored. Blob events are compared through the\n"
	       "digests that name them.\n"
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
		free(((struct diff_item *)trace_replay_vec_at(&s->pending, i))->text);
	trace_replay_vec_fini(&s->pending);
	for (size_t i = 0; i < s->queues.count; i++) {
		struct diff_queue *q = trace_replay_vec_at(&s->queues, i);

		for (size_t k = q->head; k < q->items.count; k++)
			free(((struct diff_item *)trace_replay_vec_at(&q->items, k))->text);
		trace_replay_vec_fini(&q->items);
	}
	trace_replay_vec_fini(&s->queues);
	trace_replay_map_fini(&s->queue_of);
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
		ret = compare_client(df);
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
			ret = compare_dev(df);
	}
	if (!ret)
		printf("the same: %" PRIu64
		       " client events compared, each thread's in order (%" PRIu64
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

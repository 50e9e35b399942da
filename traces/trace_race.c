/* SPDX-License-Identifier: MIT */
/*
 * trace_race.c - finding the unordered pair behind a completion digest that changed.
 *
 * One pass over the trace collects the submissions (context, resource ranges, semaphores waited
 * and signaled) and the CPU's waits (polls that saw semaphores signaled), up to the completion
 * that diverged. The order they define (trace_race.h) is a graph: an edge from each submission
 * to the one before it on its context and to the signaler of each semaphore it waits for. Two
 * numbers per submission capture the CPU's part: need(S), the latest client call that must have
 * happened before S or anything ordered before S could run (its own submission, a CPU signal it
 * waits for), and done(S), the earliest client call by which the client saw S or something
 * ordered after S complete. A is ordered before B when A is an ancestor of B in the graph or
 * done(A) < need(B). Anything else that lists an overlapping range of the same buffer is
 * reported, with the candidate holding the first differing byte preferred.
 *
 * Deliberately approximate: a resource is whatever range a submission lists (reads included,
 * and the command buffer itself), inline submissions take part in context order but their
 * semaphores are not followed, and a semaphore is known by its id. Runs on the caller's thread.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma_common_defs.h>

#include "trace_replay_internal.h"
#include "traces/trace_race.h"

#define RACE_NONE UINT64_MAX	   /* no submission */
#define RACE_CPU  (UINT64_MAX - 1) /* signaled by the CPU (semaphore_signal) */

struct race_range {
	uint64_t buf, offset, length;
};

struct race_sub {
	uint64_t seq, conn, ctx;
	struct race_range *ranges;
	uint32_t range_count;
	uint32_t pred_count;
	uint64_t *preds;  /* indices of the submissions ordered right before this one */
	uint64_t need;	  /* see the file head; own p first, then propagated */
	uint64_t done;	  /* UINT64_MAX: never seen complete */
	uint32_t waiting; /* waits whose signaler comes after the diverged completion */
};

struct race {
	struct race_sub *subs;
	size_t count, cap;
	struct replay_map by_seq;    /* seq -> index */
	struct replay_map last_ctx;  /* (conn, ctx) -> index */
	struct replay_map signaler;  /* sem id -> index, RACE_CPU */
	struct replay_map sem_id;    /* sem handle -> id */
	struct replay_map pend_head; /* sem id -> first pending wait + 1 */
	struct race_pend {
		uint64_t sub, next; /* next: index + 1 into pends, 0 ends */
	} * pends;
	size_t pend_count, pend_cap;
};

/* The value of (@k1, @k2) in @m into *@v; false when absent (RACE_NONE/RACE_CPU are values). */
static bool race_map_get(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v)
{
	const struct replay_ent *e = trace_replay_map_find(m, k1, k2);

	if (e)
		*v = e->v;
	return e != NULL;
}

/* Member @k of @o as the replay reads numbers (trace_replay_internal.h), 0 when missing. */
static uint64_t race_u64(const cJSON *o, const char *k)
{
	uint64_t v = 0;

	return get_u64(o, k, &v) ? v : 0;
}

static bool race_add_pred(struct race_sub *s, uint64_t pred)
{
	uint64_t *p = realloc(s->preds, sizeof(*p) * (s->pred_count + 1));

	if (!p)
		return false;
	p[s->pred_count++] = pred;
	s->preds = p;
	return true;
}

/* A submission (execute_command, execute_inline) of @conn/@ctx at @seq; its index or -ENOMEM. */
static int64_t race_add_sub(struct race *r, uint64_t seq, uint64_t conn, uint64_t ctx)
{
	struct race_sub *s;
	uint64_t prev;

	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct race_sub *subs = realloc(r->subs, sizeof(*subs) * cap);

		if (!subs)
			return -ENOMEM;
		r->subs = subs;
		r->cap = cap;
	}
	s = &r->subs[r->count];
	*s = (struct race_sub){
		.seq = seq, .conn = conn, .ctx = ctx, .need = seq, .done = UINT64_MAX};
	if (!trace_replay_map_put(&r->by_seq, seq, 0, r->count))
		return -ENOMEM;
	if (race_map_get(&r->last_ctx, conn, ctx, &prev) && !race_add_pred(s, prev))
		return -ENOMEM;
	if (!trace_replay_map_put(&r->last_ctx, conn, ctx, r->count))
		return -ENOMEM;
	return (int64_t)r->count++;
}

/* Submission @sub waits for @sem, which nothing has signaled yet: resolved by a later signal. */
static int race_pend(struct race *r, uint64_t sub, uint64_t sem)
{
	uint64_t head = 0;

	if (r->pend_count == r->pend_cap) {
		size_t cap = r->pend_cap ? r->pend_cap * 2 : 64;
		struct race_pend *p = realloc(r->pends, sizeof(*p) * cap);

		if (!p)
			return -ENOMEM;
		r->pends = p;
		r->pend_cap = cap;
	}
	race_map_get(&r->pend_head, sem, 0, &head);
	r->pends[r->pend_count] = (struct race_pend){sub, head};
	if (!trace_replay_map_put(&r->pend_head, sem, 0, ++r->pend_count))
		return -ENOMEM;
	r->subs[sub].waiting++;
	return 0;
}

/* @sem is signaled at @seq by submission @by (or RACE_CPU): its pending waiters follow it. */
static int race_signal(struct race *r, uint64_t sem, uint64_t by, uint64_t seq)
{
	uint64_t at = 0;

	race_map_get(&r->pend_head, sem, 0, &at);
	while (at) {
		struct race_pend *p = &r->pends[at - 1];
		struct race_sub *s = &r->subs[p->sub];

		s->waiting--;
		if (by == RACE_CPU) {
			if (s->need < seq)
				s->need = seq;
		} else if (!race_add_pred(s, by)) {
			return -ENOMEM;
		}
		at = p->next;
	}
	if (!trace_replay_map_put(&r->pend_head, sem, 0, 0) ||
	    !trace_replay_map_put(&r->signaler, sem, 0, by))
		return -ENOMEM;
	return 0;
}

static int race_execute(struct race *r, uint64_t seq, const cJSON *args)
{
	const cJSON *it;
	struct race_sub *s;
	int64_t idx = race_add_sub(r, seq, race_u64(args, "connection"), race_u64(args, "context"));
	uint32_t n = 0;
	int ret;

	if (idx < 0)
		return (int)idx;
	s = &r->subs[idx];
	s->ranges = calloc((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(args, "resources")) + 1,
			   sizeof(*s->ranges));
	if (!s->ranges)
		return -ENOMEM;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(args, "resources"))
	{
		s->ranges[n++] = (struct race_range){
			race_u64(it, "buffer_id"), race_u64(it, "offset"), race_u64(it, "length")};
	}
	s->range_count = n;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(args, "wait"))
	{
		uint64_t sem = cJSON_IsNumber(it) ? (uint64_t)it->valuedouble : 0, by;

		if (!race_map_get(&r->signaler, sem, 0, &by))
			ret = race_pend(r, (uint64_t)idx, sem);
		else
			ret = by == RACE_CPU || race_add_pred(&r->subs[idx], by) ? 0 : -ENOMEM;
		if (ret)
			return ret;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(args, "signal"))
	{
		ret = race_signal(r, cJSON_IsNumber(it) ? (uint64_t)it->valuedouble : 0,
				  (uint64_t)idx, seq);
		if (ret)
			return ret;
	}
	return 0;
}

/* A poll that returned OK: each semaphore it saw signaled shows its signaler complete. */
static void race_poll(struct race *r, uint64_t seq, const cJSON *args, const cJSON *out)
{
	const cJSON *results = cJSON_GetObjectItem(out, "results"), *it;
	int i = 0;

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(args, "items"))
	{
		const cJSON *res = cJSON_GetArrayItem(results, i++);
		uint64_t sem, by;

		if (race_u64(it, "type") != MAGMA_POLL_TYPE_SEMAPHORE ||
		    (cJSON_IsNumber(res) && res->valuedouble == 0))
			continue;
		if (!race_map_get(&r->sem_id, race_u64(it, "object"), 0, &sem) ||
		    !race_map_get(&r->signaler, sem, 0, &by) || by == RACE_CPU)
			continue;
		if (r->subs[by].done > seq)
			r->subs[by].done = seq;
	}
}

/* One event line: the calls that order work or name semaphores. */
static int race_event(struct race *r, const char *line, size_t len, uint64_t stop, bool *end)
{
	static const char *const calls[] = {
		"execute_command",  "execute_inline",	"poll",
		"semaphore_signal", "create_semaphore", "import_semaphore"};
	const cJSON *args, *out, *result;
	const char *name;
	char key[48];
	uint64_t seq;
	cJSON *ev;
	int ret = 0;
	size_t c;

	for (c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		snprintf(key, sizeof(key), "\"call\":\"%s\"", calls[c]);
		if (memmem(line, len, key, strlen(key)))
			break;
	}
	if (c == sizeof(calls) / sizeof(calls[0]))
		return 0;
	ev = cJSON_ParseWithLength(line, len);
	if (!ev)
		return 0;
	seq = race_u64(ev, "seq");
	if (seq >= stop) {
		*end = true;
		goto out;
	}
	name = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "call"));
	args = cJSON_GetObjectItem(ev, "args");
	out = cJSON_GetObjectItem(ev, "out");
	result = cJSON_GetObjectItem(ev, "result");
	if (!name || !args || cJSON_GetObjectItem(args, "invalid") ||
	    (cJSON_IsNumber(result) && result->valuedouble != 0))
		goto out;
	if (!strcmp(name, "execute_command")) {
		ret = race_execute(r, seq, args);
	} else if (!strcmp(name, "execute_inline")) {
		int64_t idx = race_add_sub(r, seq, race_u64(args, "connection"),
					   race_u64(args, "context"));

		ret = idx < 0 ? (int)idx : 0;
	} else if (!strcmp(name, "poll")) {
		race_poll(r, seq, args, out);
	} else if (!strcmp(name, "semaphore_signal")) {
		uint64_t sem;

		if (race_map_get(&r->sem_id, race_u64(args, "semaphore"), 0, &sem))
			ret = race_signal(r, sem, RACE_CPU, seq);
	} else if (!trace_replay_map_put(&r->sem_id, race_u64(out, "semaphore"), 0,
					 race_u64(out, "id"))) {
		ret = -ENOMEM;
	}
out:
	cJSON_Delete(ev);
	return ret;
}

/* need and done propagated along the order until nothing changes (a few passes). */
static void race_propagate(struct race *r)
{
	bool changed = true;

	for (int pass = 0; changed && pass < 64; pass++) {
		changed = false;
		for (size_t i = 0; i < r->count; i++) {
			struct race_sub *s = &r->subs[i];

			for (uint32_t k = 0; k < s->pred_count; k++) {
				struct race_sub *p = &r->subs[s->preds[k]];

				if (p->need > s->need) {
					s->need = p->need;
					changed = true;
				}
			}
		}
		for (size_t i = r->count; i-- > 0;) {
			struct race_sub *s = &r->subs[i];

			for (uint32_t k = 0; k < s->pred_count; k++) {
				struct race_sub *p = &r->subs[s->preds[k]];

				if (s->done < p->done) {
					p->done = s->done;
					changed = true;
				}
			}
		}
	}
}

/* Mark in @mark every ancestor of @from (reverse false) or every descendant (reverse true). */
static int race_reach(const struct race *r, uint64_t from, bool reverse, uint8_t *mark)
{
	uint64_t *stack = malloc(sizeof(*stack) * (r->count + 1)), top = 0;
	uint64_t *first = NULL, *succ = NULL, total = 0;
	int ret = -ENOMEM;

	if (!stack)
		return -ENOMEM;
	if (reverse) {
		/* Successor lists (CSR): first[i] .. first[i + 1] in succ. */
		first = calloc(r->count + 2, sizeof(*first));
		for (size_t i = 0; first && i < r->count; i++)
			for (uint32_t k = 0; k < r->subs[i].pred_count; k++, total++)
				first[r->subs[i].preds[k] + 2]++;
		succ = malloc(sizeof(*succ) * (total + 1));
		if (!first || !succ)
			goto out_free;
		for (size_t i = 2; i < r->count + 2; i++)
			first[i] += first[i - 1];
		for (size_t i = 0; i < r->count; i++)
			for (uint32_t k = 0; k < r->subs[i].pred_count; k++)
				succ[first[r->subs[i].preds[k] + 1]++] = i;
	}
	stack[top++] = from;
	while (top) {
		uint64_t at = stack[--top];
		uint64_t n = reverse ? first[at + 1] - first[at] : r->subs[at].pred_count;
		const uint64_t *next = reverse ? succ + first[at] : r->subs[at].preds;

		for (uint64_t k = 0; k < n; k++) {
			if (!mark[next[k]]) {
				mark[next[k]] = 1;
				stack[top++] = next[k];
			}
		}
	}
	ret = 0;
out_free:
	free(first);
	free(succ);
	free(stack);
	return ret;
}

static bool race_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Pick the unordered submission to report; fills @out. */
static int race_find(struct race *r, const struct trace_replay_mismatch *m, uint64_t si,
		     struct trace_race_report *out)
{
	const struct race_sub *s = &r->subs[si];
	uint8_t *anc = calloc(r->count + 1, 1), *desc = calloc(r->count + 1, 1);
	uint64_t diff_at = m->first_diff != UINT64_MAX ? m->offset + m->first_diff : UINT64_MAX;
	uint64_t best = RACE_NONE, best_dist = UINT64_MAX;
	bool best_holds = false;
	int ret = -ENOMEM;

	if (!anc || !desc || race_reach(r, si, false, anc) || race_reach(r, si, true, desc))
		goto out_free;
	for (size_t i = 0; i < r->count; i++) {
		const struct race_sub *t = &r->subs[i];
		bool overlaps = false, holds = false, ordered;
		uint64_t dist;

		if (i == si || t->waiting)
			continue;
		for (uint32_t k = 0; k < t->range_count; k++) {
			const struct race_range *rg = &t->ranges[k];

			if (rg->buf != m->buffer_id ||
			    !race_overlap(rg->offset, rg->length, m->offset, m->length))
				continue;
			overlaps = true;
			if (diff_at != UINT64_MAX && diff_at >= rg->offset &&
			    diff_at - rg->offset < rg->length)
				holds = true;
		}
		if (!overlaps)
			continue;
		out->candidates++;
		ordered = anc[i] || desc[i] || t->done < s->need || s->done < t->need;
		if (ordered)
			continue;
		dist = t->seq > s->seq ? t->seq - s->seq : s->seq - t->seq;
		if (best == RACE_NONE || (holds && !best_holds) ||
		    (holds == best_holds && dist < best_dist)) {
			best = i;
			best_dist = dist;
			best_holds = holds;
		}
	}
	if (best != RACE_NONE) {
		const struct race_sub *t = &r->subs[best];

		out->found = true;
		out->other_event = t->seq;
		out->other_conn = t->conn;
		out->other_context = t->ctx;
		for (uint32_t k = 0; k < t->range_count; k++) {
			if (t->ranges[k].buf == m->buffer_id &&
			    race_overlap(t->ranges[k].offset, t->ranges[k].length, m->offset,
					 m->length)) {
				out->other_offset = t->ranges[k].offset;
				out->other_length = t->ranges[k].length;
				break;
			}
		}
	}
	ret = 0;
out_free:
	free(anc);
	free(desc);
	return ret;
}

static void race_free(struct race *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->subs[i].ranges);
		free(r->subs[i].preds);
	}
	free(r->subs);
	free(r->pends);
	trace_replay_map_fini(&r->by_seq);
	trace_replay_map_fini(&r->last_ctx);
	trace_replay_map_fini(&r->signaler);
	trace_replay_map_fini(&r->sem_id);
	trace_replay_map_fini(&r->pend_head);
}

/* The trace's text, whole, into *@text_out (the caller frees it). */
static int race_read(const char *path, char **text_out, size_t *size_out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t size = 0, cap = 0, n;

	if (!f)
		return -errno;
	do {
		if (size + 65536 > cap) {
			char *more = realloc(text, cap = cap ? cap * 2 : 1 << 20);

			if (!more) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = more;
		}
		n = fread(text + size, 1, cap - size, f);
		size += n;
	} while (n);
	fclose(f);
	*text_out = text;
	*size_out = size;
	return 0;
}

/* trace_race_explain - see trace_race.h. */
int trace_race_explain(const char *path, const struct trace_replay_mismatch *m,
		       struct trace_race_report *out)
{
	struct race r = {0};
	char *text = NULL;
	size_t size = 0, at = 0;
	uint64_t si;
	bool end = false;
	int ret, len;

	if (!path || !m || !out || !m->valid)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ret = race_read(path, &text, &size);
	if (ret)
		return ret;
	/* Line 1 is the header; then one event per line (the reader's rules). */
	while (at < size && text[at] != '\n')
		at++;
	while (!ret && !end && ++at < size) {
		const char *nl = memchr(text + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : size - at;

		while (n && (text[at + n - 1] == ',' || text[at + n - 1] == '\r'))
			n--;
		ret = race_event(&r, text + at, n, m->event, &end);
		at += nl ? (size_t)(nl - (text + at)) : size - at;
	}
	free(text);
	if (ret)
		goto out_free;
	if (!race_map_get(&r.by_seq, m->submission, 0, &si)) {
		snprintf(out->text, sizeof(out->text),
			 "  the submission at event %" PRIu64 " is not in the trace's calls",
			 m->submission);
		goto out_free;
	}
	race_propagate(&r);
	ret = race_find(&r, m, si, out);
	if (ret)
		goto out_free;
	out->conn = r.subs[si].conn;
	out->context = r.subs[si].ctx;
	if (!out->found) {
		snprintf(
			out->text, sizeof(out->text),
			"  no other submission touches buffer %" PRIu64 " [%" PRIu64 ", +%" PRIu64
			") without being ordered with event %" PRIu64 " (%" PRIu64
			" touch it, all ordered):\n"
			"  the contents depend on something else: a CPU write while the GPU used the"
			" range,\n  or timing itself (TIMESTAMP, counters, a WAIT on memory)",
			m->buffer_id, m->offset, m->length, m->submission, out->candidates);
		goto out_free;
	}
	len = snprintf(out->text, sizeof(out->text),
		       "  event %" PRIu64 " (execute_command, connection %" PRIu64
		       ", context %" PRIu64 ") produced the completion;\n"
		       "  event %" PRIu64 " (execute_command, connection %" PRIu64
		       ", context %" PRIu64 ") touches buffer %" PRIu64 " [%" PRIu64 ", +%" PRIu64
		       ") too,\n  and no semaphore chain, context order or CPU wait orders the two",
		       m->submission, out->conn, out->context, out->other_event, out->other_conn,
		       out->other_context, m->buffer_id, out->other_offset, out->other_length);
	if (len > 0 && (size_t)len < sizeof(out->text) && out->candidates > 1)
		snprintf(out->text + len, sizeof(out->text) - (size_t)len,
			 " (%" PRIu64 " submissions touch the range)", out->candidates);
out_free:
	race_free(&r);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * trace_diff_values.c - magma-trace diff's comparison of two values (trace_diff_internal.h).
 *
 * Handles and ids are compared by order of appearance, as replay maps them: a value a call
 * returns (out) gets the next number of its kind in that file, a value a call is given (args)
 * is looked up (a value never seen gets the next number too). Two traces agree when their
 * numbers agree. Kinds: device, connection, context, buffer, buffer id, semaphore, semaphore
 * id, handle (fds: exports, notification channel handles), pool; a completion's "submission" is
 * the submission's position among the compared events. Host times and device channels are
 * ignored. A digest that differs is explained with the first differing byte of the two blobs.
 * Single-threaded.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>

#include "trace_diff_internal.h"
#include "traces/trace.h"

static const char *const kind_names[DK_COUNT] = {
	[DK_DEVICE] = "device",
	[DK_CONNECTION] = "connection",
	[DK_CONTEXT] = "context",
	[DK_BUFFER] = "buffer",
	[DK_BUFFER_ID] = "buffer id",
	[DK_SEMAPHORE] = "semaphore",
	[DK_SEMAPHORE_ID] = "semaphore id",
	[DK_HANDLE] = "handle",
	[DK_POOL] = "pool",
	[DK_SUBMISSION] = "submission",
};

/* ---- numbering ---- */

/* The number of @value of @kind in @s; outputs always take a new one. */
static uint64_t number_of(struct diff *df, struct diff_side *s, enum diff_kind kind, uint64_t value,
			  bool is_out)
{
	uint64_t n;

	if (!is_out && tt_map_get(&s->ord[kind], value, 0, &n))
		return n;
	n = s->next[kind]++;
	if (!trace_replay_map_put(&s->ord[kind], value, 0, n))
		df->oom = true;
	return n;
}

/* The kind of member @key of a call @call's args/out (@is_out), with @item the object it is in. */
static enum diff_kind kind_of(const char *call, const char *key, bool is_out, const cJSON *item)
{
	if (!strcmp(key, "device"))
		return DK_DEVICE;
	if (!strcmp(key, "connection"))
		return DK_CONNECTION;
	if (!strcmp(key, "context"))
		return DK_CONTEXT;
	if (!strcmp(key, "buffer"))
		return !strcmp(call, "device_query") ? DK_LITERAL : DK_BUFFER;
	if (!strcmp(key, "semaphore"))
		return DK_SEMAPHORE;
	if (!strcmp(key, "buffer_id"))
		return DK_BUFFER_ID;
	if (!strcmp(key, "id") && is_out)
		return strstr(call, "semaphore") ? DK_SEMAPHORE_ID : DK_BUFFER_ID;
	if (!strcmp(key, "wait") || !strcmp(key, "signal") || !strcmp(key, "semaphores"))
		return DK_SEMAPHORE_ID;
	if (!strcmp(key, "object"))
		return tt_u64(item, "type") == MAGMA_POLL_TYPE_SEMAPHORE ? DK_SEMAPHORE : DK_HANDLE;
	/* A channel comes from outside the API (the client connected it): its number says
	 * nothing, and fd numbers are reused in whatever order the host closes them. */
	if (!strcmp(key, "channel"))
		return DK_IGNORED;
	if (!strcmp(key, "handle"))
		return DK_HANDLE;
	if (!strcmp(key, "pool"))
		return DK_POOL;
	if (!strcmp(key, "time") && !strcmp(call, "perf_read_completion"))
		return DK_IGNORED; /* host time */
	if (!strcmp(key, "submission"))
		return DK_SUBMISSION;
	return DK_LITERAL;
}

/* ---- reporting ---- */

/* @v as short text into @out: a number, a string, or compact JSON (cut at 160 characters). */
static void value_text(const cJSON *v, char *out, size_t size)
{
	char *text;

	if (!v) {
		snprintf(out, size, "(absent)");
		return;
	}
	text = cJSON_PrintUnformatted(v);
	snprintf(out, size, "%.160s%s", text ? text : "?", text && strlen(text) > 160 ? "..." : "");
	free(text);
}

/* diff_add_report - see trace_diff_internal.h. */
void diff_add_report(struct diff *df, const char *fmt, ...)
{
	va_list ap;

	if (df->fields < DIFF_MAX_FIELDS) {
		va_start(ap, fmt);
		vsnprintf(df->report[df->fields], sizeof(df->report[0]), fmt, ap);
		va_end(ap);
	}
	df->fields++;
}

/*
 * For a digest that differs: where the two blobs first differ (both must be in their files).
 * Appends to @out.
 */
static void blob_difference(struct diff *df, const char *hex_a, const char *hex_b, char *out,
			    size_t size)
{
	struct tt_blob ba, bb;
	struct trace_blob_reader ra, rb;
	uint8_t ca[4096], cb[4096];
	uint64_t done = 0, common;

	if (tt_blob_load(&df->a.rd, &df->a.blobs, hex_a, &ba))
		return;
	if (tt_blob_load(&df->b.rd, &df->b.blobs, hex_b, &bb)) {
		tt_blob_free(&ba);
		return;
	}
	trace_blob_reader_init(&ra, ba.text);
	trace_blob_reader_init(&rb, bb.text);
	common = ba.size < bb.size ? ba.size : bb.size;
	while (done < common) {
		size_t n = common - done < sizeof(ca) ? (size_t)(common - done) : sizeof(ca), i;

		if (trace_blob_read(&ra, ca, n) != n || trace_blob_read(&rb, cb, n) != n)
			break;
		for (i = 0; i < n && ca[i] == cb[i]; i++)
			;
		if (i < n) {
			snprintf(out, size,
				 " (%" PRIu64 " and %" PRIu64
				 " bytes; first difference at byte %" PRIu64
				 ": A 0x%02x, B 0x%02x)",
				 ba.size, bb.size, done + i, ca[i], cb[i]);
			break;
		}
		done += n;
	}
	if (done == common && ba.size != bb.size)
		snprintf(out, size, " (%" PRIu64 " and %" PRIu64 " bytes; the shorter is a prefix)",
			 ba.size, bb.size);
	tt_blob_free(&ba);
	tt_blob_free(&bb);
}

/* ---- comparing values ---- */

/* Compares every member of objects @oa and @ob (A's, B's) at @path into df->report. */
static void diff_compare_object(struct diff *df, const char *path, const cJSON *oa, const cJSON *ob,
				bool is_out)
{
	const cJSON *m;
	char sub[256];

	/* Members of A in A's order, then those only B has. */
	cJSON_ArrayForEach(m, oa)
	{
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", m->string);
		diff_compare_value(df, sub, m, tt_member(ob, m->string),
				   kind_of(df->call, m->string, is_out, oa), is_out);
	}
	cJSON_ArrayForEach(m, ob)
	{
		if (tt_member(oa, m->string))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", m->string);
		diff_compare_value(df, sub, NULL, m, DK_LITERAL, is_out);
	}
}

/* diff_compare_value - see trace_diff_internal.h. */
void diff_compare_value(struct diff *df, const char *path, const cJSON *va, const cJSON *vb,
			enum diff_kind kind, bool is_out)
{
	char ta[200], tb[200], extra[200] = "";
	uint64_t xa, xb;
	const char *key = strrchr(path, '.');

	key = key ? key + 1 : path;
	if (kind == DK_IGNORED || (!va && !vb))
		return;
	if (va && vb && cJSON_IsObject(va) && cJSON_IsObject(vb)) {
		diff_compare_object(df, path, va, vb, is_out);
		return;
	}
	if (va && vb && cJSON_IsArray(va) && cJSON_IsArray(vb)) {
		int na = cJSON_GetArraySize(va), nb = cJSON_GetArraySize(vb);
		const cJSON *ia = va->child, *ib = vb->child;
		char sub[256];

		if (na != nb) {
			diff_add_report(df, "%s: A has %d items, B has %d", path, na, nb);
			return;
		}
		for (int i = 0; ia && ib; i++, ia = ia->next, ib = ib->next) {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
			diff_compare_value(df, sub, ia, ib, kind, is_out);
		}
		return;
	}
	if (kind != DK_LITERAL && tt_number_u64(va, &xa) && tt_number_u64(vb, &xb)) {
		struct diff_side *sa = &df->a, *sb = &df->b;
		uint64_t na, nb;

		if (kind == DK_SUBMISSION) {
			/* submission: the position of the submission among the compared events */
			na = tt_map_get(&sa->ord[kind], xa, 0, &na) ? na : UINT64_MAX;
			nb = tt_map_get(&sb->ord[kind], xb, 0, &nb) ? nb : UINT64_MAX;
		} else {
			/* Outputs create objects, except the ids a counter completion names. */
			bool defines = is_out && strcmp(df->call, "perf_read_completion");

			na = number_of(df, sa, kind, xa, defines);
			nb = number_of(df, sb, kind, xb, defines);
		}
		if (na != nb)
			diff_add_report(df,
					"%s: A %s #%" PRIu64 " (value %" PRIu64 "), B %s #%" PRIu64
					" (value %" PRIu64 ") in order of appearance",
					path, kind_names[kind], na, xa, kind_names[kind], nb, xb);
		return;
	}
	if (va && vb && cJSON_Compare(va, vb, true))
		return;
	value_text(va, ta, sizeof(ta));
	value_text(vb, tb, sizeof(tb));
	if ((!strcmp(key, "contents") || !strcmp(key, "data") || !strcmp(key, "digest")) &&
	    cJSON_IsString(va) && cJSON_IsString(vb))
		blob_difference(df, va->valuestring, vb->valuestring, extra, sizeof(extra));
	diff_add_report(df, "%s: A %s, B %s%s", path, ta, tb, extra);
}

/* diff_compare_completions - see trace_diff_internal.h. */
void diff_compare_completions(struct diff *df, const cJSON *ea, const cJSON *eb)
{
	const cJSON *ia, *ib;
	char path[64];

	df->fields = 0;
	df->call = "completion";
	diff_compare_value(df, "connection", tt_member(ea, "connection"),
			   tt_member(eb, "connection"), DK_CONNECTION, false);
	cJSON_ArrayForEach(ia, tt_member(ea, "resources"))
	{
		uint64_t idx = tt_u64(ia, "index");

		cJSON_ArrayForEach(ib, tt_member(eb, "resources")) if (tt_u64(ib, "index") ==
								       idx) break;
		if (!ib)
			continue; /* unsettled (or unreadable) on B's side: nothing to compare */
		snprintf(path, sizeof(path), "resources[index %" PRIu64 "]", idx);
		diff_compare_object(df, path, ia, ib, false);
	}
}

/* ---- signatures: what pairs a thread of A with one of B ---- */

static uint64_t sig_mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Mixes the literal parts of @v (of @kind, in call @call) into @h: what numbering leaves alone. */
static uint64_t sig_value(const char *call, const cJSON *v, enum diff_kind kind, uint64_t h)
{
	const cJSON *m;

	if (kind != DK_LITERAL || !v)
		return h;
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(m, v)
		{
			h = sig_mix(h, m->string, strlen(m->string) + 1);
			h = sig_value(call, m, kind_of(call, m->string, false, v), h);
		}
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(m, v) h = sig_value(call, m, kind, h);
	} else if (cJSON_IsString(v)) {
		h = sig_mix(h, v->valuestring, strlen(v->valuestring) + 1);
	} else if (cJSON_IsNumber(v)) {
		h = sig_mix(h, &v->valuedouble, sizeof(v->valuedouble));
	} else {
		h = sig_mix(h, &v->type, sizeof(v->type));
	}
	return h;
}

/* diff_signature - see trace_diff_internal.h. */
uint64_t diff_signature(enum tt_type type, const cJSON *ev)
{
	const char *call = type == TT_CALL && tt_str(ev, "call") ? tt_str(ev, "call") : "";
	uint64_t h = sig_mix(0xcbf29ce484222325ull, &type, sizeof(type));

	h = sig_mix(h, call, strlen(call) + 1);
	if (type != TT_CALL)
		return h;
	h = sig_value(call, tt_member(ev, "args"), DK_LITERAL, h);
	return sig_value(call, tt_member(ev, "result"), DK_LITERAL, h);
}

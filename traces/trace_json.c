/* SPDX-License-Identifier: MIT */
/*
 * trace_json.c - event lines parsed into cJSON trees without a malloc per node (trace_json.h).
 *
 * Why: every line of a trace is parsed, twice when it is replayed, and cJSON allocates each node
 * and each string on its own and reads every number with strtod. On bench-trace's 100,000-call
 * trace that was most of what validation and replay spent outside the device.
 *
 * The fast path reads objects, arrays, strings without escapes or control characters, integers
 * of up to 18 digits (rounded to double as strtod rounds them), true, false and null, separated
 * by spaces, tabs, CRs and LFs. Anything else - an escape, a fraction or exponent, a leading
 * zero, deep nesting, a byte-order mark, another byte below 0x21 between tokens, anything but
 * white space after the value - goes to cJSON_ParseWithLength itself, so that what is accepted,
 * the tree it gives and where a refused line is wrong are always cJSON's. Nodes are filled as
 * cJSON's parser fills them: keys in @string, valueint saturated from valuedouble, true with
 * valueint 1, and the first child's prev pointing at the last.
 *
 * The arena is a list of chunks, reset for every line; after a line that needed more than one
 * they are merged into one of the total size, so the arena follows the largest line (its
 * strings and about 64 bytes a value).
 *
 * A line that repeats the one before except for its "seq" number and its host time ("ns", last
 * when the writer stamps events) - a client submitting the same command buffer in a loop, all
 * but 305 lines of bench-trace's trace - keeps the tree of the line before with the new numbers:
 * what parsing it would give, for a memcmp of the line.
 *
 * Not thread-safe: one arena belongs to one reader.
 */
#include "trace_json.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CHUNK_MIN	  (16u * 1024)
/* Deeper nesting goes to cJSON, whose own limit (CJSON_NESTING_LIMIT) then applies. */
#define JSON_MAX_DEPTH	  64
/*
 * Integers of at most this many digits fit in an int64_t, and converting one to double rounds to
 * nearest as strtod does: the value cJSON gives (host times in ns have 16 or more digits).
 */
#define JSON_MAX_DIGITS	  18
/* Strings up to this long are copied as they are scanned. */
#define JSON_SHORT_STRING 256
/* Lines up to this long are remembered for json_repeat. */
#define JSON_MEMO_MAX	  4096

struct trace_json_chunk {
	struct trace_json_chunk *next;
	size_t size, used;
	unsigned char data[]; /* 8-byte aligned: follows a pointer and two size_t */
};

struct json_parser {
	struct trace_json *j;
	const unsigned char *p, *end;
	int depth;
};

/*
 * At least @n free bytes at the end of the newest chunk, 8-byte aligned, not taken yet
 * (json_take takes them); NULL when out of memory.
 */
static void *json_room(struct trace_json *j, size_t n)
{
	struct trace_json_chunk *c = j->chunks;

	if (!c || c->size - c->used < n) {
		size_t size = c ? c->size * 2 : JSON_CHUNK_MIN;

		if (size < n)
			size = n;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = j->chunks;
		c->size = size;
		c->used = 0;
		j->chunks = c;
	}
	return c->data + c->used;
}

/* Takes the first @n bytes of what json_room gave (rounded up to 8). */
static void json_take(struct trace_json *j, size_t n)
{
	j->chunks->used += (n + 7) & ~(size_t)7;
}

/* @n bytes of the arena, 8-byte aligned; NULL when out of memory. */
static void *json_alloc(struct trace_json *j, size_t n)
{
	void *p = json_room(j, (n + 7) & ~(size_t)7);

	if (p)
		json_take(j, n);
	return p;
}

/* Forgets the last tree; several chunks become one of their total size. */
static void json_reset(struct trace_json *j)
{
	struct trace_json_chunk *c = j->chunks, *next;
	size_t total = 0;

	cJSON_Delete(j->fallback);
	j->fallback = NULL;
	if (c && !c->next) {
		c->used = 0;
		return;
	}
	for (; c; c = next) {
		next = c->next;
		total += c->size;
		free(c);
	}
	j->chunks = NULL;
	c = total ? malloc(sizeof(*c) + total) : NULL;
	if (c) {
		c->next = NULL;
		c->size = total;
		c->used = 0;
		j->chunks = c;
	}
}

static void json_skip_space(struct json_parser *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/*
 * The string at s->p (its opening quote) copied to the arena; NULL: not one the fast path reads.
 * Short strings (keys, digests, names) are copied as they are scanned; a longer one (a blob's
 * data) is found first and copied in one piece.
 */
static char *json_string(struct json_parser *s)
{
	const unsigned char *start = s->p + 1, *q = start, *room_end;
	size_t left = (size_t)(s->end - start);
	char *out, *o;

	if (s->p >= s->end || *s->p != '"')
		return NULL;
	room_end = start + (left < JSON_SHORT_STRING ? left : JSON_SHORT_STRING);
	out = json_room(s->j, (size_t)(room_end - start) + 1);
	if (!out)
		return NULL;
	for (o = out; q < room_end && *q != '"'; q++) {
		if (*q == '\\' || *q < 0x20)
			return NULL;
		*o++ = (char)*q;
	}
	if (q < room_end) {
		*o = '\0';
		json_take(s->j, (size_t)(q - start) + 1);
	} else {
		for (; q < s->end && *q != '"'; q++)
			if (*q == '\\' || *q < 0x20)
				return NULL;
		if (q >= s->end)
			return NULL;
		out = json_alloc(s->j, (size_t)(q - start) + 1);
		if (!out)
			return NULL;
		memcpy(out, start, (size_t)(q - start));
		out[q - start] = '\0';
	}
	s->p = q + 1;
	return out;
}

/* An integer of at most JSON_MAX_DIGITS digits, without a leading zero, fraction or exponent. */
static bool json_number(struct json_parser *s, cJSON *item)
{
	const unsigned char *p = s->p;
	bool negative = p < s->end && *p == '-';
	uint64_t v = 0;
	int digits = 0;
	double d;

	p += negative;
	if (p >= s->end || *p < '0' || *p > '9' ||
	    (*p == '0' && p + 1 < s->end && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; p < s->end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > JSON_MAX_DIGITS)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	/* What cJSON would hand to strtod along with the digits: left to it. */
	if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
		return false;
	d = negative ? -(double)v : (double)v;
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	item->type = cJSON_Number;
	s->p = p;
	return true;
}

static bool json_value(struct json_parser *s, cJSON *item);

/* An object or array at s->p (its opening bracket) into @item. */
static bool json_container(struct json_parser *s, cJSON *item, bool object)
{
	const unsigned char close = object ? '}' : ']';
	cJSON *head = NULL, *last = NULL;

	if (++s->depth > JSON_MAX_DEPTH)
		return false;
	s->p++;
	json_skip_space(s);
	while (!(s->p < s->end && *s->p == close && !head)) {
		cJSON *child = json_alloc(s->j, sizeof(*child));

		if (!child)
			return false;
		memset(child, 0, sizeof(*child));
		if (object) {
			child->string = json_string(s);
			if (!child->string)
				return false;
			json_skip_space(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
			json_skip_space(s);
		}
		if (!json_value(s, child))
			return false;
		if (head) {
			last->next = child;
			child->prev = last;
		} else {
			head = child;
		}
		last = child;
		json_skip_space(s);
		if (s->p >= s->end || *s->p != ',')
			break;
		s->p++;
		json_skip_space(s);
	}
	if (s->p >= s->end || *s->p != close)
		return false;
	s->p++;
	s->depth--;
	if (head)
		head->prev = last;
	item->type = object ? cJSON_Object : cJSON_Array;
	item->child = head;
	return true;
}

/* Whether the @n bytes of @word are at s->p; if so, they are consumed. */
static bool json_word(struct json_parser *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return false;
	s->p += n;
	return true;
}

static bool json_value(struct json_parser *s, cJSON *item)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
		return json_container(s, item, true);
	case '[':
		return json_container(s, item, false);
	case '"':
		item->valuestring = json_string(s);
		item->type = cJSON_String;
		return item->valuestring != NULL;
	case 't':
		item->type = cJSON_True;
		item->valueint = 1;
		return json_word(s, "true", 4);
	case 'f':
		item->type = cJSON_False;
		return json_word(s, "false", 5);
	case 'n':
		item->type = cJSON_NULL;
		return json_word(s, "null", 4);
	default:
		return json_number(s, item);
	}
}

/*
 * An event line as the writers write it: {"seq":DIGITS, then what json_repeat compares, then,
 * stamped with a host time (docs/trace-format.md), ,"ns":DIGITS} at its end.
 */
static const char json_seq_head[] = "{\"seq\":";
static const char json_ns_head[] = ",\"ns\":";
#define JSON_SEQ_HEAD_LEN (sizeof(json_seq_head) - 1)
#define JSON_NS_HEAD_LEN  (sizeof(json_ns_head) - 1)

struct json_line {
	size_t seq_end; /* the comma after the "seq" number */
	size_t mid_end; /* where ,"ns": begins, or the end of the line */
	bool has_ns;
};

/* Whether the @n bytes at @p are digits the fast path reads as a number (json_number). */
static bool json_plain_digits(const char *p, size_t n)
{
	if (!n || n > JSON_MAX_DIGITS || (p[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Splits @len bytes at @text as struct json_line says; false for a line of another shape. */
static bool json_line_split(const char *text, size_t len, struct json_line *l)
{
	size_t i = JSON_SEQ_HEAD_LEN, k = len ? len - 1 : 0;

	if (!text || len <= i || memcmp(text, json_seq_head, i))
		return false;
	while (i < len && text[i] >= '0' && text[i] <= '9')
		i++;
	if (i >= len || text[i] != ',' ||
	    !json_plain_digits(text + JSON_SEQ_HEAD_LEN, i - JSON_SEQ_HEAD_LEN))
		return false;
	l->seq_end = i;
	l->mid_end = len;
	l->has_ns = false;
	while (k > i && text[k - 1] >= '0' && text[k - 1] <= '9')
		k--;
	if (text[len - 1] == '}' && k - i > JSON_NS_HEAD_LEN &&
	    !memcmp(text + k - JSON_NS_HEAD_LEN, json_ns_head, JSON_NS_HEAD_LEN) &&
	    json_plain_digits(text + k, len - 1 - k)) {
		l->mid_end = k - JSON_NS_HEAD_LEN;
		l->has_ns = true;
	}
	return true;
}

/* Reads the @n digits at @p into number node @item (they are ones json_plain_digits accepts). */
static void json_renumber(struct trace_json *j, cJSON *item, const char *p, size_t n)
{
	struct json_parser s = {j, (const unsigned char *)p, (const unsigned char *)p + n, 0};

	json_number(&s, item);
}

/*
 * The line after the last one, when it only differs from it in its "seq" and "ns" numbers: the
 * last tree with those numbers (exactly what parsing it gives), else NULL.
 */
static const cJSON *json_repeat(struct trace_json *j, const char *text, size_t len)
{
	struct json_line l;
	cJSON *root = j->memo_root;

	if (!root || !json_line_split(text, len, &l) || l.has_ns != j->memo_has_ns ||
	    l.mid_end - l.seq_end != j->memo_len || memcmp(text + l.seq_end, j->memo, j->memo_len))
		return NULL;
	json_renumber(j, root->child, text + JSON_SEQ_HEAD_LEN, l.seq_end - JSON_SEQ_HEAD_LEN);
	if (l.has_ns)
		json_renumber(j, root->child->prev, text + l.mid_end + JSON_NS_HEAD_LEN,
			      len - 1 - (l.mid_end + JSON_NS_HEAD_LEN));
	return root;
}

/* Whether @item is a number member named @name. */
static bool json_is_number_member(const cJSON *item, const char *name)
{
	return item && item->string && !strcmp(item->string, name) && item->type == cJSON_Number;
}

/* Remembers @root, the fast path's tree of @len bytes at @text, when json_repeat can reuse it. */
static void json_remember(struct trace_json *j, cJSON *root, const char *text, size_t len)
{
	struct json_line l;

	j->memo_root = NULL;
	if (len > JSON_MEMO_MAX || !json_line_split(text, len, &l) ||
	    !json_is_number_member(root->child, "seq") ||
	    (l.has_ns && !json_is_number_member(root->child->prev, "ns")))
		return;
	if (!j->memo) {
		j->memo = malloc(JSON_MEMO_MAX);
		if (!j->memo)
			return;
	}
	memcpy(j->memo, text + l.seq_end, l.mid_end - l.seq_end);
	j->memo_len = l.mid_end - l.seq_end;
	j->memo_has_ns = l.has_ns;
	j->memo_root = root;
}

/* trace_json_parse - see trace_json.h. */
const cJSON *trace_json_parse(struct trace_json *j, const char *text, size_t len)
{
	struct json_parser s = {j, (const unsigned char *)text,
				(const unsigned char *)text + (text ? len : 0), 0};
	const cJSON *repeat = json_repeat(j, text, len);
	cJSON *root;

	j->repeat = repeat != NULL;
	if (repeat)
		return repeat;
	j->memo_root = NULL;
	json_reset(j);
	json_skip_space(&s);
	root = json_alloc(j, sizeof(*root));
	if (root) {
		memset(root, 0, sizeof(*root));
		if (json_value(&s, root)) {
			json_skip_space(&s);
			if (s.p == s.end) {
				json_remember(j, root, text, len);
				return root;
			}
		}
	}
	j->fallback = cJSON_ParseWithLength(text, len);
	return j->fallback;
}

/* trace_json_fini - see trace_json.h. */
void trace_json_fini(struct trace_json *j)
{
	struct trace_json_chunk *c = j->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	cJSON_Delete(j->fallback);
	free(j->memo);
	memset(j, 0, sizeof(*j));
}

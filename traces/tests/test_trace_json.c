/* SPDX-License-Identifier: MIT */
/*
 * test_trace_json.c - the arena parser of event lines (traces/trace_json.h) gives what
 * cJSON_ParseWithLength gives: the same tree (types, values bit for bit, keys, strings, order and
 * links) for every line of every sample, for hand-written cases on both sides of what its fast
 * path reads (escapes, fractions, exponents, long and signed integers, literals, white space,
 * nesting, trailing bytes), for lines that repeat the one before but for "seq" and "ns" (the
 * tree is reused), and for thousands of seeded mutations of sample lines; and the same refusals,
 * with cJSON's error position. Also: the arena is reused across lines of very different sizes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test.h"
#include "trace_json.h"

#ifndef TRACE_SAMPLES_DIR
#define TRACE_SAMPLES_DIR "traces/samples"
#endif

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Children linked as cJSON links them: next/prev between siblings, head->prev the last. */
static bool links_ok(const cJSON *item)
{
	const cJSON *c = item->child, *last = NULL;

	for (; c; last = c, c = c->next)
		if ((last && c->prev != last) || !links_ok(c))
			return false;
	return !item->child || item->child->prev == last;
}

static bool same_tree(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (!a || !b)
		return a == b;
	if (a->type != b->type || a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) ||
	    !same_str(a->string, b->string) || !same_str(a->valuestring, b->valuestring))
		return false;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
		if (!same_tree(x, y))
			return false;
	return !x && !y;
}

/* Parses @len bytes at @text both ways; true when the outcomes are the same. */
static bool agrees(struct trace_json *j, const char *text, size_t len)
{
	cJSON *want = cJSON_ParseWithLength(text, len);
	const char *want_err = want ? NULL : cJSON_GetErrorPtr();
	const cJSON *got = trace_json_parse(j, text, len);
	bool ok = same_tree(got, want) && (!got || links_ok(got)) &&
		  (got || cJSON_GetErrorPtr() == want_err);

	if (!ok)
		fprintf(stderr, "disagree on %.*s\n", (int)(len < 200 ? len : 200), text);
	cJSON_Delete(want);
	return ok;
}

static bool agrees_str(struct trace_json *j, const char *text)
{
	return agrees(j, text, strlen(text));
}

/* Calls @fn on every event line of every sample (without its trailing comma). */
static void for_each_sample_line(void (*fn)(const char *line, size_t len, void *ctx), void *ctx)
{
	static const char *const samples[] = {"write", "copy", "fill", "compute", "waits"};

	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		char path[512], *line = NULL;
		size_t cap = 0;
		ssize_t n;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.json", TRACE_SAMPLES_DIR, samples[s]);
		f = fopen(path, "r");
		REQUIRE(f != NULL);
		while ((n = getline(&line, &cap, f)) > 0) {
			size_t len = (size_t)n;

			while (len && (line[len - 1] == '\n' || line[len - 1] == ','))
				len--;
			fn(line, len, ctx);
		}
		free(line);
		fclose(f);
	}
}

static void check_line(const char *line, size_t len, void *ctx)
{
	CHECK(agrees(ctx, line, len));
}

static void every_sample_line(void)
{
	struct trace_json j = {0};

	for_each_sample_line(check_line, &j);
	trace_json_fini(&j);
}

static void hand_written_cases(void)
{
	static const char *const cases[] = {
		/* what the fast path reads */
		"{}",
		"[]",
		"{\"a\":1}",
		"[1,2,3]",
		"{\"a\":{\"b\":[{},[],\"x\"]}}",
		"0",
		"-0",
		"-12",
		"123456789012345",
		"-123456789012345",
		"true",
		"false",
		"null",
		" \t\r\n{ \"a\" : [ 1 , true , null ] }\r\n ",
		"{\"a\":1,\"a\":2}",
		"\"\xc3\xa9t\xc3\xa9\"",
		"{\"\":\"\"}",
		"[[[[[[[[[[]]]]]]]]]]",
		"{\"seq\":7,\"type\":\"call\",\"args\":{}}",
		"1234567890123456",
		"9007199254740993",
		"18014398509481985",
		"18014398509481986",
		"123456789012345678",
		"-999999999999999999",
		"100000000000000001",
		/* what it leaves to cJSON */
		"1234567890123456789",
		"18446744073709551615",
		"18446744073709551616",
		"1e400",
		"-1e400",
		"1.5",
		"1.",
		".5",
		"1e3",
		"1E+3",
		"2e-3",
		"01",
		"-01",
		"00",
		"+1",
		"-",
		"--1",
		"1-2",
		"\"a\\\"b\"",
		"\"\\u00e9\\ud83d\\ude00\"",
		"\"\\x\"",
		"\"tab\there\"",
		"\"\\/\"",
		"\xef\xbb\xbf{}",
		"\f{}",
		"{}\f",
		"{\"a\":1}x",
		"{\"a\":1},",
		"[1,]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{a:1}",
		"[1 2]",
		"tru",
		"nul",
		"nulll",
		"truex",
		"[true1]",
		"{\"a\":}",
		"",
		" ",
		"{",
		"[",
		"\"open",
		"{\"a\":\"b",
		"]",
		"}",
		",",
		"[\"a\",\"b\"",
		"[[[",
		"{\"a\":[1,{\"b\":2},3]}garbage",
	};
	struct trace_json j = {0};
	char deep[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(agrees_str(&j, cases[i]));
	/* Nesting up to, and past, the fast path's limit (64 levels). */
	for (size_t depth = 60; depth <= 140; depth += 40) {
		memset(deep, '[', depth);
		memset(deep + depth, ']', depth);
		CHECK(agrees(&j, deep, 2 * depth));
	}
	/* Strings around the length copied as it is scanned (256), closed, open, with an escape. */
	for (size_t n = 250; n <= 262; n++) {
		char str[300];

		str[0] = '"';
		memset(str + 1, 'x', n);
		str[n + 1] = '"';
		CHECK(agrees(&j, str, n + 2));
		CHECK(agrees(&j, str, n + 1));
		str[n] = '\\';
		CHECK(agrees(&j, str, n + 2));
		str[n] = '\x01';
		CHECK(agrees(&j, str, n + 2));
	}
	/* Only @len bytes count: the number and the string end where the length does. */
	CHECK(agrees(&j, "123456", 3));
	CHECK(agrees(&j, "\"abc\"def", 5));
	CHECK(agrees(&j, "{\"a\":1}", 6));
	CHECK(trace_json_parse(&j, NULL, 0) == NULL);
	trace_json_fini(&j);
	trace_json_fini(&j); /* twice is safe */
}

/* A line large enough for several chunks, then small ones: the arena is reused (ASan: no leak). */
static void arena_reuse(void)
{
	struct trace_json j = {0};
	size_t n = 200000, len = 0;
	char *big = malloc(8 * n + 16);
	const cJSON *t;

	REQUIRE(big != NULL);
	big[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "%s%zu", i ? "," : "", i % 1000);
	big[len++] = ']';
	for (int round = 0; round < 3; round++) {
		t = trace_json_parse(&j, big, len);
		REQUIRE(t != NULL);
		CHECK_EQ(cJSON_GetArraySize(t), (int)n);
		CHECK(agrees_str(&j, "{\"seq\":1}"));
	}
	free(big);
	trace_json_fini(&j);
}

/*
 * Lines that repeat the one before but for "seq" (and a last "ns") reuse its tree: still what
 * cJSON gives.
 */
static void repeated_lines(void)
{
	static const char *const lines[] = {
		"{\"seq\":5,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":6,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":123456789012345,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":1234567890123456,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":7,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":07,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":0,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":-1,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":8,\"type\":\"call\",\"args\":{\"a\":[1,2]},\"result\":0}",
		"{\"seq\":9,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\": 10,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\":11,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}x",
		"{\"seq\":12,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}x",
		"{\"seq\":13,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\":14,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\":15,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":",
		"{\"seq\":16,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\":\"17\",\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		"{\"seq\":18,\"type\":\"call\",\"args\":{\"a\":[1,3]},\"result\":0}",
		/* host times at the end: they may differ too */
		"{\"seq\":19,\"type\":\"call\",\"args\":{},\"ns\":35386139382900}",
		"{\"seq\":20,\"type\":\"call\",\"args\":{},\"ns\":35386139383000}",
		"{\"seq\":21,\"type\":\"call\",\"args\":{},\"ns\":1035386139383000}",
		"{\"seq\":22,\"type\":\"call\",\"args\":{},\"ns\":9007199254740993}",
		"{\"seq\":23,\"type\":\"call\",\"args\":{},\"ns\":123456789012345678}",
		"{\"seq\":24,\"type\":\"call\",\"args\":{},\"ns\":1234567890123456789}",
		"{\"seq\":25,\"type\":\"call\",\"args\":{},\"ns\":5}",
		"{\"seq\":26,\"type\":\"call\",\"args\":{},\"ns\":05}",
		"{\"seq\":27,\"type\":\"call\",\"args\":{},\"ns\":6}",
		"{\"seq\":28,\"type\":\"call\",\"args\":{},\"ns\":\"7\"}",
		"{\"seq\":29,\"type\":\"call\",\"args\":{},\"ns\":8}",
		"{\"seq\":30,\"type\":\"call\",\"args\":{\"ns\":9}}",
		"{\"seq\":31,\"type\":\"call\",\"args\":{\"ns\":10}}",
		"{\"seq\":32,\"ns\":11}",
		"{\"seq\":33,\"ns\":12}",
		"{\"seq\":34,\"ns\":12,\"ns\":13}",
		"{\"seq\":35,\"ns\":12,\"ns\":14}",
		"{\"seq\":36,\"type\":\"call\",\"args\":{},\"ns\":15}",
		"{\"seq\":37,\"type\":\"call\",\"args\":{},\"ns\":16}x",
		"{\"seq\":38,\"type\":\"call\",\"args\":{},\"ns\":17}",
	};
	struct trace_json j = {0};
	const cJSON *first, *again;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK(agrees_str(&j, lines[i]));
	/* The repeat is the same tree, renumbered. */
	first = trace_json_parse(&j, lines[0], strlen(lines[0]));
	again = trace_json_parse(&j, lines[1], strlen(lines[1]));
	CHECK(first == again);
	CHECK(again->child->valuedouble == 6.0 && again->child->valueint == 6);
	first = trace_json_parse(&j, lines[19], strlen(lines[19]));
	again = trace_json_parse(&j, lines[20], strlen(lines[20]));
	CHECK(first == again);
	CHECK(again->child->prev->valuedouble == 35386139383000.0);
	trace_json_fini(&j);
}

struct mutation {
	struct trace_json j;
	uint64_t rng;
	unsigned lines, accepted;
};

static uint64_t next_random(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Eight mutations of each line: a byte replaced by one of JSON's own or a random one, or cut. */
static void mutate_line(const char *line, size_t len, void *ctx)
{
	static const char interesting[] = "{}[]\",:.-+eE0119\\ tnfu\r\x01\xff";
	struct mutation *m = ctx;
	char *copy = malloc(len + 1);

	REQUIRE(copy != NULL);
	for (int k = 0; len && k < 8; k++) {
		size_t at = (size_t)(next_random(&m->rng) % len), n = len;
		uint64_t how = next_random(&m->rng) % 4;

		memcpy(copy, line, len);
		if (how == 0)
			copy[at] = interesting[next_random(&m->rng) % (sizeof(interesting) - 1)];
		else if (how == 1)
			copy[at] = (char)(next_random(&m->rng) % 256);
		else
			n = at;
		CHECK(agrees(&m->j, copy, n));
		m->accepted += trace_json_parse(&m->j, copy, n) != NULL;
		m->lines++;
	}
	free(copy);
}

static void mutated_sample_lines(void)
{
	struct mutation m = {.rng = 15};

	for_each_sample_line(mutate_line, &m);
	/* Both outcomes were exercised. */
	CHECK(m.lines > 5000);
	CHECK(m.accepted > 0 && m.accepted < m.lines);
	trace_json_fini(&m.j);
}

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(every_sample_line),
	SIM_TEST(hand_written_cases),
	SIM_TEST(arena_reuse),
	SIM_TEST(repeated_lines),
	SIM_TEST(mutated_sample_lines),
};
/* clang-format on */
SIM_TEST_SUITE(tests);

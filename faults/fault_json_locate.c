/* SPDX-License-Identifier: MIT */
/*
 * fault_json_locate.c - the line a JSON value starts on, found by its path.
 *
 * cJSON keeps no positions, yet a bad plan must be reported by file and line. This walks the
 * original text alongside the path (object keys and array indices) the validator was at, skipping
 * every value it does not need, and returns the line where the value starts (or, if the path
 * ends at a missing member, where its object starts). It only runs on text cJSON has already
 * accepted, so it can assume well-formed JSON; it still never reads past @len. Pure.
 */
#include <string.h>

#include "fault_internal.h"

struct cursor {
	const char *p;
	const char *end;
	uint32_t line;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->line++;
		c->p++;
	}
}

/* Skips a string from its opening quote; its raw bytes (escapes left as they are) in the outs. */
static void skip_string(struct cursor *c, const char **start_out, size_t *len_out)
{
	const char *start;

	c->p++; /* the opening quote */
	start = c->p;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		c->p++;
	}
	if (start_out)
		*start_out = start;
	if (len_out)
		*len_out = (size_t)(c->p - start);
	if (c->p < c->end)
		c->p++; /* the closing quote */
}

static void skip_value(struct cursor *c);

/* Skips the members or elements of the object or array at the cursor, brackets included. */
static void skip_container(struct cursor *c)
{
	char close = *c->p == '{' ? '}' : ']';

	c->p++;
	for (;;) {
		skip_ws(c);
		if (c->p >= c->end)
			return;
		if (*c->p == close) {
			c->p++;
			return;
		}
		if (*c->p == ',' || *c->p == ':') {
			c->p++;
			continue;
		}
		skip_value(c);
	}
}

static void skip_value(struct cursor *c)
{
	skip_ws(c);
	if (c->p >= c->end)
		return;
	if (*c->p == '"') {
		skip_string(c, NULL, NULL);
	} else if (*c->p == '{' || *c->p == '[') {
		skip_container(c);
	} else {
		while (c->p < c->end && !strchr(",}] \t\r\n", *c->p))
			c->p++;
	}
}

/*
 * Whether the raw bytes of a JSON string (escapes as written) spell @key. Simple escapes are
 * decoded; a \u escape never matches (the line of the enclosing object is reported then).
 */
static bool raw_key_equals(const char *raw, size_t len, const char *key)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t i = 0;

	for (; i < len && *key; key++) {
		char ch = raw[i++];

		if (ch == '\\' && i < len) {
			const char *e = strchr(from, raw[i++]);

			if (!e)
				return false;
			ch = to[e - from];
		}
		if (ch != *key)
			return false;
	}
	return i == len && !*key;
}

/* Moves the cursor from an object's '{' to the value of member @key; false if it has none. */
static bool enter_member(struct cursor *c, const char *key)
{
	c->p++;
	for (;;) {
		const char *k;
		size_t klen;

		skip_ws(c);
		if (c->p >= c->end || *c->p == '}')
			return false;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p != '"')
			return false;
		skip_string(c, &k, &klen);
		skip_ws(c);
		if (c->p < c->end && *c->p == ':')
			c->p++;
		skip_ws(c);
		if (raw_key_equals(k, klen, key))
			return true;
		skip_value(c);
	}
}

/* Moves the cursor from an array's '[' to element @index; false if there is no such element. */
static bool enter_element(struct cursor *c, uint32_t index)
{
	uint32_t i = 0;

	c->p++;
	for (;;) {
		skip_ws(c);
		if (c->p >= c->end || *c->p == ']')
			return false;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (i == index)
			return true;
		skip_value(c);
		i++;
	}
}

/* fault_json_locate - see fault_internal.h. */
uint32_t fault_json_locate(const char *text, size_t len, const struct fault_path *path)
{
	struct cursor c = {.p = text, .end = text + len, .line = 1};
	uint32_t line;

	skip_ws(&c);
	line = c.line;
	for (uint32_t i = 0; i < path->depth; i++) {
		const struct fault_path_seg *seg = &path->segs[i];
		bool found;

		if (c.p >= c.end)
			break;
		if (seg->key)
			found = *c.p == '{' && enter_member(&c, seg->key);
		else
			found = *c.p == '[' && enter_element(&c, seg->index);
		if (!found)
			break;
		skip_ws(&c);
		line = c.line;
	}
	return line;
}

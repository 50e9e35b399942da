/* SPDX-License-Identifier: MIT */
/*
 * trace_json.h - one event line parsed into a cJSON tree held by a reusable arena
 * (trace_json.c): what the replayer and the trace tools parse every line with.
 *
 * The tree is the one cJSON_ParseWithLength would build (same types, values, keys and links),
 * so the code that reads events keeps using cJSON's accessors. A line that repeats the last one
 * but for its "seq" and host time ("ns") gets the last tree back with the new numbers. It belongs
 * to the arena and lives until the next parse: never cJSON_Delete it, nor add or remove items
 * (cJSON would free arena memory); cJSON_Duplicate gives a tree of one's own. Not installed. One
 * arena per reader; not thread-safe.
 */
#ifndef TRACES_TRACE_JSON_H
#define TRACES_TRACE_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct trace_json_chunk;

/* Zero-initialised is an empty arena. */
struct trace_json {
	struct trace_json_chunk *chunks; /* newest first */
	cJSON *fallback;		 /* the last tree cJSON itself parsed, or NULL */
	cJSON *memo_root;		 /* the last tree, when the next line may repeat it */
	char *memo;			 /* that line between its "seq" and "ns" numbers */
	size_t memo_len;
	bool memo_has_ns; /* that line ends with ,"ns":DIGITS} */
	/*
	 * Set by trace_json_parse: the tree it returned is the last one with another "seq" (and
	 * "ns"): the line repeats the line parsed before it but for those numbers.
	 */
	bool repeat;
};

/*
 * trace_json_parse - the JSON value in the @len bytes at @text (no NUL needed), exactly as
 * cJSON_ParseWithLength reads it, trailing bytes included. Frees the previous tree of @j.
 * Returns the tree, or NULL for text cJSON does not accept (cJSON_GetErrorPtr() then says
 * where) or when out of memory.
 */
const cJSON *trace_json_parse(struct trace_json *j, const char *text, size_t len);

/* trace_json_fini - free the arena and its tree; @j is empty again. Safe to call twice. */
void trace_json_fini(struct trace_json *j);

#endif /* TRACES_TRACE_JSON_H */

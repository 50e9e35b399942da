/* SPDX-License-Identifier: MIT */
/*
 * fault_internal.h - what the readers of fault plans and campaign files share: the path of a
 * JSON value being validated, and the walk that checks members and reports the first problem.
 */
#ifndef FAULT_INTERNAL_H
#define FAULT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "faults/fault_plan.h"

#define FAULT_PATH_MAX	   8
#define FAULT_JSON_INT_MAX 9007199254740992.0 /* 2^53: the integers a JSON number holds */

/* One step into a JSON document: an object member (@key) or an array element (@index). */
struct fault_path_seg {
	const char *key; /* NULL: @index */
	uint32_t index;
};

/* Where a validator is: plan.faults[2].trigger.nth is {"faults", [2], "trigger", "nth"}. */
struct fault_path {
	struct fault_path_seg segs[FAULT_PATH_MAX];
	uint32_t depth;
};

/*
 * fault_json_locate - the 1-based line where the value at @path starts in @text (@len bytes of
 * JSON cJSON accepted), or where the deepest existing part of @path starts. Pure.
 */
uint32_t fault_json_locate(const char *text, size_t len, const struct fault_path *path);

/*
 * A validation walk over one document: where it is (@path), and where the first problem goes
 * ("FILE:LINE: FIELD: what is wrong", @error_size bytes at @error). @root_name names the field
 * of a problem at the top ("plan"), @doc the page an unknown member's message points to.
 */
struct fault_checker {
	const char *text;
	size_t len;
	const char *file;
	struct fault_path path;
	char *error;
	size_t error_size;
	const char *root_name;
	const char *doc;
};

void fault_check_push_key(struct fault_checker *c, const char *key);
void fault_check_push_index(struct fault_checker *c, uint32_t index);
void fault_check_pop(struct fault_checker *c);
/* Formats the message of the current path into c->error; always returns false. */
bool fault_check_fail(struct fault_checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fails on the first member of @obj not in the NULL-terminated @known. */
bool fault_check_only_known(struct fault_checker *c, const cJSON *obj, const char *const *known);
/* Optional member @key of @obj, a whole number in [@min, @max], into *@out (absent: untouched). */
bool fault_check_uint(struct fault_checker *c, const cJSON *obj, const char *key, uint64_t min,
		      uint64_t max, uint64_t *out);

#endif /* FAULT_INTERNAL_H */

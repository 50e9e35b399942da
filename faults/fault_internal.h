/* SPDX-License-Identifier: MIT */
/*
 * fault_internal.h - what the fault_*.c files share: the path of a JSON value being validated.
 */
#ifndef FAULT_INTERNAL_H
#define FAULT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/fault_plan.h"

#define FAULT_PATH_MAX 8

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

#endif /* FAULT_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/*
 * fault_json_check.c - the validation walk that the fault-plan reader and the campaign reader
 * share (fault_internal.h): the path of the member being checked, and the one error message
 * "FILE:LINE: FIELD: what is wrong" with the line found by fault_json_locate. Pure.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fault_internal.h"

void fault_check_push_key(struct fault_checker *c, const char *key)
{
	if (c->path.depth < FAULT_PATH_MAX)
		c->path.segs[c->path.depth++] = (struct fault_path_seg){.key = key};
}

void fault_check_push_index(struct fault_checker *c, uint32_t index)
{
	if (c->path.depth < FAULT_PATH_MAX)
		c->path.segs[c->path.depth++] = (struct fault_path_seg){.index = index};
}

void fault_check_pop(struct fault_checker *c)
{
	if (c->path.depth)
		c->path.depth--;
}

/* fault_check_fail - see fault_internal.h. */
bool fault_check_fail(struct fault_checker *c, const char *fmt, ...)
{
	char field[160] = "";
	size_t n = 0;
	va_list ap;
	int len;

	for (uint32_t i = 0; i < c->path.depth && n < sizeof(field); i++) {
		const struct fault_path_seg *s = &c->path.segs[i];

		if (s->key)
			n += (size_t)snprintf(field + n, sizeof(field) - n, "%s%s", i ? "." : "",
					      s->key);
		else
			n += (size_t)snprintf(field + n, sizeof(field) - n, "[%u]", s->index);
	}
	len = snprintf(c->error, c->error_size, "%s:%u: %s: ", c->file,
		       fault_json_locate(c->text, c->len, &c->path), n ? field : c->root_name);
	if (len < 0 || (size_t)len >= c->error_size)
		return false;
	va_start(ap, fmt);
	vsnprintf(c->error + len, c->error_size - (size_t)len, fmt, ap);
	va_end(ap);
	return false;
}

/* fault_check_only_known - see fault_internal.h. */
bool fault_check_only_known(struct fault_checker *c, const cJSON *obj, const char *const *known)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj)
	{
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(m->string, *k) == 0;
		if (!ok) {
			fault_check_push_key(c, m->string);
			return fault_check_fail(c, "unknown member (a typo? see %s)", c->doc);
		}
	}
	return true;
}

/* fault_check_uint - see fault_internal.h. */
bool fault_check_uint(struct fault_checker *c, const cJSON *obj, const char *key, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (!m)
		return true;
	fault_check_push_key(c, key);
	if (!cJSON_IsNumber(m))
		return fault_check_fail(c, "must be a number");
	d = m->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < 0 || d > FAULT_JSON_INT_MAX)
		return fault_check_fail(c, "must be a whole number from %" PRIu64 " to %" PRIu64,
					min, max);
	if ((uint64_t)d < min || (uint64_t)d > max)
		return fault_check_fail(c, "%.0f is out of range (%" PRIu64 " to %" PRIu64 ")", d,
					min, max);
	*out = (uint64_t)d;
	fault_check_pop(c);
	return true;
}

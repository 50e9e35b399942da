/* SPDX-License-Identifier: MIT */
/*
 * status_name.h - the spelling of a magma_status_t ("CONTEXT_KILLED"), for messages, logs,
 * reports and fault plans. magma-sim's own helper, not part of Magma's API (magma.h has none).
 * Header-only, so that any module may use it whatever it links. Pure; any thread.
 */
#ifndef MAGMA_SIM_STATUS_NAME_H
#define MAGMA_SIM_STATUS_NAME_H

#include <lib/magma/magma_common_defs.h>

/* magma_status_name - "OK", "INTERNAL_ERROR", ... for every status of magma_common_defs.h;
 * "UNKNOWN" for any other value. */
static inline const char *magma_status_name(magma_status_t status)
{
	switch (status) {
	case MAGMA_STATUS_OK:
		return "OK";
	case MAGMA_STATUS_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case MAGMA_STATUS_INVALID_ARGS:
		return "INVALID_ARGS";
	case MAGMA_STATUS_ACCESS_DENIED:
		return "ACCESS_DENIED";
	case MAGMA_STATUS_MEMORY_ERROR:
		return "MEMORY_ERROR";
	case MAGMA_STATUS_CONTEXT_KILLED:
		return "CONTEXT_KILLED";
	case MAGMA_STATUS_CONNECTION_LOST:
		return "CONNECTION_LOST";
	case MAGMA_STATUS_TIMED_OUT:
		return "TIMED_OUT";
	case MAGMA_STATUS_UNIMPLEMENTED: /* Magma's status of that name, not unfinished work */
		return "UNIMPLEMENTED";
	case MAGMA_STATUS_BAD_STATE:
		return "BAD_STATE";
	case MAGMA_STATUS_CONSTRAINTS_INTERSECTION_EMPTY:
		return "CONSTRAINTS_INTERSECTION_EMPTY";
	case MAGMA_STATUS_TOO_MANY_GROUP_CHILD_COMBINATIONS:
		return "TOO_MANY_GROUP_CHILD_COMBINATIONS";
	default:
		return "UNKNOWN";
	}
}

#endif /* MAGMA_SIM_STATUS_NAME_H */

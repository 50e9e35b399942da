/* SPDX-License-Identifier: MIT */
/*
 * fault_plan_device.c - which plans a device can apply (fault_plan.h, "Devices").
 *
 * The plan format allows a few combinations that a device has no way to carry out. A device
 * refuses such a plan whole when it is loaded, with the file, line and field, exactly as the
 * reader refuses a malformed one: a fault that silently never happens would make a recovery
 * report lie. Pure apart from the file read; any thread.
 */
#include <stdio.h>
#include <string.h>

#include <lib/magma/magma_common_defs.h>

#include "faults/fault_plan.h"

/* Formats "FILE:LINE: faults[N].FIELD: message" into @error; returns false. */
static bool refuse(char error[FAULT_ERROR_MAX], const char *file, const struct fault_plan *plan,
		   const struct fault *f, const char *field, const char *message)
{
	snprintf(error, FAULT_ERROR_MAX, "%s:%u: faults[%u].%s: %s", file, f->line,
		 (unsigned)(f - plan->faults), field, message);
	return false;
}

/* fault_plan_check_device - see fault_plan.h. */
bool fault_plan_check_device(const struct fault_plan *plan, const char *file,
			     char error[FAULT_ERROR_MAX])
{
	for (uint32_t i = 0; i < plan->fault_count; i++) {
		const struct fault *f = &plan->faults[i];

		if (f->kind == FAULT_KILL_CLIENT && f->target.type == FAULT_TARGET_ANY &&
		    (f->trigger.type == FAULT_TRIGGER_CYCLE ||
		     f->trigger.event == FAULT_EVENT_RESET))
			return refuse(error, file, plan, f, "target",
				      "a kill_client at a cycle or a reset needs a connection or a "
				      "process to kill (the clock and resets belong to no client)");
		if (f->kind == FAULT_FAIL_ALLOC && strcmp(f->point, "driver") == 0 &&
		    f->status != MAGMA_STATUS_MEMORY_ERROR)
			return refuse(error, file, plan, f, "status",
				      "a failed driver allocation is memory running out and the "
				      "driver says what that returns: only \"MEMORY_ERROR\"");
	}
	error[0] = '\0';
	return true;
}

/* fault_plan_load_for_device - see fault_plan.h. */
struct fault_plan *fault_plan_load_for_device(const char *path, char error[FAULT_ERROR_MAX])
{
	struct fault_plan *plan = fault_plan_load(path, error);

	if (plan && !fault_plan_check_device(plan, path, error)) {
		fault_plan_destroy(plan);
		plan = NULL;
	}
	return plan;
}

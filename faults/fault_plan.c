/* SPDX-License-Identifier: MIT */
/*
 * fault_plan.c - reading and checking fault plans (docs/fault-injection.md has the format).
 *
 * cJSON parses the text; a walk over the tree then checks every member against the format -
 * required members, types, ranges, the kind's own arguments, and no unknown member (a typo must
 * not silently mean "default") - while keeping the path it is at, so the first problem is
 * reported as "FILE:LINE: faults[2].trigger.nth: must be a positive integer" with the line found
 * in the original text (fault_json_locate.c). The plan is built only from a document that passed
 * every check: a caller never holds half a plan.
 *
 * Pure apart from fault_plan_load's file read; any thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lib/magma/magma_common_defs.h>

#include "fault_internal.h"
#include "magma_sim/status_name.h"

/* The largest integer a JSON number holds exactly (cJSON keeps doubles). */
#define FAULT_PLAN_MAX_FILE (1u << 20)

static const char *const kind_names[FAULT_KIND_COUNT] = {
	[FAULT_MMU_FAULT] = "mmu_fault",
	[FAULT_PERMISSION_FAULT] = "permission_fault",
	[FAULT_CP_HANG] = "cp_hang",
	[FAULT_DMA_ERROR] = "dma_error",
	[FAULT_RESET_FAILURE] = "reset_failure",
	[FAULT_IRQ_DELAY] = "irq_delay",
	[FAULT_IRQ_LOSS] = "irq_loss",
	[FAULT_MODEL_ALLOC_FAILURE] = "model_alloc_failure",
	[FAULT_FAIL_ALLOC] = "fail_alloc",
	[FAULT_FAIL_CALL] = "fail_call",
	[FAULT_KILL_CLIENT] = "kill_client",
};

static const char *const event_names[FAULT_EVENT_TYPE_COUNT] = {
	[FAULT_EVENT_SUBMISSION] = "submission", [FAULT_EVENT_CALL] = "call",
	[FAULT_EVENT_ALLOC] = "alloc",		 [FAULT_EVENT_CYCLE] = "cycle",
	[FAULT_EVENT_ACCESS] = "access",	 [FAULT_EVENT_RESET] = "reset",
};

/*
 * Every msd.h entry point a client's call reaches (a trigger's "call" filter), and whether a
 * fail_call fault may make it fail (those that can fail at all; releases cannot).
 */
static const struct {
	const char *name;
	bool failable;
} entry_points[] = {
	{"msd_device_open", true},
	{"msd_device_query", true},
	{"msd_driver_import_buffer", true},
	{"msd_buffer_release", false},
	{"msd_driver_import_semaphore", true},
	{"msd_semaphore_release", false},
	{"msd_connection_create_context", true},
	{"msd_context_destroy", false},
	{"msd_connection_map_buffer", true},
	{"msd_connection_unmap_buffer", true},
	{"msd_connection_buffer_range_op", true},
	{"msd_context_execute_command_buffers", true},
	{"msd_context_execute_inline_commands", true},
	{"msd_connection_enable_performance_counters", true},
	{"msd_connection_clear_performance_counters", false},
	{"msd_connection_create_performance_counter_buffer_pool", true},
	{"msd_connection_release_performance_counter_buffer_pool", false},
	{"msd_connection_add_performance_counter_buffer_offset_to_pool", false},
	{"msd_connection_remove_performance_counter_buffer_from_pool", false},
	{"msd_connection_dump_performance_counters", false},
};

/* Whether @name is an entry point a call reaches (and, with @failable, one that can fail). */
static bool is_entry_point(const char *name, bool failable)
{
	for (size_t i = 0; i < sizeof(entry_points) / sizeof(entry_points[0]); i++) {
		if (strcmp(entry_points[i].name, name) == 0)
			return !failable || entry_points[i].failable;
	}
	return false;
}

/* The statuses a plan may name: INTERNAL_ERROR (-1) to BAD_STATE (-9). */
static bool plan_status(int32_t status)
{
	return status <= MAGMA_STATUS_INTERNAL_ERROR && status >= MAGMA_STATUS_BAD_STATE;
}

/* fault_kind_name - see fault_plan.h. */
const char *fault_kind_name(enum fault_kind kind)
{
	return (unsigned)kind < FAULT_KIND_COUNT ? kind_names[kind] : NULL;
}

/* fault_status_name - see fault_plan.h. */
const char *fault_status_name(int32_t status)
{
	return plan_status(status) ? magma_status_name(status) : "?";
}

/* fault_kind_from_name - see fault_plan.h. */
bool fault_kind_from_name(const char *name, enum fault_kind *out)
{
	for (int k = 0; k < FAULT_KIND_COUNT; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum fault_kind)k;
			return true;
		}
	}
	return false;
}

/* fault_event_name - see fault_plan.h. */
const char *fault_event_name(enum fault_event_type type)
{
	return (unsigned)type < FAULT_EVENT_TYPE_COUNT ? event_names[type] : NULL;
}

/* Reads optional string member @key (at most FAULT_NAME_MAX - 1 bytes) into @out. */
static bool get_name(struct fault_checker *c, const cJSON *obj, const char *key,
		     char out[FAULT_NAME_MAX], bool *present)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (present)
		*present = m != NULL;
	if (!m)
		return true;
	fault_check_push_key(c, key);
	if (!cJSON_IsString(m))
		return fault_check_fail(c, "must be a string");
	if (strlen(m->valuestring) == 0 || strlen(m->valuestring) >= FAULT_NAME_MAX)
		return fault_check_fail(c, "must be 1 to %d characters", FAULT_NAME_MAX - 1);
	snprintf(out, FAULT_NAME_MAX, "%s", m->valuestring);
	fault_check_pop(c);
	return true;
}

/* The event a trigger counts when "of" is not given. */
static enum fault_event_type default_event(enum fault_kind kind)
{
	switch (kind) {
	case FAULT_FAIL_ALLOC:
		return FAULT_EVENT_ALLOC;
	case FAULT_FAIL_CALL:
	case FAULT_KILL_CLIENT:
		return FAULT_EVENT_CALL;
	default:
		return FAULT_EVENT_SUBMISSION;
	}
}

/* Whether a fault of @kind can be triggered by counting @event. */
static bool event_fits_kind(enum fault_kind kind, enum fault_event_type event)
{
	switch (kind) {
	case FAULT_FAIL_ALLOC:
		return event == FAULT_EVENT_ALLOC;
	case FAULT_FAIL_CALL:
		return event == FAULT_EVENT_CALL;
	default:
		return event == FAULT_EVENT_SUBMISSION || event == FAULT_EVENT_CALL ||
		       event == FAULT_EVENT_ACCESS || event == FAULT_EVENT_RESET;
	}
}

/*
 * A trigger's "call": count only calls of that msd.h entry point. For the kinds that fail calls
 * or allocations the kind's own members say which (fail_call's "call", fail_alloc's "in").
 */
static bool check_trigger_call(struct fault_checker *c, const cJSON *t, struct fault *f)
{
	bool present;

	if (!get_name(c, t, "call", f->trigger.call, &present))
		return false;
	if (!present)
		return true;
	fault_check_push_key(c, "call");
	if (f->kind == FAULT_FAIL_CALL || f->kind == FAULT_FAIL_ALLOC)
		return fault_check_fail(c, "a %s fault says what it fails with its own %s",
					kind_names[f->kind],
					f->kind == FAULT_FAIL_CALL ? "\"call\"" : "\"in\"");
	if (f->trigger.event != FAULT_EVENT_CALL)
		return fault_check_fail(
			c, "only a trigger that counts calls (\"of\": \"call\") takes \"call\"");
	if (!is_entry_point(f->trigger.call, false))
		return fault_check_fail(c,
					"\"%s\" is not an msd.h entry point a client call reaches",
					f->trigger.call);
	fault_check_pop(c);
	return true;
}

static bool check_trigger(struct fault_checker *c, const cJSON *t, struct fault *f, uint64_t seed)
{
	static const char *const known[] = {"nth", "every", "probability", "cycle", "va",
					    "of",  "call",  "seed",	   NULL};
	static const char *const shapes[] = {"nth", "every", "probability", "cycle", "va"};
	const cJSON *of, *shape = NULL;
	const char *shape_name = NULL;

	if (!cJSON_IsObject(t))
		return fault_check_fail(c, "must be an object such as {\"nth\": 3}");
	if (!fault_check_only_known(c, t, known))
		return false;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, shapes[i]);

		if (!m)
			continue;
		if (shape) {
			fault_check_push_key(c, shapes[i]);
			return fault_check_fail(
				c,
				"a trigger has one of nth, every, probability, cycle, va; "
				"this one also has %s",
				shape_name);
		}
		shape = m;
		shape_name = shapes[i];
	}
	if (!shape)
		return fault_check_fail(c, "needs one of nth, every, probability, cycle, va");
	f->trigger.event = default_event(f->kind);
	f->trigger.seed = seed;
	of = cJSON_GetObjectItemCaseSensitive(t, "of");
	if (of) {
		int e;

		fault_check_push_key(c, "of");
		if (!cJSON_IsString(of))
			return fault_check_fail(c, "must be a string");
		for (e = 0; e < FAULT_EVENT_TYPE_COUNT; e++) {
			if (strcmp(of->valuestring, event_names[e]) == 0)
				break;
		}
		if (e == FAULT_EVENT_TYPE_COUNT || e == FAULT_EVENT_CYCLE)
			return fault_check_fail(
				c,
				"\"%s\" is not a counted event (submission, call, alloc, "
				"access, reset)",
				of->valuestring);
		if (!event_fits_kind(f->kind, (enum fault_event_type)e))
			return fault_check_fail(c, "a %s fault cannot count \"%s\" events",
						kind_names[f->kind], of->valuestring);
		f->trigger.event = (enum fault_event_type)e;
		fault_check_pop(c);
	}
	if (!check_trigger_call(c, t, f))
		return false;
	if (!fault_check_uint(c, t, "seed", 0, (uint64_t)FAULT_JSON_INT_MAX, &f->trigger.seed))
		return false;
	if (strcmp(shape_name, "nth") == 0) {
		f->trigger.type = FAULT_TRIGGER_NTH;
		return fault_check_uint(c, t, "nth", 1, (uint64_t)FAULT_JSON_INT_MAX,
					&f->trigger.n);
	}
	if (strcmp(shape_name, "every") == 0) {
		f->trigger.type = FAULT_TRIGGER_EVERY;
		return fault_check_uint(c, t, "every", 1, (uint64_t)FAULT_JSON_INT_MAX,
					&f->trigger.n);
	}
	if (strcmp(shape_name, "probability") == 0) {
		f->trigger.type = FAULT_TRIGGER_PROBABILITY;
		fault_check_push_key(c, "probability");
		if (!cJSON_IsNumber(shape) || !(shape->valuedouble > 0) ||
		    !(shape->valuedouble <= 1))
			return fault_check_fail(c, "must be a number in (0, 1]");
		f->trigger.probability = shape->valuedouble;
		fault_check_pop(c);
		return true;
	}
	if (of) {
		fault_check_push_key(c, "of");
		return fault_check_fail(c, "a %s trigger counts no events", shape_name);
	}
	if (f->kind == FAULT_FAIL_ALLOC || f->kind == FAULT_FAIL_CALL) {
		fault_check_push_key(c, shape_name);
		return fault_check_fail(c,
					"a %s fault is triggered by its nth, every or probability",
					kind_names[f->kind]);
	}
	if (strcmp(shape_name, "cycle") == 0) {
		f->trigger.type = FAULT_TRIGGER_CYCLE;
		f->trigger.event = FAULT_EVENT_CYCLE;
		return fault_check_uint(c, t, "cycle", 0, (uint64_t)FAULT_JSON_INT_MAX,
					&f->trigger.n);
	}
	f->trigger.type = FAULT_TRIGGER_VA_RANGE;
	f->trigger.event = FAULT_EVENT_ACCESS;
	fault_check_push_key(c, "va");
	if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2)
		return fault_check_fail(c, "must be [start, end], GPU virtual addresses");
	for (uint32_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetArrayItem(shape, (int)i);

		fault_check_push_index(c, i);
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		    v->valuedouble < 0 || v->valuedouble > FAULT_JSON_INT_MAX)
			return fault_check_fail(c, "must be a whole number (a GPU VA)");
		if (i == 0)
			f->trigger.va_start = (uint64_t)v->valuedouble;
		else
			f->trigger.va_end = (uint64_t)v->valuedouble;
		fault_check_pop(c);
	}
	if (f->trigger.va_end <= f->trigger.va_start)
		return fault_check_fail(c, "the range [start, end) is empty");
	fault_check_pop(c);
	return true;
}

static bool check_target(struct fault_checker *c, const cJSON *t, struct fault *f)
{
	static const char *const known[] = {"connection", "process", "context", NULL};
	const cJSON *conn;
	uint64_t context = 0;
	bool has_process;

	f->target.type = FAULT_TARGET_ANY;
	if (!t)
		return true;
	fault_check_push_key(c, "target");
	if (!cJSON_IsObject(t))
		return fault_check_fail(c, "must be an object such as {\"connection\": 2}");
	if (!fault_check_only_known(c, t, known))
		return false;
	if (!get_name(c, t, "process", f->target.process, &has_process))
		return false;
	conn = cJSON_GetObjectItemCaseSensitive(t, "connection");
	if (conn && has_process) {
		fault_check_push_key(c, "process");
		return fault_check_fail(c, "a target names a connection or a process, not both");
	}
	if (has_process) {
		f->target.type = FAULT_TARGET_PROCESS;
	} else if (cJSON_IsString(conn) && strcmp(conn->valuestring, "any") == 0) {
		f->target.type = FAULT_TARGET_ANY;
	} else if (conn) {
		f->target.type = FAULT_TARGET_CONNECTION;
		if (!cJSON_IsNumber(conn)) {
			fault_check_push_key(c, "connection");
			return fault_check_fail(
				c, "must be \"any\" or the connection's number (1 is the first)");
		}
		if (!fault_check_uint(c, t, "connection", 1, UINT32_MAX, &f->target.connection))
			return false;
	}
	if (!fault_check_uint(c, t, "context", 1, UINT32_MAX, &context))
		return false;
	f->target.context = (uint32_t)context;
	fault_check_pop(c);
	return true;
}

/* The kind's own members: "cycles" (irq_delay), "call" and "status" (fail_call), "in". */
static bool check_kind_args(struct fault_checker *c, const cJSON *obj, struct fault *f)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	bool present;

	/* A failed allocation is memory running out, unless the plan says otherwise. */
	f->status = f->kind == FAULT_FAIL_ALLOC ? MAGMA_STATUS_MEMORY_ERROR
						: MAGMA_STATUS_INTERNAL_ERROR;
	if (f->kind == FAULT_IRQ_DELAY) {
		f->arg = 0;
		if (!fault_check_uint(c, obj, "cycles", 1, (uint64_t)FAULT_JSON_INT_MAX, &f->arg))
			return false;
		if (!f->arg)
			return fault_check_fail(c,
						"an irq_delay fault needs \"cycles\", the delay");
	} else if (cJSON_GetObjectItemCaseSensitive(obj, "cycles")) {
		fault_check_push_key(c, "cycles");
		return fault_check_fail(c, "only an irq_delay fault takes \"cycles\"");
	}
	if (f->kind == FAULT_FAIL_CALL) {
		if (!get_name(c, obj, "call", f->point, &present))
			return false;
		if (!present)
			return fault_check_fail(
				c, "a fail_call fault needs \"call\", an msd.h entry point");
		if (!is_entry_point(f->point, true)) {
			fault_check_push_key(c, "call");
			return fault_check_fail(
				c, "\"%s\" is not an msd.h entry point that can fail", f->point);
		}
	} else if (cJSON_GetObjectItemCaseSensitive(obj, "call")) {
		fault_check_push_key(c, "call");
		return fault_check_fail(c, "only a fail_call fault takes \"call\"");
	}
	if (f->kind == FAULT_FAIL_ALLOC) {
		snprintf(f->point, sizeof(f->point), "driver");
		if (!get_name(c, obj, "in", f->point, NULL))
			return false;
		if (strcmp(f->point, "driver") && strcmp(f->point, "service")) {
			fault_check_push_key(c, "in");
			return fault_check_fail(c, "must be \"driver\" or \"service\"");
		}
	} else if (cJSON_GetObjectItemCaseSensitive(obj, "in")) {
		fault_check_push_key(c, "in");
		return fault_check_fail(c, "only a fail_alloc fault takes \"in\"");
	}
	if (!status)
		return true;
	fault_check_push_key(c, "status");
	if (f->kind != FAULT_FAIL_CALL && f->kind != FAULT_FAIL_ALLOC)
		return fault_check_fail(c, "only fail_call and fail_alloc faults take \"status\"");
	if (!cJSON_IsString(status))
		return fault_check_fail(c, "must be a status name such as \"MEMORY_ERROR\"");
	for (int32_t st = MAGMA_STATUS_INTERNAL_ERROR; plan_status(st); st--) {
		if (strcmp(status->valuestring, magma_status_name(st)) == 0) {
			f->status = st;
			fault_check_pop(c);
			return true;
		}
	}
	return fault_check_fail(
		c, "\"%s\" is not a magma status name (INTERNAL_ERROR, MEMORY_ERROR, ...)",
		status->valuestring);
}

static bool check_fault(struct fault_checker *c, const cJSON *obj, uint32_t index, uint64_t seed,
			struct fault *f)
{
	static const char *const known[] = {"name",   "kind", "trigger", "target", "times",
					    "cycles", "call", "status",	 "in",	   NULL};
	const cJSON *kind, *trigger;
	uint64_t times = 1;

	if (!cJSON_IsObject(obj))
		return fault_check_fail(c, "must be an object with \"kind\" and \"trigger\"");
	if (!fault_check_only_known(c, obj, known))
		return false;
	snprintf(f->name, sizeof(f->name), "fault%u", index);
	if (!get_name(c, obj, "name", f->name, NULL))
		return false;
	kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	if (!kind)
		return fault_check_fail(c, "needs \"kind\"");
	fault_check_push_key(c, "kind");
	if (!cJSON_IsString(kind))
		return fault_check_fail(c, "must be a string");
	if (!fault_kind_from_name(kind->valuestring, &f->kind))
		return fault_check_fail(c,
					"\"%s\" is not a fault kind (see docs/fault-injection.md)",
					kind->valuestring);
	fault_check_pop(c);
	trigger = cJSON_GetObjectItemCaseSensitive(obj, "trigger");
	if (!trigger)
		return fault_check_fail(c, "needs \"trigger\"");
	fault_check_push_key(c, "trigger");
	if (!check_trigger(c, trigger, f, seed))
		return false;
	fault_check_pop(c);
	if (!check_target(c, cJSON_GetObjectItemCaseSensitive(obj, "target"), f))
		return false;
	if (!fault_check_uint(c, obj, "times", 0, UINT32_MAX, &times))
		return false;
	f->times = (uint32_t)times;
	if (!check_kind_args(c, obj, f))
		return false;
	f->line = fault_json_locate(c->text, c->len, &c->path);
	return true;
}

static bool check_plan(struct fault_checker *c, const cJSON *root, struct fault_plan *plan)
{
	static const char *const known[] = {"version", "name", "seed", "faults", NULL};
	const cJSON *faults, *f;
	uint64_t version = FAULT_PLAN_VERSION;
	uint32_t i = 0;

	if (!cJSON_IsObject(root))
		return fault_check_fail(c, "a plan is a JSON object with \"faults\"");
	if (!fault_check_only_known(c, root, known))
		return false;
	if (!fault_check_uint(c, root, "version", 0, UINT32_MAX, &version))
		return false;
	if (version != FAULT_PLAN_VERSION) {
		fault_check_push_key(c, "version");
		return fault_check_fail(c, "version %" PRIu64 " is not supported (this reads %d)",
					version, FAULT_PLAN_VERSION);
	}
	if (!get_name(c, root, "name", plan->name, NULL) ||
	    !fault_check_uint(c, root, "seed", 0, (uint64_t)FAULT_JSON_INT_MAX, &plan->seed))
		return false;
	faults = cJSON_GetObjectItemCaseSensitive(root, "faults");
	if (!faults)
		return fault_check_fail(c, "needs \"faults\", a list of faults");
	fault_check_push_key(c, "faults");
	if (!cJSON_IsArray(faults))
		return fault_check_fail(c, "must be a list");
	if (cJSON_GetArraySize(faults) == 0 || cJSON_GetArraySize(faults) > FAULT_PLAN_MAX_FAULTS)
		return fault_check_fail(c, "must list 1 to %d faults", FAULT_PLAN_MAX_FAULTS);
	plan->fault_count = (uint32_t)cJSON_GetArraySize(faults);
	plan->faults = calloc(plan->fault_count, sizeof(*plan->faults));
	if (!plan->faults)
		return fault_check_fail(c, "out of memory");
	cJSON_ArrayForEach(f, faults)
	{
		fault_check_push_index(c, i);
		if (!check_fault(c, f, i, plan->seed, &plan->faults[i]))
			return false;
		fault_check_pop(c);
		i++;
	}
	return true;
}

/* The 1-based line of byte @off of @text. */
static uint32_t line_of(const char *text, size_t off)
{
	uint32_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

/* fault_plan_parse - see fault_plan.h. */
struct fault_plan *fault_plan_parse(const char *text, size_t len, const char *file,
				    char error[FAULT_ERROR_MAX])
{
	struct fault_checker c = {.text = text,
				  .len = len,
				  .file = file,
				  .error = error,
				  .error_size = FAULT_ERROR_MAX,
				  .root_name = "plan",
				  .doc = "docs/fault-injection.md"};
	const char *end = NULL;
	struct fault_plan *plan;
	cJSON *root;

	error[0] = '\0';
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;

		snprintf(error, FAULT_ERROR_MAX, "%s:%u: not valid JSON near byte %zu", file,
			 line_of(text, off), off);
		return NULL;
	}
	plan = calloc(1, sizeof(*plan));
	if (!plan) {
		snprintf(error, FAULT_ERROR_MAX, "%s: out of memory", file);
		cJSON_Delete(root);
		return NULL;
	}
	if (!check_plan(&c, root, plan)) {
		fault_plan_destroy(plan);
		plan = NULL;
	}
	cJSON_Delete(root);
	return plan;
}

/* fault_plan_load - see fault_plan.h. */
struct fault_plan *fault_plan_load(const char *path, char error[FAULT_ERROR_MAX])
{
	struct fault_plan *plan = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		snprintf(error, FAULT_ERROR_MAX, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(FAULT_PLAN_MAX_FILE + 1);
	if (!text) {
		snprintf(error, FAULT_ERROR_MAX, "%s: out of memory", path);
		goto out_close;
	}
	len = fread(text, 1, FAULT_PLAN_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(error, FAULT_ERROR_MAX, "%s: read error", path);
		goto out_free;
	}
	if (len > FAULT_PLAN_MAX_FILE) {
		snprintf(error, FAULT_ERROR_MAX, "%s: larger than %u bytes: not a plan", path,
			 FAULT_PLAN_MAX_FILE);
		goto out_free;
	}
	plan = fault_plan_parse(text, len, path, error);
out_free:
	free(text);
out_close:
	fclose(f);
	return plan;
}

/* fault_plan_destroy - see fault_plan.h. */
void fault_plan_destroy(struct fault_plan *plan)
{
	if (!plan)
		return;
	free(plan->faults);
	free(plan);
}

/* SPDX-License-Identifier: MIT */
/*
 * campaign_spec.c - reading a campaign file and generating the plan of each of its points
 * (docs/fault-campaigns.md has the format).
 *
 * The reader works as the fault-plan reader does (faults/fault_plan.c): cJSON parses the text,
 * then a walk checks every member - types, ranges, no unknown member - keeping the path it is
 * at, so the first problem is reported as "FILE:LINE: sweeps[2].points: ..." with the line
 * found by fault_json_locate. What makes a good fault is not decided here: every point's plan is
 * generated and handed to fault_plan_parse and fault_plan_check_device, and a refusal is
 * reported against the campaign member that produced the refused plan field (a trigger problem
 * against the sweep's "stage", a target problem against "target").
 *
 * Pure apart from campaign_load's file read; any thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "campaign_spec.h"
#include "fault_internal.h"

#define CAMPAIGN_MAX_FILE      (1u << 20)
#define CAMPAIGN_PLAN_TEXT_MAX 4096

static const char *const stage_names[CAMPAIGN_STAGE_COUNT] = {
	[CAMPAIGN_STAGE_SUBMISSION] = "submission", [CAMPAIGN_STAGE_ACCESS] = "access",
	[CAMPAIGN_STAGE_MAPPING] = "mapping",	    [CAMPAIGN_STAGE_CALL] = "call",
	[CAMPAIGN_STAGE_ALLOC] = "alloc",	    [CAMPAIGN_STAGE_CYCLE] = "cycle",
	[CAMPAIGN_STAGE_RESET] = "reset",
};

/* The members of a sweep that are the kind's own, passed through to the plan as they are. */
static const char *const kind_arg_names[] = {"cycles", "call", "status", "in", NULL};

/* Required or optional string member @key of @obj; *@out points into the tree. */
static bool get_string(struct fault_checker *c, const cJSON *obj, const char *key, bool required,
		       const char **out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!m) {
		if (!required)
			return true;
		fault_check_push_key(c, key);
		return fault_check_fail(c, "is required");
	}
	fault_check_push_key(c, key);
	if (!cJSON_IsString(m))
		return fault_check_fail(c, "must be a string");
	*out = m->valuestring;
	fault_check_pop(c);
	return true;
}

static bool check_head(struct fault_checker *c, const cJSON *root, struct campaign *campaign)
{
	static const char *const known[] = {"version", "name",	 "seed", "target",
					    "witness", "sweeps", NULL};
	uint64_t version = FAULT_PLAN_VERSION;
	const cJSON *witness;
	const char *name;

	if (!cJSON_IsObject(root))
		return fault_check_fail(c, "must be an object with \"sweeps\"");
	if (!fault_check_only_known(c, root, known))
		return false;
	if (!fault_check_uint(c, root, "version", 1, 1, &version))
		return false;
	if (!get_string(c, root, "name", false, &name))
		return false;
	if (name) {
		fault_check_push_key(c, "name");
		if (!name[0] || strlen(name) >= FAULT_NAME_MAX)
			return fault_check_fail(c, "must be 1 to %d characters",
						FAULT_NAME_MAX - 1);
		fault_check_pop(c);
		snprintf(campaign->name, sizeof(campaign->name), "%s", name);
	}
	if (!fault_check_uint(c, root, "seed", 0, (uint64_t)FAULT_JSON_INT_MAX, &campaign->seed))
		return false;
	witness = cJSON_GetObjectItemCaseSensitive(root, "witness");
	campaign->witness = true;
	if (witness) {
		fault_check_push_key(c, "witness");
		if (!cJSON_IsBool(witness))
			return fault_check_fail(c, "must be true or false");
		campaign->witness = cJSON_IsTrue(witness);
		fault_check_pop(c);
	}
	return true;
}

/* The target of every point: the file's (an object, checked by the plan reader) or the comm. */
static bool check_target(struct fault_checker *c, const cJSON *root, const char *default_comm,
			 struct campaign *campaign)
{
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(root, "target");
	const cJSON *process;
	cJSON *made;

	if (!target) {
		made = cJSON_CreateObject();
		if (!made || !cJSON_AddStringToObject(made, "process", default_comm)) {
			cJSON_Delete(made);
			return fault_check_fail(c, "out of memory");
		}
		campaign->target_json = cJSON_PrintUnformatted(made);
		cJSON_Delete(made);
		return campaign->target_json ? true : fault_check_fail(c, "out of memory");
	}
	fault_check_push_key(c, "target");
	if (!cJSON_IsObject(target))
		return fault_check_fail(
			c, "must be a fault-plan target such as {\"process\": \"vkcube\"}");
	process = cJSON_GetObjectItemCaseSensitive(target, "process");
	if (cJSON_IsString(process) && strcmp(process->valuestring, CAMPAIGN_WITNESS_COMM) == 0) {
		fault_check_push_key(c, "process");
		return fault_check_fail(c, "the witness (\"%s\") is never the target",
					CAMPAIGN_WITNESS_COMM);
	}
	campaign->target_json = cJSON_PrintUnformatted(target);
	if (!campaign->target_json)
		return fault_check_fail(c, "out of memory");
	fault_check_pop(c);
	return true;
}

/*
 * The kind's own members of @sweep_obj as JSON members text, each with a leading comma
 * (",\"cycles\":5000"), into s->kind_args ("" when there are none): printed once from a copy.
 */
static bool copy_kind_args(struct fault_checker *c, const cJSON *sweep_obj,
			   struct campaign_sweep *s)
{
	cJSON *args = cJSON_CreateObject();
	char *text;
	size_t len;

	for (const char *const *k = kind_arg_names; args && *k; k++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(sweep_obj, *k);

		if (m && !cJSON_AddItemToObject(args, *k, cJSON_Duplicate(m, true))) {
			cJSON_Delete(args);
			args = NULL;
		}
	}
	text = args ? cJSON_PrintUnformatted(args) : NULL;
	cJSON_Delete(args);
	if (!text)
		return fault_check_fail(c, "out of memory");
	/* "{...}" -> ",..." ("{}" -> "") */
	len = strlen(text);
	text[len > 2 ? len - 1 : 0] = '\0';
	if (len > 2)
		text[0] = ',';
	s->kind_args = text;
	return true;
}

static bool check_sweep(struct fault_checker *c, const cJSON *obj, struct campaign_sweep *s)
{
	static const char *const known[] = {"kind",   "stage", "points", "first", "from", "step",
					    "cycles", "call",  "status", "in",	  NULL};
	const char *kind, *stage;
	uint64_t points = 0;
	int i;

	if (!cJSON_IsObject(obj))
		return fault_check_fail(
			c, "must be an object such as {\"kind\": \"mmu_fault\", \"stage\": "
			   "\"submission\", \"points\": 4}");
	if (!fault_check_only_known(c, obj, known))
		return false;
	if (!get_string(c, obj, "kind", true, &kind))
		return false;
	if (!fault_kind_from_name(kind, &s->kind)) {
		fault_check_push_key(c, "kind");
		return fault_check_fail(
			c, "\"%s\" is not a fault kind (see docs/fault-injection.md)", kind);
	}
	if (!get_string(c, obj, "stage", true, &stage))
		return false;
	for (i = 0; i < CAMPAIGN_STAGE_COUNT; i++) {
		if (strcmp(stage, stage_names[i]) == 0)
			break;
	}
	if (i == CAMPAIGN_STAGE_COUNT) {
		fault_check_push_key(c, "stage");
		return fault_check_fail(
			c,
			"\"%s\" is not a stage (submission, access, mapping, call, alloc, "
			"cycle, reset)",
			stage);
	}
	s->stage = (enum campaign_stage)i;
	if (!cJSON_GetObjectItemCaseSensitive(obj, "points")) {
		fault_check_push_key(c, "points");
		return fault_check_fail(c, "is required (1 to %d)", CAMPAIGN_MAX_SWEEP_POINTS);
	}
	if (!fault_check_uint(c, obj, "points", 1, CAMPAIGN_MAX_SWEEP_POINTS, &points))
		return false;
	s->points = (uint32_t)points;
	s->from = 0;
	s->step = 10000;
	for (const char *const *k = (const char *const[]){"from", "step", NULL}; *k; k++) {
		if (s->stage != CAMPAIGN_STAGE_CYCLE && cJSON_GetObjectItemCaseSensitive(obj, *k)) {
			fault_check_push_key(c, *k);
			return fault_check_fail(c, "only a \"cycle\" stage takes \"%s\"", *k);
		}
	}
	s->first = 1;
	if (s->stage == CAMPAIGN_STAGE_CYCLE && cJSON_GetObjectItemCaseSensitive(obj, "first")) {
		fault_check_push_key(c, "first");
		return fault_check_fail(c, "a \"cycle\" stage starts at \"from\", not \"first\"");
	}
	if (!fault_check_uint(c, obj, "first", 1, (uint64_t)FAULT_JSON_INT_MAX / 2, &s->first))
		return false;
	if (!fault_check_uint(c, obj, "from", 0, (uint64_t)FAULT_JSON_INT_MAX, &s->from) ||
	    !fault_check_uint(c, obj, "step", 1, (uint64_t)FAULT_JSON_INT_MAX, &s->step))
		return false;
	if (s->from + (uint64_t)(s->points - 1) * s->step > (uint64_t)FAULT_JSON_INT_MAX) {
		fault_check_push_key(c, "step");
		return fault_check_fail(c, "the last point's cycle is past 2^53");
	}
	return copy_kind_args(c, obj, s);
}

static bool check_sweeps(struct fault_checker *c, const cJSON *root, struct campaign *campaign)
{
	const cJSON *sweeps = cJSON_GetObjectItemCaseSensitive(root, "sweeps");
	uint32_t count, id = 1;

	fault_check_push_key(c, "sweeps");
	if (!sweeps)
		return fault_check_fail(c, "is required: 1 to %d sweeps", CAMPAIGN_MAX_SWEEPS);
	if (!cJSON_IsArray(sweeps))
		return fault_check_fail(c, "must be an array of sweeps");
	count = (uint32_t)cJSON_GetArraySize(sweeps);
	if (count < 1 || count > CAMPAIGN_MAX_SWEEPS)
		return fault_check_fail(c, "must hold 1 to %d sweeps, not %u", CAMPAIGN_MAX_SWEEPS,
					count);
	campaign->sweeps = calloc(count, sizeof(*campaign->sweeps));
	if (!campaign->sweeps)
		return fault_check_fail(c, "out of memory");
	for (uint32_t i = 0; i < count; i++) {
		struct campaign_sweep *s = &campaign->sweeps[i];

		fault_check_push_index(c, i);
		s->line = fault_json_locate(c->text, c->len, &c->path);
		campaign->sweep_count = i + 1;
		if (!check_sweep(c, cJSON_GetArrayItem(sweeps, (int)i), s))
			return false;
		s->first_point = id;
		id += s->points;
		fault_check_pop(c);
	}
	campaign->point_count = id - 1;
	fault_check_pop(c);
	return true;
}

/*
 * Reports a generated plan's refusal (@plan_error, "plan:LINE: FIELD: message") against the
 * campaign member that produced FIELD: the sweep's stage for the trigger, its kind, its kind
 * arguments, or the campaign's target or seed.
 */
static bool fail_plan(struct fault_checker *c, uint32_t sweep, uint32_t id, const char *plan_error)
{
	const char *field = strchr(plan_error, ':'), *message;
	char name[64] = "";

	if (field)
		field = strchr(field + 1, ':');
	field = field ? field + 2 : plan_error;
	message = strstr(field, ": ");
	if (message)
		snprintf(name, sizeof(name), "%.*s", (int)(message - field), field);
	message = message ? message + 2 : field;
	if (strncmp(name, "faults[0].", 10) == 0)
		memmove(name, name + 10, strlen(name + 10) + 1);
	if (strncmp(name, "target", 6) == 0 || strcmp(name, "seed") == 0) {
		fault_check_push_key(c, name[0] == 't' ? "target" : "seed");
	} else if (strcmp(name, "faults[0]") == 0 || !name[0]) {
		fault_check_push_key(c, "sweeps"); /* the fault as a whole: the sweep */
		fault_check_push_index(c, sweep);
	} else {
		const char *member = "stage";

		if (strcmp(name, "kind") == 0)
			member = "kind";
		for (const char *const *k = kind_arg_names; *k; k++) {
			if (strcmp(name, *k) == 0)
				member = *k;
		}
		fault_check_push_key(c, "sweeps");
		fault_check_push_index(c, sweep);
		fault_check_push_key(c, member);
	}
	return fault_check_fail(c, "%s (the plan of point %u, field %s)", message, id,
				name[0] ? name : "plan");
}

/* Generates and checks the plan of every point, as a device would load it. */
static bool check_points(struct fault_checker *c, const struct campaign *campaign)
{
	for (uint32_t s = 0; s < campaign->sweep_count; s++) {
		const struct campaign_sweep *sweep = &campaign->sweeps[s];

		for (uint32_t n = 1; n <= sweep->points; n++) {
			uint32_t id = sweep->first_point + n - 1;
			char plan_error[FAULT_ERROR_MAX];
			char *text = campaign_point_plan(campaign, id);
			struct fault_plan *plan;
			bool ok;

			if (!text)
				return fault_check_fail(c, "out of memory");
			plan = fault_plan_parse(text, strlen(text), "plan", plan_error);
			free(text);
			ok = plan && fault_plan_check_device(plan, "plan", plan_error);
			fault_plan_destroy(plan);
			if (!ok)
				return fail_plan(c, s, id, plan_error);
		}
	}
	return true;
}

struct campaign *campaign_parse(const char *text, size_t len, const char *file,
				const char *default_comm, char error[CAMPAIGN_ERROR_MAX])
{
	struct fault_checker c = {.text = text,
				  .len = len,
				  .file = file,
				  .error = error,
				  .error_size = CAMPAIGN_ERROR_MAX,
				  .root_name = "campaign",
				  .doc = "docs/fault-campaigns.md"};
	struct campaign *campaign;
	cJSON *root;

	error[0] = '\0';
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		size_t offset = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
		uint32_t line = 1;

		for (size_t i = 0; i < offset; i++)
			line += text[i] == '\n';
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s:%u: not valid JSON near byte %zu", file,
			 line, offset);
		return NULL;
	}
	campaign = calloc(1, sizeof(*campaign));
	if (!campaign) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: out of memory", file);
		goto err_root;
	}
	campaign->path = strdup(file);
	campaign->digest = campaign_fnv1a(text, len);
	if (!campaign->path) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: out of memory", file);
		goto err_campaign;
	}
	if (!check_head(&c, root, campaign) || !check_target(&c, root, default_comm, campaign) ||
	    !check_sweeps(&c, root, campaign) || !check_points(&c, campaign))
		goto err_campaign;
	cJSON_Delete(root);
	return campaign;

err_campaign:
	campaign_destroy(campaign);
err_root:
	cJSON_Delete(root);
	return NULL;
}

struct campaign *campaign_load(const char *path, const char *default_comm,
			       char error[CAMPAIGN_ERROR_MAX])
{
	struct campaign *campaign = NULL;
	FILE *f = fopen(path, "rb");
	char *text;
	size_t len;

	if (!f) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(CAMPAIGN_MAX_FILE + 1);
	if (!text) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: out of memory", path);
		goto out_file;
	}
	len = fread(text, 1, CAMPAIGN_MAX_FILE + 1, f);
	if (ferror(f))
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: read error", path);
	else if (len > CAMPAIGN_MAX_FILE)
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: larger than %u bytes", path,
			 CAMPAIGN_MAX_FILE);
	else
		campaign = campaign_parse(text, len, path, default_comm, error);
	free(text);
out_file:
	fclose(f);
	return campaign;
}

void campaign_destroy(struct campaign *campaign)
{
	if (!campaign)
		return;
	for (uint32_t i = 0; i < campaign->sweep_count; i++)
		free(campaign->sweeps[i].kind_args);
	free(campaign->sweeps);
	free(campaign->target_json);
	free(campaign->path);
	free(campaign);
}

bool campaign_point_find(const struct campaign *campaign, uint32_t id, uint32_t *sweep_out,
			 uint32_t *n_out)
{
	for (uint32_t s = 0; s < campaign->sweep_count; s++) {
		const struct campaign_sweep *sweep = &campaign->sweeps[s];

		if (id >= sweep->first_point && id < sweep->first_point + sweep->points) {
			*sweep_out = s;
			*n_out = id - sweep->first_point + 1;
			return true;
		}
	}
	return false;
}

/* The trigger of point @n of @sweep, as JSON text, into @out. */
static void point_trigger(const struct campaign_sweep *sweep, uint32_t n, char *out, size_t size)
{
	uint64_t nth = sweep->first + n - 1;

	switch (sweep->stage) {
	case CAMPAIGN_STAGE_SUBMISSION:
	case CAMPAIGN_STAGE_ACCESS:
	case CAMPAIGN_STAGE_CALL:
	case CAMPAIGN_STAGE_ALLOC:
	case CAMPAIGN_STAGE_RESET:
		snprintf(out, size, "{\"nth\":%" PRIu64 ",\"of\":\"%s\"}", nth,
			 stage_names[sweep->stage]);
		break;
	case CAMPAIGN_STAGE_MAPPING:
		snprintf(out, size,
			 "{\"nth\":%" PRIu64
			 ",\"of\":\"call\",\"call\":\"msd_connection_map_buffer\"}",
			 nth);
		break;
	default:
		snprintf(out, size, "{\"cycle\":%" PRIu64 "}",
			 sweep->from + (uint64_t)(n - 1) * sweep->step);
		break;
	}
}

char *campaign_point_plan(const struct campaign *campaign, uint32_t id)
{
	const struct campaign_sweep *sweep;
	char trigger[160];
	uint32_t s, n;
	size_t size;
	char *text;

	if (!campaign_point_find(campaign, id, &s, &n))
		return NULL;
	sweep = &campaign->sweeps[s];
	point_trigger(sweep, n, trigger, sizeof(trigger));
	size = strlen(campaign->target_json) + strlen(sweep->kind_args) + strlen(trigger) + 256;
	text = malloc(size);
	if (!text)
		return NULL;
	snprintf(text, size,
		 "{\"version\":1,\"name\":\"point %u\",\"seed\":%" PRIu64 ",\"faults\":[{"
		 "\"name\":\"point %u\",\"kind\":\"%s\",\"trigger\":%s,\"target\":%s%s}]}\n",
		 id, campaign->seed, id, fault_kind_name(sweep->kind), trigger,
		 campaign->target_json, sweep->kind_args);
	return text;
}

const char *campaign_stage_name(enum campaign_stage stage)
{
	return (unsigned)stage < CAMPAIGN_STAGE_COUNT ? stage_names[stage] : "?";
}

void campaign_comm_of(const char *argv0, char out[CAMPAIGN_COMM_MAX])
{
	const char *slash = strrchr(argv0, '/');

	snprintf(out, CAMPAIGN_COMM_MAX, "%s", slash ? slash + 1 : argv0);
}

uint64_t campaign_fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t hash = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

bool campaign_shard_has(uint32_t id, uint32_t index, uint32_t count)
{
	return count == 0 || (id - 1) % count == index;
}

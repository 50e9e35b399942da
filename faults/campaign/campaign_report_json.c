/* SPDX-License-Identifier: MIT */
/*
 * campaign_report_json.c - a campaign report as JSON and back (the format is documented in
 * docs/fault-campaigns.md "The JSON report"; magma-view reads it too).
 *
 * The writer puts down everything the terminal table shows and what it is computed from: every
 * point with its plan, each check's result and reason, its times and the command that
 * reproduces it, plus the matrix. The reader takes back what a merge needs (the matrix is always
 * recomputed) and refuses a document that is not a report, naming the file and the member. One
 * thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "campaign_report.h"
#include "campaign_stats.h"

#define CAMPAIGN_REPORT_FORMAT	 "magma-campaign-report"
#define CAMPAIGN_REPORT_MAX_FILE (256u << 20)

/* Adds @value as a number, or null when !@has. */
static void add_maybe(cJSON *obj, const char *key, bool has, double value)
{
	if (has)
		cJSON_AddNumberToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

static void add_status(cJSON *obj, int status)
{
	add_maybe(obj, "command_exit", status >= 0 && WIFEXITED(status), WEXITSTATUS(status));
	add_maybe(obj, "command_signal", status >= 0 && WIFSIGNALED(status), WTERMSIG(status));
}

static cJSON *spread_json(const struct campaign_spread *s)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddNumberToObject(obj, "count", s->count);
	add_maybe(obj, "p50", s->count, s->p50);
	add_maybe(obj, "p99", s->count, s->p99);
	return obj;
}

static cJSON *point_json(const struct campaign_point_result *r)
{
	const struct campaign_times *t = &r->verdict.times;
	cJSON *obj = cJSON_CreateObject(), *checks, *times, *plan;

	cJSON_AddNumberToObject(obj, "id", r->id);
	cJSON_AddStringToObject(obj, "kind", r->kind);
	cJSON_AddStringToObject(obj, "stage", r->stage);
	cJSON_AddNumberToObject(obj, "n", r->n);
	plan = r->plan ? cJSON_Parse(r->plan) : NULL;
	cJSON_AddItemToObject(obj, "plan", plan ? plan : cJSON_CreateNull());
	cJSON_AddStringToObject(obj, "outcome", campaign_outcome_name(r->verdict.outcome));
	checks = cJSON_AddObjectToObject(obj, "checks");
	for (int c = 0; c < CAMPAIGN_CHECK_COUNT; c++) {
		cJSON *check = cJSON_AddObjectToObject(checks,
						       campaign_check_name((enum campaign_check)c));

		cJSON_AddStringToObject(check, "result",
					campaign_result_name(r->verdict.checks[c].result));
		cJSON_AddStringToObject(check, "reason", r->verdict.checks[c].reason);
	}
	times = cJSON_AddObjectToObject(obj, "times");
	add_maybe(times, "fired_cycle", t->has_fired, (double)t->fired_cycle);
	add_maybe(times, "applied_cycle", t->has_applied, (double)t->applied_cycle);
	add_maybe(times, "detect_cycles", t->has_detect, (double)t->detect_cycles);
	add_maybe(times, "detect_ms", t->has_detect, t->detect_ms);
	add_maybe(times, "recover_cycles", t->has_recover, (double)t->recover_cycles);
	add_maybe(times, "recover_ms", t->has_recover, t->recover_ms);
	add_status(obj, r->command_status);
	cJSON_AddNumberToObject(obj, "seconds", r->seconds);
	cJSON_AddStringToObject(obj, "repro", r->repro ? r->repro : "");
	if (r->kept)
		cJSON_AddStringToObject(obj, "kept", r->kept);
	else
		cJSON_AddNullToObject(obj, "kept");
	return obj;
}

static cJSON *matrix_json(const struct campaign_report *report)
{
	struct campaign_matrix m;
	cJSON *obj, *rows, *totals;

	if (campaign_matrix_build(report, &m))
		return NULL;
	obj = cJSON_CreateObject();
	rows = cJSON_AddArrayToObject(obj, "rows");
	for (uint32_t i = 0; i < m.row_count; i++) {
		const struct campaign_row *row = &m.rows[i];
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "kind", row->kind);
		cJSON_AddStringToObject(r, "stage", row->stage);
		cJSON_AddNumberToObject(r, "points", row->points);
		cJSON_AddNumberToObject(r, "pass", row->pass);
		cJSON_AddNumberToObject(r, "fail", row->fail);
		cJSON_AddNumberToObject(r, "not_reached", row->not_reached);
		cJSON_AddItemToObject(r, "detect_cycles", spread_json(&row->detect_cycles));
		cJSON_AddItemToObject(r, "detect_ms", spread_json(&row->detect_ms));
		cJSON_AddItemToObject(r, "recover_cycles", spread_json(&row->recover_cycles));
		cJSON_AddItemToObject(r, "recover_ms", spread_json(&row->recover_ms));
		cJSON_AddItemToArray(rows, r);
	}
	totals = cJSON_AddObjectToObject(obj, "totals");
	cJSON_AddNumberToObject(totals, "points", m.points);
	cJSON_AddNumberToObject(totals, "pass", m.pass);
	cJSON_AddNumberToObject(totals, "fail", m.fail);
	cJSON_AddNumberToObject(totals, "not_reached", m.not_reached);
	campaign_matrix_fini(&m);
	return obj;
}

cJSON *campaign_report_to_json(const struct campaign_report *report)
{
	const struct campaign_baseline *b = &report->baseline;
	cJSON *root = cJSON_CreateObject(), *campaign, *sweeps, *command, *shard, *host, *base;
	cJSON *points, *matrix;
	char digest[24];

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", CAMPAIGN_REPORT_FORMAT);
	cJSON_AddNumberToObject(root, "version", CAMPAIGN_REPORT_VERSION);
	campaign = cJSON_AddObjectToObject(root, "campaign");
	cJSON_AddStringToObject(campaign, "name", report->name);
	cJSON_AddStringToObject(campaign, "file", report->file);
	snprintf(digest, sizeof(digest), "%016" PRIx64, report->digest);
	cJSON_AddStringToObject(campaign, "digest", digest);
	cJSON_AddNumberToObject(campaign, "points", report->point_count);
	cJSON_AddBoolToObject(campaign, "witness", report->witness);
	sweeps = cJSON_AddArrayToObject(campaign, "sweeps");
	for (uint32_t i = 0; i < report->sweep_count; i++) {
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "kind", report->sweeps[i].kind);
		cJSON_AddStringToObject(s, "stage", report->sweeps[i].stage);
		cJSON_AddNumberToObject(s, "points", report->sweeps[i].points);
		cJSON_AddNumberToObject(s, "first_point", report->sweeps[i].first_point);
		cJSON_AddItemToArray(sweeps, s);
	}
	command = cJSON_AddArrayToObject(root, "command");
	for (int i = 0; i < report->argc; i++)
		cJSON_AddItemToArray(command, cJSON_CreateString(report->argv[i]));
	shard = cJSON_AddObjectToObject(root, "shard");
	cJSON_AddNumberToObject(shard, "index", report->shard_index);
	cJSON_AddNumberToObject(shard, "count", report->shard_count);
	host = cJSON_AddObjectToObject(root, "host");
	cJSON_AddStringToObject(host, "machine", report->host.machine);
	cJSON_AddStringToObject(host, "cpu", report->host.cpu);
	cJSON_AddNumberToObject(host, "cores", report->host.cores);
	base = cJSON_AddObjectToObject(root, "baseline");
	cJSON_AddBoolToObject(base, "ok", b->ok);
	cJSON_AddStringToObject(base, "error", b->error);
	cJSON_AddStringToObject(base, "digest", b->digest);
	cJSON_AddNumberToObject(base, "witness_rounds", b->witness_rounds);
	cJSON_AddNumberToObject(base, "fds_before", (double)b->fds_before);
	cJSON_AddNumberToObject(base, "fds_after", (double)b->fds_after);
	cJSON_AddNumberToObject(base, "connections", (double)b->connections);
	add_status(base, b->command_status);
	cJSON_AddNumberToObject(base, "seconds", b->seconds);
	cJSON_AddNumberToObject(root, "elapsed_s", report->elapsed_s);
	add_maybe(root, "points_per_s", report->elapsed_s > 0,
		  report->elapsed_s > 0 ? report->result_count / report->elapsed_s : 0);
	points = cJSON_AddArrayToObject(root, "points");
	for (uint32_t i = 0; i < report->result_count; i++)
		cJSON_AddItemToArray(points, point_json(&report->results[i]));
	matrix = matrix_json(report);
	if (!matrix) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddItemToObject(root, "matrix", matrix);
	return root;
}

int campaign_report_write(const struct campaign_report *report, const char *path,
			  char error[CAMPAIGN_ERROR_MAX])
{
	cJSON *root = campaign_report_to_json(report);
	char *text = root ? cJSON_Print(root) : NULL;
	FILE *f;
	int ret = -1;

	cJSON_Delete(root);
	if (!text) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: out of memory", path);
		return -1;
	}
	f = fopen(path, "w");
	if (!f) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: %s", path, strerror(errno));
		goto out_text;
	}
	if (fputs(text, f) < 0 || fputc('\n', f) < 0)
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: write error", path);
	else
		ret = 0;
	if (fclose(f) && ret == 0) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: %s", path, strerror(errno));
		ret = -1;
	}
out_text:
	free(text);
	return ret;
}

/* The reader: fails with "FILE: MEMBER: what is wrong". */
struct reader {
	const char *file;
	char *error;
};

static bool bad(struct reader *rd, const char *member, const char *what)
{
	snprintf(rd->error, CAMPAIGN_ERROR_MAX, "%s: %s: %s", rd->file, member, what);
	return false;
}

static bool read_string(struct reader *rd, const cJSON *obj, const char *key, char *out,
			size_t size)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(m))
		return bad(rd, key, "must be a string");
	snprintf(out, size, "%s", m->valuestring);
	return true;
}

static bool read_number(struct reader *rd, const cJSON *obj, const char *key, double *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(m))
		return bad(rd, key, "must be a number");
	*out = m->valuedouble;
	return true;
}

/* A number or null: *@has says which. */
static void read_maybe(const cJSON *obj, const char *key, bool *has, double *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

	*has = cJSON_IsNumber(m);
	*out = *has ? m->valuedouble : 0;
}

static int read_status(const cJSON *obj)
{
	bool has;
	double v;

	read_maybe(obj, "command_exit", &has, &v);
	if (has)
		return ((int)v & 0xff) << 8;
	read_maybe(obj, "command_signal", &has, &v);
	return has ? (int)v & 0x7f : -1;
}

static bool read_point(struct reader *rd, const cJSON *obj, struct campaign_point_result *r)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(obj, "checks");
	const cJSON *times = cJSON_GetObjectItemCaseSensitive(obj, "times");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(obj, "plan");
	const cJSON *m;
	struct campaign_times *t = &r->verdict.times;
	char word[CAMPAIGN_REASON_MAX];
	bool has_seconds;
	double v;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(obj))
		return bad(rd, "points[]", "must be an object");
	if (!read_number(rd, obj, "id", &v))
		return false;
	r->id = (uint32_t)v;
	if (!read_number(rd, obj, "n", &v))
		return false;
	r->n = (uint32_t)v;
	if (!read_string(rd, obj, "kind", r->kind, sizeof(r->kind)) ||
	    !read_string(rd, obj, "stage", r->stage, sizeof(r->stage)) ||
	    !read_string(rd, obj, "outcome", word, sizeof(word)))
		return false;
	for (r->verdict.outcome = 0; r->verdict.outcome < CAMPAIGN_OUTCOME_COUNT;
	     r->verdict.outcome++) {
		if (!strcmp(word, campaign_outcome_name(r->verdict.outcome)))
			break;
	}
	if (r->verdict.outcome == CAMPAIGN_OUTCOME_COUNT)
		return bad(rd, "outcome", "must be \"pass\", \"fail\" or \"not reached\"");
	if (!cJSON_IsObject(checks) || !cJSON_IsObject(times))
		return bad(rd, "checks", "a point needs \"checks\" and \"times\" objects");
	for (int c = 0; c < CAMPAIGN_CHECK_COUNT; c++) {
		const cJSON *check =
			cJSON_GetObjectItemCaseSensitive(checks, campaign_check_name(c));
		struct campaign_check_verdict *cv = &r->verdict.checks[c];

		if (!check)
			continue;
		if (!read_string(rd, check, "result", word, sizeof(word)) ||
		    !read_string(rd, check, "reason", cv->reason, sizeof(cv->reason)))
			return false;
		cv->result = !strcmp(word, "pass")   ? CAMPAIGN_PASS
			     : !strcmp(word, "fail") ? CAMPAIGN_FAIL
						     : CAMPAIGN_SKIP;
	}
	read_maybe(times, "fired_cycle", &t->has_fired, &v);
	t->fired_cycle = (uint64_t)v;
	read_maybe(times, "applied_cycle", &t->has_applied, &v);
	t->applied_cycle = (uint64_t)v;
	read_maybe(times, "detect_cycles", &t->has_detect, &v);
	t->detect_cycles = (uint64_t)v;
	read_maybe(times, "detect_ms", &t->has_detect, &t->detect_ms);
	read_maybe(times, "recover_cycles", &t->has_recover, &v);
	t->recover_cycles = (uint64_t)v;
	read_maybe(times, "recover_ms", &t->has_recover, &t->recover_ms);
	r->command_status = read_status(obj);
	read_maybe(obj, "seconds", &has_seconds, &r->seconds);
	r->plan = plan && !cJSON_IsNull(plan) ? cJSON_PrintUnformatted(plan) : NULL;
	m = cJSON_GetObjectItemCaseSensitive(obj, "repro");
	r->repro = cJSON_IsString(m) ? strdup(m->valuestring) : NULL;
	m = cJSON_GetObjectItemCaseSensitive(obj, "kept");
	r->kept = cJSON_IsString(m) ? strdup(m->valuestring) : NULL;
	return true;
}

static bool read_head(struct reader *rd, const cJSON *root, struct campaign_report *report)
{
	const cJSON *campaign = cJSON_GetObjectItemCaseSensitive(root, "campaign");
	const cJSON *sweeps = cJSON_GetObjectItemCaseSensitive(campaign, "sweeps");
	const cJSON *command = cJSON_GetObjectItemCaseSensitive(root, "command");
	const cJSON *shard = cJSON_GetObjectItemCaseSensitive(root, "shard");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(root, "host");
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "baseline");
	const cJSON *m;
	char text[FAULT_NAME_MAX * 4];
	double v;
	int i = 0;

	m = cJSON_GetObjectItemCaseSensitive(root, "format");
	if (!cJSON_IsString(m) || strcmp(m->valuestring, CAMPAIGN_REPORT_FORMAT))
		return bad(rd, "format", "not a magma-campaign report");
	if (!cJSON_IsObject(campaign) || !cJSON_IsArray(sweeps) || !cJSON_IsArray(command))
		return bad(rd, "campaign", "needs \"campaign\" with \"sweeps\", and \"command\"");
	if (!read_string(rd, campaign, "name", text, sizeof(text)))
		return false;
	report->name = strdup(text);
	m = cJSON_GetObjectItemCaseSensitive(campaign, "file");
	report->file = strdup(cJSON_IsString(m) ? m->valuestring : "?");
	if (!read_string(rd, campaign, "digest", text, sizeof(text)))
		return false;
	report->digest = strtoull(text, NULL, 16);
	if (!read_number(rd, campaign, "points", &v))
		return false;
	report->point_count = (uint32_t)v;
	report->witness = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(campaign, "witness"));
	report->sweeps = calloc((size_t)cJSON_GetArraySize(sweeps) + 1, sizeof(*report->sweeps));
	report->argv = calloc((size_t)cJSON_GetArraySize(command) + 1, sizeof(*report->argv));
	if (!report->name || !report->file || !report->sweeps || !report->argv)
		return bad(rd, "campaign", "out of memory");
	cJSON_ArrayForEach(m, sweeps)
	{
		struct campaign_report_sweep *s = &report->sweeps[report->sweep_count];

		if (!read_string(rd, m, "kind", s->kind, sizeof(s->kind)) ||
		    !read_string(rd, m, "stage", s->stage, sizeof(s->stage)) ||
		    !read_number(rd, m, "points", &v))
			return false;
		s->points = (uint32_t)v;
		if (!read_number(rd, m, "first_point", &v))
			return false;
		s->first_point = (uint32_t)v;
		report->sweep_count++;
	}
	cJSON_ArrayForEach(m, command)
	{
		if (!cJSON_IsString(m))
			return bad(rd, "command", "must be an array of strings");
		report->argv[i] = strdup(m->valuestring);
		if (!report->argv[i++])
			return bad(rd, "command", "out of memory");
		report->argc = i;
	}
	/* What follows is informative: a report without it still merges. */
	report->shard_count = 1;
	if (read_number(rd, shard, "index", &v))
		report->shard_index = (uint32_t)v;
	if (read_number(rd, shard, "count", &v))
		report->shard_count = (uint32_t)v;
	read_string(rd, host, "machine", report->host.machine, sizeof(report->host.machine));
	read_string(rd, host, "cpu", report->host.cpu, sizeof(report->host.cpu));
	if (read_number(rd, host, "cores", &v))
		report->host.cores = (int)v;
	report->baseline.ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(base, "ok"));
	read_string(rd, base, "digest", report->baseline.digest, sizeof(report->baseline.digest));
	read_string(rd, base, "error", report->baseline.error, sizeof(report->baseline.error));
	read_number(rd, root, "elapsed_s", &report->elapsed_s);
	rd->error[0] = '\0';
	return true;
}

struct campaign_report *campaign_report_read(const char *path, char error[CAMPAIGN_ERROR_MAX])
{
	struct reader rd = {.file = path, .error = error};
	struct campaign_report *report = NULL;
	const cJSON *points, *p;
	cJSON *root = NULL;
	char *text;
	size_t len;
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(CAMPAIGN_REPORT_MAX_FILE + 1);
	len = text ? fread(text, 1, CAMPAIGN_REPORT_MAX_FILE, f) : 0;
	fclose(f);
	if (text)
		root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: not valid JSON", path);
		return NULL;
	}
	report = calloc(1, sizeof(*report));
	if (!report) {
		snprintf(error, CAMPAIGN_ERROR_MAX, "%s: out of memory", path);
		goto out_root;
	}
	if (!read_head(&rd, root, report))
		goto err_report;
	points = cJSON_GetObjectItemCaseSensitive(root, "points");
	if (!cJSON_IsArray(points)) {
		bad(&rd, "points", "must be an array");
		goto err_report;
	}
	cJSON_ArrayForEach(p, points)
	{
		struct campaign_point_result r;
		bool ok = read_point(&rd, p, &r);

		if (ok && !campaign_report_add(report, &r)) {
			ok = false;
			bad(&rd, "points", "out of memory");
		}
		free(r.plan);
		free(r.repro);
		free(r.kept);
		if (!ok)
			goto err_report;
	}
	goto out_root;

err_report:
	campaign_report_destroy(report);
	report = NULL;
out_root:
	cJSON_Delete(root);
	return report;
}

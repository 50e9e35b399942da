/* SPDX-License-Identifier: MIT */
/*
 * viewer_report.c - loading a magma-campaign JSON report for magma-view (viewer_report.h).
 *
 * The report is read whole with cJSON (magma-campaign's own reader caps it at 256 MiB; so do
 * we) and copied into plain structs: the matrix rows as they are, and of the points only the
 * failing ones, with the checks that failed. Every member is optional to this reader except
 * "format" and "matrix": what is missing reads as 0, "" or "-". Any single thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "viewer_report.h"

#define REPORT_MAX_FILE (256u << 20)
#define REPORT_HEAD	4096

/* viewer_report_is_report - see viewer_report.h. */
bool viewer_report_is_report(const char *path)
{
	char head[REPORT_HEAD + 1], *p;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return false;
	n = fread(head, 1, REPORT_HEAD, f);
	fclose(f);
	head[n] = '\0';
	p = strstr(head, "\"format\"");
	if (!p)
		return false;
	p += strlen("\"format\"");
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return false;
	p += strspn(p, " \t\r\n");
	return !strncmp(p, "\"" VIEWER_REPORT_FORMAT "\"", strlen(VIEWER_REPORT_FORMAT) + 2);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static long num_of(const cJSON *obj, const char *key)
{
	const cJSON *v = member(obj, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15
		       ? (long)v->valuedouble
		       : 0;
}

static void str_of(const cJSON *obj, const char *key, char *out, size_t size)
{
	const cJSON *v = member(obj, key);

	snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static char *dup_of(const cJSON *obj, const char *key)
{
	const cJSON *v = member(obj, key);

	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static struct viewer_report_spread spread_of(const cJSON *row, const char *key)
{
	const cJSON *s = member(row, key), *p50 = member(s, "p50"), *p99 = member(s, "p99");
	struct viewer_report_spread out = {0};

	if (cJSON_IsNumber(p50) && cJSON_IsNumber(p99)) {
		out.has = true;
		out.p50 = p50->valuedouble;
		out.p99 = p99->valuedouble;
	}
	return out;
}

static char *read_file(const char *path, size_t *len_out, char *err, size_t err_size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f) {
		snprintf(err, err_size, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > REPORT_MAX_FILE) {
		snprintf(err, err_size, "not a regular file of at most 256 MiB");
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, err_size, "out of memory");
		fclose(f);
		return NULL;
	}
	*len_out = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len_out] = '\0';
	fclose(f);
	return buf;
}

static int load_rows(struct viewer_report *r, const cJSON *matrix)
{
	const cJSON *rows = member(matrix, "rows"), *row, *totals = member(matrix, "totals");
	int count = cJSON_GetArraySize(rows), i = 0;

	r->points = num_of(totals, "points");
	r->pass = num_of(totals, "pass");
	r->fail = num_of(totals, "fail");
	r->not_reached = num_of(totals, "not_reached");
	r->rows = calloc(count ? (size_t)count : 1, sizeof(*r->rows));
	if (!r->rows)
		return -1;
	cJSON_ArrayForEach(row, rows)
	{
		struct viewer_report_row *out = &r->rows[i++];

		str_of(row, "kind", out->kind, sizeof(out->kind));
		str_of(row, "stage", out->stage, sizeof(out->stage));
		out->points = num_of(row, "points");
		out->pass = num_of(row, "pass");
		out->fail = num_of(row, "fail");
		out->not_reached = num_of(row, "not_reached");
		out->detect_cycles = spread_of(row, "detect_cycles");
		out->detect_ms = spread_of(row, "detect_ms");
		out->recover_cycles = spread_of(row, "recover_cycles");
		out->recover_ms = spread_of(row, "recover_ms");
	}
	r->row_count = i;
	return 0;
}

static bool is_failing(const cJSON *point)
{
	const cJSON *o = member(point, "outcome");

	return cJSON_IsString(o) && !strcmp(o->valuestring, "fail");
}

static int load_failures(struct viewer_report *r, const cJSON *points)
{
	const cJSON *list = cJSON_IsArray(points) ? points : NULL, *p, *check;
	int count = 0;

	cJSON_ArrayForEach(p, list) count += is_failing(p);
	r->failures = calloc(count ? (size_t)count : 1, sizeof(*r->failures));
	if (!r->failures)
		return -1;
	cJSON_ArrayForEach(p, list)
	{
		const cJSON *checks =
			cJSON_IsObject(member(p, "checks")) ? member(p, "checks") : NULL;
		struct viewer_report_point *out;

		if (!is_failing(p))
			continue;
		out = &r->failures[r->failure_count++];
		out->id = num_of(p, "id");
		out->n = num_of(p, "n");
		str_of(p, "kind", out->kind, sizeof(out->kind));
		str_of(p, "stage", out->stage, sizeof(out->stage));
		out->repro = dup_of(p, "repro");
		if (!out->repro)
			out->repro = strdup("");
		out->kept = dup_of(p, "kept");
		if (!out->repro)
			return -1;
		cJSON_ArrayForEach(check, checks)
		{
			const cJSON *result = member(check, "result");
			struct viewer_report_check *c;

			if (!cJSON_IsString(result) || strcmp(result->valuestring, "fail") ||
			    out->failed_count == VIEWER_REPORT_CHECKS || !check->string)
				continue;
			c = &out->failed[out->failed_count++];
			snprintf(c->name, sizeof(c->name), "%s", check->string);
			str_of(check, "reason", c->reason, sizeof(c->reason));
		}
	}
	return 0;
}

/*
 * A relative kept directory is relative to where magma-campaign ran (--keep DIR as given). When
 * it is not there from here, try it next to the report (a report moved with its kept
 * directories, or opened from another directory): the first that exists is kept.
 */
static int resolve_kept(struct viewer_report *r, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;

	for (int i = 0; slash && i < r->failure_count; i++) {
		struct viewer_report_point *p = &r->failures[i];
		size_t size;
		char *joined;

		if (!p->kept || !*p->kept || p->kept[0] == '/' || !stat(p->kept, &st))
			continue;
		size = (size_t)(slash - path) + 1 + strlen(p->kept) + 1;
		joined = malloc(size);
		if (!joined)
			return -1;
		snprintf(joined, size, "%.*s/%s", (int)(slash - path), path, p->kept);
		if (stat(joined, &st)) {
			free(joined);
			continue;
		}
		free(p->kept);
		p->kept = joined;
	}
	return 0;
}

/* viewer_report_load - see viewer_report.h. */
struct viewer_report *viewer_report_load(const char *path, char *err, size_t err_size)
{
	const cJSON *format, *matrix, *campaign;
	struct viewer_report *r = NULL;
	size_t len = 0;
	cJSON *root;
	char *text = read_file(path, &len, err, err_size);

	if (!text)
		return NULL;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root) {
		snprintf(err, err_size, "not JSON (cut short, or not a report)");
		return NULL;
	}
	format = member(root, "format");
	matrix = member(root, "matrix");
	if (!cJSON_IsString(format) || strcmp(format->valuestring, VIEWER_REPORT_FORMAT)) {
		snprintf(err, err_size, "not a magma-campaign report (no \"format\": \"%s\")",
			 VIEWER_REPORT_FORMAT);
		goto err_root;
	}
	if (!cJSON_IsArray(member(matrix, "rows"))) {
		snprintf(err, err_size, "campaign report without \"matrix\": {\"rows\": [...]}");
		goto err_root;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto err_oom;
	campaign = member(root, "campaign");
	str_of(campaign, "name", r->name, sizeof(r->name));
	str_of(campaign, "file", r->file, sizeof(r->file));
	if (cJSON_IsNumber(member(root, "elapsed_s")))
		r->elapsed_s = member(root, "elapsed_s")->valuedouble;
	if (load_rows(r, matrix) || load_failures(r, member(root, "points")) ||
	    resolve_kept(r, path))
		goto err_oom;
	cJSON_Delete(root);
	return r;

err_oom:
	snprintf(err, err_size, "out of memory");
	viewer_report_destroy(r);
err_root:
	cJSON_Delete(root);
	return NULL;
}

/* viewer_report_destroy - see viewer_report.h. */
void viewer_report_destroy(struct viewer_report *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->failure_count; i++) {
		free(r->failures[i].repro);
		free(r->failures[i].kept);
	}
	free(r->failures);
	free(r->rows);
	free(r);
}

/* viewer_report_point_trace - see viewer_report.h. */
int viewer_report_point_trace(const struct viewer_report_point *p, char *out, size_t size)
{
	struct stat st;

	if (!p->kept || !*p->kept)
		return -1;
	if ((size_t)snprintf(out, size, "%s/trace.json", p->kept) >= size)
		return -1;
	return stat(out, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

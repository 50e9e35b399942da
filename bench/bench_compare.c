/* SPDX-License-Identifier: MIT */
/*
 * bench_compare.c - bench-compare: the ratios between two benchmark reports (--json FILE of any
 * bench, schema in bench_report.h), what scripts/bench-compare runs.
 *
 * For every figure present in both reports, in the order of the first: its name, unit, the value
 * in A, the value in B and B/A. Figures found in only one report are listed after the table, so
 * a renamed or dropped figure is seen rather than silently skipped. When the two reports come
 * from different benchmarks, hosts or options, a note says so first: a ratio across hosts says
 * more about the hosts than about the code. The ratio is only arithmetic; whether it is better
 * depends on the unit (time: lower is better, "/s": higher). A figure with a value of 0 in A, or
 * in different units in A and B, has no ratio ("-"). It is a C program rather than a script because
 * a fresh Debian machine has cJSON (a build dependency) but not necessarily python3 or jq.
 * Single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

/* Reads and parses @path; NULL after saying why on stderr. */
static cJSON *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	cJSON *root;

	if (!f) {
		fprintf(stderr, "bench-compare: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *grown = realloc(text, cap ? cap * 2 : 65536);

			if (!grown) {
				fprintf(stderr, "bench-compare: %s: out of memory\n", path);
				free(text);
				fclose(f);
				return NULL;
			}
			text = grown;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "bench-compare: %s: read error\n", path);
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	root = cJSON_Parse(text);
	free(text);
	if (!root || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "figures"))) {
		fprintf(stderr,
			"bench-compare: %s: not a benchmark report (want {\"figures\": [...]})\n",
			path);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The string member @key of @obj, or "?". */
static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* The figure named @name in @report, or NULL. */
static const cJSON *find(const cJSON *report, const char *name)
{
	const cJSON *fig;

	cJSON_ArrayForEach(fig, cJSON_GetObjectItemCaseSensitive(report, "figures"))
	{
		if (!strcmp(str(fig, "name"), name))
			return fig;
	}
	return NULL;
}

/* Whether @fig has a string name and a number value. */
static int is_figure(const cJSON *fig)
{
	return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(fig, "name")) &&
	       cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(fig, "value"));
}

static double value(const cJSON *fig)
{
	return cJSON_GetObjectItemCaseSensitive(fig, "value")->valuedouble;
}

/* Notes where the two reports' context differs. */
static void compare_context(const cJSON *a, const cJSON *b)
{
	const cJSON *ha = cJSON_GetObjectItemCaseSensitive(a, "host");
	const cJSON *hb = cJSON_GetObjectItemCaseSensitive(b, "host");
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(ha, "cores");
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(hb, "cores");

	if (strcmp(str(a, "bench"), str(b, "bench")))
		printf("note: different benchmarks: A %s, B %s\n", str(a, "bench"),
		       str(b, "bench"));
	if (strcmp(str(ha, "cpu"), str(hb, "cpu")) ||
	    (cJSON_IsNumber(ca) && cJSON_IsNumber(cb) && ca->valuedouble != cb->valuedouble))
		printf("note: different hosts: A %s (%g cores), B %s (%g cores)\n", str(ha, "cpu"),
		       cJSON_IsNumber(ca) ? ca->valuedouble : 0.0, str(hb, "cpu"),
		       cJSON_IsNumber(cb) ? cb->valuedouble : 0.0);
	if (strcmp(str(a, "args"), str(b, "args")))
		printf("note: different options: A \"%s\", B \"%s\"\n", str(a, "args"),
		       str(b, "args"));
}

/* Figures of @x missing from @y, listed under @label; returns how many. */
static int list_missing(const cJSON *x, const cJSON *y, const char *label)
{
	const cJSON *fig;
	int n = 0;

	cJSON_ArrayForEach(fig, cJSON_GetObjectItemCaseSensitive(x, "figures"))
	{
		if (!is_figure(fig) || find(y, str(fig, "name")))
			continue;
		if (!n++)
			printf("%s:\n", label);
		printf("  %s = %g %s\n", str(fig, "name"), value(fig), str(fig, "unit"));
	}
	return n;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-compare A.json B.json\n"
		"       bench-compare --help | --version\n"
		"For each figure in both benchmark reports (--json FILE of a bench): name, unit,\n"
		"A, B and B/A; then the figures found in only one of them.\n"
		"Exit: 0 compared, 1 a report cannot be read, 2 usage.\n");
}

/* bench-compare entry point; see the file comment. */
int main(int argc, char **argv)
{
	const cJSON *fig;
	cJSON *a, *b;
	int width = 6;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("bench-compare %s\n", MAGMA_SIM_VERSION);
		return 0;
	}
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
		fprintf(stderr, "bench-compare: want two reports (see bench-compare --help)\n");
		return 2;
	}
	a = load(argv[1]);
	b = a ? load(argv[2]) : NULL;
	if (!a || !b) {
		cJSON_Delete(a);
		return 1;
	}
	printf("A: %s (%s %s)\nB: %s (%s %s)\n", argv[1], str(a, "bench"), str(a, "args"), argv[2],
	       str(b, "bench"), str(b, "args"));
	compare_context(a, b);
	cJSON_ArrayForEach(fig, cJSON_GetObjectItemCaseSensitive(a, "figures"))
	{
		int len = (int)strlen(str(fig, "name"));

		if (is_figure(fig) && find(b, str(fig, "name")) && len > width)
			width = len;
	}
	printf("%-*s %-8s %14s %14s %9s\n", width, "figure", "unit", "A", "B", "B/A");
	cJSON_ArrayForEach(fig, cJSON_GetObjectItemCaseSensitive(a, "figures"))
	{
		const cJSON *other = find(b, str(fig, "name"));
		double va, vb;

		if (!is_figure(fig) || !other || !is_figure(other))
			continue;
		va = value(fig);
		vb = value(other);
		printf("%-*s %-8s %14.6g %14.6g ", width, str(fig, "name"), str(fig, "unit"), va,
		       vb);
		if (strcmp(str(fig, "unit"), str(other, "unit")))
			printf("%9s (B in %s)\n", "-", str(other, "unit"));
		else if (va != 0)
			printf("%9.3f\n", vb / va);
		else
			printf("%9s\n", "-");
	}
	list_missing(a, b, "only in A");
	list_missing(b, a, "only in B");
	cJSON_Delete(a);
	cJSON_Delete(b);
	return 0;
}

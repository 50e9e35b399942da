/* SPDX-License-Identifier: MIT */
/*
 * bench_report.c - see bench_report.h. The report is a cJSON tree built as figures come in and
 * printed once at the end. Host details come from /proc/cpuinfo, sysconf and uname, read when
 * the report is made. A figure that is not a finite number would print as null, which no
 * comparison can use, so it is dropped with a warning instead.
 */
#include "bench_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

struct bench_report {
	cJSON *root;
	cJSON *figures; /* owned by root */
	char bench[64];
};

/* bench_host_cpu - see bench_report.h. */
void bench_host_cpu(char *out, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, size, "?");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(out, size, "%s", colon + 2);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

/* bench_host_cores - see bench_report.h. */
long bench_host_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

/*
 * The options as one string, separated by spaces, without "--json FILE": two runs that differ
 * only in where they wrote their report ran the same way.
 */
static cJSON *bench_report_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	cJSON *item;

	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			i++;
			continue;
		}
		if (*s)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	item = cJSON_CreateString(s);
	free(s);
	return item;
}

/* bench_report_create - see bench_report.h. */
struct bench_report *bench_report_create(const char *bench, const char *version, int argc,
					 char **argv)
{
	struct bench_report *r = calloc(1, sizeof(*r));
	struct utsname uts;
	char cpu[128];
	cJSON *host;

	if (!r)
		return NULL;
	snprintf(r->bench, sizeof(r->bench), "%s", bench);
	r->root = cJSON_CreateObject();
	host = cJSON_CreateObject();
	r->figures = cJSON_CreateArray();
	if (!r->root || !host || !r->figures) {
		cJSON_Delete(host);
		cJSON_Delete(r->figures);
		goto err_free;
	}
	bench_host_cpu(cpu, sizeof(cpu));
	if (!cJSON_AddStringToObject(r->root, "bench", bench) ||
	    !cJSON_AddStringToObject(r->root, "version", version) ||
	    !cJSON_AddItemToObject(r->root, "args", bench_report_args(argc, argv)) ||
	    !cJSON_AddStringToObject(host, "cpu", cpu) ||
	    !cJSON_AddNumberToObject(host, "cores", (double)bench_host_cores()) ||
	    !cJSON_AddStringToObject(host, "kernel", uname(&uts) ? "?" : uts.release)) {
		cJSON_Delete(host);
		cJSON_Delete(r->figures);
		goto err_free;
	}
	cJSON_AddItemToObject(r->root, "host", host);
	cJSON_AddItemToObject(r->root, "figures", r->figures);
	return r;

err_free:
	cJSON_Delete(r->root);
	free(r);
	return NULL;
}

/* bench_report_add - see bench_report.h. */
void bench_report_add(struct bench_report *r, const char *name, double value, const char *unit)
{
	cJSON *fig, *old;

	if (!r)
		return;
	if (!isfinite(value)) {
		fprintf(stderr, "%s: figure %s is not a number; left out of the report\n", r->bench,
			name);
		return;
	}
	fig = cJSON_CreateObject();
	if (!fig || !cJSON_AddStringToObject(fig, "name", name) ||
	    !cJSON_AddNumberToObject(fig, "value", value) ||
	    !cJSON_AddStringToObject(fig, "unit", unit)) {
		cJSON_Delete(fig);
		fprintf(stderr, "%s: out of memory for figure %s\n", r->bench, name);
		return;
	}
	cJSON_ArrayForEach(old, r->figures)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(old, "name");

		if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) {
			cJSON_ReplaceItemViaPointer(r->figures, old, fig);
			return;
		}
	}
	cJSON_AddItemToArray(r->figures, fig);
}

/* bench_report_write - see bench_report.h. */
int bench_report_write(const struct bench_report *r, const char *path)
{
	char *text;
	FILE *f;
	int ret = -1;

	if (!path)
		return 0;
	if (!r) {
		fprintf(stderr, "%s: no report to write (out of memory)\n",
			program_invocation_short_name);
		return -1;
	}
	text = cJSON_Print(r->root);
	if (!text) {
		fprintf(stderr, "%s: out of memory printing the report\n", r->bench);
		return -1;
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: --json %s: %s\n", r->bench, path, strerror(errno));
		goto out_free;
	}
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		fprintf(stderr, "%s: --json %s: %s\n", r->bench, path, strerror(errno));
		fclose(f);
		goto out_free;
	}
	if (fclose(f)) {
		fprintf(stderr, "%s: --json %s: %s\n", r->bench, path, strerror(errno));
		goto out_free;
	}
	ret = 0;
out_free:
	cJSON_free(text);
	return ret;
}

/* bench_report_destroy - see bench_report.h. */
void bench_report_destroy(struct bench_report *r)
{
	if (!r)
		return;
	cJSON_Delete(r->root);
	free(r);
}

/* bench_arg_common - see bench_report.h. */
int bench_arg_common(int argc, char **argv, int *i, const char *name, const char *version,
		     void (*usage)(FILE *out), const char **json_out)
{
	const char *arg = argv[*i];

	if (!strcmp(arg, "--json") && *i + 1 < argc) {
		*json_out = argv[++*i];
		return -1;
	}
	if (!strcmp(arg, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(arg, "--version")) {
		printf("%s %s\n", name, version);
		return 0;
	}
	fprintf(stderr, "%s: %s '%s' (see %s --help)\n", name,
		arg[0] == '-' && *i + 1 == argc ? "unknown option or missing value for"
						: "unknown option",
		arg, name);
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_ctl.c - magma-ctl, the client of magma-simd's control socket (magma-simd --control
 * PATH; faults/fault_control.h): see a running device's state and arm or clear fault plans while
 * its clients run.
 *
 *   magma-ctl [--control PATH] [--json] status | dump | inject PLAN [--device N] |
 *             clear [--device N]
 *
 * Sends one JSON request line and prints the answer: status as text (or the JSON with --json),
 * dump as indented JSON, inject and clear as one line. A plan is sent as its file's text, so the
 * daemon's errors name the file's own lines. Exit: 0 done, 1 the daemon refused (its message on
 * stderr), 2 usage or an unreadable plan, 3 the daemon could not be reached. Single-threaded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "faults/fault_control.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: magma-ctl [--control PATH] [--json] COMMAND [ARGS]\n"
		"\n"
		"Talks to a running magma-simd started with --control PATH\n"
		"(docs/fault-injection.md, \"Live sessions\").\n"
		"  --control PATH       the control socket (default: $MAGMA_SIM_CONTROL)\n"
		"  --json               print status as the daemon's JSON, not as text\n"
		"  --help, --version    this text, the version\n"
		"Commands:\n"
		"  status               each device: cycle, connections, faults armed and\n"
		"                       fired, what clients hold (live); the daemon's fds\n"
		"  dump                 status plus every connection the device opened (how it\n"
		"                       ended) and every firing (fired, applied, detected,\n"
		"                       recovered: cycles and host ns), as JSON\n"
		"  inject PLAN [--device N]\n"
		"                       arm the fault plan PLAN (JSON file) on every device or\n"
		"                       on device N, counting from now; a plan with an error is\n"
		"                       refused whole, naming file, line and field\n"
		"  clear [--device N]   disarm every plan armed so far\n"
		"Exit: 0 done, 1 refused by the daemon, 2 usage or unreadable plan,\n"
		"3 daemon not reachable.\n");
}

/* The whole file at @path as a string, or NULL with errno. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			char *bigger;

			cap = cap ? cap * 2 : 4096;
			if (cap > FAULT_CONTROL_MAX_REQUEST) {
				errno = EFBIG;
				break;
			}
			bigger = realloc(buf, cap);
			if (!bigger)
				break;
			buf = bigger;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				break;
			fclose(f);
			buf[n] = '\0';
			return buf;
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

/* Sends @req to the daemon at @path; its answer, or NULL (message printed). */
static cJSON *ask(const char *path, const cJSON *req)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char *text = cJSON_PrintUnformatted(req), *buf = NULL;
	size_t cap = 0, n = 0;
	cJSON *answer = NULL;
	int fd = -1;

	if (!text || strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "magma-ctl: %s: %s\n", path, text ? "path too long" : "no memory");
		goto out;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr,
			"magma-ctl: cannot reach %s: %s (is magma-simd running with --control "
			"%s?)\n",
			path, strerror(errno), path);
		goto out;
	}
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) != (ssize_t)strlen(text) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "magma-ctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t got;

		if (n + 1 >= cap) {
			char *bigger = realloc(buf, cap ? cap * 2 : 65536);

			if (!bigger)
				goto out;
			buf = bigger;
			cap = cap ? cap * 2 : 65536;
		}
		got = recv(fd, buf + n, cap - n - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	answer = buf ? cJSON_ParseWithLength(buf, n) : NULL;
	if (!cJSON_IsObject(answer)) {
		fprintf(stderr, "magma-ctl: %s: no answer from the daemon\n", path);
		cJSON_Delete(answer);
		answer = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(text);
	return answer;
}

static double number(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* status as text: one paragraph per device. */
static void print_status(const cJSON *a)
{
	const cJSON *dev;

	printf("magma-simd pid %.0f, %.0f open fds\n", number(a, "pid"), number(a, "fds"));
	cJSON_ArrayForEach(dev, cJSON_GetObjectItemCaseSensitive(a, "devices"))
	{
		const cJSON *conns = cJSON_GetObjectItemCaseSensitive(dev, "connections");
		const cJSON *faults = cJSON_GetObjectItemCaseSensitive(dev, "faults");
		const cJSON *label = cJSON_GetObjectItemCaseSensitive(dev, "label");
		const cJSON *item;
		const char *sep = "";

		printf("device %.0f (%s): GPU cycle %.0f, %.0f bus frames pinned\n",
		       number(dev, "device"), cJSON_IsString(label) ? label->valuestring : "?",
		       number(dev, "cycle"), number(dev, "bus_frames"));
		printf("  connections: %.0f open, %.0f opened\n", number(conns, "open"),
		       number(conns, "opened"));
		printf("  faults: %.0f armed, %.0f fired\n", number(faults, "armed"),
		       number(faults, "fired"));
		printf("  clients hold:");
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(dev, "live"))
		{
			printf("%s %s %.0f", sep, item->string, item->valuedouble);
			sep = ",";
		}
		printf("\n");
	}
}

/* Parses "--device N" at argv[*i]; -1 when absent, -2 on a bad value. */
static long device_arg(int argc, char **argv, int *i)
{
	char *end;
	long v;

	if (*i >= argc || strcmp(argv[*i], "--device"))
		return -1;
	if (*i + 1 >= argc)
		return -2;
	v = strtol(argv[*i + 1], &end, 10);
	*i += 2;
	return *end || end == argv[*i - 1] || v < 0 ? -2 : v;
}

int main(int argc, char **argv)
{
	const char *path = getenv("MAGMA_SIM_CONTROL"), *cmd = NULL, *plan_path = NULL;
	bool json = false;
	cJSON *req, *a;
	long device = -1;
	char *plan = NULL;
	int i = 1, ret;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("magma-ctl %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "magma-ctl: unknown option '%s' (see magma-ctl --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (i < argc)
		cmd = argv[i++];
	if (cmd && !strcmp(cmd, "inject") && i < argc)
		plan_path = argv[i++];
	if (cmd && (!strcmp(cmd, "inject") || !strcmp(cmd, "clear")))
		device = device_arg(argc, argv, &i);
	if (!cmd || i < argc || device == -2 || (!strcmp(cmd, "inject") && !plan_path) ||
	    (strcmp(cmd, "status") && strcmp(cmd, "dump") && strcmp(cmd, "inject") &&
	     strcmp(cmd, "clear"))) {
		fprintf(stderr, "magma-ctl: %s (see magma-ctl --help)\n",
			!cmd ? "no command" : "bad command or arguments");
		return 2;
	}
	if (!path || !path[0]) {
		fprintf(stderr, "magma-ctl: no control socket: give --control PATH or set "
				"MAGMA_SIM_CONTROL (see magma-ctl --help)\n");
		return 2;
	}
	if (plan_path) {
		plan = read_file(plan_path);
		if (!plan) {
			fprintf(stderr, "magma-ctl: %s: %s\n", plan_path, strerror(errno));
			return 2;
		}
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (plan) {
		cJSON_AddStringToObject(req, "plan", plan);
		cJSON_AddStringToObject(req, "file", plan_path);
	}
	if (device >= 0)
		cJSON_AddNumberToObject(req, "device", (double)device);
	a = ask(path, req);
	cJSON_Delete(req);
	free(plan);
	if (!a)
		return 3;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "ok"))) {
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(a, "error");

		fprintf(stderr, "magma-ctl: %s: %s\n", cmd,
			cJSON_IsString(err) ? err->valuestring : "refused");
		ret = 1;
	} else if (!strcmp(cmd, "status") && !json) {
		print_status(a);
		ret = 0;
	} else if (!strcmp(cmd, "inject")) {
		printf("armed %.0f fault(s)\n", number(a, "armed"));
		ret = 0;
	} else if (!strcmp(cmd, "clear")) {
		printf("cleared %.0f fault(s)\n", number(a, "cleared"));
		ret = 0;
	} else {
		char *text = !strcmp(cmd, "dump") ? cJSON_Print(a) : cJSON_PrintUnformatted(a);

		printf("%s\n", text ? text : "{}");
		free(text);
		ret = 0;
	}
	cJSON_Delete(a);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * fault_control.c - the control socket of magma-simd --control (fault_control.h): status, dump,
 * inject and clear over one JSON line each way.
 *
 * One thread polls the listening socket and an eventfd that fault_control_stop writes. A client
 * gets FAULT_CONTROL_IO_MS to send its line and to take the answer (SO_RCVTIMEO/SO_SNDTIMEO), so
 * a client that connects and says nothing delays the next one by that much at most and never
 * stops the daemon.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "faults/fault_control.h"
#include "faults/fault_device.h"
#include "faults/fault_plan.h"

#define FAULT_CONTROL_IO_MS 2000

struct fault_control {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_fd;
	pthread_t thread;
	struct fault_device **fdevs;
	uint32_t count;
};

/* Open file descriptors of this process (the directory's own excepted). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static cJSON *answer_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static cJSON *answer_error(const char *fmt, ...)
{
	cJSON *a = cJSON_CreateObject();
	char msg[FAULT_ERROR_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddBoolToObject(a, "ok", false);
	cJSON_AddStringToObject(a, "error", msg);
	return a;
}

/* The "device" member: -1 for every device, the index, or -2 (@a holds the error answer). */
static int64_t request_device(const struct fault_control *ctl, const cJSON *req, cJSON **a)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, "device");

	if (!d || cJSON_IsNull(d))
		return -1;
	if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble >= ctl->count ||
	    d->valuedouble != (double)(int64_t)d->valuedouble) {
		*a = answer_error("\"device\" must be a device number from 0 to %u",
				  ctl->count - 1);
		return -2;
	}
	return (int64_t)d->valuedouble;
}

static cJSON *do_status(struct fault_control *ctl, bool dump)
{
	cJSON *a = cJSON_CreateObject(), *devs;

	if (!a)
		return NULL;
	cJSON_AddBoolToObject(a, "ok", true);
	cJSON_AddNumberToObject(a, "pid", getpid());
	cJSON_AddNumberToObject(a, "fds", count_fds());
	devs = cJSON_AddArrayToObject(a, "devices");
	for (uint32_t i = 0; devs && i < ctl->count; i++) {
		cJSON *d = cJSON_CreateObject();

		if (!d)
			break;
		cJSON_AddNumberToObject(d, "device", i);
		cJSON_AddItemToArray(devs, d);
		if (!fault_device_describe(ctl->fdevs[i], d, dump)) {
			cJSON_Delete(a);
			return answer_error("out of memory");
		}
	}
	return a;
}

/* Arms the plan of @req on the chosen devices: every one parsed and checked before any is. */
static cJSON *do_inject(struct fault_control *ctl, const cJSON *req)
{
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(req, "plan");
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(req, "file");
	struct fault_plan *plans[64] = {0};
	char error[FAULT_ERROR_MAX], *text = NULL;
	const char *name = cJSON_IsString(file) ? file->valuestring : "inject";
	cJSON *a = NULL;
	int64_t dev = request_device(ctl, req, &a);
	uint32_t first, last, armed = 0;

	if (dev == -2)
		return a;
	if (cJSON_IsString(plan))
		text = strdup(plan->valuestring);
	else if (cJSON_IsObject(plan))
		text = cJSON_Print(plan);
	else
		return answer_error("\"plan\" must be a fault plan: its text or its object");
	if (!text)
		return answer_error("out of memory");
	first = dev < 0 ? 0 : (uint32_t)dev;
	last = dev < 0 ? ctl->count : (uint32_t)dev + 1;
	for (uint32_t i = first; i < last; i++) {
		plans[i] = fault_plan_parse(text, strlen(text), name, error);
		if (!plans[i] || !fault_plan_check_device(plans[i], name, error)) {
			a = answer_error("%s", error);
			goto out;
		}
	}
	for (uint32_t i = first; i < last; i++) {
		int ret = fault_device_arm(ctl->fdevs[i], plans[i]);

		if (ret) {
			a = answer_error("device %u: cannot arm the plan: %s%s", i, strerror(-ret),
					 armed ? " (armed on the devices before it)" : "");
			goto out;
		}
		armed += plans[i]->fault_count;
		plans[i] = NULL; /* the device owns it */
	}
	a = cJSON_CreateObject();
	cJSON_AddBoolToObject(a, "ok", true);
	cJSON_AddNumberToObject(a, "armed", armed);
out:
	for (uint32_t i = 0; i < 64; i++)
		fault_plan_destroy(plans[i]);
	free(text);
	return a;
}

static cJSON *do_clear(struct fault_control *ctl, const cJSON *req)
{
	cJSON *a = NULL;
	int64_t dev = request_device(ctl, req, &a);
	uint32_t cleared = 0;

	if (dev == -2)
		return a;
	for (uint32_t i = 0; i < ctl->count; i++) {
		if (dev < 0 || (uint32_t)dev == i)
			cleared += fault_device_clear(ctl->fdevs[i]);
	}
	a = cJSON_CreateObject();
	cJSON_AddBoolToObject(a, "ok", true);
	cJSON_AddNumberToObject(a, "cleared", cleared);
	return a;
}

/* The answer to one request line. */
static cJSON *handle(struct fault_control *ctl, const char *line, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(line, len), *a;
	const cJSON *cmd;

	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return answer_error("a request is one JSON object on one line, such as "
				    "{\"cmd\":\"status\"}");
	}
	cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	if (!cJSON_IsString(cmd))
		a = answer_error("\"cmd\" must be one of status, dump, inject, clear");
	else if (!strcmp(cmd->valuestring, "status"))
		a = do_status(ctl, false);
	else if (!strcmp(cmd->valuestring, "dump"))
		a = do_status(ctl, true);
	else if (!strcmp(cmd->valuestring, "inject"))
		a = do_inject(ctl, req);
	else if (!strcmp(cmd->valuestring, "clear"))
		a = do_clear(ctl, req);
	else
		a = answer_error("unknown command \"%.64s\" (status, dump, inject, clear)",
				 cmd->valuestring);
	cJSON_Delete(req);
	return a;
}

/* Reads one line from @fd into a new buffer (*@len bytes, the newline dropped); NULL on error. */
static char *read_line(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t got;
		char *nl;

		if (n == cap) {
			char *bigger =
				cap < FAULT_CONTROL_MAX_REQUEST ? realloc(buf, cap * 2) : NULL;

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		got = recv(fd, buf + n, cap - n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		nl = memchr(buf + n, '\n', (size_t)got);
		n += (size_t)got;
		if (nl) {
			*len = (size_t)(nl - buf);
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void serve_client(struct fault_control *ctl, int fd)
{
	struct timeval tv = {.tv_sec = FAULT_CONTROL_IO_MS / 1000,
			     .tv_usec = (FAULT_CONTROL_IO_MS % 1000) * 1000};
	size_t len = 0;
	char *line, *text;
	cJSON *a;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	line = read_line(fd, &len);
	if (line)
		a = handle(ctl, line, len);
	else
		a = answer_error("no request line (one JSON object ending with a newline, at most "
				 "%u bytes)",
				 FAULT_CONTROL_MAX_REQUEST);
	text = a ? cJSON_PrintUnformatted(a) : NULL;
	if (text) {
		write_all(fd, text, strlen(text));
		write_all(fd, "\n", 1);
	}
	free(text);
	cJSON_Delete(a);
	free(line);
}

static void *control_main(void *arg)
{
	struct fault_control *ctl = arg;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = ctl->listen_fd, .events = POLLIN},
					{.fd = ctl->stop_fd, .events = POLLIN}};
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(ctl, fd);
		close(fd);
	}
	return NULL;
}

/* Listens at @path (0600), replacing a stale socket; the fd or -1 with @error. */
static int listen_at(const char *path, char *error, size_t size)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(error, size, "%s: path too long for a socket (%zu bytes at most)", path,
			 sizeof(addr.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(error, size, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || chmod(path, 0600) ||
	    listen(fd, 8)) {
		snprintf(error, size, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* fault_control_start - see fault_control.h. */
struct fault_control *fault_control_start(const char *path, struct fault_device *const *fdevs,
					  uint32_t count, char *error, size_t size)
{
	struct fault_control *ctl = calloc(1, sizeof(*ctl));

	error[0] = '\0';
	if (!ctl || !count || count > 64) {
		snprintf(error, size, "%s", ctl ? "1 to 64 devices" : "out of memory");
		free(ctl);
		return NULL;
	}
	ctl->fdevs = calloc(count, sizeof(*ctl->fdevs));
	if (!ctl->fdevs)
		goto err_free;
	memcpy(ctl->fdevs, fdevs, count * sizeof(*fdevs));
	ctl->count = count;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen_fd = listen_at(path, error, size);
	if (ctl->listen_fd < 0)
		goto err_free;
	ctl->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ctl->stop_fd < 0 || pthread_create(&ctl->thread, NULL, control_main, ctl)) {
		snprintf(error, size, "cannot start the control thread");
		if (ctl->stop_fd >= 0)
			close(ctl->stop_fd);
		close(ctl->listen_fd);
		unlink(path);
		goto err_free;
	}
	return ctl;

err_free:
	if (!error[0])
		snprintf(error, size, "out of memory");
	free(ctl->fdevs);
	free(ctl);
	return NULL;
}

/* fault_control_stop - see fault_control.h. */
void fault_control_stop(struct fault_control *ctl)
{
	uint64_t one = 1;

	if (!ctl)
		return;
	if (write(ctl->stop_fd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "fault_control: cannot wake the control thread\n");
	pthread_join(ctl->thread, NULL);
	close(ctl->listen_fd);
	close(ctl->stop_fd);
	unlink(ctl->path);
	free(ctl->fdevs);
	free(ctl);
}

/* SPDX-License-Identifier: MIT */
/*
 * campaign_control.c - asking magma-simd's control socket (its protocol: one request per
 * connection, one JSON object on one line each way) and reading its status and dump answers.
 *
 * The socket is blocking with SO_RCVTIMEO/SO_SNDTIMEO as a hang guard: a daemon that stops
 * answering fails the request rather than the campaign. Any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "campaign_control.h"

#define CAMPAIGN_CONTROL_ANSWER_MAX (16u << 20)

static int connect_to(const char *path, int timeout_ms, char *error)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "%s: path too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the first newline (or EOF); a new NUL-terminated string, or NULL. */
static char *read_line(int fd, char *error)
{
	size_t len = 0, size = 4096;
	char *line = malloc(size);

	if (!line)
		goto err_oom;
	for (;;) {
		ssize_t n;

		if (len + 1 == size) {
			char *bigger =
				size < CAMPAIGN_CONTROL_ANSWER_MAX ? realloc(line, size * 2) : NULL;

			if (!bigger) {
				free(line);
				goto err_oom;
			}
			line = bigger;
			size *= 2;
		}
		n = recv(fd, line + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "no answer: %s",
				 errno == EAGAIN ? "timed out" : strerror(errno));
			free(line);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(line + len - (size_t)n, '\n', (size_t)n))
			break;
	}
	line[len] = '\0';
	return line;

err_oom:
	snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "out of memory");
	return NULL;
}

cJSON *campaign_control_ask(const char *path, const char *request, int timeout_ms,
			    char error[CAMPAIGN_CONTROL_ERROR_MAX])
{
	const cJSON *ok, *why;
	cJSON *answer = NULL;
	char *line;
	int fd;

	fd = connect_to(path, timeout_ms, error);
	if (fd < 0)
		return NULL;
	if (write_all(fd, request, strlen(request)) || write_all(fd, "\n", 1)) {
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "%s: cannot send: %s", path,
			 strerror(errno));
		goto out_fd;
	}
	line = read_line(fd, error);
	if (!line)
		goto out_fd;
	answer = cJSON_Parse(line);
	if (!answer) {
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "answer is not JSON: %.120s", line);
		goto out_line;
	}
	ok = cJSON_GetObjectItemCaseSensitive(answer, "ok");
	if (!cJSON_IsTrue(ok)) {
		why = cJSON_GetObjectItemCaseSensitive(answer, "error");
		snprintf(error, CAMPAIGN_CONTROL_ERROR_MAX, "refused: %s",
			 cJSON_IsString(why) ? why->valuestring : "(no \"error\")");
		cJSON_Delete(answer);
		answer = NULL;
	}
out_line:
	free(line);
out_fd:
	close(fd);
	return answer;
}

const cJSON *campaign_control_device(const cJSON *answer, int index)
{
	const cJSON *devices = cJSON_GetObjectItemCaseSensitive(answer, "devices");

	return cJSON_IsArray(devices) ? cJSON_GetArrayItem(devices, index) : NULL;
}

int64_t campaign_control_int(const cJSON *obj, const char *path)
{
	char key[64];

	while (obj && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		path += n + (path[n] == '.');
	}
	return cJSON_IsNumber(obj) && obj->valuedouble >= 0 ? (int64_t)obj->valuedouble : -1;
}

bool campaign_control_live_zero(const cJSON *device, char *what, size_t size)
{
	const cJSON *live = cJSON_GetObjectItemCaseSensitive(device, "live");
	const cJSON *m;

	if (!cJSON_IsObject(live)) {
		snprintf(what, size, "no \"live\" counts");
		return false;
	}
	cJSON_ArrayForEach(m, live)
	{
		if (!cJSON_IsNumber(m) || m->valuedouble != 0) {
			snprintf(what, size, "%s = %.0f", m->string,
				 cJSON_IsNumber(m) ? m->valuedouble : -1.0);
			return false;
		}
	}
	return true;
}

/* SPDX-License-Identifier: MIT */
/*
 * viewer_live.c - the control-socket client of magma-view --attach (viewer_live.h).
 *
 * One request per connection, as the protocol has it: connect, write {"cmd":"dump"} and a
 * newline, read until the daemon closes (or a newline), parse with cJSON. The whole exchange
 * has one deadline, enforced with poll(2) on a non-blocking socket, so a daemon that is slow
 * (it serves one request at a time, and a silent client delays it by up to 2 s) or a socket
 * that is not a control socket at all costs the window at most that deadline, never a hang.
 *
 * What it does not do: keep a connection open (the protocol has none), or interpret anything
 * beyond checking that the answer is a magma-simd answer; the view reads the JSON as it is.
 * Any single thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "viewer_live.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

static int connect_to(const char *path, char *err, size_t err_size)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, err_size, "%s: path too long for a Unix socket", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, err_size, "socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix stream connect completes or fails at once (EAGAIN: the backlog is full). */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(err, err_size, "cannot connect to %s: %s%s", path, strerror(errno),
			 errno == ECONNREFUSED ? " (is magma-simd --control still running?)"
			 : errno == ENOENT     ? " (no such socket: magma-simd --control PATH)"
					       : "");
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request and reads the answer into a new NUL-terminated buffer, or NULL. */
static char *exchange(int fd, const char *path, int64_t deadline, size_t *len_out, char *err,
		      size_t err_size)
{
	static const char request[] = "{\"cmd\":\"dump\"}\n";
	size_t sent = 0, len = 0, cap = 1 << 16;
	char *buf;

	while (sent < sizeof(request) - 1) {
		ssize_t n = send(fd, request + sent, sizeof(request) - 1 - sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				goto err_timeout;
			continue;
		}
		if (n < 0) {
			snprintf(err, err_size, "%s: cannot send: %s", path, strerror(errno));
			return NULL;
		}
		sent += (size_t)n;
	}
	buf = malloc(cap);
	if (!buf) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *bigger = cap < VIEWER_LIVE_MAX_ANSWER ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				snprintf(err, err_size, "%s: the answer is too long", path);
				goto err_buf;
			}
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, deadline) <= 0) {
				free(buf);
				goto err_timeout;
			}
			continue;
		}
		if (n < 0) {
			snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
			goto err_buf;
		}
		len += (size_t)n;
		if (buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
	*len_out = len;
	return buf;

err_buf:
	free(buf);
	return NULL;
err_timeout:
	snprintf(err, err_size, "%s: no answer in time (not a magma-simd control socket, or busy)",
		 path);
	return NULL;
}

/* viewer_live_fetch - see viewer_live.h. */
cJSON *viewer_live_fetch(const char *path, int timeout_ms, char *err, size_t err_size)
{
	int64_t deadline = now_ms() + timeout_ms;
	const cJSON *ok, *devices;
	size_t len = 0;
	cJSON *answer;
	char *text;
	int fd = connect_to(path, err, err_size);

	if (fd < 0)
		return NULL;
	text = exchange(fd, path, deadline, &len, err, err_size);
	close(fd);
	if (!text)
		return NULL;
	answer = cJSON_ParseWithLength(text, len);
	free(text);
	if (!answer || !cJSON_IsObject(answer)) {
		snprintf(err, err_size,
			 "%s: the answer is not JSON: not a magma-simd control socket", path);
		goto err_answer;
	}
	ok = cJSON_GetObjectItemCaseSensitive(answer, "ok");
	if (cJSON_IsFalse(ok)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");

		snprintf(err, err_size, "%s: dump refused: %s", path,
			 cJSON_IsString(e) ? e->valuestring : "(no reason given)");
		goto err_answer;
	}
	devices = cJSON_GetObjectItemCaseSensitive(answer, "devices");
	if (!cJSON_IsTrue(ok) || !cJSON_IsArray(devices)) {
		snprintf(err, err_size,
			 "%s: not a magma-simd dump answer (no \"ok\" or \"devices\")", path);
		goto err_answer;
	}
	return answer;

err_answer:
	cJSON_Delete(answer);
	return NULL;
}

/* viewer_live_init - see viewer_live.h. */
void viewer_live_init(struct viewer_live *live, const char *path)
{
	memset(live, 0, sizeof(*live));
	snprintf(live->path, sizeof(live->path), "%s", path);
}

/* viewer_live_poll - see viewer_live.h. */
int viewer_live_poll(struct viewer_live *live, int timeout_ms)
{
	cJSON *answer = viewer_live_fetch(live->path, timeout_ms, live->error, sizeof(live->error));

	if (!answer)
		return -1;
	cJSON_Delete(live->prev);
	live->prev = live->dump;
	live->dump = answer;
	live->error[0] = '\0';
	live->polls++;
	return 0;
}

/* viewer_live_fini - see viewer_live.h. */
void viewer_live_fini(struct viewer_live *live)
{
	cJSON_Delete(live->dump);
	cJSON_Delete(live->prev);
	live->dump = live->prev = NULL;
}

/* viewer_live_devices - see viewer_live.h. */
const cJSON *viewer_live_devices(const cJSON *dump)
{
	const cJSON *d = dump ? cJSON_GetObjectItemCaseSensitive(dump, "devices") : NULL;

	return cJSON_IsArray(d) ? d : NULL;
}

/* viewer_live_device - see viewer_live.h. */
const cJSON *viewer_live_device(const cJSON *dump, int i)
{
	const cJSON *d = cJSON_GetArrayItem(viewer_live_devices(dump), i);

	return cJSON_IsObject(d) ? d : NULL;
}

/* viewer_live_at - see viewer_live.h. */
const cJSON *viewer_live_at(const cJSON *obj, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && obj; k = strtok_r(NULL, ".", &save))
		obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, k) : NULL;
	return obj;
}

/* viewer_live_num - see viewer_live.h. */
double viewer_live_num(const cJSON *obj, const char *path, double fallback)
{
	const cJSON *v = viewer_live_at(obj, path);

	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

/* viewer_live_changed - see viewer_live.h. */
bool viewer_live_changed(const struct viewer_live *live, int device, const char *path)
{
	const cJSON *now, *before;

	if (!live->prev || !live->dump)
		return false;
	now = viewer_live_at(viewer_live_device(live->dump, device), path);
	before = viewer_live_at(viewer_live_device(live->prev, device), path);
	if (!now)
		return false;
	return !before || !cJSON_Compare(now, before, true);
}

/* viewer_live_row_changed - see viewer_live.h. */
bool viewer_live_row_changed(const struct viewer_live *live, int device, const char *list, int i)
{
	const cJSON *now, *before;

	if (!live->prev || !live->dump)
		return false;
	now = cJSON_GetArrayItem(viewer_live_at(viewer_live_device(live->dump, device), list), i);
	before =
		cJSON_GetArrayItem(viewer_live_at(viewer_live_device(live->prev, device), list), i);
	if (!now)
		return false;
	return !before || !cJSON_Compare(now, before, true);
}

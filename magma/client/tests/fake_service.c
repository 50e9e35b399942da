/* SPDX-License-Identifier: MIT */
/*
 * fake_service.c - the in-test fake magma service (see fake_service.h). Test code only: it
 * trusts its own client far more than magma_system may and checks only what the tests need.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_service.h"

static void fake_close_connection_locked(struct fake_service *fs)
{
	if (fs->primary_fd >= 0)
		close(fs->primary_fd);
	if (fs->notify_fd >= 0)
		close(fs->notify_fd);
	fs->primary_fd = fs->notify_fd = -1;
	fs->closed = true;
	pthread_cond_broadcast(&fs->cond);
}

static void fake_send_consumed_locked(struct fake_service *fs)
{
	struct wire_evt_consumed evt = {
		.hdr = {WIRE_EVT_MESSAGES_CONSUMED, 0, sizeof(evt), 0},
		.messages = fs->unacked_messages,
		.bytes = fs->unacked_bytes,
	};

	if (fs->primary_fd < 0 || (!evt.messages && !evt.bytes))
		return;
	fs->unacked_messages = fs->unacked_bytes = 0;
	wire_send(fs->primary_fd, &evt, sizeof(evt), NULL, 0);
}

static void fake_fail_locked(struct fake_service *fs, int32_t status)
{
	struct wire_evt_error evt = {.hdr = {WIRE_EVT_ERROR, 0, sizeof(evt), 0}, .status = status};

	if (fs->primary_fd >= 0 && status)
		wire_send(fs->primary_fd, &evt, sizeof(evt), NULL, 0);
	fake_close_connection_locked(fs);
}

static void fake_device_message(struct fake_service *fs, struct wire_msg *m)
{
	switch (m->hdr->type) {
	case WIRE_DEVICE_IMPORT: {
		struct wire_device_import_resp r = {
			.hdr = {WIRE_RESP(46), 0, sizeof(r), 0},
			.status = fs->refuse_handshake ? MAGMA_STATUS_ACCESS_DENIED : 0,
			.protocol_version = WIRE_PROTOCOL_VERSION,
		};

		wire_send(fs->device_fd, &r, sizeof(r), NULL, 0);
		break;
	}
	case WIRE_DEVICE_QUERY: {
		struct wire_device_query *q = (struct wire_device_query *)m->hdr;
		struct wire_device_query_resp r = {.hdr = {WIRE_RESP(81), 0, sizeof(r), 0}};
		int fd = -1;

		if (q->id == MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS) {
			r.result = fs->inflight_params;
		} else if (q->id == MAGMA_QUERY_VENDOR_ID) {
			r.result = 0x1234;
		} else if (q->id == MAGMA_QUERY_TOTAL_TIME) {
			magma_total_time_query_result_t t = {1, 2};

			fd = memfd_create("fake-total-time", MFD_CLOEXEC);
			if (fd >= 0 && write(fd, &t, sizeof(t)) == sizeof(t)) {
				r.has_buffer = 1;
				r.hdr.fd_count = 1;
			}
		} else {
			r.status = MAGMA_STATUS_INVALID_ARGS;
		}
		wire_send(fs->device_fd, &r, sizeof(r), &fd, r.hdr.fd_count);
		if (fd >= 0)
			close(fd);
		break;
	}
	case WIRE_DEVICE_CREATE_CONNECTION: {
		struct wire_create_connection_resp r = {.hdr = {WIRE_RESP(50), 0, sizeof(r), 0},
							.object_id_base = 1};

		pthread_mutex_lock(&fs->lock);
		if (m->fd_count != 2 || fs->primary_fd >= 0) {
			r.status = MAGMA_STATUS_INTERNAL_ERROR;
		} else {
			fs->primary_fd = m->fds[0];
			fs->notify_fd = m->fds[1];
			m->fds[0] = m->fds[1] = -1;
			fs->closed = false;
			fs->connections++;
		}
		pthread_mutex_unlock(&fs->lock);
		wire_send(fs->device_fd, &r, sizeof(r), NULL, 0);
		break;
	}
	default:
		break;
	}
}

static void fake_primary_message(struct fake_service *fs, struct wire_msg *m)
{
	struct fake_record *rec;
	uint32_t type = m->hdr->type;
	struct stat st;

	pthread_mutex_lock(&fs->lock);
	if (fs->count < FAKE_MAX_RECORDS) {
		rec = &fs->records[fs->count++];
		memset(rec, 0, sizeof(*rec));
		rec->type = type;
		rec->size = m->hdr->size;
		rec->fd_count = m->fd_count;
		memcpy(rec->words, m->hdr + 1,
		       m->hdr->size - sizeof(*m->hdr) < sizeof(rec->words)
			       ? m->hdr->size - sizeof(*m->hdr)
			       : sizeof(rec->words));
		if (m->fd_count && fstat(m->fds[0], &st) == 0)
			rec->fd_ino = (uint64_t)st.st_ino;
	}
	fs->unacked_messages++;
	if (type == WIRE_IMPORT_BUFFER)
		fs->unacked_bytes += ((struct wire_import_buffer *)m->hdr)->size;
	if (type == WIRE_CREATE_PERF_POOL && m->fd_count == 1) {
		if (fs->pool_fd >= 0)
			close(fs->pool_fd);
		fs->pool_fd = m->fds[0];
		m->fds[0] = -1;
	}
	pthread_cond_broadcast(&fs->cond);
	if (fs->fail_on_type && type == fs->fail_on_type) {
		fake_fail_locked(fs, fs->fail_status);
		goto out_unlock;
	}
	if (type == WIRE_FLUSH || type == WIRE_ENABLE_PERF_ACCESS) {
		struct wire_status_resp r = {
			.hdr = {WIRE_RESP(type - 0x1000), 0, sizeof(r), 0},
			.status = type == WIRE_FLUSH ? 0 : fs->perf_access_status,
		};

		/* Acknowledge before answering, like a service that consumed up to here. */
		fake_send_consumed_locked(fs);
		wire_send(fs->primary_fd, &r, sizeof(r), NULL, 0);
	} else if (type == WIRE_CONNECTION_RELEASE) {
		fake_close_connection_locked(fs);
		goto out_unlock;
	}
	if (fs->ack_each)
		fake_send_consumed_locked(fs);
out_unlock:
	pthread_mutex_unlock(&fs->lock);
}

static void *fake_thread(void *arg)
{
	struct fake_service *fs = arg;

	for (;;) {
		struct pollfd pfd[3] = {
			{.fd = fs->ctl[0], .events = POLLIN},
			{.fd = fs->device_fd, .events = POLLIN},
			{.fd = -1, .events = POLLIN},
		};
		struct wire_msg m;
		char c;

		pthread_mutex_lock(&fs->lock);
		pfd[2].fd = fs->primary_fd;
		pthread_mutex_unlock(&fs->lock);
		if (poll(pfd, 3, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			if (read(fs->ctl[0], &c, 1) < 0)
				break;
			pthread_mutex_lock(&fs->lock);
			if (fs->cmd_stop) {
				pthread_mutex_unlock(&fs->lock);
				break;
			}
			if (fs->cmd_ack)
				fake_send_consumed_locked(fs);
			if (fs->cmd_error || fs->cmd_hangup)
				fake_fail_locked(fs, fs->cmd_error);
			fs->cmd_ack = fs->cmd_hangup = false;
			fs->cmd_error = 0;
			pthread_cond_broadcast(&fs->cond);
			pthread_mutex_unlock(&fs->lock);
			continue;
		}
		if (pfd[1].revents && fs->device_fd >= 0) {
			if (wire_recv(fs->device_fd, &m)) {
				close(fs->device_fd);
				fs->device_fd = -1;
			} else {
				fake_device_message(fs, &m);
				wire_msg_free(&m);
			}
		}
		if (pfd[2].fd >= 0 && pfd[2].revents) {
			if (wire_recv(pfd[2].fd, &m)) {
				pthread_mutex_lock(&fs->lock);
				fake_close_connection_locked(fs);
				pthread_mutex_unlock(&fs->lock);
			} else {
				fake_primary_message(fs, &m);
				wire_msg_free(&m);
			}
		}
	}
	return NULL;
}

/* fake_service_start - see fake_service.h. */
struct fake_service *fake_service_start(uint64_t inflight_params, bool ack_each)
{
	struct fake_service *fs = calloc(1, sizeof(*fs));
	int sv[2];

	if (!fs)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe(fs->ctl)) {
		free(fs);
		return NULL;
	}
	fs->client_fd = sv[0];
	fs->device_fd = sv[1];
	fs->primary_fd = fs->notify_fd = fs->pool_fd = -1;
	fs->inflight_params = inflight_params;
	fs->ack_each = ack_each;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->cond, NULL);
	if (pthread_create(&fs->thread, NULL, fake_thread, fs)) {
		close(sv[0]);
		close(sv[1]);
		free(fs);
		return NULL;
	}
	return fs;
}

static void fake_command(struct fake_service *fs)
{
	char c = 1;

	if (write(fs->ctl[1], &c, 1) != 1)
		return;
}

/* fake_service_stop - see fake_service.h. */
void fake_service_stop(struct fake_service *fs)
{
	if (!fs)
		return;
	pthread_mutex_lock(&fs->lock);
	fs->cmd_stop = true;
	pthread_mutex_unlock(&fs->lock);
	fake_command(fs);
	pthread_join(fs->thread, NULL);
	fake_close_connection_locked(fs);
	if (fs->device_fd >= 0)
		close(fs->device_fd);
	if (fs->client_fd >= 0)
		close(fs->client_fd);
	if (fs->pool_fd >= 0)
		close(fs->pool_fd);
	close(fs->ctl[0]);
	close(fs->ctl[1]);
	pthread_cond_destroy(&fs->cond);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static bool fake_wait(struct fake_service *fs, uint32_t n, bool closed)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&fs->lock);
	while (!(closed ? fs->closed : fs->count >= n)) {
		if (pthread_cond_timedwait(&fs->cond, &fs->lock, &ts) == ETIMEDOUT)
			break;
	}
	ok = closed ? fs->closed : fs->count >= n;
	pthread_mutex_unlock(&fs->lock);
	return ok;
}

/* fake_service_wait_count - see fake_service.h. */
bool fake_service_wait_count(struct fake_service *fs, uint32_t n)
{
	return fake_wait(fs, n, false);
}

/* fake_service_wait_closed - see fake_service.h. */
bool fake_service_wait_closed(struct fake_service *fs)
{
	return fake_wait(fs, 0, true);
}

/* fake_service_count - see fake_service.h. */
uint32_t fake_service_count(struct fake_service *fs)
{
	uint32_t n;

	pthread_mutex_lock(&fs->lock);
	n = fs->count;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

/* fake_service_record - see fake_service.h. */
struct fake_record fake_service_record(struct fake_service *fs, uint32_t i)
{
	struct fake_record r = {0};

	pthread_mutex_lock(&fs->lock);
	if (i < fs->count)
		r = fs->records[i];
	pthread_mutex_unlock(&fs->lock);
	return r;
}

/* fake_service_ack - see fake_service.h. */
void fake_service_ack(struct fake_service *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->cmd_ack = true;
	pthread_mutex_unlock(&fs->lock);
	fake_command(fs);
}

/* fake_service_fail - see fake_service.h. Returns once the connection is closed. */
void fake_service_fail(struct fake_service *fs, int32_t status)
{
	pthread_mutex_lock(&fs->lock);
	if (status)
		fs->cmd_error = status;
	else
		fs->cmd_hangup = true;
	pthread_mutex_unlock(&fs->lock);
	fake_command(fs);
	fake_service_wait_closed(fs);
}

/* fake_service_notify - see fake_service.h. */
int fake_service_notify(struct fake_service *fs, const void *data, size_t size)
{
	ssize_t n;
	int fd;

	pthread_mutex_lock(&fs->lock);
	fd = fs->notify_fd;
	n = fd >= 0 ? send(fd, data, size, MSG_NOSIGNAL) : -1;
	pthread_mutex_unlock(&fs->lock);
	return n == (ssize_t)size ? 0 : -EIO;
}

/* fake_device_open - see fake_service.h. */
magma_status_t fake_device_open(struct fake_service **fs_out, magma_device_t *dev_out,
				uint64_t inflight_params, bool ack_each)
{
	struct fake_service *fs = fake_service_start(inflight_params, ack_each);
	magma_status_t status;

	if (!fs)
		return MAGMA_STATUS_INTERNAL_ERROR;
	status = magma_device_import((magma_handle_t)fs->client_fd, dev_out);
	fs->client_fd = -1; /* consumed */
	if (status) {
		fake_service_stop(fs);
		return status;
	}
	*fs_out = fs;
	return MAGMA_STATUS_OK;
}

/* fake_fixture_open - see fake_service.h. */
magma_status_t fake_fixture_open(struct fake_fixture *fx, uint64_t inflight_params, bool ack_each)
{
	magma_status_t status;

	memset(fx, 0, sizeof(*fx));
	status = fake_device_open(&fx->fs, &fx->dev, inflight_params, ack_each);
	if (status)
		return status;
	status = magma_device_create_connection(fx->dev, &fx->conn);
	if (status) {
		magma_device_release(fx->dev);
		fake_service_stop(fx->fs);
		fx->fs = NULL;
	}
	return status;
}

/* fake_fixture_close - see fake_service.h. */
void fake_fixture_close(struct fake_fixture *fx)
{
	if (!fx->fs)
		return;
	magma_connection_release(fx->conn);
	magma_device_release(fx->dev);
	fake_service_stop(fx->fs);
	fx->fs = NULL;
}

/* fake_count_fds - see fake_service.h. */
int fake_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

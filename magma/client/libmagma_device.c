/* SPDX-License-Identifier: MIT */
/*
 * libmagma_device.c - devices: import (the protocol handshake), release, synchronous queries,
 * connection creation and device enumeration.
 *
 * A device is the device channel, a connected Unix stream socket to a magma service. Every
 * device call is a round trip on it, serialised by the device's mutex and bounded by
 * LIBMAGMA_DEVICE_TIMEOUT_MS: a service that does not answer in time, answers out of protocol or
 * hangs up gives MAGMA_STATUS_CONNECTION_LOST, and the channel is shut down so that a late reply
 * can never be taken for the answer to a later request. Creating a connection makes its two
 * socket pairs here and passes the service ends over the device channel (wire.h). Enumeration
 * looks at the file system only and never talks to a service.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmagma_internal.h"

static struct libmagma_device *libmagma_device_get(magma_device_t handle)
{
	return libmagma_handle_lookup(handle, LIBMAGMA_DEVICE_MAGIC);
}

/* libmagma_device_round_trip - see libmagma_internal.h. */
magma_status_t libmagma_device_round_trip(struct libmagma_device *dev, const void *req,
					  size_t req_size, const int *fds, uint32_t fd_count,
					  uint32_t resp_type, size_t resp_size,
					  struct wire_msg *reply)
{
	magma_status_t status = MAGMA_STATUS_CONNECTION_LOST;
	int ret;

	memset(reply, 0, sizeof(*reply));
	pthread_mutex_lock(&dev->lock);
	ret = wire_send(dev->fd, req, req_size, fds, fd_count);
	if (ret)
		goto err_shutdown;
	ret = libmagma_wait_readable(dev->fd, LIBMAGMA_DEVICE_TIMEOUT_MS);
	if (ret <= 0)
		goto err_shutdown;
	ret = wire_recv(dev->fd, reply);
	if (ret)
		goto err_shutdown;
	if (reply->hdr->type != resp_type || reply->hdr->size != resp_size) {
		wire_msg_free(reply);
		goto err_shutdown;
	}
	pthread_mutex_unlock(&dev->lock);
	return MAGMA_STATUS_OK;

err_shutdown:
	shutdown(dev->fd, SHUT_RDWR);
	pthread_mutex_unlock(&dev->lock);
	return status;
}

/*
 * magma_device_import - see magma.h. Consumes @device_channel on every path. It must be a
 * stream socket (else MAGMA_STATUS_INVALID_ARGS). Performs the WIRE_DEVICE_IMPORT handshake;
 * the service's status is returned when it refuses.
 */
magma_status_t libmagma_do_device_import(magma_handle_t device_channel, magma_device_t *device_out)
{
	struct wire_device_import req = {
		.hdr = {WIRE_DEVICE_IMPORT, 0, sizeof(req), 0},
		.protocol_version = WIRE_PROTOCOL_VERSION,
		.api_version = MAGMA_API_VERSION,
	};
	struct wire_device_import_resp *resp;
	struct libmagma_device *dev;
	struct wire_msg reply;
	magma_status_t status;
	socklen_t len = sizeof(int);
	struct stat st;
	int fd = (int)device_channel;
	int type = 0;

	if (!device_out || fd < 0 || fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM) {
		status = MAGMA_STATUS_INVALID_ARGS;
		goto err_close;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_close;
	}
	dev->magic = LIBMAGMA_DEVICE_MAGIC;
	dev->fd = fd;
	pthread_mutex_init(&dev->lock, NULL);
	status = libmagma_device_round_trip(dev, &req, sizeof(req), NULL, 0, WIRE_RESP(46),
					    sizeof(*resp), &reply);
	if (status)
		goto err_free;
	resp = (struct wire_device_import_resp *)reply.hdr;
	status = resp->status;
	/* A device speaking another wire protocol: this library does not implement that one. */
	if (status == MAGMA_STATUS_OK && resp->protocol_version != WIRE_PROTOCOL_VERSION)
		status = MAGMA_STATUS_UNIMPLEMENTED;
	if (status == MAGMA_STATUS_OK && reply.fd_count)
		status = MAGMA_STATUS_CONNECTION_LOST;
	wire_msg_free(&reply);
	if (status)
		goto err_free;
	if (libmagma_handle_add(dev)) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_free;
	}
	*device_out = (magma_device_t)(uintptr_t)dev;
	return MAGMA_STATUS_OK;

err_free:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
err_close:
	if (fd >= 0)
		close(fd);
	return status;
}

/* magma_device_release - see magma.h. Unknown handles are ignored. */
void libmagma_do_device_release(magma_device_t device)
{
	struct libmagma_device *dev = libmagma_device_get(device);

	if (!dev)
		return;
	libmagma_handle_remove(dev);
	dev->magic = 0;
	close(dev->fd);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/*
 * magma_device_query - see magma.h. A buffer answer's fd is handed to the caller (or closed
 * when the caller gave no place for it: MAGMA_STATUS_INVALID_ARGS) and *@result_out, if given,
 * is set to 0; a value answer sets *@result_buffer_out, if given, to -1 (no handle: on Linux a
 * handle is an fd), as Magma sets ZX_HANDLE_INVALID.
 */
magma_status_t libmagma_do_device_query(magma_device_t device, uint64_t id,
					magma_handle_t *result_buffer_out, uint64_t *result_out)
{
	struct libmagma_device *dev = libmagma_device_get(device);
	struct wire_device_query req = {.hdr = {WIRE_DEVICE_QUERY, 0, sizeof(req), 0}, .id = id};
	struct wire_device_query_resp *resp;
	struct wire_msg reply;
	magma_status_t status;

	if (!dev || (!result_buffer_out && !result_out))
		return MAGMA_STATUS_INVALID_ARGS;
	status = libmagma_device_round_trip(dev, &req, sizeof(req), NULL, 0, WIRE_RESP(81),
					    sizeof(*resp), &reply);
	if (status)
		return status;
	resp = (struct wire_device_query_resp *)reply.hdr;
	status = resp->status;
	if (status)
		goto out_free;
	if (resp->has_buffer) {
		if (reply.fd_count != 1) {
			status = MAGMA_STATUS_INTERNAL_ERROR;
			goto out_free;
		}
		if (!result_buffer_out) {
			status = MAGMA_STATUS_INVALID_ARGS;
			goto out_free;
		}
		*result_buffer_out = (magma_handle_t)reply.fds[0];
		reply.fds[0] = -1;
		if (result_out)
			*result_out = 0;
	} else {
		if (reply.fd_count) {
			status = MAGMA_STATUS_INTERNAL_ERROR;
			goto out_free;
		}
		if (!result_out) {
			status = MAGMA_STATUS_INVALID_ARGS;
			goto out_free;
		}
		*result_out = resp->result;
		if (result_buffer_out)
			*result_buffer_out = (magma_handle_t)-1;
	}
out_free:
	wire_msg_free(&reply);
	return status;
}

/*
 * magma_device_create_connection - see magma.h. Makes the primary (stream) and notification
 * (seqpacket) socket pairs, hands the service ends over with WIRE_DEVICE_CREATE_CONNECTION and
 * reads the flow-control limits (MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS; a service refusing the
 * query leaves the connection unthrottled).
 */
magma_status_t libmagma_do_device_create_connection(magma_device_t device,
						    magma_connection_t *connection_out)
{
	struct libmagma_device *dev = libmagma_device_get(device);
	struct wire_create_connection req = {
		.hdr = {WIRE_DEVICE_CREATE_CONNECTION, 0, sizeof(req), 2},
		.client_id = (uint64_t)getpid(),
	};
	struct libmagma_connection *conn;
	struct wire_msg reply;
	magma_status_t status;
	int primary[2], notify[2], fds[2];
	uint64_t params = 0, id_base;
	struct stat st;

	if (!dev || !connection_out)
		return MAGMA_STATUS_INVALID_ARGS;
	status = magma_device_query(device, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, NULL, &params);
	if (status == MAGMA_STATUS_CONNECTION_LOST)
		return status;
	if (status)
		params = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, primary))
		return MAGMA_STATUS_MEMORY_ERROR;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, notify)) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_primary;
	}
	fds[0] = primary[1];
	fds[1] = notify[1];
	/* An in-process service publishes an endpoint under its end of the primary channel. */
	if (fstat(primary[1], &st))
		st.st_ino = 0;
	status = libmagma_device_round_trip(dev, &req, sizeof(req), fds, 2, WIRE_RESP(50),
					    sizeof(struct wire_create_connection_resp), &reply);
	close(primary[1]);
	close(notify[1]);
	primary[1] = notify[1] = -1;
	if (status)
		goto err_notify;
	status = ((struct wire_create_connection_resp *)reply.hdr)->status;
	id_base = ((struct wire_create_connection_resp *)reply.hdr)->object_id_base;
	if (status == MAGMA_STATUS_OK && reply.fd_count)
		status = MAGMA_STATUS_INTERNAL_ERROR;
	wire_msg_free(&reply);
	if (status)
		goto err_notify;
	conn = libmagma_connection_create(primary[0], notify[0], params >> 32,
					  (params & 0xffffffffu) << 20, id_base);
	if (!conn) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_notify;
	}
	if (st.st_ino && libmagma_direct_wanted())
		conn->direct = magma_sim_direct_take((uint64_t)st.st_dev, (uint64_t)st.st_ino,
						     &conn->direct_ops);
	*connection_out = (magma_connection_t)(uintptr_t)conn;
	return MAGMA_STATUS_OK;

err_notify:
	close(notify[0]);
	if (notify[1] >= 0)
		close(notify[1]);
err_primary:
	close(primary[0]);
	if (primary[1] >= 0)
		close(primary[1]);
	return status;
}

/* Parses "magma<N>" (N decimal, no sign or leading junk) into *@n. */
static bool libmagma_parse_device_name(const char *name, unsigned long *n)
{
	char *end;

	if (strncmp(name, "magma", 5) || name[5] < '0' || name[5] > '9')
		return false;
	errno = 0;
	*n = strtoul(name + 5, &end, 10);
	return !errno && *end == '\0' && *n < 1000000;
}

static int libmagma_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Collects the numbers N of entries "magma<N>" in @dir that are sockets (@want_sock) or
 * character devices / sockets (device nodes; the shim's /dev entries), sorted. Returns the
 * count (at most @cap kept) or -errno.
 */
static int libmagma_scan_devices(const char *dir, bool want_sock, unsigned long *nums, int cap)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int count = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		unsigned long n;
		struct stat st;

		if (!libmagma_parse_device_name(de->d_name, &n))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st))
			continue;
		if (want_sock ? !S_ISSOCK(st.st_mode)
			      : !(S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode)))
			continue;
		if (count < cap)
			nums[count] = n;
		count++;
	}
	closedir(d);
	if (count > cap)
		count = cap;
	qsort(nums, (size_t)count, sizeof(*nums), libmagma_cmp_ulong);
	return count;
}

#define LIBMAGMA_MAX_DEVICES 64

/* Writes device path @i into @path: @single when set, else /dev/magma<nums[i]>. */
static void libmagma_device_path(char *path, size_t size, const char *single,
				 const unsigned long *nums, int i)
{
	if (single)
		snprintf(path, size, "%s", single);
	else
		snprintf(path, size, "/dev/magma%lu", nums[i]);
}

/*
 * magma_enumerate_devices - see magma.h. With MAGMA_SIM_DEVICE_DIR set (magma-sim-run), the
 * sockets magma<N> there are reported as /dev/magma<N>, the paths the preload shim opens; else
 * MAGMA_DEVICE names the one device; else the /dev/magma<N> nodes that exist. On an error
 * *@device_count_inout is left as it was.
 */
magma_status_t libmagma_do_enumerate_devices(const char *device_namespace,
					     magma_handle_t device_directory_channel,
					     uint32_t *device_count_inout,
					     uint32_t device_path_size, char *device_paths_out)
{
	unsigned long nums[LIBMAGMA_MAX_DEVICES];
	const char *dir = getenv("MAGMA_SIM_DEVICE_DIR");
	const char *single = NULL;
	char path[PATH_MAX];
	int count;

	(void)device_namespace;
	(void)device_directory_channel;
	if (!device_count_inout)
		return MAGMA_STATUS_INVALID_ARGS;
	if (dir && *dir) {
		count = libmagma_scan_devices(dir, true, nums, LIBMAGMA_MAX_DEVICES);
	} else {
		single = getenv("MAGMA_DEVICE");
		if (single && *single)
			count = 1;
		else {
			single = NULL;
			count = libmagma_scan_devices("/dev", false, nums, LIBMAGMA_MAX_DEVICES);
		}
	}
	if (count < 0)
		count = 0;
	if ((uint32_t)count > *device_count_inout)
		return MAGMA_STATUS_MEMORY_ERROR;
	for (int i = 0; i < count; i++) {
		libmagma_device_path(path, sizeof(path), single, nums, i);
		if (strlen(path) + 1 > device_path_size)
			return MAGMA_STATUS_INVALID_ARGS;
	}
	if (count && !device_paths_out)
		return MAGMA_STATUS_INVALID_ARGS;
	for (int i = 0; i < count; i++) {
		libmagma_device_path(path, sizeof(path), single, nums, i);
		memcpy(device_paths_out + (size_t)i * device_path_size, path, strlen(path) + 1);
	}
	*device_count_inout = (uint32_t)count;
	return MAGMA_STATUS_OK;
}

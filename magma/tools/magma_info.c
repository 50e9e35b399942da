/* SPDX-License-Identifier: MIT */
/*
 * magma_info.c - magma-info: open a Magma device and print the answer to every query.
 *
 *   magma-info [--device PATH]
 *
 * Without --device it uses the embedded device (magma_sim_embedded_open: the whole stack in this
 * process). With a path it connects when PATH is a Unix socket (a magma-simd device) and open()s
 * it otherwise, so `magma-sim-run -- magma-info --device /dev/magma0` goes through the preload
 * shim. The fd is imported with magma_device_import, then the generic queries (vendor and device
 * id, vendor version, total-time support, total time with its buffer decoded, in-flight limits
 * decoded), the vendor queries of magma_sim_defs.h (features, configuration decoded into cores,
 * lanes, queues, AS slots and TLB entries, clock, timestamp buffer decoded, GPU VA limit) and the
 * service's live connection count are printed, one per line, like Fuchsia's magma-info-test. Exit
 * status 0 when the device answered the vendor-id query, 1 otherwise (with the status name and a
 * hint), 2 on bad usage. Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim/status_name.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

#define NO_HANDLE ((magma_handle_t)-1)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: magma-info [--device PATH]\n"
		"       magma-info --help | --version\n"
		"Print the answer to every Magma query of one device, one per line.\n"
		"  --device PATH  the device to ask: a magma-simd socket (connected), or a path\n"
		"                 open()ed as is, e.g. /dev/magma0 under magma-sim-run (through\n"
		"                 its preload shim). Without it: the embedded device, the whole\n"
		"                 stack in this process.\n"
		"  --help         this text.\n"
		"  --version      print \"magma-info VERSION\".\n"
		"Exit: 0 the device answered the vendor-id query, 1 it did not or could not be\n"
		"opened, 2 usage.\n");
}

static int open_device(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (!path)
		return magma_sim_embedded_open();
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (strlen(path) >= sizeof(addr.sun_path))
			return -ENAMETOOLONG;
		strcpy(addr.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			int e = errno;

			close(fd);
			return -e;
		}
		return fd;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Runs query @id; on success exactly one of *@value or *@buf_fd (>= 0) is set. */
static magma_status_t query(magma_device_t dev, uint64_t id, uint64_t *value, int *buf_fd)
{
	magma_handle_t handle = NO_HANDLE;
	magma_status_t s;

	*value = 0;
	*buf_fd = -1;
	s = magma_device_query(dev, id, &handle, value);
	if (s == MAGMA_STATUS_OK && handle != NO_HANDLE)
		*buf_fd = (int)handle;
	return s;
}

static void print_simple(magma_device_t dev, const char *name, uint64_t id)
{
	uint64_t v;
	int fd;
	magma_status_t s = query(dev, id, &v, &fd);

	if (s) {
		printf("%-38s error %d\n", name, s);
		return;
	}
	if (fd >= 0) {
		printf("%-38s (buffer result)\n", name);
		close(fd);
		return;
	}
	printf("%-38s %" PRIu64 " (0x%" PRIx64 ")\n", name, v, v);
}

/* Reads @size bytes of a buffer result into @out; prints the failure. 0 or -1. */
static int read_buffer(magma_device_t dev, const char *name, uint64_t id, void *out, size_t size)
{
	uint64_t v;
	int fd;
	magma_status_t s = query(dev, id, &v, &fd);
	ssize_t n;

	if (s || fd < 0) {
		printf("%-38s error %d%s\n", name, s, s ? "" : " (no buffer)");
		return -1;
	}
	n = pread(fd, out, size, 0);
	close(fd);
	if (n != (ssize_t)size) {
		printf("%-38s short buffer (%zd bytes)\n", name, n);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	magma_total_time_query_result_t tt;
	struct magma_sim_timestamp ts;
	magma_device_t dev;
	magma_status_t s;
	uint64_t v;
	int fd, bfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("magma-info %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else {
			fprintf(stderr, "magma-info: %s '%s' (see magma-info --help)\n",
				!strcmp(argv[i], "--device") ? "missing value for"
							     : "unknown option",
				argv[i]);
			return 2;
		}
	}
	fd = open_device(path);
	if (fd < 0) {
		fprintf(stderr, "magma-info: cannot open %s: %s\n", path ? path : "embedded device",
			strerror(-fd));
		if (path && fd == -ENOENT && !strncmp(path, "/dev/", 5))
			fprintf(stderr,
				"magma-info: hint: /dev/magma0 and /dev/dri/renderD128.. "
				"exist only under magma-sim-run: run "
				"'magma-sim-run -- magma-info --device %s'\n",
				path);
		return 1;
	}
	s = magma_device_import((magma_handle_t)fd, &dev);
	if (s) {
		fprintf(stderr,
			"magma-info: %s is not a Magma device: magma_device_import: %s (%d)\n",
			path ? path : "embedded device", magma_status_name(s), s);
		fprintf(stderr, "magma-info: hint: is magma-simd serving it? run clients under "
				"magma-sim-run for /dev/magma0\n");
		return 1;
	}
	printf("%-38s %s\n", "device", path ? path : "(embedded)");
	s = query(dev, MAGMA_QUERY_VENDOR_ID, &v, &bfd);
	if (bfd >= 0)
		close(bfd);
	print_simple(dev, "MAGMA_QUERY_VENDOR_ID", MAGMA_QUERY_VENDOR_ID);
	print_simple(dev, "MAGMA_QUERY_DEVICE_ID", MAGMA_QUERY_DEVICE_ID);
	print_simple(dev, "MAGMA_QUERY_VENDOR_VERSION", MAGMA_QUERY_VENDOR_VERSION);
	print_simple(dev, "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED",
		     MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED);
	if (read_buffer(dev, "MAGMA_QUERY_TOTAL_TIME", MAGMA_QUERY_TOTAL_TIME, &tt, sizeof(tt)) ==
	    0)
		printf("%-38s gpu_time_ns %" PRIu64 " monotonic_time_ns %" PRIu64 "\n",
		       "MAGMA_QUERY_TOTAL_TIME", tt.gpu_time_ns, tt.monotonic_time_ns);
	if (query(dev, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, &v, &bfd) == MAGMA_STATUS_OK)
		printf("%-38s max messages %" PRIu64 ", max memory %" PRIu64 " MB\n",
		       "MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS", v >> 32, v & 0xffffffffu);
	else
		printf("%-38s error\n", "MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS");
	print_simple(dev, "MAGMA_SIM_QUERY_FEATURES", MAGMA_SIM_QUERY_FEATURES);
	if (query(dev, MAGMA_SIM_QUERY_CONFIG, &v, &bfd) == MAGMA_STATUS_OK && bfd < 0)
		printf("%-38s %" PRIu64 " (0x%" PRIx64 "): cores %u, lanes %u, queues %u, "
		       "AS slots %u, TLB entries %u\n",
		       "MAGMA_SIM_QUERY_CONFIG", v, v,
		       (unsigned)SIM_FIELD_GET(SIM_CONFIG0_CORES, v),
		       (unsigned)SIM_FIELD_GET(SIM_CONFIG0_LANES, v),
		       (unsigned)SIM_FIELD_GET(SIM_CONFIG0_QUEUES, v),
		       (unsigned)SIM_FIELD_GET(SIM_CONFIG0_AS_SLOTS, v),
		       (unsigned)SIM_FIELD_GET(SIM_CONFIG1_TLB_ENTRIES, v >> 32));
	else
		print_simple(dev, "MAGMA_SIM_QUERY_CONFIG", MAGMA_SIM_QUERY_CONFIG);
	print_simple(dev, "MAGMA_SIM_QUERY_CLOCK_HZ", MAGMA_SIM_QUERY_CLOCK_HZ);
	if (read_buffer(dev, "MAGMA_SIM_QUERY_TIMESTAMP", MAGMA_SIM_QUERY_TIMESTAMP, &ts,
			sizeof(ts)) == 0)
		printf("%-38s gpu_cycles %" PRIu64 " gpu_ns %" PRIu64 " monotonic_ns %" PRIu64
		       "..%" PRIu64 "\n",
		       "MAGMA_SIM_QUERY_TIMESTAMP", ts.gpu_cycles, ts.gpu_ns,
		       ts.monotonic_ns_before, ts.monotonic_ns_after);
	print_simple(dev, "MAGMA_SIM_QUERY_GPU_VA_LIMIT", MAGMA_SIM_QUERY_GPU_VA_LIMIT);
	print_simple(dev, "MAGMA_SYSTEM_QUERY_CONNECTION_COUNT",
		     MAGMA_SYSTEM_QUERY_CONNECTION_COUNT);
	magma_device_release(dev);
	return s ? 1 : 0;
}

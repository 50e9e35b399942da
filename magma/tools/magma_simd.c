/* SPDX-License-Identifier: MIT */
/*
 * magma_simd.c - magma-simd, the daemon that serves simulated Magma devices as Unix sockets.
 *
 *   magma-simd --dir DIR [--devices N] [--foreground] [--quiet]
 *
 * For each device i in 0..N-1 it builds a sim GPU, the msd-sim driver on it and a magma_system
 * device, and listens on the stream socket DIR/magma<i>. Each accepted client is one device
 * channel (what magma_device_import takes); the service serves it on its own thread, so a slow
 * client never holds up another. A client that dies leaves nothing behind: its connection
 * threads see the hang-up and release every object. A socket appears under its final name only
 * once it listens (bound as magma<i>.tmp, then renamed), so a client that sees the file can
 * connect. SIGTERM and SIGINT (read through a signalfd by the main thread, the only thread that
 * touches the listening sockets) shut down cleanly: the sockets are closed and removed, every
 * client is disconnected, every device destroyed. Without --foreground the process forks and
 * the parent exits once the sockets are ready; --quiet drops the start-up line. Next to each
 * socket the device's performance-counter access token is published as DIR/magma<i>.perf-token
 * (mode 0600, created before the socket appears, removed at shutdown): whoever can open it can
 * grant a connection counter access. Deliberately not done: access control beyond the
 * directory's and the token's permissions, device hot-plug.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "magma_system/magma_system.h"
#include "sim/sim.h"

#define MAGMA_SIMD_MAX_DEVICES 16

struct simd_device {
	struct sim_device *sim;
	struct magma_system_device *dev;
	int listen_fd;
	char path[PATH_MAX];
	char token_path[PATH_MAX + 16]; /* path + ".perf-token"; "" until published */
};

static void usage(void)
{
	fprintf(stderr, "usage: magma-simd --dir DIR [--devices N] [--foreground] [--quiet]\n");
}

static int listen_at(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	strcpy(addr.sun_path, tmp);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 64) ||
	    rename(tmp, path)) {
		int e = errno;

		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fd;
}

static void device_fini(struct simd_device *d)
{
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->path);
	}
	if (d->token_path[0])
		unlink(d->token_path);
	magma_system_device_destroy(d->dev);
	sim_destroy(d->sim);
	memset(d, 0, sizeof(*d));
	d->listen_fd = -1;
}

static int device_init(struct simd_device *d, const char *dir, int index)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->listen_fd = -1;
	snprintf(d->path, sizeof(d->path), "%s/magma%d", dir, index);
	d->sim = sim_create(NULL);
	if (!d->sim) {
		fprintf(stderr, "magma-simd: cannot create sim device %d\n", index);
		return -1;
	}
	d->dev = magma_system_device_create(d->sim);
	if (!d->dev) {
		fprintf(stderr, "magma-simd: cannot start the driver of device %d\n", index);
		device_fini(d);
		return -1;
	}
	snprintf(d->token_path, sizeof(d->token_path), "%s.perf-token", d->path);
	ret = magma_system_device_publish_perf_token(d->dev, d->token_path);
	if (ret) {
		fprintf(stderr, "magma-simd: %s: %s\n", d->token_path, strerror(-ret));
		d->token_path[0] = '\0';
		device_fini(d);
		return -1;
	}
	d->listen_fd = listen_at(d->path);
	if (d->listen_fd < 0) {
		fprintf(stderr, "magma-simd: %s: %s\n", d->path, strerror(errno));
		device_fini(d);
		return -1;
	}
	return 0;
}

/* Accepts every pending client of @d. */
static void accept_clients(struct simd_device *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of fds: back off instead of spinning on the ready socket. */
				fprintf(stderr, "magma-simd: out of file descriptors\n");
				usleep(10000);
			}
			return; /* EAGAIN, or a client gone before accept */
		}
		if (magma_system_device_serve(d->dev, fd))
			fprintf(stderr, "magma-simd: cannot serve a client of %s\n", d->path);
	}
}

static int serve_until_signal(struct simd_device *devs, int n, int sig_fd)
{
	struct pollfd pfd[MAGMA_SIMD_MAX_DEVICES + 1];

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = devs[i].listen_fd, .events = POLLIN};
	pfd[n] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
	for (;;) {
		if (poll(pfd, (nfds_t)n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd[n].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				return 0;
		}
		for (int i = 0; i < n; i++) {
			if (pfd[i].revents & POLLIN)
				accept_clients(&devs[i]);
		}
	}
}

int main(int argc, char **argv)
{
	struct simd_device devs[MAGMA_SIMD_MAX_DEVICES];
	const char *dir = NULL;
	int n = 1, foreground = 0, quiet = 0, sig_fd, ready[2] = {-1, -1}, ret = 1, made = 0;
	sigset_t sigs;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--devices") && i + 1 < argc) {
			n = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--foreground")) {
			foreground = 1;
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = 1;
		} else {
			usage();
			return 2;
		}
	}
	if (!dir || n < 1 || n > MAGMA_SIMD_MAX_DEVICES) {
		usage();
		return 2;
	}
	if (!foreground) {
		pid_t pid;
		char c;

		if (pipe2(ready, O_CLOEXEC))
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			close(ready[1]);
			/* The child writes one byte once every socket listens. */
			return read(ready[0], &c, 1) == 1 ? 0 : 1;
		}
		close(ready[0]);
		setsid();
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* Blocked before any service thread exists, so every thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0)
		return 1;
	for (made = 0; made < n; made++) {
		if (device_init(&devs[made], dir, made))
			goto out_fini;
	}
	if (foreground && !quiet)
		fprintf(stderr, "magma-simd: serving %d device(s) in %s\n", n, dir);
	if (ready[1] >= 0) {
		if (write(ready[1], "r", 1) != 1)
			goto out_fini;
		close(ready[1]);
		ready[1] = -1;
		if (!freopen("/dev/null", "r", stdin))
			goto out_fini;
	}
	ret = serve_until_signal(devs, n, sig_fd) ? 1 : 0;
out_fini:
	while (made-- > 0)
		device_fini(&devs[made]);
	close(sig_fd);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_sim_shim.c - libmagma_sim_shim.so, an LD_PRELOAD shim that makes the device nodes of a
 * Linux Magma client open the devices of a magma-simd daemon (in the spirit of Mesa's drm-shim).
 *
 * open/open64/openat/openat64 and the fortified __open_2 variants of "/dev/magma<N>" and
 * "/dev/dri/renderD<128+N>" connect a Unix stream socket to $MAGMA_SIM_DEVICE_DIR/magma<N> and
 * return it (O_CLOEXEC is honoured); magma_device_import takes that socket as the device
 * channel. A device the daemon does not serve fails with ENOENT, as a missing node would.
 * "/dev/magma<N>.perf-token" (the performance-counter access token) opens the daemon's file
 * $MAGMA_SIM_DEVICE_DIR/magma<N>.perf-token with the caller's flags. Every
 * other path, and every call while MAGMA_SIM_DEVICE_DIR is unset, goes to the next definition
 * (dlsym(RTLD_NEXT)). Deliberately not intercepted: stat/access of the nodes (enumeration looks
 * at MAGMA_SIM_DEVICE_DIR itself), fopen, and relative paths through a directory fd. Stateless
 * and thread-safe: the next definition is looked up on each call that passes through.
 */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

/* Prototypes of the fortified entry points glibc's headers only declare under fortification. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* Parses "<prefix><digits>" exactly; the number or -1. */
static long shim_parse(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(path, prefix, n) || path[n] < '0' || path[n] > '9')
		return -1;
	errno = 0;
	v = strtol(path + n, &end, 10);
	if (*end || errno || v < 0 || v > 4096)
		return -1;
	return v;
}

/* The device index @path names, or -1 when the shim leaves the path alone. */
static long shim_device_index(const char *path)
{
	const char *dir = getenv("MAGMA_SIM_DEVICE_DIR");
	long n;

	if (!path || !dir || !*dir)
		return -1;
	n = shim_parse(path, "/dev/magma");
	if (n >= 0)
		return n;
	n = shim_parse(path, "/dev/dri/renderD");
	if (n >= 128)
		return n - 128;
	return -1;
}

static int shim_connect(long index, int flags)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *dir = getenv("MAGMA_SIM_DEVICE_DIR");
	int fd, e;

	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/magma%ld", dir, index) >=
	    (int)sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		e = errno;
		close(fd);
		errno = (e == ECONNREFUSED || e == ENOENT) ? ENOENT : e;
		return -1;
	}
	return fd;
}

static mode_t shim_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return va_arg(ap, mode_t);
	return 0;
}

static void *shim_next(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		fprintf(stderr, "magma_sim_shim: no next definition of %s\n", name);
		abort();
	}
	return fn;
}

/* The device index of "/dev/magma<N>.perf-token", or -1. */
static long shim_token_index(const char *path)
{
	static const char suffix[] = ".perf-token";
	const char *dir = getenv("MAGMA_SIM_DEVICE_DIR");
	char name[64];
	size_t n;

	if (!path || !dir || !*dir)
		return -1;
	n = strlen(path);
	if (n <= sizeof(suffix) - 1 || n - (sizeof(suffix) - 1) >= sizeof(name) ||
	    strcmp(path + n - (sizeof(suffix) - 1), suffix))
		return -1;
	memcpy(name, path, n - (sizeof(suffix) - 1));
	name[n - (sizeof(suffix) - 1)] = '\0';
	return shim_parse(name, "/dev/magma");
}

/* Opens the daemon's token file of device @index through the next open definition. */
static int shim_open_token(const char *name, long index, int flags, mode_t mode)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/magma%ld.perf-token", getenv("MAGMA_SIM_DEVICE_DIR"),
		     index) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return ((open_fn)shim_next(name))(path, flags, mode);
}

static int shim_open(const char *name, const char *path, int flags, mode_t mode)
{
	long index = shim_device_index(path);

	if (index >= 0)
		return shim_connect(index, flags);
	index = shim_token_index(path);
	if (index >= 0)
		return shim_open_token(name, index, flags, mode);
	return ((open_fn)shim_next(name))(path, flags, mode);
}

static int shim_openat(const char *name, int dirfd, const char *path, int flags, mode_t mode)
{
	long index = shim_device_index(path);

	if (index >= 0)
		return shim_connect(index, flags);
	index = shim_token_index(path);
	if (index >= 0)
		return shim_open_token(strcmp(name, "openat") ? "open64" : "open", index, flags,
				       mode);
	return ((openat_fn)shim_next(name))(dirfd, path, flags, mode);
}

/* open - intercepted; see the file comment. */
SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = shim_mode(flags, ap);
	va_end(ap);
	return shim_open("open", path, flags, mode);
}

/* open64 - intercepted; see the file comment. */
SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = shim_mode(flags, ap);
	va_end(ap);
	return shim_open("open64", path, flags, mode);
}

/* openat - intercepted; see the file comment. */
SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = shim_mode(flags, ap);
	va_end(ap);
	return shim_openat("openat", dirfd, path, flags, mode);
}

/* openat64 - intercepted; see the file comment. */
SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = shim_mode(flags, ap);
	va_end(ap);
	return shim_openat("openat64", dirfd, path, flags, mode);
}

/* __open_2 - the fortified open without a mode; intercepted likewise. */
SHIM_EXPORT int __open_2(const char *path, int flags)
{
	return shim_open("open", path, flags, 0);
}

/* __open64_2 - the fortified open64; intercepted likewise. */
SHIM_EXPORT int __open64_2(const char *path, int flags)
{
	return shim_open("open64", path, flags, 0);
}

/* __openat_2 - the fortified openat; intercepted likewise. */
SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return shim_openat("openat", dirfd, path, flags, 0);
}

/* __openat64_2 - the fortified openat64; intercepted likewise. */
SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return shim_openat("openat64", dirfd, path, flags, 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_simd.c - magma-simd, the daemon that serves simulated Magma devices as Unix sockets.
 *
 *   magma-simd --dir DIR [--devices N] [--cores N] [--queues N] [--lanes N] [--memory SIZE]
 *              [--policy-clock host|gpu] [--foreground] [--quiet] [--verbose]...
 *              [--limit SCOPE.NAME=N]... [--handshake-timeout-ms MS] [--faults PLAN]
 *              [--control PATH] [--pidfile PATH] [--trace FILE]
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
 *
 * --cores, --queues, --lanes and --memory configure the model of every device (struct
 * sim_config; the rest keeps its defaults). Each is checked before anything starts: a value that
 * is malformed or out of range is an error naming the option and its range (exit 2). The daemon
 * runs each sim's clock from before its driver is created until after the driver is gone, as the
 * driver expects of its host (msd_sim_hooks.h).
 *
 * The log (magma_system.h: the service's, the driver's and the model's lines, on stderr) shows
 * errors only, unless --verbose (info; twice: debug) or MAGMA_SIM_LOG asks for more; a
 * MAGMA_SIM_LOG that names no level is refused (exit 2). Fault-plan firings show at every level
 * but off.
 *
 * Many clients share this process, so what they can take of it is bounded (docs/devices.md,
 * "Limits"): the service charges every channel, connection, buffer, semaphore and mapping to the
 * client process behind it and to its device. The daemon raises its fd limit to the hard limit
 * and, before any device exists, shrinks the device-wide limits of what costs it fds (channels,
 * connections, imported handles) and host mappings (threads, GPU-resident buffers) until N
 * devices at their limits fit its fd limit and vm.max_map_count with room to spare
 * (fit_limits); a per-process limit is then kept to at most three quarters of its device's.
 * Imported buffers cost the daemon an fd until the GPU maps them (MAP_BUFFERS_ON_USE), not one
 * of its mappings. --limit sets any
 * limit after that (SCOPE is "process" or "device", NAME one of magma_system_resource_name's),
 * --handshake-timeout-ms how long a new channel may stay silent.
 *
 * --faults PLAN applies a fault plan (docs/fault-injection.md) to every device, each with its own
 * counts (connection numbers, submissions, cycles are per device). The plan is read before
 * anything starts: one that cannot be read or applied is reported with its file, line and field,
 * and the daemon exits 2 without creating a socket.
 *
 * One daemon per directory: DIR/.magma-simd.lock is held (flock) for the daemon's life and holds
 * its pid, so a second magma-simd on the same DIR exits 2 naming the first instead of taking its
 * sockets over. --pidfile PATH writes the pid there once every socket listens (removed at exit).
 *
 * --control PATH also serves a control socket at PATH (faults/fault_control.h; magma-ctl is its
 * client): status and dump of every device, and fault plans armed or cleared while clients run.
 * Every device then has a fault device, with or without --faults.
 *
 * --trace FILE records every device's side (magma_simd_trace.h): the events the embedded device
 * writes into a client's trace, stamped with host time, plus which client connection each job
 * belongs to, into FILE (device N: FILE.N), for `magma-trace merge` with a client's MAGMA_TRACE
 * recording (docs/trace-format.md, "Daemon recording"). The files are created before the fork,
 * so one that cannot be created (or that another process is writing) is an error at start (exit
 * 2); each ends properly when the daemon stops on SIGTERM or SIGINT.
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
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "faults/fault_control.h"
#include "faults/fault_device.h"
#include "faults/fault_plan.h"
#include "magma_simd_trace.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "sim/sim.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

#define MAGMA_SIMD_MAX_DEVICES	   16
/* --memory: at least room for the driver's rings, fence and tables and a client; at most what
 * the model's frame table (8 bytes a frame, reserved at creation) allows sensibly. */
#define MAGMA_SIMD_MIN_MEMORY	   (1ull << 20)
#define MAGMA_SIMD_MAX_MEMORY	   (1ull << 40)
/* What the process needs besides the devices' clients: fds, and mappings (libraries, heaps). */
#define MAGMA_SIMD_RESERVED_FDS	   256
#define MAGMA_SIMD_RESERVED_MAPS   4096
/* Host mappings of one service thread: its stack and guard page. */
#define MAGMA_SIMD_MAPS_PER_THREAD 2

struct simd_device {
	struct sim_device *sim;
	struct magma_system_device *dev;
	struct fault_device *faults; /* the --faults plan applied to this device, or NULL */
	struct simd_trace *trace;    /* --trace: this device's recording, or NULL */
	int listen_fd;
	char path[PATH_MAX];
	char token_path[PATH_MAX + 16]; /* path + ".perf-token"; "" until published */
};

/* @bytes as "4G", "16M", "12K" or "4096": the largest suffix that divides it. */
static const char *size_name(uint64_t bytes, char *buf, size_t size)
{
	static const char suffix[] = "KMGT";
	int i = -1;

	while (i < 3 && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%llu%c", (unsigned long long)bytes, suffix[i]);
	return buf;
}

static void usage(FILE *out)
{
	struct sim_config def;
	char mem[32], min_mem[32], max_mem[32];

	sim_config_default(&def);
	fprintf(out,
		"usage: magma-simd --dir DIR [--devices N] [--cores N] [--queues N] [--lanes N]\n"
		"                  [--memory SIZE] [--policy-clock host|gpu] [--foreground]\n"
		"                  [--quiet] [--verbose]...\n"
		"                  [--limit SCOPE.NAME=N]... [--handshake-timeout-ms MS]\n"
		"                  [--faults PLAN] [--control PATH] [--pidfile PATH]\n"
		"                  [--trace FILE]\n"
		"\n"
		"Serves simulated Magma devices as the sockets DIR/magma0.. (docs/devices.md).\n"
		"  --dir DIR                 directory of the device sockets (made, mode 0700,\n"
		"                            when missing; its parent must exist)\n"
		"  --devices N               number of devices, 1 to %d (default 1)\n"
		"The model of every device (docs/devices.md, \"The model\"):\n"
		"  --cores N                 compute cores, 1 to %d (default %u)\n"
		"  --queues N                hardware queues, 1 to %d (default %u)\n"
		"  --lanes N                 lanes per core (workgroup width), 1 to %d\n"
		"                            (default %u)\n"
		"  --memory SIZE             bus memory the driver can pin, %s to %s in whole\n"
		"                            4K pages: bytes, or with a K, M, G or T suffix\n"
		"                            (powers of 1024; default %s)\n"
		"  --policy-clock host|gpu   what the driver times its policies by (idle\n"
		"                            power-down, clock scaling, aging): host time\n"
		"                            (default), or GPU cycles, so that the same calls\n"
		"                            give the same GPU cycles however fast the host is\n"
		"                            (magma-campaign and magma-replay use gpu)\n"
		"  --foreground              do not fork; log to stderr\n"
		"  --quiet                   no start-up line\n"
		"  --verbose                 log more on stderr: info (the driver's and the\n"
		"                            service's), twice: debug. By default only errors,\n"
		"                            and fault-plan firings; MAGMA_SIM_LOG=off|error|\n"
		"                            warn|info|debug sets the level too\n"
		"  --limit SCOPE.NAME=N      a ceiling of every device: SCOPE is process (each\n"
		"                            client process) or device (all clients); NAME is\n"
		"                            one of: ",
		MAGMA_SIMD_MAX_DEVICES, SIM_CONFIG_CORES_MAX, def.cores, SIM_QUEUE_MAX, def.queues,
		SIM_CONFIG_LANES_MAX, def.lanes,
		size_name(MAGMA_SIMD_MIN_MEMORY, min_mem, sizeof(min_mem)),
		size_name(MAGMA_SIMD_MAX_MEMORY, max_mem, sizeof(max_mem)),
		size_name(def.max_frames * SIM_PAGE_SIZE, mem, sizeof(mem)));
	for (int r = 0, col = 36; r < MAGMA_SYSTEM_RES_COUNT; r++) {
		const char *name = magma_system_resource_name(r);

		if (r && col + (int)strlen(name) + 2 > 80) {
			fprintf(out, ",\n                            ");
			col = 28;
		} else if (r) {
			col += fprintf(out, ", ");
		}
		col += fprintf(out, "%s", name);
	}
	fprintf(out,
		"\n"
		"                            (may be repeated; docs/devices.md, \"Limits\")\n"
		"  --handshake-timeout-ms MS close a new channel that has not completed its\n"
		"                            handshake within MS (default 2000)\n"
		"  --faults PLAN             apply the fault plan PLAN (JSON) to every device,\n"
		"                            each counting its own events; every firing is\n"
		"                            logged to stderr (docs/fault-injection.md). A plan\n"
		"                            with an error: exit 2 naming file, line and field\n"
		"  --pidfile PATH            write the daemon's pid to PATH once the sockets\n"
		"                            listen (removed at exit)\n"
		"  --control PATH            also serve a control socket at PATH (mode 0600)\n"
		"                            for magma-ctl: status, dump, and fault plans\n"
		"                            armed or cleared while clients run\n"
		"                            (docs/fault-injection.md, \"Live sessions\")\n"
		"  --trace FILE              record every device's side (registers, interrupts,\n"
		"                            jobs and the client connection each belongs to,\n"
		"                            faults, power) with host times into FILE (device\n"
		"                            N: FILE.N), ended when the daemon stops; merge it\n"
		"                            with a client's MAGMA_TRACE recording: magma-trace\n"
		"                            merge CLIENT FILE OUT (docs/trace-format.md,\n"
		"                            \"Daemon recording\")\n"
		"  --help                    this text\n"
		"  --version                 print \"magma-simd VERSION\"\n"
		"Exit: 0 sockets ready (without --foreground) or a clean stop on SIGINT or\n"
		"SIGTERM, 1 an error, 2 usage (an option value malformed or out of range, a\n"
		"MAGMA_SIM_LOG naming no level), an unusable DIR, a DIR another magma-simd\n"
		"serves, a bad fault plan, or a --trace FILE that cannot be created.\n");
}

/*
 * Holds DIR/.magma-simd.lock for this daemon's life (the fd stays open, across the fork); -1 with
 * the reason printed when another magma-simd holds it or it cannot be made.
 */
static int lock_dir(const char *dir, char *path, size_t size)
{
	char pid[32] = "?";
	ssize_t n;
	int fd;

	snprintf(path, size, "%s/.magma-simd.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "magma-simd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	n = pread(fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 1] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	fprintf(stderr,
		"magma-simd: %s is already served by magma-simd pid %s (%s): stop it, or use "
		"another --dir\n",
		dir, pid[0] ? pid : "?", path);
	close(fd);
	return -1;
}

/* Writes this process's pid into @fd (the lock file) or the file at @path; 0 or -1. */
static int write_pid(int fd, const char *path)
{
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid()), ret;

	if (fd < 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		ret = write(fd, pid, (size_t)len) == len ? 0 : -1;
		close(fd);
		return ret;
	}
	if (ftruncate(fd, 0))
		return -1;
	return pwrite(fd, pid, (size_t)len, 0) == len ? 0 : -1;
}

/* Parses "SCOPE.NAME=N" into @limits. 0, or -1 when it names no limit or N is not a number. */
/* Makes @dir (0700: its permissions are the devices' access control) unless it is a directory
 * already; 0, or -1 with the reason printed. */
static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	fprintf(stderr, "magma-simd: --dir %s: %s\n", dir, strerror(errno));
	return -1;
}

static int parse_limit(struct magma_system_limits *limits, const char *spec)
{
	const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
	uint64_t *table;
	char *end;
	unsigned long long value;

	if (!dot || !eq || eq < dot)
		return -1;
	if (dot - spec == 7 && !strncmp(spec, "process", 7))
		table = limits->process;
	else if (dot - spec == 6 && !strncmp(spec, "device", 6))
		table = limits->device;
	else
		return -1;
	errno = 0;
	value = strtoull(eq + 1, &end, 0);
	if (errno || end == eq + 1 || *end || eq[1] == '-')
		return -1;
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++) {
		const char *name = magma_system_resource_name(r);

		if ((size_t)(eq - dot - 1) == strlen(name) &&
		    !strncmp(dot + 1, name, strlen(name))) {
			table[r] = value;
			return 0;
		}
	}
	return -1;
}

/*
 * Parses @arg, the value of @opt, as a decimal count from @min to @max into *@out. 0, or -1 after
 * saying on stderr what is wanted (and the default, @def).
 */
static int parse_count(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t def,
		       uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v < min || v > max) {
		fprintf(stderr,
			"magma-simd: %s '%s': want a number from %u to %u (default %u; see "
			"magma-simd --help)\n",
			opt, arg, min, max, def);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * Parses @arg, the value of --memory, as bytes: digits, then optionally K, M, G or T (powers of
 * 1024, either case); whole 4K pages from MAGMA_SIMD_MIN_MEMORY to MAGMA_SIMD_MAX_MEMORY. The page
 * count goes to *@frames_out. 0, or -1 after saying on stderr what is wanted.
 */
static int parse_memory(const char *arg, uint64_t def_frames, uint64_t *frames_out)
{
	static const char suffixes[] = "kmgt";
	char min_mem[32], max_mem[32], def_mem[32];
	unsigned long long v;
	const char *s;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !errno && *end && !end[1] &&
	    (s = strchr(suffixes, end[0] | 0x20)) != NULL) {
		shift = 10 * (int)(s - suffixes + 1);
		end++;
	}
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v > (MAGMA_SIMD_MAX_MEMORY >> shift) ||
	    (v << shift) < MAGMA_SIMD_MIN_MEMORY || (v << shift) % SIM_PAGE_SIZE) {
		fprintf(stderr,
			"magma-simd: --memory '%s': want a size from %s to %s in whole 4K pages, "
			"as bytes or with a K, M, G or T suffix (default %s; see magma-simd "
			"--help)\n",
			arg, size_name(MAGMA_SIMD_MIN_MEMORY, min_mem, sizeof(min_mem)),
			size_name(MAGMA_SIMD_MAX_MEMORY, max_mem, sizeof(max_mem)),
			size_name(def_frames * SIM_PAGE_SIZE, def_mem, sizeof(def_mem)));
		return -1;
	}
	*frames_out = (v << shift) / SIM_PAGE_SIZE;
	return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* vm.max_map_count, or the kernel's default when it cannot be read. */
static uint64_t max_map_count(void)
{
	unsigned long long v = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/*
 * Shares @budget between a device's per-thread cost (@per_thread for each of its channels and
 * connections, plus @per_connection more for each connection) and @pool (a limit that costs
 * one each): @pool gives way first, down to half of the budget, then channels and connections
 * shrink in proportion. Only ever lowers a limit.
 */
static void share_budget(struct magma_system_limits *l, uint64_t budget, uint64_t per_thread,
			 uint64_t per_connection, enum magma_system_resource pool)
{
	uint64_t *channels = &l->device[MAGMA_SYSTEM_RES_CHANNELS];
	uint64_t *connections = &l->device[MAGMA_SYSTEM_RES_CONNECTIONS];
	uint64_t fixed = per_thread * (*channels + *connections) + per_connection * *connections;
	uint64_t left;

	if (l->device[pool] + fixed <= budget)
		return;
	left = fixed < budget / 2 ? budget - fixed : budget - budget / 2;
	l->device[pool] = min_u64(l->device[pool], left);
	if (fixed <= budget - l->device[pool])
		return;
	left = budget - l->device[pool];
	*channels = *channels * left / fixed;
	*connections = *connections * left / fixed;
}

/*
 * Shrinks @l (the limits of each of @n devices) to what this process can give them all at
 * once: fds (the fd limit, raised to its hard limit here) and host mappings (vm.max_map_count),
 * each less a reserve. What a device can cost at its limits: an fd per channel, three per
 * connection (its two sockets and a wakeup eventfd) and one per imported handle; two mappings
 * per service thread (one per channel and per connection) and one per resident buffer. The
 * handles and the resident buffers give way first. A per-process limit then stays at most three
 * quarters of its device's, so that one process never holds a whole device.
 */
static void fit_limits(struct magma_system_limits *l, int n)
{
	struct rlimit rl;
	uint64_t fds = 1024, maps = max_map_count();

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		fds = rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : rl.rlim_cur;
	}
	fds = fds > MAGMA_SIMD_RESERVED_FDS ? (fds - MAGMA_SIMD_RESERVED_FDS) / (uint64_t)n : 0;
	maps = maps > MAGMA_SIMD_RESERVED_MAPS ? (maps - MAGMA_SIMD_RESERVED_MAPS) / (uint64_t)n
					       : 0;
	share_budget(l, fds, 1, 2, MAGMA_SYSTEM_RES_HANDLES);
	share_budget(l, maps, MAGMA_SIMD_MAPS_PER_THREAD, 0, MAGMA_SYSTEM_RES_RESIDENT_BUFFERS);
	l->device[MAGMA_SYSTEM_RES_PENDING_CHANNELS] = min_u64(
		l->device[MAGMA_SYSTEM_RES_PENDING_CHANNELS], l->device[MAGMA_SYSTEM_RES_CHANNELS]);
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++)
		l->process[r] = min_u64(l->process[r], l->device[r] / 4 * 3);
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
	fault_device_stop(d->faults); /* it may call the service until stopped */
	magma_system_device_destroy(d->dev);
	fault_device_destroy(d->faults);
	if (d->sim)
		sim_stop(d->sim);   /* once the driver is gone (msd_sim_hooks.h) */
	simd_trace_close(d->trace); /* its hooks ran until the service was gone */
	sim_destroy(d->sim);
	memset(d, 0, sizeof(*d));
	d->listen_fd = -1;
}

/* Builds device @index; takes @trace (may be NULL), which device_fini closes. 0 or -1. */
static int device_init(struct simd_device *d, const char *dir, int index,
		       const struct sim_config *cfg, const struct magma_system_limits *limits,
		       uint32_t flags, const struct fault_plan *plan, bool control,
		       struct simd_trace *trace)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->listen_fd = -1;
	d->trace = trace;
	snprintf(d->path, sizeof(d->path), "%s/magma%d", dir, index);
	d->sim = sim_create(cfg);
	if (!d->sim) {
		fprintf(stderr, "magma-simd: cannot create sim device %d\n", index);
		device_fini(d);
		return -1;
	}
	/* Before the driver's first register access, so the trace sees its bring-up. */
	if (d->trace && simd_trace_device_created(d->trace, d->sim)) {
		fprintf(stderr, "magma-simd: cannot record device %d: no event subscription left\n",
			index);
		device_fini(d);
		return -1;
	}
	/* The GPU's clock is ours to run, from before the driver's bring-up (msd_sim_hooks.h). */
	ret = sim_start(d->sim);
	if (ret) {
		fprintf(stderr, "magma-simd: cannot start the clock of device %d: %s\n", index,
			strerror(-ret));
		device_fini(d);
		return -1;
	}
	/* A buffer no GPU mapping uses costs the daemon an fd (accounted), not a host mapping. */
	d->dev = magma_system_device_create_limited(d->sim, limits,
						    flags | MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE);
	if (!d->dev) {
		fprintf(stderr, "magma-simd: cannot start the driver of device %d\n", index);
		device_fini(d);
		return -1;
	}
	if (plan || control) {
		char label[16];

		/* Before the socket exists: the service reads its hooks without a lock. */
		snprintf(label, sizeof(label), "magma%d", index);
		d->faults = fault_device_create(plan, label, d->sim, d->dev);
		if (!d->faults) {
			fprintf(stderr, "magma-simd: cannot apply the fault plan to device %d\n",
				index);
			device_fini(d);
			return -1;
		}
	}
	if (d->trace) {
		/* The trace names the device as clients' traces will (MAGMA_SYSTEM_QUERY_INSTANCE);
		 * its hooks go in front of the fault plan's, before the socket exists. */
		magma_system_device_set_instance(d->dev, simd_trace_instance(d->trace));
		simd_trace_attach(d->trace, d->dev);
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
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC), ret;

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
		/* Past a limit (-EMFILE) the service has logged it, once per client process. */
		ret = magma_system_device_serve(d->dev, fd);
		if (ret && ret != -EMFILE)
			fprintf(stderr, "magma-simd: cannot serve a client of %s: %s\n", d->path,
				strerror(-ret));
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
	struct magma_system_limits limits;
	struct sim_config cfg, def;
	struct fault_plan *plan = NULL;
	char plan_error[FAULT_ERROR_MAX];
	const char *dir = NULL, *limit_args[2 * MAGMA_SYSTEM_RES_COUNT], *faults_path = NULL;
	const char *control_path = NULL, *pidfile = NULL, *trace_path = NULL;
	struct simd_trace *traces[MAGMA_SIMD_MAX_DEVICES] = {0};
	char lock_path[PATH_MAX];
	int lock_fd = -1;
	struct fault_control *control = NULL;
	int n = 1, foreground = 0, quiet = 0, sig_fd, ready[2] = {-1, -1}, ret = 1, made = 0;
	const char *env_log;
	int nlimits = 0, verbose = 0, log_level;
	uint32_t devices = 1, device_flags = 0;
	long timeout_ms = -1;
	sigset_t sigs;

	sim_config_default(&def);
	cfg = def;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(opt, "--devices") && i + 1 < argc) {
			if (parse_count(opt, argv[++i], 1, MAGMA_SIMD_MAX_DEVICES, 1, &devices))
				return 2;
			n = (int)devices;
		} else if (!strcmp(opt, "--cores") && i + 1 < argc) {
			if (parse_count(opt, argv[++i], 1, SIM_CONFIG_CORES_MAX, def.cores,
					&cfg.cores))
				return 2;
		} else if (!strcmp(opt, "--queues") && i + 1 < argc) {
			if (parse_count(opt, argv[++i], 1, SIM_QUEUE_MAX, def.queues, &cfg.queues))
				return 2;
		} else if (!strcmp(opt, "--lanes") && i + 1 < argc) {
			if (parse_count(opt, argv[++i], 1, SIM_CONFIG_LANES_MAX, def.lanes,
					&cfg.lanes))
				return 2;
		} else if (!strcmp(opt, "--memory") && i + 1 < argc) {
			if (parse_memory(argv[++i], def.max_frames, &cfg.max_frames))
				return 2;
		} else if (!strcmp(opt, "--policy-clock") && i + 1 < argc) {
			const char *clock = argv[++i];

			if (!strcmp(clock, "gpu")) {
				device_flags |= MAGMA_SYSTEM_DEVICE_POLICY_ON_GPU_TIME;
			} else if (strcmp(clock, "host")) {
				fprintf(stderr,
					"magma-simd: --policy-clock '%s': want host or gpu (default "
					"host; see magma-simd --help)\n",
					clock);
				return 2;
			}
		} else if (!strcmp(opt, "--foreground")) {
			foreground = 1;
		} else if (!strcmp(opt, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(opt, "--verbose")) {
			verbose++;
		} else if (!strcmp(opt, "--limit") && i + 1 < argc &&
			   nlimits < (int)(sizeof(limit_args) / sizeof(limit_args[0]))) {
			limit_args[nlimits++] = argv[++i];
		} else if (!strcmp(opt, "--handshake-timeout-ms") && i + 1 < argc) {
			timeout_ms = atol(argv[++i]);
			if (timeout_ms <= 0 || timeout_ms > 3600000) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(opt, "--faults") && i + 1 < argc) {
			faults_path = argv[++i];
		} else if (!strcmp(opt, "--control") && i + 1 < argc) {
			control_path = argv[++i];
		} else if (!strcmp(opt, "--pidfile") && i + 1 < argc) {
			pidfile = argv[++i];
		} else if (!strcmp(opt, "--trace") && i + 1 < argc) {
			trace_path = argv[++i];
		} else if (!strcmp(opt, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(opt, "--version")) {
			printf("magma-simd %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else {
			fprintf(stderr, "magma-simd: %s '%s' (see magma-simd --help)\n",
				opt[0] != '-'	? "unexpected argument"
				: i + 1 == argc ? "unknown option or missing value for"
						: "unknown option",
				opt);
			return 2;
		}
	}
	if (!dir || n < 1 || n > MAGMA_SIMD_MAX_DEVICES) {
		usage(stderr);
		return 2;
	}
	/* MAGMA_SIM_LOG, raised by --verbose. A level misspelt is refused, not ignored. */
	env_log = getenv("MAGMA_SIM_LOG");
	if (env_log && *env_log && magma_system_log_level_parse(env_log, &log_level)) {
		fprintf(stderr,
			"magma-simd: MAGMA_SIM_LOG=%s: want off, error, warn, info or debug (see "
			"magma-simd --help)\n",
			env_log);
		return 2;
	}
	log_level = verbose > 1 ? MAGMA_LOG_DEBUG : MAGMA_LOG_INFO;
	if (verbose && magma_system_log_level() < log_level)
		magma_system_set_log_level(log_level);
	cfg.log_mask |= magma_system_sim_log_mask();
	magma_system_limits_default(&limits);
	fit_limits(&limits, n);
	for (int i = 0; i < nlimits; i++) {
		if (parse_limit(&limits, limit_args[i])) {
			fprintf(stderr, "magma-simd: bad --limit %s\n", limit_args[i]);
			usage(stderr);
			return 2;
		}
	}
	if (make_dir(dir))
		return 2;
	lock_fd = lock_dir(dir, lock_path, sizeof(lock_path));
	if (lock_fd < 0)
		return 2;
	if (timeout_ms > 0)
		limits.handshake_timeout_ms = (uint32_t)timeout_ms;
	if (faults_path) {
		plan = fault_plan_load_for_device(faults_path, plan_error);
		if (!plan) {
			fprintf(stderr, "magma-simd: --faults: %s\n", plan_error);
			return 2;
		}
	}
	/* Before the fork, so that a FILE that cannot be written is an error the caller sees. */
	for (int i = 0; trace_path && i < n; i++) {
		char path[PATH_MAX], sock[PATH_MAX];

		snprintf(sock, sizeof(sock), "%s/magma%d", dir, i);
		if (!simd_trace_path(trace_path, (unsigned int)i, path, sizeof(path))) {
			fprintf(stderr, "magma-simd: --trace %s: name too long\n", trace_path);
			ret = 2;
			goto out_plan;
		}
		traces[i] = simd_trace_open(path, (unsigned int)i, (unsigned int)n, sock);
		if (!traces[i]) {
			fprintf(stderr, "magma-simd: --trace %s: cannot create %s: %s\n",
				trace_path, path,
				errno == EBUSY ? "another process is writing it (a magma-simd or "
						 "a MAGMA_TRACE recording)"
					       : strerror(errno));
			ret = 2;
			goto out_plan;
		}
	}
	if (!foreground) {
		pid_t pid;
		char c;

		if (pipe2(ready, O_CLOEXEC))
			goto out_plan;
		pid = fork();
		if (pid < 0)
			goto out_plan;
		if (pid > 0) {
			close(ready[1]);
			for (int i = 0; i < n; i++)
				simd_trace_forget(traces[i]); /* the child writes them */
			fault_plan_destroy(plan);	      /* the child applies it */
			/* The child writes one byte once every socket listens. */
			return read(ready[0], &c, 1) == 1 ? 0 : 1;
		}
		close(ready[0]);
		setsid();
	}
	/* The process that serves (the child when forking) names itself in the lock. */
	if (write_pid(lock_fd, NULL))
		fprintf(stderr, "magma-simd: %s: %s\n", lock_path, strerror(errno));
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* Blocked before any service thread exists, so every thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0)
		goto out_plan;
	for (made = 0; made < n; made++) {
		struct simd_trace *trace = traces[made];

		traces[made] = NULL; /* device_init takes it */
		if (device_init(&devs[made], dir, made, &cfg, &limits, device_flags, plan,
				control_path != NULL, trace))
			goto out_fini;
	}
	if (control_path) {
		struct fault_device *fdevs[MAGMA_SIMD_MAX_DEVICES];
		char error[256];

		for (int i = 0; i < n; i++)
			fdevs[i] = devs[i].faults;
		control =
			fault_control_start(control_path, fdevs, (uint32_t)n, error, sizeof(error));
		if (!control) {
			fprintf(stderr, "magma-simd: --control: %s\n", error);
			goto out_fini;
		}
	}
	if (foreground && !quiet) {
		char mem[32];

		fprintf(stderr,
			"magma-simd: serving %d device(s) in %s: %u cores x %u lanes, %u queues, %s "
			"of memory each; log %s; limits per process/device:",
			n, dir, cfg.cores, cfg.lanes, cfg.queues,
			size_name(cfg.max_frames * SIM_PAGE_SIZE, mem, sizeof(mem)),
			magma_system_log_level_name(magma_system_log_level()));
		for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++)
			fprintf(stderr, "%s %s %llu/%llu", r ? "," : "",
				magma_system_resource_name(r),
				(unsigned long long)limits.process[r],
				(unsigned long long)limits.device[r]);
		fprintf(stderr, "\n");
	}
	if (pidfile && write_pid(-1, pidfile)) {
		fprintf(stderr, "magma-simd: --pidfile %s: %s\n", pidfile, strerror(errno));
		pidfile = NULL;
		goto out_fini;
	}
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
	fault_control_stop(control);
	while (made-- > 0)
		device_fini(&devs[made]);
	close(sig_fd);
out_plan:
	for (int i = 0; i < n; i++)
		simd_trace_close(traces[i]); /* those no device took */
	fault_plan_destroy(plan);
	if (pidfile)
		unlink(pidfile);
	unlink(lock_path); /* still held: nobody else has it open locked */
	close(lock_fd);
	return ret;
}

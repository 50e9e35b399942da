/* SPDX-License-Identifier: MIT */
/*
 * magma_sim_run.c - magma-sim-run: run an unmodified Magma client against simulated devices.
 *
 *   magma-sim-run [--devices N] [--cores N] [--queues N] [--lanes N] [--memory SIZE]
 *                 [--policy-clock host|gpu]
 *                 [--verbose]... [--faults PLAN] [--trace FILE] -- COMMAND [ARGS...]
 *
 * Makes a private directory (mkdtemp under $TMPDIR or /tmp), starts `magma-simd --dir DIR
 * --devices N --foreground --quiet` from the directory this executable lives in, waits until every
 * device socket exists (magma-simd publishes a socket only once it listens), then runs COMMAND
 * with MAGMA_SIM_DEVICE_DIR=DIR and libmagma_sim_shim.so (next to this executable, or in
 * ../lib/magma-sim/ when installed)
 * prepended to LD_PRELOAD, so open("/dev/magma0") in COMMAND returns a connected device channel.
 * When COMMAND exits the daemon gets SIGTERM (SIGKILL after 5 s), the directory is removed, and
 * magma-sim-run exits with COMMAND's status (128 + signal number if it was killed). SIGINT and
 * SIGTERM received meanwhile are forwarded to COMMAND. --faults PLAN is read first (a plan with an
 * error is reported with its file, line and field, and nothing starts: exit 2) and handed to
 * magma-simd, which applies it to every device. --cores, --queues, --lanes, --memory and
 * --verbose go to magma-simd as they are: it checks them, and a value it refuses (it says why)
 * makes magma-sim-run exit 2 before COMMAND runs; so does --trace FILE (magma-simd records the
 * devices' side there, ended when it stops after COMMAND). The daemon inherits the environment,
 * so MAGMA_SIM_LOG reaches it too. Single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults/fault_plan.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static volatile sig_atomic_t run_child_pid;

static void forward_signal(int sig)
{
	if (run_child_pid > 0)
		kill((pid_t)run_child_pid, sig);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: magma-sim-run [--devices N] [--cores N] [--queues N] [--lanes N]\n"
		"                     [--memory SIZE] [--policy-clock host|gpu] [--verbose]...\n"
		"                     [--faults PLAN] [--trace FILE]\n"
		"                     -- COMMAND [ARGS...]\n"
		"\n"
		"Runs COMMAND against a private magma-simd: open(\"/dev/magma0\") and\n"
		"open(\"/dev/dri/renderD128\") in it return device channels (docs/devices.md).\n"
		"  --devices N    number of devices (default 1)\n"
		"  --cores N, --queues N, --lanes N, --memory SIZE\n"
		"                 the model of every device, passed to magma-simd (see\n"
		"                 magma-simd --help for ranges and defaults: 4 cores, 4 queues,\n"
		"                 32 lanes, 4G); a value it refuses: exit 2\n"
		"  --policy-clock host|gpu\n"
		"                 passed to magma-simd: gpu times the driver's policies by GPU\n"
		"                 cycles, so a run repeats its GPU cycles (default host)\n"
		"  --verbose      the daemon logs info on stderr (twice: debug); by default\n"
		"                 errors only, or the level MAGMA_SIM_LOG names\n"
		"  --faults PLAN  apply the fault plan PLAN (JSON) to every device\n"
		"                 (docs/fault-injection.md); a plan with an error: exit 2 naming\n"
		"                 file, line and field, before anything starts\n"
		"  --trace FILE   magma-simd records the devices' side into FILE (device N:\n"
		"                 FILE.N); with MAGMA_TRACE=CLIENT for COMMAND, magma-trace\n"
		"                 merge CLIENT FILE OUT gives one trace (docs/trace-format.md)\n"
		"  --help         this text\n"
		"  --version      print \"magma-sim-run VERSION\"\n"
		"Exits with COMMAND's status (128 + signal number if it was killed); 2 when\n"
		"the options are wrong or magma-simd refuses them.\n");
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The directory of this executable, into @out. 0 or -1. */
static int self_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

/*
 * Waits until DIR/magma0..n-1 exist or the daemon @pid dies; 10 s at most. 0, or -1 (the
 * daemon's exit status in *@status_out when it died, else -1).
 */
static int wait_ready(const char *dir, int n, pid_t pid, int *status_out)
{
	*status_out = -1;
	for (int tries = 0; tries < 1000; tries++) {
		int ready = 0, status;

		for (int i = 0; i < n; i++) {
			char path[PATH_MAX];
			struct stat st;

			snprintf(path, sizeof(path), "%s/magma%d", dir, i);
			ready += stat(path, &st) == 0;
		}
		if (ready == n)
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*status_out = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

static void stop_daemon(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		sleep_ms(10);
	}
	fprintf(stderr, "magma-sim-run: magma-simd did not stop; killing it\n");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char path[PATH_MAX];

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char exe_dir[PATH_MAX - 300], simd[PATH_MAX], shim[PATH_MAX], dir[PATH_MAX - 300];
	char preload[PATH_MAX * 2 + 2];
	const char *tmp = getenv("TMPDIR");
	const char *old_preload = getenv("LD_PRELOAD");
	char devices[16] = "1";
	const char *faults = NULL, *trace = NULL;
	/*
	 * magma-simd's argv: 7 fixed, the model options (10), --verbose (2), --faults PLAN,
	 * --trace FILE, NULL.
	 */
	const char *simd_argv[24];
	const char *model[10];
	int nmodel = 0, verbose = 0, nargs = 0;
	int cmd = -1, status = 0, ret = 1, daemon_status;
	pid_t daemon_pid, child;
	struct sigaction sa;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			cmd = i + 1;
			break;
		} else if (!strcmp(argv[i], "--devices") && i + 1 < argc) {
			snprintf(devices, sizeof(devices), "%s", argv[++i]);
		} else if ((!strcmp(argv[i], "--cores") || !strcmp(argv[i], "--queues") ||
			    !strcmp(argv[i], "--lanes") || !strcmp(argv[i], "--memory") ||
			    !strcmp(argv[i], "--policy-clock")) &&
			   i + 1 < argc) {
			/* The daemon checks the value; a repeated option's last value wins there.
			 */
			if (nmodel == (int)(sizeof(model) / sizeof(model[0]))) {
				fprintf(stderr, "magma-sim-run: too many model options (see "
						"magma-sim-run --help)\n");
				return 2;
			}
			model[nmodel++] = argv[i];
			model[nmodel++] = argv[++i];
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "--faults") && i + 1 < argc) {
			faults = argv[++i];
		} else if (!strcmp(argv[i], "--trace") && i + 1 < argc) {
			trace = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("magma-sim-run %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else {
			fprintf(stderr, "magma-sim-run: %s '%s' (see magma-sim-run --help)\n",
				argv[i][0] != '-' ? "unexpected argument"
				: i + 1 == argc	  ? "unknown option or missing value for"
						  : "unknown option",
				argv[i]);
			return 2;
		}
	}
	if (cmd < 0 || cmd >= argc || atoi(devices) < 1) {
		usage(stderr);
		return 2;
	}
	if (faults) {
		/* Read here too, so that a bad plan stops everything before it starts. */
		char error[FAULT_ERROR_MAX];
		struct fault_plan *plan = fault_plan_load_for_device(faults, error);

		if (!plan) {
			fprintf(stderr, "magma-sim-run: --faults: %s\n", error);
			return 2;
		}
		fault_plan_destroy(plan);
	}
	if (self_dir(exe_dir, sizeof(exe_dir))) {
		fprintf(stderr, "magma-sim-run: cannot find my own directory\n");
		return 1;
	}
	snprintf(simd, sizeof(simd), "%s/magma-simd", exe_dir);
	/* Next to this program in a build tree; in lib/magma-sim/ when installed. */
	snprintf(shim, sizeof(shim), "%s/libmagma_sim_shim.so", exe_dir);
	if (access(shim, R_OK))
		snprintf(shim, sizeof(shim), "%s/../lib/magma-sim/libmagma_sim_shim.so", exe_dir);
	if (access(simd, X_OK) || access(shim, R_OK)) {
		fprintf(stderr, "magma-sim-run: %s or %s missing\n", simd, shim);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/magma-sim-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("magma-sim-run: mkdtemp");
		return 1;
	}
	daemon_pid = fork();
	if (daemon_pid < 0)
		goto out_dir;
	if (daemon_pid == 0) {
		simd_argv[nargs++] = "magma-simd";
		simd_argv[nargs++] = "--dir";
		simd_argv[nargs++] = dir;
		simd_argv[nargs++] = "--devices";
		simd_argv[nargs++] = devices;
		simd_argv[nargs++] = "--foreground";
		simd_argv[nargs++] = "--quiet";
		for (int i = 0; i < nmodel; i++)
			simd_argv[nargs++] = model[i];
		for (int i = 0; i < verbose && i < 2; i++)
			simd_argv[nargs++] = "--verbose";
		if (faults) {
			simd_argv[nargs++] = "--faults";
			simd_argv[nargs++] = faults;
		}
		if (trace) {
			simd_argv[nargs++] = "--trace";
			simd_argv[nargs++] = trace;
		}
		simd_argv[nargs] = NULL;
		execv(simd, (char *const *)simd_argv);
		perror("magma-sim-run: exec magma-simd");
		_exit(127);
	}
	if (wait_ready(dir, atoi(devices), daemon_pid, &daemon_status)) {
		fprintf(stderr, "magma-sim-run: magma-simd did not come up\n");
		if (daemon_status >= 0) { /* it exited (2: it refused its arguments) */
			ret = daemon_status == 2 ? 2 : 1;
			goto out_dir;
		}
		goto out_daemon;
	}
	if (old_preload && *old_preload)
		snprintf(preload, sizeof(preload), "%s:%s", shim, old_preload);
	else
		snprintf(preload, sizeof(preload), "%s", shim);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	child = fork();
	if (child < 0)
		goto out_daemon;
	if (child == 0) {
		setenv("MAGMA_SIM_DEVICE_DIR", dir, 1);
		setenv("LD_PRELOAD", preload, 1);
		execvp(argv[cmd], &argv[cmd]);
		fprintf(stderr, "magma-sim-run: %s: %s\n", argv[cmd], strerror(errno));
		_exit(127);
	}
	run_child_pid = child;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	run_child_pid = 0;
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out_daemon:
	stop_daemon(daemon_pid);
out_dir:
	remove_dir(dir);
	return ret;
}

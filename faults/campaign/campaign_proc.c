/* SPDX-License-Identifier: MIT */
/*
 * campaign_proc.c - processes and files for the campaign runner: the tools' paths, fork/exec
 * with redirected output, waits with deadlines (hang guards only: nothing here measures how
 * long something took), private directories and shell quoting.
 *
 * The tools are found as magma-sim-run finds its own: next to the running executable (an
 * installed layout keeps them in one bin directory), else at the paths CMake passed in
 * (CAMPAIGN_SIMD_PATH, CAMPAIGN_SHIM_PATH, CAMPAIGN_WITNESS_PATH). One thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign_proc.h"

#ifndef CAMPAIGN_SIMD_PATH
#define CAMPAIGN_SIMD_PATH ""
#endif
#ifndef CAMPAIGN_SHIM_PATH
#define CAMPAIGN_SHIM_PATH ""
#endif
#ifndef CAMPAIGN_WITNESS_PATH
#define CAMPAIGN_WITNESS_PATH ""
#endif

/* @name next to this executable, else @built; into @out. -1 if neither is there. */
static int find_tool(const char *name, const char *built, int mode, char out[PATH_MAX], char *error)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, PATH_MAX, "%s/%s", self, name) < PATH_MAX &&
			    access(out, mode) == 0)
				return 0;
		}
	}
	if (built[0] && access(built, mode) == 0) {
		snprintf(out, PATH_MAX, "%s", built);
		return 0;
	}
	snprintf(
		error, CAMPAIGN_PROC_ERROR_MAX,
		"%s not found: neither next to magma-campaign (%.200s) nor at its build path (%.200s)",
		name, n > 0 ? self : "?", built[0] ? built : "none configured");
	return -1;
}

int campaign_tools_find(struct campaign_tools *out, bool need_witness,
			char error[CAMPAIGN_PROC_ERROR_MAX])
{
	out->witness[0] = '\0';
	if (find_tool("magma-simd", CAMPAIGN_SIMD_PATH, X_OK, out->simd, error) ||
	    find_tool("libmagma_sim_shim.so", CAMPAIGN_SHIM_PATH, R_OK, out->shim, error))
		return -1;
	if (need_witness &&
	    find_tool("magma-witness", CAMPAIGN_WITNESS_PATH, X_OK, out->witness, error))
		return -1;
	return 0;
}

static int open_output(const char *path)
{
	return open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* In the child: set up and exec; never returns. */
static void child_exec(const struct campaign_spawn *how)
{
	int in = how->stdin_fd >= 0 ? how->stdin_fd : open("/dev/null", O_RDONLY);
	int out = open_output(how->out_path);
	int err = how->err_path ? open_output(how->err_path) : out;

	if (how->own_group)
		setpgid(0, 0);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	for (const int *fd = how->close_fds; fd && *fd >= 0; fd++)
		close(*fd);
	if (how->device_dir) {
		const char *old = getenv("LD_PRELOAD");
		char preload[PATH_MAX * 2];

		if (old && *old)
			snprintf(preload, sizeof(preload), "%s:%s", how->shim, old);
		else
			snprintf(preload, sizeof(preload), "%s", how->shim);
		setenv("MAGMA_SIM_DEVICE_DIR", how->device_dir, 1);
		setenv("LD_PRELOAD", preload, 1);
	}
	if (how->trace_path)
		setenv("MAGMA_TRACE", how->trace_path, 1);
	signal(SIGPIPE, SIG_DFL);
	execvp(how->argv[0], how->argv);
	fprintf(stderr, "magma-campaign: %s: %s\n", how->argv[0], strerror(errno));
	_exit(127);
}

pid_t campaign_spawn(const struct campaign_spawn *how)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_exec(how);
	if (pid > 0 && how->own_group)
		setpgid(pid, pid); /* also here: no race with a kill of the group */
	return pid;
}

bool campaign_exited(pid_t pid, int *status_out)
{
	pid_t r;

	do
		r = waitpid(pid, status_out, WNOHANG);
	while (r < 0 && errno == EINTR);
	return r == pid;
}

int campaign_wait(pid_t pid, int timeout_ms, int *status_out)
{
	double deadline = campaign_now() + timeout_ms / 1000.0;
	long nap = 1;

	for (;;) {
		if (campaign_exited(pid, status_out))
			return 0;
		if (campaign_now() >= deadline)
			return -1;
		campaign_sleep_ms(nap);
		if (nap < 20)
			nap *= 2;
	}
}

int campaign_kill(pid_t pid, bool group)
{
	int status = -1;

	kill(group ? -pid : pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

void campaign_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

double campaign_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *campaign_read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, size = 4096;
	char *text;

	if (!f)
		return NULL;
	text = malloc(size);
	while (text) {
		size_t n = fread(text + len, 1, size - 1 - len, f);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == size) {
			char *bigger = realloc(text, size * 2);

			if (!bigger) {
				free(text);
				text = NULL;
				break;
			}
			text = bigger;
			size *= 2;
		}
	}
	if (text)
		text[len] = '\0';
	fclose(f);
	return text;
}

int campaign_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

void campaign_remove_dir(const char *dir)
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

static int copy_file(const char *from, const char *to)
{
	char *text = campaign_read_text(from);
	int ret;

	if (!text)
		return -1;
	ret = campaign_write_text(to, text);
	free(text);
	return ret;
}

int campaign_move_dir(const char *from, const char *to)
{
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (rename(from, to) == 0)
		return 0;
	if (mkdir(to, 0700) && errno != EEXIST)
		return -1;
	d = opendir(from);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char src[PATH_MAX], dst[PATH_MAX];
		struct stat st;

		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		if (stat(src, &st) || !S_ISREG(st.st_mode))
			continue;
		if (copy_file(src, dst))
			ret = -1;
	}
	closedir(d);
	if (ret == 0)
		campaign_remove_dir(from);
	return ret;
}

/* Whether @word needs quotes for a POSIX shell. */
static bool needs_quotes(const char *word)
{
	if (!word[0])
		return true;
	for (const char *p = word; *p; p++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "_-+=./:,@%^",
			    *p))
			return true;
	}
	return false;
}

char *campaign_shell_join(const char *prefix, int argc, char *const *argv)
{
	size_t size = strlen(prefix) + 1, n;
	char *line;

	for (int i = 0; i < argc; i++)
		size += 4 * strlen(argv[i]) + 3;
	line = malloc(size);
	if (!line)
		return NULL;
	n = (size_t)snprintf(line, size, "%s", prefix);
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (n)
			line[n++] = ' ';
		if (!needs_quotes(w)) {
			n += (size_t)snprintf(line + n, size - n, "%s", w);
			continue;
		}
		line[n++] = '\'';
		for (; *w; w++) {
			if (*w == '\'') {
				memcpy(line + n, "'\\''", 4);
				n += 4;
			} else {
				line[n++] = *w;
			}
		}
		line[n++] = '\'';
	}
	line[n] = '\0';
	return line;
}

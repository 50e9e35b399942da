/* SPDX-License-Identifier: MIT */
/*
 * campaign_proc.h - the processes and files of a campaign: finding the tools, starting a
 * program with its output in a file, waiting with a deadline, private directories, and the
 * shell quoting of reproduction lines.
 *
 * Called from the campaign's one thread (fork and waitpid are per process).
 */
#ifndef CAMPAIGN_PROC_H
#define CAMPAIGN_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define CAMPAIGN_PROC_ERROR_MAX 512

/* The programs a campaign runs, by absolute path. */
struct campaign_tools {
	char simd[PATH_MAX];	/* magma-simd */
	char shim[PATH_MAX];	/* libmagma_sim_shim.so */
	char witness[PATH_MAX]; /* magma-witness ("" when not needed) */
};

/*
 * campaign_tools_find - each tool next to this executable (the installed layout), else at its
 * build-time path. -1 naming the missing one in @error. The witness is looked for only if
 * @need_witness.
 */
int campaign_tools_find(struct campaign_tools *out, bool need_witness,
			char error[CAMPAIGN_PROC_ERROR_MAX]);

/* How to start a program. */
struct campaign_spawn {
	char *const *argv;	/* argv[0] is looked up in PATH if it has no slash */
	int stdin_fd;		/* its stdin; -1: /dev/null */
	const char *out_path;	/* its stdout (created or truncated); NULL: /dev/null */
	const char *err_path;	/* its stderr; NULL: the same file as stdout */
	const char *device_dir; /* non-NULL: MAGMA_SIM_DEVICE_DIR and the shim in LD_PRELOAD */
	const char *shim;	/* with @device_dir */
	const char *trace_path; /* non-NULL: MAGMA_TRACE (the client records a trace there) */
	bool own_group;		/* in a process group of its own (killed whole on a hang) */
	const int *close_fds;	/* descriptors the child must not keep, -1 terminated, or NULL */
};

/* campaign_spawn - fork and exec as @how says. The child's pid, or -1 (errno). */
pid_t campaign_spawn(const struct campaign_spawn *how);

/*
 * campaign_wait - wait for child @pid at most @timeout_ms: 0 with its waitpid status in
 * *@status_out, or -1 if it is still running.
 */
int campaign_wait(pid_t pid, int timeout_ms, int *status_out);

/* campaign_exited - whether child @pid has ended (status in *@status_out), without blocking. */
bool campaign_exited(pid_t pid, int *status_out);

/* campaign_kill - SIGKILL @pid (its whole group if @group) and reap it; its status. */
int campaign_kill(pid_t pid, bool group);

/* campaign_sleep_ms - sleep @ms milliseconds (signals do not cut it short). */
void campaign_sleep_ms(long ms);

/* campaign_now - CLOCK_MONOTONIC in seconds. */
double campaign_now(void);

/* campaign_read_text - the whole file @path as a new NUL-terminated string; NULL if none. */
char *campaign_read_text(const char *path);

/* campaign_write_text - @text into the file @path (created or truncated). 0 or -1. */
int campaign_write_text(const char *path, const char *text);

/* campaign_remove_dir - remove @dir and the files in it (not recursive: ours are flat). */
void campaign_remove_dir(const char *dir);

/*
 * campaign_move_dir - move @from to @to (made), by rename or else by copying its regular files
 * and removing @from. 0 or -1.
 */
int campaign_move_dir(const char *from, const char *to);

/*
 * campaign_shell_join - @argc words quoted for a POSIX shell where needed and joined by spaces
 * (a new string), appended to @prefix (already shell text). NULL if memory ran out.
 */
char *campaign_shell_join(const char *prefix, int argc, char *const *argv);

#endif /* CAMPAIGN_PROC_H */

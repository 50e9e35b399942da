/* SPDX-License-Identifier: MIT */
/*
 * campaign_point.c - one run of the command against a private magma-simd, as a campaign point
 * or as the fault-free baseline.
 *
 * A run has a fresh directory (mkdtemp) and a fresh daemon, so no point inherits anything from
 * another: the daemon is started with the point's plan and a control socket, asked how many
 * descriptors it holds with no client, then the witness starts (and finishes a first round)
 * and the command runs with the shim, as magma-sim-run runs it. When the command ends the
 * witness's stdin is closed (it runs one last round, after whatever the fault did), the daemon
 * is polled until every client is gone, dumped, and stopped with SIGTERM. The verdict is
 * campaign_verdict.c's, from what was seen here.
 *
 * Every wait has a deadline, and every deadline is a hang guard only: 30 s for the daemon and
 * the witness to come up or go away, --timeout for the command. One thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign_control.h"
#include "campaign_point.h"

#define CAMPAIGN_GUARD_MS   30000 /* a daemon or witness that takes longer is stuck */
#define CAMPAIGN_SETTLE_MS  10000 /* for the daemon to see every client gone */
#define CAMPAIGN_CONTROL_MS 10000

struct session {
	char dir[PATH_MAX - 64];
	char control[PATH_MAX];
	pid_t daemon, witness, command;
	pid_t witness_pid; /* the witness's pid, kept after it is reaped */
	int witness_in;	   /* the write end of the witness's stdin */
	int64_t fds_before;
	bool hung, daemon_alive;
	int command_status, witness_status, daemon_status;
	cJSON *dump;
	char error[CAMPAIGN_REASON_MAX]; /* why the run could not be set up, or the dump failed */
	char *witness_out;
	double seconds;
};

/* What the verdict reads of a finished session (the kind, status and witness log are the
 * caller's). */
static void observe_session(const struct session *s, const struct campaign_runner *runner,
			    struct campaign_observation *obs)
{
	obs->dump = s->dump;
	obs->dump_error = s->error;
	obs->fds_before = s->fds_before;
	obs->hung = s->hung;
	obs->timeout_s = runner->timeout_s;
	obs->daemon_alive = s->daemon_alive;
	obs->daemon_status = s->daemon_status;
	obs->witness = runner->witness;
	obs->witness_status = s->witness_status;
	obs->witness_pid = s->witness_pid;
}

static void path_in(const struct session *s, const char *name, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%s", s->dir, name);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Starts the daemon (with @plan if any) and waits until its sockets answer. 0 or -1. */
static int start_daemon(const struct campaign_runner *runner, struct session *s, const char *plan)
{
	char plan_path[PATH_MAX], log[PATH_MAX], device[PATH_MAX];
	char *argv[14];
	int argc = 0, status;
	double deadline;

	path_in(s, "plan.json", plan_path);
	path_in(s, "daemon.log", log);
	path_in(s, "magma0", device);
	path_in(s, "control", s->control);
	if (plan && campaign_write_text(plan_path, plan)) {
		snprintf(s->error, sizeof(s->error), "cannot write %.400s", plan_path);
		return -1;
	}
	argv[argc++] = (char *)runner->tools->simd;
	argv[argc++] = "--dir";
	argv[argc++] = s->dir;
	argv[argc++] = "--foreground";
	argv[argc++] = "--quiet";
	/* Fired and applied cycles must repeat: no idle power-down timed by the host. */
	argv[argc++] = "--policy-clock";
	argv[argc++] = "gpu";
	if (plan) {
		argv[argc++] = "--faults";
		argv[argc++] = plan_path;
	}
	argv[argc++] = "--control";
	argv[argc++] = s->control;
	argv[argc] = NULL;
	s->daemon = campaign_spawn(&(struct campaign_spawn){
		.argv = argv, .stdin_fd = -1, .out_path = log, .own_group = true});
	if (s->daemon < 0) {
		snprintf(s->error, sizeof(s->error), "cannot start magma-simd: %s",
			 strerror(errno));
		return -1;
	}
	deadline = campaign_now() + CAMPAIGN_GUARD_MS / 1000.0;
	while (!exists(device) || !exists(s->control)) {
		if (campaign_exited(s->daemon, &status)) {
			s->daemon = 0;
			snprintf(s->error, sizeof(s->error),
				 "magma-simd exited at start (status %#x): see %.400s", status,
				 log);
			return -1;
		}
		if (campaign_now() > deadline) {
			snprintf(s->error, sizeof(s->error), "magma-simd did not come up in %d s",
				 CAMPAIGN_GUARD_MS / 1000);
			return -1;
		}
		campaign_sleep_ms(5);
	}
	return 0;
}

/* The daemon's status answer (retrying while its control socket is not accepting yet). */
static cJSON *ask_status(struct session *s, double deadline)
{
	char error[CAMPAIGN_CONTROL_ERROR_MAX];

	for (;;) {
		cJSON *answer = campaign_control_ask(s->control, "{\"cmd\":\"status\"}",
						     CAMPAIGN_CONTROL_MS, error);

		if (answer)
			return answer;
		if (campaign_now() > deadline) {
			snprintf(s->error, sizeof(s->error), "control status: %.400s", error);
			return NULL;
		}
		campaign_sleep_ms(10);
	}
}

/* Starts the witness and waits for its first round. 0 or -1. */
static int start_witness(const struct campaign_runner *runner, struct session *s)
{
	char device[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	char *argv[] = {(char *)runner->tools->witness, "--device", device, "--until-eof", NULL};
	double deadline = campaign_now() + CAMPAIGN_GUARD_MS / 1000.0;
	int pipe_fds[2];

	path_in(s, "magma0", device);
	path_in(s, "witness.out", out);
	path_in(s, "witness.err", err);
	if (pipe2(pipe_fds, O_CLOEXEC)) {
		snprintf(s->error, sizeof(s->error), "pipe: %s", strerror(errno));
		return -1;
	}
	s->witness = campaign_spawn(&(struct campaign_spawn){
		.argv = argv, .stdin_fd = pipe_fds[0], .out_path = out, .err_path = err});
	close(pipe_fds[0]);
	s->witness_in = pipe_fds[1];
	s->witness_pid = s->witness;
	if (s->witness < 0) {
		snprintf(s->error, sizeof(s->error), "cannot start magma-witness: %s",
			 strerror(errno));
		return -1;
	}
	for (;;) {
		char *text = campaign_read_text(out);
		bool ready = text && campaign_witness_has_round(text);

		free(text);
		if (ready)
			return 0;
		if (campaign_exited(s->witness, &s->witness_status)) {
			s->witness = 0; /* its exit status tells the verdict */
			return 0;
		}
		if (campaign_now() > deadline) {
			snprintf(s->error, sizeof(s->error),
				 "magma-witness finished no round in %d s",
				 CAMPAIGN_GUARD_MS / 1000);
			return -1;
		}
		campaign_sleep_ms(5);
	}
}

static void run_command(const struct campaign_runner *runner, struct session *s)
{
	char log[PATH_MAX], trace[PATH_MAX];

	path_in(s, "command.log", log);
	path_in(s, "trace.json", trace); /* a kept failing point opens in magma-view */
	s->command = campaign_spawn(&(struct campaign_spawn){.argv = runner->argv,
							     .stdin_fd = -1,
							     .out_path = log,
							     .device_dir = s->dir,
							     .shim = runner->tools->shim,
							     .trace_path = trace,
							     .own_group = true});
	if (s->command < 0) {
		snprintf(s->error, sizeof(s->error), "cannot start the command: %s",
			 strerror(errno));
		return;
	}
	if (campaign_wait(s->command, (int)(runner->timeout_s * 1000), &s->command_status)) {
		s->hung = true;
		s->command_status = campaign_kill(s->command, true);
	}
	s->command = 0;
}

/* Ends the witness: EOF on its stdin, then its last round. */
static void finish_witness(struct session *s)
{
	char out[PATH_MAX];

	if (s->witness_in >= 0) {
		close(s->witness_in);
		s->witness_in = -1;
	}
	if (s->witness > 0) {
		if (campaign_wait(s->witness, CAMPAIGN_GUARD_MS, &s->witness_status))
			s->witness_status = campaign_kill(s->witness, false);
		s->witness = 0;
	}
	path_in(s, "witness.out", out);
	s->witness_out = campaign_read_text(out);
}

/* Polls until no client is left and the descriptors are back; then dumps and stops the daemon. */
static void finish_daemon(struct session *s)
{
	double deadline = campaign_now() + CAMPAIGN_SETTLE_MS / 1000.0;
	char error[CAMPAIGN_CONTROL_ERROR_MAX], what[96], path[PATH_MAX];

	for (;;) {
		cJSON *status = ask_status(s, deadline);
		const cJSON *device = status ? campaign_control_device(status, 0) : NULL;
		bool settled = device && campaign_control_int(device, "connections.open") == 0 &&
			       campaign_control_int(status, "fds") == s->fds_before &&
			       campaign_control_live_zero(device, what, sizeof(what));

		cJSON_Delete(status);
		if (settled || !status || campaign_now() > deadline)
			break;
		campaign_sleep_ms(20);
	}
	s->dump =
		campaign_control_ask(s->control, "{\"cmd\":\"dump\"}", CAMPAIGN_CONTROL_MS, error);
	if (!s->dump) {
		snprintf(s->error, sizeof(s->error), "control dump: %.400s", error);
	} else {
		char *text = cJSON_Print(s->dump);

		path_in(s, "dump.json", path);
		if (text)
			campaign_write_text(path, text);
		free(text);
	}
	s->daemon_alive = !campaign_exited(s->daemon, &s->daemon_status);
	if (s->daemon_alive) {
		kill(s->daemon, SIGTERM);
		if (campaign_wait(s->daemon, CAMPAIGN_GUARD_MS, &s->daemon_status))
			s->daemon_status = campaign_kill(s->daemon, true);
	}
	s->daemon = 0;
}

/* Kills whatever of the run is still there (after a setup error). */
static void session_fini(struct session *s)
{
	if (s->witness_in >= 0)
		close(s->witness_in);
	if (s->command > 0)
		campaign_kill(s->command, true);
	if (s->witness > 0)
		campaign_kill(s->witness, false);
	if (s->daemon > 0)
		campaign_kill(s->daemon, true);
	cJSON_Delete(s->dump);
	free(s->witness_out);
}

/*
 * One run, @plan or none: fills @s. 0 when it ran to the end (the verdict is then the
 * observation's); -1 when it could not be set up (s->error).
 */
static int session_run(const struct campaign_runner *runner, const char *plan, struct session *s)
{
	const char *tmp = getenv("TMPDIR");
	double start = campaign_now();
	cJSON *status;

	memset(s, 0, sizeof(*s));
	s->witness_in = -1;
	s->fds_before = -1;
	s->command_status = s->witness_status = s->daemon_status = -1;
	snprintf(s->dir, sizeof(s->dir), "%s/magma-campaign-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		snprintf(s->error, sizeof(s->error), "mkdtemp %.400s: %.80s", s->dir,
			 strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	if (start_daemon(runner, s, plan))
		return -1;
	status = ask_status(s, campaign_now() + CAMPAIGN_GUARD_MS / 1000.0);
	if (!status)
		return -1;
	s->fds_before = campaign_control_int(status, "fds");
	cJSON_Delete(status);
	if (runner->witness && start_witness(runner, s))
		return -1;
	run_command(runner, s);
	finish_witness(s);
	finish_daemon(s);
	s->seconds = campaign_now() - start;
	return 0;
}

int campaign_baseline_run(const struct campaign_runner *runner, struct campaign_baseline *out)
{
	struct campaign_witness_log log;
	struct campaign_observation obs = {.kind = FAULT_MMU_FAULT}; /* no loss allowed */
	struct campaign_verdict verdict;
	struct session s;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->fds_before = out->fds_after = -1;
	out->command_status = -1;
	if (session_run(runner, NULL, &s)) {
		snprintf(out->error, sizeof(out->error), "%.500s", s.error);
		goto out_session;
	}
	campaign_witness_parse(s.witness_out, NULL, &log);
	snprintf(out->digest, sizeof(out->digest), "%s", log.digest);
	out->witness_rounds = log.rounds;
	out->fds_before = s.fds_before;
	out->fds_after = campaign_control_int(s.dump, "fds");
	out->connections =
		campaign_control_int(campaign_control_device(s.dump, 0), "connections.opened");
	out->command_status = s.command_status;
	out->seconds = s.seconds;
	/* The point checks, with nothing allowed to go wrong. */
	observe_session(&s, runner, &obs);
	obs.witness_log = log;
	campaign_verdict_decide(&obs, &verdict);
	for (int c = 0; c < CAMPAIGN_CHECK_COUNT; c++) {
		if (c == CAMPAIGN_CHECK_FIRED || verdict.checks[c].result != CAMPAIGN_FAIL)
			continue;
		snprintf(out->error, sizeof(out->error), "%.20s: %.480s",
			 campaign_check_name((enum campaign_check)c), verdict.checks[c].reason);
		goto out_session;
	}
	if (runner->witness && !log.digest[0]) {
		snprintf(out->error, sizeof(out->error), "the witness finished no round");
		goto out_session;
	}
	out->ok = true;
	ret = 0;
out_session:
	session_fini(&s);
	if (ret == 0 && s.dir[0])
		campaign_remove_dir(s.dir);
	else if (s.dir[0])
		snprintf(out->error + strlen(out->error), sizeof(out->error) - strlen(out->error),
			 " (kept %.400s)", s.dir);
	return ret;
}

/* The status a fail_call of @plan fails with ("INTERNAL_ERROR"), into @out. */
static void plan_status(const char *plan, char *out, size_t size)
{
	char error[FAULT_ERROR_MAX];
	struct fault_plan *p = fault_plan_parse(plan, strlen(plan), "plan", error);

	snprintf(out, size, "%s", p ? fault_status_name(p->faults[0].status) : "INTERNAL_ERROR");
	fault_plan_destroy(p);
}

/* Keeps a failed point's directory (moved under --keep, or left where it is). */
static void keep_dir(const struct campaign_runner *runner, const char *dir, uint32_t id,
		     struct campaign_point_result *out)
{
	char to[PATH_MAX];

	if (runner->keep) {
		mkdir(runner->keep, 0700);
		snprintf(to, sizeof(to), "%s/point-%u", runner->keep, id);
		campaign_remove_dir(to);
		if (campaign_move_dir(dir, to) == 0) {
			out->kept = strdup(to);
			return;
		}
	}
	out->kept = strdup(dir);
}

int campaign_point_run(const struct campaign_runner *runner, const struct campaign *campaign,
		       uint32_t id, const struct campaign_baseline *baseline,
		       struct campaign_point_result *out)
{
	struct campaign_observation obs = {0};
	char prefix[PATH_MAX + 64], expect[32];
	uint32_t sweep, n;
	struct session s;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->command_status = -1;
	if (!campaign_point_find(campaign, id, &sweep, &n))
		return -1;
	out->id = id;
	out->n = n;
	snprintf(out->kind, sizeof(out->kind), "%s", fault_kind_name(campaign->sweeps[sweep].kind));
	snprintf(out->stage, sizeof(out->stage), "%s",
		 campaign_stage_name(campaign->sweeps[sweep].stage));
	out->plan = campaign_point_plan(campaign, id);
	snprintf(prefix, sizeof(prefix), "%s %u", runner->prefix, id);
	{
		char *words[] = {(char *)runner->campaign_file, "--"};
		char *head = campaign_shell_join(prefix, 2, words);

		out->repro = head ? campaign_shell_join(head, runner->argc, runner->argv) : NULL;
		free(head);
	}
	if (!out->plan || !out->repro)
		return -1;
	plan_status(out->plan, expect, sizeof(expect));
	if (session_run(runner, out->plan, &s)) {
		out->verdict.outcome = CAMPAIGN_OUTCOME_FAIL;
		out->verdict.checks[CAMPAIGN_CHECK_FINISHED].result = CAMPAIGN_FAIL;
		snprintf(out->verdict.checks[CAMPAIGN_CHECK_FINISHED].reason, CAMPAIGN_REASON_MAX,
			 "could not run: %.480s", s.error);
		ret = -1;
	} else {
		obs.kind = campaign->sweeps[sweep].kind;
		obs.expect_status = expect;
		observe_session(&s, runner, &obs);
		campaign_witness_parse(s.witness_out, baseline->digest, &obs.witness_log);
		campaign_verdict_decide(&obs, &out->verdict);
		out->command_status = s.command_status;
		out->seconds = s.seconds;
	}
	session_fini(&s);
	if (s.dir[0]) {
		if (out->verdict.outcome == CAMPAIGN_OUTCOME_FAIL)
			keep_dir(runner, s.dir, id, out);
		else
			campaign_remove_dir(s.dir);
	}
	return ret;
}

void campaign_point_result_fini(struct campaign_point_result *result)
{
	free(result->plan);
	free(result->repro);
	free(result->kept);
	result->plan = result->repro = result->kept = NULL;
}

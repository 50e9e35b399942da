/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_window_live.c - magma-view --attach in a real window (run under xvfb-run), driven
 * by its --test-input walk (viewer_page_script.c) against a real magma-simd --control.
 *
 * The test starts the daemon and opens one magma.h connection whose job completes (so the first
 * answer has a row, with a green marker), then runs `magma-view --test-input --attach D/control`:
 * the walk checks the rows, arms a fault over the control socket and sees it highlighted at the
 * next answer and not at the one after, resizes, quits. Exit 0 and every step of the live branch
 * passed (none skipped). Waits have generous deadlines, no upper bound.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_test_client.h"
#include "sim_test.h"

/* Runs magma-view --test-input --size 1280x800 --attach @ctl; its exit status, output in @out. */
static int run_view(const char *ctl, char *out, size_t size)
{
	char *argv[] = {MAGMA_VIEW_PATH, "--test-input", "--size", "1280x800",
			"--attach",	 (char *)ctl,	 NULL};
	int status = ftc_run(argv, out, size);

	fputs(out, stdout);
	return status;
}

/* Whether @out has the line "ok - @what" (passed, not skipped). */
static bool passed(const char *out, const char *what)
{
	char line[256];

	snprintf(line, sizeof(line), "ok - %s\n", what);
	for (const char *p = strstr(out, line); p; p = strstr(p + 1, line))
		if (p == out || p[-1] == '\n')
			return true;
	return false;
}

static void test_window_live(void)
{
	static char out[1 << 16];
	magma_device_t dev = 0;
	struct ftc_daemon d;
	struct ftc_client c;
	int status;

	REQUIRE(ftc_daemon_start(&d, MAGMA_SIMD_PATH, "viewer-window"));
	REQUIRE(magma_device_import((magma_handle_t)ftc_connect(d.sock), &dev) == MAGMA_STATUS_OK);
	REQUIRE(ftc_open(dev, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(ftc_write(&c, 0, 1u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c), MAGMA_STATUS_OK);

	CHECK_EQ(run_view(d.ctl, out, sizeof(out)), 0);
	CHECK(strstr(out, "not ok") == NULL);
	CHECK(passed(out, "the first answer is drawn: connection row 0 with its green marker"));
	CHECK(passed(out,
		     "a fault armed over the control socket is highlighted at the next answer"));
	CHECK(passed(out, "and is no longer highlighted at the answer after"));
	CHECK(passed(out, "the window resizes and the rows follow"));
	CHECK(passed(out, "q quits"));

	ftc_close(&c);
	magma_device_release(dev);
	status = ftc_daemon_stop(&d);
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Quiet drivers unless FAULT_TEST_VERBOSE; a write to a closed socket fails with EPIPE. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!getenv("FAULT_TEST_VERBOSE"))
		setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_window_live),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};

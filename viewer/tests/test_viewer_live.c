/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_live.c - magma-view --attach against a real magma-simd --control.
 *
 * The test starts the daemon, runs a small magma.h client whose first connection is killed by
 * an mmu_fault armed over the control socket (a raw inject request) and whose second works on,
 * then checks the control-socket client (viewer_live_fetch, the change tracking) and runs
 * `magma-view --screenshot OUT.png --attach D/control`: exit 0, a PNG whose rows carry the
 * expected markers (connection 2 green, connection 1 red, the firing red: applied). A dead
 * socket path gives exit 3 and a message. Waits have generous deadlines, no upper bound.
 */
#include <SDL_image.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_test_client.h"
#include "sim_test.h"
#include "viewer_live.h"
#include "viewer_page.h"
#include "viewer_scene_util.h"

static bool session_start(struct ftc_daemon *d)
{
	return ftc_daemon_start(d, MAGMA_SIMD_PATH, "viewer-live");
}

static void session_stop(struct ftc_daemon *d)
{
	int status = ftc_daemon_stop(d);

	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Runs magma-view (headless) with up to four arguments; its exit status, output in @out. */
static int run_view(const char *a1, const char *a2, const char *a3, const char *a4, char *out,
		    size_t size)
{
	char *argv[] = {MAGMA_VIEW_PATH, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};

	setenv("SDL_VIDEODRIVER", "dummy", 1);
	return ftc_run(argv, out, size);
}

/* Sends one raw request line; true when the answer says "ok":true. */
static bool request_ok(const char *path, const char *line)
{
	char buf[4096];
	size_t n = 0;
	int fd = ftc_connect(path);

	if (fd < 0)
		return false;
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		close(fd);
		return false;
	}
	for (ssize_t got;
	     n < sizeof(buf) - 1 && (got = recv(fd, buf + n, sizeof(buf) - 1 - n, 0));) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return strstr(buf, "\"ok\":true") != NULL;
}

static SDL_Surface *load_png(const char *path)
{
	SDL_Surface *raw = IMG_Load(path), *s;

	if (!raw)
		return NULL;
	s = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
	SDL_FreeSurface(raw);
	return s;
}

static SDL_Color marker(SDL_Surface *s, enum viewer_live_table table, int row)
{
	SDL_Rect m;

	if (viewer_live_marker_rect(s->w, s->h, 1, 0, table, row, &m))
		return (SDL_Color){0, 0, 0, 255};
	return scene_pixel(s, m.x + m.w / 2, m.y + m.h / 2);
}

static void test_attach(void)
{
	static const char inject[] =
		"{\"cmd\":\"inject\",\"file\":\"live.json\",\"plan\":{\"name\":\"live\","
		"\"faults\":[{\"name\":\"next job faults\",\"kind\":\"mmu_fault\","
		"\"trigger\":{\"nth\":1},\"target\":{\"connection\":1}}]}}\n";
	char out[4096], png[512], err[256];
	struct ftc_client c1, c2;
	struct viewer_live live;
	magma_device_t dev = 0;
	struct ftc_daemon s;
	SDL_Surface *shot;

	REQUIRE(session_start(&s));
	viewer_live_init(&live, s.ctl);
	CHECK_EQ(viewer_live_poll(&live, 10000), 0); /* a quiet device */
	CHECK_EQ(cJSON_GetArraySize(viewer_live_devices(live.dump)), 1);

	REQUIRE(magma_device_import((magma_handle_t)ftc_connect(s.sock), &dev) == MAGMA_STATUS_OK);
	REQUIRE(ftc_open(dev, &c1) == MAGMA_STATUS_OK); /* connection 1 */
	CHECK_EQ(ftc_write(&c1, 0, 1u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c1), MAGMA_STATUS_OK);
	CHECK(request_ok(s.ctl, inject));
	CHECK_EQ(ftc_write(&c1, 1, 2u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c1), MAGMA_STATUS_CONTEXT_KILLED);
	REQUIRE(ftc_open(dev, &c2) == MAGMA_STATUS_OK); /* connection 2 works on */
	CHECK_EQ(ftc_write(&c2, 0, 3u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&c2), MAGMA_STATUS_OK);

	/* The second answer: what is new since the first is marked changed. */
	CHECK_EQ(viewer_live_poll(&live, 10000), 0);
	CHECK_EQ(cJSON_GetArraySize(viewer_live_at(viewer_live_device(live.dump, 0), "firings")),
		 1);
	CHECK(viewer_live_changed(&live, 0, "faults"));
	CHECK(viewer_live_row_changed(&live, 0, "firings", 0));
	CHECK(viewer_live_row_changed(&live, 0, "connection_log", 1));
	CHECK(!viewer_live_changed(&live, 0, "label"));
	CHECK_EQ(viewer_live_poll(&live, 10000), 0); /* nothing new: nothing highlighted */
	CHECK(!viewer_live_row_changed(&live, 0, "firings", 0));
	viewer_live_fini(&live);

	snprintf(png, sizeof(png), "%s/live.png", VIEWER_OUT_DIR);
	CHECK_EQ(run_view("--screenshot", png, "--attach", s.ctl, out, sizeof(out)), 0);
	shot = load_png(png);
	REQUIRE(shot);
	CHECK_EQ(shot->w, 1600);
	/* newest first: connection 2 (OK) green, connection 1 (killed context) red */
	CHECK(scene_same(marker(shot, VIEWER_LIVE_CONNECTIONS, 0), viewer_color_power));
	CHECK(scene_same(marker(shot, VIEWER_LIVE_CONNECTIONS, 1), viewer_color_fault));
	CHECK(scene_same(marker(shot, VIEWER_LIVE_FIRINGS, 0), viewer_color_fault)); /* applied */
	SDL_FreeSurface(shot);

	ftc_close(&c1);
	ftc_close(&c2);
	magma_device_release(dev);

	/* A dead socket: exit 3 with the message on stderr, and the PNG shows it. */
	snprintf(png, sizeof(png), "%s/live-dead.png", VIEWER_OUT_DIR);
	snprintf(err, sizeof(err), "%s/gone", s.dir);
	CHECK_EQ(run_view("--screenshot", png, "--attach", err, out, sizeof(out)), 3);
	CHECK(strstr(out, "cannot connect to") != NULL);
	shot = load_png(png);
	CHECK(shot != NULL);
	SDL_FreeSurface(shot);
	/* A socket that is not a control socket (the device's): refused, never a hang. */
	CHECK(viewer_live_fetch(s.sock, 10000, err, sizeof(err)) == NULL);
	session_stop(&s);
	/* The daemon gone: the control socket is dead too. */
	CHECK(viewer_live_fetch(s.ctl, 1000, err, sizeof(err)) == NULL);
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

/* SDL_image and SDL, started by the screenshots, stopped after each test. */
static void teardown(void)
{
	IMG_Quit();
	SDL_Quit();
}

static const struct sim_test tests[] = {
	SIM_TEST(test_attach),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.teardown = teardown,
};

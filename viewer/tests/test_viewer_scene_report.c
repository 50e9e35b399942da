/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_scene_report.c - a magma-campaign report drawn headless: the canned report of
 * tests/data/campaign-report.json (three matrix rows, one failing point) is recognised by its
 * content, loaded, and drawn with each row's result stripe in its colour at its place (the
 * failing row red); bad reports are refused with a message, never a crash; a failing point's
 * trace is found only where its kept directory holds one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_test.h"
#include "viewer_page.h"
#include "viewer_report.h"
#include "viewer_scene_util.h"

#define REPORT VIEWER_DATA_DIR "/campaign-report.json"

static void draw_report(struct viewer_render *vr, void *ctx)
{
	viewer_report_draw(vr, ctx, NULL, 0, NULL);
}

static SDL_Color stripe(SDL_Surface *s, const struct viewer_report *r, int row)
{
	SDL_Rect m;

	if (viewer_report_row_marker_rect(r, s->w, s->h, row, &m))
		return (SDL_Color){0, 0, 0, 255};
	return scene_pixel(s, m.x + m.w / 2, m.y + m.h / 2);
}

static void test_matrix(void)
{
	char err[512];
	struct viewer_report *r = viewer_report_load(REPORT, err, sizeof(err));
	SDL_Surface *s;
	SDL_Rect box;

	CHECK(viewer_report_is_report(REPORT));
	REQUIRE(r);
	CHECK_EQ(r->row_count, 3);
	CHECK_EQ(r->failure_count, 1);
	CHECK_EQ(r->fail, 1);
	CHECK_EQ(r->failures[0].id, 5);
	CHECK_EQ(r->failures[0].failed_count, 1);
	CHECK(!strcmp(r->failures[0].failed[0].name, "status"));
	CHECK(strstr(r->failures[0].repro, "--point 5") != NULL);
	CHECK(r->failures[0].kept == NULL);

	s = viewer_surface_render(draw_report, r, SCENE_W, SCENE_H, err, sizeof(err));
	REQUIRE(s);
	CHECK(scene_same(stripe(s, r, 0), viewer_color_power));	   /* all passed */
	CHECK(scene_same(stripe(s, r, 1), viewer_color_fault));	   /* the failing row */
	CHECK(scene_same(stripe(s, r, 2), viewer_color_text_dim)); /* none reached */
	REQUIRE(viewer_report_failure_rect(r, SCENE_W, SCENE_H, 0, 0, &box) == 0);
	CHECK(scene_same(scene_pixel(s, box.x + 3, box.y + box.h / 2), viewer_color_fault));
	CHECK(box.y > 0 && box.y + box.h <= SCENE_H);
	CHECK(viewer_surface_save_png(s, VIEWER_OUT_DIR "/report.png", err, sizeof(err)) == 0);
	SDL_FreeSurface(s);
	viewer_report_destroy(r);
}

/* Writes @text to a new temporary file; its path (static). */
static const char *temp_file(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/viewer-report-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void check_refused(const char *text, const char *expect)
{
	const char *path = temp_file(text);
	char err[512] = "";
	struct viewer_report *r;

	REQUIRE(path);
	r = viewer_report_load(path, err, sizeof(err));
	CHECK(r == NULL);
	CHECK(strstr(err, expect) != NULL);
	unlink(path);
}

static void test_bad_reports(void)
{
	const char *path;
	char err[512];
	struct viewer_report *r;

	check_refused("{\"format\": \"magma-campaign-report\", \"matr", "not JSON");
	check_refused("{\"format\": \"something else\", \"matrix\": {\"rows\": []}}",
		      "not a magma-campaign report");
	check_refused("{\"format\": \"magma-campaign-report\"}", "without \"matrix\"");
	check_refused("[1, 2]", "not a magma-campaign report");
	check_refused("", "not JSON");
	r = viewer_report_load("/nonexistent/report.json", err, sizeof(err));
	CHECK(r == NULL && strstr(err, "cannot open"));
	CHECK(!viewer_report_is_report("/nonexistent/report.json"));
	CHECK(!viewer_report_is_report(VIEWER_DATA_DIR "/corrupt.json"));

	/* Wrong types read as absent: drawn, never a crash. */
	path = temp_file(
		"{\"format\": \"magma-campaign-report\", \"matrix\": {\"rows\": [1, \"x\","
		" {\"kind\": 5, \"fail\": \"many\", \"detect_cycles\": [1]}], \"totals\":"
		" 7}, \"points\": [{\"outcome\": \"fail\", \"checks\": [1], \"kept\": 3},"
		" {\"outcome\": \"fail\", \"checks\": {\"status\": {\"result\": \"fail\"}},"
		" \"repro\": 9}, 4], \"campaign\": \"x\"}");
	REQUIRE(path);
	CHECK(viewer_report_is_report(path));
	r = viewer_report_load(path, err, sizeof(err));
	unlink(path);
	REQUIRE(r);
	CHECK_EQ(r->row_count, 3);
	CHECK_EQ(r->failure_count, 2);
	CHECK_EQ(r->failures[1].failed_count, 1);
	{
		SDL_Surface *s = viewer_surface_render(draw_report, r, 640, 480, err, sizeof(err));

		CHECK(s != NULL);
		SDL_FreeSurface(s);
	}
	viewer_report_destroy(r);
}

/* A kept directory with trace.json opens the trace; without one, only the reproduce line. */
static void test_point_trace(void)
{
	char dir[] = "/tmp/viewer-kept-XXXXXX", trace[256], found[512];
	struct viewer_report_point p = {.id = 1, .repro = (char *)"x"};
	FILE *f;

	REQUIRE(mkdtemp(dir));
	p.kept = dir;
	CHECK(viewer_report_point_trace(&p, found, sizeof(found)) == -1);
	snprintf(trace, sizeof(trace), "%s/trace.json", dir);
	f = fopen(trace, "w");
	REQUIRE(f);
	fclose(f);
	CHECK(viewer_report_point_trace(&p, found, sizeof(found)) == 0);
	CHECK(!strcmp(found, trace));
	p.kept = NULL;
	CHECK(viewer_report_point_trace(&p, found, sizeof(found)) == -1);
	unlink(trace);
	rmdir(dir);
}

/* The renderer starts SDL_ttf (and SDL) when first needed: stopped after each test. */
static void teardown(void)
{
	if (TTF_WasInit())
		TTF_Quit();
	SDL_Quit();
}

static const struct sim_test tests[] = {
	SIM_TEST(test_matrix),
	SIM_TEST(test_bad_reports),
	SIM_TEST(test_point_trace),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.teardown = teardown,
};

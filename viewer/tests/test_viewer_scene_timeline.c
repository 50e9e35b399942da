/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_scene_timeline.c - the timeline view drawn headless: bars of the right colour
 * over the right x range, fault marker, cursor, zoom, command ticks inside a zoomed bar, the
 * error screen. Pixels are read at
 * places computed from the trace's cycles through the view's own layout, never compared as a
 * whole image.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim_test.h"
#include "viewer_scene_util.h"

/*
 * The row of a track that bars cover but labels do not: the bar's second row (the label is
 * centred, and descenders reach close to the bottom edge).
 */
static int bar_row(const struct viewer_track *t)
{
	return t->y + 6 + 1;
}

static const struct viewer_track *track(const struct viewer_timeline_layout *lay,
					enum viewer_track_kind kind, int index)
{
	for (int t = 0; t < lay->track_count; t++)
		if (lay->tracks[t].kind == kind && lay->tracks[t].index == index)
			return &lay->tracks[t];
	return NULL;
}

/* Checks that row @y holds a run of colour @c from about @x0 to @x1 (one pixel of slack). */
static void check_run(SDL_Surface *s, int y, double x0, double x1, SDL_Color c)
{
	int mid = (int)lround((x0 + x1) / 2), a = mid, b = mid;

	CHECK(scene_same(scene_pixel(s, mid, y), c));
	while (a > 0 && scene_same(scene_pixel(s, a - 1, y), c))
		a--;
	while (b < s->w - 1 && scene_same(scene_pixel(s, b + 1, y), c))
		b++;
	if (fabs(a - x0) > 1.5 || fabs(b + 1 - x1) > 1.5)
		fprintf(stderr, "run [%d, %d) expected [%.1f, %.1f)\n", a, b + 1, x0, x1);
	CHECK(fabs(a - x0) <= 1.5);
	CHECK(fabs(b + 1 - x1) <= 1.5);
}

/* write.json: the four jobs of queue 0 are blue bars exactly where their cycles say. */
static void test_queue0_bars(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "write.json");
	struct viewer_timeline_layout lay;
	struct viewer_state st;
	const struct viewer_track *q0, *ctx;
	SDL_Surface *s;

	REQUIRE(m);
	viewer_state_init(&st, m);
	st.t0 = 11900; /* zoom on the jobs: 12000-13052 */
	st.t1 = 13100;
	s = scene_render(m, &st);
	REQUIRE(s);
	viewer_timeline_layout(m, SCENE_W, SCENE_H, &lay);
	q0 = track(&lay, VIEWER_TRACK_QUEUE, 0);
	ctx = track(&lay, VIEWER_TRACK_CONTEXT, 0);
	REQUIRE(q0 && ctx);
	for (size_t i = 0; i < m->job_count; i++) {
		double x0 = viewer_timeline_x(&lay, &st, (double)m->jobs[i].start_cycle);
		double x1 = viewer_timeline_x(&lay, &st, (double)m->jobs[i].end_cycle);

		check_run(s, bar_row(q0), x0, x1, viewer_queue_color(0));
		check_run(s, bar_row(ctx), x0, x1, viewer_queue_color(0));
	}
	/* job 1 is 12000-12440: at 1414 px for 1200 cycles it starts near x 288 */
	CHECK(fabs(viewer_timeline_x(&lay, &st, 12000) - (170 + 100 * 1414.0 / 1200)) < 0.01);
	/* between two jobs (12440-12556; a grid line is at 12500) the track's own colour shows */
	CHECK(scene_same(scene_pixel(s, (int)viewer_timeline_x(&lay, &st, 12470), bar_row(q0)),
			 viewer_color_panel));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* Zooming in twice as far makes a bar twice as wide, around the same cycle. */
static void test_zoom(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "copy.json");
	struct viewer_timeline_layout lay;
	struct viewer_state st;
	const struct viewer_job *j;
	SDL_Surface *s;
	double w1, w2;

	REQUIRE(m);
	viewer_state_init(&st, m);
	viewer_timeline_layout(m, SCENE_W, SCENE_H, &lay);
	j = &m->jobs[0];
	w1 = viewer_timeline_x(&lay, &st, (double)j->end_cycle) -
	     viewer_timeline_x(&lay, &st, (double)j->start_cycle);
	viewer_state_zoom(&st, m, 0.5, (double)j->start_cycle);
	w2 = viewer_timeline_x(&lay, &st, (double)j->end_cycle) -
	     viewer_timeline_x(&lay, &st, (double)j->start_cycle);
	CHECK(fabs(w2 - 2 * w1) < 0.01);
	s = scene_render(m, &st);
	REQUIRE(s);
	check_run(s, bar_row(&lay.tracks[0]), viewer_timeline_x(&lay, &st, (double)j->start_cycle),
		  viewer_timeline_x(&lay, &st, (double)j->end_cycle), viewer_queue_color(0));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/*
 * Two connections: the faulted job of queue 0 is red, the fault marker is a red line on queue
 * 0 at the fault's cycle, queue 1's job is green, and the cursor is a yellow line.
 */
static void test_fault_and_cursor(void)
{
	struct viewer_model *m = scene_load(VIEWER_DATA_DIR, "fault-two-connections.json");
	struct viewer_timeline_layout lay;
	struct viewer_state st;
	const struct viewer_track *q0, *q1, *dev;
	const struct viewer_job *j1;
	SDL_Surface *s;
	double fx, cx;

	REQUIRE(m);
	viewer_state_init(&st, m);
	s = scene_render(m, &st);
	REQUIRE(s);
	viewer_timeline_layout(m, SCENE_W, SCENE_H, &lay);
	q0 = track(&lay, VIEWER_TRACK_QUEUE, 0);
	q1 = track(&lay, VIEWER_TRACK_QUEUE, 1);
	dev = track(&lay, VIEWER_TRACK_DEVICE, 0);
	REQUIRE(q0 && q1 && dev);
	check_run(s, bar_row(q0), viewer_timeline_x(&lay, &st, (double)m->jobs[0].start_cycle),
		  viewer_timeline_x(&lay, &st, (double)m->jobs[0].end_cycle), viewer_color_fault);
	j1 = &m->jobs[1];
	check_run(s, bar_row(q1), viewer_timeline_x(&lay, &st, (double)j1->start_cycle),
		  viewer_timeline_x(&lay, &st, (double)j1->end_cycle), viewer_queue_color(1));
	/*
	 * the fault marker: a 3-pixel red line over the whole track at the fault's x (its middle
	 * column is covered by the cursor, which sits on the fault), above the bar too
	 */
	fx = viewer_timeline_x(&lay, &st, (double)m->faults[0].cycle);
	CHECK(scene_same(scene_pixel(s, (int)lround(fx) - 1, q0->y + 1), viewer_color_fault));
	CHECK(scene_same(scene_pixel(s, (int)lround(fx) + 1, q0->y + 2), viewer_color_fault));
	/* the cursor (on the fault by default) crosses the gap under the device track */
	cx = viewer_timeline_x(&lay, &st, (double)viewer_model_cycle_at(m, st.cursor));
	CHECK(scene_same(scene_pixel(s, (int)lround(cx), dev->y + dev->h + 3),
			 viewer_color_cursor));
	/* nothing yellow a little to the left of the cursor in that gap */
	CHECK(!scene_same(scene_pixel(s, (int)lround(cx) - 30, dev->y + dev->h + 3),
			  viewer_color_cursor));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* The hang: the job cut off by the soft reset is hatched and outlined in the reset colour. */
static void test_hang_reset(void)
{
	struct viewer_model *m = scene_load(VIEWER_DATA_DIR, "hang-reset.json");
	struct viewer_timeline_layout lay;
	struct viewer_state st;
	const struct viewer_job *j;
	SDL_Surface *s;
	int x0;

	REQUIRE(m);
	REQUIRE(m->fault_count == 1);
	viewer_state_init(&st, m);
	s = scene_render(m, &st);
	REQUIRE(s);
	viewer_timeline_layout(m, SCENE_W, SCENE_H, &lay);
	j = &m->jobs[m->faults[0].job];
	x0 = (int)floor(viewer_timeline_x(&lay, &st, (double)j->start_cycle));
	/* the outline's top edge, well inside the bar's x range */
	CHECK(scene_same(scene_pixel(s, x0 + 200, lay.tracks[j->queue].y + 6), viewer_color_reset));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/*
 * commands.json (recorded with CMD events): one job of six commands. Zoomed onto the job, each
 * command's cycle is a tick of the command colour across the bar, the bar's colour shows between
 * ticks, the pointer on a tick finds that command, and zoomed out to a narrow bar no tick is
 * drawn. Old traces (write.json) have no commands.
 */
static void test_command_ticks(void)
{
	struct viewer_model *m = scene_load(VIEWER_DATA_DIR, "commands.json");
	struct viewer_model *old = scene_load(VIEWER_SAMPLES_DIR, "write.json");
	struct viewer_timeline_layout lay;
	struct viewer_state st;
	const struct viewer_track *q0;
	const struct viewer_job *j;
	const struct viewer_command *fill = NULL, *c;
	SDL_Surface *s;
	int x, mid;

	REQUIRE(m && old);
	CHECK_EQ(old->command_count, 0);
	REQUIRE(m->job_count == 1);
	j = &m->jobs[0];
	REQUIRE(j->command_count == 6);
	CHECK_EQ(m->command_count, 6);
	for (size_t i = 0; i < j->command_count; i++) {
		c = &m->commands[j->first_command + i];
		CHECK_EQ(c->job, 0);
		CHECK(c->cycle >= j->start_cycle && c->cycle <= j->end_cycle);
		CHECK(i == 0 || c->seq > c[-1].seq);
		if (!strcmp(c->name, "FILL"))
			fill = c;
	}
	REQUIRE(fill);
	CHECK(!strcmp(m->commands[j->first_command].name, "WRITE32"));
	CHECK(!strcmp(m->commands[j->first_command + j->command_count - 1].name, "END"));
	CHECK(fill->opcode == 4 && fill->va != 0);

	viewer_state_init(&st, m);
	st.t0 = (double)j->start_cycle - 10; /* the whole job over the plot */
	st.t1 = (double)j->end_cycle + 10;
	viewer_timeline_layout(m, SCENE_W, SCENE_H, &lay);
	q0 = track(&lay, VIEWER_TRACK_QUEUE, 0);
	REQUIRE(q0);
	s = scene_render(m, &st);
	REQUIRE(s);
	x = (int)lround(viewer_timeline_x(&lay, &st, (double)fill->cycle));
	CHECK(scene_same(scene_pixel(s, x, bar_row(q0)), viewer_color_command));
	CHECK(scene_same(scene_pixel(s, x, q0->y + q0->h - 6 - 1), viewer_color_command));
	/* between the job's start and its first command (160 cycles) the bar itself */
	mid = (int)lround(viewer_timeline_x(
		&lay, &st, (double)(j->start_cycle + m->commands[j->first_command].cycle) / 2));
	CHECK(scene_same(scene_pixel(s, mid, bar_row(q0)), viewer_queue_color(0)));
	CHECK_EQ(viewer_timeline_command_at(m, &st, &lay, x + 1, bar_row(q0)),
		 (int)(fill - m->commands));
	CHECK_EQ(viewer_timeline_command_at(m, &st, &lay, mid, bar_row(q0)), -1);
	SDL_FreeSurface(s);

	/* zoomed out: the bar is narrower than the threshold and plain */
	st.t0 = 0;
	st.t1 = (double)j->end_cycle * 4;
	CHECK(viewer_timeline_x(&lay, &st, (double)j->end_cycle) -
		      viewer_timeline_x(&lay, &st, (double)j->start_cycle) <
	      40);
	s = scene_render(m, &st);
	REQUIRE(s);
	x = (int)lround(viewer_timeline_x(&lay, &st, (double)fill->cycle));
	CHECK(scene_same(scene_pixel(s, x, bar_row(q0)), viewer_queue_color(0)));
	CHECK_EQ(viewer_timeline_command_at(m, &st, &lay, x, bar_row(q0)), -1);
	SDL_FreeSurface(s);
	viewer_model_destroy(old);
	viewer_model_destroy(m);
}

/* A model that could not be loaded: the error screen, with its red-edged box. */
static void test_error_screen(void)
{
	struct viewer_state st;
	SDL_Surface *s;

	viewer_state_init(&st, NULL);
	s = scene_render(NULL, &st);
	REQUIRE(s);
	CHECK(scene_same(scene_pixel(s, 40, VIEWER_HEADER_H + 40), viewer_color_fault));
	CHECK(scene_same(scene_pixel(s, 60, VIEWER_HEADER_H + 44), viewer_color_highlight));
	SDL_FreeSurface(s);
}

/* The renderer starts SDL_ttf (and SDL) when first needed: stopped after each test. */
static void teardown(void)
{
	if (TTF_WasInit())
		TTF_Quit();
	SDL_Quit();
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_queue0_bars),
	SIM_TEST(test_zoom),
	SIM_TEST(test_fault_and_cursor),
	SIM_TEST(test_hang_reset),
	SIM_TEST(test_command_ticks),
	SIM_TEST(test_error_screen),
};
/* clang-format on */

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.teardown = teardown,
};

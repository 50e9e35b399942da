/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_scene_memory.c - the memory map drawn headless: the faulting page's cell is red,
 * its neighbours show whether the faulting connection had them mapped.
 */
#include <stdio.h>

#include "sim_test.h"
#include "viewer_scene_util.h"

static SDL_Color cell_center(SDL_Surface *s, const SDL_Rect *r, int offset)
{
	return scene_pixel(s, r->x + offset * r->w + r->w / 2, r->y + r->h / 2);
}

/*
 * The memory view of the trace @name of viewer/tests/data at its first fault: the frame (NULL on
 * failure, message on stderr), the model in *@m (the caller destroys both) and the faulting
 * page's cell in *@cell.
 */
static SDL_Surface *memory_frame(const char *name, struct viewer_model **m, SDL_Rect *cell)
{
	struct viewer_render vr;
	struct viewer_state st;
	int ret;

	*m = scene_load(VIEWER_DATA_DIR, name);
	if (!*m)
		return NULL;
	viewer_state_init(&st, *m);
	st.view = VIEWER_VIEW_MEMORY;
	if (scene_render_for(&vr) != 0)
		return NULL;
	ret = viewer_memory_fault_cell(&vr, *m, &st, cell);
	scene_render_done(&vr);
	return ret == 0 ? scene_render(*m, &st) : NULL;
}

/*
 * fault-two-connections: the fault is at 0x10404000, A's command buffer is mapped RWX at
 * [0x10401000, 0x10403000) and nothing at 0x10403000.
 */
static void test_translation_fault_page(void)
{
	struct viewer_model *m;
	SDL_Rect cell;
	SDL_Surface *s = memory_frame("fault-two-connections.json", &m, &cell);

	REQUIRE(s);
	CHECK(scene_same(cell_center(s, &cell, 0), viewer_color_fault));
	CHECK(scene_same(cell_center(s, &cell, -1), (SDL_Color){44, 47, 55, 255})); /* unmapped */
	CHECK(scene_same(cell_center(s, &cell, -2), viewer_flags_color(7)));	    /* RWX */
	CHECK(scene_same(cell_center(s, &cell, -3), viewer_flags_color(7)));
	CHECK(scene_same(cell_center(s, &cell, 1), (SDL_Color){44, 47, 55, 255}));
	/* the yellow frame around the faulting cell */
	CHECK(scene_same(scene_pixel(s, cell.x - 1, cell.y + cell.h / 2), viewer_color_cursor));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* A permission fault: the page is mapped (read-only) but the cell is still the red one. */
static void test_permission_fault_page(void)
{
	struct viewer_model *m;
	SDL_Rect cell;
	SDL_Surface *s = memory_frame("permission-fault.json", &m, &cell);

	REQUIRE(s);
	CHECK(scene_same(cell_center(s, &cell, 0), viewer_color_fault));
	/* 0x10001000 is not mapped, 0x10002000 holds the commands (RWX) */
	CHECK(scene_same(cell_center(s, &cell, 1), (SDL_Color){44, 47, 55, 255}));
	CHECK(scene_same(cell_center(s, &cell, 2), viewer_flags_color(7)));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* No fault: no page strip; the mapping table's first row chip shows the flags colour. */
static void test_no_fault(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "write.json");
	struct viewer_render vr;
	struct viewer_state st;
	SDL_Rect cell;
	SDL_Surface *s;

	REQUIRE(m);
	viewer_state_init(&st, m);
	st.view = VIEWER_VIEW_MEMORY;
	REQUIRE(scene_render_for(&vr) == 0);
	CHECK(viewer_memory_fault_cell(&vr, m, &st, &cell) == -1);
	scene_render_done(&vr);
	s = scene_render(m, &st);
	REQUIRE(s);
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* The renderer starts SDL_ttf (and SDL) when first needed: stopped after each test. */
static void teardown(void)
{
	if (TTF_WasInit())
		TTF_Quit();
	SDL_Quit();
}

static const struct sim_test tests[] = {
	SIM_TEST(test_translation_fault_page),
	SIM_TEST(test_permission_fault_page),
	SIM_TEST(test_no_fault),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.teardown = teardown,
};

/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_scene_chain.c - the cause -> effect view drawn headless: one box per link with
 * its kind's stripe colour, dimmed when the trace holds no event for it.
 */
#include <stdio.h>

#include "sim_test.h"
#include "viewer_scene_util.h"

static SDL_Color stripe(SDL_Surface *s, int i)
{
	SDL_Rect r = viewer_chain_link_rect(SCENE_W, i);

	return scene_pixel(s, r.x + 3, r.y + r.h / 2);
}

static void check_chain(const char *name, int reset_found)
{
	struct viewer_model *m = scene_load(VIEWER_DATA_DIR, name);
	struct viewer_link links[VIEWER_CHAIN_MAX];
	struct viewer_state st;
	SDL_Surface *s;
	size_t n;

	REQUIRE(m);
	viewer_state_init(&st, m);
	st.view = VIEWER_VIEW_CHAIN;
	s = scene_render(m, &st);
	REQUIRE(s);
	n = viewer_chain_build(m, 0, links);
	REQUIRE(n >= 8);
	for (size_t i = 0; i < n; i++) {
		bool full = scene_same(stripe(s, (int)i), viewer_chain_link_color(links[i].kind));

		CHECK(full == (links[i].seq != VIEWER_NONE));
	}
	CHECK(scene_same(stripe(s, 2), viewer_color_fault));
	CHECK_EQ(scene_same(stripe(s, 6), viewer_color_reset), reset_found);
	/* below the last box: background */
	CHECK(scene_same(stripe(s, (int)n), viewer_color_background));
	SDL_FreeSurface(s);
	viewer_model_destroy(m);
}

/* An MMU fault that needed no reset: the reset link is dimmed. */
static void test_chain_mmu_fault(void)
{
	check_chain("fault-two-connections.json", 0);
}

/* A hang: the watchdog's soft reset is a link of its own. */
static void test_chain_hang(void)
{
	check_chain("hang-reset.json", 1);
}

/* A trace without faults says so and draws no boxes. */
static void test_chain_no_fault(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "fill.json");
	struct viewer_state st;
	SDL_Surface *s;

	REQUIRE(m);
	viewer_state_init(&st, m);
	st.view = VIEWER_VIEW_CHAIN;
	s = scene_render(m, &st);
	REQUIRE(s);
	CHECK(scene_same(stripe(s, 0), viewer_color_background));
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
	SIM_TEST(test_chain_mmu_fault),
	SIM_TEST(test_chain_hang),
	SIM_TEST(test_chain_no_fault),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.teardown = teardown,
};

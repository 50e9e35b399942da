/* SPDX-License-Identifier: MIT */
/*
 * test_viewer_scene_buffer.c - the buffer view drawn headless from a replay of
 * traces/samples/fill.json: after the last round's completion (event 171) the data buffer (id 2)
 * holds four 512-byte bands filled with 1, 2, 3 and 4. As RGBA8 at 16 pixels per row each band
 * is 8 rows of pixels (v, v, v); the hex dump draws text where the layout puts it.
 */
#include <stdio.h>

#include "sim_test.h"
#include "viewer_buffer.h"
#include "viewer_scene_util.h"

#define FILL_DATA_ID   2
#define FILL_LAST_DONE 171

/* The frame of the buffer view of fill.json's data buffer; @bv set up by the caller. */
static SDL_Surface *buffer_frame(const struct viewer_model *m, struct viewer_buffer_view *bv)
{
	struct viewer_state st;

	viewer_state_init(&st, m);
	viewer_state_set_cursor(&st, m, FILL_LAST_DONE);
	st.view = VIEWER_VIEW_BUFFER;
	st.bufview = bv;
	bv->buffer = viewer_buffer_find(m, FILL_DATA_ID, st.cursor);
	return bv->buffer >= 0 ? scene_render(m, &st) : NULL;
}

/* The centre of source pixel (@x, @y) of an image drawn at @r from @cols x @rows pixels. */
static SDL_Color image_pixel(SDL_Surface *s, const SDL_Rect *r, uint32_t cols, uint32_t rows, int x,
			     int y)
{
	return scene_pixel(s, r->x + (int)((2 * x + 1) * (int64_t)r->w / (2 * (int64_t)cols)),
			   r->y + (int)((2 * y + 1) * (int64_t)r->h / (2 * (int64_t)rows)));
}

static void test_rgba8_pattern(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "fill.json");
	struct viewer_buffer_view bv;
	struct viewer_render vr;
	SDL_Surface *s;
	uint32_t cols, rows;
	SDL_Rect r;

	REQUIRE(m);
	viewer_buffer_view_init(&bv);
	bv.width = 16;
	s = buffer_frame(m, &bv);
	REQUIRE(s);
	CHECK_EQ(bv.error[0], '\0');
	CHECK_EQ(bv.data_size, 8192);
	REQUIRE_EQ(scene_render_for(&vr), 0);
	REQUIRE_EQ(viewer_buffer_image_rect(&vr, &bv, &r, &cols, &rows), 0);
	scene_render_done(&vr);
	CHECK_EQ(cols, 16);
	CHECK_EQ(rows, 8192 / 64);
	for (int band = 0; band < 4; band++) {
		SDL_Color want = {(Uint8)(band + 1), (Uint8)(band + 1), (Uint8)(band + 1), 255};

		CHECK(scene_same(image_pixel(s, &r, cols, rows, 0, band * 8), want));
		CHECK(scene_same(image_pixel(s, &r, cols, rows, 15, band * 8 + 7), want));
		CHECK(scene_same(image_pixel(s, &r, cols, rows, 7, band * 8 + 3), want));
	}
	/* past the fill: the bytes of the recorded contents, zero */
	CHECK(scene_same(image_pixel(s, &r, cols, rows, 3, 40), (SDL_Color){0, 0, 0, 255}));
	SDL_FreeSurface(s);
	/* the cache: same (event, buffer), no second replay, same bytes */
	CHECK(bv.cached);
	CHECK_EQ(viewer_buffer_fetch(&bv, m, FILL_LAST_DONE), 0);
	CHECK_EQ(bv.data[2047], 4);
	viewer_buffer_view_fini(&bv);
	viewer_model_destroy(m);
}

/* R8 at 512 pixels per row: row k is k + 1. */
static void test_r8_rows(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "fill.json");
	struct viewer_buffer_view bv;
	struct viewer_render vr;
	SDL_Surface *s;
	uint32_t cols, rows;
	SDL_Rect r;

	REQUIRE(m);
	viewer_buffer_view_init(&bv);
	bv.format = VIEWER_BUF_R8;
	bv.width = 512;
	s = buffer_frame(m, &bv);
	REQUIRE(s);
	REQUIRE_EQ(scene_render_for(&vr), 0);
	REQUIRE_EQ(viewer_buffer_image_rect(&vr, &bv, &r, &cols, &rows), 0);
	scene_render_done(&vr);
	CHECK_EQ(rows, 16);
	for (int k = 0; k < 4; k++)
		CHECK(scene_same(image_pixel(s, &r, cols, rows, 100, k),
				 (SDL_Color){(Uint8)(k + 1), (Uint8)(k + 1), (Uint8)(k + 1), 255}));
	SDL_FreeSurface(s);
	viewer_buffer_view_fini(&bv);
	viewer_model_destroy(m);
}

/* Hex: text in the dump's area (some pixel of its first rows is not the background). */
static void test_hex_dump(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "fill.json");
	struct viewer_buffer_view bv;
	struct viewer_render vr;
	SDL_Surface *s;
	SDL_Rect r;
	int ink = 0;

	REQUIRE(m);
	viewer_buffer_view_init(&bv);
	bv.hex = true;
	s = buffer_frame(m, &bv);
	REQUIRE(s);
	CHECK_EQ(bv.error[0], '\0');
	REQUIRE_EQ(scene_render_for(&vr), 0);
	r = viewer_buffer_hex_rect(&vr);
	CHECK(viewer_buffer_image_rect(&vr, &bv, &r, &(uint32_t){0}, &(uint32_t){0}) != 0);
	r = viewer_buffer_hex_rect(&vr);
	scene_render_done(&vr);
	for (int y = r.y; y < r.y + 40; y++)
		for (int x = r.x; x < r.x + 400; x++)
			ink += !scene_same(scene_pixel(s, x, y), viewer_color_background);
	CHECK(ink > 50);
	SDL_FreeSurface(s);
	viewer_buffer_view_fini(&bv);
	viewer_model_destroy(m);
}

/* A buffer already released at the event: a message, no contents, no crash. */
static void test_released_buffer(void)
{
	struct viewer_model *m = scene_load(VIEWER_SAMPLES_DIR, "fill.json");
	struct viewer_buffer_view bv;

	REQUIRE(m);
	viewer_buffer_view_init(&bv);
	bv.buffer = viewer_buffer_find(m, FILL_DATA_ID, 0);
	REQUIRE(bv.buffer >= 0);
	CHECK_EQ(viewer_buffer_fetch(&bv, m, m->event_count - 1), -1);
	CHECK(bv.error[0] != '\0');
	CHECK(bv.data == NULL);
	bv.buffer = -1;
	CHECK_EQ(viewer_buffer_fetch(&bv, m, 100), -1);
	CHECK_EQ(viewer_buffer_find(m, 12345, 100), -1);
	viewer_buffer_view_fini(&bv);
	viewer_model_destroy(m);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_rgba8_pattern),
	SIM_TEST(test_r8_rows),
	SIM_TEST(test_hex_dump),
	SIM_TEST(test_released_buffer),
};
SIM_TEST_SUITE(tests);

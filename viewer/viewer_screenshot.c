/* SPDX-License-Identifier: MIT */
/*
 * viewer_screenshot.c - headless rendering: SDL's software renderer drawing into a plain
 * surface, which needs no video subsystem at all, so --screenshot and the scene tests work with
 * SDL_VIDEODRIVER=dummy or no DISPLAY. PNGs are written by SDL_image. Any single thread.
 */
#include <SDL_image.h>
#include <stdio.h>

#include "viewer_app.h"

struct frame_args {
	const struct viewer_model *m;
	const char *error;
	const struct viewer_state *st;
};

static void draw_frame(struct viewer_render *vr, void *ctx)
{
	const struct frame_args *a = ctx;

	viewer_frame_draw(vr, a->m, a->error, a->st);
}

/* viewer_surface_render - see viewer_app.h. */
SDL_Surface *viewer_surface_render(void (*draw)(struct viewer_render *vr, void *ctx), void *ctx,
				   int width, int height, char *err, size_t err_size)
{
	struct viewer_render vr;
	SDL_Renderer *renderer;
	SDL_Surface *surface;

	if (width < 320 || height < 240 || width > 8192 || height > 8192) {
		snprintf(err, err_size, "size %dx%d: must be between 320x240 and 8192x8192", width,
			 height);
		return NULL;
	}
	surface = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!surface) {
		snprintf(err, err_size, "cannot create a %dx%d surface: %s", width, height,
			 SDL_GetError());
		return NULL;
	}
	renderer = SDL_CreateSoftwareRenderer(surface);
	if (!renderer) {
		snprintf(err, err_size, "no software renderer: %s", SDL_GetError());
		goto err_surface;
	}
	if (viewer_render_init(&vr, renderer, width, height, err, err_size))
		goto err_renderer;
	draw(&vr, ctx);
	SDL_RenderPresent(renderer);
	viewer_render_fini(&vr);
	SDL_DestroyRenderer(renderer);
	return surface;

err_renderer:
	viewer_render_fini(&vr);
	SDL_DestroyRenderer(renderer);
err_surface:
	SDL_FreeSurface(surface);
	return NULL;
}

/* viewer_surface_save_png - see viewer_app.h. */
int viewer_surface_save_png(SDL_Surface *s, const char *path, char *err, size_t err_size)
{
	if (IMG_SavePNG(s, path)) {
		snprintf(err, err_size, "cannot write %s: %s", path, IMG_GetError());
		return -1;
	}
	return 0;
}

/* viewer_scene_render - see viewer_app.h. */
SDL_Surface *viewer_scene_render(const struct viewer_model *m, const char *error,
				 const struct viewer_state *st, int width, int height, char *err,
				 size_t err_size)
{
	struct frame_args a = {m, error, st};

	return viewer_surface_render(draw_frame, &a, width, height, err, err_size);
}

/* viewer_screenshot_write - see viewer_app.h. */
int viewer_screenshot_write(const struct viewer_model *m, const char *error,
			    const struct viewer_state *st, int width, int height, const char *path,
			    char *err, size_t err_size)
{
	SDL_Surface *s = viewer_scene_render(m, error, st, width, height, err, err_size);
	int ret;

	if (!s)
		return -1;
	ret = viewer_surface_save_png(s, path, err, err_size);
	SDL_FreeSurface(s);
	return ret;
}

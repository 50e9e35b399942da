/* SPDX-License-Identifier: MIT */
/*
 * viewer_app.c - the window: a resizable SDL window whose loop waits for input, applies it
 * (viewer_input.c) and redraws the frame. With --test-input the same loop runs the scripted
 * walk of viewer_script.c, whose synthetic events go through the real SDL event queue. The
 * window's thread (the main thread, as SDL wants).
 */
#include <stdio.h>

#include "viewer_app.h"
#include "viewer_input.h"
#include "viewer_script.h"

#define APP_WAIT_MS	   500 /* idle wake-up: nothing changes on its own, so rarely */
#define APP_SCRIPT_WAIT_MS 20

static void sync_size(SDL_Renderer *renderer, struct viewer_render *vr, struct viewer_input *in)
{
	int w = 0, h = 0;

	if (SDL_GetRendererOutputSize(renderer, &w, &h) || w <= 0 || h <= 0)
		return;
	vr->width = in->width = w;
	vr->height = in->height = h;
	viewer_frame_tab_x(vr, in->tab_x);
}

/* viewer_app_run - see viewer_app.h. */
int viewer_app_run(const struct viewer_model *m, const char *error, struct viewer_state *st,
		   int width, int height, bool scripted, char *err, size_t err_size)
{
	struct viewer_input in = {0};
	struct viewer_script *script = NULL;
	struct viewer_render vr = {0};
	SDL_Renderer *renderer = NULL;
	SDL_Window *win;
	int ret = 0;

	if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
		snprintf(err, err_size,
			 "cannot open a window: %s (no display? --screenshot "
			 "renders without one)",
			 SDL_GetError());
		return 3;
	}
	win = SDL_CreateWindow("magma-view", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
			       width, height, SDL_WINDOW_RESIZABLE);
	if (!win) {
		snprintf(err, err_size, "cannot open a window: %s", SDL_GetError());
		ret = 3;
		goto err_video;
	}
	renderer = SDL_CreateRenderer(win, -1, SDL_RENDERER_PRESENTVSYNC);
	if (!renderer)
		renderer = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
	if (!renderer) {
		snprintf(err, err_size, "no renderer for the window: %s", SDL_GetError());
		ret = 3;
		goto err_window;
	}
	if (viewer_render_init(&vr, renderer, width, height, err, err_size)) {
		ret = 3;
		goto err_renderer;
	}
	if (scripted) {
		script = viewer_script_create(win, m, st, &in);
		if (!script) {
			snprintf(err, err_size, "out of memory");
			ret = 3;
			goto err_render;
		}
	}
	SDL_StartTextInput();
	sync_size(renderer, &vr, &in);
	while (!in.quit) {
		SDL_Event ev;

		if (SDL_WaitEventTimeout(&ev, script ? APP_SCRIPT_WAIT_MS : APP_WAIT_MS)) {
			viewer_input_handle(&in, m, st, &ev);
			while (SDL_PollEvent(&ev))
				viewer_input_handle(&in, m, st, &ev);
		}
		sync_size(renderer, &vr, &in);
		viewer_frame_draw(&vr, m, error, st);
		SDL_RenderPresent(renderer);
		if (script && viewer_script_tick(script)) {
			ret = viewer_script_failed(script) ? 1 : 0;
			break;
		}
	}
	SDL_StopTextInput();
	viewer_script_destroy(script);
err_render:
	viewer_render_fini(&vr);
err_renderer:
	SDL_DestroyRenderer(renderer);
err_window:
	SDL_DestroyWindow(win);
err_video:
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	return ret;
}

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
	struct viewer_window w;
	SDL_Renderer *renderer;
	SDL_Window *win;
	int ret;

	ret = viewer_window_open(&w, "magma-view", width, height, err, err_size);
	if (ret)
		return ret;
	win = w.win;
	renderer = w.renderer;
	if (scripted) {
		script = viewer_script_create(win, m, st, &in);
		if (!script) {
			snprintf(err, err_size, "out of memory");
			ret = 3;
			goto out;
		}
	}
	SDL_StartTextInput();
	sync_size(renderer, &w.vr, &in);
	while (!in.quit) {
		SDL_Event ev;

		if (SDL_WaitEventTimeout(&ev, script ? APP_SCRIPT_WAIT_MS : APP_WAIT_MS)) {
			viewer_input_handle(&in, m, st, &ev);
			while (SDL_PollEvent(&ev))
				viewer_input_handle(&in, m, st, &ev);
		}
		sync_size(renderer, &w.vr, &in);
		viewer_frame_draw(&w.vr, m, error, st);
		SDL_RenderPresent(renderer);
		if (script && viewer_script_tick(script)) {
			ret = viewer_script_failed(script) ? 1 : 0;
			break;
		}
	}
	SDL_StopTextInput();
	viewer_script_destroy(script);
out:
	viewer_window_close(&w);
	return ret;
}

/* viewer_window_open - see viewer_app.h. */
int viewer_window_open(struct viewer_window *w, const char *title, int width, int height, char *err,
		       size_t err_size)
{
	*w = (struct viewer_window){0};
	if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
		snprintf(err, err_size,
			 "cannot open a window: %s (no display? --screenshot renders without one)",
			 SDL_GetError());
		return 3;
	}
	w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, width,
				  height, SDL_WINDOW_RESIZABLE);
	if (!w->win) {
		snprintf(err, err_size, "cannot open a window: %s", SDL_GetError());
		goto err_video;
	}
	w->renderer = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_PRESENTVSYNC);
	if (!w->renderer)
		w->renderer = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
	if (!w->renderer) {
		snprintf(err, err_size, "no renderer for the window: %s", SDL_GetError());
		goto err_window;
	}
	if (viewer_render_init(&w->vr, w->renderer, width, height, err, err_size))
		goto err_renderer;
	return 0;

err_renderer:
	SDL_DestroyRenderer(w->renderer);
err_window:
	SDL_DestroyWindow(w->win);
err_video:
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	*w = (struct viewer_window){0};
	return 3;
}

/* viewer_window_close - see viewer_app.h. */
void viewer_window_close(struct viewer_window *w)
{
	viewer_render_fini(&w->vr);
	SDL_DestroyRenderer(w->renderer);
	SDL_DestroyWindow(w->win);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

/* SPDX-License-Identifier: MIT */
/*
 * viewer_app.h - the two ways magma-view shows a model: rendered headless into a PNG
 * (--screenshot, scene tests) and in a resizable window driven by keyboard and mouse.
 * The caller owns @m; either may be NULL with @error saying why (the error screen is shown).
 */
#ifndef VIEWER_APP_H
#define VIEWER_APP_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

#include "viewer_model.h"
#include "viewer_view.h"

/*
 * viewer_surface_render - call @draw(vr, @ctx) once on a software renderer of a new
 * @width x @height ARGB8888 surface (no window, no display needed). Returns the surface (the
 * caller frees it with SDL_FreeSurface) or NULL with a message in @err.
 */
SDL_Surface *viewer_surface_render(void (*draw)(struct viewer_render *vr, void *ctx), void *ctx,
				   int width, int height, char *err, size_t err_size);

/* viewer_surface_save_png - write @s as a PNG at @path. 0, or -1 with @err. */
int viewer_surface_save_png(SDL_Surface *s, const char *path, char *err, size_t err_size);

/*
 * viewer_scene_render - draw one frame of @st at @width x @height with the software renderer
 * into a new ARGB8888 surface (no window, no display needed). Returns the surface (the caller
 * frees it with SDL_FreeSurface) or NULL with a message in @err.
 */
SDL_Surface *viewer_scene_render(const struct viewer_model *m, const char *error,
				 const struct viewer_state *st, int width, int height, char *err,
				 size_t err_size);

/* viewer_screenshot_write - viewer_scene_render, saved as a PNG at @path. 0, or -1 with @err. */
int viewer_screenshot_write(const struct viewer_model *m, const char *error,
			    const struct viewer_state *st, int width, int height, const char *path,
			    char *err, size_t err_size);

/*
 * viewer_app_run - open a resizable window of @width x @height and run until the user quits.
 * With @scripted, the window drives itself with synthetic key and mouse events (SDL_PushEvent)
 * through every view, checks after each that the state followed, prints one line per step and
 * quits (the Xvfb test). Returns 0, 1 when a scripted step failed, or 3 with @err when no
 * window could be opened.
 */
/* An open window: what viewer_window_open made and viewer_window_close undoes. */
struct viewer_window {
	SDL_Window *win;
	SDL_Renderer *renderer;
	struct viewer_render vr;
};

/*
 * viewer_window_open - SDL's video, a resizable window titled @title of @width x @height, its
 * renderer (vsync, else software) and the drawing state. 0, or 3 (the exit status: no display,
 * no window, no renderer, no font) with @err; nothing is left open on failure.
 */
int viewer_window_open(struct viewer_window *w, const char *title, int width, int height, char *err,
		       size_t err_size);

/* viewer_window_close - undo viewer_window_open. */
void viewer_window_close(struct viewer_window *w);

int viewer_app_run(const struct viewer_model *m, const char *error, struct viewer_state *st,
		   int width, int height, bool scripted, char *err, size_t err_size);

#endif /* VIEWER_APP_H */

/* SPDX-License-Identifier: MIT */
/*
 * viewer_scene_util.h - helpers of the headless scene tests: load a trace, render a frame with
 * the software renderer, read pixels back, compare colours.
 */
#ifndef VIEWER_SCENE_UTIL_H
#define VIEWER_SCENE_UTIL_H

#include <SDL.h>
#include <stdbool.h>

#include "viewer_app.h"
#include "viewer_model.h"
#include "viewer_view.h"

#define SCENE_W 1600
#define SCENE_H 900

/* scene_load - the trace @name of @dir, or NULL (message on stderr). */
struct viewer_model *scene_load(const char *dir, const char *name);

/* scene_render - one frame of @st at SCENE_W x SCENE_H, or NULL (message on stderr). */
SDL_Surface *scene_render(const struct viewer_model *m, const struct viewer_state *st);

/* scene_pixel - the colour at (@x, @y) of @s (opaque black outside it). */
SDL_Color scene_pixel(SDL_Surface *s, int x, int y);

/* scene_same - whether @a and @b have the same r, g, b. */
bool scene_same(SDL_Color a, SDL_Color b);

/* scene_render_for - a renderer-less struct viewer_render of SCENE_W x SCENE_H with fonts open,
 * for layout functions that measure text; scene_render_done frees it. */
int scene_render_for(struct viewer_render *vr);
void scene_render_done(struct viewer_render *vr);

#endif /* VIEWER_SCENE_UTIL_H */

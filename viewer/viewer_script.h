/* SPDX-License-Identifier: MIT */
/*
 * viewer_script.h - the scripted walk through a real window (--test-input): synthetic key and
 * mouse events pushed with SDL_PushEvent, one step at a time, each checked against the view
 * state once the window loop has handled it. The window's thread.
 */
#ifndef VIEWER_SCRIPT_H
#define VIEWER_SCRIPT_H

#include <SDL.h>
#include <stdbool.h>

#include "viewer_input.h"
#include "viewer_model.h"
#include "viewer_view.h"

struct viewer_script;

/* viewer_script_create - a walk over @m in @win, reading @st and @in. NULL when out of memory. */
struct viewer_script *viewer_script_create(SDL_Window *win, const struct viewer_model *m,
					   struct viewer_state *st, struct viewer_input *in);

/*
 * viewer_script_tick - called after every frame: checks the current step, prints "ok - what"
 * or "not ok - what", starts the next. Returns true when the walk is over (passed or failed).
 */
bool viewer_script_tick(struct viewer_script *s);

/* viewer_script_failed - whether a step failed. */
bool viewer_script_failed(const struct viewer_script *s);

/* viewer_script_destroy - free @s. NULL is a no-op. */
void viewer_script_destroy(struct viewer_script *s);

#endif /* VIEWER_SCRIPT_H */

/* SPDX-License-Identifier: MIT */
/*
 * viewer_input.h - keyboard and mouse handling of the window (viewer_input.c). The window's
 * thread.
 */
#ifndef VIEWER_INPUT_H
#define VIEWER_INPUT_H

#include <SDL.h>
#include <stdbool.h>

#include "viewer_model.h"
#include "viewer_view.h"

struct viewer_input {
	bool quit;
	bool dragging, dragged; /* left button held; moved far enough to be a drag, not a click */
	int drag_x;
	double drag_t0, drag_t1;
	int width, height;		  /* of the frame, set by the window loop */
	int tab_x[VIEWER_VIEW_COUNT + 1]; /* the view tabs' edges (viewer_frame_tab_x) */
};

/*
 * viewer_input_handle - apply @ev to @st (@m may be NULL: only quitting works on the error
 * screen). Returns whether the frame must be redrawn; sets in->quit to end the loop.
 */
bool viewer_input_handle(struct viewer_input *in, const struct viewer_model *m,
			 struct viewer_state *st, const SDL_Event *ev);

#endif /* VIEWER_INPUT_H */

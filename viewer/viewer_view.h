/* SPDX-License-Identifier: MIT */
/*
 * viewer_view.h - what the user is looking at (struct viewer_state) and the views that draw
 * it: timeline, memory map, cause -> effect chain (the buffer view: viewer_buffer.h), inside a
 * frame (title bar with the view tabs, status line at the bottom, help overlay). Each view also
 * exposes its layout, so the window can hit-test clicks and the scene tests can find what they
 * check without guessing. The thread that owns the renderer.
 */
#ifndef VIEWER_VIEW_H
#define VIEWER_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "viewer_model.h"
#include "viewer_query.h"
#include "viewer_render.h"

enum viewer_view_kind {
	VIEWER_VIEW_TIMELINE,
	VIEWER_VIEW_MEMORY,
	VIEWER_VIEW_CHAIN,
	VIEWER_VIEW_BUFFER, /* viewer_buffer.h */
	VIEWER_VIEW_COUNT
};

struct viewer_buffer_view;

struct viewer_state {
	enum viewer_view_kind view;
	uint64_t cursor; /* the selected event index */
	double t0, t1;	 /* visible cycles of the timeline, t0 < t1 */
	int fault;	 /* the selected fault (index into model faults), -1 none */
	int mouse_x, mouse_y;
	bool mouse_in;	   /* the pointer is over the window */
	bool help;	   /* the key overlay is shown */
	int memory_scroll; /* rows scrolled off the top of the memory view */
	/* the buffer view's settings and cache, not owned; NULL: the buffer view shows nothing */
	struct viewer_buffer_view *bufview;
};

#define VIEWER_HEADER_H 36 /* title bar with the view tabs */
#define VIEWER_FOOTER_H 30 /* status line */

/*
 * viewer_state_init - the initial state for @m: timeline view, everything in view, the cursor
 * on viewer_model_default_event and the fault there (if any) selected.
 */
void viewer_state_init(struct viewer_state *st, const struct viewer_model *m);

/* viewer_state_set_cursor - select event @seq (clamped) and the last fault at or before it. */
void viewer_state_set_cursor(struct viewer_state *st, const struct viewer_model *m, uint64_t seq);

/* viewer_state_zoom - zoom the timeline by @factor (< 1 zooms in) keeping cycle @at in place. */
void viewer_state_zoom(struct viewer_state *st, const struct viewer_model *m, double factor,
		       double at);

/* viewer_state_pan - move the timeline by @fraction of its visible width (negative: left). */
void viewer_state_pan(struct viewer_state *st, const struct viewer_model *m, double fraction);

/* viewer_state_center - centre the timeline on the cursor's cycle without zooming. */
void viewer_state_center(struct viewer_state *st, const struct viewer_model *m);

/*
 * viewer_frame_draw - draw everything for @m (or, when @m is NULL, the error screen showing
 * @error) into @vr: header, the current view, status line and, if on, the help overlay.
 */
void viewer_frame_draw(struct viewer_render *vr, const struct viewer_model *m, const char *error,
		       const struct viewer_state *st);

/* viewer_frame_tab_x - the left edges of the view tabs in the title bar, and the right edge. */
void viewer_frame_tab_x(struct viewer_render *vr, int out[VIEWER_VIEW_COUNT + 1]);

/* The timeline's geometry for one frame size. */
#define VIEWER_TL_MAX_TRACKS 64

enum viewer_track_kind {
	VIEWER_TRACK_QUEUE,   /* index = queue */
	VIEWER_TRACK_DEVICE,  /* interrupts, resets, power */
	VIEWER_TRACK_CONTEXT, /* index = model context */
};

struct viewer_track {
	enum viewer_track_kind kind;
	int index;
	int y, h;
};

struct viewer_timeline_layout {
	int plot_x0, plot_x1; /* the cycle axis spans these pixels */
	int axis_y;	      /* top of the tick labels */
	struct viewer_track tracks[VIEWER_TL_MAX_TRACKS];
	int track_count;
};

/* viewer_timeline_layout - the tracks of @m in a @width x @height frame. */
void viewer_timeline_layout(const struct viewer_model *m, int width, int height,
			    struct viewer_timeline_layout *lay);

/* viewer_timeline_x - the x pixel of @cycle (may lie outside the plot). */
double viewer_timeline_x(const struct viewer_timeline_layout *lay, const struct viewer_state *st,
			 double cycle);

/* viewer_timeline_cycle - the cycle under pixel column @x. */
double viewer_timeline_cycle(const struct viewer_timeline_layout *lay,
			     const struct viewer_state *st, int x);

/* viewer_timeline_job_at - the job drawn under (@x, @y), -1 none. */
int viewer_timeline_job_at(const struct viewer_model *m, const struct viewer_state *st,
			   const struct viewer_timeline_layout *lay, int x, int y);

/*
 * viewer_timeline_command_at - the command (index into @m's commands) whose tick is drawn
 * nearest to (@x, @y), at most a few pixels away, inside a bar that shows its commands; -1 none.
 */
int viewer_timeline_command_at(const struct viewer_model *m, const struct viewer_state *st,
			       const struct viewer_timeline_layout *lay, int x, int y);

/* viewer_timeline_draw - the timeline view. */
void viewer_timeline_draw(struct viewer_render *vr, const struct viewer_model *m,
			  const struct viewer_state *st);

/* viewer_memory_draw - the memory map view. */
void viewer_memory_draw(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st);

#define VIEWER_MEM_PAGES 32 /* page cells in the strip around the faulting page */

/*
 * viewer_memory_fault_cell - where the memory view draws the faulting page's cell for @st in a
 * @width x @height frame. Returns 0 with the rectangle, -1 when no fault is shown.
 */
int viewer_memory_fault_cell(struct viewer_render *vr, const struct viewer_model *m,
			     const struct viewer_state *st, SDL_Rect *out);

/* viewer_chain_draw - the cause -> effect view of the selected fault. */
void viewer_chain_draw(struct viewer_render *vr, const struct viewer_model *m,
		       const struct viewer_state *st);

/* viewer_chain_link_rect - the box of link @i in a @width x @height frame (for clicks, tests). */
SDL_Rect viewer_chain_link_rect(int width, int i);

/* viewer_chain_link_color - the stripe colour of a link kind. Pure. */
SDL_Color viewer_chain_link_color(enum viewer_link_kind kind);

/* viewer_chain_fault - the fault the chain view shows for @st: the selected one, else the first. */
int viewer_chain_fault(const struct viewer_model *m, const struct viewer_state *st);

#endif /* VIEWER_VIEW_H */

/* SPDX-License-Identifier: MIT */
/*
 * viewer_page_script.h - the scripted walk of a page's window (--test-input with a campaign
 * report or with --attach): per page a short list of steps, each pushing synthetic events with
 * SDL_PushEvent and checking the page's state once the loop of viewer_page.c has handled them,
 * one "ok - what" / "not ok - what" line per step, as viewer_script.c does for the trace views.
 *
 * It also declares the pages' window state, which the walks read. The window's (main) thread.
 */
#ifndef VIEWER_PAGE_SCRIPT_H
#define VIEWER_PAGE_SCRIPT_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "viewer_live.h"
#include "viewer_page.h"
#include "viewer_render.h"
#include "viewer_report.h"

/* The report page's window state (viewer_report_view.c). */
struct viewer_report_page {
	struct viewer_report *report;
	const char *error;
	int scroll;
	char message[1024];
	bool scripted;	/* --test-input: a trace opened from the page runs the trace views' walk */
	int opened;	/* traces opened in the trace views so far */
	int nested_ret; /* what the last of those windows returned (viewer_app_run) */
};

/* The live page's window state (viewer_live_view.c): the session and when to poll next. */
struct viewer_live_page {
	struct viewer_live live;
	int64_t next_poll_ms;
	char reported[sizeof(((struct viewer_live *)0)->error)]; /* the error last on stderr */
};

/* The walks (viewer_page_script.c): a page's struct viewer_page points at its own. */
extern const struct viewer_page_walk viewer_page_walk_report; /* ctx: viewer_report_page */
extern const struct viewer_page_walk viewer_page_walk_live;   /* ctx: viewer_live_page */

struct viewer_page_script;

/* viewer_page_script_create - the walk of @page (page->walk) in @win. NULL: out of memory. */
struct viewer_page_script *viewer_page_script_create(const struct viewer_page *page,
						     SDL_Window *win);

/*
 * viewer_page_script_tick - called after every frame is drawn into @vr and before it is
 * presented (a check may read its pixels), with @quit when the loop was asked to end: checks the
 * current step, prints its line, starts the next. Returns true when the walk is over (passed,
 * failed, or the window quit).
 */
bool viewer_page_script_tick(struct viewer_page_script *s, const struct viewer_render *vr,
			     bool quit);

/* viewer_page_script_failed - whether a step failed. */
bool viewer_page_script_failed(const struct viewer_page_script *s);

/* viewer_page_script_destroy - free @s. NULL is a no-op. */
void viewer_page_script_destroy(struct viewer_page_script *s);

#endif /* VIEWER_PAGE_SCRIPT_H */

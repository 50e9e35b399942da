/* SPDX-License-Identifier: MIT */
/*
 * viewer_page.h - a page: a screen of magma-view that is not a trace (a live device, a campaign
 * report). A page is a context and a few callbacks; the same page is drawn headless into a PNG
 * (--screenshot, scene tests) or in a resizable window whose loop calls it back for drawing,
 * ticks, clicks and keys. The thread that owns the renderer (the main thread for a window).
 */
#ifndef VIEWER_PAGE_H
#define VIEWER_PAGE_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

#include "viewer_render.h"

struct viewer_page_walk; /* the steps of a page's --test-input walk (viewer_page_script.h) */

struct viewer_page {
	void *ctx;
	/* draw the whole frame into @vr */
	void (*draw)(struct viewer_render *vr, void *ctx);
	/* called once per loop turn (optional): returns how many ms it can wait for the next */
	int (*tick)(void *ctx);
	/* a left click at (@x, @y) of a @width x @height frame (optional); @win may be hidden and
	 * shown again around a nested window */
	void (*click)(void *ctx, SDL_Window *win, int width, int height, int x, int y);
	/* a key (optional); the wheel arrives as SDLK_UP / SDLK_DOWN. Esc and q quit. */
	void (*key)(void *ctx, SDL_Keycode key);
	/* the scripted walk of this page's window (NULL: it has none) */
	const struct viewer_page_walk *walk;
};

/*
 * viewer_page_render - draw @page once at @width x @height with the software renderer into a new
 * ARGB8888 surface (no display needed). The surface (SDL_FreeSurface), or NULL with @err.
 */
SDL_Surface *viewer_page_render(const struct viewer_page *page, int width, int height, char *err,
				size_t err_size);

/* viewer_page_screenshot - viewer_page_render saved as a PNG at @path. 0, or -1 with @err. */
int viewer_page_screenshot(const struct viewer_page *page, int width, int height, const char *path,
			   char *err, size_t err_size);

/*
 * viewer_page_run - show @page in a resizable window titled @title until the user closes it
 * (Esc, q, the close button). With @scripted, the page's walk (page->walk) drives the window
 * with synthetic events, prints one ok/not ok line per step and quits (the Xvfb tests).
 * Returns 0, 1 when a scripted step failed, or 3 with @err when no window could be opened
 * (or @scripted for a page without a walk).
 */
int viewer_page_run(const struct viewer_page *page, const char *title, int width, int height,
		    bool scripted, char *err, size_t err_size);

/* The live device page (viewer_live_view.c): magma-view --attach. */
struct viewer_live;

enum viewer_live_table { VIEWER_LIVE_CONNECTIONS, VIEWER_LIVE_FIRINGS };

#define VIEWER_LIVE_ROW_H 22 /* every line of the live page, fixed so tests can find rows */

/* viewer_live_draw - the live page of @live: per device its counters and the two tables. */
void viewer_live_draw(struct viewer_render *vr, const struct viewer_live *live);

/*
 * viewer_live_row_rect - where drawn row @row (0: the newest entry) of @table of device
 * @device (of @device_count) lies in a @width x @height frame. 0, or -1 when it is not shown.
 */
int viewer_live_row_rect(int width, int height, int device_count, int device,
			 enum viewer_live_table table, int row, SDL_Rect *out);

/*
 * viewer_live_marker_rect - the coloured marker of that row: a connection's status chip (green
 * OK, red an error or killed), a firing's state stripe (red applied, yellow pending, grey never
 * applied). 0, or -1 when the row is not shown.
 */
int viewer_live_marker_rect(int width, int height, int device_count, int device,
			    enum viewer_live_table table, int row, SDL_Rect *out);

/*
 * viewer_live_main - magma-view --attach @path: the window (polling every VIEWER_LIVE_POLL_MS,
 * retrying every VIEWER_LIVE_RETRY_MS; with @scripted, driven by its --test-input walk), or with
 * @screenshot one frame of one dump as a PNG. A socket that does not answer gives a message on
 * stderr and in the frame. Returns the exit status: 0; 1 a scripted step failed; 3 (no answer
 * with @screenshot, no window, no font, PNG not written).
 */
int viewer_live_main(const char *path, const char *screenshot, int width, int height,
		     bool scripted);

/* The campaign report page (viewer_report_view.c): magma-view REPORT.json. */
struct viewer_report;

/* viewer_report_draw - the report page: @r's matrix and failing points (from @scroll on), or,
 * when @r is NULL, @error; @message (may be NULL) in the status line. */
void viewer_report_draw(struct viewer_render *vr, const struct viewer_report *r, const char *error,
			int scroll, const char *message);

/* viewer_report_row_rect - matrix row @row in a @width x @height frame. 0, or -1 not shown. */
int viewer_report_row_rect(const struct viewer_report *r, int width, int height, int row,
			   SDL_Rect *out);

/* viewer_report_row_marker_rect - that row's result stripe: red a point failed, green all
 * reached points passed, grey none was reached. 0, or -1 not shown. */
int viewer_report_row_marker_rect(const struct viewer_report *r, int width, int height, int row,
				  SDL_Rect *out);

/* viewer_report_failure_rect - the box of failing point @i with the list scrolled by @scroll
 * points. 0, or -1 when it is not shown. */
int viewer_report_failure_rect(const struct viewer_report *r, int width, int height, int scroll,
			       int i, SDL_Rect *out);

/*
 * viewer_report_main - magma-view REPORT.json: the window (a click on a failing point opens its
 * kept trace in the trace views, else shows how to reproduce it; with @scripted, driven by its
 * --test-input walk, and so is a trace window opened from it), or with @screenshot one frame as
 * a PNG. Returns the exit status: 0; 1 a scripted step failed; 2 a bad report (message on stderr
 * and in the frame); 3 no window, no font, PNG not written.
 */
int viewer_report_main(const char *path, const char *screenshot, int width, int height,
		       bool scripted);

#endif /* VIEWER_PAGE_H */

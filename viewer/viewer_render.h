/* SPDX-License-Identifier: MIT */
/*
 * viewer_render.h - magma-view's drawing primitives: filled and outlined rectangles, lines and
 * text in two fonts (DejaVu Sans and DejaVu Sans Mono), on any SDL_Renderer (a window's, or a
 * software renderer drawing into a surface for --screenshot and the scene tests), plus the
 * colours every view shares. One struct viewer_render per renderer; the thread that made it.
 */
#ifndef VIEWER_RENDER_H
#define VIEWER_RENDER_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>
#include <stddef.h>

#define VIEWER_FONT_SIZE      15 /* px: readable at 1080p */
#define VIEWER_FONT_SIZE_MONO 14

struct viewer_render {
	SDL_Renderer *renderer;
	TTF_Font *sans;
	TTF_Font *mono;
	int width, height;
	int line_height; /* of the sans font */
};

/* The palette (viewer_render.c). */
extern const SDL_Color viewer_color_background, viewer_color_panel, viewer_color_text,
	viewer_color_text_dim, viewer_color_grid, viewer_color_fault, viewer_color_cursor,
	viewer_color_reset, viewer_color_power, viewer_color_irq, viewer_color_highlight,
	viewer_color_command;

/* viewer_queue_color - the bar colour of hardware queue @queue. Pure. */
SDL_Color viewer_queue_color(unsigned queue);

/* viewer_flags_color - the colour of a mapping with MAGMA_MAP_FLAG_* @flags. Pure. */
SDL_Color viewer_flags_color(unsigned long long flags);

/*
 * viewer_render_init - open the fonts (viewer_font_find) for @renderer of @width x @height.
 * Returns 0, or -1 with a message in @err ("no DejaVu font found: ..."). viewer_render_fini
 * closes them; it is safe on a struct whose init failed.
 */
int viewer_render_init(struct viewer_render *vr, SDL_Renderer *renderer, int width, int height,
		       char *err, size_t err_size);
void viewer_render_fini(struct viewer_render *vr);

void viewer_fill(struct viewer_render *vr, int x, int y, int w, int h, SDL_Color c);
void viewer_outline(struct viewer_render *vr, int x, int y, int w, int h, SDL_Color c);
void viewer_line(struct viewer_render *vr, int x1, int y1, int x2, int y2, SDL_Color c);

/*
 * viewer_text - draw UTF-8 @text with its top-left corner at (@x, @y), cut to @max_w pixels
 * (0: no limit; a cut text ends in "..."). Returns the width drawn. Empty text draws nothing.
 */
int viewer_text(struct viewer_render *vr, int x, int y, SDL_Color c, bool mono, int max_w,
		const char *text);

/* viewer_text_width - the width @text would take. */
int viewer_text_width(struct viewer_render *vr, bool mono, const char *text);

/*
 * viewer_text_wrapped - draw @text word-wrapped to @max_w, at most @max_lines lines. Returns
 * the height used.
 */
int viewer_text_wrapped(struct viewer_render *vr, int x, int y, SDL_Color c, bool mono, int max_w,
			int max_lines, const char *text);

/* viewer_font_find - the path of DejaVu Sans (@mono false) or Sans Mono into @out; 0 or -1. */
int viewer_font_find(bool mono, char *out, size_t size);

#endif /* VIEWER_RENDER_H */

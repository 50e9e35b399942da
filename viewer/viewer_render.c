/* SPDX-License-Identifier: MIT */
/*
 * viewer_render.c - drawing primitives and text for magma-view (see viewer_render.h).
 *
 * Text is rendered with SDL_ttf's blended (anti-aliased) mode into a surface, turned into a
 * texture and copied; nothing is cached, which is fast enough for the few hundred strings a
 * frame holds. Colours are opaque unless they say otherwise, so scene tests can compare exact
 * pixel values inside shapes. The thread that owns the renderer.
 */
#include <string.h>

#include "viewer_render.h"

/* clang-format off */
const SDL_Color viewer_color_background = {24, 26, 31, 255};
const SDL_Color viewer_color_panel      = {36, 39, 46, 255};
const SDL_Color viewer_color_text       = {230, 232, 236, 255};
const SDL_Color viewer_color_text_dim   = {150, 156, 168, 255};
const SDL_Color viewer_color_grid       = {58, 62, 72, 255};
const SDL_Color viewer_color_fault      = {230, 57, 70, 255};
const SDL_Color viewer_color_cursor     = {255, 214, 10, 255};
const SDL_Color viewer_color_reset      = {255, 140, 66, 255};
const SDL_Color viewer_color_power      = {129, 199, 132, 255};
const SDL_Color viewer_color_irq        = {120, 144, 156, 255};
const SDL_Color viewer_color_highlight  = {90, 30, 36, 255};
const SDL_Color viewer_color_command    = {14, 15, 18, 255};  /* dark: shows on every bar */
/* clang-format on */

/* viewer_queue_color - see viewer_render.h. */
SDL_Color viewer_queue_color(unsigned queue)
{
	static const SDL_Color queues[] = {
		{66, 133, 244, 255}, /* blue */
		{52, 168, 83, 255},  /* green */
		{171, 71, 188, 255}, /* purple */
		{0, 172, 193, 255},  /* cyan */
	};

	return queues[queue % (sizeof(queues) / sizeof(queues[0]))];
}

/* viewer_flags_color - see viewer_render.h. Executable ranges stand out from data. */
SDL_Color viewer_flags_color(unsigned long long flags)
{
	if (flags & 4) /* MAGMA_MAP_FLAG_EXECUTE */
		return (SDL_Color){126, 87, 194, 255};
	if (flags & 2) /* MAGMA_MAP_FLAG_WRITE */
		return (SDL_Color){38, 166, 154, 255};
	return (SDL_Color){84, 110, 122, 255}; /* read-only or none */
}

/* viewer_render_init - see viewer_render.h. */
int viewer_render_init(struct viewer_render *vr, SDL_Renderer *renderer, int width, int height,
		       char *err, size_t err_size)
{
	char sans[512], mono[512];

	memset(vr, 0, sizeof(*vr));
	vr->renderer = renderer;
	vr->width = width;
	vr->height = height;
	if (viewer_font_find(false, sans, sizeof(sans)) ||
	    viewer_font_find(true, mono, sizeof(mono))) {
		snprintf(err, err_size,
			 "no DejaVu font found (looked in /usr/share/fonts/truetype/dejavu and "
			 "$MAGMA_VIEW_FONT_DIR): install fonts-dejavu-core");
		return -1;
	}
	if (!TTF_WasInit() && TTF_Init()) {
		snprintf(err, err_size, "SDL_ttf: %s", TTF_GetError());
		return -1;
	}
	vr->sans = TTF_OpenFont(sans, VIEWER_FONT_SIZE);
	vr->mono = TTF_OpenFont(mono, VIEWER_FONT_SIZE_MONO);
	if (!vr->sans || !vr->mono) {
		snprintf(err, err_size, "cannot open %s: %s", vr->sans ? mono : sans,
			 TTF_GetError());
		viewer_render_fini(vr);
		return -1;
	}
	vr->line_height = TTF_FontLineSkip(vr->sans);
	return 0;
}

/* viewer_render_fini - see viewer_render.h. */
void viewer_render_fini(struct viewer_render *vr)
{
	if (vr->sans)
		TTF_CloseFont(vr->sans);
	if (vr->mono)
		TTF_CloseFont(vr->mono);
	vr->sans = vr->mono = NULL;
}

/* viewer_fill - a filled rectangle (alpha blended when @c is not opaque). */
void viewer_fill(struct viewer_render *vr, int x, int y, int w, int h, SDL_Color c)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	SDL_SetRenderDrawBlendMode(vr->renderer,
				   c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(vr->renderer, c.r, c.g, c.b, c.a);
	SDL_RenderFillRect(vr->renderer, &r);
}

/* viewer_outline - a one-pixel rectangle outline. */
void viewer_outline(struct viewer_render *vr, int x, int y, int w, int h, SDL_Color c)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	SDL_SetRenderDrawBlendMode(vr->renderer, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(vr->renderer, c.r, c.g, c.b, c.a);
	SDL_RenderDrawRect(vr->renderer, &r);
}

/* viewer_line - a one-pixel line. */
void viewer_line(struct viewer_render *vr, int x1, int y1, int x2, int y2, SDL_Color c)
{
	SDL_SetRenderDrawBlendMode(vr->renderer, SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(vr->renderer, c.r, c.g, c.b, c.a);
	SDL_RenderDrawLine(vr->renderer, x1, y1, x2, y2);
}

/* viewer_text_width - see viewer_render.h. */
int viewer_text_width(struct viewer_render *vr, bool mono, const char *text)
{
	int w = 0, h = 0;

	if (!text[0] || TTF_SizeUTF8(mono ? vr->mono : vr->sans, text, &w, &h))
		return 0;
	return w;
}

static int draw_plain(struct viewer_render *vr, int x, int y, SDL_Color c, bool mono,
		      const char *text)
{
	SDL_Surface *s;
	SDL_Texture *t;
	SDL_Rect dst;

	if (!text[0])
		return 0;
	s = TTF_RenderUTF8_Blended(mono ? vr->mono : vr->sans, text, c);
	if (!s)
		return 0;
	dst = (SDL_Rect){x, y, s->w, s->h};
	t = SDL_CreateTextureFromSurface(vr->renderer, s);
	if (t) {
		SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
		SDL_RenderCopy(vr->renderer, t, NULL, &dst);
		SDL_DestroyTexture(t);
	}
	SDL_FreeSurface(s);
	return dst.w;
}

/* viewer_text - see viewer_render.h. Cutting keeps whole UTF-8 sequences. */
int viewer_text(struct viewer_render *vr, int x, int y, SDL_Color c, bool mono, int max_w,
		const char *text)
{
	char buf[512];
	size_t len = strlen(text);

	if (!max_w || viewer_text_width(vr, mono, text) <= max_w)
		return draw_plain(vr, x, y, c, mono, text);
	if (len > sizeof(buf) - 4)
		len = sizeof(buf) - 4;
	while (len > 0) {
		len--;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
		memcpy(buf, text, len);
		memcpy(buf + len, "...", 4);
		if (viewer_text_width(vr, mono, buf) <= max_w)
			return draw_plain(vr, x, y, c, mono, buf);
	}
	return 0;
}

/* viewer_text_wrapped - see viewer_render.h. Breaks at spaces; a long word is cut. */
int viewer_text_wrapped(struct viewer_render *vr, int x, int y, SDL_Color c, bool mono, int max_w,
			int max_lines, const char *text)
{
	int line_h = TTF_FontLineSkip(mono ? vr->mono : vr->sans), lines = 0;
	const char *p = text;
	char buf[512];

	while (*p && lines < max_lines) {
		size_t fit = 0, len = 0;

		while (p[len] && len < sizeof(buf) - 1) {
			size_t next = len;

			while (p[next] == ' ')
				next++;
			while (p[next] && p[next] != ' ' && next < sizeof(buf) - 1)
				next++;
			memcpy(buf, p, next);
			buf[next] = '\0';
			if (viewer_text_width(vr, mono, buf) > max_w && fit)
				break;
			fit = next;
			len = next;
			if (viewer_text_width(vr, mono, buf) > max_w)
				break;
		}
		memcpy(buf, p, fit);
		buf[fit] = '\0';
		if (lines == max_lines - 1 && p[fit])
			viewer_text(vr, x, y + lines * line_h, c, mono, max_w, p);
		else
			viewer_text(vr, x, y + lines * line_h, c, mono, max_w, buf);
		lines++;
		p += fit;
		while (*p == ' ')
			p++;
		if (!fit)
			break;
	}
	return lines * line_h;
}

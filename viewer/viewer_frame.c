/* SPDX-License-Identifier: MIT */
/*
 * viewer_frame.c - the frame around the views (title bar with the view tabs, status line, help
 * overlay, the error screen of a trace that could not be read) and the view state's helpers:
 * cursor, zoom and pan. The thread that owns the renderer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "viewer_buffer.h"
#include "viewer_view.h"

/* The keys, as the help overlay lists them (also in docs/viewer.md). */
static const char *const help_lines[][2] = {
	{"1  2  3  4  /  Tab", "timeline, memory map, cause -> effect, buffer (Tab: next view)"},
	{"click", "timeline: select the job or the event at that cycle; chain: jump there"},
	{"mouse wheel  /  +  -", "zoom the timeline around the pointer / the cursor"},
	{"drag  /  Left  Right", "pan the timeline"},
	{", .  /  [ ]", "previous / next event (cursor); with Shift: 10 events"},
	{"j  k", "previous / next job start"},
	{"n  p", "next / previous fault (selects it for the memory and chain views)"},
	{"c", "centre the timeline on the cursor"},
	{"0  /  Home", "show the whole trace"},
	{"Up  Down / wheel", "memory map, hex dump: scroll"},
	{"Enter", "memory map: open the top mapping's buffer in the buffer view"},
	{"f  x  w W  h H  s S  o O", "buffer: format, hex, width -1 +1 /2 x2, stride, offset"},
	{"?  /  F1", "show or hide this help"},
	{"Esc  /  q", "close the help; quit"},
};

static double span_min(const struct viewer_model *m)
{
	(void)m;
	return 10.0; /* cycles: closer than this shows nothing new */
}

/* viewer_state_init - see viewer_view.h. */
void viewer_state_init(struct viewer_state *st, const struct viewer_model *m)
{
	memset(st, 0, sizeof(*st));
	st->view = VIEWER_VIEW_TIMELINE;
	st->fault = -1;
	if (!m) {
		st->t1 = 1;
		return;
	}
	st->t0 = (double)m->first_cycle;
	st->t1 = (double)m->last_cycle;
	if (st->t1 - st->t0 < span_min(m))
		st->t1 = st->t0 + span_min(m);
	/* a little room on both sides so the first and last events are not on the border */
	st->t0 -= (st->t1 - st->t0) * 0.01;
	st->t1 += (st->t1 - st->t0) * 0.01;
	viewer_state_set_cursor(st, m, viewer_model_default_event(m));
}

/* viewer_state_set_cursor - see viewer_view.h. */
void viewer_state_set_cursor(struct viewer_state *st, const struct viewer_model *m, uint64_t seq)
{
	int fault;

	if (!m)
		return;
	st->cursor = m->event_count && seq >= m->event_count ? m->event_count - 1 : seq;
	if (!m->event_count)
		st->cursor = 0;
	fault = viewer_model_fault_at(m, st->cursor);
	if (fault >= 0)
		st->fault = fault;
}

/* viewer_state_zoom - see viewer_view.h. */
void viewer_state_zoom(struct viewer_state *st, const struct viewer_model *m, double factor,
		       double at)
{
	double span = (st->t1 - st->t0) * factor;
	double full = (double)(m->last_cycle - m->first_cycle) * 1.2 + span_min(m);

	if (span < span_min(m))
		span = span_min(m);
	if (span > full)
		span = full;
	st->t0 = at - (at - st->t0) * span / (st->t1 - st->t0);
	st->t1 = st->t0 + span;
}

/* viewer_state_pan - see viewer_view.h. Stops a little past either end of the trace. */
void viewer_state_pan(struct viewer_state *st, const struct viewer_model *m, double fraction)
{
	double span = st->t1 - st->t0, shift = span * fraction;
	double lo = (double)m->first_cycle - span * 0.5, hi = (double)m->last_cycle + span * 0.5;

	if (st->t0 + shift < lo)
		shift = lo - st->t0;
	if (st->t1 + shift > hi)
		shift = hi - st->t1;
	st->t0 += shift;
	st->t1 += shift;
}

/* viewer_state_center - see viewer_view.h. */
void viewer_state_center(struct viewer_state *st, const struct viewer_model *m)
{
	double span = st->t1 - st->t0, c = (double)viewer_model_cycle_at(m, st->cursor);

	st->t0 = c - span / 2;
	st->t1 = c + span / 2;
}

static const char *const tab_names[] = {"1 Timeline", "2 Memory map", "3 Cause -> effect",
					"4 Buffer"};

/* viewer_frame_tab_x - see viewer_view.h. */
void viewer_frame_tab_x(struct viewer_render *vr, int out[VIEWER_VIEW_COUNT + 1])
{
	int x = 10 + viewer_text_width(vr, false, "magma-view") + 18;

	for (int i = 0; i < VIEWER_VIEW_COUNT; i++) {
		out[i] = x;
		x += viewer_text_width(vr, false, tab_names[i]) + 24;
	}
	out[VIEWER_VIEW_COUNT] = x;
}

static void draw_header(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st)
{
	const char *name = m && m->path ? strrchr(m->path, '/') : NULL;
	int tab_x[VIEWER_VIEW_COUNT + 1];
	char text[256];
	int x;

	viewer_fill(vr, 0, 0, vr->width, VIEWER_HEADER_H, (SDL_Color){16, 17, 21, 255});
	viewer_text(vr, 10, (VIEWER_HEADER_H - vr->line_height) / 2, viewer_color_text, false, 0,
		    "magma-view");
	viewer_frame_tab_x(vr, tab_x);
	for (int i = 0; i < VIEWER_VIEW_COUNT && m; i++) {
		if ((int)st->view == i)
			viewer_fill(vr, tab_x[i], 4, tab_x[i + 1] - tab_x[i] - 4,
				    VIEWER_HEADER_H - 4, viewer_color_panel);
		viewer_text(vr, tab_x[i] + 10, (VIEWER_HEADER_H - vr->line_height) / 2,
			    (int)st->view == i ? viewer_color_cursor : viewer_color_text_dim, false,
			    0, tab_names[i]);
	}
	x = tab_x[VIEWER_VIEW_COUNT] + 12;
	if (m) {
		snprintf(text, sizeof(text),
			 "%s  |  %" PRIu64 " events, %zu jobs, %zu faults, %" PRIu64
			 " cycles  |  ? help",
			 name ? name + 1 : (m->path ? m->path : ""), m->event_count, m->job_count,
			 m->fault_count, m->last_cycle);
		viewer_text(vr, x, (VIEWER_HEADER_H - vr->line_height) / 2, viewer_color_text_dim,
			    false, vr->width - x - 10, text);
	}
}

static void draw_footer(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st)
{
	int y = vr->height - VIEWER_FOOTER_H;
	char text[320];
	int len;

	viewer_fill(vr, 0, y, vr->width, VIEWER_FOOTER_H, (SDL_Color){16, 17, 21, 255});
	len = snprintf(text, sizeof(text), "event %" PRIu64 " of %" PRIu64 "  |  cycle %" PRIu64,
		       st->cursor, m->event_count, viewer_model_cycle_at(m, st->cursor));
	if (st->fault >= 0 && (size_t)st->fault < m->fault_count && len > 0 &&
	    (size_t)len < sizeof(text)) {
		const struct viewer_fault *f = &m->faults[st->fault];

		snprintf(text + len, sizeof(text) - (size_t)len,
			 "  |  fault %d of %zu: %s at event %" PRIu64, st->fault + 1,
			 m->fault_count, f->hang ? "HANG" : viewer_fault_name_of(f->code), f->seq);
	}
	viewer_text(vr, 10, y + (VIEWER_FOOTER_H - vr->line_height) / 2, viewer_color_text, false,
		    vr->width - 20, text);
}

static void draw_help(struct viewer_render *vr)
{
	int rows = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
	int w = 760, h = (rows + 2) * (vr->line_height + 6) + 20;
	int x = (vr->width - w) / 2, y = (vr->height - h) / 2;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	viewer_fill(vr, x, y, w, h, (SDL_Color){12, 13, 16, 245});
	viewer_outline(vr, x, y, w, h, viewer_color_cursor);
	viewer_text(vr, x + 20, y + 12, viewer_color_cursor, false, 0, "Keys and mouse");
	for (int i = 0; i < rows; i++) {
		int ly = y + 12 + (i + 1) * (vr->line_height + 6) + 6;

		viewer_text(vr, x + 20, ly, viewer_color_text, true, 220, help_lines[i][0]);
		viewer_text(vr, x + 250, ly, viewer_color_text_dim, false, w - 270,
			    help_lines[i][1]);
	}
}

static void draw_error(struct viewer_render *vr, const char *error)
{
	int w = vr->width - 80 > 200 ? vr->width - 80 : vr->width, x = (vr->width - w) / 2;
	int y = VIEWER_HEADER_H + 40;

	viewer_fill(vr, x, y, w, 6 * vr->line_height + 40, viewer_color_highlight);
	viewer_outline(vr, x, y, w, 6 * vr->line_height + 40, viewer_color_fault);
	viewer_text(vr, x + 20, y + 14, viewer_color_fault, false, 0,
		    "magma-view cannot show this trace");
	viewer_text_wrapped(vr, x + 20, y + 20 + vr->line_height + 8, viewer_color_text, true,
			    w - 40, 4, error ? error : "unknown error");
	viewer_text(vr, x, y + 6 * vr->line_height + 56, viewer_color_text_dim, false, 0,
		    "Esc or q quits. magma-replay FILE checks a trace the same way.");
}

/* viewer_frame_draw - see viewer_view.h. */
void viewer_frame_draw(struct viewer_render *vr, const struct viewer_model *m, const char *error,
		       const struct viewer_state *st)
{
	viewer_fill(vr, 0, 0, vr->width, vr->height, viewer_color_background);
	draw_header(vr, m, st);
	if (!m) {
		draw_error(vr, error);
		return;
	}
	switch (st->view) {
	case VIEWER_VIEW_TIMELINE:
		viewer_timeline_draw(vr, m, st);
		break;
	case VIEWER_VIEW_MEMORY:
		viewer_memory_draw(vr, m, st);
		break;
	case VIEWER_VIEW_BUFFER:
		viewer_buffer_draw(vr, m, st);
		break;
	case VIEWER_VIEW_CHAIN:
	case VIEWER_VIEW_COUNT:
		viewer_chain_draw(vr, m, st);
		break;
	}
	draw_footer(vr, m, st);
	if (st->help)
		draw_help(vr);
}

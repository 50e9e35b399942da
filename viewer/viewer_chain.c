/* SPDX-License-Identifier: MIT */
/*
 * viewer_chain.c - the cause -> effect view: the links viewer_chain_build finds for the
 * selected fault, top to bottom, each a box with a coloured stripe, a title, what the trace
 * says and the event it comes from ("event N >", which jumps the timeline there when clicked).
 * Links the trace has no event for are drawn dimmed with their explanation. The thread that
 * owns the renderer.
 */
#include <inttypes.h>
#include <stdio.h>

#include "viewer_view.h"

#define CHAIN_MARGIN 20
#define CHAIN_TOP    (VIEWER_HEADER_H + 48)
#define CHAIN_BOX_H  58
#define CHAIN_GAP    14
#define CHAIN_STRIPE 8

/* viewer_chain_link_rect - see viewer_view.h. */
SDL_Rect viewer_chain_link_rect(int width, int i)
{
	return (SDL_Rect){CHAIN_MARGIN, CHAIN_TOP + i * (CHAIN_BOX_H + CHAIN_GAP),
			  width - 2 * CHAIN_MARGIN, CHAIN_BOX_H};
}

/* viewer_chain_link_color - see viewer_view.h. */
SDL_Color viewer_chain_link_color(enum viewer_link_kind kind)
{
	switch (kind) {
	case VIEWER_LINK_SUBMIT:
		return (SDL_Color){96, 125, 139, 255};
	case VIEWER_LINK_JOB:
		return viewer_queue_color(0);
	case VIEWER_LINK_FAULT:
		return viewer_color_fault;
	case VIEWER_LINK_MAPPING:
		return (SDL_Color){126, 87, 194, 255};
	case VIEWER_LINK_KILLED:
		return (SDL_Color){239, 83, 80, 255};
	case VIEWER_LINK_NOTIFY:
		return (SDL_Color){255, 202, 40, 255};
	case VIEWER_LINK_RESET:
		return viewer_color_reset;
	case VIEWER_LINK_INNOCENT:
	case VIEWER_LINK_KIND_COUNT:
		break;
	}
	return viewer_color_power;
}

/* viewer_chain_fault - see viewer_view.h. */
int viewer_chain_fault(const struct viewer_model *m, const struct viewer_state *st)
{
	if (st->fault >= 0 && (size_t)st->fault < m->fault_count)
		return st->fault;
	return m->fault_count ? 0 : -1;
}

/* viewer_chain_draw - see viewer_view.h. */
void viewer_chain_draw(struct viewer_render *vr, const struct viewer_model *m,
		       const struct viewer_state *st)
{
	struct viewer_link links[VIEWER_CHAIN_MAX];
	int fault = viewer_chain_fault(m, st);
	size_t n = fault >= 0 ? viewer_chain_build(m, fault, links) : 0;
	char text[256];

	if (fault < 0) {
		viewer_text(
			vr, CHAIN_MARGIN, VIEWER_HEADER_H + 16, viewer_color_text, false, 0,
			"This trace holds no fault: no MMU or command fault, and no job cut off "
			"by a watchdog reset.");
		return;
	}
	snprintf(text, sizeof(text),
		 "Fault %d of %zu: why it happened and what it caused (n / p: other faults; "
		 "click a box to see it on the timeline)",
		 fault + 1, m->fault_count);
	viewer_text(vr, CHAIN_MARGIN, VIEWER_HEADER_H + 16, viewer_color_text, false,
		    vr->width - 2 * CHAIN_MARGIN, text);
	for (size_t i = 0; i < n; i++) {
		SDL_Rect r = viewer_chain_link_rect(vr->width, (int)i);
		bool found = links[i].seq != VIEWER_NONE;
		bool hover = st->mouse_in && st->mouse_x >= r.x && st->mouse_x < r.x + r.w &&
			     st->mouse_y >= r.y && st->mouse_y < r.y + r.h;
		SDL_Color stripe = viewer_chain_link_color(links[i].kind);
		int tx = r.x + CHAIN_STRIPE + 12;

		if (r.y + r.h > vr->height - VIEWER_FOOTER_H)
			break;
		if (!found)
			stripe.a = 90;
		viewer_fill(vr, r.x, r.y, r.w, r.h,
			    hover && found ? (SDL_Color){50, 54, 64, 255} : viewer_color_panel);
		viewer_fill(vr, r.x, r.y, CHAIN_STRIPE, r.h, stripe);
		if (found && links[i].seq <= st->cursor)
			viewer_outline(vr, r.x, r.y, r.w, r.h, viewer_color_grid);
		viewer_text(vr, tx, r.y + 6, found ? viewer_color_text : viewer_color_text_dim,
			    false, 180, links[i].title);
		if (found) {
			snprintf(text, sizeof(text), "event %" PRIu64 "  >", links[i].seq);
			viewer_text(vr, r.x + r.w - 12 - viewer_text_width(vr, false, text),
				    r.y + 6, viewer_color_cursor, false, 0, text);
		}
		viewer_text_wrapped(vr, tx, r.y + 6 + vr->line_height + 2,
				    found ? viewer_color_text : viewer_color_text_dim, false,
				    r.w - (tx - r.x) - 16, 2, links[i].text);
		if (i + 1 < n) {
			int ax = r.x + CHAIN_STRIPE / 2, ay = r.y + r.h;

			viewer_fill(vr, ax - 1, ay, 2, CHAIN_GAP, viewer_color_text_dim);
		}
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * viewer_memory.c - the memory map view: every connection's GPU address space after the
 * selected event, as the client built it with map_buffer and unmap_buffer.
 *
 * At the top, when a fault is selected, a strip of VIEWER_MEM_PAGES pages around the faulting
 * address shows which pages the faulting connection had mapped (coloured by permission) and
 * which not (dark), with the faulting page in red. Below, one table per live connection lists
 * its mappings in VA order: range, size, flags, buffer; the row holding the faulting address is
 * highlighted, and an address no mapping covers gets a red row of its own where it falls.
 * What the GPU's page tables held is not in the trace; this is the client's view, which is
 * what a driver bug would contradict. The thread that owns the renderer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_view.h"

#define MEM_MARGIN   20
#define MEM_CELL_H   30
#define MEM_PAGE     ((uint64_t)4096)
#define MEM_MAX_ROWS 256

static const struct viewer_fault *shown_fault(const struct viewer_model *m,
					      const struct viewer_state *st)
{
	const struct viewer_fault *f;

	if (st->fault < 0 || (size_t)st->fault >= m->fault_count)
		return NULL;
	f = &m->faults[st->fault];
	return f->hang || f->connection < 0 ? NULL : f;
}

static int strip_y(const struct viewer_render *vr)
{
	return VIEWER_HEADER_H + 12 + vr->line_height + 10 + vr->line_height + 6;
}

/* viewer_memory_fault_cell - see viewer_view.h. */
int viewer_memory_fault_cell(struct viewer_render *vr, const struct viewer_model *m,
			     const struct viewer_state *st, SDL_Rect *out)
{
	int cell_w = (vr->width - 2 * MEM_MARGIN) / VIEWER_MEM_PAGES;

	if (!shown_fault(m, st))
		return -1;
	*out = (SDL_Rect){MEM_MARGIN + (VIEWER_MEM_PAGES / 2) * cell_w, strip_y(vr), cell_w,
			  MEM_CELL_H};
	return 0;
}

/* The AS slot of @conn's last job started by @seq, -1 when it has run none yet. */
static int slot_of(const struct viewer_model *m, int conn, uint64_t seq)
{
	int slot = -1;

	for (size_t i = 0; i < m->job_count && m->jobs[i].start_seq <= seq; i++)
		if (m->jobs[i].connection == conn)
			slot = (int)m->jobs[i].slot;
	return slot;
}

static void draw_strip(struct viewer_render *vr, const struct viewer_model *m,
		       const struct viewer_state *st, const struct viewer_fault *f)
{
	int cell_w = (vr->width - 2 * MEM_MARGIN) / VIEWER_MEM_PAGES, y = strip_y(vr);
	uint64_t page = f->va / MEM_PAGE;
	uint64_t first = page >= VIEWER_MEM_PAGES / 2 ? page - VIEWER_MEM_PAGES / 2 : 0;
	char text[256];

	snprintf(text, sizeof(text),
		 "fault %d: %s at VA %#" PRIx64 " (connection #%" PRIu32
		 "): the %d pages around it, as the connection had them mapped",
		 st->fault + 1, viewer_fault_name_of(f->code), f->va,
		 m->connections[f->connection].number, VIEWER_MEM_PAGES);
	viewer_text(vr, MEM_MARGIN, y - vr->line_height - 6, viewer_color_text, false,
		    vr->width - 2 * MEM_MARGIN, text);
	for (int i = 0; i < VIEWER_MEM_PAGES; i++) {
		uint64_t va = (first + (uint64_t)i) * MEM_PAGE;
		int mp = viewer_query_mapping_at(m, f->connection, va, st->cursor);
		int x = MEM_MARGIN + i * cell_w;
		SDL_Color c = mp >= 0 ? viewer_flags_color(m->mappings[mp].flags)
				      : (SDL_Color){44, 47, 55, 255};

		if (first + (uint64_t)i == page)
			c = viewer_color_fault;
		viewer_fill(vr, x + 1, y, cell_w - 2, MEM_CELL_H, c);
		if (first + (uint64_t)i == page)
			viewer_outline(vr, x - 1, y - 2, cell_w + 2, MEM_CELL_H + 4,
				       viewer_color_cursor);
	}
	snprintf(text, sizeof(text), "%#" PRIx64, first * MEM_PAGE);
	viewer_text(vr, MEM_MARGIN, y + MEM_CELL_H + 4, viewer_color_text_dim, true, 0, text);
	snprintf(text, sizeof(text), "%#" PRIx64, (first + VIEWER_MEM_PAGES) * MEM_PAGE);
	viewer_text(vr, vr->width - MEM_MARGIN - viewer_text_width(vr, true, text),
		    y + MEM_CELL_H + 4, viewer_color_text_dim, true, 0, text);
	snprintf(text, sizeof(text), "one cell = one 4 KiB page;  colour: %s",
		 "purple executable, teal writable, grey read-only, dark not mapped, red faulting");
	viewer_text(vr, MEM_MARGIN + 160, y + MEM_CELL_H + 4, viewer_color_text_dim, false,
		    vr->width - 2 * MEM_MARGIN - 320, text);
}

static void size_text(uint64_t size, char *out, size_t n)
{
	if (size >= (1ull << 20) && !(size & ((1ull << 20) - 1)))
		snprintf(out, n, "%" PRIu64 " MiB", size >> 20);
	else if (size >= 1024 && !(size & 1023))
		snprintf(out, n, "%" PRIu64 " KiB", size >> 10);
	else
		snprintf(out, n, "%" PRIu64 " B", size);
}

/* Draws one table row; returns the next y. */
static int draw_row(struct viewer_render *vr, int y, SDL_Color bg, SDL_Color chip,
		    const char *const cols[5], SDL_Color fg)
{
	static const int col_x[] = {MEM_MARGIN + 22, 220, 420, 540, 610};
	int h = vr->line_height + 6;

	if (bg.a)
		viewer_fill(vr, MEM_MARGIN, y, vr->width - 2 * MEM_MARGIN, h, bg);
	if (chip.a)
		viewer_fill(vr, MEM_MARGIN + 4, y + 4, 10, h - 8, chip);
	for (int i = 0; i < 5; i++)
		viewer_text(vr, col_x[i], y + 3, fg, i < 4, i == 4 ? vr->width - 630 : 0, cols[i]);
	return y + h;
}

/* Draws the table of connection @c; returns the next y. @skip rows are scrolled away. */
static int draw_connection(struct viewer_render *vr, const struct viewer_model *m,
			   const struct viewer_state *st, int c, int y, int *skip,
			   const struct viewer_fault *f)
{
	static const SDL_Color none = {0, 0, 0, 0};
	int idx[MEM_MAX_ROWS], slot = slot_of(m, c, st->cursor);
	size_t n = viewer_query_mappings(m, c, st->cursor, idx, MEM_MAX_ROWS);
	bool fault_here = f && f->connection == c, fault_drawn = false;
	int fault_map = fault_here ? viewer_query_mapping_at(m, c, f->va, st->cursor) : -1;
	char head[200], a[32], b[32], s[32], fl[8], buf[120];
	const char *cols[5];

	if (n > MEM_MAX_ROWS)
		n = MEM_MAX_ROWS;
	snprintf(head, sizeof(head), "connection #%" PRIu32 "  %s%s  |  %zu mapping%s",
		 m->connections[c].number, slot >= 0 ? "AS slot " : "(no job run yet)",
		 slot >= 0 ? (snprintf(a, sizeof(a), "%d", slot), a) : "", n, n == 1 ? "" : "s");
	if ((*skip)-- <= 0) {
		viewer_fill(vr, MEM_MARGIN, y, vr->width - 2 * MEM_MARGIN, vr->line_height + 8,
			    viewer_color_panel);
		viewer_text(vr, MEM_MARGIN + 8, y + 4, viewer_color_text, false, 0, head);
		y += vr->line_height + 8;
		cols[0] = "VA start";
		cols[1] = "VA end";
		cols[2] = "size";
		cols[3] = "flags";
		cols[4] = "buffer";
		y = draw_row(vr, y, none, none, cols, viewer_color_text_dim);
	}
	for (size_t i = 0; i <= n; i++) {
		const struct viewer_mapping *mp = i < n ? &m->mappings[idx[i]] : NULL;

		if (y > vr->height - VIEWER_FOOTER_H - vr->line_height)
			return y;
		if (fault_here && fault_map < 0 && !fault_drawn && (!mp || mp->va > f->va)) {
			fault_drawn = true;
			snprintf(a, sizeof(a), "%#" PRIx64, f->va);
			snprintf(buf, sizeof(buf), "<- %s: nothing mapped here",
				 viewer_fault_name_of(f->code));
			cols[0] = a;
			cols[1] = "";
			cols[2] = "";
			cols[3] = "";
			cols[4] = buf;
			if ((*skip)-- <= 0)
				y = draw_row(vr, y, viewer_color_highlight, viewer_color_fault,
					     cols, viewer_color_text);
		}
		if (!mp)
			break;
		snprintf(a, sizeof(a), "%#" PRIx64, mp->va);
		snprintf(b, sizeof(b), "%#" PRIx64, mp->va + mp->length);
		size_text(mp->length, s, sizeof(s));
		viewer_flags_text(mp->flags, fl);
		viewer_buffer_label(m, mp->buffer, buf, sizeof(buf));
		if (fault_map == idx[i]) {
			size_t len = strlen(buf);

			snprintf(buf + len, sizeof(buf) - len, "   <- %s at %#" PRIx64,
				 viewer_fault_name_of(f->code), f->va);
		}
		cols[0] = a;
		cols[1] = b;
		cols[2] = s;
		cols[3] = fl;
		cols[4] = buf;
		if ((*skip)-- <= 0)
			y = draw_row(vr, y, fault_map == idx[i] ? viewer_color_highlight : none,
				     viewer_flags_color(mp->flags), cols, viewer_color_text);
	}
	return y + 10;
}

/* viewer_memory_draw - see viewer_view.h. */
void viewer_memory_draw(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st)
{
	const struct viewer_fault *f = shown_fault(m, st);
	int y = VIEWER_HEADER_H + 12, skip = st->memory_scroll, shown = 0;
	char text[200];

	snprintf(text, sizeof(text),
		 "GPU address spaces after event %" PRIu64 " (cycle %" PRIu64
		 "), from the client's map_buffer and unmap_buffer calls",
		 st->cursor, viewer_model_cycle_at(m, st->cursor));
	viewer_text(vr, MEM_MARGIN, y, viewer_color_text, false, vr->width - 2 * MEM_MARGIN, text);
	y += vr->line_height + 10;
	if (f) {
		draw_strip(vr, m, st, f);
		y = strip_y(vr) + MEM_CELL_H + vr->line_height + 16;
	}
	for (size_t c = 0; c < m->connection_count; c++) {
		if (!viewer_model_connection_is_live(&m->connections[c], st->cursor) &&
		    !(f && f->connection == (int)c))
			continue;
		shown++;
		y = draw_connection(vr, m, st, (int)c, y, &skip, f);
		if (y > vr->height - VIEWER_FOOTER_H - vr->line_height)
			break;
	}
	if (!shown)
		viewer_text(vr, MEM_MARGIN, y, viewer_color_text_dim, false, 0,
			    "no connection is open at this event (move the cursor with , and .)");
}

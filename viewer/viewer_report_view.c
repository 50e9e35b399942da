/* SPDX-License-Identifier: MIT */
/*
 * viewer_report_view.c - the campaign report page of magma-view: the recovery-coverage matrix of
 * a magma-campaign JSON report (one row per kind x stage: points, pass, fail, not reached,
 * p50/p99 detect and recover times), each row's result as a coloured stripe, and below it the
 * failing points with their failed checks, kept directory and reproduce line.
 *
 * A click on a failing point opens the trace its kept directory holds (magma-campaign records
 * one per point, D/trace.json) in the normal trace views - a window of their own while the
 * report's is hidden - and shows the reproduce line when there is none. The window's thread.
 */
#include <stdio.h>
#include <string.h>

#include "viewer_app.h"
#include "viewer_buffer.h"
#include "viewer_page.h"
#include "viewer_page_script.h"
#include "viewer_report.h"
#include "viewer_view.h"

#define REPORT_ROW_H  22
#define REPORT_MARGIN 12
#define REPORT_TOP    (VIEWER_HEADER_H + 8)

/* The matrix gets up to this share of the space between header and footer; the list the rest. */
#define REPORT_MATRIX_SHARE 55

static int matrix_rows_shown(const struct viewer_report *r, int height)
{
	int space = (height - VIEWER_FOOTER_H - REPORT_TOP) * REPORT_MATRIX_SHARE / 100;
	int fit = space / REPORT_ROW_H - 2; /* the title and the column names */

	if (fit < 0)
		fit = 0;
	return r->row_count < fit ? r->row_count : fit;
}

/* viewer_report_row_rect - see viewer_page.h. */
int viewer_report_row_rect(const struct viewer_report *r, int width, int height, int row,
			   SDL_Rect *out)
{
	if (row < 0 || row >= matrix_rows_shown(r, height))
		return -1;
	*out = (SDL_Rect){REPORT_MARGIN, REPORT_TOP + (2 + row) * REPORT_ROW_H,
			  width - 2 * REPORT_MARGIN, REPORT_ROW_H};
	return 0;
}

/* viewer_report_row_marker_rect - see viewer_page.h. */
int viewer_report_row_marker_rect(const struct viewer_report *r, int width, int height, int row,
				  SDL_Rect *out)
{
	SDL_Rect rr = {0};

	if (viewer_report_row_rect(r, width, height, row, &rr))
		return -1;
	*out = (SDL_Rect){rr.x, rr.y + 1, 8, rr.h - 2};
	return 0;
}

/* Lines of failing point @p's box: heading, each failed check, kept, reproduce. */
static int failure_lines(const struct viewer_report_point *p)
{
	return 3 + p->failed_count;
}

static int list_top(const struct viewer_report *r, int height)
{
	return REPORT_TOP + (3 + matrix_rows_shown(r, height)) * REPORT_ROW_H + 8;
}

/* viewer_report_failure_rect - see viewer_page.h. */
int viewer_report_failure_rect(const struct viewer_report *r, int width, int height, int scroll,
			       int i, SDL_Rect *out)
{
	int y = list_top(r, height) + REPORT_ROW_H; /* below the list's title */

	if (i < scroll || i >= r->failure_count)
		return -1;
	for (int k = scroll; k < i; k++)
		y += failure_lines(&r->failures[k]) * REPORT_ROW_H + 6;
	*out = (SDL_Rect){REPORT_MARGIN, y, width - 2 * REPORT_MARGIN,
			  failure_lines(&r->failures[i]) * REPORT_ROW_H};
	return out->y + out->h <= height - VIEWER_FOOTER_H ? 0 : -1;
}

struct column {
	const char *name;
	int x;
};

static const struct column matrix_columns[] = {
	{"kind", 16},
	{"stage", 200},
	{"points", 320},
	{"pass", 390},
	{"fail", 450},
	{"not reached", 510},
	{"detect p50/p99 cy", 620},
	{"recover p50/p99 cy", 800},
	{"recover p50/p99 ms", 990},
};

#define MATRIX_COLUMNS ((int)(sizeof(matrix_columns) / sizeof(matrix_columns[0])))

static void cell(struct viewer_render *vr, const SDL_Rect *row, int i, SDL_Color c,
		 const char *text)
{
	int x = row->x + matrix_columns[i].x;
	int right =
		i + 1 < MATRIX_COLUMNS ? row->x + matrix_columns[i + 1].x - 8 : row->x + row->w - 4;

	if (x < row->x + row->w && right > x)
		viewer_text(vr, x, row->y + 3, c, true, right - x, text);
}

static void spread_text(const struct viewer_report_spread *s, const char *fmt, char *out,
			size_t size)
{
	char a[32], b[32];

	if (!s->has) {
		snprintf(out, size, "-");
		return;
	}
	snprintf(a, sizeof(a), fmt, s->p50);
	snprintf(b, sizeof(b), fmt, s->p99);
	snprintf(out, size, "%s/%s", a, b);
}

static SDL_Color row_color(const struct viewer_report_row *row)
{
	if (row->fail)
		return viewer_color_fault;
	if (row->pass)
		return viewer_color_power;
	return viewer_color_text_dim;
}

static void draw_matrix(struct viewer_render *vr, const struct viewer_report *r)
{
	SDL_Rect head = {REPORT_MARGIN, REPORT_TOP + REPORT_ROW_H, vr->width - 2 * REPORT_MARGIN,
			 REPORT_ROW_H};
	int shown = matrix_rows_shown(r, vr->height);
	char text[96];

	viewer_text(vr, REPORT_MARGIN, REPORT_TOP + 2, viewer_color_text, false, 0,
		    "recovery coverage: kind x stage");
	viewer_fill(vr, head.x, head.y, head.w, head.h, viewer_color_panel);
	for (int i = 0; i < MATRIX_COLUMNS; i++)
		cell(vr, &head, i, viewer_color_text_dim, matrix_columns[i].name);
	for (int i = 0; i < shown; i++) {
		const struct viewer_report_row *row = &r->rows[i];
		SDL_Rect rr = {0}, m = {0};

		viewer_report_row_rect(r, vr->width, vr->height, i, &rr);
		viewer_report_row_marker_rect(r, vr->width, vr->height, i, &m);
		if (i % 2)
			viewer_fill(vr, rr.x, rr.y, rr.w, rr.h, viewer_color_panel);
		viewer_fill(vr, m.x, m.y, m.w, m.h, row_color(row));
		cell(vr, &rr, 0, viewer_color_text, row->kind);
		cell(vr, &rr, 1, viewer_color_text, row->stage);
		snprintf(text, sizeof(text), "%ld", row->points);
		cell(vr, &rr, 2, viewer_color_text, text);
		snprintf(text, sizeof(text), "%ld", row->pass);
		cell(vr, &rr, 3, row->pass ? viewer_color_power : viewer_color_text_dim, text);
		snprintf(text, sizeof(text), "%ld", row->fail);
		cell(vr, &rr, 4, row->fail ? viewer_color_fault : viewer_color_text_dim, text);
		snprintf(text, sizeof(text), "%ld", row->not_reached);
		cell(vr, &rr, 5, viewer_color_text_dim, text);
		spread_text(&row->detect_cycles, "%.0f", text, sizeof(text));
		cell(vr, &rr, 6, viewer_color_text, text);
		spread_text(&row->recover_cycles, "%.0f", text, sizeof(text));
		cell(vr, &rr, 7, viewer_color_text, text);
		spread_text(&row->recover_ms, "%.3f", text, sizeof(text));
		cell(vr, &rr, 8, viewer_color_text, text);
	}
	if (shown < r->row_count) {
		snprintf(text, sizeof(text), "... %d more rows (a larger window shows them)",
			 r->row_count - shown);
		viewer_text(vr, REPORT_MARGIN + 16, REPORT_TOP + (2 + shown) * REPORT_ROW_H + 3,
			    viewer_color_text_dim, false, 0, text);
	}
}

static void draw_failures(struct viewer_render *vr, const struct viewer_report *r, int scroll)
{
	int y = list_top(r, vr->height), w = vr->width - 2 * REPORT_MARGIN - 24;
	char text[1024];

	snprintf(text, sizeof(text),
		 r->failure_count
			 ? "failing points: %d (click one: its trace, or how to reproduce it)"
			 : "failing points: none",
		 r->failure_count);
	viewer_text(vr, REPORT_MARGIN, y + 2, viewer_color_text, false, 0, text);
	for (int i = scroll; i < r->failure_count; i++) {
		const struct viewer_report_point *p = &r->failures[i];
		SDL_Rect box = {0};
		int line;

		if (viewer_report_failure_rect(r, vr->width, vr->height, scroll, i, &box))
			break;
		viewer_fill(vr, box.x, box.y, box.w, box.h, viewer_color_panel);
		viewer_fill(vr, box.x, box.y, 8, box.h, viewer_color_fault);
		snprintf(text, sizeof(text), "point %ld (%s/%s #%ld)", p->id, p->kind, p->stage,
			 p->n);
		viewer_text(vr, box.x + 16, box.y + 3, viewer_color_text, false, w, text);
		for (line = 0; line < p->failed_count; line++) {
			snprintf(text, sizeof(text), "%s: %s", p->failed[line].name,
				 p->failed[line].reason);
			viewer_text(vr, box.x + 32, box.y + (1 + line) * REPORT_ROW_H + 3,
				    viewer_color_fault, true, w - 16, text);
		}
		snprintf(text, sizeof(text), "kept: %s", p->kept ? p->kept : "(not kept)");
		viewer_text(vr, box.x + 32, box.y + (1 + line) * REPORT_ROW_H + 3,
			    viewer_color_text_dim, true, w - 16, text);
		snprintf(text, sizeof(text), "reproduce: %s", p->repro);
		viewer_text(vr, box.x + 32, box.y + (2 + line) * REPORT_ROW_H + 3,
			    viewer_color_text_dim, true, w - 16, text);
	}
}

/* viewer_report_draw - see viewer_page.h. */
void viewer_report_draw(struct viewer_render *vr, const struct viewer_report *r, const char *error,
			int scroll, const char *message)
{
	char text[512];

	viewer_fill(vr, 0, 0, vr->width, vr->height, viewer_color_background);
	viewer_fill(vr, 0, 0, vr->width, VIEWER_HEADER_H, viewer_color_panel);
	if (r)
		snprintf(text, sizeof(text),
			 "campaign \"%s\" (%s): %ld points: %ld pass, %ld fail, %ld not reached; "
			 "%.1f s",
			 r->name, r->file, r->points, r->pass, r->fail, r->not_reached,
			 r->elapsed_s);
	else
		snprintf(text, sizeof(text), "magma-view: campaign report");
	viewer_text(vr, REPORT_MARGIN, (VIEWER_HEADER_H - vr->line_height) / 2, viewer_color_text,
		    false, vr->width - 2 * REPORT_MARGIN, text);
	if (r) {
		draw_matrix(vr, r);
		draw_failures(vr, r, scroll);
	} else {
		viewer_text_wrapped(vr, REPORT_MARGIN, REPORT_TOP + 8, viewer_color_fault, false,
				    vr->width - 2 * REPORT_MARGIN, 20, error ? error : "");
	}
	viewer_fill(vr, 0, vr->height - VIEWER_FOOTER_H, vr->width, VIEWER_FOOTER_H,
		    viewer_color_panel);
	viewer_text(vr, REPORT_MARGIN, vr->height - VIEWER_FOOTER_H + 6,
		    message && *message ? viewer_color_cursor : viewer_color_text_dim, false,
		    vr->width - 2 * REPORT_MARGIN,
		    message && *message ? message
					: "Esc, q: quit    Up, Down, wheel: scroll the failing "
					  "points    click a failing point: its trace");
}

static void page_draw(struct viewer_render *vr, void *ctx)
{
	const struct viewer_report_page *p = ctx;

	viewer_report_draw(vr, p->report, p->error, p->scroll, p->message);
}

static void page_key(void *ctx, SDL_Keycode key)
{
	struct viewer_report_page *p = ctx;

	if (!p->report)
		return;
	if (key == SDLK_UP && p->scroll > 0)
		p->scroll--;
	else if (key == SDLK_DOWN && p->scroll + 1 < p->report->failure_count)
		p->scroll++;
}

/* Opens the kept trace of failing point @pt in the trace views, hiding @win meanwhile. */
static void open_trace(struct viewer_report_page *p, const struct viewer_report_point *pt,
		       const char *trace, SDL_Window *win, int width, int height)
{
	struct viewer_buffer_view bufview;
	struct viewer_state st;
	struct viewer_model *m;
	char msg[512], err[512];

	m = viewer_model_load(trace, msg, sizeof(msg));
	if (!m) {
		snprintf(p->message, sizeof(p->message),
			 "point %ld: %.300s: %.300s; reproduce: %.300s", pt->id, trace, msg,
			 pt->repro);
		fprintf(stderr, "magma-view: %s\n", p->message);
		return;
	}
	viewer_state_init(&st, m);
	viewer_buffer_view_init(&bufview); /* the buffer view's keys need its state */
	st.bufview = &bufview;
	SDL_HideWindow(win);
	p->opened++;
	p->nested_ret = viewer_app_run(m, NULL, &st, width, height, p->scripted, err, sizeof(err));
	if (p->nested_ret == 3)
		snprintf(p->message, sizeof(p->message), "point %ld: %s", pt->id, err);
	else
		snprintf(p->message, sizeof(p->message), "point %ld: closed %.900s", pt->id, trace);
	SDL_ShowWindow(win);
	viewer_buffer_view_fini(&bufview);
	viewer_model_destroy(m);
}

static void page_click(void *ctx, SDL_Window *win, int width, int height, int x, int y)
{
	struct viewer_report_page *p = ctx;
	char trace[4096];

	for (int i = p->scroll; p->report && i < p->report->failure_count; i++) {
		const struct viewer_report_point *pt = &p->report->failures[i];
		SDL_Rect box = {0};

		if (viewer_report_failure_rect(p->report, width, height, p->scroll, i, &box))
			break;
		if (x < box.x || x >= box.x + box.w || y < box.y || y >= box.y + box.h)
			continue;
		if (!viewer_report_point_trace(pt, trace, sizeof(trace)))
			open_trace(p, pt, trace, win, width, height);
		else
			snprintf(p->message, sizeof(p->message),
				 "point %ld: no trace kept%s%s; reproduce: %s", pt->id,
				 pt->kept ? " in " : "", pt->kept ? pt->kept : "", pt->repro);
		return;
	}
}

/* viewer_report_main - see viewer_page.h. */
int viewer_report_main(const char *path, const char *screenshot, int width, int height,
		       bool scripted)
{
	struct viewer_report_page p = {.scripted = scripted};
	struct viewer_page page = {.ctx = &p,
				   .draw = page_draw,
				   .click = page_click,
				   .key = page_key,
				   .walk = &viewer_page_walk_report};
	char err[1024], msg[1024], title[300];
	int ret;

	p.report = viewer_report_load(path, msg, sizeof(msg));
	if (!p.report) {
		fprintf(stderr, "magma-view: %s: %s\n", path, msg);
		p.error = msg;
	}
	snprintf(title, sizeof(title), "magma-view: %s", path);
	if (screenshot)
		ret = viewer_page_screenshot(&page, width, height, screenshot, err, sizeof(err));
	else
		ret = viewer_page_run(&page, title, width, height, scripted, err, sizeof(err));
	if (ret == 3 || (ret && screenshot))
		fprintf(stderr, "magma-view: %s\n", err);
	if (screenshot && ret)
		ret = 3;
	else if (!ret && !p.report)
		ret = 2;
	viewer_report_destroy(p.report);
	return ret;
}

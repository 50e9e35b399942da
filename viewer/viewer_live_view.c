/* SPDX-License-Identifier: MIT */
/*
 * viewer_live_view.c - the live device page of magma-view --attach: what a magma-simd control
 * socket's `dump` says, redrawn as answers arrive.
 *
 * Per device: its cycle, connections open/opened, faults armed/fired and what clients hold
 * (`live`); then two tables, newest entry first: the connection log (number, pid, comm, open,
 * status, killed, fault) and the firings (fault, kind, connection, state, detect and recover in
 * cycles and ms). Whatever differs from the answer before is highlighted: a counter in yellow,
 * a new or changed row on a blue band. Rows have a fixed height, so tests can find them.
 *
 * Polling: the window polls from its loop (viewer_page_run's tick) with a 200 ms deadline for the
 * whole exchange (viewer_live.c), every 250 ms, every second after a failure. No thread: a slow
 * daemon stalls the window for at most that deadline. The window's (main) thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "viewer_live.h"
#include "viewer_page.h"
#include "viewer_page_script.h"
#include "viewer_view.h"

#define LIVE_BANNER_H 28
#define LIVE_MARGIN   12

static const SDL_Color live_changed = {44, 62, 96, 255};
static const SDL_Color live_banner_bad = {90, 30, 36, 255};

/* The device block @device of @count in a @width x @height frame. */
static void block_of(int height, int count, int device, int *y_out, int *h_out)
{
	int top = VIEWER_HEADER_H + LIVE_BANNER_H, bottom = height - VIEWER_FOOTER_H;
	int h = count > 0 ? (bottom - top) / count : bottom - top;

	*y_out = top + device * h;
	*h_out = h;
}

static void table_x(int width, enum viewer_live_table table, int *x_out, int *w_out)
{
	int left_w = (width - 3 * LIVE_MARGIN) * 45 / 100;

	if (table == VIEWER_LIVE_CONNECTIONS) {
		*x_out = LIVE_MARGIN;
		*w_out = left_w;
	} else {
		*x_out = 2 * LIVE_MARGIN + left_w;
		*w_out = width - LIVE_MARGIN - *x_out;
	}
}

/* viewer_live_row_rect - see viewer_page.h. */
int viewer_live_row_rect(int width, int height, int device_count, int device,
			 enum viewer_live_table table, int row, SDL_Rect *out)
{
	int by, bh, x, w, y;

	if (device < 0 || device >= device_count || row < 0)
		return -1;
	block_of(height, device_count, device, &by, &bh);
	table_x(width, table, &x, &w);
	/* two summary lines, the table's title and its column names, then the rows */
	y = by + 4 * VIEWER_LIVE_ROW_H + row * VIEWER_LIVE_ROW_H;
	if (y + VIEWER_LIVE_ROW_H > by + bh)
		return -1;
	*out = (SDL_Rect){x, y, w, VIEWER_LIVE_ROW_H};
	return 0;
}

/* Where the status column starts in the connection table (its marker's x). */
#define LIVE_CONN_STATUS_X 330

/* viewer_live_marker_rect - see viewer_page.h. */
int viewer_live_marker_rect(int width, int height, int device_count, int device,
			    enum viewer_live_table table, int row, SDL_Rect *out)
{
	SDL_Rect r = {0};

	if (viewer_live_row_rect(width, height, device_count, device, table, row, &r))
		return -1;
	if (table == VIEWER_LIVE_CONNECTIONS)
		*out = (SDL_Rect){r.x + LIVE_CONN_STATUS_X, r.y + 5, 10, r.h - 10};
	else
		*out = (SDL_Rect){r.x, r.y + 1, 6, r.h - 2};
	return 0;
}

static const char *str_or(const cJSON *obj, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

/* @path's number as an integer text, or "-". */
static void num_text(const cJSON *obj, const char *path, char *out, size_t size)
{
	const cJSON *v = viewer_live_at(obj, path);

	if (cJSON_IsNumber(v))
		snprintf(out, size, "%.0f", v->valuedouble);
	else
		snprintf(out, size, "-");
}

/* Draws "label value" and returns the x after it; the value in yellow when it changed. */
static int field(struct viewer_render *vr, int x, int y, const char *label, const char *value,
		 bool changed)
{
	x += viewer_text(vr, x, y, viewer_color_text_dim, false, 0, label);
	x += viewer_text(vr, x + 4, y, changed ? viewer_color_cursor : viewer_color_text, true, 0,
			 value);
	return x + 22;
}

static void draw_summary(struct viewer_render *vr, const struct viewer_live *live, int device,
			 int y)
{
	const cJSON *dev = viewer_live_device(live->dump, device), *item;
	char label[96], value[64], line[512];
	int x = LIVE_MARGIN, len = 0;

	snprintf(label, sizeof(label), "device %.0f (%s)", viewer_live_num(dev, "device", device),
		 str_or(dev, "label", "?"));
	x += viewer_text(vr, x, y + 2, viewer_color_text, false, 0, label) + 22;
	num_text(dev, "cycle", value, sizeof(value));
	x = field(vr, x, y + 2, "cycle", value, viewer_live_changed(live, device, "cycle"));
	snprintf(value, sizeof(value), "%.0f open, %.0f opened",
		 viewer_live_num(dev, "connections.open", 0),
		 viewer_live_num(dev, "connections.opened", 0));
	x = field(vr, x, y + 2, "connections", value,
		  viewer_live_changed(live, device, "connections"));
	snprintf(value, sizeof(value), "%.0f armed, %.0f fired",
		 viewer_live_num(dev, "faults.armed", 0), viewer_live_num(dev, "faults.fired", 0));
	x = field(vr, x, y + 2, "faults", value, viewer_live_changed(live, device, "faults"));
	num_text(dev, "bus_frames", value, sizeof(value));
	field(vr, x, y + 2, "bus frames", value, viewer_live_changed(live, device, "bus_frames"));

	line[0] = '\0';
	cJSON_ArrayForEach(item, viewer_live_at(dev, "live"))
	{
		if (cJSON_IsNumber(item) && item->string && len < (int)sizeof(line) - 64)
			len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%s %.0f",
					len ? ", " : "", item->string, item->valuedouble);
	}
	field(vr, LIVE_MARGIN, y + VIEWER_LIVE_ROW_H + 2, "clients hold:", len ? line : "-",
	      viewer_live_changed(live, device, "live"));
}

struct column {
	const char *name;
	int x; /* from the table's left edge */
};

static const struct column conn_columns[] = {
	{"#", 16},
	{"pid", 70},
	{"comm", 140},
	{"open", 280},
	{"status", LIVE_CONN_STATUS_X},
	{"killed", 510},
	{"fault", 570},
};

static const struct column firing_columns[] = {
	{"fault", 16},	    {"kind", 180},	{"conn", 310},	     {"state", 360},
	{"detect cy", 460}, {"detect ms", 560}, {"recover cy", 660}, {"recover ms", 770},
};

static void draw_cell(struct viewer_render *vr, const SDL_Rect *row, const struct column *cols,
		      int count, int i, SDL_Color c, const char *text)
{
	int x = row->x + cols[i].x;
	int right = i + 1 < count ? row->x + cols[i + 1].x - 8 : row->x + row->w - 4;

	if (x < row->x + row->w && right > x)
		viewer_text(vr, x, row->y + 3, c, true, right - x, text);
}

static void draw_table_head(struct viewer_render *vr, const SDL_Rect *first_row, const char *title,
			    const struct column *cols, int count)
{
	SDL_Rect head = *first_row;

	head.y -= VIEWER_LIVE_ROW_H;
	viewer_text(vr, head.x, head.y - VIEWER_LIVE_ROW_H + 2, viewer_color_text, false, head.w,
		    title);
	viewer_fill(vr, head.x, head.y, head.w, head.h, viewer_color_panel);
	for (int i = 0; i < count; i++)
		draw_cell(vr, &head, cols, count, i, viewer_color_text_dim, cols[i].name);
}

/* The row background: blue when it changed since the answer before. */
static void draw_row_band(struct viewer_render *vr, const SDL_Rect *r, int row, bool changed)
{
	if (changed)
		viewer_fill(vr, r->x, r->y, r->w, r->h, live_changed);
	else if (row % 2)
		viewer_fill(vr, r->x, r->y, r->w, r->h, viewer_color_panel);
}

/* The last item of array @arr (cJSON keeps it as the first item's prev), or NULL. */
static const cJSON *last_item(const cJSON *arr)
{
	return cJSON_IsArray(arr) && arr->child ? arr->child->prev : NULL;
}

static void draw_connections(struct viewer_render *vr, const struct viewer_live *live, int ndev,
			     int device)
{
	const cJSON *log = viewer_live_at(viewer_live_device(live->dump, device), "connection_log");
	const cJSON *e = last_item(log);
	int count = cJSON_GetArraySize(log),
	    count_cols = (int)(sizeof(conn_columns) / sizeof(conn_columns[0]));
	char title[96];
	SDL_Rect r = {0};

	if (viewer_live_row_rect(vr->width, vr->height, ndev, device, VIEWER_LIVE_CONNECTIONS, 0,
				 &r))
		return;
	snprintf(title, sizeof(title), "connection log: %d, newest first", count);
	draw_table_head(vr, &r, title, conn_columns, count_cols);
	for (int row = 0; e && row < count; row++, e = e == log->child ? NULL : e->prev) {
		const char *status = str_or(e, "status", "?");
		bool killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "killed"));
		bool bad = killed || strcmp(status, "OK");
		char text[64];
		SDL_Rect m = {0};

		if (viewer_live_row_rect(vr->width, vr->height, ndev, device,
					 VIEWER_LIVE_CONNECTIONS, row, &r))
			break;
		draw_row_band(
			vr, &r, row,
			viewer_live_row_changed(live, device, "connection_log", count - 1 - row));
		num_text(e, "number", text, sizeof(text));
		draw_cell(vr, &r, conn_columns, count_cols, 0, viewer_color_text, text);
		num_text(e, "pid", text, sizeof(text));
		draw_cell(vr, &r, conn_columns, count_cols, 1, viewer_color_text, text);
		draw_cell(vr, &r, conn_columns, count_cols, 2, viewer_color_text,
			  str_or(e, "comm", ""));
		draw_cell(vr, &r, conn_columns, count_cols, 3, viewer_color_text,
			  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "open")) ? "yes" : "no");
		viewer_live_marker_rect(vr->width, vr->height, ndev, device,
					VIEWER_LIVE_CONNECTIONS, row, &m);
		viewer_fill(vr, m.x, m.y, m.w, m.h, bad ? viewer_color_fault : viewer_color_power);
		viewer_text(vr, m.x + m.w + 6, r.y + 3,
			    bad ? viewer_color_fault : viewer_color_text, true,
			    conn_columns[5].x - LIVE_CONN_STATUS_X - m.w - 14, status);
		draw_cell(vr, &r, conn_columns, count_cols, 5,
			  killed ? viewer_color_fault : viewer_color_text, killed ? "killed" : "-");
		draw_cell(vr, &r, conn_columns, count_cols, 6, viewer_color_text,
			  str_or(e, "fault", "-"));
	}
}

/* The difference of two moments under @f ("cycles" or "ns"), scaled; "-" when one is null. */
static void span_text(const cJSON *f, const char *unit, const char *to, const char *from,
		      double scale, const char *fmt, char *out, size_t size)
{
	char a[32], b[32];
	const cJSON *t, *s;

	snprintf(a, sizeof(a), "%s.%s", unit, to);
	snprintf(b, sizeof(b), "%s.%s", unit, from);
	t = viewer_live_at(f, a);
	s = viewer_live_at(f, b);
	if (cJSON_IsNumber(t) && cJSON_IsNumber(s))
		snprintf(out, size, fmt, (t->valuedouble - s->valuedouble) / scale);
	else
		snprintf(out, size, "-");
}

static void draw_firings(struct viewer_render *vr, const struct viewer_live *live, int ndev,
			 int device)
{
	const cJSON *list = viewer_live_at(viewer_live_device(live->dump, device), "firings");
	const cJSON *f = last_item(list);
	int count = cJSON_GetArraySize(list),
	    count_cols = (int)(sizeof(firing_columns) / sizeof(firing_columns[0]));
	char title[96];
	SDL_Rect r = {0};

	if (viewer_live_row_rect(vr->width, vr->height, ndev, device, VIEWER_LIVE_FIRINGS, 0, &r))
		return;
	snprintf(title, sizeof(title), "firings: %d, newest first", count);
	draw_table_head(vr, &r, title, firing_columns, count_cols);
	for (int row = 0; f && row < count; row++, f = f == list->child ? NULL : f->prev) {
		bool applied = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "applied"));
		bool pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "pending"));
		bool lapsed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "lapsed"));
		SDL_Color state_color = applied	  ? viewer_color_fault
					: pending ? viewer_color_cursor
						  : viewer_color_text_dim;
		char text[64];
		SDL_Rect m = {0};

		if (viewer_live_row_rect(vr->width, vr->height, ndev, device, VIEWER_LIVE_FIRINGS,
					 row, &r))
			break;
		draw_row_band(vr, &r, row,
			      viewer_live_row_changed(live, device, "firings", count - 1 - row));
		viewer_live_marker_rect(vr->width, vr->height, ndev, device, VIEWER_LIVE_FIRINGS,
					row, &m);
		viewer_fill(vr, m.x, m.y, m.w, m.h, state_color);
		draw_cell(vr, &r, firing_columns, count_cols, 0, viewer_color_text,
			  str_or(f, "fault", ""));
		draw_cell(vr, &r, firing_columns, count_cols, 1, viewer_color_text,
			  str_or(f, "kind", "?"));
		num_text(f, "connection", text, sizeof(text));
		draw_cell(vr, &r, firing_columns, count_cols, 2, viewer_color_text, text);
		draw_cell(vr, &r, firing_columns, count_cols, 3, state_color,
			  applied   ? "applied"
			  : pending ? "pending"
			  : lapsed  ? "lapsed"
				    : "never applied");
		span_text(f, "cycles", "detected", "applied", 1, "%.0f", text, sizeof(text));
		draw_cell(vr, &r, firing_columns, count_cols, 4, viewer_color_text, text);
		span_text(f, "ns", "detected", "applied", 1e6, "%.3f", text, sizeof(text));
		draw_cell(vr, &r, firing_columns, count_cols, 5, viewer_color_text, text);
		span_text(f, "cycles", "recovered", "detected", 1, "%.0f", text, sizeof(text));
		draw_cell(vr, &r, firing_columns, count_cols, 6, viewer_color_text, text);
		span_text(f, "ns", "recovered", "detected", 1e6, "%.3f", text, sizeof(text));
		draw_cell(vr, &r, firing_columns, count_cols, 7, viewer_color_text, text);
	}
}

/* viewer_live_draw - see viewer_page.h. */
void viewer_live_draw(struct viewer_render *vr, const struct viewer_live *live)
{
	int ndev = cJSON_GetArraySize(viewer_live_devices(live->dump));
	char text[768];
	int y = VIEWER_HEADER_H;

	viewer_fill(vr, 0, 0, vr->width, vr->height, viewer_color_background);
	viewer_fill(vr, 0, 0, vr->width, VIEWER_HEADER_H, viewer_color_panel);
	snprintf(text, sizeof(text), "magma-view  live: %s", live->path);
	viewer_text(vr, LIVE_MARGIN, (VIEWER_HEADER_H - vr->line_height) / 2, viewer_color_text,
		    false, vr->width - 2 * LIVE_MARGIN, text);

	if (live->error[0]) {
		viewer_fill(vr, 0, y, vr->width, LIVE_BANNER_H, live_banner_bad);
		snprintf(text, sizeof(text), "%s - retrying every second%s", live->error,
			 live->dump ? " (the tables below are the last answer)" : "");
		viewer_text(vr, LIVE_MARGIN, y + 5, viewer_color_text, false,
			    vr->width - 2 * LIVE_MARGIN, text);
	} else {
		snprintf(text, sizeof(text),
			 "%d device%s, answer %" PRIu64
			 "; polled every %d ms; what changed since the last poll is highlighted",
			 ndev, ndev == 1 ? "" : "s", live->polls, VIEWER_LIVE_POLL_MS);
		viewer_text(vr, LIVE_MARGIN, y + 5, viewer_color_text_dim, false,
			    vr->width - 2 * LIVE_MARGIN, text);
	}
	for (int d = 0; d < ndev; d++) {
		int by, bh;

		block_of(vr->height, ndev, d, &by, &bh);
		if (d)
			viewer_line(vr, 0, by, vr->width, by, viewer_color_grid);
		draw_summary(vr, live, d, by);
		draw_connections(vr, live, ndev, d);
		draw_firings(vr, live, ndev, d);
	}
	viewer_fill(vr, 0, vr->height - VIEWER_FOOTER_H, vr->width, VIEWER_FOOTER_H,
		    viewer_color_panel);
	viewer_text(
		vr, LIVE_MARGIN, vr->height - VIEWER_FOOTER_H + 6, viewer_color_text_dim, false,
		vr->width - 2 * LIVE_MARGIN,
		"Esc, q: quit    rows: newest first; red marker: error or applied fault, yellow: "
		"pending, blue band: changed");
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void page_draw(struct viewer_render *vr, void *ctx)
{
	const struct viewer_live_page *p = ctx;

	viewer_live_draw(vr, &p->live);
}

/* Polls when it is time; a new error goes to stderr once (the window shows it meanwhile). */
static int page_tick(void *ctx)
{
	struct viewer_live_page *p = ctx;
	int64_t now = mono_ms();

	if (now >= p->next_poll_ms) {
		bool ok = !viewer_live_poll(&p->live, VIEWER_LIVE_WINDOW_WAIT_MS);

		if (!ok && strcmp(p->reported, p->live.error))
			fprintf(stderr, "magma-view: %s (retrying every second)\n", p->live.error);
		snprintf(p->reported, sizeof(p->reported), "%s", p->live.error);
		now = mono_ms();
		p->next_poll_ms = now + (ok ? VIEWER_LIVE_POLL_MS : VIEWER_LIVE_RETRY_MS);
	}
	return (int)(p->next_poll_ms - now);
}

/* viewer_live_main - see viewer_page.h. */
int viewer_live_main(const char *path, const char *screenshot, int width, int height, bool scripted)
{
	struct viewer_live_page p = {0};
	struct viewer_page page = {
		.ctx = &p, .draw = page_draw, .tick = page_tick, .walk = &viewer_page_walk_live};
	char err[1024], title[300];
	int ret = 0;

	viewer_live_init(&p.live, path);
	if (screenshot) {
		/* One answer; the deadline is generous: a screenshot has no user waiting on it. */
		if (viewer_live_poll(&p.live, 10000)) {
			fprintf(stderr, "magma-view: %s\n", p.live.error);
			ret = 3;
		}
		if (viewer_page_screenshot(&page, width, height, screenshot, err, sizeof(err))) {
			fprintf(stderr, "magma-view: %s\n", err);
			ret = 3;
		}
	} else {
		snprintf(title, sizeof(title), "magma-view: %s", path);
		ret = viewer_page_run(&page, title, width, height, scripted, err, sizeof(err));
		if (ret == 3)
			fprintf(stderr, "magma-view: %s\n", err);
	}
	viewer_live_fini(&p.live);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * viewer_timeline.c - the timeline view: one track per hardware queue, one for the device
 * (interrupts, resets, power changes) and one per client context, over simulated cycles.
 *
 * Jobs are bars in their queue's colour (red when they faulted, hatched orange when a reset cut
 * them off, faded when the trace ends first) on their queue's track and again on their
 * context's track; faults are red lines with a triangle on their queue; resets are orange bands
 * from begin to done; power changes green ticks; interrupts grey ticks. A bar wide enough (more
 * than TL_CMD_MIN_PX, and TL_CMD_PX per command) shows the commands its job ran: a dark tick at
 * each command's cycle, named when the space up to the next tick holds the name. The yellow
 * cursor marks the selected event; hovering a job, command tick or marker shows its details.
 * Traces recorded before CMD events were recorded have no commands: their bars stay plain. The
 * thread that owns the renderer.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "viewer_view.h"

#define TL_LABEL_W    170 /* the track-name column */
#define TL_MARGIN_R   16
#define TL_AXIS_H     24
#define TL_QUEUE_H    40
#define TL_DEVICE_H   30
#define TL_CONTEXT_H  30
#define TL_GAP	      6
#define TL_BAR_PAD    6	 /* a bar is its track minus this above and below */
#define TL_HOVER_PX   4	 /* markers are found this close to the pointer */
#define TL_CMD_MIN_PX 40 /* a bar shows its commands when wider than this */
#define TL_CMD_PX     3	 /* ... and has at least this many pixels per command */

/* viewer_timeline_layout - see viewer_view.h. */
void viewer_timeline_layout(const struct viewer_model *m, int width, int height,
			    struct viewer_timeline_layout *lay)
{
	uint32_t queues = m->queue_count ? m->queue_count : 1;
	int y;

	lay->plot_x0 = TL_LABEL_W;
	lay->plot_x1 = width - TL_MARGIN_R;
	if (lay->plot_x1 < lay->plot_x0 + 10)
		lay->plot_x1 = lay->plot_x0 + 10;
	lay->axis_y = VIEWER_HEADER_H + 4;
	lay->track_count = 0;
	y = lay->axis_y + TL_AXIS_H;
	for (uint32_t q = 0; q < queues && lay->track_count < VIEWER_TL_MAX_TRACKS; q++) {
		lay->tracks[lay->track_count++] =
			(struct viewer_track){VIEWER_TRACK_QUEUE, (int)q, y, TL_QUEUE_H};
		y += TL_QUEUE_H + TL_GAP;
	}
	lay->tracks[lay->track_count++] =
		(struct viewer_track){VIEWER_TRACK_DEVICE, 0, y, TL_DEVICE_H};
	y += TL_DEVICE_H + TL_GAP * 2;
	for (size_t c = 0; c < m->context_count && lay->track_count < VIEWER_TL_MAX_TRACKS; c++) {
		if (y + TL_CONTEXT_H > height - VIEWER_FOOTER_H)
			break;
		lay->tracks[lay->track_count++] =
			(struct viewer_track){VIEWER_TRACK_CONTEXT, (int)c, y, TL_CONTEXT_H};
		y += TL_CONTEXT_H + TL_GAP;
	}
}

/* viewer_timeline_x - see viewer_view.h. */
double viewer_timeline_x(const struct viewer_timeline_layout *lay, const struct viewer_state *st,
			 double cycle)
{
	return lay->plot_x0 + (cycle - st->t0) * (lay->plot_x1 - lay->plot_x0) / (st->t1 - st->t0);
}

/* viewer_timeline_cycle - see viewer_view.h. */
double viewer_timeline_cycle(const struct viewer_timeline_layout *lay,
			     const struct viewer_state *st, int x)
{
	return st->t0 + (x - lay->plot_x0) * (st->t1 - st->t0) / (lay->plot_x1 - lay->plot_x0);
}

/* The context track of job @j, -1 when its context is unknown. */
static int job_context(const struct viewer_model *m, const struct viewer_job *j)
{
	const struct viewer_submission *s;

	if (j->submission < 0)
		return -1;
	s = &m->submissions[j->submission];
	for (size_t c = 0; c < m->context_count; c++)
		if (m->contexts[c].connection == s->connection && m->contexts[c].id == s->context &&
		    m->contexts[c].create_seq <= s->seq)
			return (int)c; /* the first one: ids are reused only after release */
	return -1;
}

/* The x range of job @j, at least 2 pixels wide, clipped to the plot. False when off-plot. */
static bool job_span(const struct viewer_timeline_layout *lay, const struct viewer_state *st,
		     const struct viewer_job *j, int *x0, int *x1)
{
	double a = viewer_timeline_x(lay, st, (double)j->start_cycle);
	double b = viewer_timeline_x(lay, st, (double)j->end_cycle);

	if (b < lay->plot_x0 || a > lay->plot_x1)
		return false;
	if (a < lay->plot_x0)
		a = lay->plot_x0;
	if (b > lay->plot_x1)
		b = lay->plot_x1;
	*x0 = (int)floor(a);
	*x1 = (int)ceil(b);
	if (*x1 - *x0 < 2)
		*x1 = *x0 + 2;
	return true;
}

/*
 * Whether job @j's bar, spanning [@x0, @x1), shows its commands (see the file head). Ticks
 * then lie at command_x().
 */
static bool shows_commands(const struct viewer_job *j, int x0, int x1)
{
	return j->command_count && x1 - x0 > TL_CMD_MIN_PX &&
	       (size_t)(x1 - x0) >= TL_CMD_PX * j->command_count;
}

/*
 * The tick column of command @c in a bar spanning [@x0, @x1): its cycle's pixel, kept inside the
 * bar (an END runs in the job's last cycle, which is the bar's right edge). -1 when its cycle is
 * scrolled off the plot.
 */
static int command_x(const struct viewer_timeline_layout *lay, const struct viewer_state *st,
		     const struct viewer_command *c, int x0, int x1)
{
	double x = viewer_timeline_x(lay, st, (double)c->cycle);

	if (x < lay->plot_x0 || x > lay->plot_x1)
		return -1;
	return x < x0 ? x0 : (int)lround(x) >= x1 ? x1 - 1 : (int)lround(x);
}

static bool job_on_track(const struct viewer_model *m, const struct viewer_job *j,
			 const struct viewer_track *t)
{
	if (t->kind == VIEWER_TRACK_QUEUE)
		return j->queue == (uint32_t)t->index;
	if (t->kind == VIEWER_TRACK_CONTEXT)
		return job_context(m, j) == t->index;
	return false;
}

/* viewer_timeline_command_at - see viewer_view.h. */
int viewer_timeline_command_at(const struct viewer_model *m, const struct viewer_state *st,
			       const struct viewer_timeline_layout *lay, int x, int y)
{
	int job = viewer_timeline_job_at(m, st, lay, x, y), best = -1, best_d = TL_HOVER_PX + 1;
	const struct viewer_job *j;
	int x0, x1;

	if (job < 0)
		return -1;
	j = &m->jobs[job];
	if (!job_span(lay, st, j, &x0, &x1) || !shows_commands(j, x0, x1))
		return -1;
	for (size_t i = j->first_command; i < j->first_command + j->command_count; i++) {
		int cx = command_x(lay, st, &m->commands[i], x0, x1);

		if (cx >= 0 && abs(cx - x) < best_d) {
			best_d = abs(cx - x);
			best = (int)i;
		}
	}
	return best;
}

/* viewer_timeline_job_at - see viewer_view.h. */
int viewer_timeline_job_at(const struct viewer_model *m, const struct viewer_state *st,
			   const struct viewer_timeline_layout *lay, int x, int y)
{
	for (int t = 0; t < lay->track_count; t++) {
		const struct viewer_track *tr = &lay->tracks[t];

		if (y < tr->y + TL_BAR_PAD || y >= tr->y + tr->h - TL_BAR_PAD)
			continue;
		for (size_t i = m->job_count; i-- > 0;) {
			int x0, x1;

			if (job_on_track(m, &m->jobs[i], tr) &&
			    job_span(lay, st, &m->jobs[i], &x0, &x1) && x >= x0 && x < x1)
				return (int)i;
		}
	}
	return -1;
}

/*
 * The ticks of job @j's commands in its bar [@x0, @x1) x [@y, @y + @h), each named when the room
 * up to the next tick holds the name. Returns the first tick's column (@x1 when none is drawn),
 * where the job's own label has to stop.
 */
static int draw_commands(struct viewer_render *vr, const struct viewer_model *m,
			 const struct viewer_timeline_layout *lay, const struct viewer_state *st,
			 const struct viewer_job *j, int x0, int x1, int y, int h)
{
	const struct viewer_command *cmds = &m->commands[j->first_command];
	int first = x1, last = -1;

	for (size_t i = 0; i < j->command_count; i++) {
		int cx = command_x(lay, st, &cmds[i], x0, x1), next = x1;
		char op[24];

		if (cx < 0 || cx == last)
			continue; /* off the plot, or on the previous tick's column */
		viewer_line(vr, cx, y, cx, y + h - 1, viewer_color_command);
		last = cx;
		if (first == x1)
			first = cx;
		for (size_t k = i + 1; k < j->command_count && next == x1; k++) {
			int nx = command_x(lay, st, &cmds[k], x0, x1);

			if (nx < 0)
				break; /* past the plot's right edge, and so are the rest */
			if (nx > cx)
				next = nx;
		}
		if (cmds[i].name[0])
			snprintf(op, sizeof(op), "%s", cmds[i].name);
		else
			snprintf(op, sizeof(op), "op %" PRIu32, cmds[i].opcode);
		if (viewer_text_width(vr, false, op) + 6 <= next - cx)
			viewer_text(vr, cx + 3, y + (h - vr->line_height) / 2, viewer_color_text,
				    false, 0, op);
	}
	return first;
}

static void draw_job(struct viewer_render *vr, const struct viewer_model *m,
		     const struct viewer_timeline_layout *lay, const struct viewer_state *st,
		     const struct viewer_job *j, int y, int h, bool selected)
{
	SDL_Color c = viewer_queue_color(j->queue);
	int x0, x1, label_end;

	if (!job_span(lay, st, j, &x0, &x1))
		return;
	if (j->end == VIEWER_JOB_FAULTED)
		c = viewer_color_fault;
	if (j->end == VIEWER_JOB_UNFINISHED)
		c.a = 120;
	viewer_fill(vr, x0, y, x1 - x0, h, c);
	if (j->end == VIEWER_JOB_RESET) {
		for (int x = x0; x < x1; x += 6)
			viewer_line(vr, x, y + h - 1, x + (h < x1 - x ? h : x1 - x) - 1,
				    y + h - (h < x1 - x ? h : x1 - x), viewer_color_reset);
		viewer_outline(vr, x0, y, x1 - x0, h, viewer_color_reset);
	}
	label_end = shows_commands(j, x0, x1) ? draw_commands(vr, m, lay, st, j, x0, x1, y, h) : x1;
	if (selected)
		viewer_outline(vr, x0 - 1, y - 1, x1 - x0 + 2, h + 2, viewer_color_cursor);
	if (label_end - x0 > 60) {
		char label[48];

		snprintf(label, sizeof(label), "job %" PRIu64, j->seqno);
		viewer_text(vr, x0 + 4, y + (h - vr->line_height) / 2, viewer_color_text, false,
			    label_end - x0 - 8, label);
	}
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about @target ticks over @span. */
static double tick_step(double span, int target)
{
	double raw = span / (target > 0 ? target : 1), p = pow(10, floor(log10(raw)));

	if (raw / p < 1.5)
		return p;
	if (raw / p < 3.5)
		return 2 * p;
	if (raw / p < 7.5)
		return 5 * p;
	return 10 * p;
}

static void cycle_text(double cycle, double step, char *out, size_t size)
{
	if (step >= 1e6)
		snprintf(out, size, "%.*fM", step >= 1e7 ? 0 : 1, cycle / 1e6);
	else if (step >= 1e3 && cycle >= 1e5)
		snprintf(out, size, "%.*fk", step >= 1e4 ? 0 : 1, cycle / 1e3);
	else
		snprintf(out, size, "%.0f", cycle);
}

static void draw_axis(struct viewer_render *vr, const struct viewer_timeline_layout *lay,
		      const struct viewer_state *st, int bottom)
{
	double step = tick_step(st->t1 - st->t0, (lay->plot_x1 - lay->plot_x0) / 110);

	viewer_text(vr, 10, lay->axis_y + 2, viewer_color_text_dim, false, TL_LABEL_W - 14,
		    "cycles");
	for (double t = ceil(st->t0 / step) * step; t <= st->t1; t += step) {
		int x = (int)lround(viewer_timeline_x(lay, st, t));
		char label[32];

		viewer_line(vr, x, lay->axis_y + TL_AXIS_H - 4, x, bottom, viewer_color_grid);
		cycle_text(fabs(t) < step / 2 ? 0 : t, step, label, sizeof(label));
		viewer_text(vr, x + 3, lay->axis_y + 2, viewer_color_text_dim, true, 0, label);
	}
}

static void track_label(const struct viewer_model *m, const struct viewer_track *t, char *out,
			size_t size)
{
	const struct viewer_context *c;

	switch (t->kind) {
	case VIEWER_TRACK_QUEUE:
		snprintf(out, size, "queue %d", t->index);
		return;
	case VIEWER_TRACK_DEVICE:
		snprintf(out, size, "device");
		return;
	case VIEWER_TRACK_CONTEXT:
		c = &m->contexts[t->index];
		snprintf(out, size, "conn #%" PRIu32 " ctx %" PRIu32,
			 c->connection >= 0 ? m->connections[c->connection].number : 0, c->id);
		return;
	}
}

static void draw_markers(struct viewer_render *vr, const struct viewer_model *m,
			 const struct viewer_timeline_layout *lay, const struct viewer_state *st)
{
	const struct viewer_track *dev = NULL;

	for (int t = 0; t < lay->track_count; t++)
		if (lay->tracks[t].kind == VIEWER_TRACK_DEVICE)
			dev = &lay->tracks[t];
	for (size_t i = 0; i < m->marker_count && dev; i++) {
		const struct viewer_marker *mk = &m->markers[i];
		double x = viewer_timeline_x(lay, st, (double)mk->cycle);
		int xi = (int)lround(x);

		if (mk->kind == VIEWER_MARK_RESET_BEGIN) {
			double end = (double)m->last_cycle;

			for (size_t k = i + 1; k < m->marker_count; k++)
				if (m->markers[k].kind == VIEWER_MARK_RESET_DONE) {
					end = (double)m->markers[k].cycle;
					break;
				}
			double xe = viewer_timeline_x(lay, st, end);

			if (xe < lay->plot_x0 || x > lay->plot_x1)
				continue;
			if (x < lay->plot_x0)
				x = lay->plot_x0;
			if (xe > lay->plot_x1)
				xe = lay->plot_x1;
			viewer_fill(vr, (int)x, dev->y + 4, (int)(xe - x) + 2, dev->h - 8,
				    (SDL_Color){255, 140, 66, 150});
			viewer_line(vr, (int)x, dev->y, (int)x, dev->y + dev->h,
				    viewer_color_reset);
			continue;
		}
		if (x < lay->plot_x0 || x > lay->plot_x1)
			continue;
		switch (mk->kind) {
		case VIEWER_MARK_IRQ:
			viewer_line(vr, xi, dev->y + 2, xi, dev->y + dev->h / 2, viewer_color_irq);
			break;
		case VIEWER_MARK_POWER:
			viewer_fill(vr, xi - 1, dev->y + dev->h / 2, 3, dev->h / 2 - 2,
				    viewer_color_power);
			break;
		case VIEWER_MARK_FAULT:
			for (int t = 0; t < lay->track_count; t++) {
				const struct viewer_track *tr = &lay->tracks[t];

				if (tr->kind != VIEWER_TRACK_QUEUE || tr->index != (int)mk->unit)
					continue;
				viewer_fill(vr, xi - 1, tr->y, 3, tr->h, viewer_color_fault);
				for (int k = 0; k < 7; k++)
					viewer_line(vr, xi - 7 + k, tr->y - 4 + k, xi + 7 - k,
						    tr->y - 4 + k, viewer_color_fault);
			}
			break;
		case VIEWER_MARK_RESET_BEGIN:
		case VIEWER_MARK_RESET_DONE:
			break;
		}
	}
}

/* The hover text for (@x, @y) into @out; false when nothing is there. */
static bool hover_text(const struct viewer_model *m, const struct viewer_state *st,
		       const struct viewer_timeline_layout *lay, char *out, size_t size)
{
	int job = viewer_timeline_job_at(m, st, lay, st->mouse_x, st->mouse_y);
	int cmd = viewer_timeline_command_at(m, st, lay, st->mouse_x, st->mouse_y);

	if (cmd >= 0) {
		const struct viewer_command *c = &m->commands[cmd];
		const struct viewer_job *j = &m->jobs[c->job];

		snprintf(out, size,
			 "command %s (opcode %" PRIu32 ") at VA %#" PRIx64 " | job %" PRIu64
			 " queue %" PRIu32 " (command %zu of %zu) | cycle %" PRIu64
			 " | event %" PRIu64,
			 c->name[0] ? c->name : "?", c->opcode, c->va, j->seqno, j->queue,
			 (size_t)cmd - j->first_command + 1, j->command_count, c->cycle, c->seq);
		return true;
	}
	if (job >= 0) {
		const struct viewer_job *j = &m->jobs[job];
		static const char *const ends[] = {"completed", "faulted", "ended by a reset",
						   "unfinished"};
		int conn = j->connection;

		snprintf(out, size,
			 "job %" PRIu64 " queue %" PRIu32 " AS %" PRIu32 " conn #%" PRIu32
			 " | cmd VA %#" PRIx64 " | cycles %" PRIu64 "-%" PRIu64 " (%" PRIu64
			 ") | %s%s%s | events %" PRIu64 "-%" PRIu64,
			 j->seqno, j->queue, j->slot, conn >= 0 ? m->connections[conn].number : 0,
			 j->cmd_va, j->start_cycle, j->end_cycle, j->end_cycle - j->start_cycle,
			 ends[j->end], j->fault ? " " : "",
			 j->fault ? viewer_fault_name_of(j->fault) : "", j->start_seq,
			 j->end_seq == VIEWER_NONE ? j->start_seq : j->end_seq);
		return true;
	}
	for (size_t i = 0; i < m->marker_count; i++) {
		const struct viewer_marker *mk = &m->markers[i];
		double x = viewer_timeline_x(lay, st, (double)mk->cycle);

		if (fabs(x - st->mouse_x) > TL_HOVER_PX)
			continue;
		for (int t = 0; t < lay->track_count; t++) {
			const struct viewer_track *tr = &lay->tracks[t];
			bool on_dev =
				tr->kind == VIEWER_TRACK_DEVICE && mk->kind != VIEWER_MARK_FAULT;
			bool on_queue = tr->kind == VIEWER_TRACK_QUEUE &&
					mk->kind == VIEWER_MARK_FAULT && tr->index == (int)mk->unit;

			if ((!on_dev && !on_queue) || st->mouse_y < tr->y - 4 ||
			    st->mouse_y >= tr->y + tr->h)
				continue;
			switch (mk->kind) {
			case VIEWER_MARK_FAULT:
				snprintf(out, size,
					 "fault %s at VA %#" PRIx64 " AS %" PRIu64
					 " | cycle %" PRIu64 " | event %" PRIu64,
					 viewer_fault_name_of(mk->code), mk->value, mk->value2,
					 mk->cycle, mk->seq);
				break;
			case VIEWER_MARK_RESET_BEGIN:
			case VIEWER_MARK_RESET_DONE:
				snprintf(out, size,
					 "%s reset %s | cycle %" PRIu64 " | event %" PRIu64,
					 mk->code == 1 ? "soft" : "hard",
					 mk->kind == VIEWER_MARK_RESET_BEGIN ? "begins" : "done",
					 mk->cycle, mk->seq);
				break;
			case VIEWER_MARK_POWER:
				snprintf(out, size,
					 "power: cores ready %#" PRIx32 ", clock divider %" PRIu64
					 " | cycle %" PRIu64 " | event %" PRIu64,
					 mk->code, mk->value, mk->cycle, mk->seq);
				break;
			case VIEWER_MARK_IRQ:
				snprintf(out, size,
					 "interrupt: causes %#" PRIx32 " | cycle %" PRIu64
					 " | event %" PRIu64,
					 mk->code, mk->cycle, mk->seq);
				break;
			}
			return true;
		}
	}
	return false;
}

/* viewer_timeline_draw - see viewer_view.h. */
void viewer_timeline_draw(struct viewer_render *vr, const struct viewer_model *m,
			  const struct viewer_state *st)
{
	struct viewer_timeline_layout lay;
	int bottom, selected = -1;
	char text[320];

	viewer_timeline_layout(m, vr->width, vr->height, &lay);
	bottom = lay.tracks[lay.track_count - 1].y + lay.tracks[lay.track_count - 1].h;
	for (int t = 0; t < lay.track_count; t++) {
		const struct viewer_track *tr = &lay.tracks[t];

		viewer_fill(vr, 0, tr->y, vr->width, tr->h, viewer_color_panel);
		track_label(m, tr, text, sizeof(text));
		viewer_text(vr, 10, tr->y + (tr->h - vr->line_height) / 2,
			    tr->kind == VIEWER_TRACK_CONTEXT ? viewer_color_text_dim
							     : viewer_color_text,
			    false, TL_LABEL_W - 14, text);
	}
	draw_axis(vr, &lay, st, bottom);
	for (size_t i = 0; i < m->job_count; i++)
		if (m->jobs[i].start_seq <= st->cursor &&
		    (m->jobs[i].end_seq == VIEWER_NONE || m->jobs[i].end_seq >= st->cursor))
			selected = (int)i;
	for (int t = 0; t < lay.track_count; t++) {
		const struct viewer_track *tr = &lay.tracks[t];

		for (size_t i = 0; i < m->job_count; i++)
			if (job_on_track(m, &m->jobs[i], tr))
				draw_job(vr, m, &lay, st, &m->jobs[i], tr->y + TL_BAR_PAD,
					 tr->h - 2 * TL_BAR_PAD, (int)i == selected);
	}
	draw_markers(vr, m, &lay, st);
	{
		double x =
			viewer_timeline_x(&lay, st, (double)viewer_model_cycle_at(m, st->cursor));

		if (x >= lay.plot_x0 && x <= lay.plot_x1) {
			viewer_fill(vr, (int)lround(x), lay.axis_y + TL_AXIS_H - 6, 1,
				    bottom - lay.axis_y - TL_AXIS_H + 6, viewer_color_cursor);
			int tw;

			snprintf(text, sizeof(text), "event %" PRIu64, st->cursor);
			tw = viewer_text_width(vr, false, text);
			viewer_text(vr,
				    (int)lround(x) + 4 + tw > vr->width ? (int)lround(x) - 4 - tw
									: (int)lround(x) + 4,
				    bottom + 4, viewer_color_cursor, false, 0, text);
		}
	}
	if (st->mouse_in && hover_text(m, st, &lay, text, sizeof(text))) {
		int w = viewer_text_width(vr, false, text) + 16, x = st->mouse_x + 14;
		int y = st->mouse_y + 18;

		if (x + w > vr->width)
			x = vr->width - w > 0 ? vr->width - w : 0;
		if (y + vr->line_height + 8 > vr->height - VIEWER_FOOTER_H)
			y = st->mouse_y - vr->line_height - 14;
		viewer_fill(vr, x, y, w, vr->line_height + 8, (SDL_Color){12, 13, 16, 240});
		viewer_outline(vr, x, y, w, vr->line_height + 8, viewer_color_text_dim);
		viewer_text(vr, x + 8, y + 4, viewer_color_text, false, 0, text);
	}
	{
		/* the legend under the tracks */
		int y = bottom + 28, x = 10;
		static const char *const names[] = {"job (queue colour)",
						    "command (zoomed in)",
						    "faulted job",
						    "cut off by a reset",
						    "fault",
						    "reset",
						    "power",
						    "interrupt",
						    "cursor"};
		SDL_Color colors[] = {
			viewer_queue_color(0), viewer_color_command, viewer_color_fault,
			viewer_color_reset,    viewer_color_fault,   viewer_color_reset,
			viewer_color_power,    viewer_color_irq,     viewer_color_cursor};

		if (y + vr->line_height > vr->height - VIEWER_FOOTER_H)
			return;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			viewer_fill(vr, x, y + 3, 14, vr->line_height - 6, colors[i]);
			x += 20 +
			     viewer_text(vr, x + 20, y, viewer_color_text_dim, false, 0, names[i]);
			x += 18;
		}
	}
}

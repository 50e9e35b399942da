/* SPDX-License-Identifier: MIT */
/*
 * viewer_input.c - what each key and mouse action does to the view state (the help overlay in
 * viewer_frame.c lists the same keys). Printable keys arrive as SDL_TEXTINPUT, so '?', '+' and
 * ',' work on any keyboard layout; keys without a character (arrows, Esc, Tab, Home, F1) as
 * SDL_KEYDOWN. Nothing here draws. The window's thread.
 */
#include <math.h>

#include "viewer_app.h"
#include "viewer_buffer.h"
#include "viewer_input.h"

#define ZOOM_STEP 0.8 /* one wheel notch or key press */
#define PAN_STEP  0.1 /* of the visible width */

static void step_cursor(struct viewer_state *st, const struct viewer_model *m, int64_t delta)
{
	int64_t next = (int64_t)st->cursor + delta;

	if (next < 0)
		next = 0;
	viewer_state_set_cursor(st, m, (uint64_t)next);
}

/* Moves the cursor to the next (@dir 1) or previous (-1) job start. */
static void step_job(struct viewer_state *st, const struct viewer_model *m, int dir)
{
	if (dir > 0) {
		for (size_t i = 0; i < m->job_count; i++)
			if (m->jobs[i].start_seq > st->cursor) {
				viewer_state_set_cursor(st, m, m->jobs[i].start_seq);
				return;
			}
	} else {
		for (size_t i = m->job_count; i-- > 0;)
			if (m->jobs[i].start_seq < st->cursor) {
				viewer_state_set_cursor(st, m, m->jobs[i].start_seq);
				return;
			}
	}
}

static void step_fault(struct viewer_state *st, const struct viewer_model *m, int dir)
{
	int f;

	if (!m->fault_count)
		return;
	f = st->fault < 0 ? (dir > 0 ? 0 : (int)m->fault_count - 1) : st->fault + dir;
	if (f < 0)
		f = 0; /* stays on the first or the last one, and the cursor goes back to it */
	if ((size_t)f >= m->fault_count)
		f = (int)m->fault_count - 1;
	viewer_state_set_cursor(st, m, m->faults[f].seq);
	st->fault = f;
}

/* 0: the whole trace in view; nothing else of the state changes (the buffer view's included). */
static void show_all(struct viewer_state *st, const struct viewer_model *m)
{
	struct viewer_state all;

	viewer_state_init(&all, m);
	st->t0 = all.t0;
	st->t1 = all.t1;
}

static void on_text(struct viewer_input *in, const struct viewer_model *m, struct viewer_state *st,
		    char ch)
{
	double c = (double)viewer_model_cycle_at(m, st->cursor);

	if (st->view == VIEWER_VIEW_BUFFER && st->bufview && viewer_buffer_key(st->bufview, ch))
		return;
	switch (ch) {
	case '?':
		st->help = !st->help;
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		st->view = (enum viewer_view_kind)(ch - '1');
		break;
	case '+':
	case '=':
		viewer_state_zoom(st, m, ZOOM_STEP, c);
		break;
	case '-':
	case '_':
		viewer_state_zoom(st, m, 1 / ZOOM_STEP, c);
		break;
	case ',':
	case '[':
		step_cursor(st, m, -1);
		break;
	case '.':
	case ']':
		step_cursor(st, m, 1);
		break;
	case '<':
	case '{':
		step_cursor(st, m, -10);
		break;
	case '>':
	case '}':
		step_cursor(st, m, 10);
		break;
	case 'j':
		step_job(st, m, -1);
		break;
	case 'k':
		step_job(st, m, 1);
		break;
	case 'n':
		step_fault(st, m, 1);
		break;
	case 'p':
		step_fault(st, m, -1);
		break;
	case 'c':
		viewer_state_center(st, m);
		break;
	case '0':
		show_all(st, m);
		break;
	case 'q':
		in->quit = true;
		break;
	default:
		break;
	}
}

static void on_key(struct viewer_input *in, const struct viewer_model *m, struct viewer_state *st,
		   const SDL_KeyboardEvent *key)
{
	switch (key->keysym.sym) {
	case SDLK_ESCAPE:
		if (st->help)
			st->help = false;
		else
			in->quit = true;
		break;
	case SDLK_F1:
		st->help = !st->help;
		break;
	case SDLK_TAB:
		st->view = (enum viewer_view_kind)((st->view + 1) % VIEWER_VIEW_COUNT);
		break;
	case SDLK_LEFT:
		viewer_state_pan(st, m, -PAN_STEP);
		break;
	case SDLK_RIGHT:
		viewer_state_pan(st, m, PAN_STEP);
		break;
	case SDLK_RETURN:
	case SDLK_KP_ENTER:
		if (st->view == VIEWER_VIEW_MEMORY)
			viewer_buffer_open_mapping(st, m);
		break;
	case SDLK_UP:
	case SDLK_PAGEUP:
		if (st->view == VIEWER_VIEW_BUFFER && st->bufview)
			st->bufview->hex_scroll -= st->bufview->hex_scroll > 0;
		else if (st->view == VIEWER_VIEW_MEMORY)
			st->memory_scroll = st->memory_scroll > 0 ? st->memory_scroll - 1 : 0;
		else
			viewer_state_zoom(st, m, ZOOM_STEP,
					  (double)viewer_model_cycle_at(m, st->cursor));
		break;
	case SDLK_DOWN:
	case SDLK_PAGEDOWN:
		if (st->view == VIEWER_VIEW_BUFFER && st->bufview)
			st->bufview->hex_scroll++;
		else if (st->view == VIEWER_VIEW_MEMORY)
			st->memory_scroll++;
		else
			viewer_state_zoom(st, m, 1 / ZOOM_STEP,
					  (double)viewer_model_cycle_at(m, st->cursor));
		break;
	case SDLK_KP_PLUS:
		on_text(in, m, st, '+');
		break;
	case SDLK_KP_MINUS:
		on_text(in, m, st, '-');
		break;
	case SDLK_HOME:
		show_all(st, m);
		break;
	default:
		break;
	}
}

static void on_click(const struct viewer_input *in, const struct viewer_model *m,
		     struct viewer_state *st, int x, int y)
{
	struct viewer_timeline_layout lay;
	struct viewer_link links[VIEWER_CHAIN_MAX];
	int job, fault;
	size_t n;

	if (y < VIEWER_HEADER_H) { /* the tabs: roughly where the header draws them */
		for (int i = 0; i < VIEWER_VIEW_COUNT; i++)
			if (x >= in->tab_x[i] && x < in->tab_x[i + 1])
				st->view = (enum viewer_view_kind)i;
		return;
	}
	if (st->view == VIEWER_VIEW_TIMELINE) {
		viewer_timeline_layout(m, in->width, in->height, &lay);
		if (x < lay.plot_x0)
			return;
		job = viewer_timeline_job_at(m, st, &lay, x, y);
		if (job >= 0)
			viewer_state_set_cursor(st, m, m->jobs[job].start_seq);
		else
			viewer_state_set_cursor(
				st, m,
				viewer_model_event_at_cycle(
					m, (uint64_t)fmax(0, viewer_timeline_cycle(&lay, st, x))));
		return;
	}
	if (st->view != VIEWER_VIEW_CHAIN)
		return;
	fault = viewer_chain_fault(m, st);
	n = fault >= 0 ? viewer_chain_build(m, fault, links) : 0;
	for (size_t i = 0; i < n; i++) {
		SDL_Rect r = viewer_chain_link_rect(in->width, (int)i);

		if (x < r.x || x >= r.x + r.w || y < r.y || y >= r.y + r.h ||
		    links[i].seq == VIEWER_NONE)
			continue;
		viewer_state_set_cursor(st, m, links[i].seq);
		st->fault = fault;
		st->view = VIEWER_VIEW_TIMELINE;
		viewer_state_center(st, m);
		return;
	}
}

/* viewer_input_handle - see viewer_input.h. */
bool viewer_input_handle(struct viewer_input *in, const struct viewer_model *m,
			 struct viewer_state *st, const SDL_Event *ev)
{
	struct viewer_timeline_layout lay;

	switch (ev->type) {
	case SDL_QUIT:
		in->quit = true;
		return false;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_LEAVE)
			st->mouse_in = false;
		return true;
	case SDL_KEYDOWN:
		if (m)
			on_key(in, m, st, &ev->key);
		else if (ev->key.keysym.sym == SDLK_ESCAPE)
			in->quit = true;
		return true;
	case SDL_TEXTINPUT:
		if (m)
			on_text(in, m, st, ev->text.text[0]);
		else if (ev->text.text[0] == 'q')
			in->quit = true;
		return true;
	case SDL_MOUSEMOTION:
		st->mouse_x = ev->motion.x;
		st->mouse_y = ev->motion.y;
		st->mouse_in = true;
		if (in->dragging && m && st->view == VIEWER_VIEW_TIMELINE) {
			double span = in->drag_t1 - in->drag_t0;

			viewer_timeline_layout(m, in->width, in->height, &lay);
			st->t0 = in->drag_t0 -
				 (ev->motion.x - in->drag_x) * span / (lay.plot_x1 - lay.plot_x0);
			st->t1 = st->t0 + span;
			if (abs(ev->motion.x - in->drag_x) > 3)
				in->dragged = true;
		}
		return true;
	case SDL_MOUSEBUTTONDOWN:
		if (ev->button.button != SDL_BUTTON_LEFT || !m)
			return false;
		in->dragging = true;
		in->dragged = false;
		in->drag_x = ev->button.x;
		in->drag_t0 = st->t0;
		in->drag_t1 = st->t1;
		return false;
	case SDL_MOUSEBUTTONUP:
		if (ev->button.button != SDL_BUTTON_LEFT || !m)
			return false;
		in->dragging = false;
		if (!in->dragged)
			on_click(in, m, st, ev->button.x, ev->button.y);
		return true;
	case SDL_MOUSEWHEEL:
		if (!m || !ev->wheel.y)
			return false;
		if (st->view == VIEWER_VIEW_MEMORY) {
			st->memory_scroll -= ev->wheel.y;
			if (st->memory_scroll < 0)
				st->memory_scroll = 0;
			return true;
		}
		viewer_timeline_layout(m, in->width, in->height, &lay);
		viewer_state_zoom(st, m, pow(ZOOM_STEP, ev->wheel.y),
				  st->mouse_x >= lay.plot_x0
					  ? viewer_timeline_cycle(&lay, st, st->mouse_x)
					  : (double)viewer_model_cycle_at(m, st->cursor));
		return true;
	default:
		return false;
	}
}

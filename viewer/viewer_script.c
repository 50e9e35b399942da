/* SPDX-License-Identifier: MIT */
/*
 * viewer_script.c - the scripted walk of --test-input (see viewer_script.h).
 *
 * Each step pushes SDL events (text input for printable keys, key-down for the others, mouse
 * motion, buttons and wheel at computed places) and names a check on the view state. A step
 * passes when its check holds after the window loop has handled the events; most hold after
 * one frame, a window resize may take a few (the window system answers asynchronously), so a
 * check may be retried for up to SCRIPT_MAX_FRAMES frames. The steps go through every view:
 * help overlay, memory map and its scrolling, the chain and a click on one of its links, the
 * timeline's zoom, pan, reset, a click on a job, cursor and fault keys, Tab, a resize, quit.
 * Steps that need a fault or a job are skipped (and say so) on traces without one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_buffer.h"
#include "viewer_events.h"
#include "viewer_script.h"

#define SCRIPT_MAX_FRAMES 500

struct viewer_script {
	SDL_Window *win;
	const struct viewer_model *m;
	struct viewer_state *st;
	struct viewer_input *in;
	int step;   /* current step; -1 before the first */
	int frames; /* frames the current check has waited */
	bool failed;
	double span; /* saved state the checks compare against */
	double t0;
	uint64_t cursor;
	uint64_t expect;
};

struct script_step {
	const char *what;
	bool (*act)(struct viewer_script *s); /* false: skip the step */
	bool (*check)(struct viewer_script *s);
};

static void save(struct viewer_script *s)
{
	s->span = s->st->t1 - s->st->t0;
	s->t0 = s->st->t0;
	s->cursor = s->st->cursor;
}

static bool act_help(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("?");
	return true;
}

static bool check_help(struct viewer_script *s)
{
	return s->st->help;
}

static bool act_escape(struct viewer_script *s)
{
	(void)s;
	viewer_push_key(SDLK_ESCAPE);
	return true;
}

static bool check_no_help(struct viewer_script *s)
{
	return !s->st->help && !s->in->quit;
}

static bool act_memory(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("2");
	return true;
}

static bool check_memory(struct viewer_script *s)
{
	return s->st->view == VIEWER_VIEW_MEMORY;
}

static bool act_scroll(struct viewer_script *s)
{
	viewer_push_motion(s->win, s->in->width / 2, s->in->height / 2);
	viewer_push_wheel(s->win, -1);
	return true;
}

static bool check_scroll(struct viewer_script *s)
{
	return s->st->memory_scroll == 1;
}

static bool act_chain(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("3");
	return true;
}

static bool check_chain(struct viewer_script *s)
{
	return s->st->view == VIEWER_VIEW_CHAIN;
}

/* Clicks the chain's fault link, which must jump to the fault on the timeline. */
static bool act_chain_click(struct viewer_script *s)
{
	struct viewer_link links[VIEWER_CHAIN_MAX];
	int fault = viewer_chain_fault(s->m, s->st);
	size_t n = fault >= 0 ? viewer_chain_build(s->m, fault, links) : 0;

	for (size_t i = 0; i < n; i++) {
		SDL_Rect r = viewer_chain_link_rect(s->in->width, (int)i);

		if (links[i].kind != VIEWER_LINK_FAULT)
			continue;
		s->expect = links[i].seq;
		viewer_push_click(s->win, r.x + r.w / 2, r.y + r.h / 2);
		return true;
	}
	return false;
}

static bool check_chain_click(struct viewer_script *s)
{
	return s->st->view == VIEWER_VIEW_TIMELINE && s->st->cursor == s->expect;
}

static bool act_timeline(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("1");
	return true;
}

static bool check_timeline(struct viewer_script *s)
{
	return s->st->view == VIEWER_VIEW_TIMELINE;
}

static bool act_zoom(struct viewer_script *s)
{
	struct viewer_timeline_layout lay;

	viewer_timeline_layout(s->m, s->in->width, s->in->height, &lay);
	save(s);
	viewer_push_motion(s->win, (lay.plot_x0 + lay.plot_x1) / 2, lay.axis_y + 40);
	viewer_push_wheel(s->win, 2);
	return true;
}

static bool check_zoom(struct viewer_script *s)
{
	return s->st->t1 - s->st->t0 < s->span * 0.9;
}

static bool act_pan(struct viewer_script *s)
{
	save(s);
	viewer_push_key(SDLK_LEFT);
	return true;
}

static bool check_pan(struct viewer_script *s)
{
	return s->st->t0 < s->t0 && fabs((s->st->t1 - s->st->t0) - s->span) < s->span * 1e-6;
}

static bool act_all(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("0");
	return true;
}

static bool check_all(struct viewer_script *s)
{
	return s->st->t0 <= (double)s->m->first_cycle && s->st->t1 >= (double)s->m->last_cycle;
}

/* Clicks the middle of the first job's bar on its queue track. */
static bool act_job_click(struct viewer_script *s)
{
	struct viewer_timeline_layout lay;
	const struct viewer_job *j;

	if (!s->m->job_count)
		return false;
	j = &s->m->jobs[0];
	viewer_timeline_layout(s->m, s->in->width, s->in->height, &lay);
	for (int t = 0; t < lay.track_count; t++) {
		if (lay.tracks[t].kind != VIEWER_TRACK_QUEUE ||
		    lay.tracks[t].index != (int)j->queue)
			continue;
		s->expect = j->start_seq;
		viewer_push_click(
			s->win,
			(int)lround((viewer_timeline_x(&lay, s->st, (double)j->start_cycle) +
				     viewer_timeline_x(&lay, s->st, (double)j->end_cycle)) /
				    2),
			lay.tracks[t].y + lay.tracks[t].h / 2);
		return true;
	}
	return false;
}

static bool check_cursor_expect(struct viewer_script *s)
{
	return s->st->cursor == s->expect;
}

static bool act_step(struct viewer_script *s)
{
	save(s);
	s->expect = s->cursor + 1 < s->m->event_count ? s->cursor + 1 : s->cursor;
	viewer_push_text(".");
	return true;
}

static bool act_next_fault(struct viewer_script *s)
{
	if (!s->m->fault_count)
		return false;
	s->expect = s->m->faults[s->st->fault >= 0 && (size_t)s->st->fault + 1 < s->m->fault_count
					 ? s->st->fault + 1
					 : (s->st->fault >= 0 ? s->st->fault : 0)]
			    .seq;
	viewer_push_text("n");
	return true;
}

static bool act_tab(struct viewer_script *s)
{
	(void)s;
	viewer_push_key(SDLK_TAB);
	return true;
}

static bool act_resize(struct viewer_script *s)
{
	SDL_SetWindowSize(s->win, 1100, 720);
	return true;
}

static bool check_resize(struct viewer_script *s)
{
	return s->in->width == 1100 && s->in->height == 720;
}

static bool act_quit(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("q");
	return true;
}

static bool check_quit(struct viewer_script *s)
{
	return s->in->quit;
}

static bool act_buffer(struct viewer_script *s)
{
	(void)s;
	viewer_push_text("4");
	return true;
}

static bool check_buffer(struct viewer_script *s)
{
	return s->st->view == VIEWER_VIEW_BUFFER;
}

/* x: the buffer view's hex dump (skipped when the window has no buffer view state). */
static bool act_hex(struct viewer_script *s)
{
	if (!s->st->bufview)
		return false;
	s->expect = !s->st->bufview->hex;
	viewer_push_text("x");
	return true;
}

static bool check_hex(struct viewer_script *s)
{
	return s->st->bufview->hex == (bool)s->expect;
}

/* f: the next pixel format. */
static bool act_format(struct viewer_script *s)
{
	if (!s->st->bufview)
		return false;
	s->expect = (uint64_t)s->st->bufview->format;
	viewer_push_text("f");
	return true;
}

static bool check_format(struct viewer_script *s)
{
	return (uint64_t)s->st->bufview->format != s->expect;
}

static const struct script_step steps[] = {
	{"? shows the help overlay", act_help, check_help},
	{"Esc closes the help (and does not quit)", act_escape, check_no_help},
	{"2 shows the memory map", act_memory, check_memory},
	{"the mouse wheel scrolls the memory map", act_scroll, check_scroll},
	{"3 shows the cause -> effect chain", act_chain, check_chain},
	{"a click on the chain's fault link jumps the timeline there", act_chain_click,
	 check_chain_click},
	{"1 shows the timeline", act_timeline, check_timeline},
	{"the mouse wheel zooms in at the pointer", act_zoom, check_zoom},
	{"Left pans the timeline", act_pan, check_pan},
	{"0 shows the whole trace", act_all, check_all},
	{"a click on a job bar selects its start event", act_job_click, check_cursor_expect},
	{". steps the cursor to the next event", act_step, check_cursor_expect},
	{"n selects the next fault", act_next_fault, check_cursor_expect},
	{"Tab shows the next view", act_tab, check_memory},
	{"4 shows the buffer view", act_buffer, check_buffer},
	{"x toggles the buffer's hex dump", act_hex, check_hex},
	{"f changes the buffer's pixel format", act_format, check_format},
	{"the window resizes and the frame follows", act_resize, check_resize},
	{"q quits", act_quit, check_quit},
};

/* viewer_script_create - see viewer_script.h. */
struct viewer_script *viewer_script_create(SDL_Window *win, const struct viewer_model *m,
					   struct viewer_state *st, struct viewer_input *in)
{
	struct viewer_script *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->win = win;
	s->m = m;
	s->st = st;
	s->in = in;
	s->step = -1;
	return s;
}

/* Starts the step after the current one, skipping those whose act declines. */
static bool next_step(struct viewer_script *s)
{
	for (s->step++; (size_t)s->step < sizeof(steps) / sizeof(steps[0]); s->step++) {
		if (steps[s->step].act(s)) {
			s->frames = 0;
			return true;
		}
		printf("ok - %s # SKIP nothing in this trace to do it on\n", steps[s->step].what);
	}
	return false;
}

/* viewer_script_tick - see viewer_script.h. */
bool viewer_script_tick(struct viewer_script *s)
{
	if (!s->m) { /* the error screen: only quitting can be tried */
		if (s->step < 0) {
			s->step = 0;
			viewer_push_key(SDLK_ESCAPE);
			return false;
		}
		printf("%s - Esc quits the error screen\n", s->in->quit ? "ok" : "not ok");
		s->failed = !s->in->quit;
		return true;
	}
	if (s->step < 0)
		return !next_step(s);
	if (!steps[s->step].check(s)) {
		if (++s->frames < SCRIPT_MAX_FRAMES)
			return false;
		printf("not ok - %s\n", steps[s->step].what);
		s->failed = true;
		return true;
	}
	printf("ok - %s\n", steps[s->step].what);
	fflush(stdout);
	return !next_step(s);
}

/* viewer_script_failed - see viewer_script.h. */
bool viewer_script_failed(const struct viewer_script *s)
{
	return s->failed;
}

/* viewer_script_destroy - see viewer_script.h. */
void viewer_script_destroy(struct viewer_script *s)
{
	free(s);
}

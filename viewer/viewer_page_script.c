/* SPDX-License-Identifier: MIT */
/*
 * viewer_page_script.c - the scripted walks of the pages' windows (see viewer_page_script.h).
 *
 * A step pushes events (key-down, mouse motion, buttons, wheel at computed places) or acts on
 * the window or the device, and names a check on the page's state, sometimes on the frame's
 * pixels (read before the frame is presented). A check may take a few frames (a resize is
 * answered asynchronously, a live page polls every 250 ms), so it is retried for up to
 * PAGE_SCRIPT_MAX_FRAMES frames. A step whose act declines prints "ok - what # SKIP why".
 *
 * The report walk: the failing points listed, scrolled by the wheel, Up and Down; a click on a
 * point whose kept directory holds a trace opens the trace views in a window of their own (which
 * runs the trace views' walk, viewer_script.c, and quits) while the report's window is hidden;
 * back on the report, a click on a point without a trace shows how to reproduce it; q quits.
 *
 * The live walk has two branches, chosen by the first poll. A socket that answers: the first
 * answer's rows drawn, a fault armed over the control socket highlighted at the next answer and
 * no longer at the one after, a resize, q quits. A socket that does not: the error line, Esc
 * quits. The steps of the other branch are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "viewer_events.h"
#include "viewer_page_script.h"
#include "viewer_view.h"

#define PAGE_SCRIPT_MAX_FRAMES 500 /* at most 20 ms each: 10 s */

struct viewer_page_script;

struct page_step {
	const char *what;
	const char *skip;			   /* why an act declines */
	bool (*act)(struct viewer_page_script *s); /* false: skip the step */
	bool (*check)(struct viewer_page_script *s);
};

struct viewer_page_walk {
	const struct page_step *steps;
	size_t count;
};

struct viewer_page_script {
	const struct viewer_page *page;
	SDL_Window *win;
	const struct viewer_render *vr; /* this frame's */
	bool quit;			/* the loop was asked to end */
	int step;			/* current step; -1 before the first */
	int frames;			/* frames the current check has waited */
	bool failed;
	int expect; /* saved state the checks compare against */
	uint64_t polls;
	int hidden, shown_after_hidden; /* the page's window events (an event watch) */
};

/* Events */

/* Counts the page window's hide and show events (SDL_HideWindow sends them synchronously). */
static int watch_window(void *ctx, SDL_Event *ev)
{
	struct viewer_page_script *s = ctx;

	if (ev->type != SDL_WINDOWEVENT || ev->window.windowID != SDL_GetWindowID(s->win))
		return 0;
	if (ev->window.event == SDL_WINDOWEVENT_HIDDEN)
		s->hidden++;
	else if (ev->window.event == SDL_WINDOWEVENT_SHOWN && s->hidden)
		s->shown_after_hidden++;
	return 0;
}

/* Whether the frame's pixel at (@x, @y) is @c (read before the frame is presented). */
static bool pixel_is(struct viewer_page_script *s, int x, int y, SDL_Color c)
{
	SDL_Rect r = {x, y, 1, 1};
	Uint32 px = 0;

	if (SDL_RenderReadPixels(s->vr->renderer, &r, SDL_PIXELFORMAT_ARGB8888, &px, sizeof(px)))
		return false;
	return ((px >> 16) & 0xff) == c.r && ((px >> 8) & 0xff) == c.g && (px & 0xff) == c.b;
}

static bool act_quit(struct viewer_page_script *s)
{
	(void)s;
	viewer_push_key(SDLK_q);
	return true;
}

static bool check_quit(struct viewer_page_script *s)
{
	return s->quit;
}

/* The report walk */

static struct viewer_report_page *report_of(struct viewer_page_script *s)
{
	return s->page->ctx;
}

/* Failing point @i's box at the page's scroll, or false when it is not shown. */
static bool report_box(struct viewer_page_script *s, int i, SDL_Rect *out)
{
	struct viewer_report_page *p = report_of(s);

	return p->report && !viewer_report_failure_rect(p->report, s->vr->width, s->vr->height,
							p->scroll, i, out);
}

static bool act_none(struct viewer_page_script *s)
{
	(void)s;
	return true;
}

static bool check_listed(struct viewer_page_script *s)
{
	struct viewer_report_page *p = report_of(s);
	SDL_Rect box;

	return p->report && p->report->failure_count >= 3 && report_box(s, 0, &box) &&
	       pixel_is(s, box.x + 4, box.y + box.h / 2, viewer_color_fault);
}

static bool act_wheel_down(struct viewer_page_script *s)
{
	s->expect = report_of(s)->scroll + 1;
	viewer_push_motion(s->win, s->vr->width / 2, s->vr->height / 2);
	viewer_push_wheel(s->win, -1);
	return true;
}

static bool act_up(struct viewer_page_script *s)
{
	s->expect = report_of(s)->scroll - 1;
	viewer_push_key(SDLK_UP);
	return true;
}

static bool act_down(struct viewer_page_script *s)
{
	s->expect = report_of(s)->scroll + 1;
	viewer_push_key(SDLK_DOWN);
	return true;
}

static bool check_scroll(struct viewer_page_script *s)
{
	return report_of(s)->scroll == s->expect;
}

/* Clicks the first shown failing point whose trace is kept (@want) or not kept (!@want). */
static bool click_point(struct viewer_page_script *s, bool want)
{
	struct viewer_report_page *p = report_of(s);
	char trace[4096];
	SDL_Rect box;

	for (int i = p->scroll; p->report && i < p->report->failure_count; i++) {
		bool kept =
			!viewer_report_point_trace(&p->report->failures[i], trace, sizeof(trace));

		if (kept != want || !report_box(s, i, &box))
			continue;
		s->expect = p->opened;
		p->message[0] = '\0';
		viewer_push_click(s->win, box.x + box.w / 2, box.y + box.h / 2);
		return true;
	}
	return false;
}

static bool act_click_kept(struct viewer_page_script *s)
{
	return click_point(s, true);
}

/* The trace views ran in their own window (their walk passed), the report's was hidden and is
 * shown again, and the status line says the trace was closed. */
static bool check_opened(struct viewer_page_script *s)
{
	struct viewer_report_page *p = report_of(s);

	return p->opened == s->expect + 1 && p->nested_ret == 0 && s->hidden > 0 &&
	       s->shown_after_hidden > 0 && (SDL_GetWindowFlags(s->win) & SDL_WINDOW_SHOWN) &&
	       strstr(p->message, "closed") && !s->quit;
}

static bool act_click_not_kept(struct viewer_page_script *s)
{
	return click_point(s, false);
}

static bool check_reproduce(struct viewer_page_script *s)
{
	struct viewer_report_page *p = report_of(s);

	return p->opened == s->expect && strstr(p->message, "reproduce: ") && !s->quit;
}

static const struct page_step report_steps[] = {
	{"the failing points are listed, each with its red stripe", NULL, act_none, check_listed},
	{"the mouse wheel scrolls the failing points", NULL, act_wheel_down, check_scroll},
	{"Up scrolls them back", NULL, act_up, check_scroll},
	{"Down scrolls them on", NULL, act_down, check_scroll},
	{"a click on a point with a kept trace opens it in the trace views, the report's window "
	 "hidden meanwhile and shown again after",
	 "no shown failing point has a kept trace", act_click_kept, check_opened},
	{"a click on a point without a kept trace shows how to reproduce it",
	 "every shown failing point has a kept trace", act_click_not_kept, check_reproduce},
	{"q quits", NULL, act_quit, check_quit},
};

const struct viewer_page_walk viewer_page_walk_report = {
	report_steps, sizeof(report_steps) / sizeof(report_steps[0])};

/* The live walk */

static struct viewer_live *live_of(struct viewer_page_script *s)
{
	return &((struct viewer_live_page *)s->page->ctx)->live;
}

/* Whether connection row 0 of device 0 is drawn with a green (OK) marker. */
static bool live_row_drawn(struct viewer_page_script *s)
{
	const struct viewer_live *live = live_of(s);
	int ndev = cJSON_GetArraySize(viewer_live_devices(live->dump));
	SDL_Rect m;

	return ndev > 0 &&
	       !viewer_live_marker_rect(s->vr->width, s->vr->height, ndev, 0,
					VIEWER_LIVE_CONNECTIONS, 0, &m) &&
	       pixel_is(s, m.x + m.w / 2, m.y + m.h / 2, viewer_color_power);
}

static bool check_first_poll(struct viewer_page_script *s)
{
	return live_of(s)->polls > 0 || live_of(s)->error[0];
}

static bool act_if_answered(struct viewer_page_script *s)
{
	return live_of(s)->polls > 0;
}

static bool check_rows_drawn(struct viewer_page_script *s)
{
	return !live_of(s)->error[0] && live_row_drawn(s);
}

/* Sends one request line to the control socket; true when the answer says "ok":true. */
static bool control_request(const char *path, const char *line)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 10};
	size_t n = 0, len = strlen(line);
	char buf[4096];
	ssize_t got;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return false;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return false;
	}
	while (n < sizeof(buf) - 1 && (got = recv(fd, buf + n, sizeof(buf) - 1 - n, 0)) > 0)
		n += (size_t)got;
	close(fd);
	buf[n] = '\0';
	return strstr(buf, "\"ok\":true") != NULL;
}

/* Arms a fault over the control socket, between two polls of the page. */
static bool act_inject(struct viewer_page_script *s)
{
	static const char inject[] =
		"{\"cmd\":\"inject\",\"file\":\"window.json\",\"plan\":{\"name\":\"window\","
		"\"faults\":[{\"name\":\"armed from the walk\",\"kind\":\"mmu_fault\","
		"\"trigger\":{\"nth\":1000},\"target\":{\"connection\":1}}]}}\n";
	struct viewer_live *live = live_of(s);

	if (!live->polls)
		return false;
	s->polls = live->polls;
	s->expect = (int)viewer_live_num(viewer_live_device(live->dump, 0), "faults.armed", 0);
	if (!control_request(live->path, inject))
		s->expect = -1; /* the check fails */
	return true;
}

static bool check_highlighted(struct viewer_page_script *s)
{
	struct viewer_live *live = live_of(s);

	if (s->expect < 0 || live->polls <= s->polls)
		return false;
	if (!viewer_live_changed(live, 0, "faults")) {
		s->polls = live->polls; /* an answer from before the inject: wait for the next */
		return false;
	}
	return viewer_live_num(viewer_live_device(live->dump, 0), "faults.armed", 0) > s->expect;
}

static bool act_next_poll(struct viewer_page_script *s)
{
	s->polls = live_of(s)->polls;
	return s->polls > 0;
}

static bool check_not_highlighted(struct viewer_page_script *s)
{
	struct viewer_live *live = live_of(s);

	return live->polls > s->polls && !viewer_live_changed(live, 0, "faults");
}

static bool act_resize(struct viewer_page_script *s)
{
	if (!live_of(s)->polls)
		return false;
	SDL_SetWindowSize(s->win, 1100, 720);
	return true;
}

static bool check_resize(struct viewer_page_script *s)
{
	return s->vr->width == 1100 && s->vr->height == 720 && live_row_drawn(s);
}

static bool act_if_dead(struct viewer_page_script *s)
{
	return !live_of(s)->polls;
}

static bool check_error_line(struct viewer_page_script *s)
{
	return strstr(live_of(s)->error, "cannot connect to") && !s->quit;
}

static bool act_quit_if_answered(struct viewer_page_script *s)
{
	return live_of(s)->polls ? act_quit(s) : false;
}

static bool act_escape_if_dead(struct viewer_page_script *s)
{
	if (live_of(s)->polls)
		return false;
	viewer_push_key(SDLK_ESCAPE);
	return true;
}

static const struct page_step live_steps[] = {
	{"the socket answers, or the error arrives", NULL, act_none, check_first_poll},
	{"the first answer is drawn: connection row 0 with its green marker",
	 "the socket does not answer", act_if_answered, check_rows_drawn},
	{"a fault armed over the control socket is highlighted at the next answer",
	 "the socket does not answer", act_inject, check_highlighted},
	{"and is no longer highlighted at the answer after", "the socket does not answer",
	 act_next_poll, check_not_highlighted},
	{"the window resizes and the rows follow", "the socket does not answer", act_resize,
	 check_resize},
	{"q quits", "the socket does not answer", act_quit_if_answered, check_quit},
	{"a dead socket: the error line shows", "the socket answers", act_if_dead,
	 check_error_line},
	{"Esc quits the live page", "the socket answers", act_escape_if_dead, check_quit},
};

const struct viewer_page_walk viewer_page_walk_live = {live_steps,
						       sizeof(live_steps) / sizeof(live_steps[0])};

/* The walk */

/* viewer_page_script_create - see viewer_page_script.h. */
struct viewer_page_script *viewer_page_script_create(const struct viewer_page *page,
						     SDL_Window *win)
{
	struct viewer_page_script *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->page = page;
	s->win = win;
	s->step = -1;
	SDL_AddEventWatch(watch_window, s);
	return s;
}

/* Starts the step after the current one, skipping those whose act declines. */
static bool next_step(struct viewer_page_script *s)
{
	const struct viewer_page_walk *w = s->page->walk;

	for (s->step++; (size_t)s->step < w->count; s->step++) {
		if (w->steps[s->step].act(s)) {
			s->frames = 0;
			return true;
		}
		printf("ok - %s # SKIP %s\n", w->steps[s->step].what, w->steps[s->step].skip);
	}
	return false;
}

/* viewer_page_script_tick - see viewer_page_script.h. */
bool viewer_page_script_tick(struct viewer_page_script *s, const struct viewer_render *vr,
			     bool quit)
{
	const struct page_step *step;
	bool over;

	s->vr = vr;
	s->quit = quit;
	if (s->step < 0)
		return !next_step(s);
	step = &s->page->walk->steps[s->step];
	if (!step->check(s)) {
		if (!quit && ++s->frames < PAGE_SCRIPT_MAX_FRAMES)
			return false;
		printf("not ok - %s%s\n", step->what, quit ? " (the window was closed)" : "");
		fflush(stdout);
		s->failed = true;
		return true;
	}
	printf("ok - %s\n", step->what);
	over = quit || !next_step(s);
	fflush(stdout);
	return over;
}

/* viewer_page_script_failed - see viewer_page_script.h. */
bool viewer_page_script_failed(const struct viewer_page_script *s)
{
	return s->failed;
}

/* viewer_page_script_destroy - see viewer_page_script.h. */
void viewer_page_script_destroy(struct viewer_page_script *s)
{
	if (!s)
		return;
	SDL_DelEventWatch(watch_window, s);
	free(s);
}

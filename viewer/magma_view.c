/* SPDX-License-Identifier: MIT */
/*
 * magma_view.c - magma-view's command line: open a trace in a window, or render one view of it
 * headless into a PNG (--screenshot). docs/viewer.md is the manual.
 *
 * Every bad input ends in a message on stderr and exit status 2, never a crash: a trace the
 * validator rejects is also shown (in the window, or in the PNG) with the same message.
 * Main thread only.
 */
#include <SDL.h>
#include <SDL_ttf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_app.h"
#include "viewer_buffer.h"
#include "viewer_model.h"
#include "viewer_page.h"
#include "viewer_report.h"
#include "viewer_view.h"

#define VIEW_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_TEST_FAILED = 1, EXIT_BAD_INPUT = 2, EXIT_HOST = 3 };

struct view_options {
	const char *trace;
	const char *screenshot;
	enum viewer_view_kind view;
	uint64_t at;
	bool has_at;
	long fault;		 /* 1-based; 0: none asked */
	uint64_t cycle0, cycle1; /* --cycles: the timeline's visible range; cycle1 0: all */
	int width, height;
	bool test_input;
	const char *attach;		  /* --attach: a control socket instead of a file */
	uint64_t buffer_id;		  /* --view buffer:ID */
	struct viewer_buffer_view buffer; /* --format, --width, --stride */
};

static void usage(FILE *f)
{
	fputs("Usage: magma-view [OPTIONS] TRACE.json | REPORT.json\n"
	      "       magma-view [OPTIONS] --attach CONTROL-SOCKET\n"
	      "\n"
	      "Shows what the simulated GPU did in a magma-sim trace (docs/trace-format.md) and\n"
	      "why: a timeline of jobs per hardware queue and client context (with their commands\n"
	      "when zoomed in), faults, resets, power changes and interrupts; each connection's\n"
	      "GPU address space at the selected event; the cause -> effect chain of a fault;\n"
	      "and any buffer's contents at an event. It also watches a live device (--attach)\n"
	      "and opens campaign reports (magma-campaign --json; recognised by their content).\n"
	      "Press ? in the window for the keys.\n"
	      "\n"
	      "Options:\n"
	      "  --screenshot OUT.png  render one frame without a window or display (software\n"
	      "                        renderer) and write it to OUT.png, then exit\n"
	      "  --view VIEW           the view to show: timeline (default), memory, chain, or\n"
	      "                        buffer:ID (the buffer with that id after the event, read\n"
	      "                        from a replay of the trace up to it)\n"
	      "  --format F            buffer view: RGBA8 (default), BGRA8, R8, R32F, or hex\n"
	      "  --width N             buffer view: pixels per row (default 64)\n"
	      "  --stride N            buffer view: bytes per row (default: width x pixel size)\n"
	      "  --offset N            buffer view: first byte shown (default 0)\n"
	      "  --at EVENT            select event index EVENT (the trace's \"seq\"); default: the\n"
	      "                        first fault, else the last job start\n"
	      "  --fault N             select the N-th fault (1 is the first) and its event\n"
	      "  --cycles START:END    timeline: show cycles START to END (zoomed in far enough,\n"
	      "                        job bars show their commands); default: the whole trace\n"
	      "  --size WxH            window or screenshot size in pixels (default 1600x900;\n"
	      "                        320x240 to 8192x8192)\n"
	      "  --attach PATH         a live device: the control socket of magma-simd --control\n"
	      "                        PATH, polled every 250 ms\n"
	      "  --test-input          drive the window with synthetic key and mouse events "
	      "through\n"
	      "                        every view (or the report or --attach page), print one\n"
	      "                        ok/not ok line per step and quit (the Xvfb tests; needs a\n"
	      "                        display)\n"
	      "  --help                this text\n"
	      "  --version             the version\n"
	      "\n"
	      "Environment: MAGMA_VIEW_FONT_DIR, a folder holding DejaVuSans.ttf and\n"
	      "DejaVuSansMono.ttf (default: /usr/share/fonts/truetype/dejavu and other known "
	      "places).\n"
	      "\n"
	      "Exit status: 0 done; 1 a --test-input step failed; 2 bad trace or bad command line\n"
	      "(the message names the line of the trace); 3 no window, no font, or the PNG could "
	      "not\n"
	      "be written.\n",
	      f);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "magma-view: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'magma-view --help' for the options.\n");
	return EXIT_BAD_INPUT;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_size(const char *s, int *w, int *h)
{
	char *x = s ? strchr(s, 'x') : NULL, buf[32];
	uint64_t a, b;

	if (!x || strlen(s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(x - s));
	buf[x - s] = '\0';
	if (!parse_u64(buf, &a) || !parse_u64(x + 1, &b) || a < 320 || b < 240 || a > 8192 ||
	    b > 8192)
		return false;
	*w = (int)a;
	*h = (int)b;
	return true;
}

/* One of the buffer view's options into @bv; returns -1 to go on, else the exit status. */
static int parse_buffer_option(const char *a, const char *v, struct viewer_buffer_view *bv)
{
	uint64_t n;

	if (!strcmp(a, "--format")) {
		bv->hex = !strcmp(v, "hex");
		if (!bv->hex && viewer_buffer_format_parse(v, &bv->format))
			return bad_usage("--format '%s': use RGBA8, BGRA8, R8, R32F or hex", v);
	} else if (!strcmp(a, "--width")) {
		if (!parse_u64(v, &n) || !n || n > VIEWER_BUF_MAX_WIDTH)
			return bad_usage("--width '%s': 1 to 8192 pixels", v);
		bv->width = (uint32_t)n;
	} else if (!parse_u64(v, &n) || n > VIEWER_BUF_MAX_BYTES) {
		return bad_usage("%s: a byte count up to 64 MiB", a);
	} else if (!strcmp(a, "--stride")) {
		bv->stride = n;
	} else {
		bv->offset = n;
	}
	return -1;
}

/* Parses argv; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct view_options *o)
{
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("magma-view %s (trace format version 2)\n", VIEW_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "--test-input")) {
			o->test_input = true;
			continue;
		} else if (a[0] == '-' && a[1]) {
			if (strcmp(a, "--screenshot") && strcmp(a, "--attach") &&
			    strcmp(a, "--view") && strcmp(a, "--at") && strcmp(a, "--fault") &&
			    strcmp(a, "--size") && strcmp(a, "--format") && strcmp(a, "--width") &&
			    strcmp(a, "--stride") && strcmp(a, "--offset") && strcmp(a, "--cycles"))
				return bad_usage("unknown option '%s'", a);
			if (!v)
				return bad_usage("%s needs a value", a);
			i++;
			if (!strcmp(a, "--screenshot")) {
				o->screenshot = v;
			} else if (!strcmp(a, "--attach")) {
				o->attach = v;
			} else if (!strcmp(a, "--view")) {
				if (!strcmp(v, "timeline"))
					o->view = VIEWER_VIEW_TIMELINE;
				else if (!strcmp(v, "memory"))
					o->view = VIEWER_VIEW_MEMORY;
				else if (!strcmp(v, "chain"))
					o->view = VIEWER_VIEW_CHAIN;
				else if (!strncmp(v, "buffer:", 7) &&
					 parse_u64(v + 7, &o->buffer_id))
					o->view = VIEWER_VIEW_BUFFER;
				else
					return bad_usage(
						"--view '%s': use timeline, memory, chain or "
						"buffer:ID",
						v);
			} else if (!strcmp(a, "--format") || !strcmp(a, "--width") ||
				   !strcmp(a, "--stride") || !strcmp(a, "--offset")) {
				ret = parse_buffer_option(a, v, &o->buffer);
				if (ret >= 0)
					return ret;
			} else if (!strcmp(a, "--cycles")) {
				char *colon = strchr(v, ':');

				if (!colon || (*colon = '\0', !parse_u64(v, &o->cycle0)) ||
				    !parse_u64(colon + 1, &o->cycle1) || o->cycle1 <= o->cycle0)
					return bad_usage(
						"--cycles '%s': use START:END with START < END",
						colon ? (*colon = ':', v) : v);
			} else if (!strcmp(a, "--at")) {
				if (!parse_u64(v, &o->at))
					return bad_usage("--at '%s': not an event index", v);
				o->has_at = true;
			} else if (!strcmp(a, "--fault")) {
				if (!parse_u64(v, &n) || !n || n > 1000000000)
					return bad_usage("--fault '%s': a fault number from 1", v);
				o->fault = (long)n;
			} else if (!parse_size(v, &o->width, &o->height)) {
				return bad_usage("--size '%s': use WxH, 320x240 to 8192x8192", v);
			}
		} else if (o->trace) {
			return bad_usage("one trace only ('%s' is a second one)", a);
		} else {
			o->trace = a;
		}
	}
	if (o->trace && o->attach)
		return bad_usage("--attach '%s' shows a live device, not a file too", o->attach);
	if (!o->trace && !o->attach)
		return bad_usage("%s", "no trace given");
	return -1;
}

/* Applies --view, --at and --fault to @st. Returns 0 or EXIT_BAD_INPUT with a message. */
static int apply_options(const struct view_options *o, const struct viewer_model *m,
			 struct viewer_state *st)
{
	st->view = o->view;
	if (o->has_at) {
		if (o->at >= m->event_count) {
			fprintf(stderr,
				"magma-view: --at %" PRIu64 ": %s has %" PRIu64
				" events (0 to %" PRIu64 ")\n",
				o->at, o->trace, m->event_count,
				m->event_count ? m->event_count - 1 : 0);
			return EXIT_BAD_INPUT;
		}
		viewer_state_set_cursor(st, m, o->at);
	}
	if (o->view == VIEWER_VIEW_BUFFER) {
		st->bufview->buffer = viewer_buffer_find(m, o->buffer_id, st->cursor);
		if (st->bufview->buffer < 0) {
			fprintf(stderr,
				"magma-view: --view buffer:%" PRIu64
				": %s has no buffer with id %" PRIu64 "\n",
				o->buffer_id, o->trace, o->buffer_id);
			return EXIT_BAD_INPUT;
		}
	}
	if (o->fault) {
		if ((size_t)o->fault > m->fault_count) {
			fprintf(stderr, "magma-view: --fault %ld: %s has %zu fault%s\n", o->fault,
				o->trace, m->fault_count, m->fault_count == 1 ? "" : "s");
			return EXIT_BAD_INPUT;
		}
		st->fault = (int)o->fault - 1;
		if (!o->has_at)
			viewer_state_set_cursor(st, m, m->faults[st->fault].seq);
		st->fault = (int)o->fault - 1;
	}
	if (o->cycle1) {
		st->t0 = (double)o->cycle0;
		st->t1 = (double)o->cycle1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct view_options o = {.width = 1600, .height = 900};
	struct viewer_model *m;
	struct viewer_state st;
	char err[1024], msg[1024];
	int ret;

	viewer_buffer_view_init(&o.buffer);
	ret = parse_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (o.attach || viewer_report_is_report(o.trace)) { /* the pages: viewer_page.h */
		ret = o.attach ? viewer_live_main(o.attach, o.screenshot, o.width, o.height,
						  o.test_input)
			       : viewer_report_main(o.trace, o.screenshot, o.width, o.height,
						    o.test_input);
		viewer_buffer_view_fini(&o.buffer);
		if (TTF_WasInit())
			TTF_Quit();
		SDL_Quit();
		return ret;
	}
	m = viewer_model_load(o.trace, msg, sizeof(msg));
	if (!m)
		fprintf(stderr, "magma-view: %s: %s\n", o.trace, msg);
	viewer_state_init(&st, m);
	st.bufview = &o.buffer;
	if (m) {
		ret = apply_options(&o, m, &st);
		if (ret) {
			viewer_model_destroy(m);
			viewer_buffer_view_fini(&o.buffer);
			return ret;
		}
	}
	if (o.screenshot) {
		if (viewer_screenshot_write(m, msg, &st, o.width, o.height, o.screenshot, err,
					    sizeof(err))) {
			fprintf(stderr, "magma-view: %s\n", err);
			ret = EXIT_HOST;
		} else {
			ret = m ? EXIT_OK : EXIT_BAD_INPUT;
		}
	} else {
		ret = viewer_app_run(m, msg, &st, o.width, o.height, o.test_input, err,
				     sizeof(err));
		if (ret == EXIT_HOST)
			fprintf(stderr, "magma-view: %s\n", err);
		else if (!m && !ret)
			ret = EXIT_BAD_INPUT;
	}
	viewer_model_destroy(m);
	viewer_buffer_view_fini(&o.buffer);
	if (TTF_WasInit())
		TTF_Quit();
	SDL_Quit();
	return ret;
}

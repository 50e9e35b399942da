/* SPDX-License-Identifier: MIT */
/*
 * viewer_page.c - pages (viewer_page.h): headless rendering through the same software-renderer
 * path as trace screenshots (viewer_screenshot.c), and the window loop of a page.
 *
 * The loop waits for input at most as long as the page's tick asks (a live device polls every
 * 250 ms), so a page that changes on its own is redrawn without input. It does not handle the
 * trace views' keys: a page has its own few. With --test-input the same loop runs the page's
 * scripted walk (viewer_page_script.c), checked after each frame is drawn and before it is
 * presented. The main thread, as SDL wants for windows.
 */
#include <stdio.h>

#include "viewer_app.h"
#include "viewer_page.h"
#include "viewer_page_script.h"

#define PAGE_WAIT_MS	    500 /* a page without a tick changes only on input */
#define PAGE_SCRIPT_WAIT_MS 20

static void draw_page(struct viewer_render *vr, void *ctx)
{
	const struct viewer_page *page = ctx;

	page->draw(vr, page->ctx);
}

/* viewer_page_render - see viewer_page.h. */
SDL_Surface *viewer_page_render(const struct viewer_page *page, int width, int height, char *err,
				size_t err_size)
{
	return viewer_surface_render(draw_page, (void *)page, width, height, err, err_size);
}

/* viewer_page_screenshot - see viewer_page.h. */
int viewer_page_screenshot(const struct viewer_page *page, int width, int height, const char *path,
			   char *err, size_t err_size)
{
	SDL_Surface *s = viewer_page_render(page, width, height, err, err_size);
	int ret;

	if (!s)
		return -1;
	ret = viewer_surface_save_png(s, path, err, err_size);
	SDL_FreeSurface(s);
	return ret;
}

/* Applies one event; returns true to quit. */
static bool handle_event(const struct viewer_page *page, SDL_Window *win, struct viewer_render *vr,
			 const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_QUIT:
		return true;
	case SDL_KEYDOWN:
		if (ev->key.keysym.sym == SDLK_ESCAPE || ev->key.keysym.sym == SDLK_q)
			return true;
		if (page->key)
			page->key(page->ctx, ev->key.keysym.sym);
		return false;
	case SDL_MOUSEWHEEL:
		if (page->key && ev->wheel.y)
			page->key(page->ctx, ev->wheel.y > 0 ? SDLK_UP : SDLK_DOWN);
		return false;
	case SDL_MOUSEBUTTONDOWN:
		if (page->click && ev->button.button == SDL_BUTTON_LEFT)
			page->click(page->ctx, win, vr->width, vr->height, ev->button.x,
				    ev->button.y);
		return false;
	default:
		return false;
	}
}

/* viewer_page_run - see viewer_page.h. */
int viewer_page_run(const struct viewer_page *page, const char *title, int width, int height,
		    bool scripted, char *err, size_t err_size)
{
	struct viewer_page_script *script = NULL;
	struct viewer_window w;
	bool quit = false;
	int ret;

	if (scripted && !page->walk) {
		snprintf(err, err_size, "--test-input: this page has no scripted walk");
		return 3;
	}
	ret = viewer_window_open(&w, title, width, height, err, err_size);
	if (ret)
		return ret;
	if (scripted) {
		script = viewer_page_script_create(page, w.win);
		if (!script) {
			snprintf(err, err_size, "out of memory");
			ret = 3;
			goto out;
		}
	}
	for (;;) {
		int wait = page->tick ? page->tick(page->ctx) : PAGE_WAIT_MS;
		int ww = 0, hh = 0;
		SDL_Event ev;

		if (script && wait > PAGE_SCRIPT_WAIT_MS)
			wait = PAGE_SCRIPT_WAIT_MS;
		if (SDL_WaitEventTimeout(&ev, wait > 0 ? wait : 1)) {
			quit = handle_event(page, w.win, &w.vr, &ev);
			while (!quit && SDL_PollEvent(&ev))
				quit = handle_event(page, w.win, &w.vr, &ev);
		}
		if (!SDL_GetRendererOutputSize(w.renderer, &ww, &hh) && ww > 0 && hh > 0) {
			w.vr.width = ww;
			w.vr.height = hh;
		}
		page->draw(&w.vr, page->ctx);
		if (script && viewer_page_script_tick(script, &w.vr, quit)) {
			ret = viewer_page_script_failed(script) ? 1 : 0;
			break;
		}
		if (quit)
			break;
		SDL_RenderPresent(w.renderer);
	}
	viewer_page_script_destroy(script);
out:
	viewer_window_close(&w);
	return ret;
}

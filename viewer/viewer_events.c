/* SPDX-License-Identifier: MIT */
/* viewer_events.c - synthetic input for the scripted window walks (viewer_events.h). */
#include <stdio.h>

#include "viewer_events.h"

void viewer_push_text(const char *text)
{
	SDL_Event ev = {.type = SDL_TEXTINPUT};

	snprintf(ev.text.text, sizeof(ev.text.text), "%s", text);
	SDL_PushEvent(&ev);
}

void viewer_push_key(SDL_Keycode key)
{
	SDL_Event ev = {.type = SDL_KEYDOWN};

	ev.key.state = SDL_PRESSED;
	ev.key.keysym.sym = key;
	SDL_PushEvent(&ev);
	ev.type = SDL_KEYUP;
	ev.key.state = SDL_RELEASED;
	SDL_PushEvent(&ev);
}

void viewer_push_motion(SDL_Window *win, int x, int y)
{
	SDL_Event ev = {.type = SDL_MOUSEMOTION};

	ev.motion.windowID = SDL_GetWindowID(win);
	ev.motion.x = x;
	ev.motion.y = y;
	SDL_PushEvent(&ev);
}

/* viewer_push_click - see viewer_events.h. */
void viewer_push_click(SDL_Window *win, int x, int y)
{
	SDL_Event ev = {.type = SDL_MOUSEBUTTONDOWN};

	viewer_push_motion(win, x, y);
	ev.button.windowID = SDL_GetWindowID(win);
	ev.button.button = SDL_BUTTON_LEFT;
	ev.button.state = SDL_PRESSED;
	ev.button.clicks = 1;
	ev.button.x = x;
	ev.button.y = y;
	SDL_PushEvent(&ev);
	ev.type = SDL_MOUSEBUTTONUP;
	ev.button.state = SDL_RELEASED;
	SDL_PushEvent(&ev);
}

void viewer_push_wheel(SDL_Window *win, int y)
{
	SDL_Event ev = {.type = SDL_MOUSEWHEEL};

	ev.wheel.windowID = SDL_GetWindowID(win);
	ev.wheel.y = y;
	SDL_PushEvent(&ev);
}

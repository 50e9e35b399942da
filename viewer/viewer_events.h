/* SPDX-License-Identifier: MIT */
/*
 * viewer_events.h - synthetic input for the scripted window walks (--test-input): key presses,
 * text, pointer motion, clicks and wheel turns pushed onto SDL's event queue as a user's would
 * arrive. Call from the thread that runs the window's event loop.
 */
#ifndef VIEWER_EVENTS_H
#define VIEWER_EVENTS_H

#include <SDL.h>

void viewer_push_text(const char *text);
void viewer_push_key(SDL_Keycode key);
void viewer_push_motion(SDL_Window *win, int x, int y);
/* viewer_push_click - motion to (@x, @y), then a left-button press and release there. */
void viewer_push_click(SDL_Window *win, int x, int y);
void viewer_push_wheel(SDL_Window *win, int y);

#endif /* VIEWER_EVENTS_H */

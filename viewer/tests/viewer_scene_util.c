/* SPDX-License-Identifier: MIT */
/* viewer_scene_util.c - see viewer_scene_util.h. */
#include <stdio.h>

#include "viewer_scene_util.h"

/* scene_load - see viewer_scene_util.h. */
struct viewer_model *scene_load(const char *dir, const char *name)
{
	char path[512], err[1024];
	struct viewer_model *m;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	m = viewer_model_load(path, err, sizeof(err));
	if (!m)
		fprintf(stderr, "%s: %s\n", path, err);
	return m;
}

/* scene_render - see viewer_scene_util.h. */
SDL_Surface *scene_render(const struct viewer_model *m, const struct viewer_state *st)
{
	char err[512];
	SDL_Surface *s =
		viewer_scene_render(m, "test error", st, SCENE_W, SCENE_H, err, sizeof(err));

	if (!s)
		fprintf(stderr, "render: %s\n", err);
	return s;
}

/* scene_pixel - see viewer_scene_util.h. */
SDL_Color scene_pixel(SDL_Surface *s, int x, int y)
{
	Uint32 v;
	SDL_Color c = {0, 0, 0, 255};

	if (x < 0 || y < 0 || x >= s->w || y >= s->h)
		return c;
	v = ((const Uint32 *)((const Uint8 *)s->pixels + y * s->pitch))[x];
	SDL_GetRGBA(v, s->format, &c.r, &c.g, &c.b, &c.a);
	return c;
}

/* scene_same - see viewer_scene_util.h. */
bool scene_same(SDL_Color a, SDL_Color b)
{
	return a.r == b.r && a.g == b.g && a.b == b.b;
}

/* scene_render_for - see viewer_scene_util.h. */
int scene_render_for(struct viewer_render *vr)
{
	char err[512];

	if (viewer_render_init(vr, NULL, SCENE_W, SCENE_H, err, sizeof(err))) {
		fprintf(stderr, "fonts: %s\n", err);
		return -1;
	}
	return 0;
}

/* scene_render_done - see viewer_scene_util.h. */
void scene_render_done(struct viewer_render *vr)
{
	viewer_render_fini(vr);
}

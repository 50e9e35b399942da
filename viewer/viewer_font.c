/* SPDX-License-Identifier: MIT */
/*
 * viewer_font.c - finding the DejaVu fonts magma-view draws with.
 *
 * Debian's fonts-dejavu-core puts them in /usr/share/fonts/truetype/dejavu; other distributions
 * use other folders, so a short list of known places is tried, after $MAGMA_VIEW_FONT_DIR when
 * it is set. Nothing asks fontconfig: the viewer must draw the same pixels everywhere, which is
 * what the scene tests rely on. Any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "viewer_render.h"

/* viewer_font_find - see viewer_render.h. */
int viewer_font_find(bool mono, char *out, size_t size)
{
	static const char *const dirs[] = {
		"/usr/share/fonts/truetype/dejavu", /* Debian, Ubuntu */
		"/usr/share/fonts/dejavu",	    /* Fedora, openSUSE */
		"/usr/share/fonts/TTF",		    /* Arch */
		"/usr/share/fonts/dejavu-sans-fonts",
		"/usr/local/share/fonts/dejavu",
	};
	const char *file = mono ? "DejaVuSansMono.ttf" : "DejaVuSans.ttf";
	const char *env = getenv("MAGMA_VIEW_FONT_DIR");

	if (env && env[0]) {
		snprintf(out, size, "%s/%s", env, file);
		if (!access(out, R_OK))
			return 0;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, size, "%s/%s", dirs[i], file);
		if (!access(out, R_OK))
			return 0;
	}
	snprintf(out, size, "%s", file);
	return -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * viewer_buffer.h - the buffer view: one buffer of the trace at the selected event, as an image
 * (RGBA8, BGRA8, R8 grey, R32F grey ramp; width in pixels and stride in bytes set by the user)
 * or as a hex dump. Its contents are exact: the trace is replayed on an embedded device up to
 * the event (trace_replay_run with stop_at and on_stop; no second replay engine) and the
 * buffer is read there. One replay per (event, buffer), cached until either changes.
 *
 * struct viewer_buffer_view is owned by whoever made the viewer_state (magma_view.c's main, a
 * test) and reached through viewer_state.bufview; drawing fills its cache, so the replay runs on
 * the thread that draws (blocking it while it runs). The thread that owns the renderer.
 */
#ifndef VIEWER_BUFFER_H
#define VIEWER_BUFFER_H

#include <stdbool.h>
#include <stdint.h>

#include "viewer_view.h"

enum viewer_buffer_format {
	VIEWER_BUF_RGBA8, /* bytes R G B A; A is not blended (pixels are drawn opaque) */
	VIEWER_BUF_BGRA8, /* bytes B G R A */
	VIEWER_BUF_R8,	  /* one grey byte */
	VIEWER_BUF_R32F,  /* little-endian float, grey from the shown minimum to the maximum */
	VIEWER_BUF_FORMAT_COUNT
};

#define VIEWER_BUF_MAX_BYTES (64u << 20) /* read at most this much of a buffer */
#define VIEWER_BUF_MAX_WIDTH 8192	 /* pixels per row */

struct viewer_buffer_view {
	int buffer; /* index into viewer_model.buffers, -1 none chosen */
	enum viewer_buffer_format format;
	bool hex;	 /* a hex dump instead of the image */
	uint32_t width;	 /* pixels per row, >= 1 */
	uint64_t stride; /* bytes per row; 0: width * bytes per pixel */
	uint64_t offset; /* first byte shown */
	int hex_scroll;	 /* hex rows scrolled off the top */

	/* the cache: what the replay read, for (cache_event, cache_buffer) */
	bool cached;
	uint64_t cache_event;
	int cache_buffer;
	uint8_t *data; /* malloc'd, data_size bytes (the buffer, cut at VIEWER_BUF_MAX_BYTES) */
	uint64_t data_size, buffer_size;
	char error[1100]; /* why there are no contents ("" when there are) */
};

/* viewer_buffer_view_init - no buffer, RGBA8, 64 pixels per row, tight stride, offset 0. */
void viewer_buffer_view_init(struct viewer_buffer_view *bv);

/* viewer_buffer_view_fini - free the cache. Safe twice. */
void viewer_buffer_view_fini(struct viewer_buffer_view *bv);

/* viewer_buffer_format_name - "RGBA8" ...; viewer_buffer_format_parse: 0 or -1. Pure. */
const char *viewer_buffer_format_name(enum viewer_buffer_format f);
int viewer_buffer_format_parse(const char *name, enum viewer_buffer_format *out);

/* viewer_buffer_bytes_per_pixel - 4, or 1 for R8. Pure. */
unsigned viewer_buffer_bytes_per_pixel(enum viewer_buffer_format f);

/*
 * viewer_buffer_find - the buffer with recorded id @id: the one alive after event @seq, else the
 * first the trace created with that id. -1 when the trace has none.
 */
int viewer_buffer_find(const struct viewer_model *m, uint64_t id, uint64_t seq);

/*
 * viewer_buffer_open_mapping - the buffer of the memory map's selected mapping (the top row
 * shown: the first live mapping after @st->memory_scroll) into @st->bufview, and switch to the
 * buffer view. Returns 0, or -1 when there is no such mapping (nothing changes).
 */
int viewer_buffer_open_mapping(struct viewer_state *st, const struct viewer_model *m);

/*
 * viewer_buffer_fetch - make @bv's cache hold its buffer after event @seq (replaying the trace
 * when the pair changed). Returns 0, or -1 with bv->error saying why (no buffer chosen,
 * released, bad trace, divergence, out of memory).
 */
int viewer_buffer_fetch(struct viewer_buffer_view *bv, const struct viewer_model *m, uint64_t seq);

/*
 * viewer_buffer_image_rect - where the image of @bv is drawn in a @vr frame, and its size in
 * source pixels (*@cols_out x *@rows_out). Returns 0, or -1 when no image is shown (hex mode, no
 * contents). Call after viewer_buffer_fetch (drawing fetches).
 */
int viewer_buffer_image_rect(const struct viewer_render *vr, const struct viewer_buffer_view *bv,
			     SDL_Rect *out, uint32_t *cols_out, uint32_t *rows_out);

/* viewer_buffer_hex_rect - the area the hex dump is drawn in. */
SDL_Rect viewer_buffer_hex_rect(const struct viewer_render *vr);

/* viewer_buffer_draw - the buffer view (fetches the contents first: may replay). */
void viewer_buffer_draw(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st);

/*
 * viewer_buffer_key - apply a buffer-view key to @bv: f format, x hex, w/W width -1/+1, h/H
 * width /2 x2, s/S stride -/+4 bytes, o/O offset -/+ one row (16 bytes in hex). Returns whether
 * @ch was one of them (the window scrolls the hex dump with Up/Down through bv->hex_scroll).
 */
bool viewer_buffer_key(struct viewer_buffer_view *bv, char ch);

#endif /* VIEWER_BUFFER_H */

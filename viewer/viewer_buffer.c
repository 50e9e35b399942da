/* SPDX-License-Identifier: MIT */
/*
 * viewer_buffer.c - the buffer view (see viewer_buffer.h): a buffer's bytes after the selected
 * event, read from a replay of the trace stopped just after that event, drawn as an image
 * scaled to fit with nearest-neighbour sampling, or as a hex dump with offsets.
 *
 * Contents are those of trace_replay_run's own device: every event up to the selected one is
 * replayed and checked, so a replay that diverges shows the divergence instead of bytes. It
 * does not show what a job still running at that event would write later.
 *
 * The thread that owns the renderer; a fetch blocks it for one replay.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_replay.h"
#include "viewer_buffer.h"

#define BUF_MARGIN   16
#define BUF_MAX_ROWS 8192 /* image rows drawn at most */
#define HEX_PER_ROW  16

static const char *const format_names[VIEWER_BUF_FORMAT_COUNT] = {
	[VIEWER_BUF_RGBA8] = "RGBA8",
	[VIEWER_BUF_BGRA8] = "BGRA8",
	[VIEWER_BUF_R8] = "R8",
	[VIEWER_BUF_R32F] = "R32F",
};

/* viewer_buffer_view_init - see viewer_buffer.h. */
void viewer_buffer_view_init(struct viewer_buffer_view *bv)
{
	memset(bv, 0, sizeof(*bv));
	bv->buffer = -1;
	bv->cache_buffer = -1;
	bv->format = VIEWER_BUF_RGBA8;
	bv->width = 64;
}

/* viewer_buffer_view_fini - see viewer_buffer.h. */
void viewer_buffer_view_fini(struct viewer_buffer_view *bv)
{
	free(bv->data);
	bv->data = NULL;
	bv->data_size = 0;
	bv->cached = false;
}

/* viewer_buffer_format_name - see viewer_buffer.h. */
const char *viewer_buffer_format_name(enum viewer_buffer_format f)
{
	return f < VIEWER_BUF_FORMAT_COUNT ? format_names[f] : "?";
}

/* viewer_buffer_format_parse - see viewer_buffer.h. Case-insensitive. */
int viewer_buffer_format_parse(const char *name, enum viewer_buffer_format *out)
{
	for (int i = 0; i < VIEWER_BUF_FORMAT_COUNT && name; i++) {
		if (!SDL_strcasecmp(name, format_names[i])) {
			*out = (enum viewer_buffer_format)i;
			return 0;
		}
	}
	return -1;
}

/* viewer_buffer_bytes_per_pixel - see viewer_buffer.h. */
unsigned viewer_buffer_bytes_per_pixel(enum viewer_buffer_format f)
{
	return f == VIEWER_BUF_R8 ? 1 : 4;
}

static bool buffer_is_live(const struct viewer_buffer *b, uint64_t seq)
{
	return b->create_seq <= seq && (b->release_seq == VIEWER_NONE || b->release_seq > seq);
}

/* viewer_buffer_find - see viewer_buffer.h. */
int viewer_buffer_find(const struct viewer_model *m, uint64_t id, uint64_t seq)
{
	int first = -1;

	for (size_t i = 0; i < m->buffer_count; i++) {
		if (m->buffers[i].id != id)
			continue;
		if (buffer_is_live(&m->buffers[i], seq))
			return (int)i;
		if (first < 0)
			first = (int)i;
	}
	return first;
}

/* viewer_buffer_open_mapping - see viewer_buffer.h. */
int viewer_buffer_open_mapping(struct viewer_state *st, const struct viewer_model *m)
{
	int live = 0, want = st->memory_scroll > 0 ? st->memory_scroll : 0, last = -1;

	if (!st->bufview)
		return -1;
	for (size_t i = 0; i < m->mapping_count; i++) {
		const struct viewer_mapping *mp = &m->mappings[i];

		if (mp->buffer < 0 || !viewer_model_mapping_is_live(mp, st->cursor))
			continue;
		last = mp->buffer;
		if (live++ == want)
			break;
	}
	if (last < 0)
		return -1;
	st->bufview->buffer = last;
	st->bufview->hex_scroll = 0;
	st->view = VIEWER_VIEW_BUFFER;
	return 0;
}

/* What on_stop reads into: the buffer (recorded connection and id) and the outcome. */
struct fetch_ctx {
	struct viewer_buffer_view *bv;
	uint64_t connection, id;
	int ret;
};

static void fetch_on_stop(void *ctx, const struct trace_replay_access *access)
{
	struct fetch_ctx *f = ctx;
	uint64_t size = 0, n;

	f->ret = trace_replay_buffer_size(access, f->connection, f->id, &size);
	if (f->ret)
		return;
	n = size < VIEWER_BUF_MAX_BYTES ? size : VIEWER_BUF_MAX_BYTES;
	f->bv->data = malloc(n ? (size_t)n : 1);
	if (!f->bv->data) {
		f->ret = -ENOMEM;
		return;
	}
	f->ret = trace_replay_read_buffer(access, f->connection, f->id, 0, n, f->bv->data);
	f->bv->data_size = n;
	f->bv->buffer_size = size;
}

/* viewer_buffer_fetch - see viewer_buffer.h. */
int viewer_buffer_fetch(struct viewer_buffer_view *bv, const struct viewer_model *m, uint64_t seq)
{
	struct trace_replay_options opts;
	struct trace_replay_result *res;
	struct fetch_ctx f = {.bv = bv, .ret = -ENOENT};
	const struct viewer_buffer *b;
	int ret;

	if (bv->cached && bv->cache_event == seq && bv->cache_buffer == bv->buffer)
		return bv->error[0] ? -1 : 0;
	viewer_buffer_view_fini(bv);
	bv->cached = true;
	bv->cache_event = seq;
	bv->cache_buffer = bv->buffer;
	bv->error[0] = '\0';
	bv->buffer_size = 0;
	if (bv->buffer < 0 || (size_t)bv->buffer >= m->buffer_count) {
		snprintf(bv->error, sizeof(bv->error),
			 "no buffer chosen: Enter on the memory map, or --view buffer:ID");
		return -1;
	}
	b = &m->buffers[bv->buffer];
	if (!buffer_is_live(b, seq)) {
		snprintf(bv->error, sizeof(bv->error),
			 "buffer id %" PRIu64 " does not exist after event %" PRIu64
			 " (created at event %" PRIu64 ", released at event %" PRId64 ")",
			 b->id, seq, b->create_seq,
			 b->release_seq == VIEWER_NONE ? (int64_t)-1 : (int64_t)b->release_seq);
		return -1;
	}
	res = malloc(sizeof(*res)); /* 1 KiB of message: not on the stack of a draw */
	if (!res) {
		snprintf(bv->error, sizeof(bv->error), "out of memory");
		return -1;
	}
	f.connection = b->connection >= 0 && (size_t)b->connection < m->connection_count
			       ? m->connections[b->connection].handle
			       : TRACE_REPLAY_ANY_CONNECTION;
	f.id = b->id;
	trace_replay_default_options(&opts);
	opts.stop_at = seq + 1; /* contents after event @seq ran */
	opts.on_stop = fetch_on_stop;
	opts.stop_ctx = &f;
	ret = trace_replay_run(m->path, &opts, res);
	if (ret != TRACE_REPLAY_OK)
		snprintf(bv->error, sizeof(bv->error), "replay to event %" PRIu64 " failed: %s",
			 seq, res->message);
	else if (res->stopped_at == UINT64_MAX)
		snprintf(bv->error, sizeof(bv->error), "the replay ended before event %" PRIu64,
			 seq);
	else if (f.ret)
		snprintf(bv->error, sizeof(bv->error),
			 "buffer id %" PRIu64 " cannot be read in the replay: %s", b->id,
			 strerror(-f.ret));
	free(res);
	if (bv->error[0]) {
		viewer_buffer_view_fini(bv);
		bv->cached = true;
		return -1;
	}
	return 0;
}

/* Bytes per row for @bv's image. */
static uint64_t row_bytes(const struct viewer_buffer_view *bv)
{
	uint64_t tight = (uint64_t)bv->width * viewer_buffer_bytes_per_pixel(bv->format);

	return bv->stride ? bv->stride : tight;
}

static int content_top(const struct viewer_render *vr)
{
	return VIEWER_HEADER_H + 12 + 2 * (vr->line_height + 6) + 6;
}

/* viewer_buffer_image_rect - see viewer_buffer.h. */
int viewer_buffer_image_rect(const struct viewer_render *vr, const struct viewer_buffer_view *bv,
			     SDL_Rect *out, uint32_t *cols_out, uint32_t *rows_out)
{
	uint64_t avail, stride = row_bytes(bv), rows;
	int top = content_top(vr), aw = vr->width - 2 * BUF_MARGIN;
	int ah = vr->height - VIEWER_FOOTER_H - 10 - top;
	double scale;

	if (bv->hex || !bv->data || bv->offset >= bv->data_size || !bv->width || aw <= 0 || ah <= 0)
		return -1;
	avail = bv->data_size - bv->offset;
	rows = avail / stride + (avail % stride ? 1 : 0);
	if (rows > BUF_MAX_ROWS)
		rows = BUF_MAX_ROWS;
	scale = fmin((double)aw / bv->width, (double)ah / (double)rows);
	if (scale >= 1)
		scale = floor(scale); /* whole pixels: every source pixel the same size */
	*out = (SDL_Rect){BUF_MARGIN, top, (int)fmax(1, bv->width * scale),
			  (int)fmax(1, (double)rows * scale)};
	*cols_out = bv->width;
	*rows_out = (uint32_t)rows;
	return 0;
}

/* viewer_buffer_hex_rect - see viewer_buffer.h. */
SDL_Rect viewer_buffer_hex_rect(const struct viewer_render *vr)
{
	int top = content_top(vr);

	return (SDL_Rect){BUF_MARGIN, top, vr->width - 2 * BUF_MARGIN,
			  vr->height - VIEWER_FOOTER_H - 10 - top};
}

static float float_at(const uint8_t *p)
{
	float f;

	memcpy(&f, p, sizeof(f));
	return f;
}

/* The ARGB8888 pixel of the bytes at @p for @fmt (R32F through [@lo, @hi]). */
static uint32_t pixel_of(enum viewer_buffer_format fmt, const uint8_t *p, float lo, float hi)
{
	uint32_t g;
	float f;

	switch (fmt) {
	case VIEWER_BUF_BGRA8:
		return 0xff000000u | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case VIEWER_BUF_R8:
		return 0xff000000u | (uint32_t)p[0] * 0x010101u;
	case VIEWER_BUF_R32F:
		f = float_at(p);
		if (!isfinite(f))
			return 0xffff00ffu; /* NaN, infinities: magenta */
		g = hi > lo ? (uint32_t)lrintf((f - lo) / (hi - lo) * 255.0f) : 128;
		return 0xff000000u | g * 0x010101u;
	case VIEWER_BUF_RGBA8:
	case VIEWER_BUF_FORMAT_COUNT:
		break;
	}
	return 0xff000000u | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* The R32F range of the shown floats into *@lo, *@hi (finite ones only). */
static void float_range(const struct viewer_buffer_view *bv, uint32_t rows, float *lo, float *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (uint64_t y = 0; y < rows; y++) {
		for (uint64_t x = 0; x < bv->width; x++) {
			uint64_t at = bv->offset + y * row_bytes(bv) + x * 4;
			float f;

			if (at + 4 > bv->data_size)
				break;
			f = float_at(bv->data + at);
			if (isfinite(f)) {
				*lo = fminf(*lo, f);
				*hi = fmaxf(*hi, f);
			}
		}
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

static void draw_image(struct viewer_render *vr, const struct viewer_buffer_view *bv, char *note,
		       size_t note_size)
{
	unsigned bpp = viewer_buffer_bytes_per_pixel(bv->format);
	uint32_t cols, rows, *pixels;
	float lo = 0, hi = 0;
	SDL_Texture *tex;
	SDL_Rect dst = {0};

	if (viewer_buffer_image_rect(vr, bv, &dst, &cols, &rows)) {
		snprintf(note, note_size, "nothing to show: offset %" PRIu64 " is past the end",
			 bv->offset);
		return;
	}
	pixels = malloc((size_t)cols * rows * sizeof(*pixels));
	if (!pixels) {
		snprintf(note, note_size, "out of memory for a %ux%u image", cols, rows);
		return;
	}
	if (bv->format == VIEWER_BUF_R32F)
		float_range(bv, rows, &lo, &hi);
	for (uint64_t y = 0; y < rows; y++) {
		for (uint64_t x = 0; x < cols; x++) {
			uint64_t at = bv->offset + y * row_bytes(bv) + x * bpp;

			/* past the end of the buffer: the panel colour, not a pixel */
			pixels[y * cols + x] =
				at + bpp <= bv->data_size
					? pixel_of(bv->format, bv->data + at, lo, hi)
					: 0xff000000u | (uint32_t)viewer_color_panel.r << 16 |
						  (uint32_t)viewer_color_panel.g << 8 |
						  viewer_color_panel.b;
		}
	}
	tex = SDL_CreateTexture(vr->renderer, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC,
				(int)cols, (int)rows);
	if (tex && !SDL_UpdateTexture(tex, NULL, pixels, (int)(cols * sizeof(*pixels)))) {
		SDL_SetTextureScaleMode(tex, SDL_ScaleModeNearest);
		SDL_RenderCopy(vr->renderer, tex, NULL, &dst);
		viewer_outline(vr, dst.x - 1, dst.y - 1, dst.w + 2, dst.h + 2, viewer_color_grid);
	} else {
		snprintf(note, note_size, "cannot draw a %ux%u image: %s", cols, rows,
			 SDL_GetError());
	}
	if (!note[0] && bv->format == VIEWER_BUF_R32F)
		snprintf(note, note_size, "R32F: black %g, white %g", (double)lo, (double)hi);
	SDL_DestroyTexture(tex);
	free(pixels);
}

static void draw_hex(struct viewer_render *vr, const struct viewer_buffer_view *bv)
{
	SDL_Rect area = viewer_buffer_hex_rect(vr);
	int line = TTF_FontLineSkip(vr->mono), rows = line > 0 ? area.h / line : 0;
	uint64_t start =
		bv->offset + (uint64_t)(bv->hex_scroll > 0 ? bv->hex_scroll : 0) * HEX_PER_ROW;
	char text[16 + HEX_PER_ROW * 4 + 8];

	for (int i = 0; i < rows; i++) {
		uint64_t at = start + (uint64_t)i * HEX_PER_ROW;
		int len;

		if (at >= bv->data_size)
			break;
		len = snprintf(text, sizeof(text), "%08" PRIx64 " ", at);
		for (int k = 0; k < HEX_PER_ROW; k++)
			len += snprintf(text + len, sizeof(text) - (size_t)len,
					at + k < bv->data_size ? " %02x" : "   ",
					at + k < bv->data_size ? bv->data[at + k] : 0);
		len += snprintf(text + len, sizeof(text) - (size_t)len, "  ");
		for (int k = 0; k < HEX_PER_ROW && at + k < bv->data_size; k++) {
			uint8_t c = bv->data[at + k];

			text[len++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		text[len] = '\0';
		viewer_text(vr, area.x, area.y + i * line, viewer_color_text, true, area.w, text);
	}
}

/* viewer_buffer_draw - see viewer_buffer.h. */
void viewer_buffer_draw(struct viewer_render *vr, const struct viewer_model *m,
			const struct viewer_state *st)
{
	struct viewer_buffer_view *bv = st->bufview;
	int y = VIEWER_HEADER_H + 12;
	char title[400], note[200] = "";
	const struct viewer_buffer *b;

	if (!bv) {
		viewer_text(vr, BUF_MARGIN, y, viewer_color_text_dim, false, 0,
			    "the buffer view is not available here");
		return;
	}
	viewer_buffer_fetch(bv, m, st->cursor);
	b = bv->buffer >= 0 && (size_t)bv->buffer < m->buffer_count ? &m->buffers[bv->buffer]
								    : NULL;
	if (b)
		snprintf(title, sizeof(title),
			 "buffer id %" PRIu64 "%s%s%s (connection #%u)  |  %" PRIu64
			 " bytes  |  after event %" PRIu64,
			 b->id, b->name[0] ? " '" : "", b->name, b->name[0] ? "'" : "",
			 b->connection >= 0 && (size_t)b->connection < m->connection_count
				 ? m->connections[b->connection].number
				 : 0,
			 b->size, st->cursor);
	else
		snprintf(title, sizeof(title), "no buffer  |  after event %" PRIu64, st->cursor);
	viewer_text(vr, BUF_MARGIN, y, viewer_color_text, false, vr->width - 2 * BUF_MARGIN, title);
	y += vr->line_height + 6;
	if (bv->hex)
		snprintf(title, sizeof(title),
			 "hex from offset %" PRIu64 "  |  x image  o O offset  Up Down scroll",
			 bv->offset);
	else
		snprintf(title, sizeof(title),
			 "%s  %u px wide, stride %" PRIu64 " bytes, offset %" PRIu64
			 "  |  f format  w W h H width  s S stride  o O offset  x hex",
			 viewer_buffer_format_name(bv->format), bv->width, row_bytes(bv),
			 bv->offset);
	viewer_text(vr, BUF_MARGIN, y, viewer_color_text_dim, false, vr->width - 2 * BUF_MARGIN,
		    title);
	if (bv->error[0]) {
		viewer_text_wrapped(vr, BUF_MARGIN, content_top(vr), viewer_color_fault, false,
				    vr->width - 2 * BUF_MARGIN, 4, bv->error);
		return;
	}
	if (bv->hex)
		draw_hex(vr, bv);
	else
		draw_image(vr, bv, note, sizeof(note));
	if (note[0])
		viewer_text(vr, BUF_MARGIN, vr->height - VIEWER_FOOTER_H - 8 - vr->line_height,
			    viewer_color_text_dim, false, 0, note);
}

/* viewer_buffer_key - see viewer_buffer.h. */
bool viewer_buffer_key(struct viewer_buffer_view *bv, char ch)
{
	uint64_t step = bv->hex ? HEX_PER_ROW : row_bytes(bv);

	switch (ch) {
	case 'f':
		bv->format =
			(enum viewer_buffer_format)((bv->format + 1) % VIEWER_BUF_FORMAT_COUNT);
		break;
	case 'x':
		bv->hex = !bv->hex;
		break;
	case 'w':
		bv->width = bv->width > 1 ? bv->width - 1 : 1;
		break;
	case 'W':
		bv->width = bv->width < VIEWER_BUF_MAX_WIDTH ? bv->width + 1 : bv->width;
		break;
	case 'h':
		bv->width = bv->width > 1 ? bv->width / 2 : 1;
		break;
	case 'H':
		bv->width = bv->width * 2 <= VIEWER_BUF_MAX_WIDTH ? bv->width * 2 : bv->width;
		break;
	case 's':
		bv->stride = bv->stride > 4 ? bv->stride - 4 : 0; /* 0: tight */
		break;
	case 'S':
		bv->stride = (bv->stride ? bv->stride : row_bytes(bv)) + 4;
		break;
	case 'o':
		bv->offset = bv->offset > step ? bv->offset - step : 0;
		break;
	case 'O':
		bv->offset =
			bv->offset + step < VIEWER_BUF_MAX_BYTES ? bv->offset + step : bv->offset;
		break;
	default:
		return false;
	}
	return true;
}

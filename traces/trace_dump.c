/* SPDX-License-Identifier: MIT */
/*
 * trace_dump.c - magma-trace dump: a buffer's exact contents after an event of a trace
 * (docs/trace-tools.md, "dump").
 *
 * The trace is replayed up to the event (trace_replay_run with stop_at just after it, as
 * magma-view's buffer view does) and on_stop reads the buffer through the replay's own handle,
 * 64 KiB at a time, straight into the output: a hex dump (hexdump -C style, repeated lines
 * folded into "*"), the raw bytes, or a PNG (trace_png.c) of W x H pixels in one of a few
 * formats. Memory is a chunk or an image row, whatever the buffer's size. Contents are the
 * replay's: every event up to N is replayed and checked, so a trace that diverges before N
 * reports the divergence instead of bytes, and work still running at N is not waited for (what
 * it writes later is not shown). Single-threaded (the replay's device has its own threads).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "trace_tool.h"
#include "traces/trace_replay.h"

#define DUMP_CHUNK (64u * 1024)

enum dump_mode { DUMP_HEX, DUMP_RAW, DUMP_PNG };

/* Image formats: bytes per pixel in the buffer and the PNG it becomes. */
static const struct dump_format {
	const char *name;
	unsigned bpp;
	enum tt_png_color color;
	const char *what;
} dump_formats[] = {
	{"rgba8", 4, TT_PNG_RGBA8, "R, G, B, A bytes"},
	{"bgra8", 4, TT_PNG_RGBA8, "B, G, R, A bytes"},
	{"r8", 1, TT_PNG_GRAY8, "one grey byte"},
	{"r32f", 4, TT_PNG_RGB8,
	 "float32, smallest finite value black, largest white, NaN/inf magenta"},
	{"r32ui", 4, TT_PNG_GRAY8, "uint32, smallest value black, largest white"},
};

struct dump {
	const char *path, *out_path;
	uint64_t at, buffer, connection;
	uint64_t offset, length;
	bool have_at, have_buffer, have_length;
	enum dump_mode mode;
	uint32_t width, height;
	const struct dump_format *format;
	FILE *out;
	/* the outcome of on_stop */
	int ret;
	char error[512];
	uint64_t size, written;
	double lo, hi; /* r32f / r32ui scale */
};

static int usage(void)
{
	fprintf(stderr, "usage: magma-trace dump TRACE --at N --buffer ID [--connection C]\n"
			"                        [--hex | --raw | --png W H FORMAT] [--offset O]\n"
			"                        [--length L] [-o FILE]\n"
			"(magma-trace dump --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-trace dump TRACE --at N --buffer ID [--connection C]\n"
	       "                        [--hex | --raw | --png W H FORMAT] [--offset O]\n"
	       "                        [--length L] [-o FILE]\n"
	       "\n"
	       "Prints a buffer's exact contents after event N of TRACE ran, read from a replay\n"
	       "of TRACE stopped there (what magma-view's buffer view shows at event N).\n"
	       "  --at N          the event (0 .. the end event's index)\n"
	       "  --buffer ID     the buffer id the trace recorded (create_buffer's out.id)\n"
	       "  --connection C  the recorded connection handle, when ids repeat across\n"
	       "                  connections (default: the first buffer of that id)\n"
	       "  --hex           a hex dump, identical lines folded into \"*\" (the default)\n"
	       "  --raw           the bytes themselves (not to a terminal: redirect or -o)\n"
	       "  --png W H FMT   a W x H PNG image (needs -o); FMT is one of:\n");
	for (size_t i = 0; i < sizeof(dump_formats) / sizeof(dump_formats[0]); i++)
		printf("                    %-6s %u bytes a pixel: %s\n", dump_formats[i].name,
		       dump_formats[i].bpp, dump_formats[i].what);
	printf("  --offset O      start at byte O of the buffer (default 0)\n"
	       "  --length L      at most L bytes (--hex, --raw; default: to the end)\n"
	       "  -o FILE         write to FILE instead of standard output\n"
	       "  --help          this text\n"
	       "Exit status: 0 written, 1 TRACE diverges in its replay before event N, 2 bad\n"
	       "input (bad trace, N beyond the trace, no such buffer at N, range outside the\n"
	       "buffer, bad options), 3 host error (FILE cannot be written, out of memory).\n");
}

static int bad_number(const char *opt, const char *value)
{
	fprintf(stderr, "magma-trace dump: %s '%s' is not a valid number\n", opt, value);
	return usage();
}

static int parse_args(struct dump *d, int argc, char **argv, bool *help_out)
{
	bool have_mode = false;

	*help_out = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help_out = true;
			return 0;
		} else if (!strcmp(a, "--at") && v) {
			if (!tt_parse_u64(v, &d->at))
				return bad_number(a, v);
			d->have_at = true;
			i++;
		} else if (!strcmp(a, "--buffer") && v) {
			if (!tt_parse_u64(v, &d->buffer))
				return bad_number(a, v);
			d->have_buffer = true;
			i++;
		} else if (!strcmp(a, "--connection") && v) {
			if (!tt_parse_u64(v, &d->connection))
				return bad_number(a, v);
			i++;
		} else if (!strcmp(a, "--offset") && v) {
			if (!tt_parse_u64(v, &d->offset))
				return bad_number(a, v);
			i++;
		} else if (!strcmp(a, "--length") && v) {
			if (!tt_parse_u64(v, &d->length))
				return bad_number(a, v);
			d->have_length = true;
			i++;
		} else if (!strcmp(a, "-o") && v) {
			d->out_path = v;
			i++;
		} else if ((!strcmp(a, "--hex") || !strcmp(a, "--raw")) && !have_mode) {
			d->mode = a[2] == 'h' ? DUMP_HEX : DUMP_RAW;
			have_mode = true;
		} else if (!strcmp(a, "--png") && !have_mode && i + 3 < argc) {
			uint64_t w, h;

			if (!tt_parse_u64(argv[i + 1], &w) || !w || w > 0x7fffffff)
				return bad_number("--png width", argv[i + 1]);
			if (!tt_parse_u64(argv[i + 2], &h) || !h || h > 0x7fffffff)
				return bad_number("--png height", argv[i + 2]);
			for (size_t k = 0; k < sizeof(dump_formats) / sizeof(dump_formats[0]); k++)
				if (!strcasecmp(argv[i + 3], dump_formats[k].name))
					d->format = &dump_formats[k];
			if (!d->format) {
				fprintf(stderr,
					"magma-trace dump: unknown format '%s' (rgba8, bgra8, r8, "
					"r32f, r32ui)\n",
					argv[i + 3]);
				return usage();
			}
			d->width = (uint32_t)w;
			d->height = (uint32_t)h;
			d->mode = DUMP_PNG;
			have_mode = true;
			i += 3;
		} else if (!strcmp(a, "--hex") || !strcmp(a, "--raw") || !strcmp(a, "--png")) {
			fprintf(stderr, "magma-trace dump: %s: %s\n", a,
				have_mode ? "only one of --hex, --raw and --png"
					  : "needs W H FORMAT");
			return usage();
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "magma-trace dump: unknown option or missing value: '%s'\n",
				a);
			return usage();
		} else if (!d->path) {
			d->path = a;
		} else {
			fprintf(stderr, "magma-trace dump: unexpected argument '%s'\n", a);
			return usage();
		}
	}
	if (!d->path || !d->have_at || !d->have_buffer) {
		fprintf(stderr, "magma-trace dump: needs TRACE, --at and --buffer\n");
		return usage();
	}
	if (d->mode == DUMP_PNG && !d->out_path) {
		fprintf(stderr, "magma-trace dump: --png needs -o FILE\n");
		return usage();
	}
	if (d->mode == DUMP_PNG && d->have_length) {
		fprintf(stderr,
			"magma-trace dump: --length does not apply to --png (W x H does)\n");
		return usage();
	}
	if (d->mode == DUMP_RAW && !d->out_path && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "magma-trace dump: refusing to write raw bytes to a terminal: "
				"redirect standard output or use -o FILE\n");
		return TRACE_REPLAY_BAD_INPUT;
	}
	return 0;
}

static void stop_fail(struct dump *d, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void stop_fail(struct dump *d, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	d->ret = ret;
}

/* Reads @len bytes at @offset of the buffer; false (d->ret set) when the replay cannot. */
static bool read_bytes(struct dump *d, const struct trace_replay_access *access, uint64_t offset,
		       uint64_t len, void *buf)
{
	int err = trace_replay_read_buffer(access, d->connection, d->buffer, offset, len, buf);

	if (err)
		stop_fail(d, TRACE_REPLAY_ENV_ERROR, "reading buffer id %" PRIu64 ": %s", d->buffer,
			  strerror(-err));
	return !err;
}

/* One hexdump -C line of @n bytes at buffer offset @at. */
static void hex_line(FILE *f, uint64_t at, const uint8_t *p, size_t n)
{
	fprintf(f, "%08" PRIx64 " ", at);
	for (size_t k = 0; k < 16; k++) {
		if (k == 8)
			fputc(' ', f);
		if (k < n)
			fprintf(f, " %02x", p[k]);
		else
			fputs("   ", f);
	}
	fputs("  |", f);
	for (size_t k = 0; k < n; k++)
		fputc(p[k] >= 0x20 && p[k] < 0x7f ? p[k] : '.', f);
	fputs("|\n", f);
}

static void write_hex_or_raw(struct dump *d, const struct trace_replay_access *access,
			     uint8_t *chunk)
{
	uint8_t prev[16];
	bool have_prev = false, folded = false;

	for (uint64_t done = 0; done < d->length;) {
		size_t n = d->length - done < DUMP_CHUNK ? (size_t)(d->length - done) : DUMP_CHUNK;

		if (!read_bytes(d, access, d->offset + done, n, chunk))
			return;
		if (d->mode == DUMP_RAW) {
			if (fwrite(chunk, 1, n, d->out) != n)
				break;
		}
		for (size_t k = 0; d->mode == DUMP_HEX && k < n; k += 16) {
			size_t len = n - k < 16 ? n - k : 16;

			/* hexdump -C: a full line equal to the one before is folded into "*". */
			if (have_prev && len == 16 && !memcmp(prev, chunk + k, 16)) {
				if (!folded)
					fputs("*\n", d->out);
				folded = true;
				continue;
			}
			hex_line(d->out, d->offset + done + k, chunk + k, len);
			memcpy(prev, chunk + k, len);
			have_prev = len == 16;
			folded = false;
		}
		done += n;
		d->written = done;
	}
	if (d->mode == DUMP_HEX)
		fprintf(d->out, "%08" PRIx64 "\n", d->offset + d->length);
}

static float f32_at(const uint8_t *p)
{
	float f;

	memcpy(&f, p, sizeof(f));
	return f;
}

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The grey level of @v between @lo (black) and @hi (white); 128 when all values are equal. */
static uint8_t grey(double v, double lo, double hi)
{
	return hi > lo ? (uint8_t)lrint((v - lo) / (hi - lo) * 255.0) : 128;
}

/* r32f / r32ui: the smallest and largest (finite) value of the image into d->lo, d->hi. */
static bool scan_range(struct dump *d, const struct trace_replay_access *access, uint8_t *row,
		       uint64_t row_bytes)
{
	bool is_float = !strcmp(d->format->name, "r32f"), any = false;

	d->lo = d->hi = 0;
	for (uint32_t y = 0; y < d->height; y++) {
		if (!read_bytes(d, access, d->offset + y * row_bytes, row_bytes, row))
			return false;
		for (uint32_t x = 0; x < d->width; x++) {
			double v = is_float ? (double)f32_at(row + 4 * x)
					    : (double)u32_at(row + 4 * x);

			if (!isfinite(v))
				continue;
			if (!any || v < d->lo)
				d->lo = v;
			if (!any || v > d->hi)
				d->hi = v;
			any = true;
		}
	}
	return true;
}

/* Converts one row of @d->format at @src into PNG pixels at @dst. */
static void convert_row(const struct dump *d, const uint8_t *src, uint8_t *dst)
{
	const char *f = d->format->name;

	for (uint32_t x = 0; x < d->width; x++) {
		const uint8_t *s = src + (size_t)x * d->format->bpp;

		if (!strcmp(f, "rgba8")) {
			memcpy(dst + 4 * x, s, 4);
		} else if (!strcmp(f, "bgra8")) {
			dst[4 * x] = s[2];
			dst[4 * x + 1] = s[1];
			dst[4 * x + 2] = s[0];
			dst[4 * x + 3] = s[3];
		} else if (!strcmp(f, "r8")) {
			dst[x] = s[0];
		} else if (!strcmp(f, "r32ui")) {
			dst[x] = grey((double)u32_at(s), d->lo, d->hi);
		} else {
			float v = f32_at(s);
			uint8_t g = isfinite(v) ? grey((double)v, d->lo, d->hi) : 0;

			dst[3 * x] = isfinite(v) ? g : 255; /* NaN, infinities: magenta */
			dst[3 * x + 1] = g;
			dst[3 * x + 2] = isfinite(v) ? g : 255;
		}
	}
}

static void write_png(struct dump *d, const struct trace_replay_access *access)
{
	uint64_t row_bytes = (uint64_t)d->width * d->format->bpp;
	uint8_t *row = malloc((size_t)row_bytes), *pixels;
	struct tt_png png;
	int err;

	pixels = malloc((size_t)d->width * tt_png_channels(d->format->color));
	if (!row || !pixels) {
		stop_fail(d, TRACE_REPLAY_ENV_ERROR,
			  "out of memory for a row of %" PRIu32 " pixels", d->width);
		goto out_free;
	}
	if ((!strcmp(d->format->name, "r32f") || !strcmp(d->format->name, "r32ui")) &&
	    !scan_range(d, access, row, row_bytes))
		goto out_free;
	/* tt_png_end frees what tt_png_begin allocated, also after an error. */
	err = tt_png_begin(&png, d->out, d->width, d->height, d->format->color);
	for (uint32_t y = 0; !err && y < d->height; y++) {
		if (!read_bytes(d, access, d->offset + y * row_bytes, row_bytes, row)) {
			tt_png_end(&png);
			goto out_free;
		}
		convert_row(d, row, pixels);
		err = tt_png_row(&png, pixels);
	}
	if (err)
		tt_png_end(&png);
	else
		err = tt_png_end(&png);
	if (err)
		stop_fail(d, TRACE_REPLAY_ENV_ERROR, "writing the PNG: %s", strerror(-err));
	d->written = row_bytes * d->height;
out_free:
	free(row);
	free(pixels);
}

static void on_stop(void *ctx, const struct trace_replay_access *access)
{
	struct dump *d = ctx;
	uint8_t *chunk;
	int err = trace_replay_buffer_size(access, d->connection, d->buffer, &d->size);

	if (err == -ENOENT) {
		stop_fail(d, TRACE_REPLAY_BAD_INPUT,
			  "no buffer id %" PRIu64 "%s exists after event %" PRIu64
			  " (never created, or already released; ids are create_buffer's out.id)",
			  d->buffer,
			  d->connection == TRACE_REPLAY_ANY_CONNECTION ? "" : " on that connection",
			  d->at);
		return;
	}
	if (err) {
		stop_fail(d, TRACE_REPLAY_ENV_ERROR, "buffer id %" PRIu64 ": %s", d->buffer,
			  strerror(-err));
		return;
	}
	if (d->offset > d->size) {
		stop_fail(d, TRACE_REPLAY_BAD_INPUT,
			  "--offset %" PRIu64 " is past the end of buffer id %" PRIu64 " (%" PRIu64
			  " bytes)",
			  d->offset, d->buffer, d->size);
		return;
	}
	if (d->mode == DUMP_PNG) {
		uint64_t need = (uint64_t)d->width * d->height * d->format->bpp;

		if (need > d->size - d->offset) {
			stop_fail(d, TRACE_REPLAY_BAD_INPUT,
				  "a %" PRIu32 "x%" PRIu32 " %s image needs %" PRIu64
				  " bytes from offset %" PRIu64 ", buffer id %" PRIu64
				  " has %" PRIu64 " bytes",
				  d->width, d->height, d->format->name, need, d->offset, d->buffer,
				  d->size);
			return;
		}
		write_png(d, access);
		return;
	}
	if (!d->have_length)
		d->length = d->size - d->offset;
	else if (d->length > d->size - d->offset) {
		stop_fail(d, TRACE_REPLAY_BAD_INPUT,
			  "--offset %" PRIu64 " --length %" PRIu64
			  " goes past the end of buffer id %" PRIu64 " (%" PRIu64 " bytes)",
			  d->offset, d->length, d->buffer, d->size);
		return;
	}
	chunk = malloc(DUMP_CHUNK);
	if (!chunk) {
		stop_fail(d, TRACE_REPLAY_ENV_ERROR, "out of memory");
		return;
	}
	write_hex_or_raw(d, access, chunk);
	free(chunk);
}

/* trace_tool_dump - magma-trace dump (see the file head and help()). */
int trace_tool_dump(int argc, char **argv)
{
	struct dump d = {.connection = TRACE_REPLAY_ANY_CONNECTION};
	struct trace_replay_options opts;
	struct trace_replay_result *res;
	uint64_t events = 0;
	bool want_help, counted;
	int ret;

	ret = parse_args(&d, argc, argv, &want_help);
	if (ret || want_help) {
		if (want_help)
			help();
		return ret;
	}
	/* A bad N is refused before replaying: the end event says how many events there are. */
	counted = tt_trace_event_count(d.path, &events);
	if (counted && d.at > events) {
		fprintf(stderr,
			"magma-trace dump: --at %" PRIu64 " is beyond the trace: %s has events "
			"0..%" PRIu64 " (the last is the end event)\n",
			d.at, d.path, events);
		return TRACE_REPLAY_BAD_INPUT;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		fprintf(stderr, "magma-trace dump: out of memory\n");
		return TRACE_REPLAY_ENV_ERROR;
	}
	d.out = d.out_path ? fopen(d.out_path, "we") : stdout;
	if (!d.out) {
		fprintf(stderr, "magma-trace dump: cannot create %s: %s\n", d.out_path,
			strerror(errno));
		free(res);
		return TRACE_REPLAY_ENV_ERROR;
	}
	trace_replay_default_options(&opts);
	/* Contents after event N ran: stop before N + 1 (before the end event, at most). */
	opts.stop_at = counted && d.at >= events ? events : d.at + 1;
	opts.on_stop = on_stop;
	opts.skip_inert = true;
	opts.stop_ctx = &d;
	ret = trace_replay_run(d.path, &opts, res);
	if (ret) {
		fprintf(stderr, "magma-trace dump: %s: %s\n", d.path, res->message);
	} else if (res->stopped_at == UINT64_MAX) {
		fprintf(stderr,
			"magma-trace dump: --at %" PRIu64 " is beyond the trace: %s has events "
			"0..%" PRIu64 "\n",
			d.at, d.path, res->events);
		ret = TRACE_REPLAY_BAD_INPUT;
	} else if (d.ret) {
		fprintf(stderr, "magma-trace dump: %s\n", d.error);
		ret = d.ret;
	}
	if (fflush(d.out) || ferror(d.out)) {
		if (!ret)
			fprintf(stderr, "magma-trace dump: writing %s: %s\n",
				d.out_path ? d.out_path : "standard output", strerror(errno));
		ret = ret ? ret : TRACE_REPLAY_ENV_ERROR;
	}
	if (d.out_path) {
		if (fclose(d.out) && !ret) {
			fprintf(stderr, "magma-trace dump: writing %s: %s\n", d.out_path,
				strerror(errno));
			ret = TRACE_REPLAY_ENV_ERROR;
		}
		if (ret)
			unlink(d.out_path);
		else
			printf("wrote %s: %" PRIu64 " bytes of buffer id %" PRIu64
			       " from offset %" PRIu64 " after event %" PRIu64 "%s\n",
			       d.out_path, d.written, d.buffer, d.offset, d.at,
			       d.mode == DUMP_PNG ? " as a PNG" : "");
		if (!ret && d.mode == DUMP_PNG && d.format->color != TT_PNG_RGBA8 &&
		    (!strcmp(d.format->name, "r32f") || !strcmp(d.format->name, "r32ui")))
			printf("%s: black %g, white %g\n", d.format->name, d.lo, d.hi);
	}
	free(res);
	return ret;
}

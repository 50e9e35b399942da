/* SPDX-License-Identifier: MIT */
/*
 * trace_png.c - a streaming PNG writer for magma-trace dump (see trace_tool.h), with no
 * compression library: the zlib stream inside IDAT uses deflate's stored (uncompressed) blocks,
 * which every PNG reader accepts. Files are a little larger than the pixels; that is the price
 * of needing neither zlib nor SDL2_image (the viewer's optional PNG path) in the tools.
 *
 * Rows are written as they come (filter type 0), so memory is one 64 KiB block whatever the
 * image size. Each IDAT chunk holds exactly one stored block; the zlib header goes in the first
 * and the Adler-32 in a chunk of its own at the end. Single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_tool.h"

#define PNG_BLOCK_MAX 65535u /* a stored block's largest payload */

/* tt_crc32 - see trace_tool.h (the table-driven CRC of ISO 3309 / PNG annex D). */
uint32_t tt_crc32(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = data;

	if (!ready) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		ready = true;
	}
	crc = ~crc;
	for (size_t i = 0; i < len; i++) /* len 0: p may be NULL and is not read */
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes one chunk: length, @type, @len bytes of @data (two parts: @head then @data), CRC. */
static void png_chunk(struct tt_png *p, const char type[4], const uint8_t *head, size_t head_len,
		      const uint8_t *data, size_t len)
{
	uint8_t hdr[8], crc_be[4];
	uint32_t crc;

	put_be32(hdr, (uint32_t)(head_len + len));
	memcpy(hdr + 4, type, 4);
	crc = tt_crc32(0, hdr + 4, 4);
	crc = tt_crc32(crc, head, head_len);
	crc = tt_crc32(crc, data, len);
	put_be32(crc_be, crc);
	/* head and data may be NULL when empty: fwrite must not see a NULL pointer. */
	if (fwrite(hdr, 1, 8, p->f) != 8 ||
	    (head_len && fwrite(head, 1, head_len, p->f) != head_len) ||
	    (len && fwrite(data, 1, len, p->f) != len) || fwrite(crc_be, 1, 4, p->f) != 4)
		p->failed = true;
}

/* Writes the filled block as one IDAT chunk holding one stored deflate block. */
static void png_flush_block(struct tt_png *p, bool final)
{
	uint8_t head[7];
	size_t n = 0;
	uint16_t len = (uint16_t)p->block_len;

	if (p->first_block) {
		head[n++] = 0x78; /* zlib: deflate, 32 KiB window */
		head[n++] = 0x01; /* no dictionary, fastest; (0x78 * 256 + 0x01) % 31 == 0 */
		p->first_block = false;
	}
	head[n++] = final ? 1 : 0; /* BFINAL, BTYPE 00 (stored) */
	head[n++] = (uint8_t)len;
	head[n++] = (uint8_t)(len >> 8);
	head[n++] = (uint8_t)~len;
	head[n++] = (uint8_t)(~len >> 8);
	png_chunk(p, "IDAT", head, n, p->block, p->block_len);
	p->block_len = 0;
}

/* tt_png_channels - see trace_tool.h. */
unsigned tt_png_channels(enum tt_png_color color)
{
	return color == TT_PNG_RGBA8 ? 4 : color == TT_PNG_RGB8 ? 3 : 1;
}

/* tt_png_begin - see trace_tool.h. */
int tt_png_begin(struct tt_png *p, FILE *f, uint32_t width, uint32_t height,
		 enum tt_png_color color)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint8_t ihdr[13];
	uint64_t row = (uint64_t)width * tt_png_channels(color) + 1;

	memset(p, 0, sizeof(*p));
	/* PNG limits each dimension to 2^31 - 1; rows are bounded so a row fits in memory. */
	if (!width || !height || width > 0x7fffffffu || height > 0x7fffffffu || row > (1u << 30))
		return -EINVAL;
	p->block = malloc(PNG_BLOCK_MAX);
	if (!p->block)
		return -ENOMEM;
	p->f = f;
	p->width = width;
	p->height = height;
	p->row_bytes = (uint32_t)row - 1;
	p->adler_a = 1;
	p->first_block = true;
	put_be32(ihdr, width);
	put_be32(ihdr + 4, height);
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = (uint8_t)color;
	ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
	if (fwrite(sig, 1, sizeof(sig), f) != sizeof(sig))
		p->failed = true;
	png_chunk(p, "IHDR", ihdr, sizeof(ihdr), NULL, 0);
	return p->failed ? -EIO : 0;
}

/* Appends @len bytes of the zlib payload, flushing full blocks. */
static void png_put(struct tt_png *p, const uint8_t *data, size_t len)
{
	while (len) {
		size_t n = PNG_BLOCK_MAX - p->block_len < len ? PNG_BLOCK_MAX - p->block_len : len;

		memcpy(p->block + p->block_len, data, n);
		/* Adler-32 over the uncompressed data; 5552 bytes keep the sums below 2^32. */
		for (size_t done = 0; done < n;) {
			size_t k = n - done < 5552 ? n - done : 5552;

			for (size_t i = 0; i < k; i++) {
				p->adler_a += data[done + i];
				p->adler_b += p->adler_a;
			}
			p->adler_a %= 65521;
			p->adler_b %= 65521;
			done += k;
		}
		p->block_len += n;
		data += n;
		len -= n;
		if (p->block_len == PNG_BLOCK_MAX)
			png_flush_block(p, false);
	}
}

/* tt_png_row - see trace_tool.h. */
int tt_png_row(struct tt_png *p, const uint8_t *row)
{
	static const uint8_t filter_none = 0;

	if (p->rows_written >= p->height)
		return -EINVAL;
	png_put(p, &filter_none, 1);
	png_put(p, row, p->row_bytes);
	p->rows_written++;
	return p->failed ? -EIO : 0;
}

/* tt_png_end - see trace_tool.h. */
int tt_png_end(struct tt_png *p)
{
	uint8_t adler[4];
	int ret = 0;

	if (p->rows_written != p->height) {
		ret = -EINVAL;
		goto out_free;
	}
	/* The final block may be empty (when the data filled the last one exactly). */
	png_flush_block(p, true);
	put_be32(adler, p->adler_b << 16 | p->adler_a);
	png_chunk(p, "IDAT", adler, sizeof(adler), NULL, 0);
	png_chunk(p, "IEND", NULL, 0, NULL, 0);
	if (p->failed)
		ret = -EIO;
out_free:
	free(p->block);
	p->block = NULL;
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * trace_blob.c - content digests and the blob codec of traces.
 *
 * The digest is 64-bit FNV-1a: simple, stable across hosts and good enough to tell contents
 * apart in a debugging trace (it is not a cryptographic hash). Blob text is a sequence of
 * segments: base64 (RFC 4648, padded per segment) for literal bytes, and "~N." for a run of N
 * zero bytes (runs of at least TRACE_BLOB_ZERO_RUN bytes), so mostly-empty buffers stay small.
 *
 * Reading never trusts a size it has not counted: trace_blob_scan checks text and computes the
 * decoded size and digest without allocating (a zero run's digest is a power of the FNV prime,
 * so "~4294967296." costs microseconds, not 4 GiB), and trace_blob_read streams the bytes into
 * a buffer of the caller's choosing. A few characters of text can stand for gigabytes of
 * zeros; it is the reader's caller who decides how many it accepts. Pure functions, any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace.h"

#define FNV_PRIME 0x100000001b3ull

/* trace_digest_more - see trace.h. */
uint64_t trace_digest_more(uint64_t digest, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		digest ^= p[i];
		digest *= FNV_PRIME;
	}
	return digest;
}

/* trace_digest - see trace.h. */
uint64_t trace_digest(const void *data, size_t len)
{
	return trace_digest_more(TRACE_DIGEST_INIT, data, len);
}

/* trace_digest_hex - see trace.h. */
void trace_digest_hex(uint64_t digest, char out[17])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
		out[i] = hex[digest & 0xf];
		digest >>= 4;
	}
	out[16] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* trace_digest_parse - see trace.h. */
int trace_digest_parse(const char *text, uint64_t *digest_out)
{
	uint64_t d = 0;

	if (!text)
		return -EINVAL;
	/* Sixteen hex digits (a NUL among them is not one), then the end of the string. */
	for (int i = 0; i < 16; i++) {
		int v = hex_value(text[i]);

		if (v < 0)
			return -EINVAL;
		d = (d << 4) | (uint64_t)v;
	}
	if (text[16])
		return -EINVAL;
	*digest_out = d;
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t zero_run(const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < len && !p[n])
		n++;
	return n;
}

/* Appends base64 of @len bytes to @out; returns the characters written. */
static size_t b64_put(char *out, const uint8_t *p, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = left > 1 ? b64[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? b64[v & 63] : '=';
	}
	return o;
}

/* trace_blob_encode - see trace.h. */
char *trace_blob_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	/* Worst case: all literal (4/3) plus padding per segment; zero runs shrink. */
	char *out = malloc(len / 3 * 4 + len / TRACE_BLOB_ZERO_RUN * 4 + 32);
	size_t o = 0, i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		size_t z = zero_run(p + i, len - i);
		size_t start;

		if (z >= TRACE_BLOB_ZERO_RUN) {
			char num[32];
			int n = snprintf(num, sizeof(num), "~%zu.", z);

			memcpy(out + o, num, (size_t)n);
			o += (size_t)n;
			i += z;
			continue;
		}
		/* A literal segment runs to the next long zero run. */
		start = i;
		while (i < len) {
			z = zero_run(p + i, len - i);
			if (z >= TRACE_BLOB_ZERO_RUN)
				break;
			i += z ? z : 1;
		}
		o += b64_put(out + o, p + start, i - start);
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *s = c ? strchr(b64, c) : NULL;

	return s ? (int)(s - b64) : -1;
}

/*
 * One segment of blob text at *@pos: a zero run (returns 1, its length in *@count) or one base64
 * quad (returns 2, its 1..3 bytes in @lit and the count in *@count). Returns 0 at the end of the
 * text, -EINVAL when the segment is malformed (*@pos is left at its start), -EFBIG for a zero
 * run whose length does not fit in 64 bits. Advances *@pos past the segment.
 */
static int blob_segment(const char *text, size_t *pos, uint8_t lit[3], uint64_t *count)
{
	size_t i = *pos;
	uint32_t w = 0;
	size_t pad = 0;

	if (!text[i])
		return 0;
	if (text[i] == '~') {
		char *end;
		unsigned long long n;

		if (text[i + 1] < '0' || text[i + 1] > '9')
			return -EINVAL;
		errno = 0;
		n = strtoull(text + i + 1, &end, 10);
		if (*end != '.')
			return -EINVAL;
		if (errno == ERANGE)
			return -EFBIG;
		*count = n;
		*pos = (size_t)(end - text) + 1;
		return 1;
	}
	for (int k = 0; k < 4; k++) {
		char c = text[i + (size_t)k];
		int v;

		if (!c)
			return -EINVAL;
		if (c == '=' && k >= 2) {
			pad++;
			w <<= 6;
			continue;
		}
		v = b64_value(c);
		if (pad || v < 0)
			return -EINVAL;
		w = w << 6 | (uint32_t)v;
	}
	lit[0] = (uint8_t)(w >> 16);
	lit[1] = (uint8_t)(w >> 8);
	lit[2] = (uint8_t)w;
	*count = 3 - pad;
	*pos = i + 4;
	return 2;
}

/*
 * The FNV-1a state after @n zero bytes from state @h: a zero byte leaves the xor step alone, so
 * the run multiplies by FNV_PRIME^n (mod 2^64), computed by squaring in O(log n).
 */
static uint64_t fnv_zeros(uint64_t h, uint64_t n)
{
	uint64_t p = FNV_PRIME;

	for (; n; n >>= 1, p *= p)
		if (n & 1)
			h *= p;
	return h;
}

/* trace_blob_scan - see trace.h. */
int trace_blob_scan(const char *text, uint64_t max_size, uint64_t *size_out, uint64_t *digest_out,
		    size_t *where_out)
{
	uint64_t h = TRACE_DIGEST_INIT, size = 0, n;
	size_t pos = 0, start;
	uint8_t lit[3];
	int kind;

	for (;;) {
		start = pos;
		kind = blob_segment(text, &pos, lit, &n);
		if (kind <= 0)
			break;
		if (n > max_size - size) {
			kind = -EFBIG;
			break;
		}
		size += n;
		h = kind == 1 ? fnv_zeros(h, n) : trace_digest_more(h, lit, (size_t)n);
	}
	if (kind < 0) {
		if (where_out)
			*where_out = start;
		return kind;
	}
	*size_out = size;
	if (digest_out)
		*digest_out = h;
	return 0;
}

/* trace_blob_decode - see trace.h. */
int trace_blob_decode(const char *text, size_t size, uint8_t **data_out, size_t *where_out)
{
	struct trace_blob_reader rd;
	uint64_t got = 0;
	uint8_t *out;
	int ret;

	/* Check the text first, so that a wrong @size never costs an allocation of that size. */
	ret = trace_blob_scan(text, size, &got, NULL, where_out);
	if (ret == -EFBIG || (!ret && got != size)) {
		if (where_out && !ret)
			*where_out = strlen(text);
		return -EINVAL;
	}
	if (ret)
		return ret;
	out = malloc(size ? size : 1);
	if (!out)
		return -ENOMEM;
	trace_blob_reader_init(&rd, text);
	if (trace_blob_read(&rd, out, size) != size) {
		free(out); /* not reached: the text was scanned */
		return -EINVAL;
	}
	*data_out = out;
	return 0;
}

/* trace_blob_reader_init - see trace.h. */
void trace_blob_reader_init(struct trace_blob_reader *rd, const char *text)
{
	memset(rd, 0, sizeof(*rd));
	rd->text = text;
}

/* trace_blob_read - see trace.h. */
size_t trace_blob_read(struct trace_blob_reader *rd, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t n;
		int kind;

		if (rd->zeros) {
			n = rd->zeros < len - done ? rd->zeros : len - done;
			memset(out + done, 0, (size_t)n);
			rd->zeros -= n;
			done += (size_t)n;
			continue;
		}
		if (rd->lit_pos < rd->lit_len) {
			out[done++] = rd->lit[rd->lit_pos++];
			continue;
		}
		kind = blob_segment(rd->text, &rd->pos, rd->lit, &n);
		if (kind <= 0)
			break;
		if (kind == 1) {
			rd->zeros = n;
		} else {
			rd->lit_len = (uint8_t)n;
			rd->lit_pos = 0;
		}
	}
	return done;
}

/* SPDX-License-Identifier: MIT */
/*
 * trace_blob.c - content digests and the blob codec of traces.
 *
 * The digest is 64-bit FNV-1a: simple, stable across hosts and good enough to tell contents
 * apart in a debugging trace (it is not a cryptographic hash). Blob text is a sequence of
 * segments: base64 (RFC 4648, padded per segment) for literal bytes, and "~N." for a run of N
 * zero bytes (runs of at least TRACE_BLOB_ZERO_RUN bytes), so mostly-empty buffers stay small.
 * Pure functions, any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace.h"

/* trace_digest - see trace.h. */
uint64_t trace_digest(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
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

	if (!text || strlen(text) != 16)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		int v = hex_value(text[i]);

		if (v < 0)
			return -EINVAL;
		d = (d << 4) | (uint64_t)v;
	}
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

/* trace_blob_decode - see trace.h. */
int trace_blob_decode(const char *text, size_t size, uint8_t **data_out, size_t *where_out)
{
	uint8_t *out = malloc(size ? size : 1);
	size_t o = 0, i = 0;
	int ret = -EINVAL;

	if (!out)
		return -ENOMEM;
	while (text[i]) {
		if (text[i] == '~') {
			char *end;
			unsigned long long n;

			if (text[i + 1] < '0' || text[i + 1] > '9')
				goto err_bad;
			n = strtoull(text + i + 1, &end, 10);
			if (*end != '.' || n > size - o)
				goto err_bad;
			memset(out + o, 0, (size_t)n);
			o += (size_t)n;
			i = (size_t)(end - text) + 1;
			continue;
		}
		int v[4];
		size_t pad = 0;

		for (int k = 0; k < 4; k++) {
			char c = text[i + (size_t)k];

			if (!c)
				goto err_bad;
			if (c == '=' && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				goto err_bad;
			v[k] = b64_value(c);
			if (v[k] < 0)
				goto err_bad;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		size_t n = 3 - pad;

		if (n > size - o)
			goto err_bad;
		out[o++] = (uint8_t)(w >> 16);
		if (n > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (n > 2)
			out[o++] = (uint8_t)w;
		i += 4;
	}
	if (o != size)
		goto err_bad;
	*data_out = out;
	return 0;

err_bad:
	if (where_out)
		*where_out = i;
	free(out);
	return ret;
}

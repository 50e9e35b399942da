/* SPDX-License-Identifier: MIT */
/*
 * sim_asm_main.c - the sim-asm command-line tool: assembles SIM-1 compute programs to
 * little-endian 64-bit words, or (-d) disassembles such words back to text that reassembles to
 * the same bytes. A thin wrapper over sim_asm_assemble()/sim_asm_disassemble(); the syntax is
 * described at the top of sim_asm.c and in docs/sim-gpu.md. Single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_isa.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: sim-asm [-d] [-o OUT] [IN]\n"
		   "  Assemble SIM-1 compute assembly from IN (default stdin) into little-endian\n"
		   "  64-bit instruction words written to OUT (default stdout).\n"
		   "  -d      disassemble: read binary words, write assembly text\n"
		   "  -o OUT  output file\n"
		   "  --help     show this text\n"
		   "  --version  print \"sim-asm VERSION\"\n"
		   "Errors are printed as \"line N: message\"; the exit status is then 1.\n");
}

/* Read all of @f into a malloc'd buffer with a NUL appended. */
static char *read_all(FILE *f, size_t *len_out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (len < cap) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			buf[len] = '\0';
			*len_out = len;
			return buf;
		}
		cap *= 2;
		char *nb = realloc(buf, cap + 1);

		if (!nb)
			free(buf);
		buf = nb;
	}
	return NULL;
}

static int assemble(const char *src, FILE *out)
{
	uint64_t *code = NULL;
	uint32_t count = 0;
	char err[256];
	int ret;

	ret = sim_asm_assemble(src, &code, &count, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "sim-asm: %s\n", ret == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint8_t b[8];

		for (int k = 0; k < 8; k++)
			b[k] = (uint8_t)(code[i] >> (8 * k));
		if (fwrite(b, 1, 8, out) != 8) {
			free(code);
			fprintf(stderr, "sim-asm: write error\n");
			return 1;
		}
	}
	free(code);
	return 0;
}

static int disassemble(const unsigned char *bin, size_t len, FILE *out)
{
	uint32_t count = (uint32_t)(len / 8);
	uint64_t *code;
	char *text = NULL;
	int ret;

	if (len % 8 || len / 8 > UINT32_MAX) {
		fprintf(stderr, "sim-asm: input is not a whole number of 64-bit words\n");
		return 1;
	}
	code = malloc((size_t)count * 8 + 8);
	if (!code) {
		fprintf(stderr, "sim-asm: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t w = 0;

		for (int k = 0; k < 8; k++)
			w |= (uint64_t)bin[(size_t)i * 8 + k] << (8 * k);
		code[i] = w;
	}
	ret = sim_asm_disassemble(code, count, &text);
	free(code);
	if (ret) {
		fprintf(stderr, "sim-asm: out of memory\n");
		return 1;
	}
	ret = fputs(text, out) < 0;
	free(text);
	if (ret)
		fprintf(stderr, "sim-asm: write error\n");
	return ret;
}

/* sim-asm entry point: see usage(). Returns 0 on success, 1 on any error. */
int main(int argc, char **argv)
{
	const char *in_path = NULL, *out_path = NULL;
	bool dis = false;
	FILE *in = stdin, *out = stdout;
	size_t len = 0;
	char *data;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-d")) {
			dis = true;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out_path = argv[++i];
		} else if (!strcmp(argv[i], "--version")) {
			printf("sim-asm %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "sim-asm: %s '%s' (see sim-asm --help)\n",
				i + 1 == argc && !strcmp(argv[i], "-o") ? "missing value for"
									: "unknown option",
				argv[i]);
			return 1;
		} else if (!in_path) {
			in_path = argv[i];
		} else {
			fprintf(stderr, "sim-asm: unexpected argument '%s' (see sim-asm --help)\n",
				argv[i]);
			return 1;
		}
	}
	if (in_path && strcmp(in_path, "-")) {
		in = fopen(in_path, dis ? "rb" : "r");
		if (!in) {
			fprintf(stderr, "sim-asm: %s: %s\n", in_path, strerror(errno));
			return 1;
		}
	}
	data = read_all(in, &len);
	if (in != stdin)
		fclose(in);
	if (!data) {
		fprintf(stderr, "sim-asm: read error\n");
		return 1;
	}
	if (!dis && strlen(data) != len) {
		fprintf(stderr, "sim-asm: input contains a NUL byte\n");
		free(data);
		return 1;
	}
	if (out_path) {
		out = fopen(out_path, dis ? "w" : "wb");
		if (!out) {
			fprintf(stderr, "sim-asm: %s: %s\n", out_path, strerror(errno));
			free(data);
			return 1;
		}
	}
	ret = dis ? disassemble((const unsigned char *)data, len, out) : assemble(data, out);
	free(data);
	if (out != stdout) {
		if (fclose(out) && !ret) {
			fprintf(stderr, "sim-asm: %s: %s\n", out_path, strerror(errno));
			ret = 1;
		}
	} else if (fflush(out) && !ret) {
		ret = 1;
	}
	return ret;
}

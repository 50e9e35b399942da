/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the libFuzzer harnesses of fuzz/ share.
 *
 * Each harness (fuzz_isa.c, fuzz_trace.c, fuzz_cmdstream.c) defines libFuzzer's entry point,
 * LLVMFuzzerTestOneInput, and nothing else that is global. With clang and MAGMA_SIM_FUZZ=ON it is
 * linked with -fsanitize=fuzzer as a fuzzer; in every build it is also linked with fuzz_main.c, a
 * plain main() that feeds it files, which is how ctest replays the seeds and the regression
 * inputs of fuzz/regressions/ with any compiler. A harness reports a broken guarantee (beyond
 * what the sanitizers catch) with FUZZ_CHECK, which aborts: libFuzzer then saves the input.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- fuzz_isa input: a header, then the program (fuzz_isa.c describes each byte) ---- */
#define FUZZ_ISA_HEADER	   8
#define FUZZ_ISA_MAX_WORDS 2048 /* instruction words the program pages hold */

/* ---- fuzz_cmdstream: the client's GPU address space (fuzz_cmdstream.c) ---- */
#define FUZZ_CS_CMD_VA	  0x100000ull /* the input, as the command buffer; READ|EXECUTE */
#define FUZZ_CS_CMD_SIZE  (16u * 1024)
#define FUZZ_CS_PROG_OFF  (8u * 1024) /* where seeds put kernels inside the command buffer */
#define FUZZ_CS_DATA_VA	  0x200000ull /* READ|WRITE */
#define FUZZ_CS_DATA_SIZE (64u * 1024)
#define FUZZ_CS_RO_VA	  0x300000ull /* READ only */
#define FUZZ_CS_RO_SIZE	  (4u * 1024)
#define FUZZ_CS_HOLE_VA	  0x400000ull /* nothing mapped */

/* libFuzzer's entry point: run one input. Always returns 0 (the input is never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A guarantee of the code under test failed: say which, and crash so the input is kept. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__,      \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Little-endian loads from fuzz input (any alignment). */
static inline uint32_t fuzz_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fuzz_le64(const uint8_t *p)
{
	return (uint64_t)fuzz_le32(p) | (uint64_t)fuzz_le32(p + 4) << 32;
}

#endif /* FUZZ_H */

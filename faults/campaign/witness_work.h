/* SPDX-License-Identifier: MIT */
/*
 * witness_work.h - the fixed work of one magma-witness round and the answer it must give.
 *
 * A round uses the copy engine, the compute engine and a plain write on one data buffer of
 * WITNESS_REGION_COUNT pages: FILL the FILLED page with WITNESS_FILL_PATTERN, COPY the SEED page
 * (written by the CPU) to the COPIED page, DISPATCH a kernel that computes
 * out[i] = (copied[i] * WITNESS_KERNEL_MUL ^ filled[i]) + (i << 7) into the OUT page, and WRITE32
 * WITNESS_MARKER_VALUE to the first word of the MARKER page. The four result pages are contiguous
 * and are what the check compares and the digest covers. Everything here is pure: the same
 * inputs give the same words, every round and every run.
 */
#ifndef WITNESS_WORK_H
#define WITNESS_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off */
#define WITNESS_WORDS          1024         /* 32-bit words in each region (one page) */
#define WITNESS_REGION_SIZE    (WITNESS_WORDS * 4u)
#define WITNESS_DATA_VA        0x20000000ull /* where the data buffer is mapped (RW) */
#define WITNESS_CODE_VA        0x30000000ull /* where the kernel's buffer is mapped (RX) */
#define WITNESS_CODE_SIZE      0x1000ull
#define WITNESS_FILL_PATTERN   0xa5c30f1eu
#define WITNESS_KERNEL_MUL     0x9e3779b1   /* no suffix: also spelled into the kernel */
#define WITNESS_MARKER_VALUE   0x57495431u  /* "WIT1" */
#define WITNESS_MAX_CMD_WORDS  32u          /* room for the round's command stream */
/* clang-format on */

/* The pages of the data buffer, in address order. FILLED..MARKER are the results. */
enum witness_region {
	WITNESS_ARGS,	/* kernel arguments: VAs of COPIED, FILLED and OUT (lo, hi each) */
	WITNESS_SEED,	/* input of the COPY, written by the CPU */
	WITNESS_FILLED, /* FILL destination */
	WITNESS_COPIED, /* COPY destination, the kernel's first input */
	WITNESS_OUT,	/* the kernel's output */
	WITNESS_MARKER, /* WRITE32 destination (first word), the rest stays zero */
	WITNESS_REGION_COUNT,
};

#define WITNESS_DATA_SIZE    ((uint64_t)WITNESS_REGION_COUNT * WITNESS_REGION_SIZE)
#define WITNESS_RESULT_FIRST WITNESS_FILLED
#define WITNESS_RESULT_WORDS ((WITNESS_REGION_COUNT - WITNESS_RESULT_FIRST) * WITNESS_WORDS)
#define WITNESS_RESULT_SIZE  (WITNESS_RESULT_WORDS * 4u)

/* The first result word that differs from the expected answer. */
struct witness_mismatch {
	enum witness_region region;
	uint32_t word; /* index within the region */
	uint32_t got, want;
	uint32_t wrong_words; /* how many result words differ in all */
};

/* witness_region_name - "FILLED" etc. Pure. */
const char *witness_region_name(enum witness_region region);

/*
 * witness_work_kernel_source - the kernel's assembly text (docs/sim-gpu.md "Assembly syntax"),
 * for sim_asm_assemble. Static storage. Pure.
 */
const char *witness_work_kernel_source(void);

/*
 * witness_work_prepare - the CPU's part before a submission: writes ARGS and SEED and clears every
 * result page to zero, so a result left from an earlier round cannot pass. @data is the CPU
 * mapping of the data buffer (WITNESS_DATA_SIZE bytes).
 */
void witness_work_prepare(uint8_t *data);

/*
 * witness_work_commands - writes the round's command stream (FILL, COPY, DISPATCH of the kernel
 * of @kernel_words instructions at WITNESS_CODE_VA in workgroups of @local_size lanes, WRITE32,
 * END) to @words, which has room for WITNESS_MAX_CMD_WORDS; returns the number of words.
 */
uint32_t witness_work_commands(uint32_t *words, uint32_t kernel_words, uint32_t local_size);

/* witness_work_expected - what word @word of result page @region must hold. Pure. */
uint32_t witness_work_expected(enum witness_region region, uint32_t word);

/*
 * witness_work_check - compares every result word of @data with witness_work_expected. True when
 * all match; otherwise false with the first difference (and the count) in *@first_out.
 */
bool witness_work_check(const uint8_t *data, struct witness_mismatch *first_out);

/* witness_work_digest - FNV-1a 64 over the WITNESS_RESULT_SIZE result bytes of @data. Pure. */
uint64_t witness_work_digest(const uint8_t *data);

#endif /* WITNESS_WORK_H */

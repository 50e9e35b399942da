/* SPDX-License-Identifier: MIT */
/*
 * witness_work.c - the fixed work of a magma-witness round (witness_work.h): the buffer's
 * inputs, the command stream, the kernel, and the answer computed on the CPU.
 *
 * The kernel and witness_work_expected() must agree word for word; both are spelled from the
 * same constants. The seed is not constant so that a COPY from or to the wrong offset shows, and
 * the kernel mixes each element with its index so that a lane writing the wrong element shows.
 * No state; called from the witness's one thread.
 */
#include <string.h>

#include "magma_sim_defs.h"
#include "witness_work.h"

#define WITNESS_STR(x)	#x
#define WITNESS_XSTR(x) WITNESS_STR(x)

/* FNV-1a 64 parameters. */
#define WITNESS_FNV_OFFSET 0xcbf29ce484222325ull
#define WITNESS_FNV_PRIME  0x100000001b3ull

/* Byte offset of the args words in ARGS. */
#define WITNESS_ARG_COPIED 0
#define WITNESS_ARG_FILLED 8
#define WITNESS_ARG_OUT	   16

static const char *const region_names[WITNESS_REGION_COUNT] = {
	[WITNESS_ARGS] = "ARGS",     [WITNESS_SEED] = "SEED", [WITNESS_FILLED] = "FILLED",
	[WITNESS_COPIED] = "COPIED", [WITNESS_OUT] = "OUT",   [WITNESS_MARKER] = "MARKER",
};

/*
 * r0:r1 = args VA, r2 = global invocation x (sim_isa.h). The loads read the VA pairs that
 * witness_work_prepare() puts at byte 0 (WITNESS_ARG_COPIED), 8 (..._FILLED) and 16 (..._OUT).
 */
static const char kernel_source[] =
	"ld   r4, r0, 0                 # COPIED\n"
	"ld   r5, r0, 4\n"
	"ld   r6, r0, 8                 # FILLED\n"
	"ld   r7, r0, 12\n"
	"ld   r8, r0, 16                # OUT\n"
	"ld   r9, r0, 20\n"
	"sltu r10, r2, " WITNESS_XSTR(
		WITNESS_WORDS) "   # lanes past the end do nothing\n"
			       "if   r10\n"
			       "shl  r11, r2, 2                # byte offset of element i\n"
			       "ldx  r12, r4, r11, 0           # copied[i]\n"
			       "ldx  r13, r6, r11, 0           # filled[i]\n"
			       "mul  r12, r12, " WITNESS_XSTR(
				       WITNESS_KERNEL_MUL) "\n"
							   "xor  r12, r12, r13\n"
							   "shl  r13, r2, 7\n"
							   "add  r12, r12, r13\n"
							   "stx  r8, r11, r12, 0           # out[i]\n"
							   "endif\n"
							   "exit\n";

/* witness_region_name - see witness_work.h. */
const char *witness_region_name(enum witness_region region)
{
	return (unsigned)region < WITNESS_REGION_COUNT ? region_names[region] : "?";
}

/* witness_work_kernel_source - see witness_work.h. */
const char *witness_work_kernel_source(void)
{
	return kernel_source;
}

static uint64_t region_va(enum witness_region region)
{
	return WITNESS_DATA_VA + (uint64_t)region * WITNESS_REGION_SIZE;
}

static uint32_t *region_words(uint8_t *data, enum witness_region region)
{
	return (uint32_t *)(data + (size_t)region * WITNESS_REGION_SIZE);
}

static uint32_t seed(uint32_t i)
{
	return ((i + 1u) * 0x01000193u) ^ 0x811c9dc5u;
}

static void put_va(uint32_t *args, uint32_t byte_offset, uint64_t va)
{
	args[byte_offset / 4] = (uint32_t)va;
	args[byte_offset / 4 + 1] = (uint32_t)(va >> 32);
}

/* witness_work_prepare - see witness_work.h. */
void witness_work_prepare(uint8_t *data)
{
	uint32_t *args = region_words(data, WITNESS_ARGS);
	uint32_t *in = region_words(data, WITNESS_SEED);

	memset(args, 0, WITNESS_REGION_SIZE);
	put_va(args, WITNESS_ARG_COPIED, region_va(WITNESS_COPIED));
	put_va(args, WITNESS_ARG_FILLED, region_va(WITNESS_FILLED));
	put_va(args, WITNESS_ARG_OUT, region_va(WITNESS_OUT));
	for (uint32_t i = 0; i < WITNESS_WORDS; i++)
		in[i] = seed(i);
	memset(region_words(data, WITNESS_RESULT_FIRST), 0, WITNESS_RESULT_SIZE);
}

/* witness_work_commands - see witness_work.h. */
uint32_t witness_work_commands(uint32_t *words, uint32_t kernel_words, uint32_t local_size)
{
	uint32_t groups = (WITNESS_WORDS + local_size - 1) / local_size, n = 0;

	n += sim_cmd_emit_fill(words + n, region_va(WITNESS_FILLED), WITNESS_REGION_SIZE,
			       WITNESS_FILL_PATTERN);
	n += sim_cmd_emit_copy(words + n, region_va(WITNESS_COPIED), region_va(WITNESS_SEED),
			       WITNESS_REGION_SIZE);
	n += sim_cmd_emit_dispatch(words + n, WITNESS_CODE_VA, kernel_words,
				   region_va(WITNESS_ARGS), groups, 1, local_size);
	n += sim_cmd_emit_write32(words + n, region_va(WITNESS_MARKER), WITNESS_MARKER_VALUE);
	n += sim_cmd_emit_end(words + n);
	return n;
}

/* witness_work_expected - see witness_work.h. */
uint32_t witness_work_expected(enum witness_region region, uint32_t word)
{
	switch (region) {
	case WITNESS_FILLED:
		return WITNESS_FILL_PATTERN;
	case WITNESS_COPIED:
		return seed(word);
	case WITNESS_OUT:
		return ((seed(word) * (uint32_t)WITNESS_KERNEL_MUL) ^ WITNESS_FILL_PATTERN) +
		       (word << 7);
	case WITNESS_MARKER:
		return word == 0 ? WITNESS_MARKER_VALUE : 0;
	default:
		return 0;
	}
}

/* witness_work_check - see witness_work.h. */
bool witness_work_check(const uint8_t *data, struct witness_mismatch *first_out)
{
	uint32_t wrong = 0;

	for (enum witness_region r = WITNESS_RESULT_FIRST; r < WITNESS_REGION_COUNT; r++) {
		const uint32_t *got = (const uint32_t *)(data + (size_t)r * WITNESS_REGION_SIZE);

		for (uint32_t i = 0; i < WITNESS_WORDS; i++) {
			uint32_t want = witness_work_expected(r, i);

			if (got[i] == want)
				continue;
			if (!wrong++)
				*first_out = (struct witness_mismatch){
					.region = r, .word = i, .got = got[i], .want = want};
		}
	}
	if (wrong)
		first_out->wrong_words = wrong;
	return wrong == 0;
}

/* witness_work_digest - see witness_work.h. */
uint64_t witness_work_digest(const uint8_t *data)
{
	const uint8_t *p = data + (size_t)WITNESS_RESULT_FIRST * WITNESS_REGION_SIZE;
	uint64_t hash = WITNESS_FNV_OFFSET;

	for (size_t i = 0; i < WITNESS_RESULT_SIZE; i++) {
		hash ^= p[i];
		hash *= WITNESS_FNV_PRIME;
	}
	return hash;
}

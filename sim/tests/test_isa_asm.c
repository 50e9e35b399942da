/* SPDX-License-Identifier: MIT */
/*
 * test_isa_asm.c - the SIM-1 compute ISA tables, word encoding/decoding, the assembler and the
 * disassembler. Pure functions only (no device): exact words for known text, exact error
 * messages with line numbers, structured-flow target filling, and bit-exact
 * disassemble -> assemble round trips over every opcode and over random words.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_isa.h"
#include "sim_test.h"

#define W(op, rd, ra, rb, i, rc, imm)                                                              \
	((uint64_t)(op) | (uint64_t)(rd) << 8 | (uint64_t)(ra) << 13 | (uint64_t)(rb) << 18 |      \
	 (uint64_t)(i) << 23 | (uint64_t)(rc) << 24 | (uint64_t)(uint32_t)(imm) << 32)

static const uint8_t all_ops[] = {
	SIM_OP_NOP,  SIM_OP_MOV,   SIM_OP_ADD,	   SIM_OP_SUB,	 SIM_OP_MUL,	 SIM_OP_MULHU,
	SIM_OP_DIVU, SIM_OP_REMU,  SIM_OP_DIVS,	   SIM_OP_REMS,	 SIM_OP_AND,	 SIM_OP_OR,
	SIM_OP_XOR,  SIM_OP_SHL,   SIM_OP_SHR,	   SIM_OP_SAR,	 SIM_OP_MIN,	 SIM_OP_MAX,
	SIM_OP_MINU, SIM_OP_MAXU,  SIM_OP_NOT,	   SIM_OP_FADD,	 SIM_OP_FSUB,	 SIM_OP_FMUL,
	SIM_OP_FDIV, SIM_OP_FMIN,  SIM_OP_FMAX,	   SIM_OP_FMA,	 SIM_OP_I2F,	 SIM_OP_U2F,
	SIM_OP_F2I,  SIM_OP_F2U,   SIM_OP_FSQRT,   SIM_OP_FABS,	 SIM_OP_FNEG,	 SIM_OP_SEQ,
	SIM_OP_SNE,  SIM_OP_SLT,   SIM_OP_SLTU,	   SIM_OP_SLE,	 SIM_OP_SLEU,	 SIM_OP_FSEQ,
	SIM_OP_FSLT, SIM_OP_FSLE,  SIM_OP_SEL,	   SIM_OP_SREG,	 SIM_OP_LD,	 SIM_OP_ST,
	SIM_OP_LDX,  SIM_OP_STX,   SIM_OP_ATOMADD, SIM_OP_BRA,	 SIM_OP_BRANY,	 SIM_OP_IF,
	SIM_OP_ELSE, SIM_OP_ENDIF, SIM_OP_LOOP,	   SIM_OP_BREAK, SIM_OP_ENDLOOP, SIM_OP_EXIT,
};
#define NUM_OPS (sizeof(all_ops) / sizeof(all_ops[0]))

static bool is_mem(uint8_t op)
{
	return op >= SIM_OP_LD && op <= SIM_OP_ATOMADD;
}

/* Assemble @src; REQUIRE-style helpers return the word count or -1. */
static int asm_ok(const char *src, uint64_t **code)
{
	uint32_t n = 0;
	char err[128];
	int ret = sim_asm_assemble(src, code, &n, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "assemble failed: %s\n", err);
		return -1;
	}
	return (int)n;
}

/* Expect an assembly error whose message is exactly @msg. */
static void expect_err(const char *src, const char *msg)
{
	uint64_t *code = NULL;
	uint32_t n = 0;
	char err[128] = "";
	int ret = sim_asm_assemble(src, &code, &n, err, sizeof(err));

	CHECK_EQ(ret, -EINVAL);
	CHECK(code == NULL);
	if (strcmp(err, msg)) {
		fprintf(stderr, "source: %s\n  got '%s'\n  want '%s'\n", src, err, msg);
		CHECK(!strcmp(err, msg));
	}
}

/* Disassemble @n words, reassemble, compare bit for bit. */
static bool roundtrip(const uint64_t *words, uint32_t n)
{
	char *text = NULL;
	uint64_t *back = NULL;
	uint32_t m = 0;
	char err[128];
	bool ok;

	if (sim_asm_disassemble(words, n, &text))
		return false;
	if (sim_asm_assemble(text, &back, &m, err, sizeof(err))) {
		fprintf(stderr, "reassembly failed: %s\n%s", err, text);
		free(text);
		return false;
	}
	ok = m == n && !memcmp(back, words, n * sizeof(*words));
	if (!ok)
		fprintf(stderr, "round trip mismatch:\n%s", text);
	free(text);
	free(back);
	return ok;
}

static void test_opinfo_table(void)
{
	uint32_t defined = 0;

	for (uint32_t i = 0; i < NUM_OPS; i++) {
		const struct sim_isa_opinfo *a = sim_isa_opinfo(all_ops[i]);

		REQUIRE(a != NULL);
		CHECK(a->name && a->name[0]);
		for (uint32_t j = 0; j < i; j++)
			CHECK(strcmp(a->name, sim_isa_opinfo(all_ops[j])->name));
	}
	for (uint32_t op = 0; op < 256; op++)
		defined += sim_isa_opinfo(op) != NULL;
	CHECK_EQ(defined, NUM_OPS);
	CHECK(sim_isa_opinfo(0x15) == NULL);
	CHECK(sim_isa_opinfo(0xff) == NULL);
	CHECK(sim_isa_opinfo(0x100) == NULL);
	CHECK(!strcmp(sim_isa_opinfo(SIM_OP_ATOMADD)->name, "atomadd"));
	CHECK_EQ(sim_isa_opinfo(SIM_OP_FMA)->form, SIM_FORM_FMA);
	CHECK(sim_isa_opinfo(SIM_OP_FMA)->float_b);
	CHECK(sim_isa_opinfo(SIM_OP_F2I)->float_b);
	CHECK(!sim_isa_opinfo(SIM_OP_I2F)->float_b);
	CHECK(!sim_isa_opinfo(SIM_OP_ADD)->float_b);
	CHECK_EQ(sim_isa_opinfo(SIM_OP_BREAK)->form, SIM_FORM_RA_TARGET);
	CHECK_EQ(sim_isa_opinfo(SIM_OP_ENDLOOP)->form, SIM_FORM_TARGET);
	CHECK_EQ(sim_isa_opinfo(SIM_OP_LOOP)->form, SIM_FORM_NONE);
}

static void test_encode_decode_every_opcode(void)
{
	for (uint32_t i = 0; i < NUM_OPS; i++) {
		struct sim_isa_insn in = {.op = all_ops[i],
					  .rd = 7,
					  .ra = 12,
					  .rb = 30,
					  .rc = 17,
					  .has_imm = true,
					  .imm = 0xdeadbeef};
		struct sim_isa_insn out;
		uint64_t w = sim_isa_encode(&in);

		CHECK_EQ(w, W(all_ops[i], 7, 12, 30, 1, 17, 0xdeadbeef));
		CHECK_EQ(sim_isa_decode(w, &out), 0);
		CHECK_EQ(out.op, in.op);
		CHECK_EQ(out.rd, 7);
		CHECK_EQ(out.ra, 12);
		CHECK_EQ(out.rb, 30);
		CHECK_EQ(out.rc, 17);
		CHECK(out.has_imm);
		CHECK_EQ(out.imm, 0xdeadbeef);
	}
}

static void test_encode_masks_fields(void)
{
	struct sim_isa_insn in = {.op = SIM_OP_ADD, .rd = 33, .ra = 255, .rb = 32, .rc = 63};

	CHECK_EQ(sim_isa_encode(&in), W(SIM_OP_ADD, 1, 31, 0, 0, 31, 0));
}

static void test_decode_rejects(void)
{
	struct sim_isa_insn out;

	CHECK_EQ(sim_isa_decode(W(SIM_OP_ADD, 1, 2, 3, 0, 0, 0), &out), 0);
	for (int bit = 29; bit <= 31; bit++) {
		CHECK_EQ(sim_isa_decode(W(SIM_OP_ADD, 1, 2, 3, 0, 0, 0) | 1ull << bit, &out),
			 -EINVAL);
		CHECK_EQ(out.op, SIM_OP_ADD); /* filled in either case */
	}
	CHECK_EQ(sim_isa_decode(0x15, &out), -EINVAL);
	CHECK_EQ(sim_isa_decode(0xff, &out), -EINVAL);
	CHECK_EQ(sim_isa_decode(0x5e, &out), -EINVAL);
	for (uint8_t op = SIM_OP_LD; op <= SIM_OP_ATOMADD; op++) {
		CHECK_EQ(sim_isa_decode(W(op, 1, 31, 2, 0, 3, 0), &out), -EINVAL);
		CHECK_EQ(sim_isa_decode(W(op, 1, 30, 2, 0, 3, 0), &out), 0);
	}
	/* ra = 31 is fine where it is not an address pair */
	CHECK_EQ(sim_isa_decode(W(SIM_OP_ADD, 1, 31, 2, 0, 0, 0), &out), 0);
	/* unused fields are ignored */
	CHECK_EQ(sim_isa_decode(W(SIM_OP_NOP, 5, 6, 7, 1, 8, 9), &out), 0);
}

static void test_asm_exact_words(void)
{
	static const char src[] = "add r1, r2, r3\n"
				  "add r1, r2, -1\n"
				  "sub r31, r0, 0x10\n"
				  "mov r4, 4294967295\n"
				  "sel r5, r6, 7, r8\n"
				  "fma r1, r2, r3, r4\n"
				  "sreg r9, global_id_x\n"
				  "sreg r9, 9\n"
				  "ld r1, r2, -4\n"
				  "st r2, r3, 8\n"
				  "ldx r1, r2, r3, 12\n"
				  "stx r2, r3, r4, -16\n"
				  "atomadd r1, r2, r3, 0\n"
				  "bra @7\n"
				  "brany r5, @0\n"
				  "exit\n"
				  ".word 0xffffffffffffffff\n"
				  "NOP\n";
	static const uint64_t want[] = {
		W(SIM_OP_ADD, 1, 2, 3, 0, 0, 0),
		W(SIM_OP_ADD, 1, 2, 0, 1, 0, 0xffffffff),
		W(SIM_OP_SUB, 31, 0, 0, 1, 0, 16),
		W(SIM_OP_MOV, 4, 0, 0, 1, 0, 0xffffffff),
		W(SIM_OP_SEL, 5, 6, 0, 1, 8, 7),
		W(SIM_OP_FMA, 1, 2, 3, 0, 4, 0),
		W(SIM_OP_SREG, 9, 0, 0, 0, 0, SIM_SREG_GLOBAL_ID_X),
		W(SIM_OP_SREG, 9, 0, 0, 0, 0, 9),
		W(SIM_OP_LD, 1, 2, 0, 0, 0, -4),
		W(SIM_OP_ST, 0, 2, 3, 0, 0, 8),
		W(SIM_OP_LDX, 1, 2, 3, 0, 0, 12),
		W(SIM_OP_STX, 0, 2, 3, 0, 4, -16),
		W(SIM_OP_ATOMADD, 1, 2, 3, 0, 0, 0),
		W(SIM_OP_BRA, 0, 0, 0, 0, 0, 7),
		W(SIM_OP_BRANY, 0, 5, 0, 0, 0, 0),
		W(SIM_OP_EXIT, 0, 0, 0, 0, 0, 0),
		0xffffffffffffffffull,
		0,
	};
	uint64_t *code = NULL;
	int n = asm_ok(src, &code);

	REQUIRE_EQ(n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < n; i++)
		CHECK_EQ(code[i], want[i]);
	free(code);
}

static void test_asm_comments_and_blank_lines(void)
{
	uint64_t *code = NULL;
	int n = asm_ok("  # comment only\n\n; another\n  nop # trailing\nexit ; x\n", &code);

	REQUIRE_EQ(n, 2);
	CHECK_EQ(code[0], W(SIM_OP_NOP, 0, 0, 0, 0, 0, 0));
	CHECK_EQ(code[1], W(SIM_OP_EXIT, 0, 0, 0, 0, 0, 0));
	free(code);
	n = asm_ok("", &code);
	CHECK_EQ(n, 0);
	free(code);
}

static void test_asm_errors(void)
{
	expect_err("nop\nfoo r1, r2\n", "line 2: unknown mnemonic 'foo'");
	expect_err("add r1, r2\n", "line 1: expected 3 operands, got 2");
	expect_err("nop\n\nexit r1\n", "line 3: expected 0 operands, got 1");
	expect_err("add r1, r2, r3, r4, r5\n", "line 1: expected 3 operands, got 5");
	expect_err("add r32, r1, 1\n", "line 1: bad register 'r32'");
	expect_err("add r1, x2, 1\n", "line 1: bad register 'x2'");
	expect_err("add r1, r2, 0x100000000\n", "line 1: immediate out of range '0x100000000'");
	expect_err("add r1, r2, -2147483649\n", "line 1: immediate out of range '-2147483649'");
	expect_err("add r1, r2, 12z\n", "line 1: bad immediate '12z'");
	expect_err("add r1, r2, 1.5\n", "line 1: bad immediate '1.5'");
	expect_err("fadd r1, r2, 1e99\n", "line 1: immediate out of range '1e99'");
	expect_err("nop\nbra nowhere\n", "line 2: unresolved label 'nowhere'");
	expect_err("a: nop\na: nop\n", "line 2: duplicate label 'a'");
	expect_err("nop\nif r1\nnop\n", "line 2: unbalanced if");
	expect_err("loop\nnop\n", "line 1: unbalanced loop");
	expect_err("if r1\nloop\nendif\n", "line 3: endif without if");
	expect_err("else\n", "line 1: else without if");
	expect_err("if r1\nelse\nelse\nendif\n", "line 3: else without if");
	expect_err("nop\nendloop\n", "line 2: endloop without loop");
	expect_err("if r1\nbreak r2\nendif\n", "line 2: break outside loop");
	expect_err("ld r1, r31, 0\n",
		   "line 1: bad register 'r31': an address needs the pair ra, ra+1");
	expect_err("sreg r1, warp_id\n", "line 1: unknown special register 'warp_id'");
	expect_err(".raw\nif r1\nendif\n", "line 2: missing target (.raw)");
	expect_err("bra\n", "line 1: expected 1 operand, got 0");
}

static void test_asm_error_buffer_is_optional(void)
{
	uint64_t *code = NULL;
	uint32_t n = 0;
	char small[8];

	CHECK_EQ(sim_asm_assemble("bogus\n", &code, &n, NULL, 0), -EINVAL);
	CHECK_EQ(sim_asm_assemble("bogus\n", &code, &n, small, sizeof(small)), -EINVAL);
	CHECK(!strcmp(small, "line 1:"));
}

static void test_asm_labels(void)
{
	static const char src[] = "start: nop\n"
				  "  bra end\n"
				  "mid:\n"
				  "loop_top: brany r1, mid\n"
				  "  bra start\n"
				  "end: exit\n"
				  "  bra loop_top\n";
	uint64_t *code = NULL;
	int n = asm_ok(src, &code);

	REQUIRE_EQ(n, 6);
	CHECK_EQ(code[1], W(SIM_OP_BRA, 0, 0, 0, 0, 0, 4));
	CHECK_EQ(code[2], W(SIM_OP_BRANY, 0, 1, 0, 0, 0, 2));
	CHECK_EQ(code[3], W(SIM_OP_BRA, 0, 0, 0, 0, 0, 0));
	CHECK_EQ(code[5], W(SIM_OP_BRA, 0, 0, 0, 0, 0, 2));
	free(code);
}

static void test_asm_nesting_fills_targets(void)
{
	static const char src[] = "loop\n"	     /* 0 */
				  "  if r1\n"	     /* 1 -> 5 (else) */
				  "    if r2\n"	     /* 2 -> 4 (endif) */
				  "      break r3\n" /* 3 -> 4 (closing endif) */
				  "    endif\n"	     /* 4 */
				  "  else\n"	     /* 5 -> 8 */
				  "    break r4\n"   /* 6 -> 8 */
				  "    nop\n"	     /* 7 */
				  "  endif\n"	     /* 8 */
				  "  break r5\n"     /* 9 -> 12 (outer endloop) */
				  "  loop\n"	     /* 10 */
				  "  endloop\n"	     /* 11 -> 11 */
				  "endloop\n"	     /* 12 -> 1 */
				  "if r6, @0\n"	     /* 13 explicit */
				  "endif\n"	     /* 14 */
				  "exit\n";
	uint64_t *code = NULL;
	int n = asm_ok(src, &code);

	REQUIRE_EQ(n, 16);
	CHECK_EQ(code[0], W(SIM_OP_LOOP, 0, 0, 0, 0, 0, 0));
	CHECK_EQ(code[1], W(SIM_OP_IF, 0, 1, 0, 0, 0, 5));
	CHECK_EQ(code[2], W(SIM_OP_IF, 0, 2, 0, 0, 0, 4));
	CHECK_EQ(code[3], W(SIM_OP_BREAK, 0, 3, 0, 0, 0, 4));
	CHECK_EQ(code[4], W(SIM_OP_ENDIF, 0, 0, 0, 0, 0, 0));
	CHECK_EQ(code[5], W(SIM_OP_ELSE, 0, 0, 0, 0, 0, 8));
	CHECK_EQ(code[6], W(SIM_OP_BREAK, 0, 4, 0, 0, 0, 8));
	CHECK_EQ(code[9], W(SIM_OP_BREAK, 0, 5, 0, 0, 0, 12));
	CHECK_EQ(code[11], W(SIM_OP_ENDLOOP, 0, 0, 0, 0, 0, 11));
	CHECK_EQ(code[12], W(SIM_OP_ENDLOOP, 0, 0, 0, 0, 0, 1));
	CHECK_EQ(code[13], W(SIM_OP_IF, 0, 6, 0, 0, 0, 0));
	free(code);
}

static void test_asm_break_in_then_side_targets_else(void)
{
	uint64_t *code = NULL;
	int n = asm_ok("loop\nif r1\nbreak r2\nelse\nendif\nendloop\nexit\n", &code);

	REQUIRE_EQ(n, 7);
	CHECK_EQ(code[1], W(SIM_OP_IF, 0, 1, 0, 0, 0, 3));
	CHECK_EQ(code[2], W(SIM_OP_BREAK, 0, 2, 0, 0, 0, 3));
	CHECK_EQ(code[3], W(SIM_OP_ELSE, 0, 0, 0, 0, 0, 4));
	CHECK_EQ(code[5], W(SIM_OP_ENDLOOP, 0, 0, 0, 0, 0, 1));
	free(code);
}

static void test_asm_float_immediates(void)
{
	static const char src[] = "fadd r1, r2, 1.5\n"
				  "fmul r1, r2, 2\n"
				  "fsub r1, r2, -0.25f\n"
				  "fdiv r1, r2, 1e3\n"
				  "fmin r1, r2, 0x7fc00000\n"
				  "movf r3, 1.5\n"
				  "movf r3, 0xff800000\n"
				  "f2i r4, -3.75\n"
				  "fma r1, r2, 0.5, r3\n"
				  "fadd r1, r2, -0\n"
				  "i2f r1, -3\n"
				  "fslt r1, r2, 1\n";
	static const uint32_t want[] = {0x3fc00000, 0x40000000, 0xbe800000, 0x447a0000,
					0x7fc00000, 0x3fc00000, 0xff800000, 0xc0700000,
					0x3f000000, 0x80000000, 0xfffffffd, 0x3f800000};
	uint64_t *code = NULL;
	int n = asm_ok(src, &code);

	REQUIRE_EQ(n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < n; i++) {
		CHECK_EQ(code[i] >> 32, want[i]);
		CHECK(code[i] & (1ull << 23));
	}
	CHECK_EQ(code[5] & 0xff, SIM_OP_MOV);
	free(code);
}

static void test_disasm_text(void)
{
	uint64_t *code = NULL;
	char *text = NULL;
	int n = asm_ok("loop\nfadd r1, r1, 0.1\nbreak r1\nendloop\nld r2, r4, -8\n"
		       "sreg r3, core_id\nmov r5, 0x12345678\nnop\n",
		       &code);

	REQUIRE(n == 8);
	REQUIRE_EQ(sim_asm_disassemble(code, (uint32_t)n, &text), 0);
	CHECK(strstr(text, ".raw\n") == text);
	CHECK(strstr(text, "fadd r1, r1, 0.100000001 ") != NULL);
	CHECK(strstr(text, "break r1, @3 ") != NULL);
	CHECK(strstr(text, "endloop @1 ") != NULL);
	CHECK(strstr(text, "ld r2, r4, -8 ") != NULL);
	CHECK(strstr(text, "sreg r3, core_id ") != NULL);
	CHECK(strstr(text, "mov r5, 0x12345678 ") != NULL);
	CHECK(strstr(text, "# 7\n") != NULL);
	free(text);
	free(code);
}

static void test_disasm_unused_fields_become_words(void)
{
	static const uint64_t words[] = {
		W(SIM_OP_NOP, 5, 0, 0, 0, 0, 0),	      /* rd unused */
		W(SIM_OP_ADD, 1, 2, 3, 0, 0, 9),	      /* imm unused without I */
		W(SIM_OP_ADD, 1, 2, 3, 1, 0, 9),	      /* rb unused with I */
		W(SIM_OP_LD, 1, 2, 0, 1, 0, 4),		      /* I unused on memory */
		W(SIM_OP_ENDIF, 0, 0, 0, 0, 0, 1),	      /* imm unused */
		W(SIM_OP_ADD, 1, 2, 3, 0, 0, 0) | 1ull << 30, /* reserved */
		W(SIM_OP_FADD, 1, 2, 0, 1, 0, 0x7f800001),    /* NaN: hex */
	};
	char *text = NULL;

	REQUIRE_EQ(sim_asm_disassemble(words, 6, &text), 0);
	CHECK(strstr(text, ".word 0x0000000000000500") != NULL);
	CHECK(strstr(text, ".word 0x00000009000c4102") != NULL);
	CHECK(strstr(text, ".word 0x0000000400804140") != NULL);
	CHECK(strstr(text, ".word 0x0000000100000054") != NULL);
	free(text);
	CHECK(roundtrip(words, sizeof(words) / sizeof(words[0])));
}

static void test_roundtrip_every_opcode(void)
{
	static const uint32_t imms[] = {0,	    1,		0xffffffff, 0x80000000,
					0x7fffffff, 65535,	65536,	    0x3f800000,
					0xbf000000, 0x7f800000, 0x00000001, 0xffc00000};
	uint64_t words[NUM_OPS * 3 * 12];
	uint32_t n = 0;

	for (uint32_t i = 0; i < NUM_OPS; i++) {
		const struct sim_isa_opinfo *info = sim_isa_opinfo(all_ops[i]);

		for (uint32_t k = 0; k < 12; k++) {
			struct sim_isa_insn in = {.op = all_ops[i],
						  .rd = (uint8_t)(k + 1),
						  .ra = (uint8_t)(30 - k),
						  .rb = (uint8_t)(k * 2),
						  .rc = (uint8_t)(31 - k),
						  .imm = imms[k]};
			struct sim_isa_insn c = {.op = in.op};

			/* keep only the fields the form uses: the canonical word */
			switch (info->form) {
			case SIM_FORM_NONE:
				break;
			case SIM_FORM_RD_B:
			case SIM_FORM_RD_RA_B:
			case SIM_FORM_FMA:
			case SIM_FORM_SEL:
				c.rd = in.rd;
				if (info->form != SIM_FORM_RD_B)
					c.ra = in.ra;
				if (info->form == SIM_FORM_FMA || info->form == SIM_FORM_SEL)
					c.rc = in.rc;
				c.has_imm = k & 1;
				if (c.has_imm)
					c.imm = in.imm;
				else
					c.rb = in.rb;
				break;
			case SIM_FORM_SREG:
				c.rd = in.rd;
				c.imm = k < 10 ? k : in.imm;
				break;
			case SIM_FORM_LD:
				c.rd = in.rd, c.ra = in.ra, c.imm = in.imm;
				break;
			case SIM_FORM_ST:
				c.ra = in.ra, c.rb = in.rb, c.imm = in.imm;
				break;
			case SIM_FORM_LDX:
			case SIM_FORM_ATOM:
				c.rd = in.rd, c.ra = in.ra, c.rb = in.rb, c.imm = in.imm;
				break;
			case SIM_FORM_STX:
				c.ra = in.ra, c.rb = in.rb, c.rc = in.rc, c.imm = in.imm;
				break;
			case SIM_FORM_TARGET:
				c.imm = in.imm;
				break;
			case SIM_FORM_RA_TARGET:
				c.ra = in.ra, c.imm = in.imm;
				break;
			}
			words[n++] = sim_isa_encode(&c);
		}
	}
	CHECK(roundtrip(words, n));
	/* canonical words must not fall back to .word */
	{
		char *text = NULL;

		REQUIRE_EQ(sim_asm_disassemble(words, n, &text), 0);
		CHECK(strstr(text, ".word") == NULL);
		free(text);
	}
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void test_roundtrip_random_words(void)
{
	enum { N = 20000 };
	uint64_t *words = malloc(N * sizeof(*words));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct sim_isa_insn in;
	uint32_t valid = 0;

	REQUIRE(words != NULL);
	/* valid words: defined opcode, reserved bits clear, no address pair r31:r32 */
	for (uint32_t i = 0; i < N; i++) {
		uint64_t w = xorshift64(&seed);

		w = (w & ~0xffull & ~SIM_ISA_RESERVED__MASK) | all_ops[w % NUM_OPS];
		if (is_mem((uint8_t)w) && ((w >> SIM_ISA_RA__SHIFT) & 31) == 31)
			w &= ~(1ull << SIM_ISA_RA__SHIFT);
		valid += sim_isa_decode(w, &in) == 0;
		words[i] = w;
	}
	CHECK_EQ(valid, N);
	CHECK(roundtrip(words, N));
	/* fully random words, mostly undefined */
	for (uint32_t i = 0; i < N; i++)
		words[i] = xorshift64(&seed);
	CHECK(roundtrip(words, N));
	free(words);
}

static void test_roundtrip_structured_source(void)
{
	uint64_t *code = NULL;
	int n = asm_ok("sreg r4, lane_id\nloop\n add r5, r5, 1\n slt r6, r5, r4\n"
		       " seq r7, r6, 0\n break r7\n if r6\n  fadd r8, r8, 1.5\n else\n"
		       "  fmul r8, r8, -2e-3f\n endif\nendloop\nexit\n",
		       &code);

	REQUIRE(n > 0);
	CHECK(roundtrip(code, (uint32_t)n));
	free(code);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_opinfo_table),
	SIM_TEST(test_encode_decode_every_opcode),
	SIM_TEST(test_encode_masks_fields),
	SIM_TEST(test_decode_rejects),
	SIM_TEST(test_asm_exact_words),
	SIM_TEST(test_asm_comments_and_blank_lines),
	SIM_TEST(test_asm_errors),
	SIM_TEST(test_asm_error_buffer_is_optional),
	SIM_TEST(test_asm_labels),
	SIM_TEST(test_asm_nesting_fills_targets),
	SIM_TEST(test_asm_break_in_then_side_targets_else),
	SIM_TEST(test_asm_float_immediates),
	SIM_TEST(test_disasm_text),
	SIM_TEST(test_disasm_unused_fields_become_words),
	SIM_TEST(test_roundtrip_every_opcode),
	SIM_TEST(test_roundtrip_random_words),
	SIM_TEST(test_roundtrip_structured_source),
};
SIM_TEST_SUITE(tests);

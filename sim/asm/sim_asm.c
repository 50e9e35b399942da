/* SPDX-License-Identifier: MIT */
/*
 * sim_asm.c - assembler and disassembler for the SIM-1 compute ISA (sim_isa.h).
 *
 * Text -> words for tests, tools and client drivers, and words -> text for traces and the
 * sim-asm tool, such that disassembling any words and assembling the result gives the same words
 * bit for bit. Pure library code: no device, no global state, thread-safe. Not an optimiser and
 * not a macro assembler: one line is at most one instruction.
 *
 * Assembly syntax
 * ---------------
 * - One instruction per line. `#` or `;` starts a comment that runs to the end of the line.
 * - Labels: `name:` at the start of a line (several allowed, optionally followed by an
 *   instruction on the same line) names the index of the next instruction. Names are
 *   [A-Za-z_][A-Za-z0-9_]*, case-sensitive, unique.
 * - Mnemonics are the lower-case names of sim_isa_opinfo() (nop mov add sub mul mulhu divu remu
 *   divs rems and or xor shl shr sar min max minu maxu not fadd fsub fmul fdiv fmin fmax fma i2f
 *   u2f f2i f2u fsqrt fabs fneg seq sne slt sltu sle sleu fseq fslt fsle sel sreg ld st ldx stx
 *   atomadd bra brany if else endif loop break endloop exit); upper case is accepted too.
 * - Registers are r0..r31. Operands are separated by commas, in this order per form:
 *     mov/not/i2f/u2f/f2i/f2u/fsqrt/fabs/fneg  rd, b
 *     ALU, float ALU and compares             rd, ra, b
 *     fma rd, ra, b, rc    (rd = ra * b + rc)  sel rd, ra, b, rc    (rd = rc ? ra : b)
 *     sreg rd, name-or-number   (lane_id group_id_x group_id_y groups_x groups_y local_size
 *                                global_id_x core_id args_lo args_hi)
 *     ld rd, ra, simm      st ra, rb, simm     ldx rd, ra, rb, simm     stx ra, rb, rc, simm
 *     atomadd rd, ra, rb, simm                 (ra names the register pair ra:ra+1)
 *     bra target           brany ra, target
 *     if ra[, target]      else [target]       endif       loop       break ra[, target]
 *     endloop [target]     exit                nop
 * - Operand b is a register or an immediate. Integers are decimal (optionally signed) or 0x hex;
 *   they must fit in 32 bits (-2147483648..4294967295). For ops whose b is a float32 (fadd fsub
 *   fmul fdiv fmin fmax fma f2i f2u fsqrt fabs fneg fseq fslt fsle) a decimal number, with or
 *   without '.', exponent or 'f' suffix, is a float value (`fmul r4, r4, 2` multiplies by 2.0)
 *   and 0x hex gives the raw bits. `movf rd, 1.5` is an alias for mov with the bits of a float.
 *   simm (memory byte offsets) is a signed 32-bit integer.
 * - Branch targets are labels or `@N`, an absolute instruction index.
 * - Structured control flow: if/else/endif and loop/break/endloop need no targets: the assembler
 *   checks their nesting and fills in the targets (if -> its else or endif, else -> endif,
 *   endloop -> the instruction after loop, break -> the next else/endif/endloop closing the
 *   innermost open block). An explicit target overrides the filled one.
 * - `.word 0x...` emits one raw 64-bit word (any bits, also undefined instructions).
 * - `.raw` turns off the nesting check for the whole file: if/else/break/endloop then need
 *   explicit targets. The disassembler starts with `.raw`, prints `@N` targets and exact
 *   immediates (floats as %.9g when that reads back to the same bits and is finite, else hex),
 *   and prints `.word` for any word that is undefined or has bits its form does not use.
 * - Errors are reported as "line N: message": unknown mnemonic, bad register, wrong operand
 *   count, bad or out-of-range immediate, unresolved or duplicate label, unbalanced if/loop.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_isa.h"

#define ASM_MAX_OPERANDS 4

static const char *const asm_sreg_names[SIM_SREG_COUNT] = {
	"lane_id",    "group_id_x",  "group_id_y", "groups_x", "groups_y",
	"local_size", "global_id_x", "core_id",	   "args_lo",  "args_hi",
};

struct asm_rec {
	uint64_t word; /* for .word */
	struct sim_isa_insn in;
	uint32_t line;
	bool raw;	    /* .word */
	bool has_target;    /* a target was written (label or @N) */
	const char *label;  /* unresolved label target (points into the source copy) */
	int32_t next_break; /* pending-break list link during nesting resolution */
};

struct asm_label {
	const char *name;
	uint32_t index;
	uint32_t line;
};

struct asm_state {
	char *err;
	size_t err_size;
	struct asm_rec *recs;
	uint32_t count, cap;
	struct asm_label *labels;
	uint32_t nlabels, label_cap;
	bool raw_mode;
};

static int asm_error(struct asm_state *s, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int asm_error(struct asm_state *s, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!s->err || !s->err_size)
		return -EINVAL;
	n = snprintf(s->err, s->err_size, "line %u: ", line);
	if (n >= 0 && (size_t)n < s->err_size) {
		va_start(ap, fmt);
		vsnprintf(s->err + n, s->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char *asm_trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

static bool asm_is_ident(const char *p, size_t len)
{
	if (!len || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '_'))
			return false;
	return true;
}

/* Parse [+-](0x hex | decimal) covering the whole of @p. Returns false on syntax or overflow. */
static bool asm_parse_int(const char *p, bool *neg_out, uint64_t *mag_out)
{
	bool neg = false;
	int base = 10;
	char *end;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!isxdigit((unsigned char)*p))
		return false;
	errno = 0;
	*mag_out = strtoull(p, &end, base);
	if (errno || *end)
		return false;
	*neg_out = neg;
	return true;
}

/* A 32-bit immediate: -2^31..2^32-1 as bits. 0, or -EINVAL with the message written. */
static int asm_parse_imm32(struct asm_state *s, uint32_t line, const char *p, uint32_t *out)
{
	bool neg;
	uint64_t mag;

	if (!asm_parse_int(p, &neg, &mag))
		return asm_error(s, line, "bad immediate '%s'", p);
	if ((neg && mag > 0x80000000ull) || (!neg && mag > 0xffffffffull))
		return asm_error(s, line, "immediate out of range '%s'", p);
	*out = neg ? (uint32_t)(0 - (uint32_t)mag) : (uint32_t)mag;
	return 0;
}

/* A float32 immediate: 0x raw bits, or a decimal value with optional 'f' suffix. */
static int asm_parse_float(struct asm_state *s, uint32_t line, const char *p, uint32_t *out)
{
	const char *q = p;
	char buf[96];
	size_t len = strlen(p);
	char *end;
	float f;

	if (*q == '+' || *q == '-')
		q++;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		return asm_parse_imm32(s, line, p, out);
	if (len && (p[len - 1] == 'f' || p[len - 1] == 'F') && len > 1 &&
	    (isdigit((unsigned char)p[len - 2]) || p[len - 2] == '.'))
		len--;
	if (!len || len >= sizeof(buf))
		return asm_error(s, line, "bad float immediate '%s'", p);
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	f = strtof(buf, &end);
	if (*end || end == buf)
		return asm_error(s, line, "bad float immediate '%s'", p);
	if (errno == ERANGE && isinf(f))
		return asm_error(s, line, "immediate out of range '%s'", p);
	memcpy(out, &f, sizeof(*out));
	return 0;
}

static bool asm_looks_like_reg(const char *p)
{
	return (p[0] == 'r' || p[0] == 'R') && isdigit((unsigned char)p[1]);
}

static int asm_parse_reg(struct asm_state *s, uint32_t line, const char *p, uint8_t *out)
{
	unsigned v = 0;
	const char *q = p + 1;

	if (!asm_looks_like_reg(p))
		return asm_error(s, line, "bad register '%s'", p);
	while (isdigit((unsigned char)*q) && v < 1000)
		v = v * 10 + (unsigned)(*q++ - '0');
	if (*q || v >= SIM_ISA_REGS || (p[1] == '0' && p[2]))
		return asm_error(s, line, "bad register '%s'", p);
	*out = (uint8_t)v;
	return 0;
}

/* Operand b: a register, or an immediate (float when @is_float). */
static int asm_parse_b(struct asm_state *s, uint32_t line, const char *p, bool is_float,
		       struct sim_isa_insn *in)
{
	if (asm_looks_like_reg(p))
		return asm_parse_reg(s, line, p, &in->rb);
	in->has_imm = true;
	return is_float ? asm_parse_float(s, line, p, &in->imm)
			: asm_parse_imm32(s, line, p, &in->imm);
}

static int asm_parse_sreg(struct asm_state *s, uint32_t line, const char *p, uint32_t *out)
{
	for (uint32_t i = 0; i < SIM_SREG_COUNT; i++) {
		if (!strcasecmp(p, asm_sreg_names[i])) {
			*out = i;
			return 0;
		}
	}
	if (isdigit((unsigned char)p[0]))
		return asm_parse_imm32(s, line, p, out);
	return asm_error(s, line, "unknown special register '%s'", p);
}

static int asm_parse_target(struct asm_state *s, uint32_t line, const char *p, struct asm_rec *r)
{
	r->has_target = true;
	if (p[0] == '@') {
		bool neg;
		uint64_t mag;

		if (!asm_parse_int(p + 1, &neg, &mag) || neg || !isdigit((unsigned char)p[1]))
			return asm_error(s, line, "bad target '%s'", p);
		if (mag > 0xffffffffull)
			return asm_error(s, line, "immediate out of range '%s'", p);
		r->in.imm = (uint32_t)mag;
		return 0;
	}
	if (!asm_is_ident(p, strlen(p)))
		return asm_error(s, line, "bad target '%s'", p);
	r->label = p;
	return 0;
}

static bool asm_op_is_structured(uint8_t op)
{
	return op == SIM_OP_IF || op == SIM_OP_ELSE || op == SIM_OP_BREAK || op == SIM_OP_ENDLOOP;
}

/* Operand counts per form: [min, max]. */
static void asm_form_arity(uint8_t op, enum sim_isa_form form, int *min, int *max)
{
	static const signed char arity[] = {
		[SIM_FORM_NONE] = 0,	  [SIM_FORM_RD_B] = 2, [SIM_FORM_RD_RA_B] = 3,
		[SIM_FORM_FMA] = 4,	  [SIM_FORM_SEL] = 4,  [SIM_FORM_SREG] = 2,
		[SIM_FORM_LD] = 3,	  [SIM_FORM_ST] = 3,   [SIM_FORM_LDX] = 4,
		[SIM_FORM_STX] = 4,	  [SIM_FORM_ATOM] = 4, [SIM_FORM_TARGET] = 1,
		[SIM_FORM_RA_TARGET] = 2,
	};

	*min = *max = arity[form];
	if (asm_op_is_structured(op))
		*min = *max - 1; /* the target may be filled in by the nesting pass */
}

/* Fill @r from @ops according to @info's form. */
static int asm_operands(struct asm_state *s, uint32_t line, const struct sim_isa_opinfo *info,
			char **ops, struct asm_rec *r)
{
	struct sim_isa_insn *in = &r->in;
	const bool fb = info->float_b;
	int ret = 0;

	switch (info->form) {
	case SIM_FORM_NONE:
		break;
	case SIM_FORM_RD_B:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_b(s, line, ops[1], fb, in);
		break;
	case SIM_FORM_RD_RA_B:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->ra);
		ret = ret ? ret : asm_parse_b(s, line, ops[2], fb, in);
		break;
	case SIM_FORM_FMA:
	case SIM_FORM_SEL:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->ra);
		ret = ret ? ret : asm_parse_b(s, line, ops[2], fb, in);
		ret = ret ? ret : asm_parse_reg(s, line, ops[3], &in->rc);
		break;
	case SIM_FORM_SREG:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_sreg(s, line, ops[1], &in->imm);
		break;
	case SIM_FORM_LD:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->ra);
		ret = ret ? ret : asm_parse_imm32(s, line, ops[2], &in->imm);
		break;
	case SIM_FORM_ST:
		ret = asm_parse_reg(s, line, ops[0], &in->ra);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->rb);
		ret = ret ? ret : asm_parse_imm32(s, line, ops[2], &in->imm);
		break;
	case SIM_FORM_LDX:
	case SIM_FORM_ATOM:
		ret = asm_parse_reg(s, line, ops[0], &in->rd);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->ra);
		ret = ret ? ret : asm_parse_reg(s, line, ops[2], &in->rb);
		ret = ret ? ret : asm_parse_imm32(s, line, ops[3], &in->imm);
		break;
	case SIM_FORM_STX:
		ret = asm_parse_reg(s, line, ops[0], &in->ra);
		ret = ret ? ret : asm_parse_reg(s, line, ops[1], &in->rb);
		ret = ret ? ret : asm_parse_reg(s, line, ops[2], &in->rc);
		ret = ret ? ret : asm_parse_imm32(s, line, ops[3], &in->imm);
		break;
	case SIM_FORM_TARGET:
		if (ops[0])
			ret = asm_parse_target(s, line, ops[0], r);
		break;
	case SIM_FORM_RA_TARGET:
		ret = asm_parse_reg(s, line, ops[0], &in->ra);
		if (!ret && ops[1])
			ret = asm_parse_target(s, line, ops[1], r);
		break;
	}
	if (!ret && info->form >= SIM_FORM_LD && info->form <= SIM_FORM_ATOM &&
	    in->ra == SIM_ISA_REGS - 1)
		ret = asm_error(s, line, "bad register 'r31': an address needs the pair ra, ra+1");
	return ret;
}

static struct asm_rec *asm_new_rec(struct asm_state *s, uint32_t line)
{
	struct asm_rec *r;

	if (s->count == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct asm_rec *n = realloc(s->recs, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		s->recs = n;
		s->cap = cap;
	}
	r = &s->recs[s->count++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->next_break = -1;
	return r;
}

static int asm_add_label(struct asm_state *s, const char *name, uint32_t line)
{
	if (s->nlabels == s->label_cap) {
		uint32_t cap = s->label_cap ? s->label_cap * 2 : 32;
		struct asm_label *n = realloc(s->labels, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->labels = n;
		s->label_cap = cap;
	}
	s->labels[s->nlabels++] = (struct asm_label){.name = name, .index = s->count, .line = line};
	return 0;
}

/* Split @p at commas into at most ASM_MAX_OPERANDS trimmed operands; returns the count or -1. */
static int asm_split(char *p, char **ops)
{
	int n = 0;

	for (int i = 0; i < ASM_MAX_OPERANDS; i++)
		ops[i] = NULL;
	if (!*p)
		return 0;
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (n == ASM_MAX_OPERANDS)
			return n + 1;
		ops[n++] = asm_trim(p);
		if (!comma)
			return n;
		p = comma + 1;
	}
}

static int asm_find_mnemonic(const char *m, const struct sim_isa_opinfo **info_out)
{
	for (uint32_t op = 0; op < 256; op++) {
		const struct sim_isa_opinfo *info = sim_isa_opinfo(op);

		if (info && !strcasecmp(m, info->name)) {
			*info_out = info;
			return (int)op;
		}
	}
	return -1;
}

/* Assemble one line (comment already stripped, trimmed, label-free). */
static int asm_line(struct asm_state *s, uint32_t line, char *p)
{
	const struct sim_isa_opinfo *info;
	char *mn = p, *ops[ASM_MAX_OPERANDS];
	struct asm_rec *r;
	int op, n, min, max;
	bool movf = false;

	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	p = asm_trim(p);
	n = asm_split(p, ops);
	if (n > 0)
		for (int i = 0; i < n && i < ASM_MAX_OPERANDS; i++)
			if (!*ops[i])
				return asm_error(s, line, "empty operand");

	if (!strcasecmp(mn, ".raw")) {
		if (n)
			return asm_error(s, line, "expected 0 operands, got %d", n);
		s->raw_mode = true;
		return 0;
	}
	if (!strcasecmp(mn, ".word")) {
		bool neg;
		uint64_t mag;

		if (n != 1)
			return asm_error(s, line, "expected 1 operand, got %d", n);
		if (!asm_parse_int(ops[0], &neg, &mag) || neg)
			return asm_error(s, line, "bad word '%s'", ops[0]);
		r = asm_new_rec(s, line);
		if (!r)
			return -ENOMEM;
		r->raw = true;
		r->word = mag;
		return 0;
	}
	if (!strcasecmp(mn, "movf")) {
		movf = true;
		op = SIM_OP_MOV;
		info = sim_isa_opinfo(SIM_OP_MOV);
	} else {
		op = asm_find_mnemonic(mn, &info);
		if (op < 0)
			return asm_error(s, line, "unknown mnemonic '%s'", mn);
	}
	asm_form_arity((uint8_t)op, info->form, &min, &max);
	if (n < min || n > max) {
		if (min == max)
			return asm_error(s, line, "expected %d operand%s, got %d", max,
					 max == 1 ? "" : "s", n);
		return asm_error(s, line, "expected %d or %d operands, got %d", min, max, n);
	}
	r = asm_new_rec(s, line);
	if (!r)
		return -ENOMEM;
	r->in.op = (uint8_t)op;
	if (movf) {
		r->in.has_imm = true;
		if (asm_looks_like_reg(ops[1]))
			return asm_error(s, line, "movf needs a float immediate");
		if (asm_parse_reg(s, line, ops[0], &r->in.rd))
			return -EINVAL;
		return asm_parse_float(s, line, ops[1], &r->in.imm);
	}
	return asm_operands(s, line, info, ops, r);
}

static int asm_label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct asm_label *)a)->name, ((const struct asm_label *)b)->name);
}

static int asm_resolve_labels(struct asm_state *s)
{
	if (s->nlabels)
		qsort(s->labels, s->nlabels, sizeof(*s->labels), asm_label_cmp);
	for (uint32_t i = 1; i < s->nlabels; i++) {
		if (!strcmp(s->labels[i - 1].name, s->labels[i].name)) {
			uint32_t line = s->labels[i - 1].line > s->labels[i].line
						? s->labels[i - 1].line
						: s->labels[i].line;

			return asm_error(s, line, "duplicate label '%s'", s->labels[i].name);
		}
	}
	for (uint32_t i = 0; i < s->count; i++) {
		struct asm_rec *r = &s->recs[i];
		struct asm_label key = {.name = r->label}, *hit;

		if (!r->label)
			continue;
		hit = s->nlabels ? bsearch(&key, s->labels, s->nlabels, sizeof(*s->labels),
					   asm_label_cmp)
				 : NULL;
		if (!hit)
			return asm_error(s, r->line, "unresolved label '%s'", r->label);
		r->in.imm = hit->index;
	}
	return 0;
}

/* An open if or loop during nesting resolution. */
struct asm_nest {
	uint32_t idx;
	int32_t else_idx;
	int32_t breaks; /* head of the pending-break list */
	bool is_loop;
};

static void asm_fill(struct asm_rec *r, uint32_t target)
{
	if (!r->has_target)
		r->in.imm = target;
}

static void asm_fill_breaks(struct asm_state *s, struct asm_nest *n, uint32_t target)
{
	for (int32_t b = n->breaks; b >= 0; b = s->recs[b].next_break)
		asm_fill(&s->recs[b], target);
	n->breaks = -1;
}

/* Check if/else/endif and loop/break/endloop nesting and fill in omitted targets. */
static int asm_resolve_nesting(struct asm_state *s)
{
	struct asm_nest *st = NULL, *top;
	uint32_t sp = 0, i;
	int ret = 0;

	if (s->raw_mode) {
		for (i = 0; i < s->count; i++)
			if (!s->recs[i].raw && asm_op_is_structured(s->recs[i].in.op) &&
			    !s->recs[i].has_target)
				return asm_error(s, s->recs[i].line, "missing target (.raw)");
		return 0;
	}
	st = malloc(((size_t)s->count + 1) * sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (i = 0; i < s->count && !ret; i++) {
		struct asm_rec *r = &s->recs[i];

		top = sp ? &st[sp - 1] : NULL;
		if (r->raw)
			continue;
		switch (r->in.op) {
		case SIM_OP_IF:
		case SIM_OP_LOOP:
			st[sp++] = (struct asm_nest){.idx = i,
						     .else_idx = -1,
						     .breaks = -1,
						     .is_loop = r->in.op == SIM_OP_LOOP};
			break;
		case SIM_OP_ELSE:
			if (!top || top->is_loop || top->else_idx >= 0) {
				ret = asm_error(s, r->line, "else without if");
				break;
			}
			top->else_idx = (int32_t)i;
			asm_fill_breaks(s, top, i);
			break;
		case SIM_OP_ENDIF:
			if (!top || top->is_loop) {
				ret = asm_error(s, r->line, "endif without if");
				break;
			}
			if (top->else_idx >= 0) {
				asm_fill(&s->recs[top->idx], (uint32_t)top->else_idx);
				asm_fill(&s->recs[top->else_idx], i);
			} else {
				asm_fill(&s->recs[top->idx], i);
			}
			asm_fill_breaks(s, top, i);
			sp--;
			break;
		case SIM_OP_BREAK: {
			bool in_loop = false;

			for (uint32_t k = 0; k < sp; k++)
				in_loop |= st[k].is_loop;
			if (!in_loop) {
				ret = asm_error(s, r->line, "break outside loop");
				break;
			}
			r->next_break = top->breaks;
			top->breaks = (int32_t)i;
			break;
		}
		case SIM_OP_ENDLOOP:
			if (!top || !top->is_loop) {
				ret = asm_error(s, r->line, "endloop without loop");
				break;
			}
			asm_fill(r, top->idx + 1);
			asm_fill_breaks(s, top, i);
			sp--;
			break;
		default:
			break;
		}
	}
	if (!ret && sp)
		ret = asm_error(s, s->recs[st[sp - 1].idx].line, "unbalanced %s",
				st[sp - 1].is_loop ? "loop" : "if");
	free(st);
	return ret;
}

/*
 * sim_asm_assemble - see sim_isa.h; the syntax is described at the top of this file.
 * Thread-safe; allocates only the returned array on success.
 */
int sim_asm_assemble(const char *src, uint64_t **code_out, uint32_t *count_out, char *err,
		     size_t err_size)
{
	struct asm_state s = {.err = err, .err_size = err_size};
	uint64_t *code = NULL;
	char *copy, *p;
	uint32_t line = 0;
	int ret = 0;

	if (err && err_size)
		err[0] = '\0';
	copy = strdup(src ? src : "");
	if (!copy)
		return -ENOMEM;

	for (p = copy; p && !ret;) {
		char *nl = strchr(p, '\n'), *c, *q;

		line++;
		if (nl)
			*nl = '\0';
		c = strpbrk(p, "#;");
		if (c)
			*c = '\0';
		q = asm_trim(p);
		/* leading labels */
		for (;;) {
			char *colon = strchr(q, ':');

			if (!colon || !asm_is_ident(q, (size_t)(colon - q)))
				break;
			*colon = '\0';
			ret = asm_add_label(&s, q, line);
			if (ret)
				break;
			q = asm_trim(colon + 1);
		}
		if (!ret && *q)
			ret = asm_line(&s, line, q);
		p = nl ? nl + 1 : NULL;
	}
	if (!ret)
		ret = asm_resolve_labels(&s);
	if (!ret)
		ret = asm_resolve_nesting(&s);
	if (!ret) {
		code = malloc(((size_t)s.count + 1) * sizeof(*code));
		if (!code)
			ret = -ENOMEM;
	}
	if (!ret) {
		for (uint32_t i = 0; i < s.count; i++)
			code[i] = s.recs[i].raw ? s.recs[i].word : sim_isa_encode(&s.recs[i].in);
		*code_out = code;
		*count_out = s.count;
	}
	free(s.recs);
	free(s.labels);
	free(copy);
	return ret;
}

/* ---- Disassembler ---- */

struct asm_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void asm_printf(struct asm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void asm_printf(struct asm_buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || b->oom)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *np;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, tmp, (size_t)n + 1);
	b->len += (size_t)n;
}

/* The canonical instruction for @in: only the fields its form uses. */
static struct sim_isa_insn asm_canonical(const struct sim_isa_insn *in, enum sim_isa_form form)
{
	struct sim_isa_insn c = {.op = in->op};
	bool b = form == SIM_FORM_RD_B || form == SIM_FORM_RD_RA_B || form == SIM_FORM_FMA ||
		 form == SIM_FORM_SEL;

	if (b) {
		c.has_imm = in->has_imm;
		if (in->has_imm)
			c.imm = in->imm;
		else
			c.rb = in->rb;
	}
	if (form != SIM_FORM_NONE && form != SIM_FORM_ST && form != SIM_FORM_STX &&
	    form != SIM_FORM_TARGET && form != SIM_FORM_RA_TARGET)
		c.rd = in->rd;
	if (form == SIM_FORM_RD_RA_B || form == SIM_FORM_FMA || form == SIM_FORM_SEL ||
	    (form >= SIM_FORM_LD && form <= SIM_FORM_ATOM) || form == SIM_FORM_RA_TARGET)
		c.ra = in->ra;
	if (form == SIM_FORM_ST || form == SIM_FORM_LDX || form == SIM_FORM_STX ||
	    form == SIM_FORM_ATOM)
		c.rb = in->rb;
	if (form == SIM_FORM_FMA || form == SIM_FORM_SEL || form == SIM_FORM_STX)
		c.rc = in->rc;
	if (form == SIM_FORM_SREG || (form >= SIM_FORM_LD && form <= SIM_FORM_ATOM) ||
	    form == SIM_FORM_TARGET || form == SIM_FORM_RA_TARGET)
		c.imm = in->imm;
	return c;
}

/* Operand b as text into @out. */
static void asm_format_b(const struct sim_isa_insn *in, bool is_float, char *out, size_t size)
{
	int32_t v = (int32_t)in->imm;

	if (!in->has_imm) {
		snprintf(out, size, "r%u", in->rb);
		return;
	}
	if (is_float) {
		float f, back;

		memcpy(&f, &in->imm, sizeof(f));
		if (isfinite(f)) {
			uint32_t bits;

			snprintf(out, size, "%.9g", (double)f);
			back = strtof(out, NULL);
			memcpy(&bits, &back, sizeof(bits));
			if (bits == in->imm)
				return;
		}
		snprintf(out, size, "0x%" PRIx32, in->imm);
		return;
	}
	if (v >= -65536 && v <= 65535)
		snprintf(out, size, "%" PRId32, v);
	else
		snprintf(out, size, "0x%" PRIx32, in->imm);
}

static void asm_disasm_one(struct asm_buf *b, uint64_t word)
{
	const struct sim_isa_opinfo *info;
	struct sim_isa_insn in, c;
	char bs[48];

	if (sim_isa_decode(word, &in)) {
		asm_printf(b, ".word 0x%016" PRIx64, word);
		return;
	}
	info = sim_isa_opinfo(in.op);
	c = asm_canonical(&in, info->form);
	if (sim_isa_encode(&c) != word) {
		asm_printf(b, ".word 0x%016" PRIx64, word);
		return;
	}
	asm_format_b(&in, info->float_b, bs, sizeof(bs));
	switch (info->form) {
	case SIM_FORM_NONE:
		asm_printf(b, "%s", info->name);
		break;
	case SIM_FORM_RD_B:
		asm_printf(b, "%s r%u, %s", info->name, in.rd, bs);
		break;
	case SIM_FORM_RD_RA_B:
		asm_printf(b, "%s r%u, r%u, %s", info->name, in.rd, in.ra, bs);
		break;
	case SIM_FORM_FMA:
	case SIM_FORM_SEL:
		asm_printf(b, "%s r%u, r%u, %s, r%u", info->name, in.rd, in.ra, bs, in.rc);
		break;
	case SIM_FORM_SREG:
		if (in.imm < SIM_SREG_COUNT)
			asm_printf(b, "%s r%u, %s", info->name, in.rd, asm_sreg_names[in.imm]);
		else
			asm_printf(b, "%s r%u, %" PRIu32, info->name, in.rd, in.imm);
		break;
	case SIM_FORM_LD:
		asm_printf(b, "%s r%u, r%u, %" PRId32, info->name, in.rd, in.ra, (int32_t)in.imm);
		break;
	case SIM_FORM_ST:
		asm_printf(b, "%s r%u, r%u, %" PRId32, info->name, in.ra, in.rb, (int32_t)in.imm);
		break;
	case SIM_FORM_LDX:
	case SIM_FORM_ATOM:
		asm_printf(b, "%s r%u, r%u, r%u, %" PRId32, info->name, in.rd, in.ra, in.rb,
			   (int32_t)in.imm);
		break;
	case SIM_FORM_STX:
		asm_printf(b, "%s r%u, r%u, r%u, %" PRId32, info->name, in.ra, in.rb, in.rc,
			   (int32_t)in.imm);
		break;
	case SIM_FORM_TARGET:
		asm_printf(b, "%s @%" PRIu32, info->name, in.imm);
		break;
	case SIM_FORM_RA_TARGET:
		asm_printf(b, "%s r%u, @%" PRIu32, info->name, in.ra, in.imm);
		break;
	}
}

/*
 * sim_asm_disassemble - see sim_isa.h. The text starts with ".raw" and carries the index of each
 * instruction as a trailing comment. Thread-safe.
 */
int sim_asm_disassemble(const uint64_t *code, uint32_t count, char **text_out)
{
	struct asm_buf b = {0};

	asm_printf(&b, ".raw\n");
	for (uint32_t i = 0; i < count; i++) {
		size_t start = b.len;

		asm_disasm_one(&b, code[i]);
		if (b.oom)
			break;
		asm_printf(&b, "%*s# %u\n", (int)(b.len - start < 40 ? 40 - (b.len - start) : 1),
			   "", i);
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*text_out = b.p;
	return 0;
}

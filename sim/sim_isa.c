/* SPDX-License-Identifier: MIT */
/*
 * sim_isa.c - the SIM-1 compute ISA tables: one description per opcode (mnemonic, operand form,
 * whether operand b is a float32), and the pure word <-> struct sim_isa_insn packing that the
 * compute engine, the assembler and the disassembler share. Nothing here touches a device; all
 * functions are pure and thread-safe. Semantics of each opcode live in sim_compute.c and
 * sim/include/sim/sim_isa.h; this file only knows the encoding.
 */
#include <errno.h>

#include "sim/sim_isa.h"

#define OPI(op_, name_, form_, fb_) [op_] = {.name = (name_), .form = (form_), .float_b = (fb_)}

/* Indexed by opcode; entries with name NULL are undefined opcodes. */
static const struct sim_isa_opinfo sim_isa_table[256] = {
	OPI(SIM_OP_NOP, "nop", SIM_FORM_NONE, false),
	OPI(SIM_OP_MOV, "mov", SIM_FORM_RD_B, false),
	OPI(SIM_OP_ADD, "add", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SUB, "sub", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MUL, "mul", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MULHU, "mulhu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_DIVU, "divu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_REMU, "remu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_DIVS, "divs", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_REMS, "rems", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_AND, "and", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_OR, "or", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_XOR, "xor", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SHL, "shl", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SHR, "shr", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SAR, "sar", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MIN, "min", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MAX, "max", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MINU, "minu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_MAXU, "maxu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_NOT, "not", SIM_FORM_RD_B, false),
	OPI(SIM_OP_FADD, "fadd", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FSUB, "fsub", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FMUL, "fmul", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FDIV, "fdiv", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FMIN, "fmin", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FMAX, "fmax", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FMA, "fma", SIM_FORM_FMA, true),
	OPI(SIM_OP_I2F, "i2f", SIM_FORM_RD_B, false),
	OPI(SIM_OP_U2F, "u2f", SIM_FORM_RD_B, false),
	OPI(SIM_OP_F2I, "f2i", SIM_FORM_RD_B, true),
	OPI(SIM_OP_F2U, "f2u", SIM_FORM_RD_B, true),
	OPI(SIM_OP_FSQRT, "fsqrt", SIM_FORM_RD_B, true),
	OPI(SIM_OP_FABS, "fabs", SIM_FORM_RD_B, true),
	OPI(SIM_OP_FNEG, "fneg", SIM_FORM_RD_B, true),
	OPI(SIM_OP_SEQ, "seq", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SNE, "sne", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SLT, "slt", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SLTU, "sltu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SLE, "sle", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_SLEU, "sleu", SIM_FORM_RD_RA_B, false),
	OPI(SIM_OP_FSEQ, "fseq", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FSLT, "fslt", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_FSLE, "fsle", SIM_FORM_RD_RA_B, true),
	OPI(SIM_OP_SEL, "sel", SIM_FORM_SEL, false),
	OPI(SIM_OP_SREG, "sreg", SIM_FORM_SREG, false),
	OPI(SIM_OP_LD, "ld", SIM_FORM_LD, false),
	OPI(SIM_OP_ST, "st", SIM_FORM_ST, false),
	OPI(SIM_OP_LDX, "ldx", SIM_FORM_LDX, false),
	OPI(SIM_OP_STX, "stx", SIM_FORM_STX, false),
	OPI(SIM_OP_ATOMADD, "atomadd", SIM_FORM_ATOM, false),
	OPI(SIM_OP_BRA, "bra", SIM_FORM_TARGET, false),
	OPI(SIM_OP_BRANY, "brany", SIM_FORM_RA_TARGET, false),
	OPI(SIM_OP_IF, "if", SIM_FORM_RA_TARGET, false),
	OPI(SIM_OP_ELSE, "else", SIM_FORM_TARGET, false),
	OPI(SIM_OP_ENDIF, "endif", SIM_FORM_NONE, false),
	OPI(SIM_OP_LOOP, "loop", SIM_FORM_NONE, false),
	OPI(SIM_OP_BREAK, "break", SIM_FORM_RA_TARGET, false),
	OPI(SIM_OP_ENDLOOP, "endloop", SIM_FORM_TARGET, false),
	OPI(SIM_OP_EXIT, "exit", SIM_FORM_NONE, false),
};

/* sim_isa_opinfo - see sim_isa.h. Pure; thread-safe. */
const struct sim_isa_opinfo *sim_isa_opinfo(uint32_t op)
{
	if (op > 0xff || !sim_isa_table[op].name)
		return NULL;
	return &sim_isa_table[op];
}

/* sim_isa_encode - see sim_isa.h. Pure; thread-safe. */
uint64_t sim_isa_encode(const struct sim_isa_insn *insn)
{
	uint64_t w = insn->op;

	w |= (uint64_t)(insn->rd & 31u) << SIM_ISA_RD__SHIFT;
	w |= (uint64_t)(insn->ra & 31u) << SIM_ISA_RA__SHIFT;
	w |= (uint64_t)(insn->rb & 31u) << SIM_ISA_RB__SHIFT;
	w |= (uint64_t)(insn->rc & 31u) << SIM_ISA_RC__SHIFT;
	if (insn->has_imm)
		w |= SIM_ISA_I_BIT;
	w |= (uint64_t)insn->imm << SIM_ISA_IMM__SHIFT;
	return w;
}

static bool sim_isa_form_is_memory(enum sim_isa_form form)
{
	return form == SIM_FORM_LD || form == SIM_FORM_ST || form == SIM_FORM_LDX ||
	       form == SIM_FORM_STX || form == SIM_FORM_ATOM;
}

/* sim_isa_decode - see sim_isa.h. Pure; thread-safe. */
int sim_isa_decode(uint64_t word, struct sim_isa_insn *out)
{
	const struct sim_isa_opinfo *info;

	out->op = (uint8_t)(word & SIM_ISA_OPCODE__MASK);
	out->rd = (uint8_t)((word >> SIM_ISA_RD__SHIFT) & 31u);
	out->ra = (uint8_t)((word >> SIM_ISA_RA__SHIFT) & 31u);
	out->rb = (uint8_t)((word >> SIM_ISA_RB__SHIFT) & 31u);
	out->rc = (uint8_t)((word >> SIM_ISA_RC__SHIFT) & 31u);
	out->has_imm = (word & SIM_ISA_I_BIT) != 0;
	out->imm = (uint32_t)(word >> SIM_ISA_IMM__SHIFT);

	info = sim_isa_opinfo(out->op);
	if (!info || (word & SIM_ISA_RESERVED__MASK))
		return -EINVAL;
	if (sim_isa_form_is_memory(info->form) && out->ra == SIM_ISA_REGS - 1)
		return -EINVAL;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * sim_isa.h - the SIM-1 compute instruction set: encoding, decoding and the assembler.
 *
 * Every instruction is one little-endian 64-bit word:
 *
 *   bits  0-7   opcode (SIM_OP_*)
 *   bits  8-12  rd      destination register
 *   bits 13-17  ra      first source register
 *   bits 18-22  rb      second source register (ignored when I is set)
 *   bit  23     I       the second operand "b" is imm instead of rb
 *   bits 24-28  rc      third source register (SEL, FMA, STX, ATOMADD) else 0
 *   bits 29-31  reserved, must be 0 (else SIM_FAULT_COMPUTE_ILLEGAL)
 *   bits 32-63  imm     32-bit immediate: operand b, a signed byte offset (memory), a special
 *                       register number (SREG) or an absolute instruction index (branches)
 *
 * Each lane has 32 registers r0..r31 of 32 bits holding integers or float32 bit patterns.
 * At launch r0/r1 = args pointer (lo/hi), r2 = global invocation x, r3 = group id y, all others
 * 0. Addresses are 64-bit register pairs: "[ra]" means the VA (r[ra+1] << 32 | r[ra]), so a
 * memory instruction with ra = 31 is undefined (SIM_FAULT_COMPUTE_ILLEGAL).
 * Control flow is structured (IF/ELSE/ENDIF, LOOP/BREAK/ENDLOOP) over a per-group active-lane
 * mask with a 16-entry stack; BRA and BRANY are uniform jumps. docs/sim-gpu.md "Compute ISA"
 * gives the semantics and cycle cost of every instruction.
 */
#ifndef SIM_ISA_H
#define SIM_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define SIM_ISA_REGS            32
#define SIM_ISA_STACK_DEPTH     16

/* Integer ALU: rd = ra OP b */
#define SIM_OP_NOP      0x00
#define SIM_OP_MOV      0x01  /* rd = b */
#define SIM_OP_ADD      0x02
#define SIM_OP_SUB      0x03
#define SIM_OP_MUL      0x04  /* low 32 bits */
#define SIM_OP_MULHU    0x05  /* high 32 bits, unsigned */
#define SIM_OP_DIVU     0x06  /* b == 0 faults DIV_ZERO */
#define SIM_OP_REMU     0x07
#define SIM_OP_DIVS     0x08  /* INT32_MIN / -1 = INT32_MIN */
#define SIM_OP_REMS     0x09  /* INT32_MIN % -1 = 0 */
#define SIM_OP_AND      0x0a
#define SIM_OP_OR       0x0b
#define SIM_OP_XOR      0x0c
#define SIM_OP_SHL      0x0d  /* shift count b & 31 */
#define SIM_OP_SHR      0x0e  /* logical */
#define SIM_OP_SAR      0x0f  /* arithmetic */
#define SIM_OP_MIN      0x10  /* signed */
#define SIM_OP_MAX      0x11
#define SIM_OP_MINU     0x12
#define SIM_OP_MAXU     0x13
#define SIM_OP_NOT      0x14  /* rd = ~b */
/* Float32 ALU (IEEE-754, round to nearest even): rd = ra OP b */
#define SIM_OP_FADD     0x18
#define SIM_OP_FSUB     0x19
#define SIM_OP_FMUL     0x1a
#define SIM_OP_FDIV     0x1b
#define SIM_OP_FMIN     0x1c
#define SIM_OP_FMAX     0x1d
#define SIM_OP_FMA      0x1e  /* rd = ra * b + rc (fused) */
/* Conversions and unary float ops: rd = OP(b) */
#define SIM_OP_I2F      0x20  /* signed int to float */
#define SIM_OP_U2F      0x21
#define SIM_OP_F2I      0x22  /* truncate, saturate, NaN -> 0 */
#define SIM_OP_F2U      0x23
#define SIM_OP_FSQRT    0x24
#define SIM_OP_FABS     0x25
#define SIM_OP_FNEG     0x26
/* Compare: rd = (ra CMP b) ? 1 : 0; select: rd = rc ? ra : b */
#define SIM_OP_SEQ      0x28
#define SIM_OP_SNE      0x29
#define SIM_OP_SLT      0x2a  /* signed */
#define SIM_OP_SLTU     0x2b
#define SIM_OP_SLE      0x2c
#define SIM_OP_SLEU     0x2d
#define SIM_OP_FSEQ     0x2e  /* false if either is NaN */
#define SIM_OP_FSLT     0x2f
#define SIM_OP_FSLE     0x30
#define SIM_OP_SEL      0x31
/* Special registers: rd = SREG[imm] */
#define SIM_OP_SREG     0x38
#define   SIM_SREG_LANE_ID      0
#define   SIM_SREG_GROUP_ID_X   1
#define   SIM_SREG_GROUP_ID_Y   2
#define   SIM_SREG_GROUPS_X     3
#define   SIM_SREG_GROUPS_Y     4
#define   SIM_SREG_LOCAL_SIZE   5
#define   SIM_SREG_GLOBAL_ID_X  6  /* group_id_x * local_size + lane_id */
#define   SIM_SREG_CORE_ID      7
#define   SIM_SREG_ARGS_LO      8
#define   SIM_SREG_ARGS_HI      9
#define   SIM_SREG_COUNT        10
/* Memory (32-bit words, 4-byte aligned, through the job's address space) */
#define SIM_OP_LD       0x40  /* rd = [ra + simm] */
#define SIM_OP_ST       0x41  /* [ra + simm] = rb */
#define SIM_OP_LDX      0x42  /* rd = [ra + zext(rb) + simm] */
#define SIM_OP_STX      0x43  /* [ra + zext(rb) + simm] = rc */
#define SIM_OP_ATOMADD  0x44  /* rd = [ra + simm]; [ra + simm] += rb (lanes in order) */
/* Control flow (imm = absolute instruction index) */
#define SIM_OP_BRA      0x50  /* uniform jump */
#define SIM_OP_BRANY    0x51  /* jump if any active lane has ra != 0 */
#define SIM_OP_IF       0x52  /* push; active &= ra != 0; none left: jump to imm (ELSE/ENDIF) */
#define SIM_OP_ELSE     0x53  /* active = pushed & ~taken; none left: jump to imm (ENDIF) */
#define SIM_OP_ENDIF    0x54  /* pop */
#define SIM_OP_LOOP     0x55  /* push loop entry */
#define SIM_OP_BREAK    0x56  /* lanes with ra != 0 leave the loop; none left: jump to imm */
#define SIM_OP_ENDLOOP  0x57  /* lanes left: jump to imm (after LOOP); else pop */
#define SIM_OP_EXIT     0x5f  /* active lanes finish; the group ends when no lane is left */

#define SIM_ISA_OPCODE__MASK    0x00000000000000ffull
#define SIM_ISA_RD__SHIFT       8
#define SIM_ISA_RA__SHIFT       13
#define SIM_ISA_RB__SHIFT       18
#define SIM_ISA_I_BIT           (1ull << 23)
#define SIM_ISA_RC__SHIFT       24
#define SIM_ISA_RESERVED__MASK  0x00000000e0000000ull
#define SIM_ISA_IMM__SHIFT      32
/* clang-format on */

/* A decoded instruction. */
struct sim_isa_insn {
	uint8_t op;
	uint8_t rd, ra, rb, rc;
	bool has_imm;
	uint32_t imm;
};

/* Operand classes, for the assembler, disassembler and decoder. */
enum sim_isa_form {
	SIM_FORM_NONE,	    /* NOP, ENDIF, LOOP, EXIT */
	SIM_FORM_RD_B,	    /* MOV, NOT, conversions: rd, b */
	SIM_FORM_RD_RA_B,   /* ALU, compare: rd, ra, b */
	SIM_FORM_FMA,	    /* rd, ra, b, rc */
	SIM_FORM_SEL,	    /* rd, ra, b, rc */
	SIM_FORM_SREG,	    /* rd, sreg */
	SIM_FORM_LD,	    /* rd, ra, simm */
	SIM_FORM_ST,	    /* ra, rb, simm */
	SIM_FORM_LDX,	    /* rd, ra, rb, simm */
	SIM_FORM_STX,	    /* ra, rb, rc, simm */
	SIM_FORM_ATOM,	    /* rd, ra, rb, simm */
	SIM_FORM_TARGET,    /* target: BRA, ELSE, ENDLOOP */
	SIM_FORM_RA_TARGET, /* ra, target: BRANY, IF, BREAK */
};

struct sim_isa_opinfo {
	const char *name; /* lower-case mnemonic */
	enum sim_isa_form form;
	bool float_b; /* operand b is a float32 */
};

/* sim_isa_opinfo - description of @op, or NULL when @op is undefined. Pure; thread-safe. */
const struct sim_isa_opinfo *sim_isa_opinfo(uint32_t op);

/* sim_isa_encode - pack @insn into a word. Fields are masked to their widths. Pure. */
uint64_t sim_isa_encode(const struct sim_isa_insn *insn);

/*
 * sim_isa_decode - unpack @word. Returns 0, or -EINVAL for an undefined opcode, reserved bits
 * set, or a memory instruction with ra = 31. Fields the opcode's form does not use are ignored.
 * @out is filled in either case. Pure.
 */
int sim_isa_decode(uint64_t word, struct sim_isa_insn *out);

/*
 * sim_asm_assemble - assemble @src (see docs/sim-gpu.md "Assembly syntax") into instruction
 * words. On success returns 0 and stores a malloc'd array in *@code_out (caller frees) and its
 * length in *@count_out. On error returns -EINVAL and writes "line N: message" into @err (at
 * most @err_size bytes, NUL-terminated) when @err is not NULL; nothing is allocated. Returns
 * -ENOMEM when allocation fails. Thread-safe (no shared state).
 */
int sim_asm_assemble(const char *src, uint64_t **code_out, uint32_t *count_out, char *err,
		     size_t err_size);

/*
 * sim_asm_disassemble - render @count words as assembly text that sim_asm_assemble turns back
 * into the same words (undefined words become ".word 0x..." lines). Stores a malloc'd
 * NUL-terminated string in *@text_out (caller frees). Returns 0 or -ENOMEM. Thread-safe.
 */
int sim_asm_disassemble(const uint64_t *code, uint32_t count, char **text_out);

#ifdef __cplusplus
}
#endif

#endif /* SIM_ISA_H */

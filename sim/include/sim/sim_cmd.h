/* SPDX-License-Identifier: MIT */
/*
 * sim_cmd.h - command-stream encoding of the SIM-1 command processor.
 *
 * A command buffer is a sequence of little-endian 32-bit words. Each command is a header word
 * followed by exactly the payload length its opcode requires (the header repeats that length so
 * a decoder can skip commands it does not know; a header whose length disagrees with the opcode
 * faults with SIM_FAULT_BAD_LENGTH). 64-bit values are two words, low word first. Every address
 * is a GPU virtual address in the job's address space. Encoding helpers are static inline so the
 * header serves the model, the driver, client drivers and traces alike. docs/sim-gpu.md section
 * "Command stream" describes each command's semantics and cost.
 */
#ifndef SIM_CMD_H
#define SIM_CMD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define SIM_CMD_OPCODE__MASK          0x000000ffu
#define SIM_CMD_OPCODE__SHIFT         0
#define SIM_CMD_FLAGS__MASK           0x0000ff00u
#define SIM_CMD_FLAGS__SHIFT          8
#define SIM_CMD_LEN__MASK             0xffff0000u  /* payload dwords after the header */
#define SIM_CMD_LEN__SHIFT            16

/*                                      opcode   payload dwords */
#define SIM_CMD_NOP                   0x00  /* any: skipped */
#define SIM_CMD_WRITE32               0x01  /* 3: addr_lo addr_hi value */
#define SIM_CMD_WRITE64               0x02  /* 4: addr_lo addr_hi value_lo value_hi */
#define SIM_CMD_COPY                  0x03  /* 6: dst_lo dst_hi src_lo src_hi size_lo size_hi */
#define SIM_CMD_FILL                  0x04  /* 5: dst_lo dst_hi size_lo size_hi pattern */
#define SIM_CMD_TIMESTAMP             0x05  /* 2: addr_lo addr_hi (u64 ns; flag CYCLES: cycles) */
#define SIM_CMD_WAIT                  0x06  /* 4: addr_lo addr_hi ref_lo ref_hi */
#define SIM_CMD_SIGNAL                0x07  /* 4: addr_lo addr_hi value_lo value_hi */
#define SIM_CMD_DISPATCH              0x08  /* 8: prog_lo prog_hi prog_count args_lo args_hi gx gy local */
#define SIM_CMD_JUMP                  0x09  /* 3: addr_lo addr_hi size (bytes) */
#define SIM_CMD_END                   0x0a  /* 0 */
#define SIM_CMD_INTERRUPT             0x0b  /* 1: payload */
#define SIM_CMD_OPCODE_COUNT          0x0c

/* TIMESTAMP flags */
#define SIM_CMD_TS_CYCLES             0x01  /* write CYCLE_COUNT instead of TIMESTAMP */
/* WAIT flags: bits 0-2 compare op, bit 3 64-bit word (else 32-bit; ref_hi ignored) */
#define SIM_CMD_WAIT_OP__MASK         0x07u
#define SIM_CMD_WAIT_EQ               0   /* *addr == ref */
#define SIM_CMD_WAIT_NE               1
#define SIM_CMD_WAIT_GE               2   /* unsigned */
#define SIM_CMD_WAIT_GT               3
#define SIM_CMD_WAIT_LE               4
#define SIM_CMD_WAIT_LT               5
#define SIM_CMD_WAIT_64               0x08
/* SIGNAL flags: bit 0 ADD (else SET), bit 3 64-bit word */
#define SIM_CMD_SIGNAL_ADD            0x01
#define SIM_CMD_SIGNAL_64             0x08

#define SIM_DISPATCH_MAX_PROGRAM      65536  /* instructions */
/* clang-format on */

static inline uint32_t sim_cmd_header(uint32_t opcode, uint32_t flags, uint32_t payload_dwords)
{
	return (opcode & 0xffu) | ((flags & 0xffu) << 8) | (payload_dwords << 16);
}

static inline uint32_t sim_cmd_lo(uint64_t v)
{
	return (uint32_t)v;
}

static inline uint32_t sim_cmd_hi(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

/*
 * Emitters: each writes one command at @p and returns the number of dwords written. @p must have
 * room (the count is the header plus the payload listed above). Pure; thread-safe.
 */
static inline uint32_t sim_cmd_emit_write32(uint32_t *p, uint64_t va, uint32_t value)
{
	p[0] = sim_cmd_header(SIM_CMD_WRITE32, 0, 3);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	p[3] = value;
	return 4;
}

static inline uint32_t sim_cmd_emit_write64(uint32_t *p, uint64_t va, uint64_t value)
{
	p[0] = sim_cmd_header(SIM_CMD_WRITE64, 0, 4);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	p[3] = sim_cmd_lo(value);
	p[4] = sim_cmd_hi(value);
	return 5;
}

static inline uint32_t sim_cmd_emit_copy(uint32_t *p, uint64_t dst, uint64_t src, uint64_t size)
{
	p[0] = sim_cmd_header(SIM_CMD_COPY, 0, 6);
	p[1] = sim_cmd_lo(dst);
	p[2] = sim_cmd_hi(dst);
	p[3] = sim_cmd_lo(src);
	p[4] = sim_cmd_hi(src);
	p[5] = sim_cmd_lo(size);
	p[6] = sim_cmd_hi(size);
	return 7;
}

static inline uint32_t sim_cmd_emit_fill(uint32_t *p, uint64_t dst, uint64_t size, uint32_t pattern)
{
	p[0] = sim_cmd_header(SIM_CMD_FILL, 0, 5);
	p[1] = sim_cmd_lo(dst);
	p[2] = sim_cmd_hi(dst);
	p[3] = sim_cmd_lo(size);
	p[4] = sim_cmd_hi(size);
	p[5] = pattern;
	return 6;
}

static inline uint32_t sim_cmd_emit_timestamp(uint32_t *p, uint64_t va, uint32_t flags)
{
	p[0] = sim_cmd_header(SIM_CMD_TIMESTAMP, flags, 2);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	return 3;
}

static inline uint32_t sim_cmd_emit_wait(uint32_t *p, uint64_t va, uint64_t ref, uint32_t flags)
{
	p[0] = sim_cmd_header(SIM_CMD_WAIT, flags, 4);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	p[3] = sim_cmd_lo(ref);
	p[4] = sim_cmd_hi(ref);
	return 5;
}

static inline uint32_t sim_cmd_emit_signal(uint32_t *p, uint64_t va, uint64_t value, uint32_t flags)
{
	p[0] = sim_cmd_header(SIM_CMD_SIGNAL, flags, 4);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	p[3] = sim_cmd_lo(value);
	p[4] = sim_cmd_hi(value);
	return 5;
}

static inline uint32_t sim_cmd_emit_dispatch(uint32_t *p, uint64_t prog_va, uint32_t prog_count,
					     uint64_t args_va, uint32_t groups_x, uint32_t groups_y,
					     uint32_t local_size)
{
	p[0] = sim_cmd_header(SIM_CMD_DISPATCH, 0, 8);
	p[1] = sim_cmd_lo(prog_va);
	p[2] = sim_cmd_hi(prog_va);
	p[3] = prog_count;
	p[4] = sim_cmd_lo(args_va);
	p[5] = sim_cmd_hi(args_va);
	p[6] = groups_x;
	p[7] = groups_y;
	p[8] = local_size;
	return 9;
}

static inline uint32_t sim_cmd_emit_jump(uint32_t *p, uint64_t va, uint32_t size_bytes)
{
	p[0] = sim_cmd_header(SIM_CMD_JUMP, 0, 3);
	p[1] = sim_cmd_lo(va);
	p[2] = sim_cmd_hi(va);
	p[3] = size_bytes;
	return 4;
}

static inline uint32_t sim_cmd_emit_end(uint32_t *p)
{
	p[0] = sim_cmd_header(SIM_CMD_END, 0, 0);
	return 1;
}

static inline uint32_t sim_cmd_emit_interrupt(uint32_t *p, uint32_t payload)
{
	p[0] = sim_cmd_header(SIM_CMD_INTERRUPT, 0, 1);
	p[1] = payload;
	return 2;
}

static inline uint32_t sim_cmd_emit_nop(uint32_t *p, uint32_t payload_dwords)
{
	p[0] = sim_cmd_header(SIM_CMD_NOP, 0, payload_dwords);
	for (uint32_t i = 0; i < payload_dwords; i++)
		p[1 + i] = 0;
	return 1 + payload_dwords;
}

/* sim_cmd_payload_len - payload dwords @opcode requires; -1 for NOP (any) or unknown. Pure. */
static inline int sim_cmd_payload_len(uint32_t opcode)
{
	static const signed char len[SIM_CMD_OPCODE_COUNT] = {-1, 3, 4, 6, 5, 2, 4, 4, 8, 3, 0, 1};
	return opcode < SIM_CMD_OPCODE_COUNT ? len[opcode] : -1;
}

/* sim_cmd_name - "COPY" etc., or NULL for an unknown opcode. Pure. */
const char *sim_cmd_name(uint32_t opcode);

#ifdef __cplusplus
}
#endif

#endif /* SIM_CMD_H */

/* SPDX-License-Identifier: MIT */
/*
 * magma_sim_defs.h - what a client driver needs to drive the simulated GPU through Magma.
 *
 * The vendor header of msd-sim, in the role intel's or mali's *_defs.h play for their drivers:
 * vendor and device ids, vendor queries, how command buffers are laid out, notification
 * payloads, and the compute ISA assembler. The command-stream encoding itself is the hardware's
 * (sim/include/sim/sim_cmd.h); the ISA is sim/include/sim/sim_isa.h. Pure definitions; no state.
 */
#ifndef MAGMA_SIM_DEFS_H
#define MAGMA_SIM_DEFS_H

#include <stdint.h>

#include "sim/sim_cmd.h"  /* IWYU pragma: export -- command-stream opcodes and emitters */
#include "sim/sim_isa.h"  /* IWYU pragma: export -- sim_asm_assemble / sim_asm_disassemble */
#include "sim/sim_regs.h" /* IWYU pragma: export -- SIM_FAULT_* codes of fault notifications */

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define MAGMA_SIM_VENDOR_ID            0x5349u  /* MAGMA_QUERY_VENDOR_ID (== SIM_VENDOR_ID) */
#define MAGMA_SIM_VENDOR_VERSION       1u       /* MAGMA_QUERY_VENDOR_VERSION */

/* Vendor queries (magma_device_query ids). */
#define MAGMA_SIM_QUERY_FEATURES       (10000u + 0)  /* simple: SIM_GPU_FEATURES */
#define MAGMA_SIM_QUERY_CONFIG         (10000u + 1)  /* simple: CONFIG1 << 32 | CONFIG0 */
#define MAGMA_SIM_QUERY_CLOCK_HZ       (10000u + 2)  /* simple: base clock in Hz */
#define MAGMA_SIM_QUERY_TIMESTAMP      (10000u + 3)  /* buffer: struct magma_sim_timestamp */
#define MAGMA_SIM_QUERY_GPU_VA_LIMIT   (10000u + 4)  /* simple: first GPU VA clients may not map */
#define MAGMA_SIM_QUERY_POWER          (10000u + 5)  /* simple: CLOCK_DIV << 32 | CORES_READY */

/*
 * Client GPU address space: [MAGMA_SIM_GPU_VA_MIN, MAGMA_SIM_GPU_VA_LIMIT). The range above the
 * limit is reserved for the system driver (inline commands and other driver-owned pages).
 */
#define MAGMA_SIM_GPU_VA_MIN           0x0000000000001000ull
#define MAGMA_SIM_GPU_VA_LIMIT         0x00007f0000000000ull

/*
 * Command buffers. In magma_connection_execute_command each magma_exec_command_buffer names a
 * resource (which must be mapped in the connection's GPU address space); the GPU executes the
 * SIM-1 command stream from byte start_offset of the buffer up to the end of the resource range
 * (resource.offset + resource.length). start_offset and that end must be 4-byte aligned.
 * Inline commands (magma_connection_execute_inline_commands) carry the same stream by value;
 * their addresses refer to the connection's GPU address space. The descriptor flag below asks
 * for a completion notification.
 */
#define MAGMA_SIM_COMMAND_FLAG_NOTIFY  (1ull << 16)  /* == MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0 */

/* Notification payloads (magma_connection_read_notification_channel). */
#define MAGMA_SIM_NOTIFY_COMPLETED     1u  /* a command buffer flagged NOTIFY retired */
#define MAGMA_SIM_NOTIFY_FAULT         2u  /* a context of this connection faulted (then killed) */
/* fault_code of a MAGMA_SIM_NOTIFY_FAULT for a job the watchdog found hung (not a SIM_FAULT_*) */
#define MAGMA_SIM_FAULT_HANG           0x100u
/* clang-format on */

struct magma_sim_notification {
	uint32_t type;	     /* MAGMA_SIM_NOTIFY_* */
	uint32_t context_id; /* the context the command buffer ran on */
	uint64_t sequence;   /* per-connection submission number, from 1 */
	uint32_t fault_code; /* SIM_FAULT_* for MAGMA_SIM_NOTIFY_FAULT, else 0 */
	uint32_t reserved;
	uint64_t fault_address; /* GPU VA, for MAGMA_SIM_NOTIFY_FAULT */
};

/* Result buffer of MAGMA_SIM_QUERY_TIMESTAMP. */
struct magma_sim_timestamp {
	uint64_t gpu_cycles;	      /* SIM_GPU_CYCLE_COUNT */
	uint64_t gpu_ns;	      /* SIM_GPU_TIMESTAMP */
	uint64_t monotonic_ns_before; /* CLOCK_MONOTONIC just before reading the GPU */
	uint64_t monotonic_ns_after;  /* and just after */
};

#ifdef __cplusplus
}
#endif

#endif /* MAGMA_SIM_DEFS_H */

/* SPDX-License-Identifier: MIT */
/*
 * sim_regs.c - names of registers, fault codes and command opcodes, for traces, events and the
 * viewer.
 *
 * Every table here is made of string literals indexed by register offset, so lookups are pure,
 * allocation-free and thread-safe, and the returned pointers live forever. The per-queue and
 * per-slot tables spell each unit out through a stringifying initializer macro: the strings stay
 * literals and the offsets come from sim_regs.h, so adding a register there and forgetting it
 * here is caught by sim/tests/test_regs.c (every register has a unique name). This file knows
 * nothing about register behaviour; sim_mmio.c and the block files do.
 */
#include <stddef.h>

#include "sim/sim_cmd.h"
#include "sim/sim_regs.h"

/* clang-format off */
#define GPU_IDX(off) ((off) / 4)

#define PERF_NAMES(i)                                                                              \
	[GPU_IDX(SIM_PERF_COUNTER_LO(i))] = "PERF_COUNTER" #i "_LO",                               \
	[GPU_IDX(SIM_PERF_COUNTER_HI(i))] = "PERF_COUNTER" #i "_HI",                               \
	[GPU_IDX(SIM_PERF_SAMPLE_LO(i))] = "PERF_SAMPLE" #i "_LO",                                 \
	[GPU_IDX(SIM_PERF_SAMPLE_HI(i))] = "PERF_SAMPLE" #i "_HI"

/* Offsets 0x0000..0x01ff: identification, status, IRQ, time, power, perf. */
static const char *const gpu_names[0x200 / 4] = {
	[GPU_IDX(SIM_GPU_ID)] = "GPU_ID",
	[GPU_IDX(SIM_GPU_VENDOR)] = "GPU_VENDOR",
	[GPU_IDX(SIM_GPU_FEATURES)] = "GPU_FEATURES",
	[GPU_IDX(SIM_GPU_CONFIG0)] = "GPU_CONFIG0",
	[GPU_IDX(SIM_GPU_CONFIG1)] = "GPU_CONFIG1",
	[GPU_IDX(SIM_GPU_CLOCK_KHZ)] = "GPU_CLOCK_KHZ",
	[GPU_IDX(SIM_GPU_STATUS)] = "GPU_STATUS",
	[GPU_IDX(SIM_GPU_COMMAND)] = "GPU_COMMAND",
	[GPU_IDX(SIM_GPU_GUEST_ERRORS)] = "GPU_GUEST_ERRORS",
	[GPU_IDX(SIM_GPU_SCRATCH)] = "GPU_SCRATCH",
	[GPU_IDX(SIM_GPU_IRQ_RAWSTAT)] = "GPU_IRQ_RAWSTAT",
	[GPU_IDX(SIM_GPU_IRQ_CLEAR)] = "GPU_IRQ_CLEAR",
	[GPU_IDX(SIM_GPU_IRQ_MASK)] = "GPU_IRQ_MASK",
	[GPU_IDX(SIM_GPU_IRQ_STATUS)] = "GPU_IRQ_STATUS",
	[GPU_IDX(SIM_GPU_CYCLE_COUNT_LO)] = "GPU_CYCLE_COUNT_LO",
	[GPU_IDX(SIM_GPU_CYCLE_COUNT_HI)] = "GPU_CYCLE_COUNT_HI",
	[GPU_IDX(SIM_GPU_TIMESTAMP_LO)] = "GPU_TIMESTAMP_LO",
	[GPU_IDX(SIM_GPU_TIMESTAMP_HI)] = "GPU_TIMESTAMP_HI",
	[GPU_IDX(SIM_GPU_TIMER_COMPARE_LO)] = "GPU_TIMER_COMPARE_LO",
	[GPU_IDX(SIM_GPU_TIMER_COMPARE_HI)] = "GPU_TIMER_COMPARE_HI",
	[GPU_IDX(SIM_GPU_TIMER_CONTROL)] = "GPU_TIMER_CONTROL",
	[GPU_IDX(SIM_PWR_CORES_PRESENT)] = "PWR_CORES_PRESENT",
	[GPU_IDX(SIM_PWR_CORES_READY)] = "PWR_CORES_READY",
	[GPU_IDX(SIM_PWR_CORES_ON)] = "PWR_CORES_ON",
	[GPU_IDX(SIM_PWR_CORES_OFF)] = "PWR_CORES_OFF",
	[GPU_IDX(SIM_PWR_CLOCK_DIV)] = "PWR_CLOCK_DIV",
	[GPU_IDX(SIM_PWR_STATUS)] = "PWR_STATUS",
	[GPU_IDX(SIM_PERF_CONTROL)] = "PERF_CONTROL",
	[GPU_IDX(SIM_PERF_COMMAND)] = "PERF_COMMAND",
	PERF_NAMES(0),
	PERF_NAMES(1),
	PERF_NAMES(2),
	PERF_NAMES(3),
	PERF_NAMES(4),
	PERF_NAMES(5),
	PERF_NAMES(6),
	PERF_NAMES(7),
	PERF_NAMES(8),
};

_Static_assert(SIM_PERF_COUNT == 9, "add PERF_NAMES() for the new counters");

#define Q_IDX(reg) (((reg) - SIM_QUEUE_BASE) / 4)

#define Q_NAMES(n)                                                                                 \
	{                                                                                          \
		[Q_IDX(SIM_Q_RING_BASE_LO(0))] = "Q" #n "_RING_BASE_LO",                           \
		[Q_IDX(SIM_Q_RING_BASE_HI(0))] = "Q" #n "_RING_BASE_HI",                           \
		[Q_IDX(SIM_Q_RING_SIZE(0))] = "Q" #n "_RING_SIZE",                                 \
		[Q_IDX(SIM_Q_RING_AS(0))] = "Q" #n "_RING_AS",                                     \
		[Q_IDX(SIM_Q_HEAD(0))] = "Q" #n "_HEAD",                                           \
		[Q_IDX(SIM_Q_TAIL(0))] = "Q" #n "_TAIL",                                           \
		[Q_IDX(SIM_Q_DOORBELL(0))] = "Q" #n "_DOORBELL",                                   \
		[Q_IDX(SIM_Q_STATUS(0))] = "Q" #n "_STATUS",                                       \
		[Q_IDX(SIM_Q_CONTROL(0))] = "Q" #n "_CONTROL",                                     \
		[Q_IDX(SIM_Q_COMMAND(0))] = "Q" #n "_COMMAND",                                     \
		[Q_IDX(SIM_Q_FAULT_CODE(0))] = "Q" #n "_FAULT_CODE",                               \
		[Q_IDX(SIM_Q_FAULT_ADDR_LO(0))] = "Q" #n "_FAULT_ADDR_LO",                         \
		[Q_IDX(SIM_Q_FAULT_ADDR_HI(0))] = "Q" #n "_FAULT_ADDR_HI",                         \
		[Q_IDX(SIM_Q_FAULT_CMD_LO(0))] = "Q" #n "_FAULT_CMD_LO",                           \
		[Q_IDX(SIM_Q_FAULT_CMD_HI(0))] = "Q" #n "_FAULT_CMD_HI",                           \
		[Q_IDX(SIM_Q_SEQNO_LO(0))] = "Q" #n "_SEQNO_LO",                                   \
		[Q_IDX(SIM_Q_SEQNO_HI(0))] = "Q" #n "_SEQNO_HI",                                   \
		[Q_IDX(SIM_Q_CMD_PTR_LO(0))] = "Q" #n "_CMD_PTR_LO",                               \
		[Q_IDX(SIM_Q_CMD_PTR_HI(0))] = "Q" #n "_CMD_PTR_HI",                               \
		[Q_IDX(SIM_Q_CMD_REMAIN(0))] = "Q" #n "_CMD_REMAIN",                               \
		[Q_IDX(SIM_Q_JOB_AS(0))] = "Q" #n "_JOB_AS",                                       \
		[Q_IDX(SIM_Q_IRQ_PAYLOAD(0))] = "Q" #n "_IRQ_PAYLOAD",                             \
		[Q_IDX(SIM_Q_BUSY_CYCLES_LO(0))] = "Q" #n "_BUSY_CYCLES_LO",                       \
		[Q_IDX(SIM_Q_BUSY_CYCLES_HI(0))] = "Q" #n "_BUSY_CYCLES_HI",                       \
		[Q_IDX(SIM_Q_PRIORITY(0))] = "Q" #n "_PRIORITY",                                   \
		[Q_IDX(SIM_Q_PROGRESS(0))] = "Q" #n "_PROGRESS",                                   \
		[Q_IDX(SIM_Q_RESUME_GROUP(0))] = "Q" #n "_RESUME_GROUP",                           \
	}

static const char *const q_names[SIM_QUEUE_MAX][SIM_Q_REG_END / 4] = {
	Q_NAMES(0),
	Q_NAMES(1),
	Q_NAMES(2),
	Q_NAMES(3),
};

_Static_assert(SIM_QUEUE_MAX == 4, "add Q_NAMES() for the new queues");

#define AS_IDX(reg) (((reg) - SIM_AS_BASE) / 4)

#define AS_NAMES(n)                                                                                \
	{                                                                                          \
		[AS_IDX(SIM_AS_TRANSTAB_LO(0))] = "AS" #n "_TRANSTAB_LO",                          \
		[AS_IDX(SIM_AS_TRANSTAB_HI(0))] = "AS" #n "_TRANSTAB_HI",                          \
		[AS_IDX(SIM_AS_CONFIG(0))] = "AS" #n "_CONFIG",                                    \
		[AS_IDX(SIM_AS_COMMAND(0))] = "AS" #n "_COMMAND",                                  \
		[AS_IDX(SIM_AS_STATUS(0))] = "AS" #n "_STATUS",                                    \
		[AS_IDX(SIM_AS_FAULTSTATUS(0))] = "AS" #n "_FAULTSTATUS",                          \
		[AS_IDX(SIM_AS_FAULTADDRESS_LO(0))] = "AS" #n "_FAULTADDRESS_LO",                  \
		[AS_IDX(SIM_AS_FAULTADDRESS_HI(0))] = "AS" #n "_FAULTADDRESS_HI",                  \
		[AS_IDX(SIM_AS_FAULTCLEAR(0))] = "AS" #n "_FAULTCLEAR",                            \
		[AS_IDX(SIM_AS_RANGE_BASE_LO(0))] = "AS" #n "_RANGE_BASE_LO",                      \
		[AS_IDX(SIM_AS_RANGE_BASE_HI(0))] = "AS" #n "_RANGE_BASE_HI",                      \
		[AS_IDX(SIM_AS_RANGE_PAGES(0))] = "AS" #n "_RANGE_PAGES",                          \
	}

static const char *const as_names[SIM_AS_MAX][SIM_AS_REG_END / 4] = {
	AS_NAMES(0), AS_NAMES(1), AS_NAMES(2), AS_NAMES(3),
	AS_NAMES(4), AS_NAMES(5), AS_NAMES(6), AS_NAMES(7),
};

_Static_assert(SIM_AS_MAX == 8, "add AS_NAMES() for the new slots");
/* clang-format on */

/*
 * sim_reg_name - see sim_regs.h. Pure: static tables of literals. Offsets that are unaligned,
 * beyond a block's registers, or in a gap of the map return NULL.
 */
const char *sim_reg_name(uint32_t offset)
{
	if (offset & 3)
		return NULL;
	if (offset < sizeof(gpu_names) / sizeof(gpu_names[0]) * 4)
		return gpu_names[offset / 4];
	if (offset >= SIM_QUEUE_BASE &&
	    offset < SIM_QUEUE_BASE + SIM_QUEUE_MAX * SIM_QUEUE_STRIDE) {
		uint32_t rel = offset - SIM_QUEUE_BASE;
		uint32_t reg = rel % SIM_QUEUE_STRIDE;

		if (reg >= SIM_Q_REG_END)
			return NULL;
		return q_names[rel / SIM_QUEUE_STRIDE][reg / 4];
	}
	if (offset >= SIM_AS_BASE && offset < SIM_AS_BASE + SIM_AS_MAX * SIM_AS_STRIDE) {
		uint32_t rel = offset - SIM_AS_BASE;
		uint32_t reg = rel % SIM_AS_STRIDE;

		if (reg >= SIM_AS_REG_END)
			return NULL;
		return as_names[rel / SIM_AS_STRIDE][reg / 4];
	}
	return NULL;
}

/* sim_fault_name - see sim_regs.h. Pure. */
const char *sim_fault_name(uint32_t code)
{
	switch (code) {
	case SIM_FAULT_NONE:
		return "NONE";
	case SIM_FAULT_ILLEGAL_OPCODE:
		return "ILLEGAL_OPCODE";
	case SIM_FAULT_BAD_LENGTH:
		return "BAD_LENGTH";
	case SIM_FAULT_BAD_RING_ENTRY:
		return "BAD_RING_ENTRY";
	case SIM_FAULT_MMU_TRANSLATION:
		return "MMU_TRANSLATION";
	case SIM_FAULT_MMU_PERMISSION:
		return "MMU_PERMISSION";
	case SIM_FAULT_MMU_BUS_ERROR:
		return "MMU_BUS_ERROR";
	case SIM_FAULT_MMU_AS_DISABLED:
		return "MMU_AS_DISABLED";
	case SIM_FAULT_MMU_ADDRESS_SIZE:
		return "MMU_ADDRESS_SIZE";
	case SIM_FAULT_COMPUTE_ILLEGAL:
		return "COMPUTE_ILLEGAL";
	case SIM_FAULT_COMPUTE_PC_RANGE:
		return "COMPUTE_PC_RANGE";
	case SIM_FAULT_COMPUTE_STACK:
		return "COMPUTE_STACK";
	case SIM_FAULT_COMPUTE_DIV_ZERO:
		return "COMPUTE_DIV_ZERO";
	case SIM_FAULT_COMPUTE_MISALIGNED:
		return "COMPUTE_MISALIGNED";
	case SIM_FAULT_COMPUTE_NO_CORES:
		return "COMPUTE_NO_CORES";
	case SIM_FAULT_COMPUTE_BAD_DISPATCH:
		return "COMPUTE_BAD_DISPATCH";
	case SIM_FAULT_DMA_ERROR:
		return "DMA_ERROR";
	default:
		return "UNKNOWN";
	}
}

/* clang-format off */
static const char *const cmd_names[SIM_CMD_OPCODE_COUNT] = {
	[SIM_CMD_NOP] = "NOP",
	[SIM_CMD_WRITE32] = "WRITE32",
	[SIM_CMD_WRITE64] = "WRITE64",
	[SIM_CMD_COPY] = "COPY",
	[SIM_CMD_FILL] = "FILL",
	[SIM_CMD_TIMESTAMP] = "TIMESTAMP",
	[SIM_CMD_WAIT] = "WAIT",
	[SIM_CMD_SIGNAL] = "SIGNAL",
	[SIM_CMD_DISPATCH] = "DISPATCH",
	[SIM_CMD_JUMP] = "JUMP",
	[SIM_CMD_END] = "END",
	[SIM_CMD_INTERRUPT] = "INTERRUPT",
};
/* clang-format on */

/* sim_cmd_name - see sim_cmd.h. Pure. */
const char *sim_cmd_name(uint32_t opcode)
{
	return opcode < SIM_CMD_OPCODE_COUNT ? cmd_names[opcode] : NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * sim_regs.h - the register map of the simulated GPU ("SIM-1").
 *
 * One flat, greppable header shared by the model (sim/), the system driver (msd-sim/), traces
 * and the viewer. All registers are 32 bits wide and 4-byte aligned; 64-bit quantities are
 * _LO/_HI pairs. Reading a _LO register of a live 64-bit counter latches the _HI half so that
 * LO-then-HI reads never tear. Access kinds: RO read-only (writes ignored, logged as guest
 * error), WO write-only (reads return 0), RW, W1C write-one-to-clear. Reset values are 0 unless
 * stated. docs/sim-gpu.md is the prose companion: theory of operation, sequences, timing.
 */
#ifndef SIM_REGS_H
#define SIM_REGS_H

#include <stdint.h>

/* clang-format off */

/* ---- Identification and configuration (0x0000) ---- */
#define SIM_GPU_ID                    0x0000  /* RO  reset 0x51A10100 */
#define   SIM_GPU_ID_PRODUCT__MASK      0xffff0000u
#define   SIM_GPU_ID_PRODUCT__SHIFT     16
#define   SIM_GPU_ID_MAJOR__MASK        0x0000ff00u
#define   SIM_GPU_ID_MAJOR__SHIFT       8
#define   SIM_GPU_ID_MINOR__MASK        0x000000ffu
#define   SIM_GPU_ID_MINOR__SHIFT       0
#define SIM_GPU_VENDOR                0x0004  /* RO  reset SIM_VENDOR_ID */
#define SIM_GPU_FEATURES              0x0008  /* RO  */
#define   SIM_FEATURE_COPY              (1u << 0)
#define   SIM_FEATURE_COMPUTE           (1u << 1)
#define   SIM_FEATURE_TIMESTAMP         (1u << 2)
#define   SIM_FEATURE_PREEMPT_CMD       (1u << 3)  /* queue STOP at command boundaries */
#define   SIM_FEATURE_PERFCNT           (1u << 4)
#define   SIM_FEATURE_POWER             (1u << 5)  /* per-core power and clock divider */
#define   SIM_FEATURE_TIMER             (1u << 6)
#define   SIM_FEATURE_PREEMPT_DISPATCH  (1u << 7)  /* STOP between workgroups and copy chunks */
#define   SIM_FEATURE_SHARED_ENGINE     (1u << 8)  /* queues share one engine, arbitrated by Q_PRIORITY */
#define SIM_GPU_CONFIG0               0x000c  /* RO  */
#define   SIM_CONFIG0_AS_SLOTS__MASK    0x000000ffu
#define   SIM_CONFIG0_AS_SLOTS__SHIFT   0
#define   SIM_CONFIG0_QUEUES__MASK      0x0000ff00u
#define   SIM_CONFIG0_QUEUES__SHIFT     8
#define   SIM_CONFIG0_CORES__MASK       0x00ff0000u
#define   SIM_CONFIG0_CORES__SHIFT      16
#define   SIM_CONFIG0_LANES__MASK       0xff000000u
#define   SIM_CONFIG0_LANES__SHIFT      24
#define SIM_GPU_CONFIG1               0x0010  /* RO  */
#define   SIM_CONFIG1_TLB_ENTRIES__MASK 0x0000ffffu
#define   SIM_CONFIG1_TLB_ENTRIES__SHIFT 0
#define   SIM_CONFIG1_VA_BITS__MASK     0x00ff0000u  /* 48 */
#define   SIM_CONFIG1_VA_BITS__SHIFT    16
#define   SIM_CONFIG1_PA_BITS__MASK     0xff000000u  /* 52 */
#define   SIM_CONFIG1_PA_BITS__SHIFT    24
#define SIM_GPU_CLOCK_KHZ             0x0014  /* RO  base clock in kHz (before the divider) */

/* ---- Status and global commands (0x0020) ---- */
#define SIM_GPU_STATUS                0x0020  /* RO  */
#define   SIM_STATUS_BUSY               (1u << 0)  /* some queue has a job or is waiting */
#define   SIM_STATUS_RESETTING          (1u << 1)
#define   SIM_STATUS_PWR_TRANSITION     (1u << 2)
#define   SIM_STATUS_FAULT              (1u << 3)  /* some queue is FAULTED */
#define SIM_GPU_COMMAND               0x0024  /* WO  */
#define   SIM_GPU_COMMAND_NOP           0
#define   SIM_GPU_COMMAND_SOFT_RESET    1  /* stop queues, flush TLBs, keep configuration */
#define   SIM_GPU_COMMAND_HARD_RESET    2  /* every register to its reset value */
#define   SIM_GPU_COMMAND_CLEAR_ERRLOG  3  /* zero SIM_GPU_GUEST_ERRORS */
#define SIM_GPU_GUEST_ERRORS          0x0028  /* RO  count of logged guest errors (saturating) */
#define SIM_GPU_SCRATCH               0x002c  /* RW  free for the driver; survives soft reset */

/* ---- Interrupts (0x0030): one line, raw / mask / status per cause ---- */
#define SIM_GPU_IRQ_RAWSTAT           0x0030  /* RO  causes that fired, masked or not */
#define SIM_GPU_IRQ_CLEAR             0x0034  /* W1C clears RAWSTAT bits */
#define SIM_GPU_IRQ_MASK              0x0038  /* RW  1 = cause drives the line */
#define SIM_GPU_IRQ_STATUS            0x003c  /* RO  RAWSTAT & MASK; line = (STATUS != 0) */
#define   SIM_IRQ_JOB_DONE(q)           (1u << (0 + (q)))   /* queue q finished a job flagged IRQ */
#define   SIM_IRQ_JOB_FAULT(q)          (1u << (4 + (q)))   /* queue q stopped on a fault */
#define   SIM_IRQ_QUEUE_USER(q)         (1u << (8 + (q)))   /* INTERRUPT command on queue q */
#define   SIM_IRQ_QUEUE_STOPPED(q)      (1u << (12 + (q)))  /* queue q honoured a STOP */
#define   SIM_IRQ_MMU_FAULT(as)         (1u << (16 + (as))) /* address space as latched a fault */
#define   SIM_IRQ_GPU_ERROR             (1u << 24)  /* bus/DMA error outside a job */
#define   SIM_IRQ_RESET_DONE            (1u << 25)
#define   SIM_IRQ_POWER_CHANGED         (1u << 26)
#define   SIM_IRQ_TIMER                 (1u << 27)
#define   SIM_IRQ_PERFCNT_SAMPLE        (1u << 28)
#define   SIM_IRQ_ALL_JOB_DONE          0x0000000fu
#define   SIM_IRQ_ALL_JOB_FAULT         0x000000f0u
#define   SIM_IRQ_ALL_QUEUE_USER        0x00000f00u
#define   SIM_IRQ_ALL_QUEUE_STOPPED     0x0000f000u
#define   SIM_IRQ_ALL_MMU_FAULT         0x00ff0000u
#define   SIM_IRQ_ALL                   0x1fffffffu

/* ---- Time (0x0040) ---- */
#define SIM_GPU_CYCLE_COUNT_LO        0x0040  /* RO  GPU cycles since hard reset */
#define SIM_GPU_CYCLE_COUNT_HI        0x0044  /* RO  */
#define SIM_GPU_TIMESTAMP_LO          0x0048  /* RO  nanoseconds of GPU time since hard reset */
#define SIM_GPU_TIMESTAMP_HI          0x004c  /* RO  */
#define SIM_GPU_TIMER_COMPARE_LO      0x0050  /* RW  raise TIMER when CYCLE_COUNT >= compare */
#define SIM_GPU_TIMER_COMPARE_HI      0x0054  /* RW  */
#define SIM_GPU_TIMER_CONTROL         0x0058  /* RW  */
#define   SIM_TIMER_CONTROL_ENABLE      (1u << 0)  /* cleared by hardware when the timer fires */

/* ---- Power and clock (0x0080) ---- */
#define SIM_PWR_CORES_PRESENT         0x0080  /* RO  bitmask of compute cores */
#define SIM_PWR_CORES_READY           0x0084  /* RO  bitmask of powered cores; reset 0 */
#define SIM_PWR_CORES_ON              0x0088  /* WO  power up these cores */
#define SIM_PWR_CORES_OFF             0x008c  /* WO  power down these cores (when not in use) */
#define SIM_PWR_CLOCK_DIV             0x0090  /* RW  1..16: GPU clock = base / div; reset 1 */
#define SIM_PWR_STATUS                0x0094  /* RO  */
#define   SIM_PWR_STATUS_TRANSITION     (1u << 0)

/* ---- Performance counters (0x00c0) ---- */
#define SIM_PERF_CONTROL              0x00c0  /* RW  */
#define   SIM_PERF_CONTROL_ENABLE       (1u << 0)  /* counters count only while set */
#define SIM_PERF_COMMAND              0x00c4  /* WO  */
#define   SIM_PERF_COMMAND_CLEAR        1  /* zero every counter */
#define   SIM_PERF_COMMAND_SAMPLE       2  /* copy live counters to the sample registers, IRQ */
#define SIM_PERF_COUNTER_LO(i)        (0x0100 + (i) * 8)  /* RO  live counter i */
#define SIM_PERF_COUNTER_HI(i)        (0x0104 + (i) * 8)  /* RO  */
#define SIM_PERF_SAMPLE_LO(i)         (0x0180 + (i) * 8)  /* RO  counter i at the last SAMPLE */
#define SIM_PERF_SAMPLE_HI(i)         (0x0184 + (i) * 8)  /* RO  */
#define   SIM_PERF_CYCLES               0   /* cycles while enabled */
#define   SIM_PERF_BUSY_CP              1   /* cycles some queue was executing */
#define   SIM_PERF_BUSY_COPY            2   /* cycles spent in COPY/FILL */
#define   SIM_PERF_BUSY_COMPUTE         3   /* cycles spent in DISPATCH */
#define   SIM_PERF_JOBS                 4   /* jobs completed */
#define   SIM_PERF_BYTES                5   /* bytes moved by COPY/FILL */
#define   SIM_PERF_TLB_MISSES           6
#define   SIM_PERF_ALU_INSTRUCTIONS     7   /* lane-instructions executed */
#define   SIM_PERF_MEM_WAIT_CYCLES      8   /* cycles spent polling in WAIT */
#define   SIM_PERF_COUNT                9

/* ---- Per-queue command processor (0x1000 + q * 0x80) ---- */
#define SIM_QUEUE_BASE                0x1000
#define SIM_QUEUE_STRIDE              0x0080
#define SIM_QUEUE_MAX                 4
#define SIM_Q_RING_BASE_LO(q)         (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x00) /* RW 32-byte aligned VA */
#define SIM_Q_RING_BASE_HI(q)         (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x04) /* RW */
#define SIM_Q_RING_SIZE(q)            (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x08) /* RW entries, power of 2, <= 65536 */
#define SIM_Q_RING_AS(q)              (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x0c) /* RW slot that translates ring fetches */
#define SIM_Q_HEAD(q)                 (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x10) /* RO next entry to fetch */
#define SIM_Q_TAIL(q)                 (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x14) /* RW one past the last valid entry */
#define SIM_Q_DOORBELL(q)             (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x18) /* WO any value: fetch up to TAIL */
#define SIM_Q_STATUS(q)               (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x1c) /* RO */
#define   SIM_Q_STATUS_STATE__MASK      0x0000000fu
#define   SIM_Q_STATUS_STATE__SHIFT     0
#define   SIM_Q_STATE_IDLE              0  /* HEAD == TAIL, nothing running */
#define   SIM_Q_STATE_RUNNING           1
#define   SIM_Q_STATE_WAITING           2  /* spinning in a WAIT command */
#define   SIM_Q_STATE_STOPPED           3  /* honoured a STOP; RESUME continues */
#define   SIM_Q_STATE_FAULTED           4  /* see FAULT_*; RESUME skips the job */
#define   SIM_Q_STATUS_ENABLED          (1u << 4)  /* mirrors CONTROL.ENABLE */
#define SIM_Q_CONTROL(q)              (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x20) /* RW */
#define   SIM_Q_CONTROL_ENABLE          (1u << 0)  /* 0: doorbells are latched but nothing runs */
#define SIM_Q_COMMAND(q)              (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x24) /* WO */
#define   SIM_Q_COMMAND_STOP            1  /* halt at the next command boundary */
#define   SIM_Q_COMMAND_RESUME          2  /* STOPPED: continue; FAULTED: drop the job, go on */
#define   SIM_Q_COMMAND_RESET           3  /* abandon the job, HEAD = TAIL, state IDLE */
#define SIM_Q_FAULT_CODE(q)           (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x28) /* RO SIM_FAULT_* */
#define SIM_Q_FAULT_ADDR_LO(q)        (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x2c) /* RO faulting VA (data, fetch or pc) */
#define SIM_Q_FAULT_ADDR_HI(q)        (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x30) /* RO */
#define SIM_Q_FAULT_CMD_LO(q)         (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x34) /* RO VA of the faulting command */
#define SIM_Q_FAULT_CMD_HI(q)         (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x38) /* RO */
#define SIM_Q_SEQNO_LO(q)             (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x3c) /* RO seqno of the last completed job */
#define SIM_Q_SEQNO_HI(q)             (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x40) /* RO */
#define SIM_Q_CMD_PTR_LO(q)           (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x44) /* RO next command VA of the job */
#define SIM_Q_CMD_PTR_HI(q)           (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x48) /* RO */
#define SIM_Q_CMD_REMAIN(q)           (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x4c) /* RO bytes left in the job */
#define SIM_Q_JOB_AS(q)               (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x50) /* RO slot of the current job */
#define SIM_Q_IRQ_PAYLOAD(q)          (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x54) /* RO payload of the last INTERRUPT */
#define SIM_Q_BUSY_CYCLES_LO(q)       (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x58) /* RO cycles spent executing */
#define SIM_Q_BUSY_CYCLES_HI(q)       (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x5c) /* RO */
#define SIM_Q_PRIORITY(q)             (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x60) /* RW 0..3, higher wins the engine */
#define SIM_Q_PROGRESS(q)             (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x64) /* RO +1 per command, workgroup or copy chunk done (wraps) */
#define SIM_Q_RESUME_GROUP(q)         (SIM_QUEUE_BASE + (q) * SIM_QUEUE_STRIDE + 0x68) /* RO next workgroup of a stopped DISPATCH */
#define SIM_Q_REG_END                 0x6c

/* ---- Per address-space MMU slot (0x2000 + as * 0x40) ---- */
#define SIM_AS_BASE                   0x2000
#define SIM_AS_STRIDE                 0x0040
#define SIM_AS_MAX                    8
#define SIM_AS_TRANSTAB_LO(as)        (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x00) /* RW PA of the level-0 table (staged) */
#define SIM_AS_TRANSTAB_HI(as)        (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x04) /* RW */
#define SIM_AS_CONFIG(as)             (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x08) /* RW (staged) */
#define   SIM_AS_CONFIG_ENABLE          (1u << 0)
#define SIM_AS_COMMAND(as)            (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x0c) /* WO */
#define   SIM_AS_COMMAND_NOP            0
#define   SIM_AS_COMMAND_UPDATE         1  /* make staged TRANSTAB/CONFIG live; flushes the slot */
#define   SIM_AS_COMMAND_FLUSH_ALL      2  /* drop every TLB entry of the slot */
#define   SIM_AS_COMMAND_FLUSH_RANGE    3  /* drop entries in [RANGE_BASE, + RANGE_PAGES pages) */
#define   SIM_AS_COMMAND_LOCK           4  /* stall GPU accesses through the slot */
#define   SIM_AS_COMMAND_UNLOCK         5
#define SIM_AS_STATUS(as)             (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x10) /* RO */
#define   SIM_AS_STATUS_ENABLED         (1u << 0)  /* live CONFIG.ENABLE */
#define   SIM_AS_STATUS_LOCKED          (1u << 1)
#define   SIM_AS_STATUS_FAULTED         (1u << 2)  /* FAULTSTATUS holds a fault */
#define SIM_AS_FAULTSTATUS(as)        (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x14) /* RO first fault since cleared */
#define   SIM_AS_FAULT_CODE__MASK       0x000000ffu  /* SIM_FAULT_MMU_* */
#define   SIM_AS_FAULT_CODE__SHIFT      0
#define   SIM_AS_FAULT_ACCESS__MASK     0x00000300u  /* SIM_ACCESS_* */
#define   SIM_AS_FAULT_ACCESS__SHIFT    8
#define   SIM_AS_FAULT_LEVEL__MASK      0x00007000u  /* table level that failed, 0..3 */
#define   SIM_AS_FAULT_LEVEL__SHIFT     12
#define   SIM_AS_FAULT_QUEUE__MASK      0x000f0000u  /* queue whose job faulted */
#define   SIM_AS_FAULT_QUEUE__SHIFT     16
#define   SIM_AS_FAULT_SOURCE__MASK     0x00300000u  /* SIM_SOURCE_* */
#define   SIM_AS_FAULT_SOURCE__SHIFT    20
#define SIM_AS_FAULTADDRESS_LO(as)    (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x18) /* RO */
#define SIM_AS_FAULTADDRESS_HI(as)    (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x1c) /* RO */
#define SIM_AS_FAULTCLEAR(as)         (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x20) /* W1C bit 0 unlatches FAULTSTATUS */
#define SIM_AS_RANGE_BASE_LO(as)      (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x24) /* RW page-aligned VA */
#define SIM_AS_RANGE_BASE_HI(as)      (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x28) /* RW */
#define SIM_AS_RANGE_PAGES(as)        (SIM_AS_BASE + (as) * SIM_AS_STRIDE + 0x2c) /* RW */
#define SIM_AS_REG_END                0x30

#define SIM_MMIO_SIZE                 0x4000

/* ---- Access kinds, fault sources and fault codes ---- */
#define SIM_ACCESS_READ               0
#define SIM_ACCESS_WRITE              1
#define SIM_ACCESS_EXECUTE            2
#define SIM_ACCESS_ATOMIC             3  /* needs READ and WRITE */

#define SIM_SOURCE_CP                 0  /* ring or command fetch, fence write */
#define SIM_SOURCE_COPY               1  /* COPY/FILL/WRITE/WAIT/SIGNAL/TIMESTAMP data */
#define SIM_SOURCE_COMPUTE            2  /* compute loads, stores, program fetch */

#define SIM_FAULT_NONE                0x00
#define SIM_FAULT_ILLEGAL_OPCODE      0x01  /* unknown command opcode */
#define SIM_FAULT_BAD_LENGTH          0x02  /* wrong dword count, truncated command, bad size */
#define SIM_FAULT_BAD_RING_ENTRY      0x03  /* reserved bits, bad slot or unaligned cmd_va */
#define SIM_FAULT_MMU_TRANSLATION     0x10  /* invalid PTE at FAULT_LEVEL */
#define SIM_FAULT_MMU_PERMISSION      0x11  /* leaf lacks R/W/X for the access */
#define SIM_FAULT_MMU_BUS_ERROR       0x12  /* table or page frame not pinned */
#define SIM_FAULT_MMU_AS_DISABLED     0x13  /* slot out of range or not enabled */
#define SIM_FAULT_MMU_ADDRESS_SIZE    0x14  /* VA at or above 2^48 */
#define SIM_FAULT_COMPUTE_ILLEGAL     0x20  /* undefined instruction */
#define SIM_FAULT_COMPUTE_PC_RANGE    0x21  /* pc outside [0, prog_count) */
#define SIM_FAULT_COMPUTE_STACK       0x22  /* control stack over/underflow, unbalanced */
#define SIM_FAULT_COMPUTE_DIV_ZERO    0x23  /* integer division by zero */
#define SIM_FAULT_COMPUTE_MISALIGNED  0x24  /* load/store/atomic not 4-byte aligned */
#define SIM_FAULT_COMPUTE_NO_CORES    0x25  /* DISPATCH with no core powered */
#define SIM_FAULT_COMPUTE_BAD_DISPATCH 0x26 /* local_size 0 or > lanes, prog_count 0 or too big */
#define SIM_FAULT_DMA_ERROR           0x30  /* bus error during a transfer */

/* ---- Ring entries: 32 bytes each, little-endian, read through Q_RING_AS ---- */
#define SIM_RING_ENTRY_SIZE           32
#define SIM_RING_ENTRY_CMD_VA         0x00  /* u64 command stream VA, 4-byte aligned */
#define SIM_RING_ENTRY_CMD_SIZE       0x08  /* u32 bytes, multiple of 4 */
#define SIM_RING_ENTRY_AS             0x0c  /* u16 slot the job runs in */
#define SIM_RING_ENTRY_FLAGS          0x0e  /* u16 SIM_RING_FLAG_* */
#define SIM_RING_ENTRY_SEQNO          0x10  /* u64 reported in Q_SEQNO when the job completes */
#define SIM_RING_ENTRY_FENCE_VA       0x18  /* u64 with FLAG_FENCE: seqno written here (ring AS) */
#define   SIM_RING_FLAG_IRQ             (1u << 0)  /* raise JOB_DONE(q) on completion */
#define   SIM_RING_FLAG_FENCE           (1u << 1)  /* write seqno (u64) to FENCE_VA on completion */
#define   SIM_RING_FLAGS_VALID          0x0003u

/* ---- Page tables: 4 levels of 512 u64 entries, 4 KiB pages, 48-bit VA ---- */
#define SIM_PAGE_SHIFT                12
#define SIM_PAGE_SIZE                 4096u
#define SIM_PT_LEVELS                 4
#define SIM_PT_ENTRIES                512
#define SIM_VA_BITS                   48
#define SIM_PA_BITS                   52
#define SIM_PTE_VALID                 (1ull << 0)
#define SIM_PTE_READ                  (1ull << 1)  /* leaf only */
#define SIM_PTE_WRITE                 (1ull << 2)  /* leaf only */
#define SIM_PTE_EXECUTE               (1ull << 3)  /* leaf only */
#define SIM_PTE_ADDR_MASK             0x000ffffffffff000ull  /* next table or page frame PA */
#define SIM_PT_INDEX(va, level)       (((va) >> (39 - 9 * (level))) & 0x1ff)


#define SIM_FIELD_GET(f, v)  (((v) & f##__MASK) >> f##__SHIFT)
#define SIM_FIELD_PREP(f, v) ((((uint32_t)(v)) << f##__SHIFT) & f##__MASK)
/* clang-format on */

#define SIM_VENDOR_ID	 0x5349u /* "SI" */
#define SIM_PRODUCT_ID	 0x51A1u
#define SIM_GPU_ID_RESET 0x51A10100u

/*
 * sim_reg_name - decoded name of a register offset ("Q1_TAIL", "AS0_COMMAND", "PERF_COUNTER3_LO").
 * Returns a pointer to static storage, or NULL for an offset that is not a register.
 * Thread-safe (pure).
 */
const char *sim_reg_name(uint32_t offset);

/* sim_fault_name - "MMU_TRANSLATION" etc. for a SIM_FAULT_* code, "UNKNOWN" otherwise. Pure. */
const char *sim_fault_name(uint32_t code);

#endif /* SIM_REGS_H */

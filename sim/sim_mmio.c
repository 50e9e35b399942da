/* SPDX-License-Identifier: MIT */
/*
 * sim_mmio.c - the register file: decode of every 32-bit MMIO access.
 *
 * The GPU control block (identification, status, global commands, IRQ, time, timer) is decoded
 * here; power and performance registers go to sim_power.c / sim_perf.c, queue registers
 * (0x1000 + q * 0x80) to sim_cp.c and address-space registers (0x2000 + as * 0x40) to sim_mmu.c,
 * each with the offset within its unit. Like a real bus, the register file never fails: an
 * unaligned or unmapped offset, a unit beyond the configuration, or a write to a read-only
 * register is ignored (reads give 0) and logged as a guest error. While a reset is in progress
 * only GPU_COMMAND and the IRQ registers accept writes. Reading the _LO half of a read-only
 * 64-bit pair latches its _HI half so LO-then-HI never tears. Every access emits
 * SIM_EV_REG_READ / SIM_EV_REG_WRITE (the trace seam) and every write wakes the clock thread.
 * Runs on the caller's thread under the device lock.
 */
#include "sim_internal.h"

#define SIM_FEATURES_ALL                                                                           \
	(SIM_FEATURE_COPY | SIM_FEATURE_COMPUTE | SIM_FEATURE_TIMESTAMP |                          \
	 SIM_FEATURE_PREEMPT_CMD | SIM_FEATURE_PERFCNT | SIM_FEATURE_POWER | SIM_FEATURE_TIMER |   \
	 SIM_FEATURE_PREEMPT_DISPATCH | SIM_FEATURE_SHARED_ENGINE)

enum sim_mmio_unit {
	SIM_MMIO_NONE, /* unmapped for this device */
	SIM_MMIO_GPU,
	SIM_MMIO_POWER,
	SIM_MMIO_PERF,
	SIM_MMIO_QUEUE,
	SIM_MMIO_AS,
};

struct sim_mmio_decode {
	enum sim_mmio_unit unit;
	uint32_t index; /* queue or slot */
	uint32_t reg;	/* offset within the queue or slot */
};

static struct sim_mmio_decode sim_mmio_decode(const struct sim_device *dev, uint32_t offset)
{
	struct sim_mmio_decode d = {SIM_MMIO_NONE, 0, 0};

	if (offset >= SIM_MMIO_SIZE || !sim_reg_name(offset))
		return d;
	if (offset >= SIM_AS_BASE) {
		d.index = (offset - SIM_AS_BASE) / SIM_AS_STRIDE;
		d.reg = (offset - SIM_AS_BASE) % SIM_AS_STRIDE;
		if (d.index < dev->cfg.as_slots)
			d.unit = SIM_MMIO_AS;
	} else if (offset >= SIM_QUEUE_BASE) {
		d.index = (offset - SIM_QUEUE_BASE) / SIM_QUEUE_STRIDE;
		d.reg = (offset - SIM_QUEUE_BASE) % SIM_QUEUE_STRIDE;
		if (d.index < dev->cfg.queues)
			d.unit = SIM_MMIO_QUEUE;
	} else if (offset >= SIM_PERF_CONTROL) {
		d.unit = SIM_MMIO_PERF;
	} else if (offset >= SIM_PWR_CORES_PRESENT) {
		d.unit = SIM_MMIO_POWER;
	} else {
		d.unit = SIM_MMIO_GPU;
	}
	return d;
}

/* _LO offsets of read-only 64-bit pairs, whose _HI is latched when _LO is read. */
static bool sim_mmio_is_latching_lo(uint32_t offset)
{
	if (offset == SIM_GPU_CYCLE_COUNT_LO || offset == SIM_GPU_TIMESTAMP_LO)
		return true;
	if (offset >= SIM_PERF_COUNTER_LO(0) && offset < SIM_PERF_SAMPLE_LO(SIM_PERF_COUNT))
		return !(offset & 4);
	if (offset >= SIM_AS_BASE) {
		uint32_t reg = (offset - SIM_AS_BASE) % SIM_AS_STRIDE;

		return reg == SIM_AS_FAULTADDRESS_LO(0) - SIM_AS_BASE;
	}
	if (offset >= SIM_QUEUE_BASE) {
		uint32_t reg = (offset - SIM_QUEUE_BASE) % SIM_QUEUE_STRIDE + SIM_QUEUE_BASE;

		return reg == SIM_Q_FAULT_ADDR_LO(0) || reg == SIM_Q_FAULT_CMD_LO(0) ||
		       reg == SIM_Q_SEQNO_LO(0) || reg == SIM_Q_CMD_PTR_LO(0) ||
		       reg == SIM_Q_BUSY_CYCLES_LO(0);
	}
	return false;
}

static uint32_t sim_gpu_status_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	uint32_t status = 0;

	for (uint32_t i = 0; i < dev->cfg.queues; i++) {
		uint32_t state = dev->q[i].state;

		if (state == SIM_Q_STATE_RUNNING || state == SIM_Q_STATE_WAITING)
			status |= SIM_STATUS_BUSY;
		else if (state == SIM_Q_STATE_FAULTED)
			status |= SIM_STATUS_FAULT;
	}
	if (dev->resetting)
		status |= SIM_STATUS_RESETTING;
	if (dev->pwr_transition)
		status |= SIM_STATUS_PWR_TRANSITION;
	return status;
}

static uint32_t sim_gpu_reg_read_locked(struct sim_device *dev, uint32_t offset)
	SIM_REQUIRES(dev->lock)
{
	const struct sim_config *cfg = &dev->cfg;
	uint64_t ns;

	switch (offset) {
	case SIM_GPU_ID:
		return SIM_GPU_ID_RESET;
	case SIM_GPU_VENDOR:
		return SIM_VENDOR_ID;
	case SIM_GPU_FEATURES:
		return SIM_FEATURES_ALL;
	case SIM_GPU_CONFIG0:
		return SIM_FIELD_PREP(SIM_CONFIG0_AS_SLOTS, cfg->as_slots) |
		       SIM_FIELD_PREP(SIM_CONFIG0_QUEUES, cfg->queues) |
		       SIM_FIELD_PREP(SIM_CONFIG0_CORES, cfg->cores) |
		       SIM_FIELD_PREP(SIM_CONFIG0_LANES, cfg->lanes);
	case SIM_GPU_CONFIG1:
		return SIM_FIELD_PREP(SIM_CONFIG1_TLB_ENTRIES, cfg->tlb_entries) |
		       SIM_FIELD_PREP(SIM_CONFIG1_VA_BITS, SIM_VA_BITS) |
		       SIM_FIELD_PREP(SIM_CONFIG1_PA_BITS, SIM_PA_BITS);
	case SIM_GPU_CLOCK_KHZ:
		return (uint32_t)(cfg->clock_hz / 1000);
	case SIM_GPU_STATUS:
		return sim_gpu_status_locked(dev);
	case SIM_GPU_GUEST_ERRORS:
		return dev->guest_errors;
	case SIM_GPU_SCRATCH:
		return dev->scratch;
	case SIM_GPU_IRQ_RAWSTAT:
		return dev->irq_rawstat;
	case SIM_GPU_IRQ_MASK:
		return dev->irq_mask;
	case SIM_GPU_IRQ_STATUS:
		return dev->irq_rawstat & dev->irq_mask;
	case SIM_GPU_CYCLE_COUNT_LO:
		return (uint32_t)dev->now;
	case SIM_GPU_CYCLE_COUNT_HI:
		return (uint32_t)(dev->now >> 32);
	case SIM_GPU_TIMESTAMP_LO:
	case SIM_GPU_TIMESTAMP_HI:
		ns = (uint64_t)((unsigned __int128)dev->base_ticks * 1000000000u / cfg->clock_hz);
		return offset == SIM_GPU_TIMESTAMP_LO ? (uint32_t)ns : (uint32_t)(ns >> 32);
	case SIM_GPU_TIMER_COMPARE_LO:
		return (uint32_t)dev->timer_compare;
	case SIM_GPU_TIMER_COMPARE_HI:
		return (uint32_t)(dev->timer_compare >> 32);
	case SIM_GPU_TIMER_CONTROL:
		return dev->timer_control;
	default: /* GPU_COMMAND, IRQ_CLEAR: write-only */
		return 0;
	}
}

static void sim_gpu_command_locked(struct sim_device *dev, uint32_t cmd) SIM_REQUIRES(dev->lock)
{
	switch (cmd) {
	case SIM_GPU_COMMAND_NOP:
		break;
	case SIM_GPU_COMMAND_SOFT_RESET:
		sim_soft_reset_locked(dev);
		break;
	case SIM_GPU_COMMAND_HARD_RESET:
		sim_hard_reset_locked(dev);
		break;
	case SIM_GPU_COMMAND_CLEAR_ERRLOG:
		dev->guest_errors = 0;
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "GPU_COMMAND %u unknown", cmd);
		break;
	}
}

static void sim_gpu_reg_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
	SIM_REQUIRES(dev->lock)
{
	switch (offset) {
	case SIM_GPU_COMMAND:
		sim_gpu_command_locked(dev, value);
		break;
	case SIM_GPU_SCRATCH:
		dev->scratch = value;
		break;
	case SIM_GPU_IRQ_CLEAR:
		dev->irq_rawstat &= ~value;
		sim_irq_update_locked(dev, true);
		break;
	case SIM_GPU_IRQ_MASK:
		dev->irq_mask = value & SIM_IRQ_ALL;
		sim_irq_update_locked(dev, true);
		break;
	case SIM_GPU_TIMER_COMPARE_LO:
		dev->timer_compare = (dev->timer_compare & ~0xffffffffull) | value;
		break;
	case SIM_GPU_TIMER_COMPARE_HI:
		dev->timer_compare = (dev->timer_compare & 0xffffffffull) | ((uint64_t)value << 32);
		break;
	case SIM_GPU_TIMER_CONTROL:
		dev->timer_control = value & SIM_TIMER_CONTROL_ENABLE;
		sim_clock_timer_check_locked(dev);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "write %#x to read-only %s ignored", value,
			       sim_reg_name(offset));
		break;
	}
}

/* One read with side effects (HI latch), no event. */
static uint32_t sim_mmio_read_locked(struct sim_device *dev, uint32_t offset)
	SIM_REQUIRES(dev->lock)
{
	struct sim_mmio_decode d;
	uint32_t value;

	if (offset & 3) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "unaligned MMIO read at %#x", offset);
		return 0;
	}
	if (dev->latch_offset && offset == dev->latch_offset) {
		dev->latch_offset = 0;
		return dev->latch_value;
	}
	d = sim_mmio_decode(dev, offset);
	switch (d.unit) {
	case SIM_MMIO_GPU:
		value = sim_gpu_reg_read_locked(dev, offset);
		break;
	case SIM_MMIO_POWER:
		value = sim_power_read_locked(dev, offset);
		break;
	case SIM_MMIO_PERF:
		value = sim_perf_read_locked(dev, offset);
		break;
	case SIM_MMIO_QUEUE:
		value = sim_cp_mmio_read_locked(dev, d.index, d.reg);
		break;
	case SIM_MMIO_AS:
		value = sim_mmu_mmio_read_locked(dev, d.index, d.reg);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "MMIO read of unmapped offset %#x",
			       offset);
		return 0;
	}
	if (sim_mmio_is_latching_lo(offset)) {
		/* Recursion is one level deep: a _HI offset is never latching. */
		dev->latch_offset = 0;
		dev->latch_value = sim_mmio_read_locked(dev, offset + 4);
		dev->latch_offset = offset + 4;
	}
	return value;
}

static void sim_mmio_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
	SIM_REQUIRES(dev->lock)
{
	struct sim_mmio_decode d;

	if (offset & 3) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "unaligned MMIO write at %#x", offset);
		return;
	}
	d = sim_mmio_decode(dev, offset);
	if (d.unit == SIM_MMIO_NONE) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "MMIO write %#x to unmapped offset %#x",
			       value, offset);
		return;
	}
	if (dev->resetting && offset != SIM_GPU_COMMAND && offset != SIM_GPU_IRQ_CLEAR &&
	    offset != SIM_GPU_IRQ_MASK) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "write %#x to %s during reset ignored",
			       value, sim_reg_name(offset));
		return;
	}
	switch (d.unit) {
	case SIM_MMIO_GPU:
		sim_gpu_reg_write_locked(dev, offset, value);
		break;
	case SIM_MMIO_POWER:
		sim_power_write_locked(dev, offset, value);
		break;
	case SIM_MMIO_PERF:
		sim_perf_write_locked(dev, offset, value);
		break;
	case SIM_MMIO_QUEUE:
		sim_cp_mmio_write_locked(dev, d.index, d.reg, value);
		break;
	case SIM_MMIO_AS:
		sim_mmu_mmio_write_locked(dev, d.index, d.reg, value);
		break;
	case SIM_MMIO_NONE:
		break;
	}
	sim_clock_kick_locked(dev);
}

static void sim_mmio_event_locked(struct sim_device *dev, enum sim_event_type type, uint32_t offset,
				  uint32_t value) SIM_REQUIRES(dev->lock)
{
	if (sim_event_wanted(dev, type))
		sim_event_locked(dev, type, SIM_EVENT_NO_UNIT, offset, value, 0,
				 sim_reg_name(offset));
}

/* sim_mmio_read32 - see sim.h. Takes the device lock; emits SIM_EV_REG_READ after the read. */
uint32_t sim_mmio_read32(struct sim_device *dev, uint32_t offset)
{
	uint32_t value;

	sim_host_lock(dev);
	value = sim_mmio_read_locked(dev, offset);
	sim_mmio_event_locked(dev, SIM_EV_REG_READ, offset, value);
	sim_mutex_unlock(&dev->lock);
	return value;
}

/*
 * sim_mmio_write32 - see sim.h. Takes the device lock; emits SIM_EV_REG_WRITE before the write
 * takes effect, so the events it causes follow it in the stream.
 */
void sim_mmio_write32(struct sim_device *dev, uint32_t offset, uint32_t value)
{
	sim_host_lock(dev);
	sim_mmio_event_locked(dev, SIM_EV_REG_WRITE, offset, value);
	sim_mmio_write_locked(dev, offset, value);
	sim_mutex_unlock(&dev->lock);
}

/* sim_mmio_read64 - see sim.h. Both halves under one lock hold: LO (latching HI), then HI. */
uint64_t sim_mmio_read64(struct sim_device *dev, uint32_t offset_lo)
{
	uint32_t lo, hi;

	sim_host_lock(dev);
	lo = sim_mmio_read_locked(dev, offset_lo);
	sim_mmio_event_locked(dev, SIM_EV_REG_READ, offset_lo, lo);
	hi = sim_mmio_read_locked(dev, offset_lo + 4);
	sim_mmio_event_locked(dev, SIM_EV_REG_READ, offset_lo + 4, hi);
	sim_mutex_unlock(&dev->lock);
	return (uint64_t)hi << 32 | lo;
}

/* sim_mmio_write64 - see sim.h. LO then HI under one lock hold. */
void sim_mmio_write64(struct sim_device *dev, uint32_t offset_lo, uint64_t value)
{
	sim_host_lock(dev);
	sim_mmio_event_locked(dev, SIM_EV_REG_WRITE, offset_lo, (uint32_t)value);
	sim_mmio_write_locked(dev, offset_lo, (uint32_t)value);
	sim_mmio_event_locked(dev, SIM_EV_REG_WRITE, offset_lo + 4, (uint32_t)(value >> 32));
	sim_mmio_write_locked(dev, offset_lo + 4, (uint32_t)(value >> 32));
	sim_mutex_unlock(&dev->lock);
}

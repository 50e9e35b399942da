/* SPDX-License-Identifier: MIT */
/*
 * sim_perf.c - performance counters: live 64-bit counters, a sample bank and a sample IRQ.
 *
 * The blocks that do work bump dev->perf[] through sim_perf_add(), which counts only while
 * PERF_CONTROL.ENABLE is set. PERF_COMMAND CLEAR zeroes the live counters (not the samples);
 * SAMPLE copies them to the sample bank and raises PERFCNT_SAMPLE. Reading a counter's _LO
 * latches its _HI (sim_mmio.c). Sampling is instantaneous; there is no periodic sampling and
 * no counter overflow interrupt. Runs under the device lock.
 */
#include <string.h>

#include "sim_internal.h"

/* sim_perf_read_locked - read a PERF_* register (@offset is one, as decoded by sim_mmio.c). */
uint32_t sim_perf_read_locked(struct sim_device *dev, uint32_t offset)
{
	uint32_t i;

	sim_mutex_assert_held(&dev->lock);
	if (offset == SIM_PERF_CONTROL)
		return dev->perf_control;
	if (offset >= SIM_PERF_COUNTER_LO(0) && offset < SIM_PERF_COUNTER_LO(SIM_PERF_COUNT)) {
		i = (offset - SIM_PERF_COUNTER_LO(0)) / 8;
		return offset & 4 ? (uint32_t)(dev->perf[i] >> 32) : (uint32_t)dev->perf[i];
	}
	if (offset >= SIM_PERF_SAMPLE_LO(0) && offset < SIM_PERF_SAMPLE_LO(SIM_PERF_COUNT)) {
		i = (offset - SIM_PERF_SAMPLE_LO(0)) / 8;
		return offset & 4 ? (uint32_t)(dev->perf_sample[i] >> 32)
				  : (uint32_t)dev->perf_sample[i];
	}
	return 0; /* PERF_COMMAND is write-only */
}

/*
 * sim_perf_write_locked - write a PERF_* register. Reserved PERF_CONTROL bits read back as 0;
 * counters and samples are read-only (guest error).
 */
void sim_perf_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
{
	sim_mutex_assert_held(&dev->lock);
	switch (offset) {
	case SIM_PERF_CONTROL:
		dev->perf_control = value & SIM_PERF_CONTROL_ENABLE;
		break;
	case SIM_PERF_COMMAND:
		if (value == SIM_PERF_COMMAND_CLEAR) {
			memset(dev->perf, 0, sizeof(dev->perf));
		} else if (value == SIM_PERF_COMMAND_SAMPLE) {
			memcpy(dev->perf_sample, dev->perf, sizeof(dev->perf));
			sim_irq_raise_locked(dev, SIM_IRQ_PERFCNT_SAMPLE);
		} else {
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "PERF_COMMAND %u unknown", value);
		}
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "write %#x to read-only %s ignored", value,
			       sim_reg_name(offset));
		break;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * sim_power.c - per-core power domains and the GPU clock divider.
 *
 * CORES_ON / CORES_OFF move a target mask; the transition then takes timing.core_power cycles
 * per core whose state changes, during which PWR_STATUS.TRANSITION and GPU_STATUS.PWR_TRANSITION
 * are set. At its end CORES_READY becomes the target, POWER_CHANGED is raised and SIM_EV_POWER
 * emitted. A write during a transition restarts the countdown towards the new target from the
 * cores ready now. Cores never power off under a running dispatch: the power-off part of a
 * transition waits for the cores a running dispatch uses (sim_clock.c finishes it), power-ups on
 * time. CLOCK_DIV changes the length of a cycle in nanoseconds at once (TIMESTAMP slows down);
 * cycle costs are unchanged. Voltage, inrush and per-core clocks are not modelled. Runs under
 * the device lock on whichever thread accessed the registers or runs the clock.
 */
#include "sim_internal.h"

static uint32_t sim_power_present(const struct sim_device *dev)
{
	return dev->cfg.cores >= 32 ? 0xffffffffu : (1u << dev->cfg.cores) - 1;
}

/* Cores used by a dispatch in progress on any queue. */
static uint32_t sim_power_cores_in_use(const struct sim_device *dev)
{
	uint32_t mask = 0;

	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if (dev->q[i].dispatch.active)
			mask |= dev->q[i].dispatch.core_mask;
	return mask;
}

/*
 * sim_power_transition_done_locked - end the transition: CORES_READY = target, POWER_CHANGED.
 * Cores to be powered off that a running dispatch uses stay on and the transition stays open
 * (no timed event remains; the scheduler calls again until they are free); every other core
 * reaches its target now.
 */
void sim_power_transition_done_locked(struct sim_device *dev)
{
	uint32_t busy_off;

	sim_mutex_assert_held(&dev->lock);
	busy_off = dev->cores_ready & ~dev->cores_target & sim_power_cores_in_use(dev);
	if (busy_off) {
		dev->cores_ready = dev->cores_target | busy_off;
		dev->pwr_transition = true;
		return;
	}
	dev->cores_ready = dev->cores_target;
	dev->pwr_transition = false;
	sim_log_locked(dev, SIM_LOG_INFO, "cores ready %#x", dev->cores_ready);
	sim_event_locked(dev, SIM_EV_POWER, SIM_EVENT_NO_UNIT, dev->cores_ready, dev->clock_div, 0,
			 NULL);
	sim_irq_raise_locked(dev, SIM_IRQ_POWER_CHANGED);
}

static void sim_power_start_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	uint64_t changes = (uint64_t)__builtin_popcount(dev->cores_ready ^ dev->cores_target);
	uint64_t delay = changes * dev->cfg.timing.core_power;

	dev->pwr_transition = true;
	if (!delay) {
		sim_power_transition_done_locked(dev);
		return;
	}
	sim_pending_add_locked(dev, delay, SIM_PENDING_POWER_DONE, 0);
}

/* sim_power_read_locked - read a PWR_* register (@offset is one, as decoded by sim_mmio.c). */
uint32_t sim_power_read_locked(struct sim_device *dev, uint32_t offset)
{
	sim_mutex_assert_held(&dev->lock);
	switch (offset) {
	case SIM_PWR_CORES_PRESENT:
		return sim_power_present(dev);
	case SIM_PWR_CORES_READY:
		return dev->cores_ready;
	case SIM_PWR_CLOCK_DIV:
		return dev->clock_div;
	case SIM_PWR_STATUS:
		return dev->pwr_transition ? SIM_PWR_STATUS_TRANSITION : 0;
	default: /* CORES_ON / CORES_OFF are write-only */
		return 0;
	}
}

/*
 * sim_power_write_locked - write a PWR_* register. Bits for absent cores and out-of-range
 * dividers are guest errors (the rest of a core mask still applies); RO registers ignore writes.
 */
void sim_power_write_locked(struct sim_device *dev, uint32_t offset, uint32_t value)
{
	uint32_t present = sim_power_present(dev);

	sim_mutex_assert_held(&dev->lock);
	switch (offset) {
	case SIM_PWR_CORES_ON:
	case SIM_PWR_CORES_OFF:
		if (value & ~present)
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
				       "%s: cores %#x not present (present %#x)",
				       sim_reg_name(offset), value & ~present, present);
		value &= present;
		if (offset == SIM_PWR_CORES_ON)
			dev->cores_target |= value;
		else
			dev->cores_target &= ~value;
		sim_power_start_locked(dev);
		break;
	case SIM_PWR_CLOCK_DIV:
		if (value < 1 || value > 16) {
			sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "PWR_CLOCK_DIV %u out of 1..16",
				       value);
			break;
		}
		dev->clock_div = value;
		sim_event_locked(dev, SIM_EV_POWER, SIM_EVENT_NO_UNIT, dev->cores_ready, value, 0,
				 NULL);
		break;
	default:
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "write %#x to read-only %s ignored", value,
			       sim_reg_name(offset));
		break;
	}
}

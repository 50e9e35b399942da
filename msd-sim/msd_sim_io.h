/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_io.h - register accessors of msd-sim, the one place the driver touches MMIO.
 *
 * Every register read and write of the driver goes through these inline wrappers around sim.h's
 * MMIO calls, so a trace recorder or a test can install a hook (Fuchsia's RegisterIo::Hook) and
 * see the complete access stream in order. 64-bit registers are read LO first (the model latches
 * the HI half on the LO read). The hook runs on the accessing thread -- the device thread, or a
 * connection thread that submits straight to the ring (TAIL, DOORBELL, and AS slot programming
 * when it binds a slot) -- and must not call back into the driver.
 */
#ifndef MSD_SIM_IO_H
#define MSD_SIM_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "msd_sim_internal.h"
#include "sim/sim.h"

/* msd_sim_read32 - one 32-bit register read at @offset, reported to the hook. */
static inline uint32_t msd_sim_read32(struct msd_sim_device *dev, uint32_t offset)
{
	uint32_t value = sim_mmio_read32(dev->sim, offset);

	if (dev->io_hook)
		dev->io_hook(dev->io_hook_ctx, false, offset, value);
	return value;
}

/* msd_sim_write32 - one 32-bit register write at @offset, reported to the hook first. */
static inline void msd_sim_write32(struct msd_sim_device *dev, uint32_t offset, uint32_t value)
{
	if (dev->io_hook)
		dev->io_hook(dev->io_hook_ctx, true, offset, value);
	sim_mmio_write32(dev->sim, offset, value);
}

/* msd_sim_read64 - a _LO/_HI pair at @offset_lo, LO first so the HI half is the latched one. */
static inline uint64_t msd_sim_read64(struct msd_sim_device *dev, uint32_t offset_lo)
{
	uint64_t lo = msd_sim_read32(dev, offset_lo);
	uint64_t hi = msd_sim_read32(dev, offset_lo + 4);

	return hi << 32 | lo;
}

/* msd_sim_write64 - a _LO/_HI pair at @offset_lo, LO first. */
static inline void msd_sim_write64(struct msd_sim_device *dev, uint32_t offset_lo, uint64_t value)
{
	msd_sim_write32(dev, offset_lo, (uint32_t)value);
	msd_sim_write32(dev, offset_lo + 4, (uint32_t)(value >> 32));
}

#endif /* MSD_SIM_IO_H */

/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_clock.c - the driver's two clocks.
 *
 * The host clock (msd_sim_now_ms/ns, CLOCK_MONOTONIC) bounds waits on the hardware - a register
 * that should change within MSD_SIM_WAIT_MS - and stamps what clients correlate with their own
 * CLOCK_MONOTONIC (MAGMA_QUERY_TOTAL_TIME, timestamp queries). Those are real time by nature.
 *
 * The policy clock (msd_sim_clock_ms/ns) times the driver's own decisions: when an idle device
 * powers down, the DVFS utilization window, how long a WAIT may stand still before it is a hang,
 * when a starved queue is aged. It is the host clock unless a test installed its own with
 * msd_sim_device_set_clock (as msd-arm-mali's scheduler takes a clock for its tests), so tests of
 * those policies step time instead of sleeping and bounding elapsed time, or the driver was
 * configured with MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME (trace replay: a slow host must not add
 * power-downs and so GPU cycles).
 *
 * Threading: the clock is read under the device lock; set it before work is queued or under the
 * lock (msd_sim_device_set_clock takes it).
 */
#include <time.h>

#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* msd_sim_now_ms - CLOCK_MONOTONIC in milliseconds (waits on hardware only). */
uint64_t msd_sim_now_ms(void)
{
	return msd_sim_now_ns() / 1000000;
}

/* msd_sim_now_ns - CLOCK_MONOTONIC in nanoseconds (waits on hardware, client timestamps). */
uint64_t msd_sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * msd_sim_clock_ns - the policy clock now, in ns: a test's clock, else with
 * MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME the GPU's cycle counter at the full clock, else the host
 * clock. Caller holds the device lock.
 */
uint64_t msd_sim_clock_ns(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (dev->clock_fn)
		return dev->clock_fn(dev->clock_ctx);
	if (dev->drv->flags & MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME)
		return msd_sim_cycles_to_ns(msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO), 1,
					    dev->clock_khz);
	return msd_sim_now_ns();
}

/* msd_sim_clock_ms - the policy clock now, in ms. Caller holds the device lock. */
uint64_t msd_sim_clock_ms(struct msd_sim_device *dev)
{
	return msd_sim_clock_ns(dev) / 1000000;
}

/*
 * msd_sim_device_set_clock - make @now_ns(@ctx) the policy clock of @dev (NULL: the host clock
 * again) and wake the device thread to re-evaluate its timers. A different clock restarts every
 * timer (a time on the old clock means nothing on the new one); the same clock again only wakes
 * the device thread, which is how a test says it stepped its clock. @now_ns must be monotonic
 * and must not take the device lock. Any thread; takes the device lock.
 */
void msd_sim_device_set_clock(struct msd_sim_device *dev, uint64_t (*now_ns)(void *ctx), void *ctx)
{
	msd_sim_mutex_lock(&dev->lock);
	if (dev->clock_fn != now_ns || dev->clock_ctx != ctx) {
		dev->clock_fn = now_ns;
		dev->clock_ctx = ctx;
		dev->idle_since_ms = 0;
		dev->dvfs_wall_ns = 0;
		for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
			dev->queues[qi].starve_ms = 0;
			dev->queues[qi].wd_wait_ms = 0;
		}
	}
	msd_sim_device_kick_locked(dev);
	msd_sim_mutex_unlock(&dev->lock);
}

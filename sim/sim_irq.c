/* SPDX-License-Identifier: MIT */
/*
 * sim_irq.c - the GPU's single interrupt line: RAWSTAT / MASK / STATUS and its delivery.
 *
 * Causes latch in RAWSTAT whether masked or not; the line is (RAWSTAT & MASK) != 0, i.e. level
 * triggered. The host sees the line through an eventfd that is written on every rising edge and
 * again whenever an IRQ_CLEAR or IRQ_MASK write leaves the line asserted (so a driver that
 * clears one cause never loses another that arrived meanwhile), and through an optional
 * callback told about rises and falls. Two injections live here: DROP_IRQ swallows the next
 * rising edges (RAWSTAT still latches, so a polling driver recovers) and DELAY_IRQ turns raised
 * causes into timed events delivered later by sim_clock.c. Runs on whichever thread holds the
 * device lock; the callback runs under it. The one exception is the eventfd write of a rise
 * caused by the clock thread: that is made right after the thread drops the lock (sim_clock.c).
 */
#include <unistd.h>

#include "magma_probe/probe.h"
#include "sim_internal.h"

/*
 * Signal the host. On the clock thread inside a quantum (dev->irq_defer) the eventfd write is
 * left owed: the thread ends its quantum at once and writes after dropping the lock, so the
 * woken IRQ handler does not find the device lock still held. The callback runs now, locked.
 */
static void sim_irq_signal_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	uint64_t one = 1;
	ssize_t n;

	if (dev->irq_defer) {
		dev->irq_owed = true;
	} else {
		/* A full counter (EAGAIN) still leaves the fd readable: nothing is lost. */
		n = write(dev->irq_fd, &one, sizeof(one));
		(void)n;
	}
	dev->stats.irqs_delivered++;
	if (dev->irq_fn)
		dev->irq_fn(dev->irq_ctx, true);
}

/* sim_irq_update_locked - see sim_internal.h. */
void sim_irq_update_locked(struct sim_device *dev, bool rearm)
{
	uint32_t status = dev->irq_rawstat & dev->irq_mask;
	bool level = status != 0;

	sim_mutex_assert_held(&dev->lock);
	if (level && !dev->line) {
		dev->line = true;
		magma_probe_mark(MAGMA_PROBE_IRQ_RAISED);
		sim_event_locked(dev, SIM_EV_IRQ_LINE, SIM_EVENT_NO_UNIT, status, 1, 0, NULL);
		if (dev->inject_drop_irq) {
			dev->inject_drop_irq--;
			sim_log_locked(dev, SIM_LOG_INFO, "injected: IRQ edge dropped (status %#x)",
				       status);
			return;
		}
		sim_irq_signal_locked(dev);
	} else if (level && rearm) {
		sim_irq_signal_locked(dev);
	} else if (!level && dev->line) {
		dev->line = false;
		sim_event_locked(dev, SIM_EV_IRQ_LINE, SIM_EVENT_NO_UNIT, status, 0, 0, NULL);
		if (dev->irq_fn)
			dev->irq_fn(dev->irq_ctx, false);
	}
}

/* sim_irq_set_raw_locked - see sim_internal.h. IRQ_RAISE is emitted only for new bits. */
void sim_irq_set_raw_locked(struct sim_device *dev, uint32_t bits)
{
	uint32_t fresh;

	sim_mutex_assert_held(&dev->lock);
	bits &= SIM_IRQ_ALL;
	fresh = bits & ~dev->irq_rawstat;
	if (!fresh)
		return;
	dev->irq_rawstat |= fresh;
	sim_event_locked(dev, SIM_EV_IRQ_RAISE, SIM_EVENT_NO_UNIT, fresh, dev->irq_rawstat, 0,
			 NULL);
	sim_irq_update_locked(dev, false);
}

/*
 * sim_irq_raise_locked - see sim_internal.h. With DELAY_IRQ armed, each raise consumes one count
 * and becomes a SIM_PENDING_IRQ event inject_delay_cycles from now.
 */
void sim_irq_raise_locked(struct sim_device *dev, uint32_t bits)
{
	sim_mutex_assert_held(&dev->lock);
	bits &= SIM_IRQ_ALL;
	if (!bits)
		return;
	if (dev->inject_delay_irq) {
		dev->inject_delay_irq--;
		sim_pending_add_locked(dev, dev->inject_delay_cycles, SIM_PENDING_IRQ, bits);
		return;
	}
	sim_irq_set_raw_locked(dev, bits);
}

/* sim_irq_set_handler - see sim.h. Takes the device lock; the new handler is not called now. */
void sim_irq_set_handler(struct sim_device *dev, sim_irq_fn fn, void *ctx)
{
	sim_host_lock(dev);
	dev->irq_fn = fn;
	dev->irq_ctx = fn ? ctx : NULL;
	sim_mutex_unlock(&dev->lock);
}

/* sim_irq_fd - see sim.h. The fd is fixed for the device's lifetime, so no lock is needed. */
int sim_irq_fd(struct sim_device *dev)
{
	return dev->irq_fd;
}

/* sim_irq_is_asserted - see sim.h. Takes the device lock. */
bool sim_irq_is_asserted(struct sim_device *dev)
{
	bool line;

	sim_host_lock(dev);
	line = dev->line;
	sim_mutex_unlock(&dev->lock);
	return line;
}

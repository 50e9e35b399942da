/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_irq.c - interrupt handling, all of it on the device thread.
 *
 * There is no separate interrupt thread (a thread hop per interrupt costs more than the work):
 * the device thread sleeps in poll() on the sim's IRQ eventfd along with its wake eventfd. When
 * the line rises it re-arms the eventfd, reads IRQ_STATUS and writes those bits to IRQ_CLEAR
 * (the sim signals the fd again if another cause arrived meanwhile, so nothing is lost) without
 * the device lock, then takes the lock and acts (and while work is in flight it also reads
 * IRQ_STATUS whenever a poll timeout passes without an interrupt, so a lost interrupt delays the
 * work instead of stranding it): JOB_DONE retires up to Q_SEQNO, MMU_FAULT
 * latches and clears the slot's fault, JOB_FAULT kills the faulting context and resumes the
 * queue, QUEUE_STOPPED resumes a queue stopped to drop abandoned work (msd_sim_abandon.c), TIMER
 * runs the hang watchdog and JOB_DONE samples utilization for clock scaling
 * (msd_sim_recovery.c). The causes the driver does not act on (QUEUE_USER, PERFCNT_SAMPLE) are
 * logged at debug level; GPU_ERROR is logged as an error.
 */
#include <unistd.h>

#include "magma_probe/probe.h"
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* msd_sim_irq_read_and_clear - IRQ_STATUS, acknowledged by writing it to IRQ_CLEAR. */
uint32_t msd_sim_irq_read_and_clear(struct msd_sim_device *dev)
{
	uint32_t status = msd_sim_read32(dev, SIM_GPU_IRQ_STATUS);

	if (status)
		msd_sim_write32(dev, SIM_GPU_IRQ_CLEAR, status);
	return status;
}

/*
 * msd_sim_irq_take - device thread, dev->lock not held: re-arm the sim's IRQ eventfd; if it was
 * signaled, acknowledge and return IRQ_STATUS, else 0. Re-arming first means a cause arriving
 * after the STATUS read signals the fd again.
 */
uint32_t msd_sim_irq_take(struct msd_sim_device *dev)
{
	uint64_t drain;

	if (read(sim_irq_fd(dev->sim), &drain, sizeof(drain)) != sizeof(drain))
		return 0;
	return msd_sim_irq_read_and_clear(dev);
}

/*
 * msd_sim_irq_poll_missed - device thread, dev->lock not held, called when work is in flight and
 * a whole poll timeout passed without an interrupt: acknowledge and return IRQ_STATUS anyway. A
 * cause found there arrived without an interrupt - a lost edge leaves the line asserted, so no
 * later cause raises one either - and without this look the device would wait forever (the
 * watchdog's own TIMER is an interrupt too). Logged, since hardware that loses interrupts is
 * worth knowing about.
 */
uint32_t msd_sim_irq_poll_missed(struct msd_sim_device *dev)
{
	uint32_t status = msd_sim_irq_read_and_clear(dev);

	if (status)
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING,
			    "missed interrupt: IRQ_STATUS %#x found by polling", status);
	return status;
}

/* Latch and clear the fault of every slot in @mask. */
static void msd_sim_irq_mmu_faults_locked(struct msd_sim_device *dev, uint32_t mask)
	MSD_SIM_REQUIRES(dev->lock)
{
	for (uint32_t s = 0; s < dev->as_slots; s++) {
		uint32_t fs;

		if (!(mask & SIM_IRQ_MMU_FAULT(s)))
			continue;
		fs = msd_sim_read32(dev, SIM_AS_FAULTSTATUS(s));
		dev->as_fault_status[s] = fs;
		dev->as_fault_addr[s] = msd_sim_read64(dev, SIM_AS_FAULTADDRESS_LO(s));
		msd_sim_write32(dev, SIM_AS_FAULTCLEAR(s), 1);
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING,
			    "AS %u fault %s (%#x) at %#" PRIx64 ", access %u level %u queue %u", s,
			    sim_fault_name(SIM_FIELD_GET(SIM_AS_FAULT_CODE, fs)), fs,
			    dev->as_fault_addr[s], SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, fs),
			    SIM_FIELD_GET(SIM_AS_FAULT_LEVEL, fs),
			    SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, fs));
	}
}

/*
 * msd_sim_irq_handle_locked - act on acknowledged IRQ_STATUS bits @status. MMU faults are
 * latched before job faults so the job fault sees them; completions before faults so only the
 * faulting entry is blamed. Device thread, or a submitting thread (msd_sim_irq_inline_locked).
 */
void msd_sim_irq_handle_locked(struct msd_sim_device *dev, uint32_t status)
{
	msd_sim_mutex_assert_held(&dev->lock);
	magma_probe_mark(MAGMA_PROBE_DRIVER_IRQ);
	if (status & SIM_IRQ_ALL_MMU_FAULT)
		msd_sim_irq_mmu_faults_locked(dev, status);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (status & (SIM_IRQ_JOB_DONE(qi) | SIM_IRQ_JOB_FAULT(qi)))
			msd_sim_job_retire_queue_locked(dev, qi);
		if (status & SIM_IRQ_JOB_FAULT(qi))
			msd_sim_job_fault_locked(dev, qi);
		if (status & SIM_IRQ_QUEUE_STOPPED(qi))
			msd_sim_abandon_queue_stopped_locked(dev, qi);
	}
	if (status & SIM_IRQ_ALL_JOB_DONE)
		msd_sim_power_sample_locked(dev);
	if (status & SIM_IRQ_TIMER)
		msd_sim_watchdog_tick_locked(dev);
	if (status & SIM_IRQ_GPU_ERROR)
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "GPU error outside a job");
	if (status & (SIM_IRQ_ALL_QUEUE_USER | SIM_IRQ_ALL_QUEUE_STOPPED | SIM_IRQ_PERFCNT_SAMPLE |
		      SIM_IRQ_RESET_DONE | SIM_IRQ_POWER_CHANGED))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG, "irq %#x", status);
}

/*
 * msd_sim_irq_inline_locked - after a submission rung with the sim armed (sim_inline_begin): let
 * the GPU run on this thread (sim_inline_end) and, when its line rose meanwhile (no eventfd write
 * was made for that rise), do the device thread's interrupt work right here: acknowledge, handle
 * (completed jobs signal their semaphores now). The device thread is woken only for what must
 * happen there: ready jobs to schedule, notifications to deliver, requests. So a short job on an
 * idle GPU costs no thread switch between its doorbell and its semaphore.
 */
void msd_sim_irq_inline_locked(struct msd_sim_device *dev)
{
	uint32_t status;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!sim_inline_end(dev->sim))
		return;
	/* The device thread did not see this job: restart its idle time (power-down) here. */
	dev->idle_since_ms = 0;
	status = msd_sim_irq_read_and_clear(dev);
	if (status)
		msd_sim_irq_handle_locked(dev, status);
	if (dev->sched.ready || dev->pending_irq || !msd_sim_list_empty(&dev->notifications) ||
	    !msd_sim_list_empty(&dev->requests))
		msd_sim_device_kick_locked(dev);
}

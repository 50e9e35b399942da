/* SPDX-License-Identifier: MIT */
/*
 * sim_device.c - lifetime, configuration, resets, fault injection and statistics of a device.
 *
 * sim_create() builds a device already in its hard-reset state (as if the power-on reset had
 * completed before the driver probed it: STATUS.RESETTING clear, no RESET_DONE pending). The
 * two guest-visible resets are modelled here: a soft reset abandons work but keeps the
 * configuration a driver programmed, a hard reset returns every register to its reset value;
 * both keep STATUS.RESETTING set for a configurable number of cycles and then raise RESET_DONE
 * (sim_clock.c delivers it). Host pages pinned on the bus belong to the host and survive both.
 * Fault injection only arms fields that the owning blocks consume; SQLite-style allocation
 * failure injection makes every host allocation fallible on demand, including those made while
 * the device is being created. There is no global state except that one per-thread countdown
 * for sim_create(). Every public entry point takes the device lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sim_internal.h"

/*
 * Allocation-failure countdown for the next sim_create() on this thread, armed by
 * sim_inject_alloc_failure(NULL, n): there is no device yet to hold it.
 */
static _Thread_local uint32_t sim_create_alloc_fail;

/* sim_config_default - see sim.h. */
void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->as_slots = 8;
	cfg->queues = 4;
	cfg->cores = 4;
	cfg->lanes = 32;
	cfg->clock_hz = 1000000000ull;
	cfg->tlb_entries = 64;
	cfg->max_frames = 1ull << 20;
	cfg->log_mask = 0;
	cfg->timing = (struct sim_timing){
		.job_start = 64,
		.job_end = 16,
		.cmd_header = 4,
		.cmd_dword = 1,
		.mem_line = 4,
		.copy_bytes_per_cycle = 64,
		.tlb_walk_level = 24,
		.wait_poll = 32,
		.alu = 1,
		.alu_mul = 2,
		.alu_div = 16,
		.alu_fdiv = 8,
		.branch = 2,
		.mem_op = 4,
		.group_launch = 16,
		.soft_reset = 1000,
		.hard_reset = 10000,
		.core_power = 500,
	};
}

/*
 * Range checks of sim.h's struct sim_config. clock_hz must be at least 1 kHz and fit
 * SIM_GPU_CLOCK_KHZ; max_frames must leave room for one frame besides frame 0 and stay within
 * the 52-bit physical address space; copies need a nonzero bandwidth.
 */
static bool sim_config_is_valid(const struct sim_config *cfg)
{
	if (cfg->as_slots < 1 || cfg->as_slots > SIM_AS_MAX)
		return false;
	if (cfg->queues < 1 || cfg->queues > SIM_QUEUE_MAX)
		return false;
	if (cfg->cores < 1 || cfg->cores > SIM_MAX_CORES)
		return false;
	if (cfg->lanes < 1 || cfg->lanes > SIM_MAX_LANES)
		return false;
	if (cfg->clock_hz < 1000 || cfg->clock_hz / 1000 > UINT32_MAX)
		return false;
	if (cfg->tlb_entries < 4 || cfg->tlb_entries > 65535)
		return false;
	if (cfg->max_frames < 2 || cfg->max_frames > (1ull << (SIM_PA_BITS - SIM_PAGE_SHIFT)) ||
	    cfg->max_frames > SIZE_MAX / sizeof(uint8_t *))
		return false;
	if (!cfg->timing.copy_bytes_per_cycle)
		return false;
	return true;
}

/*
 * sim_alloc - see sim_internal.h. Zeroed memory or NULL; free with free(). The caller either
 * holds the device lock or owns the device exclusively (creation).
 */
void *sim_alloc(struct sim_device *dev, size_t size)
{
	if (dev->alloc_fail_countdown && --dev->alloc_fail_countdown == 0)
		return NULL;
	return calloc(1, size ? size : 1);
}

/*
 * Return every block to its reset values (sim_create and HARD_RESET), leaving RESETTING clear.
 * Keeps: bus frames, subscribers, handler, RESET_FAIL injection, statistics.
 */
static void sim_reset_state_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	dev->now = 0;
	dev->base_ticks = 0;
	dev->mem_epoch++;
	dev->irq_rawstat = 0;
	dev->irq_mask = 0;
	dev->scratch = 0;
	dev->guest_errors = 0;
	dev->timer_compare = 0;
	dev->timer_control = 0;
	dev->latch_offset = 0;
	dev->latch_value = 0;
	dev->resetting = false;
	dev->reset_kind = 0;
	dev->cores_ready = 0;
	dev->cores_target = 0;
	dev->clock_div = 1;
	dev->pwr_transition = false;
	dev->perf_control = 0;
	memset(dev->perf, 0, sizeof(dev->perf));
	memset(dev->perf_sample, 0, sizeof(dev->perf_sample));
	dev->pending_count = 0;
	dev->inject_drop_irq = 0;
	dev->inject_delay_irq = 0;
	dev->inject_delay_cycles = 0;

	sim_cp_reset_locked(dev, true);
	sim_mmu_reset_locked(dev, true);
	for (uint32_t i = 0; i < SIM_AS_MAX; i++) {
		dev->as[i].inject_fault_code = 0;
		dev->as[i].inject_fault_count = 0;
	}
	for (uint32_t i = 0; i < SIM_QUEUE_MAX; i++) {
		dev->q[i].ready_at = 0;
		dev->q[i].inject_hang = 0;
		dev->q[i].inject_dma = 0;
		dev->q[i].scoped_hang.count = 0;
		dev->q[i].scoped_dma.count = 0;
		dev->q[i].hung = false;
	}
	sim_irq_update_locked(dev, false);
}

/* Drop timed events of @kind (a restarted reset replaces the old completion). */
static void sim_pending_drop_locked(struct sim_device *dev, enum sim_pending_kind kind)
	SIM_REQUIRES(dev->lock)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < dev->pending_count; i++)
		if (dev->pending[i].kind != kind)
			dev->pending[out++] = dev->pending[i];
	dev->pending_count = out;
}

/*
 * sim_soft_reset_locked - GPU_COMMAND SOFT_RESET: abandon every job, flush TLBs, clear fault
 * latches and RAWSTAT, keep configuration. Delayed IRQs still in flight are dropped with
 * RAWSTAT, and CP_HANG injections (hit or armed) end. RESET_DONE follows timing.soft_reset
 * cycles later unless RESET_FAIL is armed.
 */
void sim_soft_reset_locked(struct sim_device *dev)
{
	sim_mutex_assert_held(&dev->lock);
	sim_log_locked(dev, SIM_LOG_INFO, "soft reset");
	sim_event_locked(dev, SIM_EV_RESET, SIM_EVENT_NO_UNIT, SIM_GPU_COMMAND_SOFT_RESET, 0, 0,
			 NULL);
	dev->resetting = true;
	dev->reset_kind = SIM_GPU_COMMAND_SOFT_RESET;
	dev->latch_offset = 0;
	sim_cp_reset_locked(dev, false);
	sim_mmu_reset_locked(dev, false);
	for (uint32_t i = 0; i < SIM_QUEUE_MAX; i++) {
		dev->q[i].ready_at = dev->now; /* the unit in flight is abandoned too */
		dev->q[i].hung = false;	       /* CP_HANG, hit or still armed, ends here */
		dev->q[i].inject_hang = 0;
		dev->q[i].scoped_hang.count = 0;
	}
	dev->irq_rawstat = 0;
	sim_pending_drop_locked(dev, SIM_PENDING_IRQ);
	sim_pending_drop_locked(dev, SIM_PENDING_RESET_DONE);
	sim_irq_update_locked(dev, false);
	if (dev->inject_reset_fail) {
		dev->inject_reset_fail--;
		sim_log_locked(dev, SIM_LOG_INFO, "injected: soft reset will not complete");
		return;
	}
	sim_pending_add_locked(dev, dev->cfg.timing.soft_reset, SIM_PENDING_RESET_DONE,
			       SIM_GPU_COMMAND_SOFT_RESET);
}

/*
 * sim_hard_reset_locked - GPU_COMMAND HARD_RESET: every register to its reset value now (time
 * restarts at 0), then RESETTING for timing.hard_reset cycles and RESET_DONE. Always succeeds.
 */
void sim_hard_reset_locked(struct sim_device *dev)
{
	sim_mutex_assert_held(&dev->lock);
	sim_log_locked(dev, SIM_LOG_INFO, "hard reset");
	sim_event_locked(dev, SIM_EV_RESET, SIM_EVENT_NO_UNIT, SIM_GPU_COMMAND_HARD_RESET, 0, 0,
			 NULL);
	sim_reset_state_locked(dev);
	dev->resetting = true;
	dev->reset_kind = SIM_GPU_COMMAND_HARD_RESET;
	sim_pending_add_locked(dev, dev->cfg.timing.hard_reset, SIM_PENDING_RESET_DONE,
			       SIM_GPU_COMMAND_HARD_RESET);
}

/*
 * sim_create - see sim.h. Every host allocation after the device structure goes through
 * sim_alloc(); each error label undoes exactly what precedes it.
 */
struct sim_device *sim_create(const struct sim_config *cfg)
{
	uint32_t fail_at = sim_create_alloc_fail;
	struct sim_device *dev;
	pthread_condattr_t cattr;

	sim_create_alloc_fail = 0;
	if (fail_at == 1)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->alloc_fail_countdown = fail_at ? fail_at - 1 : 0;
	atomic_init(&dev->host_waiters, 0);
	if (cfg)
		dev->cfg = *cfg;
	else
		sim_config_default(&dev->cfg);
	if (!sim_config_is_valid(&dev->cfg))
		goto err_free_dev;
	dev->cfg.tlb_entries &= ~3u;

	dev->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->irq_fd < 0)
		goto err_free_dev;
	if (pthread_condattr_init(&cattr))
		goto err_close_fd;
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&dev->wake, &cattr)) {
		pthread_condattr_destroy(&cattr);
		goto err_close_fd;
	}
	pthread_condattr_destroy(&cattr);
	sim_mutex_init(&dev->lock);

	dev->bus.max_frames = dev->cfg.max_frames;
	dev->bus.lowest_free = 1;
	dev->bus.frames = sim_alloc(dev, dev->cfg.max_frames * sizeof(uint8_t *));
	if (!dev->bus.frames)
		goto err_fini_sync;
	if (sim_tlb_init(dev))
		goto err_free_frames;

	sim_mutex_lock(&dev->lock);
	sim_reset_state_locked(dev);
	sim_mutex_unlock(&dev->lock);
	dev->alloc_fail_countdown = 0;
	return dev;

err_free_frames:
	free(dev->bus.frames);
err_fini_sync:
	sim_mutex_fini(&dev->lock);
	pthread_cond_destroy(&dev->wake);
err_close_fd:
	close(dev->irq_fd);
err_free_dev:
	free(dev);
	return NULL;
}

/* sim_destroy - see sim.h. Pinned host pages stay the caller's; only the table is freed. */
void sim_destroy(struct sim_device *dev)
{
	if (!dev)
		return;
	sim_stop(dev);
	sim_host_lock(dev);
	for (uint32_t i = 0; i < SIM_QUEUE_MAX; i++)
		sim_compute_abort_locked(dev, i);
	sim_mutex_unlock(&dev->lock);
	sim_tlb_fini(dev);
	free(dev->bus.frames);
	sim_mutex_fini(&dev->lock);
	pthread_cond_destroy(&dev->wake);
	close(dev->irq_fd);
	free(dev);
}

/* sim_get_config - see sim.h. tlb_entries is reported rounded down to a multiple of 4. */
void sim_get_config(struct sim_device *dev, struct sim_config *cfg_out)
{
	sim_host_lock(dev);
	*cfg_out = dev->cfg;
	sim_mutex_unlock(&dev->lock);
}

static uint32_t sim_sat_add32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/*
 * sim_inject_fault - see sim.h. Takes the device lock. MMU_FAULT needs an MMU fault code in @arg
 * (SIM_FAULT_MMU_*); counts of the same kind add up; BIT_FLIP acts at once and counts as a
 * memory change for WAIT.
 */
int sim_inject_fault(struct sim_device *dev, const struct sim_inject *inj)
{
	struct sim_queue *q;
	uint32_t count;
	uint8_t *byte;
	int ret = 0;

	if (!dev || !inj)
		return -EINVAL;
	count = inj->count ? inj->count : 1;
	sim_host_lock(dev);
	switch (inj->kind) {
	case SIM_INJECT_MMU_FAULT:
		if (inj->target >= dev->cfg.as_slots || inj->arg < SIM_FAULT_MMU_TRANSLATION ||
		    inj->arg > SIM_FAULT_MMU_ADDRESS_SIZE) {
			ret = -EINVAL;
			break;
		}
		dev->as[inj->target].inject_fault_code = (uint32_t)inj->arg;
		dev->as[inj->target].inject_fault_count =
			sim_sat_add32(dev->as[inj->target].inject_fault_count, count);
		break;
	case SIM_INJECT_DROP_IRQ:
		dev->inject_drop_irq = sim_sat_add32(dev->inject_drop_irq, count);
		break;
	case SIM_INJECT_DELAY_IRQ:
		dev->inject_delay_irq = sim_sat_add32(dev->inject_delay_irq, count);
		dev->inject_delay_cycles = inj->arg;
		break;
	case SIM_INJECT_CP_HANG:
	case SIM_INJECT_DMA_ERROR:
		if (inj->target >= dev->cfg.queues ||
		    (inj->seqno_last && inj->seqno_first > inj->seqno_last)) {
			ret = -EINVAL;
			break;
		}
		q = &dev->q[inj->target];
		if (inj->seqno_last)
			*(inj->kind == SIM_INJECT_CP_HANG ? &q->scoped_hang : &q->scoped_dma) =
				(struct sim_job_inject){count, inj->seqno_first, inj->seqno_last};
		else if (inj->kind == SIM_INJECT_CP_HANG)
			q->inject_hang = sim_sat_add32(q->inject_hang, count);
		else
			q->inject_dma = sim_sat_add32(q->inject_dma, count);
		break;
	case SIM_INJECT_BIT_FLIP:
		byte = sim_bus_host_locked(dev, inj->arg >> 3);
		if (!byte) {
			ret = -EINVAL;
			break;
		}
		*byte ^= (uint8_t)(1u << (inj->arg & 7));
		dev->mem_epoch++;
		break;
	case SIM_INJECT_RESET_FAIL:
		dev->inject_reset_fail = sim_sat_add32(dev->inject_reset_fail, count);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (!ret)
		sim_clock_kick_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/*
 * sim_inject_clear - see sim.h. Takes the device lock. Disarms pending injections, RESET_FAIL
 * included; a queue already hung or a soft reset already stuck stays so until reset.
 */
void sim_inject_clear(struct sim_device *dev)
{
	sim_host_lock(dev);
	for (uint32_t i = 0; i < SIM_AS_MAX; i++) {
		dev->as[i].inject_fault_code = 0;
		dev->as[i].inject_fault_count = 0;
	}
	for (uint32_t i = 0; i < SIM_QUEUE_MAX; i++) {
		dev->q[i].inject_hang = 0;
		dev->q[i].inject_dma = 0;
		dev->q[i].scoped_hang.count = 0;
		dev->q[i].scoped_dma.count = 0;
	}
	dev->inject_drop_irq = 0;
	dev->inject_delay_irq = 0;
	dev->inject_delay_cycles = 0;
	dev->inject_reset_fail = 0;
	sim_mutex_unlock(&dev->lock);
}

/*
 * sim_inject_alloc_failure - see sim.h. With @dev NULL the countdown applies to the next
 * sim_create() called on this thread (allocation 1 is the device structure itself) and is
 * disarmed once that call returns.
 */
void sim_inject_alloc_failure(struct sim_device *dev, uint32_t n)
{
	if (!dev) {
		sim_create_alloc_fail = n;
		return;
	}
	sim_host_lock(dev);
	dev->alloc_fail_countdown = n;
	sim_mutex_unlock(&dev->lock);
}

/* sim_get_stats - see sim.h. Takes the device lock. */
void sim_get_stats(struct sim_device *dev, struct sim_stats *out)
{
	sim_host_lock(dev);
	*out = dev->stats;
	sim_mutex_unlock(&dev->lock);
}

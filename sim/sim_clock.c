/* SPDX-License-Identifier: MIT */
/*
 * sim_clock.c - virtual time: the discrete-event scheduler and the optional clock thread.
 *
 * dev->now counts GPU cycles and moves only here. The scheduler repeatedly picks the earliest
 * thing that can happen -- a timed device event (reset done, power transition done, delayed
 * IRQ), a poll of a queue that does not need the engine (WAIT re-check, LOCK stall, injected
 * hang), or the next unit of the shared execution engine -- moves time to it and runs it (ties:
 * events, then polls by lowest queue, then the engine). A unit's cost sets when that queue may
 * run again and, except for a trailing WAIT poll, how long the engine stays busy. All queues
 * share the one engine: when it is free, the ready queue with the highest Q_PRIORITY gets it,
 * ties round-robin starting after the queue it served last, so queues interleave unit by unit
 * and a driver's priorities decide who runs. The timer
 * comparator fires whenever time passes its compare value. When every runnable queue is blocked
 * (a WAIT on memory nothing on the GPU will change, an injected hang) the scheduler jumps time
 * straight to the next event or the end of the step, charging the queues as if they had polled:
 * results are identical, only faster. Nothing depends on wall time unless the background thread
 * runs (sim_start), which drives the same scheduler in bounded quanta, dropping the lock in
 * between so host calls (MMIO, bus) interleave, and optionally paces GPU time to wall time.
 * A quantum ends soon after the IRQ line rises, and the thread writes the IRQ eventfd only after
 * dropping the lock, so the driver it wakes can read IRQ_STATUS at once.
 * With cfg.arb_seed set, ties are drawn from a seeded stream instead of round-robin (perturbed
 * timing for race detection, sim_perturb.c); while held (sim_set_hold) no queue runs.
 * Deliberately not modelled: clock-domain crossings, overlap of copy and compute work.
 * Host-stepped calls run on the caller's thread; the clock thread is the only other runner.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "sim_internal.h"

#define SIM_CLOCK_QUANTUM   20000ull /* cycles the clock thread runs per lock hold */
#define SIM_CLOCK_IRQ_SLACK 2000ull  /* cycles a quantum goes on at least once the line rose */
#define SIM_NEVER	    UINT64_MAX

static uint64_t sim_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sim_ns_locked(const struct sim_device *dev)
{
	return (uint64_t)((unsigned __int128)dev->base_ticks * 1000000000u / dev->cfg.clock_hz);
}

/* Let @delta cycles pass: time, base-clock ticks, statistics and the CYCLES counter. */
static void sim_clock_account_locked(struct sim_device *dev, uint64_t delta) SIM_REQUIRES(dev->lock)
{
	dev->now += delta;
	dev->base_ticks += delta * dev->clock_div;
	dev->stats.cycles += delta;
	sim_perf_add(dev, SIM_PERF_CYCLES, delta);
}

/* sim_clock_timer_check_locked - see sim_internal.h. The timer is one-shot. */
void sim_clock_timer_check_locked(struct sim_device *dev)
{
	sim_mutex_assert_held(&dev->lock);
	if ((dev->timer_control & SIM_TIMER_CONTROL_ENABLE) && dev->timer_compare <= dev->now) {
		dev->timer_control &= ~SIM_TIMER_CONTROL_ENABLE;
		sim_irq_raise_locked(dev, SIM_IRQ_TIMER);
	}
}

/* Move time forward to @t (never backwards), stopping at the timer's compare to fire it. */
static void sim_clock_move_locked(struct sim_device *dev, uint64_t t) SIM_REQUIRES(dev->lock)
{
	if (t > dev->now) {
		if ((dev->timer_control & SIM_TIMER_CONTROL_ENABLE) &&
		    dev->timer_compare > dev->now && dev->timer_compare < t) {
			sim_clock_account_locked(dev, dev->timer_compare - dev->now);
			sim_clock_timer_check_locked(dev);
		}
		sim_clock_account_locked(dev, t - dev->now);
	}
	sim_clock_timer_check_locked(dev);
}

static int sim_pending_find_locked(const struct sim_device *dev, enum sim_pending_kind kind)
{
	for (uint32_t i = 0; i < dev->pending_count; i++)
		if (dev->pending[i].kind == kind)
			return (int)i;
	return -1;
}

/*
 * sim_pending_add_locked - see sim_internal.h. RESET_DONE and POWER_DONE are unique: a new one
 * replaces the old. Delayed IRQs use at most SIM_MAX_PENDING - 2 slots; beyond that a new one is
 * merged into the last-due delayed IRQ (delivered together, at the later time).
 */
void sim_pending_add_locked(struct sim_device *dev, uint64_t delay, enum sim_pending_kind kind,
			    uint32_t arg)
{
	uint64_t at = sim_add_sat(dev->now, delay);
	struct sim_pending *p;
	int i;

	sim_mutex_assert_held(&dev->lock);
	if (kind != SIM_PENDING_IRQ) {
		i = sim_pending_find_locked(dev, kind);
		if (i >= 0) {
			dev->pending[i] = (struct sim_pending){.at = at, .kind = kind, .arg = arg};
			return;
		}
	} else if (dev->pending_count >= SIM_MAX_PENDING - 2) {
		p = NULL;
		for (uint32_t j = 0; j < dev->pending_count; j++)
			if (dev->pending[j].kind == SIM_PENDING_IRQ &&
			    (!p || dev->pending[j].at >= p->at))
				p = &dev->pending[j];
		assert(p);
		p->arg |= arg;
		if (at > p->at)
			p->at = at;
		sim_log_locked(dev, SIM_LOG_UNIMP, "delayed IRQ %#x merged: too many in flight",
			       arg);
		return;
	}
	assert(dev->pending_count < SIM_MAX_PENDING);
	dev->pending[dev->pending_count++] =
		(struct sim_pending){.at = at, .kind = kind, .arg = arg};
}

/* Index of the earliest timed event (the oldest among equals), or -1. */
static int sim_pending_next_locked(const struct sim_device *dev)
{
	int best = -1;

	for (uint32_t i = 0; i < dev->pending_count; i++)
		if (best < 0 || dev->pending[i].at < dev->pending[best].at)
			best = (int)i;
	return best;
}

static void sim_pending_run_locked(struct sim_device *dev, int idx) SIM_REQUIRES(dev->lock)
{
	struct sim_pending p = dev->pending[idx];

	for (uint32_t i = (uint32_t)idx + 1; i < dev->pending_count; i++)
		dev->pending[i - 1] = dev->pending[i];
	dev->pending_count--;
	switch (p.kind) {
	case SIM_PENDING_RESET_DONE:
		dev->resetting = false;
		sim_log_locked(dev, SIM_LOG_INFO, "reset %u done", p.arg);
		sim_event_locked(dev, SIM_EV_RESET, SIM_EVENT_NO_UNIT, p.arg, 1, 0, NULL);
		sim_irq_raise_locked(dev, SIM_IRQ_RESET_DONE);
		break;
	case SIM_PENDING_POWER_DONE:
		sim_power_transition_done_locked(dev);
		break;
	case SIM_PENDING_IRQ:
		sim_irq_set_raw_locked(dev, p.arg);
		break;
	}
}

/* Charge blocked queues for the cycles up to @t that they would have spent polling, jump. */
static void sim_clock_fast_forward_locked(struct sim_device *dev, uint64_t t)
	SIM_REQUIRES(dev->lock)
{
	for (uint32_t i = 0; i < dev->cfg.queues; i++) {
		struct sim_queue *q = &dev->q[i];
		uint64_t d;

		if (!sim_cp_is_runnable_locked(dev, i) || q->ready_at >= t)
			continue;
		d = t - q->ready_at;
		q->busy_cycles += d;
		sim_perf_add(dev, SIM_PERF_BUSY_CP, d);
		if (q->op.kind == SIM_OPK_WAIT && !q->hung)
			sim_perf_add(dev, SIM_PERF_MEM_WAIT_CYCLES, d);
		q->ready_at = t;
	}
	sim_clock_move_locked(dev, t);
}

/* Cores used by a dispatch in progress on any queue. */
static uint32_t sim_clock_cores_in_use(const struct sim_device *dev)
{
	uint32_t mask = 0;

	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if (dev->q[i].dispatch.active)
			mask |= dev->q[i].dispatch.core_mask;
	return mask;
}

/* The cycle until which some queue is still busy with its last unit. */
static uint64_t sim_clock_busy_until_locked(const struct sim_device *dev)
{
	uint64_t t = 0;

	if (dev->hold)
		return 0; /* a paused unit finishes after the release */
	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if (dev->q[i].ready_at > t)
			t = dev->q[i].ready_at;
	return t;
}

/*
 * The queue the engine serves among the bits of @cand (runnable, needing the engine, ready):
 * the highest priority, ties round-robin starting after dev->engine_last, or with cfg.arb_seed
 * set, one of the tied queues drawn from the seeded stream (which moves only when there is a
 * choice, so a lone queue's work costs no draws and the stream follows the contention).
 */
static uint32_t sim_clock_arbitrate_locked(struct sim_device *dev, uint32_t cand)
	SIM_REQUIRES(dev->lock)
{
	uint32_t n = dev->cfg.queues, best = n, tied = 0, pick;
	uint64_t x;

	for (uint32_t k = 1; k <= n; k++) {
		uint32_t i = (dev->engine_last + k) % n;

		if ((cand >> i & 1) && (best == n || dev->q[i].priority > dev->q[best].priority))
			best = i;
	}
	if (!dev->cfg.arb_seed || best == n)
		return best;
	for (uint32_t i = 0; i < n; i++)
		if ((cand >> i & 1) && dev->q[i].priority == dev->q[best].priority)
			tied |= 1u << i;
	if (!(tied & (tied - 1)))
		return best;
	/* xorshift64*: a zero state would stay zero, so it restarts from a fixed odd value. */
	x = dev->arb_state ? dev->arb_state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	dev->arb_state = x;
	pick = (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32) % (uint32_t)__builtin_popcount(tied);
	for (uint32_t i = 0; i < n; i++) {
		if (!(tied >> i & 1))
			continue;
		if (!pick--)
			return i;
	}
	return best;
}

/* Run queue @qi's next unit at dev->now; an engine unit keeps the engine busy for its cost. */
static void sim_clock_run_unit_locked(struct sim_device *dev, uint32_t qi, bool engine)
	SIM_REQUIRES(dev->lock)
{
	struct sim_queue *q = &dev->q[qi];
	uint64_t cost = sim_cp_run_unit_locked(dev, qi);

	assert(cost >= 1);
	q->ready_at = dev->now + cost;
	if (engine) {
		dev->engine_last = qi;
		dev->engine_until = dev->now + cost - (q->off_engine < cost ? q->off_engine : cost);
	}
}

/*
 * Do the earliest thing due before @limit (events: at or before): one timed event, one poll,
 * one engine unit, or a fast-forward of blocked queues. Returns false when nothing is due.
 */
static bool sim_clock_advance_one_locked(struct sim_device *dev, uint64_t limit)
	SIM_REQUIRES(dev->lock)
{
	uint64_t pat = SIM_NEVER, qt = SIM_NEVER, et = SIM_NEVER, t;
	uint32_t runnable = 0, blocked = 0, cand = 0;
	int pi, pq = -1;

	/*
	 * A power-off deferred behind a dispatch completes when the unit that ended the dispatch
	 * has finished (the cores were busy until then).
	 */
	if (dev->pwr_transition && sim_pending_find_locked(dev, SIM_PENDING_POWER_DONE) < 0 &&
	    !(dev->cores_ready & ~dev->cores_target & sim_clock_cores_in_use(dev))) {
		t = sim_clock_busy_until_locked(dev);
		sim_pending_add_locked(dev, t > dev->now ? t - dev->now : 0, SIM_PENDING_POWER_DONE,
				       0);
	}

	pi = sim_pending_next_locked(dev);
	if (pi >= 0) {
		pat = dev->pending[pi].at > dev->now ? dev->pending[pi].at : dev->now;
		if (pat > limit) {
			pi = -1;
			pat = SIM_NEVER;
		}
	}
	for (uint32_t i = 0; i < dev->cfg.queues; i++) {
		if (dev->hold || !sim_cp_is_runnable_locked(dev, i))
			continue;
		runnable++;
		if (sim_cp_is_blocked_locked(dev, i))
			blocked++;
		t = dev->q[i].ready_at > dev->now ? dev->q[i].ready_at : dev->now;
		if (!sim_cp_uses_engine_locked(dev, i)) {
			if (t < qt) {
				qt = t;
				pq = (int)i;
			}
		} else {
			cand |= 1u << i;
			if (t < et)
				et = t;
		}
	}

	if (runnable && blocked == runnable) {
		bool moved = false;

		t = pi >= 0 ? pat : limit;
		if (t > dev->now) {
			sim_clock_fast_forward_locked(dev, t);
			moved = true;
		}
		if (pi >= 0) {
			sim_pending_run_locked(dev, pi);
			return true;
		}
		return moved;
	}

	/* The engine decides when it is free and some candidate is ready. */
	if (cand && et < dev->engine_until)
		et = dev->engine_until;
	if (pq >= 0 && qt >= limit)
		pq = -1;
	if (et >= limit)
		cand = 0;
	if (pi < 0 && pq < 0 && !cand)
		return false;
	if (pi >= 0 && (pq < 0 || pat <= qt) && (!cand || pat <= et)) {
		sim_clock_move_locked(dev, pat);
		sim_pending_run_locked(dev, pi);
		return true;
	}
	if (pq >= 0 && (!cand || qt <= et)) {
		sim_clock_move_locked(dev, qt);
		sim_clock_run_unit_locked(dev, (uint32_t)pq, false);
		return true;
	}
	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if ((cand >> i & 1) && dev->q[i].ready_at > et)
			cand &= ~(1u << i);
	sim_clock_move_locked(dev, et);
	sim_clock_run_unit_locked(dev, sim_clock_arbitrate_locked(dev, cand), true);
	return true;
}

/* sim_clock_advance_locked - see sim_internal.h. Ends with now == @target (if later). */
void sim_clock_advance_locked(struct sim_device *dev, uint64_t target)
{
	sim_mutex_assert_held(&dev->lock);
	while (sim_clock_advance_one_locked(dev, target))
		;
	sim_clock_move_locked(dev, target);
}

/*
 * Advance while not idle, up to @limit. Returns true when the device is idle. Once an IRQ
 * eventfd write is owed (clock thread only) the limit shrinks to the end of the units already
 * running or SIM_CLOCK_IRQ_SLACK cycles on, whichever is later: the quantum ends soon after the
 * line rose, yet a stream of short jobs still completes several per lock hold.
 */
static bool sim_clock_run_locked(struct sim_device *dev, uint64_t limit) SIM_REQUIRES(dev->lock)
{
	bool irq_cut = false;

	for (;;) {
		uint64_t t;

		if (sim_is_idle_locked(dev))
			return true;
		/* Clock thread only: a host thread waits for the lock; let it in now. */
		if (dev->irq_defer &&
		    atomic_load_explicit(&dev->host_waiters, memory_order_relaxed))
			return false;
		if (dev->irq_owed && !irq_cut) {
			irq_cut = true;
			t = sim_clock_busy_until_locked(dev);
			if (t < dev->now + SIM_CLOCK_IRQ_SLACK)
				t = dev->now + SIM_CLOCK_IRQ_SLACK;
			if (t < limit)
				limit = t;
		}
		if (dev->now >= limit)
			return false;
		if (sim_clock_advance_one_locked(dev, limit))
			continue;
		/* Only a tail (a unit still costing time) or something at/after @limit remains. */
		t = sim_clock_busy_until_locked(dev);
		sim_clock_move_locked(dev, t > dev->now && t < limit ? t : limit);
	}
}

/*
 * sim_is_idle_locked - see sim_internal.h: no runnable queue and none still finishing a unit,
 * no timed event (delayed IRQs included), no reset and no power transition. An armed timer does
 * not count: time only runs while the GPU has work.
 */
bool sim_is_idle_locked(struct sim_device *dev)
{
	sim_mutex_assert_held(&dev->lock);
	if (dev->resetting || dev->pwr_transition || dev->pending_count)
		return false;
	if (dev->hold)
		return true; /* paused queues are not work until released (sim_set_hold) */
	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if (dev->q[i].ready_at > dev->now || sim_cp_is_runnable_locked(dev, i))
			return false;
	return true;
}

/*
 * Not idle, yet nothing can happen without an outside change: every runnable queue is blocked,
 * no timed event is pending and no unit is still running (or a soft reset is stuck).
 */
static bool sim_clock_is_stalled_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	if (dev->pending_count || sim_clock_busy_until_locked(dev) > dev->now)
		return false;
	for (uint32_t i = 0; i < dev->cfg.queues; i++)
		if (sim_cp_is_runnable_locked(dev, i) && !sim_cp_is_blocked_locked(dev, i))
			return false;
	if (dev->pwr_transition &&
	    !(dev->cores_ready & ~dev->cores_target & sim_clock_cores_in_use(dev)))
		return false;
	return true;
}

/* sim_is_quiescent - see sim.h. Takes the device lock. */
bool sim_is_quiescent(struct sim_device *dev)
{
	bool quiet;

	sim_host_lock(dev);
	quiet = sim_is_idle_locked(dev) || sim_clock_is_stalled_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return quiet;
}

/* sim_is_idle - see sim.h. Takes the device lock. */
bool sim_is_idle(struct sim_device *dev)
{
	bool idle;

	sim_host_lock(dev);
	idle = sim_is_idle_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return idle;
}

/* sim_clock_now - see sim.h. Takes the device lock. */
uint64_t sim_clock_now(struct sim_device *dev)
{
	uint64_t now;

	sim_host_lock(dev);
	now = dev->now;
	sim_mutex_unlock(&dev->lock);
	return now;
}

/* sim_clock_ns - see sim.h: base ticks * 1e9 / clock_hz, exact (128-bit intermediate). */
uint64_t sim_clock_ns(struct sim_device *dev)
{
	uint64_t ns;

	sim_host_lock(dev);
	ns = sim_ns_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return ns;
}

/*
 * sim_clock_step - see sim.h. Takes the device lock for the whole step. The host may have
 * written memory since the last step, so WAITs re-check once.
 */
int sim_clock_step(struct sim_device *dev, uint64_t cycles)
{
	int ret = 0;

	sim_host_lock(dev);
	if (dev->thread_running) {
		ret = -EBUSY;
	} else {
		dev->mem_epoch++;
		sim_clock_advance_locked(dev, sim_add_sat(dev->now, cycles));
	}
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/* sim_clock_run_until_idle - see sim.h. Takes the device lock for the whole run. */
int sim_clock_run_until_idle(struct sim_device *dev, uint64_t max_cycles, uint64_t *elapsed_out)
{
	uint64_t start;
	int ret;

	sim_host_lock(dev);
	start = dev->now;
	if (dev->thread_running) {
		ret = -EBUSY;
	} else {
		dev->mem_epoch++;
		ret = sim_clock_run_locked(dev, sim_add_sat(dev->now, max_cycles)) ? 0 : -ETIMEDOUT;
	}
	if (elapsed_out)
		*elapsed_out = dev->now - start;
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/*
 * sim_clock_kick_locked - see sim_internal.h. Cheap when no clock thread runs. An idle device
 * is not worth a wake-up: the thread would look, find nothing to run and wait again (on a small
 * host that costs a thread switch per register write).
 */
void sim_clock_kick_locked(struct sim_device *dev)
{
	sim_mutex_assert_held(&dev->lock);
	if (dev->inline_armed)
		dev->kick_owed = true;
	else if (dev->thread_running && !sim_is_idle_locked(dev))
		pthread_cond_signal(&dev->wake);
}

static uint64_t sim_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Wait on dev->wake until signalled or until the monotonic time @deadline_ns (0: no deadline).
 * Keeps struct sim_mutex's owner bookkeeping right across the wait.
 */
static void sim_clock_wait_locked(struct sim_device *dev, uint64_t deadline_ns)
	SIM_REQUIRES(dev->lock)
{
	dev->lock.held = false;
	if (deadline_ns) {
		struct timespec ts = {
			.tv_sec = (time_t)(deadline_ns / 1000000000ull),
			.tv_nsec = (long)(deadline_ns % 1000000000ull),
		};

		pthread_cond_timedwait(&dev->wake, &dev->lock.m, &ts);
	} else {
		pthread_cond_wait(&dev->wake, &dev->lock.m);
	}
	dev->lock.owner = pthread_self();
	dev->lock.held = true;
}

/*
 * One quantum of the clock thread, up to @limit, ending early when the IRQ line rises or a host
 * thread waits for the lock; the eventfd write of that rise is made after the lock is dropped
 * (sim_irq.c), then the thread yields until the waiting host threads got the lock. The lock is
 * held again on return.
 */
static void sim_clock_thread_run_locked(struct sim_device *dev, uint64_t limit)
	SIM_REQUIRES(dev->lock)
{
	uint64_t one = 1;
	bool owed;
	ssize_t n;

	dev->irq_defer = true;
	sim_clock_run_locked(dev, limit);
	dev->irq_defer = false;
	owed = dev->irq_owed;
	dev->irq_owed = false;
	sim_mutex_unlock(&dev->lock);
	if (owed) {
		/* A full counter (EAGAIN) still leaves the fd readable: nothing is lost. */
		n = write(dev->irq_fd, &one, sizeof(one));
		(void)n;
	}
	/* The mutex is not fair: step aside until the host threads waiting for it got it. */
	sched_yield();
	for (int i = 0; i < 64 && atomic_load_explicit(&dev->host_waiters, memory_order_relaxed);
	     i++)
		sched_yield();
	sim_mutex_lock(&dev->lock);
}

/* The clock thread: run whenever there is work; see the file comment. */
static void *sim_clock_thread(void *arg)
{
	struct sim_device *dev = arg;
	uint64_t wall0 = 0, ns0 = 0, quantum, budget;
	bool paced = false;

	sim_mutex_lock(&dev->lock);
	while (!dev->thread_stop) {
		/* Armed for a host thread (sim_inline_begin): that thread runs what comes. */
		if (sim_is_idle_locked(dev) || dev->inline_armed) {
			paced = false; /* idle time is skipped: pace from the next busy period */
			sim_clock_wait_locked(dev, 0);
			continue;
		}
		quantum = SIM_CLOCK_QUANTUM;
		if (dev->pacing) {
			uint64_t ns = sim_ns_locked(dev), wall = sim_mono_ns();
			uint64_t cycle_ns = dev->clock_div * 1000000000ull / dev->cfg.clock_hz + 1;

			if (!paced || ns < ns0) {
				paced = true;
				wall0 = wall;
				ns0 = ns;
			}
			/* Run only the cycles wall time has paid for; else sleep until one is. */
			if (ns - ns0 + cycle_ns > wall - wall0) {
				sim_clock_wait_locked(dev, wall0 + (ns - ns0) + cycle_ns);
				continue;
			}
			budget = (uint64_t)((unsigned __int128)(wall - wall0 - (ns - ns0)) *
					    dev->cfg.clock_hz / (dev->clock_div * 1000000000ull));
			if (budget && budget < quantum)
				quantum = budget;
		} else {
			paced = false;
		}
		if (sim_clock_is_stalled_locked(dev)) {
			/* Let GPU time follow the wall time spent waiting, at most 1 ms. */
			uint64_t w0 = sim_mono_ns(), waited, cycles;

			sim_clock_wait_locked(dev, w0 + 1000000ull);
			if (dev->thread_stop)
				break;
			waited = sim_mono_ns() - w0;
			if (waited > 1000000ull)
				waited = 1000000ull;
			cycles = (uint64_t)((unsigned __int128)waited * dev->cfg.clock_hz /
					    (dev->clock_div * 1000000000ull));
			dev->mem_epoch++;
			sim_clock_thread_run_locked(dev,
						    sim_add_sat(dev->now, cycles ? cycles : 1));
			continue;
		}
		sim_clock_thread_run_locked(dev, sim_add_sat(dev->now, quantum));
	}
	sim_mutex_unlock(&dev->lock);
	return NULL;
}

/* sim_start - see sim.h. Takes the device lock. */
int sim_start(struct sim_device *dev)
{
	int ret = 0;

	sim_host_lock(dev);
	if (dev->thread_running) {
		ret = -EALREADY;
		goto out_unlock;
	}
	dev->thread_stop = false;
	ret = -pthread_create(&dev->thread, NULL, sim_clock_thread, dev);
	if (!ret)
		dev->thread_running = true;
out_unlock:
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/* sim_stop - see sim.h. Takes the device lock; a concurrent second sim_stop returns at once. */
void sim_stop(struct sim_device *dev)
{
	pthread_t thread;

	sim_host_lock(dev);
	if (!dev->thread_running || dev->thread_stop) {
		sim_mutex_unlock(&dev->lock);
		return;
	}
	dev->thread_stop = true;
	thread = dev->thread;
	pthread_cond_broadcast(&dev->wake);
	sim_mutex_unlock(&dev->lock);
	pthread_join(thread, NULL);
	sim_host_lock(dev);
	dev->thread_running = false;
	dev->thread_stop = false;
	sim_mutex_unlock(&dev->lock);
}

/*
 * sim_inline_begin - see sim.h. Armed only when the clock thread would otherwise be woken from
 * its idle wait to run what comes, as fast as it can: running its first quantum here instead gives
 * the same cycles (the same scheduler from the same state), only on another host thread.
 */
bool sim_inline_begin(struct sim_device *dev)
{
	bool armed;

	sim_host_lock(dev);
	armed = dev->thread_running && !dev->thread_stop && !dev->pacing && !dev->hold &&
		!dev->inline_armed && sim_is_idle_locked(dev);
	if (armed) {
		dev->inline_armed = true;
		dev->kick_owed = false;
	}
	sim_mutex_unlock(&dev->lock);
	return armed;
}

/*
 * sim_inline_end - see sim.h. The quantum is the clock thread's (sim_clock_thread_run_locked)
 * but for the eventfd write of a rise, which is left to the caller's IRQ handling.
 */
bool sim_inline_end(struct sim_device *dev)
{
	bool owed = false;

	sim_host_lock(dev);
	if (!dev->inline_armed) {
		sim_mutex_unlock(&dev->lock);
		return false;
	}
	dev->inline_armed = false;
	if (!sim_is_idle_locked(dev) && !sim_clock_is_stalled_locked(dev)) {
		dev->irq_defer = true;
		sim_clock_run_locked(dev, sim_add_sat(dev->now, SIM_CLOCK_QUANTUM));
		dev->irq_defer = false;
		owed = dev->irq_owed;
		dev->irq_owed = false;
	}
	/* Whatever is left (a long job, a stall, a timed event) is the clock thread's again. */
	if (!sim_is_idle_locked(dev))
		sim_clock_kick_locked(dev);
	dev->kick_owed = false;
	sim_mutex_unlock(&dev->lock);
	return owed;
}

/* sim_set_hold - see sim.h. Takes the device lock; a release wakes the clock thread. */
void sim_set_hold(struct sim_device *dev, bool hold)
{
	sim_host_lock(dev);
	dev->hold = hold;
	sim_clock_kick_locked(dev);
	sim_mutex_unlock(&dev->lock);
}

/* sim_set_pacing - see sim.h. Takes the device lock; takes effect at the next quantum. */
void sim_set_pacing(struct sim_device *dev, bool enable)
{
	sim_host_lock(dev);
	dev->pacing = enable;
	sim_clock_kick_locked(dev);
	sim_mutex_unlock(&dev->lock);
}

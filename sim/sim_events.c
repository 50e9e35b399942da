/* SPDX-License-Identifier: MIT */
/*
 * sim_events.c - the device's event stream and its logging (QEMU qemu_log_mask style).
 *
 * Up to SIM_MAX_SUBSCRIBERS callbacks receive typed events (register accesses, IRQs, jobs,
 * faults, resets...) in the order the model produces them. dev->ev_mask caches the union of the
 * subscribers' masks so that hot paths pay one load and a bit test when nobody listens
 * (sim_event_wanted()). Logging goes through the same stream as SIM_EV_LOG and, for classes in
 * cfg.log_mask, to stderr; guest errors are also counted in SIM_GPU_GUEST_ERRORS. Callbacks run
 * with the device lock held, on whichever thread produced the event, and must not call back into
 * the device. There is no buffering: an event is delivered before the call that caused it
 * returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "sim_internal.h"

static void sim_events_recompute_mask_locked(struct sim_device *dev) SIM_REQUIRES(dev->lock)
{
	uint32_t mask = 0;

	for (uint32_t i = 0; i < SIM_MAX_SUBSCRIBERS; i++)
		if (dev->subs[i].fn)
			mask |= dev->subs[i].mask;
	dev->ev_mask = mask;
}

/*
 * sim_events_subscribe - see sim.h. Takes the device lock; the first free subscription id is
 * used so ids are small and deterministic.
 */
int sim_events_subscribe(struct sim_device *dev, uint32_t type_mask, sim_event_fn fn, void *ctx)
{
	int id = -ENOSPC;

	if (!dev || !fn || !type_mask || (type_mask & ~SIM_EV_MASK_ALL))
		return -EINVAL;
	sim_host_lock(dev);
	for (uint32_t i = 0; i < SIM_MAX_SUBSCRIBERS; i++) {
		if (dev->subs[i].fn)
			continue;
		dev->subs[i].fn = fn;
		dev->subs[i].ctx = ctx;
		dev->subs[i].mask = type_mask;
		id = (int)i;
		break;
	}
	sim_events_recompute_mask_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return id;
}

/* sim_events_unsubscribe - see sim.h. Takes the device lock. */
int sim_events_unsubscribe(struct sim_device *dev, int id)
{
	int ret = -ENOENT;

	if (!dev || id < 0 || id >= SIM_MAX_SUBSCRIBERS)
		return -ENOENT;
	sim_host_lock(dev);
	if (dev->subs[id].fn) {
		dev->subs[id].fn = NULL;
		dev->subs[id].ctx = NULL;
		dev->subs[id].mask = 0;
		ret = 0;
	}
	sim_events_recompute_mask_locked(dev);
	sim_mutex_unlock(&dev->lock);
	return ret;
}

/* sim_event_emit_locked - see sim_internal.h. Subscribers are called in id order. */
void sim_event_emit_locked(struct sim_device *dev, const struct sim_event *ev)
{
	uint32_t bit = SIM_EV_MASK(ev->type);

	sim_mutex_assert_held(&dev->lock);
	if (!(dev->ev_mask & bit))
		return;
	for (uint32_t i = 0; i < SIM_MAX_SUBSCRIBERS; i++) {
		const struct sim_subscriber *s = &dev->subs[i];

		if (s->fn && (s->mask & bit))
			s->fn(s->ctx, ev);
	}
}

/* sim_event_locked - see sim_internal.h. */
void sim_event_locked(struct sim_device *dev, enum sim_event_type type, uint32_t unit,
		      uint32_t code, uint64_t value, uint64_t value2, const char *name)
{
	struct sim_event ev;

	if (!sim_event_wanted(dev, type))
		return;
	ev.type = type;
	ev.cycle = dev->now;
	ev.unit = unit;
	ev.code = code;
	ev.value = value;
	ev.value2 = value2;
	ev.name = name;
	ev.text = NULL;
	sim_event_emit_locked(dev, &ev);
}

static const char *sim_log_class_name(uint32_t cls)
{
	switch (cls) {
	case SIM_LOG_GUEST_ERROR:
		return "guest error";
	case SIM_LOG_UNIMP: /* the guest used a feature the model does not have (QEMU's LOG_UNIMP)
			     */
		return "unimplemented";
	default:
		return "info";
	}
}

/*
 * sim_log_locked - see sim_internal.h. Guest errors always count (saturating register, 64-bit
 * statistic); the message is only formatted when someone will see it.
 */
void sim_log_locked(struct sim_device *dev, uint32_t cls, const char *fmt, ...)
{
	bool print = (dev->cfg.log_mask & cls) != 0;
	bool emit = sim_event_wanted(dev, SIM_EV_LOG);
	char buf[256];
	va_list ap;

	sim_mutex_assert_held(&dev->lock);
	if (cls == SIM_LOG_GUEST_ERROR) {
		if (dev->guest_errors != UINT32_MAX)
			dev->guest_errors++;
		dev->stats.guest_errors++;
	}
	if (!print && !emit)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (print)
		fprintf(stderr, "sim: %s: [cycle %llu] %s\n", sim_log_class_name(cls),
			(unsigned long long)dev->now, buf);
	if (emit) {
		struct sim_event ev = {
			.type = SIM_EV_LOG,
			.cycle = dev->now,
			.unit = SIM_EVENT_NO_UNIT,
			.code = cls,
			.text = buf,
		};

		sim_event_emit_locked(dev, &ev);
	}
}

/* sim_event_type_name - see sim.h. Pure; "UNKNOWN" for values outside the enum. */
const char *sim_event_type_name(enum sim_event_type type)
{
	static const char *const names[SIM_EV_COUNT] = {
		[SIM_EV_REG_READ] = "REG_READ",
		[SIM_EV_REG_WRITE] = "REG_WRITE",
		[SIM_EV_IRQ_RAISE] = "IRQ_RAISE",
		[SIM_EV_IRQ_LINE] = "IRQ_LINE",
		[SIM_EV_JOB_START] = "JOB_START",
		[SIM_EV_JOB_END] = "JOB_END",
		[SIM_EV_CMD] = "CMD",
		[SIM_EV_FAULT] = "FAULT",
		[SIM_EV_TLB_MISS] = "TLB_MISS",
		[SIM_EV_TLB_FLUSH] = "TLB_FLUSH",
		[SIM_EV_QUEUE_STATE] = "QUEUE_STATE",
		[SIM_EV_POWER] = "POWER",
		[SIM_EV_RESET] = "RESET",
		[SIM_EV_BUS_MAP] = "BUS_MAP",
		[SIM_EV_LOG] = "LOG",
	};

	if ((unsigned)type >= SIM_EV_COUNT || !names[type])
		return "UNKNOWN";
	return names[type];
}

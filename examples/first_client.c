/* SPDX-License-Identifier: MIT */
/*
 * first_client.c - a first Magma client of the simulated GPU, written the way a client driver
 * talks to Magma: magma.h for everything, magma_sim_defs.h for what is particular to this GPU
 * (its vendor queries, its command stream, its compute ISA).
 *
 * The steps, one function each, in the order first_client_run calls them:
 *   1. query the device: vendor and device id, and the vendor query for the GPU's shape;
 *   2. open a connection (a GPU address space of its own) and a context on it;
 *   3. create four buffers - commands, kernel, kernel arguments, data - map each for the CPU
 *      (mmap of the handle magma_buffer_get_handle returns) and for the GPU (at a VA this
 *      client chooses, with only the access the GPU needs);
 *   4. write them from the CPU: the data with a marker, the kernel's code (kernel.s, assembled
 *      by sim-asm at build time), its arguments, and a command buffer holding a FILL of the
 *      data, a DISPATCH of the kernel over it and an END;
 *   5. submit the command buffer with a semaphore to signal, and wait for that semaphore - or
 *      for the connection to die, which is how a GPU fault or a refused call shows;
 *   6. check on the CPU: data[i] == FILL_VALUE + i for every element, the marker past them;
 *   7. release everything, in the reverse order.
 *
 * Calls that only send a message (map, unmap, context creation, execute, the releases) return
 * OK once sent; what the service and the driver think of them arrives later and closes the
 * connection (magma.h, "Feed-forward"). So every status is checked where it is returned, a
 * flush before the submission collects the verdict on the set-up, and the wait in step 5
 * watches the connection as well as the semaphore.
 *
 * Deliberately left out: inline commands, wait semaphores, sharing buffers between connections
 * or processes, performance counters (conformance/ covers each). Single-threaded.
 */
/* POSIX.1-2008: mmap, close, open with O_CLOEXEC (the examples build with -std=c11). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>
#include <magma_sim/status_name.h>
#include <magma_sim_defs.h>

#include "first_client.h"
#include "kernel_code.h" /* generated from kernel.s: static const unsigned char kernel_code[] */

/* clang-format off */
#define DATA_COUNT      1000u       /* elements; not a multiple of the lanes, on purpose */
#define FILL_VALUE      41u         /* what the FILL writes into each element */
#define CPU_MARKER      0xdeadbeefu /* what the CPU writes first: the GPU must overwrite exactly
				       the first DATA_COUNT elements and nothing after them */
#define BUFFER_SIZE     4096u       /* every buffer is one page: enough for each of them */
#define WAIT_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* 10 s: generous on a loaded machine */

/*
 * The connection's GPU address space is the client's to lay out: any page-aligned range in
 * [MAGMA_SIM_GPU_VA_MIN, MAGMA_SIM_GPU_VA_LIMIT) that is not mapped yet. One buffer per
 * megabyte from here keeps the addresses readable in traces.
 */
#define GPU_VA_BASE     0x10000000ull
#define GPU_VA_STRIDE   0x00100000ull
/* clang-format on */

/* The buffers, in the order of the submission's resources. */
enum buffer_index { BUF_COMMANDS, BUF_KERNEL, BUF_ARGS, BUF_DATA, BUF_COUNT };

_Static_assert(sizeof(kernel_code) % 8 == 0, "SIM-1 instructions are 64-bit words");
_Static_assert(sizeof(kernel_code) <= BUFFER_SIZE, "the kernel fits its buffer");
_Static_assert(DATA_COUNT * sizeof(uint32_t) < BUFFER_SIZE, "the data buffer has room past it");
_Static_assert(GPU_VA_BASE >= MAGMA_SIM_GPU_VA_MIN &&
		       GPU_VA_BASE + BUF_COUNT * GPU_VA_STRIDE <= MAGMA_SIM_GPU_VA_LIMIT,
	       "the buffers' GPU VAs are in the client's range");

/*
 * What each buffer is called (magma_buffer_set_name: traces and magma-view show it) and the
 * only GPU access it gets: the command processor reads commands, the compute engine fetches
 * the kernel with EXECUTE, the kernel reads its arguments, FILL and the kernel write the data.
 * A missing permission is a GPU fault (MMU_PERMISSION) that kills the context.
 */
static const struct {
	const char *name;
	uint64_t map_flags;
} buffer_kinds[BUF_COUNT] = {
	[BUF_COMMANDS] = {"commands", MAGMA_MAP_FLAG_READ},
	[BUF_KERNEL] = {"kernel", MAGMA_MAP_FLAG_EXECUTE},
	[BUF_ARGS] = {"kernel args", MAGMA_MAP_FLAG_READ},
	[BUF_DATA] = {"data", MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE},
};

/* The kernel's arguments as kernel.s reads them (the host is little-endian, like the GPU). */
struct kernel_args {
	uint64_t data_va; /* +0: low word, +4: high word */
	uint32_t count;	  /* +8 */
};

/* One buffer: the Magma object and its two mappings. Zero until created. */
struct example_buffer {
	magma_buffer_t buffer;
	magma_buffer_id_t id;
	uint64_t size;	 /* as created: at least BUFFER_SIZE, whole pages */
	void *cpu;	 /* the CPU mapping (MAP_SHARED), NULL while not mapped */
	uint64_t gpu_va; /* the GPU mapping in the connection's address space, 0 while not mapped */
};

/* Everything the flow creates, so that first_client_release() can undo whatever was done. */
struct first_client {
	const char *prog; /* message prefix */
	magma_device_t device;
	uint32_t lanes; /* per workgroup: CONFIG0.LANES of MAGMA_SIM_QUERY_CONFIG */
	magma_connection_t connection;
	uint32_t context_id;
	bool has_context;
	struct example_buffer buffers[BUF_COUNT];
	uint32_t command_bytes; /* of the command stream in buffers[BUF_COMMANDS] */
	magma_semaphore_t done; /* signaled by the GPU when the command buffer has run */
	magma_semaphore_id_t done_id;
};

/* Prints "PROG: message: STATUS (n)" to stderr; returns 1, the exit status, for `return fail()`. */
static int fail(const struct first_client *fc, magma_status_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct first_client *fc, magma_status_t status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", fc->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s (%d)\n", magma_status_name(status), status);
	return 1;
}

/* Step 1: what device is this? Only a SIM-1 understands the commands this client sends. */
static int query_device(struct first_client *fc)
{
	uint64_t vendor_id, device_id, config;
	magma_status_t status;
	uint32_t config0;

	/* Simple queries answer in a value; the buffer-handle out parameter may then be NULL. */
	status = magma_device_query(fc->device, MAGMA_QUERY_VENDOR_ID, NULL, &vendor_id);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_device_query(VENDOR_ID)");
	if (vendor_id != MAGMA_SIM_VENDOR_ID) {
		fprintf(stderr, "%s: vendor id %#" PRIx64 " is not magma-sim's (%#x)\n", fc->prog,
			vendor_id, MAGMA_SIM_VENDOR_ID);
		return 1;
	}
	status = magma_device_query(fc->device, MAGMA_QUERY_DEVICE_ID, NULL, &device_id);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_device_query(DEVICE_ID)");
	/* A vendor query (magma_sim_defs.h): the GPU's configuration registers. */
	status = magma_device_query(fc->device, MAGMA_SIM_QUERY_CONFIG, NULL, &config);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_device_query(MAGMA_SIM_QUERY_CONFIG)");
	config0 = (uint32_t)config;
	fc->lanes = SIM_FIELD_GET(SIM_CONFIG0_LANES, config0);
	if (fc->lanes == 0) {
		fprintf(stderr, "%s: the GPU reports no lanes per workgroup\n", fc->prog);
		return 1;
	}
	printf("%s: device %#" PRIx64 ":%#" PRIx64 ", %u cores of %u lanes\n", fc->prog, vendor_id,
	       device_id, SIM_FIELD_GET(SIM_CONFIG0_CORES, config0), fc->lanes);
	return 0;
}

/* Step 2: a connection (its own GPU address space and objects) and a context to run work on. */
static int open_connection(struct first_client *fc)
{
	magma_connection_t connection;
	magma_status_t status;
	uint32_t context_id;

	status = magma_device_create_connection(fc->device, &connection);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_device_create_connection");
	fc->connection = connection;
	status = magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_connection_create_context2");
	fc->context_id = context_id;
	fc->has_context = true;
	return 0;
}

/* Step 3, for one buffer: create it, map it for the CPU, map it at @gpu_va for the GPU. */
static int buffer_create(struct first_client *fc, enum buffer_index index, uint64_t gpu_va)
{
	struct example_buffer *b = &fc->buffers[index];
	const char *name = buffer_kinds[index].name;
	magma_buffer_t buffer;
	magma_buffer_id_t id;
	magma_handle_t handle;
	magma_status_t status;
	uint64_t size;
	void *cpu;
	int err;

	/* Out parameters are only meaningful on success: keep them until then. */
	status = magma_connection_create_buffer(fc->connection, BUFFER_SIZE, &size, &buffer, &id);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_connection_create_buffer(%s)", name);
	b->buffer = buffer;
	b->id = id;
	b->size = size;
	status = magma_buffer_set_name(b->buffer, name);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_buffer_set_name(%s)", name);

	/*
	 * CPU mapping. A buffer's memory is a file (a memfd on Linux; a VMO on Fuchsia), and
	 * magma_buffer_get_handle returns a new descriptor of it that the caller owns. mmap() it
	 * MAP_SHARED: these are the very pages the GPU reads and writes, no copy in between.
	 * The mapping keeps the memory, so the descriptor is closed at once.
	 */
	status = magma_buffer_get_handle(b->buffer, &handle);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_buffer_get_handle(%s)", name);
	cpu = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	err = errno;
	close((int)handle);
	if (cpu == MAP_FAILED) {
		fprintf(stderr, "%s: mmap of buffer %s: %s\n", fc->prog, name, strerror(err));
		return 1;
	}
	b->cpu = cpu;

	/*
	 * GPU mapping: the whole buffer at @gpu_va of this connection's address space. Sent
	 * without waiting: a mapping the driver refuses closes the connection, which the flush
	 * before the submission reports.
	 */
	status = magma_connection_map_buffer(fc->connection, gpu_va, b->buffer, 0, b->size,
					     buffer_kinds[index].map_flags);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_connection_map_buffer(%s at %#" PRIx64 ")", name,
			    gpu_va);
	b->gpu_va = gpu_va;
	return 0;
}

/* Step 3: every buffer, one megabyte of GPU address space apart. */
static int create_buffers(struct first_client *fc)
{
	for (int i = 0; i < BUF_COUNT; i++) {
		if (buffer_create(fc, (enum buffer_index)i,
				  GPU_VA_BASE + (uint64_t)i * GPU_VA_STRIDE))
			return 1;
	}
	return 0;
}

/*
 * Makes the CPU's writes to buffer @index visible to the GPU. The simulated GPU shares
 * coherent memory with the CPU, so this only validates; on hardware whose caches are not
 * coherent it writes them back, and a portable client says when it needs that.
 */
static int flush_cpu_writes(struct first_client *fc, enum buffer_index index)
{
	struct example_buffer *b = &fc->buffers[index];
	magma_status_t status;

	status = magma_buffer_clean_cache(b->buffer, 0, b->size, MAGMA_CACHE_OPERATION_CLEAN);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_buffer_clean_cache(%s)", buffer_kinds[index].name);
	return 0;
}

/* Step 4: the data's marker, the kernel, its arguments, and the command stream. */
static int write_buffers(struct first_client *fc)
{
	struct example_buffer *data = &fc->buffers[BUF_DATA];
	struct example_buffer *kernel = &fc->buffers[BUF_KERNEL];
	struct example_buffer *args = &fc->buffers[BUF_ARGS];
	uint32_t *words = data->cpu;
	uint32_t *cmd = fc->buffers[BUF_COMMANDS].cpu, *p = cmd;
	uint32_t groups = (DATA_COUNT + fc->lanes - 1) / fc->lanes;
	struct kernel_args kernel_args = {.data_va = data->gpu_va, .count = DATA_COUNT};

	for (uint64_t i = 0; i < data->size / sizeof(*words); i++)
		words[i] = CPU_MARKER;
	/* sim-asm's output is exactly the bytes DISPATCH fetches: copy them as they are. */
	memcpy(kernel->cpu, kernel_code, sizeof(kernel_code));
	memcpy(args->cpu, &kernel_args, sizeof(kernel_args));

	/*
	 * The command stream (sim/sim_cmd.h, docs/sim-gpu.md section 6): 32-bit words with GPU
	 * VAs of this connection. Commands run in order, each finishing before the next starts,
	 * so the kernel sees the FILL's values. The grid is rounded up to whole workgroups; the
	 * kernel's bounds check keeps the extra lanes from writing. Three commands, 16 words:
	 * the page has room to spare.
	 */
	p += sim_cmd_emit_fill(p, data->gpu_va, DATA_COUNT * sizeof(uint32_t), FILL_VALUE);
	p += sim_cmd_emit_dispatch(p, kernel->gpu_va, sizeof(kernel_code) / 8, args->gpu_va, groups,
				   1, fc->lanes);
	p += sim_cmd_emit_end(p);
	fc->command_bytes = (uint32_t)((p - cmd) * sizeof(*cmd));

	for (int i = 0; i < BUF_COUNT; i++) {
		if (flush_cpu_writes(fc, (enum buffer_index)i))
			return 1;
	}
	return 0;
}

/* Step 5: one command buffer, every buffer it uses as a resource, fc->done to signal. */
static int submit(struct first_client *fc)
{
	magma_exec_resource_t resources[BUF_COUNT];
	magma_exec_command_buffer_t command_buffer = {.resource_index = BUF_COMMANDS};
	uint64_t semaphore_ids[1];
	magma_command_descriptor_t descriptor = {
		.resource_count = BUF_COUNT,
		.command_buffer_count = 1,
		.wait_semaphore_count = 0,
		.signal_semaphore_count = 1,
		.resources = resources,
		.command_buffers = &command_buffer,
		.semaphore_ids = semaphore_ids,
	};
	magma_semaphore_t done;
	magma_semaphore_id_t done_id;
	magma_status_t status;

	status = magma_connection_create_semaphore(fc->connection, &done, &done_id);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_connection_create_semaphore");
	fc->done = done;
	fc->done_id = done_id;
	semaphore_ids[0] = done_id; /* the wait ids come first; there are none */

	/*
	 * Resources are the buffer ranges the work touches: the driver keeps them mapped and
	 * their pages pinned until it has run. The GPU runs a command buffer from start_offset
	 * to the end of its resource's range, so that range is the stream, no more.
	 */
	for (int i = 0; i < BUF_COUNT; i++) {
		resources[i] = (magma_exec_resource_t){
			.buffer_id = fc->buffers[i].id,
			.offset = 0,
			.length = i == BUF_COMMANDS ? fc->command_bytes : fc->buffers[i].size,
		};
	}

	/*
	 * Everything so far was sent without waiting for the service's verdict. A flush is one
	 * round trip that returns it, so a refused mapping is reported here, as what it is.
	 */
	status = magma_connection_flush(fc->connection);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "the service refused the set-up (magma_connection_flush)");

	status = magma_connection_execute_command(fc->connection, fc->context_id, &descriptor);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_connection_execute_command");
	return 0;
}

/*
 * Reads the pending notifications and prints the GPU faults among them. This client asks for
 * no completion notifications, so a fault is the only kind it expects.
 */
static void read_notifications(struct first_client *fc)
{
	struct magma_sim_notification n;
	magma_bool_t more = 1;
	uint64_t size = 0;

	while (more) {
		magma_status_t status = magma_connection_read_notification_channel(
			fc->connection, &n, sizeof(n), &size, &more);

		if (status != MAGMA_STATUS_OK || size == 0)
			return;
		if (size == sizeof(n) && n.type == MAGMA_SIM_NOTIFY_FAULT)
			fprintf(stderr,
				"%s: GPU fault %#x at GPU VA %#" PRIx64 " on context %u "
				"(SIM_FAULT_* of sim/sim_regs.h, docs/sim-gpu.md section 9)\n",
				fc->prog, n.fault_code, n.fault_address, n.context_id);
	}
}

/*
 * Step 5, the wait: for fc->done, or for the connection to close. A GPU fault kills the
 * context and closes the connection: a fault notification comes first, then the notification
 * channel hangs up and magma_poll returns CONNECTION_LOST. Anything the service refused since
 * the flush closes it the same way, without the notification. The reason is then
 * magma_connection_get_error's.
 */
static int wait_for_completion(struct first_client *fc)
{
	magma_poll_item_t items[2] = {
		{.semaphore = fc->done,
		 .type = MAGMA_POLL_TYPE_SEMAPHORE,
		 .condition = MAGMA_POLL_CONDITION_SIGNALED},
		{.handle = magma_connection_get_notification_channel_handle(fc->connection),
		 .type = MAGMA_POLL_TYPE_HANDLE,
		 .condition = MAGMA_POLL_CONDITION_READABLE},
	};
	magma_status_t status, error;

	for (;;) {
		status = magma_poll(items, 2, WAIT_TIMEOUT_NS);
		if (status != MAGMA_STATUS_OK)
			break;
		if (items[0].result)
			return 0;	/* the GPU has run the command buffer */
		read_notifications(fc); /* and poll again: for the hang-up after a fault */
	}
	if (status == MAGMA_STATUS_TIMED_OUT) {
		fprintf(stderr, "%s: the command buffer did not complete within %llu s\n", fc->prog,
			WAIT_TIMEOUT_NS / 1000000000ull);
		return 1;
	}
	if (status != MAGMA_STATUS_CONNECTION_LOST)
		return fail(fc, status, "magma_poll");
	error = magma_connection_get_error(fc->connection);
	return fail(fc, error, "the connection was closed (magma_connection_get_error)");
}

/* Step 6: every element is FILL_VALUE + i, and the CPU's marker is intact past them. */
static int check_results(struct first_client *fc)
{
	struct example_buffer *data = &fc->buffers[BUF_DATA];
	const uint32_t *words = data->cpu;
	uint64_t word_count = data->size / sizeof(*words);
	magma_status_t status;
	uint64_t wrong = 0;

	/* The CPU is about to read what the GPU wrote (a validated no-op here, like the clean). */
	status = magma_buffer_clean_cache(data->buffer, 0, data->size,
					  MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE);
	if (status != MAGMA_STATUS_OK)
		return fail(fc, status, "magma_buffer_clean_cache(data)");
	for (uint64_t i = 0; i < word_count; i++) {
		uint32_t want = i < DATA_COUNT ? FILL_VALUE + (uint32_t)i : CPU_MARKER;

		if (words[i] == want)
			continue;
		if (wrong++ < 5)
			fprintf(stderr, "%s: data[%" PRIu64 "] = %#x, want %#x\n", fc->prog, i,
				words[i], want);
	}
	if (wrong) {
		fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " words wrong\n", fc->prog, wrong,
			word_count);
		return 1;
	}
	printf("%s: FILL and kernel over %u elements (%u workgroups of %u lanes): "
	       "data[i] == %u + i for all i: OK\n",
	       fc->prog, DATA_COUNT, (DATA_COUNT + fc->lanes - 1) / fc->lanes, fc->lanes,
	       FILL_VALUE);
	return 0;
}

/*
 * Step 7: releases what was created, newest first; whatever was not created is zero and
 * skipped. Releasing the connection would release its objects too, but a client that keeps
 * its connection releases each object when done with it. The release calls send without
 * waiting and are safe on a connection that has already closed.
 */
static void first_client_release(struct first_client *fc)
{
	if (fc->done)
		magma_connection_release_semaphore(fc->connection, fc->done);
	for (int i = BUF_COUNT - 1; i >= 0; i--) {
		struct example_buffer *b = &fc->buffers[i];

		if (b->cpu)
			munmap(b->cpu, b->size);
		if (b->gpu_va)
			magma_connection_unmap_buffer(fc->connection, b->gpu_va, b->buffer);
		if (b->buffer)
			magma_connection_release_buffer(fc->connection, b->buffer);
	}
	if (fc->has_context)
		magma_connection_release_context(fc->connection, fc->context_id);
	if (fc->connection)
		magma_connection_release(fc->connection);
}

/* first_client_run - see first_client.h. */
int first_client_run(magma_device_t device, const char *prog)
{
	struct first_client fc = {.prog = prog, .device = device};
	int ret;

	ret = query_device(&fc);
	if (!ret)
		ret = open_connection(&fc);
	if (!ret)
		ret = create_buffers(&fc);
	if (!ret)
		ret = write_buffers(&fc);
	if (!ret)
		ret = submit(&fc);
	if (!ret)
		ret = wait_for_completion(&fc);
	if (!ret)
		ret = check_results(&fc);
	first_client_release(&fc);
	return ret;
}

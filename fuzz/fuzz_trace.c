/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - libFuzzer harness for the trace reader and replay (traces/).
 *
 * The input is a trace file, given to trace_replay_run, magma-replay's library entry point: the
 * whole validation pass and, for inputs that pass it, a replay on a fresh embedded device (sim,
 * msd-sim and magma_system on threads in this process), torn down before the next input. The
 * input reaches the reader through a memfd (/proc/self/fd/N), so no file is written.
 *
 * Bounds, so that every input costs little: sizes up to FUZZ_TRACE_MAX_SIZE (larger buffers,
 * ranges and blobs are bad traces, docs/trace-format.md "Sizes"); waits of FUZZ_TRACE_WAIT_NS
 * instead of 10 s (work the replay device has not finished by then is a divergence, which is
 * fine here). Inputs of odd length also write a timeline, to /dev/null, so that path runs too.
 *
 * What must hold: trace_replay_run returns one of its four documented results, with a message
 * exactly when it fails; nothing crashes, leaks or touches memory it does not own (ASan, UBSan,
 * LeakSanitizer); no allocation and no RSS goes past libFuzzer's limits (-malloc_limit_mb,
 * -rss_limit_mb). One input at a time: trace_replay_run is one replay per process.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "traces/trace_replay.h"

#define FUZZ_TRACE_MAX_SIZE (1ull << 20)
#define FUZZ_TRACE_WAIT_NS  (100ull * 1000 * 1000)

/* LLVMFuzzerTestOneInput - see fuzz.h: validate and replay the input as a trace (file head). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct trace_replay_options opts;
	struct trace_replay_result res;
	char path[64];
	int ret;

	if (fd < 0) {
		if (!getenv("FUZZ_VERBOSE")) /* the driver's log, for debugging */
			setenv("MAGMA_SYSTEM_QUIET", "1", 0);
		fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
	}
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	trace_replay_default_options(&opts);
	opts.max_size = FUZZ_TRACE_MAX_SIZE;
	opts.wait_ns = FUZZ_TRACE_WAIT_NS;
	if (size & 1)
		opts.timeline = "/dev/null";
	ret = trace_replay_run(path, &opts, &res);
	FUZZ_CHECK(ret >= TRACE_REPLAY_OK && ret <= TRACE_REPLAY_ENV_ERROR);
	FUZZ_CHECK(ret == TRACE_REPLAY_OK || res.message[0] != '\0');
	FUZZ_CHECK(ret != TRACE_REPLAY_OK || res.message[0] == '\0');
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * magma_witness.c - magma-witness, a Magma client whose results are known.
 *
 *   magma-witness [--device PATH] [--rounds N | --until-eof] [--quiet]
 *
 * magma-campaign runs it next to a user's client while faults are injected into the device and
 * checks that it is never hurt: every round must give the digest of a fault-free run. A round
 * clears the result pages, submits FILL, COPY, a compute DISPATCH and a WRITE32 on one context,
 * waits for the semaphore they signal, compares every result word with the answer computed on
 * the CPU and prints "round K DIGEST" (FNV-1a 64 of the results), the same line every round and
 * every run (witness_work.h). A round whose connection dies prints "round K lost STATUS" and
 * the next round starts on a new connection; wrong results print "round K mismatch" (the first
 * wrong word goes to stderr). The last line is "rounds N ok M lost L mismatch X".
 *
 * Standard output is the protocol, one line per event, flushed at once. With --until-eof the
 * rounds go on until standard input reaches EOF, checked with a zero-timeout poll() between
 * rounds so the witness never blocks on it; then one more round shows the device still works.
 * Single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "magma_sim/status_name.h"
#include "witness_client.h"
#include "witness_work.h"

/* clang-format off */
#define WITNESS_DEFAULT_ROUNDS  3u
#define WITNESS_MAX_ROUNDS      1000000000u
/* after a failed reconnect, so that a dead device is no busy loop */
#define WITNESS_REOPEN_PAUSE_NS 100000000L

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif
#define WITNESS_EOF_INTERVAL_MS 5 /* default pause between rounds with --until-eof */
#define WITNESS_EXIT_OK         0
#define WITNESS_EXIT_MISMATCH   1
#define WITNESS_EXIT_USAGE      2
#define WITNESS_EXIT_LOST       3
#define WITNESS_EXIT_NO_DEVICE  4
/* clang-format on */

struct witness_options {
	const char *device;
	uint32_t rounds;
	bool until_eof;
	bool quiet;
	int interval_ms; /* pause between rounds; -1: the default of the mode */
};

struct witness_tally {
	uint32_t rounds, ok, lost, mismatch;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: magma-witness [--device PATH] [--rounds N | --until-eof]\n"
		"                     [--interval-ms MS] [--quiet]\n"
		"\n"
		"A Magma client whose results are known: each round runs FILL, COPY, a compute\n"
		"DISPATCH and a WRITE32 on the device, checks every result word on the CPU and\n"
		"prints one line on stdout:\n"
		"  round K DIGEST          results correct; DIGEST (FNV-1a 64 of the results,\n"
		"                          16 hex digits) is the same in every round and run\n"
		"  round K lost STATUS     the connection died (e.g. CONTEXT_KILLED); the next\n"
		"                          round uses a new connection\n"
		"  round K mismatch        wrong results; the first wrong word goes to stderr\n"
		"and at the end: rounds N ok M lost L mismatch X\n"
		"\n"
		"  --device PATH   the magma-simd device socket to use (default:\n"
		"                  $MAGMA_SIM_DEVICE_DIR/magma0)\n"
		"  --rounds N      run N rounds (default %u)\n"
		"  --until-eof     run rounds until standard input reaches EOF (never blocks\n"
		"                  on it), then one more round, then stop\n"
		"  --interval-ms MS pause between rounds, 0 to 60000 (default 0 with\n"
		"                  --rounds, %d with --until-eof: it shares the device with\n"
		"                  the client under test and should not crowd it out)\n"
		"  --quiet         no informational lines on stderr (stdout is unchanged)\n"
		"  --version       print the version\n"
		"  --help          this text\n"
		"\n"
		"Exit status: 0 every round ok; 1 a round had wrong results; 3 a round was\n"
		"lost (and none wrong); 4 the device could not be opened; 2 usage error.\n",
		WITNESS_DEFAULT_ROUNDS, WITNESS_EOF_INTERVAL_MS);
}

/* Parses a round count (1..WITNESS_MAX_ROUNDS) into *@out; false when it is not one. */
static bool parse_rounds(const char *text, uint32_t *out)
{
	unsigned long long value;
	char *end;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || *end || value < 1 || value > WITNESS_MAX_ROUNDS)
		return false;
	*out = (uint32_t)value;
	return true;
}

/*
 * Fills @opt from the command line. Returns -1 to go on, else the exit status (after --help,
 * --version or a usage error, already reported).
 */
static int parse_args(int argc, char **argv, struct witness_options *opt, char *dir_path,
		      size_t dir_path_size)
{
	bool have_rounds = false;
	const char *dir;

	*opt = (struct witness_options){.rounds = WITNESS_DEFAULT_ROUNDS, .interval_ms = -1};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			opt->device = argv[++i];
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			if (!parse_rounds(argv[++i], &opt->rounds)) {
				fprintf(stderr,
					"magma-witness: --rounds %s: not a count from 1 to %u\n",
					argv[i], WITNESS_MAX_ROUNDS);
				return WITNESS_EXIT_USAGE;
			}
			have_rounds = true;
		} else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
			char *end;
			long ms = strtol(argv[++i], &end, 10);

			if (*end || end == argv[i] || ms < 0 || ms > 60000) {
				fprintf(stderr,
					"magma-witness: --interval-ms %s: not a pause from 0 to "
					"60000 ms\n",
					argv[i]);
				return WITNESS_EXIT_USAGE;
			}
			opt->interval_ms = (int)ms;
		} else if (!strcmp(argv[i], "--until-eof")) {
			opt->until_eof = true;
		} else if (!strcmp(argv[i], "--quiet")) {
			opt->quiet = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return WITNESS_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("magma-witness " MAGMA_SIM_VERSION "\n");
			return WITNESS_EXIT_OK;
		} else {
			fprintf(stderr, "magma-witness: %s: %s (see magma-witness --help)\n",
				argv[i],
				argv[i][0] == '-' && i + 1 == argc
					? "unknown option or missing value"
					: "unknown argument");
			return WITNESS_EXIT_USAGE;
		}
	}
	if (have_rounds && opt->until_eof) {
		fprintf(stderr, "magma-witness: --rounds and --until-eof exclude each other "
				"(see magma-witness --help)\n");
		return WITNESS_EXIT_USAGE;
	}
	if (opt->interval_ms < 0)
		opt->interval_ms = opt->until_eof ? WITNESS_EOF_INTERVAL_MS : 0;
	if (opt->device)
		return -1;
	dir = getenv("MAGMA_SIM_DEVICE_DIR");
	if (!dir || !*dir) {
		fprintf(stderr, "magma-witness: no device: give --device PATH or set "
				"MAGMA_SIM_DEVICE_DIR (see magma-witness --help)\n");
		return WITNESS_EXIT_USAGE;
	}
	if ((size_t)snprintf(dir_path, dir_path_size, "%s/magma0", dir) >= dir_path_size) {
		fprintf(stderr, "magma-witness: MAGMA_SIM_DEVICE_DIR is too long\n");
		return WITNESS_EXIT_USAGE;
	}
	opt->device = dir_path;
	return -1;
}

/*
 * True once standard input has reached EOF (or is closed or unusable), waiting up to @wait_ms
 * for it (the pause between rounds, cut short by EOF). Pending input is read and dropped only
 * when poll() says a read will not wait.
 */
static bool stdin_at_eof(int wait_ms)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	char drop[4096];

	for (;;) {
		ssize_t n;

		if (poll(&pfd, 1, wait_ms) < 0)
			return errno != EINTR;
		if (pfd.revents & POLLNVAL)
			return true;
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			return false;
		n = read(STDIN_FILENO, drop, sizeof(drop));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return true;
	}
}

/* Prints @line on stdout at once (stdout is the protocol). */
static void emit(const char *line)
{
	fputs(line, stdout);
	fflush(stdout);
}

/* One round (number @k) on *@session, opened first when closed; updates @tally. */
static void run_round(uint32_t k, struct witness_device *wd, struct witness_session *session,
		      const struct witness_options *opt, struct witness_tally *tally)
{
	const struct timespec pause = {.tv_nsec = WITNESS_REOPEN_PAUSE_NS};
	struct witness_mismatch bad = {0};
	struct witness_fault fault = {0};
	magma_status_t status = MAGMA_STATUS_OK;
	char line[96];

	tally->rounds++;
	if (!session->conn) {
		status = witness_session_open(wd, session);
		if (status != MAGMA_STATUS_OK)
			nanosleep(&pause, NULL);
	}
	if (status == MAGMA_STATUS_OK) {
		witness_work_prepare(session->data_cpu);
		status = witness_session_run(session, &fault);
	}
	if (status != MAGMA_STATUS_OK) {
		tally->lost++;
		snprintf(line, sizeof(line), "round %" PRIu32 " lost %s\n", k,
			 magma_status_name(status));
		emit(line);
		if (!opt->quiet && fault.code)
			fprintf(stderr,
				"magma-witness: round %" PRIu32 ": the driver reported fault %s "
				"(0x%" PRIx32 ") at 0x%" PRIx64 "\n",
				k, witness_fault_name(fault.code), fault.code, fault.address);
		witness_session_close(session);
		return;
	}
	if (!witness_work_check(session->data_cpu, &bad)) {
		tally->mismatch++;
		snprintf(line, sizeof(line), "round %" PRIu32 " mismatch\n", k);
		emit(line);
		fprintf(stderr,
			"magma-witness: round %" PRIu32 ": %s+0x%" PRIx32 " (word %" PRIu32
			"): got 0x%08" PRIx32 ", want 0x%08" PRIx32 " (%" PRIu32 " wrong words)\n",
			k, witness_region_name(bad.region), bad.word * 4u, bad.word, bad.got,
			bad.want, bad.wrong_words);
		return;
	}
	tally->ok++;
	snprintf(line, sizeof(line), "round %" PRIu32 " %016" PRIx64 "\n", k,
		 witness_work_digest(session->data_cpu));
	emit(line);
}

/* Reports a device that could not be opened at all, with a hint. */
static void report_no_device(const char *path, magma_status_t status, int connect_errno)
{
	if (connect_errno)
		fprintf(stderr, "magma-witness: cannot open device %s: %s (%s)\n", path,
			magma_status_name(status), strerror(connect_errno));
	else
		fprintf(stderr, "magma-witness: cannot open device %s: %s\n", path,
			magma_status_name(status));
	fprintf(stderr, "magma-witness: is a magma-simd serving it? (magma-simd --dir DIR makes "
			"DIR/magma0; see magma-witness --help)\n");
}

int main(int argc, char **argv)
{
	struct witness_session session = {0};
	struct witness_tally tally = {0};
	struct witness_options opt;
	struct witness_device wd = {0};
	magma_status_t status;
	char dir_path[4096];
	int connect_errno, ret;

	ret = parse_args(argc, argv, &opt, dir_path, sizeof(dir_path));
	if (ret >= 0)
		return ret;
	wd.path = opt.device;
	status = witness_device_open(&wd, &connect_errno);
	if (status != MAGMA_STATUS_OK) {
		report_no_device(wd.path, status, connect_errno);
		return WITNESS_EXIT_NO_DEVICE;
	}
	if (!opt.quiet)
		fprintf(stderr, "magma-witness: device %s, %" PRIu32 " lanes per workgroup\n",
			wd.path, wd.local_size);
	for (uint32_t k = 1;; k++) {
		bool last =
			opt.until_eof ? stdin_at_eof(k > 1 ? opt.interval_ms : 0) : k == opt.rounds;

		if (!opt.until_eof && k > 1 && opt.interval_ms) {
			struct timespec ts = {.tv_sec = opt.interval_ms / 1000,
					      .tv_nsec = (opt.interval_ms % 1000) * 1000000L};

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		run_round(k, &wd, &session, &opt, &tally);
		if (last || k == WITNESS_MAX_ROUNDS)
			break;
	}
	witness_session_close(&session);
	witness_device_close(&wd);
	printf("rounds %" PRIu32 " ok %" PRIu32 " lost %" PRIu32 " mismatch %" PRIu32 "\n",
	       tally.rounds, tally.ok, tally.lost, tally.mismatch);
	fflush(stdout);
	if (tally.mismatch)
		return WITNESS_EXIT_MISMATCH;
	return tally.lost ? WITNESS_EXIT_LOST : WITNESS_EXIT_OK;
}

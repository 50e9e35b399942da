// SPDX-License-Identifier: MIT
//
// main.cc - entry point of magma-conformance-tests. Takes --device PATH (or --device=PATH) out of
// the arguments, then hands the rest to GoogleTest, so every standard flag (--gtest_filter,
// --gtest_repeat, --gtest_shuffle, --gtest_output, GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX) works.
// Without --device the suite tests $MAGMA_DEVICE, or else the embedded device.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "magma_test.h"

namespace {

// Ends the run with one plain line ("magma-conformance-tests: N passed, N failed, N skipped"), the
// summary ./scripts/run and CI logs end with, after GoogleTest's own.
class SummaryLine : public testing::EmptyTestEventListener {
 public:
  void OnTestProgramEnd(const testing::UnitTest& unit) override {
    printf("magma-conformance-tests: %d passed, %d failed, %d skipped (%.1f s, device: %s)\n",
           unit.successful_test_count(), unit.failed_test_count(), unit.skipped_test_count(),
           static_cast<double>(unit.elapsed_time()) / 1000.0,
           TestDevicePath()[0] ? TestDevicePath() : "embedded");
    fflush(stdout);
  }
};

void PrintUsageExtra() {
  printf(
      "\nmagma-conformance-tests options:\n"
      "  --device PATH   test the device at PATH (/dev/magma0 under magma-sim-run, or a\n"
      "                  magma-simd socket); default: $MAGMA_DEVICE, else the embedded device\n");
}

}  // namespace

int main(int argc, char** argv) {
  int out = 1;
  bool help = false;
  for (int i = 1; i < argc; i++) {
    const char* arg = argv[i];
    if (strcmp(arg, "--device") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "magma-conformance-tests: --device needs a path\n");
        return 2;
      }
      SetTestDevicePath(argv[++i]);
      continue;
    }
    if (strncmp(arg, "--device=", 9) == 0) {
      SetTestDevicePath(arg + 9);
      continue;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "--gtest_help") == 0)
      help = true;
    argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;

  // A child process started by SpawnChild (magma_test.h): run its routine, not the tests.
  bool child = false;
  int child_status = RunChildIfRequested(argc, argv, &child);
  if (child) return child_status;

  testing::InitGoogleTest(&argc, argv);
  if (help) {
    PrintUsageExtra();
    return 0;
  }
  testing::UnitTest::GetInstance()->listeners().Append(new SummaryLine);
  return RUN_ALL_TESTS();
}

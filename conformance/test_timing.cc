// SPDX-License-Identifier: MIT
//
// test_timing.cc - MagmaTiming: MAGMA_QUERY_TOTAL_TIME (GPU busy time, with the monotonic time it
// was sampled at) and the vendor MAGMA_SIM_QUERY_TIMESTAMP (GPU cycles and ns, bracketed by
// CLOCK_MONOTONIC), both buffer-result queries, and the TIMESTAMP command. GPU time on the
// simulated GPU is virtual: it advances with work and stands still while the GPU is idle, so the
// tests check that it moves forward with work, never backwards, and that values read by commands
// and by queries agree.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "magma_test.h"

namespace {

class MagmaTiming : public MagmaConnectionTest {
 protected:
  void SetUp() override {
    MagmaConnectionTest::SetUp();
    if (HasFatalFailure()) return;
    context_ = CreateContext();
    ASSERT_NE(context_, 0u);
  }

  // Runs a buffer-result query and copies its first sizeof(T) bytes into *@out.
  template <typename T>
  void QueryBuffer(uint64_t id, T* out) {
    magma_handle_t handle = 0;
    ASSERT_EQ(magma_device_query(device(), id, &handle, nullptr), MAGMA_STATUS_OK)
        << "query " << id;
    int fd = static_cast<int>(handle);
    struct stat st = {};
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_GE(static_cast<uint64_t>(st.st_size), sizeof(T)) << "query " << id;
    void* p = mmap(nullptr, sizeof(T), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    ASSERT_NE(p, MAP_FAILED);
    memcpy(out, p, sizeof(T));
    munmap(p, sizeof(T));
  }

  magma_total_time_query_result_t TotalTime() {
    magma_total_time_query_result_t r = {};
    QueryBuffer(MAGMA_QUERY_TOTAL_TIME, &r);
    return r;
  }

  magma_sim_timestamp Timestamp() {
    magma_sim_timestamp t = {};
    QueryBuffer(MAGMA_SIM_QUERY_TIMESTAMP, &t);
    return t;
  }

  // Runs @cs (plus @resources) on the test's context and waits for it.
  void Run(const CommandStream& cs, const std::vector<ExecResource>& resources) {
    auto commands = CreateMappedBuffer(RoundUpToPage(cs.size_bytes()));
    ASSERT_TRUE(commands);
    ASSERT_TRUE(cs.WriteTo(*commands));
    TestSemaphore done(connection());
    ASSERT_TRUE(done.ok());
    ASSERT_EQ(
        Execute(connection(), context_, *commands, cs.size_bytes(), resources, {}, {done.id()}),
        MAGMA_STATUS_OK);
    ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK);
  }

  // GPU work of a size proportional to @bytes: a FILL of a buffer that large.
  void RunFill(uint64_t bytes) {
    auto target = CreateMappedBuffer(bytes);
    ASSERT_TRUE(target);
    CommandStream cs;
    cs.Fill(target->gpu_va(), bytes, 0x01020304).End();
    ASSERT_NO_FATAL_FAILURE(Run(cs, {{target.get()}}));
  }

  bool TotalTimeSupported() { return QueryValue(MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED) != 0; }

  uint32_t context_ = 0;
};

TEST_F(MagmaTiming, TotalTimeIsSupported) {
  EXPECT_EQ(QueryValue(MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED), 1u);
}

TEST_F(MagmaTiming, TotalTimeAnswersWithABuffer) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &handle, nullptr),
            MAGMA_STATUS_OK);
  struct stat st = {};
  ASSERT_EQ(fstat(static_cast<int>(handle), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_size), sizeof(magma_total_time_query_result_t));
  close(static_cast<int>(handle));
  // Each query is a new handle that the caller owns.
  magma_handle_t second = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &second, nullptr),
            MAGMA_STATUS_OK);
  close(static_cast<int>(second));
}

TEST_F(MagmaTiming, TotalTimeIsSampledDuringTheQuery) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  uint64_t before = NowNs();
  magma_total_time_query_result_t r = TotalTime();
  uint64_t after = NowNs();
  EXPECT_GE(r.monotonic_time_ns, before);
  EXPECT_LE(r.monotonic_time_ns, after);
}

TEST_F(MagmaTiming, TotalTimeMovesForwardWithWork) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  magma_total_time_query_result_t t0 = TotalTime();
  ASSERT_NO_FATAL_FAILURE(RunFill(1 << 20));
  magma_total_time_query_result_t t1 = TotalTime();
  EXPECT_GT(t1.gpu_time_ns, t0.gpu_time_ns);
  EXPECT_GT(t1.monotonic_time_ns, t0.monotonic_time_ns);
}

TEST_F(MagmaTiming, TotalTimeGrowsWithTheAmountOfWork) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  magma_total_time_query_result_t t0 = TotalTime();
  ASSERT_NO_FATAL_FAILURE(RunFill(64 * 1024));
  magma_total_time_query_result_t t1 = TotalTime();
  ASSERT_NO_FATAL_FAILURE(RunFill(4 << 20));
  magma_total_time_query_result_t t2 = TotalTime();
  uint64_t small = t1.gpu_time_ns - t0.gpu_time_ns;
  uint64_t large = t2.gpu_time_ns - t1.gpu_time_ns;
  EXPECT_GT(small, 0u);
  EXPECT_GT(large, small) << "64 KiB fill: " << small << " ns, 4 MiB fill: " << large << " ns";
}

TEST_F(MagmaTiming, TotalTimeIsBusyTimeNotElapsedTime) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  // This test submits nothing between the two queries, so (unless another client of a shared
  // daemon keeps the GPU busy) far less GPU busy time than wall time passes.
  magma_total_time_query_result_t t0 = TotalTime();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  magma_total_time_query_result_t t1 = TotalTime();
  EXPECT_GE(t1.gpu_time_ns, t0.gpu_time_ns);
  uint64_t elapsed = t1.monotonic_time_ns - t0.monotonic_time_ns;
  EXPECT_GE(elapsed, 100 * kMsToNs);
  // Relative to the elapsed time, not a fixed bound: a loaded host only makes elapsed longer.
  EXPECT_LT(t1.gpu_time_ns - t0.gpu_time_ns, elapsed / 2);
}

TEST_F(MagmaTiming, TimestampQueryIsBracketedByMonotonicTime) {
  uint64_t before = NowNs();
  magma_sim_timestamp t = Timestamp();
  uint64_t after = NowNs();
  EXPECT_LE(before, t.monotonic_ns_before);
  EXPECT_LE(t.monotonic_ns_before, t.monotonic_ns_after);
  EXPECT_LE(t.monotonic_ns_after, after);
}

TEST_F(MagmaTiming, TimestampQueryMovesForwardWithWork) {
  magma_sim_timestamp t0 = Timestamp();
  ASSERT_NO_FATAL_FAILURE(RunFill(1 << 20));
  magma_sim_timestamp t1 = Timestamp();
  EXPECT_GT(t1.gpu_cycles, t0.gpu_cycles);
  EXPECT_GT(t1.gpu_ns, t0.gpu_ns);
  EXPECT_GT(t1.monotonic_ns_before, t0.monotonic_ns_after);
}

TEST_F(MagmaTiming, TimestampCyclesAndNanosecondsAgreeWithTheClock) {
  uint64_t clock_hz = QueryValue(MAGMA_SIM_QUERY_CLOCK_HZ);
  ASSERT_GT(clock_hz, 0u);
  magma_sim_timestamp t0 = Timestamp();
  ASSERT_NO_FATAL_FAILURE(RunFill(4 << 20));
  magma_sim_timestamp t1 = Timestamp();
  double cycles = static_cast<double>(t1.gpu_cycles - t0.gpu_cycles);
  double ns = static_cast<double>(t1.gpu_ns - t0.gpu_ns);
  ASSERT_GT(cycles, 0.0);
  // At the base clock (no divider) ns = cycles * 1e9 / clock_hz. A clock divider can only make
  // each cycle longer, never shorter.
  double expected_ns = cycles * 1e9 / static_cast<double>(clock_hz);
  EXPECT_GE(ns + 2.0, expected_ns) << "cycles " << cycles << " ns " << ns;
}

TEST_F(MagmaTiming, TimestampNeverGoesBackwards) {
  magma_sim_timestamp last = Timestamp();
  for (int i = 0; i < 20; i++) {
    if (i % 2) {
      ASSERT_NO_FATAL_FAILURE(RunFill(kPageSize));
    }
    magma_sim_timestamp t = Timestamp();
    ASSERT_GE(t.gpu_cycles, last.gpu_cycles) << "query " << i;
    ASSERT_GE(t.gpu_ns, last.gpu_ns) << "query " << i;
    ASSERT_GE(t.monotonic_ns_before, last.monotonic_ns_after) << "query " << i;
    last = t;
  }
}

TEST_F(MagmaTiming, TimestampCommandsMoveForwardAcrossWork) {
  auto out = CreateMappedBuffer(4 << 20);
  ASSERT_TRUE(out);
  CommandStream cs;
  cs.Timestamp(out->gpu_va())
      .Timestamp(out->gpu_va() + 8, SIM_CMD_TS_CYCLES)
      .Fill(out->gpu_va() + kPageSize, (4 << 20) - kPageSize, 0)
      .Timestamp(out->gpu_va() + 16)
      .Timestamp(out->gpu_va() + 24, SIM_CMD_TS_CYCLES)
      .End();
  ASSERT_NO_FATAL_FAILURE(Run(cs, {{out.get()}}));
  uint64_t v[4];
  memcpy(v, out->cpu(), sizeof(v));
  EXPECT_GT(v[0], 0u);
  EXPECT_GT(v[2], v[0]) << "ns";
  EXPECT_GT(v[3], v[1]) << "cycles";
}

TEST_F(MagmaTiming, TimestampCommandLiesBetweenQueries) {
  auto out = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(out);
  CommandStream cs;
  cs.Timestamp(out->gpu_va()).Timestamp(out->gpu_va() + 8, SIM_CMD_TS_CYCLES).End();
  magma_sim_timestamp q0 = Timestamp();
  ASSERT_NO_FATAL_FAILURE(Run(cs, {{out.get()}}));
  magma_sim_timestamp q1 = Timestamp();
  uint64_t v[2];
  memcpy(v, out->cpu(), sizeof(v));
  EXPECT_GE(v[0], q0.gpu_ns);
  EXPECT_LE(v[0], q1.gpu_ns);
  EXPECT_GE(v[1], q0.gpu_cycles);
  EXPECT_LE(v[1], q1.gpu_cycles);
}

TEST_F(MagmaTiming, TimestampCommandsIncreaseAcrossSubmissions) {
  auto out = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(out);
  for (int i = 0; i < 8; i++) {
    CommandStream cs;
    cs.Timestamp(out->gpu_va() + 8 * i).End();
    ASSERT_NO_FATAL_FAILURE(Run(cs, {{out.get()}}));
  }
  uint64_t v[8];
  memcpy(v, out->cpu(), sizeof(v));
  for (int i = 1; i < 8; i++) EXPECT_GT(v[i], v[i - 1]) << "submission " << i;
}

TEST_F(MagmaTiming, TotalTimeCoversTheWorkMeasuredByTimestamps) {
  if (!TotalTimeSupported()) GTEST_SKIP() << "MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED is 0";
  auto out = CreateMappedBuffer(4 << 20);
  ASSERT_TRUE(out);
  CommandStream cs;
  cs.Timestamp(out->gpu_va())
      .Fill(out->gpu_va() + kPageSize, (4 << 20) - kPageSize, 0x99)
      .Timestamp(out->gpu_va() + 8)
      .End();
  magma_total_time_query_result_t t0 = TotalTime();
  ASSERT_NO_FATAL_FAILURE(Run(cs, {{out.get()}}));
  magma_total_time_query_result_t t1 = TotalTime();
  uint64_t v[2];
  memcpy(v, out->cpu(), sizeof(v));
  ASSERT_GT(v[1], v[0]);
  // The GPU was busy at least from the first TIMESTAMP to the second (1 ns for rounding).
  EXPECT_GE(t1.gpu_time_ns - t0.gpu_time_ns + 1, v[1] - v[0]);
}

}  // namespace

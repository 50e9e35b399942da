// SPDX-License-Identifier: MIT
//
// test_scheduling.cc - MagmaScheduling: how the device shares the GPU between contexts. A long
// compute dispatch is held open by the test: each of its 8192 workgroups spins (up to 10,000
// loads, well within a watchdog period) until a flag in memory says "release", then counts itself
// with an atomic add. While it is held,
// other work is submitted and must complete: a REALTIME job over a LOW dispatch, a HIGH job over
// a MEDIUM one, and a MEDIUM dispatch over another MEDIUM dispatch, of a second connection or of
// a second context of the same connection (time slicing inside the dispatch, between
// workgroups). Then the test releases the held dispatch, which must complete with every workgroup
// counted. TIMESTAMP commands (GPU cycles) around each dispatch confirm the overlap.
//
// The held dispatch would end by itself only after some 8 * 10^7 loads of the flag, far longer
// than any check here takes, also under Valgrind (which slows the GPU down as much): a device that
// made the later work wait for the whole dispatch fails, and one that does not passes, whatever the
// host's load.
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "magma_test.h"

namespace {

// args + 0: VA of the counter (u64); args + 16: the release flag (u32), read on every spin.
constexpr const char* kGatedKernel =
    "mov     r10, 10000\n"
    "loop\n"
    "ld      r8, r0, 16\n"
    "sne     r9, r8, 0\n"
    "break   r9\n"
    "seq     r9, r10, 0\n"
    "break   r9\n"
    "sub     r10, r10, 1\n"
    "endloop\n"
    "ld      r4, r0, 0\n"
    "ld      r5, r0, 4\n"
    "mov     r6, 1\n"
    "atomadd r7, r4, r6, 0\n"
    "exit\n";

constexpr uint32_t kHeldGroupsX = 128, kHeldGroupsY = 64;
constexpr uint32_t kShortGroups = 64;

// One context on one connection with its own program, arguments and command buffer; the last
// words of the command buffer receive the two timestamps. Check ok() after constructing.
class TimedClient {
 public:
  TimedClient(magma_connection_t connection, GpuVaAllocator& va, magma_priority_t priority,
              const std::vector<uint64_t>& code)
      : connection_(connection),
        program_(connection, RoundUpToPage(code.size() * 8)),
        args_(connection, kPageSize),
        commands_(connection, kPageSize),
        done_(connection) {
    ok_ = program_.ok() && args_.ok() && commands_.ok() && done_.ok() && !code.empty() &&
          magma_connection_create_context2(connection, priority, &context_) == MAGMA_STATUS_OK &&
          program_.MapGpu(va.Alloc(program_.size())) == MAGMA_STATUS_OK &&
          args_.MapGpu(va.Alloc(args_.size())) == MAGMA_STATUS_OK &&
          commands_.MapGpu(va.Alloc(commands_.size())) == MAGMA_STATUS_OK && program_.cpu() &&
          args_.cpu() && commands_.cpu();
    if (ok_) memcpy(program_.cpu(), code.data(), code.size() * 8);
    code_count_ = static_cast<uint32_t>(code.size());
  }
  ~TimedClient() {
    if (context_) magma_connection_release_context(connection_, context_);
  }
  TimedClient(const TimedClient&) = delete;
  TimedClient& operator=(const TimedClient&) = delete;

  bool ok() const { return ok_; }

  // Submits TIMESTAMP, DISPATCH of @gx x @gy workgroups (none when 0), TIMESTAMP. A @held
  // dispatch spins until Release().
  magma_status_t Submit(uint32_t gx, uint32_t gy, bool held) {
    uint64_t counter_va = args_.gpu_va() + 64;
    done_.Reset();
    memcpy(args_.bytes(), &counter_va, 8);
    memset(args_.bytes() + 64, 0, 8);
    Flag().store(held ? 0 : 1);
    CommandStream cs;
    cs.Timestamp(TimestampVa(0), SIM_CMD_TS_CYCLES);
    if (gx) cs.Dispatch(program_.gpu_va(), code_count_, args_.gpu_va(), gx, gy, 1);
    cs.Timestamp(TimestampVa(1), SIM_CMD_TS_CYCLES).End();
    if (!cs.WriteTo(commands_)) return MAGMA_STATUS_INTERNAL_ERROR;
    return Execute(connection_, context_, commands_, cs.size_bytes(), {{&program_}, {&args_}}, {},
                   {done_.id()});
  }
  // The store is cleaned to memory as a client on a non-coherent GPU must, which is also where
  // a trace records it (so a replay releases the dispatch as the test did).
  magma_status_t Release() {
    Flag().store(1);
    return magma_buffer_clean_cache(args_.get(), kFlagOffset, sizeof(uint32_t),
                                    MAGMA_CACHE_OPERATION_CLEAN);
  }
  magma_status_t Wait() { return WaitSemaphoreOrConnectionLoss(connection_, done_.get()); }
  bool IsDone() { return done_.IsSignaled(); }

  // Workgroups that ran, and the GPU cycles at the start and at the end of the submission.
  uint64_t counted() { return Word64(64, args_); }
  uint64_t start() { return Word64(kTimestampOffset, commands_); }
  uint64_t end() { return Word64(kTimestampOffset + 8, commands_); }

 private:
  static constexpr uint64_t kTimestampOffset = kPageSize - 16;
  static constexpr uint64_t kFlagOffset = 16;  // in args_, read by kGatedKernel

  std::atomic<uint32_t>& Flag() {
    return *reinterpret_cast<std::atomic<uint32_t>*>(args_.bytes() + kFlagOffset);
  }
  uint64_t TimestampVa(int i) const { return commands_.gpu_va() + kTimestampOffset + 8 * i; }
  static uint64_t Word64(uint64_t offset, TestBuffer& buffer) {
    uint64_t value;
    memcpy(&value, buffer.bytes() + offset, 8);
    return value;
  }

  magma_connection_t connection_;
  TestBuffer program_, args_, commands_;
  TestSemaphore done_;
  uint32_t context_ = 0;
  uint32_t code_count_ = 0;
  bool ok_ = false;
};

class MagmaScheduling : public MagmaConnectionTest {
 protected:
  // A client at @priority on this test's connection.
  std::unique_ptr<TimedClient> Client(magma_priority_t priority) {
    return Make(connection(), va(), priority);
  }
  // A client at @priority on a new connection of its own.
  std::unique_ptr<TimedClient> ClientOnNewConnection(magma_priority_t priority) {
    magma_connection_t connection = CreateExtraConnection();
    if (!connection) return nullptr;
    extra_va_.push_back(std::make_unique<GpuVaAllocator>());
    return Make(connection, *extra_va_.back(), priority);
  }

  static constexpr bool kNewConnection = true, kSameConnection = false;

  // Holds a long dispatch open on a context at @held_priority of this test's connection, runs a
  // job at @other_priority (a dispatch of @other_groups, or none) on a new context of a new
  // connection or of the same one to completion meanwhile, then releases the held dispatch.
  void RunOverHeldDispatch(magma_priority_t held_priority, magma_priority_t other_priority,
                           bool new_connection, uint32_t other_groups) {
    // Work runs during a held dispatch only from a second hardware queue: magma-simd --queues 1
    // gives a GPU with one ring, where the held dispatch blocks everything behind it.
    uint32_t queues = static_cast<uint32_t>(QueryValue(MAGMA_SIM_QUERY_CONFIG) >> 8) & 0xff;
    if (queues < 2) GTEST_SKIP() << "needs two hardware queues, the GPU has one";
    auto held = Client(held_priority);
    auto other = new_connection ? ClientOnNewConnection(other_priority) : Client(other_priority);
    ASSERT_TRUE(held && other);
    RunOver(*held, *other, other_groups);
  }

 private:
  void RunOver(TimedClient& held, TimedClient& other, uint32_t other_groups) {
    ASSERT_EQ(held.Submit(kHeldGroupsX, kHeldGroupsY, true), MAGMA_STATUS_OK);
    magma_status_t other_status = other.Submit(other_groups, 1, false);
    if (other_status == MAGMA_STATUS_OK) other_status = other.Wait();
    bool held_done = held.IsDone();
    ASSERT_EQ(held.Release(), MAGMA_STATUS_OK);
    ASSERT_EQ(held.Wait(), MAGMA_STATUS_OK);
    ASSERT_EQ(other_status, MAGMA_STATUS_OK);
    EXPECT_FALSE(held_done) << "the held dispatch ended by itself";
    EXPECT_EQ(held.counted(), uint64_t{kHeldGroupsX} * kHeldGroupsY);
    EXPECT_EQ(other.counted(), other_groups);
    EXPECT_LT(other.end(), held.end());
  }

  std::unique_ptr<TimedClient> Make(magma_connection_t connection, GpuVaAllocator& va,
                                    magma_priority_t priority) {
    if (code_.empty()) code_ = AssembleKernel(kGatedKernel);
    auto client = std::make_unique<TimedClient>(connection, va, priority, code_);
    if (!client->ok()) {
      ADD_FAILURE() << "client setup failed";
      return nullptr;
    }
    return client;
  }

  std::vector<uint64_t> code_;
  std::vector<std::unique_ptr<GpuVaAllocator>> extra_va_;
};

TEST_F(MagmaScheduling, RealtimeJobRunsDuringLowDispatch) {
  RunOverHeldDispatch(MAGMA_PRIORITY_LOW, MAGMA_PRIORITY_REALTIME, kNewConnection, 0);
}

TEST_F(MagmaScheduling, HighJobRunsDuringMediumDispatch) {
  RunOverHeldDispatch(MAGMA_PRIORITY_MEDIUM, MAGMA_PRIORITY_HIGH, kNewConnection, kShortGroups);
}

TEST_F(MagmaScheduling, EqualPriorityDispatchOfAnotherConnectionRunsDuringDispatch) {
  RunOverHeldDispatch(MAGMA_PRIORITY_MEDIUM, MAGMA_PRIORITY_MEDIUM, kNewConnection, kShortGroups);
}

TEST_F(MagmaScheduling, EqualPriorityDispatchOfAnotherContextRunsDuringDispatch) {
  RunOverHeldDispatch(MAGMA_PRIORITY_MEDIUM, MAGMA_PRIORITY_MEDIUM, kSameConnection, kShortGroups);
}

TEST_F(MagmaScheduling, EqualPriorityHighDispatchesShareTheEngine) {
  RunOverHeldDispatch(MAGMA_PRIORITY_HIGH, MAGMA_PRIORITY_HIGH, kNewConnection, kShortGroups);
}

}  // namespace

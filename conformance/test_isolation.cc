// SPDX-License-Identifier: MIT
//
// test_isolation.cc - MagmaIsolation: a misbehaving client hurts only itself. For each kind of
// GPU fault (unmapped read, write to a read-only mapping, illegal command, compute division by
// zero, misaligned compute load, an endless kernel the watchdog takes for a hang) one connection
// faults while two healthy connections keep submitting work from their own threads. The bad
// connection is told (a MAGMA_SIM_NOTIFY_FAULT payload with the fault code, then
// CONTEXT_KILLED from flush and get_error, a hang-up of its notification channel, the error from
// every later call); every healthy submission completes with correct results. And a connection
// can never reach another's memory through the GPU: B's command stream writing or reading at the
// VA where A mapped a buffer faults at that address, and A's buffer is unchanged.
//
// test_execution.cc covers single faults without concurrent clients; this file adds concurrency,
// the fault payloads and what every later call reports.
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "magma_test.h"

namespace {

// Healthy submissions each healthy client completes after the bad one was killed.
constexpr uint64_t kHealthyAfterKill = 10;

// A well-behaved client on its own connection and thread: submits one job after another (a
// WRITE of the iteration number, a FILL of a page and a COPY of it), waits for each and checks
// its results, until told to stop.
class HealthyClient {
 public:
  explicit HealthyClient(magma_connection_t connection) : connection_(connection) {}
  ~HealthyClient() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t completed() const { return completed_; }
  uint64_t failures() const { return failures_; }

  // Waits until @n more jobs than now have completed (false after @timeout_ns or a failure).
  bool WaitForMore(uint64_t n, uint64_t timeout_ns = kDefaultTimeoutNs) {
    uint64_t target = completed_ + n;
    uint64_t deadline = NowNs() + timeout_ns;
    while (completed_ < target && failures_ == 0 && !finished_ && NowNs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return completed_ >= target;
  }

 private:
  void Fail() { failures_++; }

  void Run() {
    uint32_t ctx = 0;
    if (magma_connection_create_context2(connection_, MAGMA_PRIORITY_MEDIUM, &ctx) !=
        MAGMA_STATUS_OK) {
      ADD_FAILURE() << "healthy client: create_context2 failed";
      Fail();
      finished_ = true;
      return;
    }
    GpuVaAllocator va;
    TestBuffer target(connection_, 4 * kPageSize), commands(connection_, kPageSize);
    TestSemaphore done(connection_);
    if (!target.ok() || !commands.ok() || !done.ok() ||
        target.MapGpu(va.Alloc(target.size())) != MAGMA_STATUS_OK ||
        commands.MapGpu(va.Alloc(commands.size())) != MAGMA_STATUS_OK) {
      ADD_FAILURE() << "healthy client: setup failed";
      Fail();
      finished_ = true;
      return;
    }
    const uint64_t slots = target.gpu_va();
    const uint64_t fill = target.gpu_va() + kPageSize;
    const uint64_t copy = target.gpu_va() + 2 * kPageSize;
    for (uint32_t i = 1; !stop_; i++) {
      CommandStream cs;
      cs.Write32(slots + 4 * (i % 1024), i)
          .Fill(fill, kPageSize, 0xa5000000u | i)
          .Copy(copy, fill, kPageSize)
          .End();
      if (!cs.WriteTo(commands)) break;
      done.Reset();
      magma_status_t s =
          Execute(connection_, ctx, commands, cs.size_bytes(), {{&target}}, {}, {done.id()});
      if (s == MAGMA_STATUS_OK) s = WaitSemaphoreOrConnectionLoss(connection_, done.get());
      if (s != MAGMA_STATUS_OK) {
        ADD_FAILURE() << "healthy job " << i << ": status " << s << ", connection error "
                      << magma_connection_get_error(connection_);
        Fail();
        break;
      }
      bool ok = target.words()[i % 1024] == i;
      for (uint64_t w = 0; w < kPageSize / 4 && ok; w++) {
        ok = target.words()[1024 + w] == (0xa5000000u | i) &&
             target.words()[2048 + w] == (0xa5000000u | i);
      }
      if (!ok) {
        ADD_FAILURE() << "healthy job " << i << ": wrong results";
        Fail();
        break;
      }
      completed_++;
    }
    if (magma_connection_flush(connection_) != MAGMA_STATUS_OK) {
      ADD_FAILURE() << "healthy connection closed: " << magma_connection_flush(connection_);
      Fail();
    }
    finished_ = true;
  }

  magma_connection_t connection_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> failures_{0};
};

// What a fault scenario expects of the bad connection's notification.
struct ExpectedFault {
  uint32_t code;
  bool check_address;
  uint64_t address;
  uint64_t sequence = 1;  // the connection's submission number of the faulting work
};

class MagmaIsolation : public MagmaConnectionTest {
 protected:
  // The misbehaving connection is connection(); its context is created on first use.
  uint32_t context() {
    if (!context_) context_ = CreateContext();
    return context_;
  }

  // Drains @connection's notification channel until it hangs up; returns the payloads read.
  // Adds a failure when the channel does not hang up.
  std::vector<magma_sim_notification> DrainUntilHangUp(magma_connection_t connection) {
    std::vector<magma_sim_notification> payloads;
    magma_handle_t channel = magma_connection_get_notification_channel_handle(connection);
    uint64_t deadline = NowNs() + kDefaultTimeoutNs;
    magma_status_t status = MAGMA_STATUS_OK;
    std::vector<uint8_t> buffer(4096);
    while (NowNs() < deadline) {
      status = WaitHandleReadable(channel, 10 * kMsToNs);
      if (status == MAGMA_STATUS_CONNECTION_LOST) break;
      if (status != MAGMA_STATUS_OK) continue;
      uint64_t size = 0;
      magma_bool_t more = 0;
      magma_status_t read = magma_connection_read_notification_channel(connection, buffer.data(),
                                                                       buffer.size(), &size, &more);
      if (read != MAGMA_STATUS_OK) {
        ADD_FAILURE() << "a pending payload must be readable: " << read;
        break;
      }
      if (size == 0) continue;
      EXPECT_EQ(size, sizeof(magma_sim_notification));
      magma_sim_notification n;
      memcpy(&n, buffer.data(), sizeof(n));
      payloads.push_back(n);
    }
    EXPECT_EQ(status, MAGMA_STATUS_CONNECTION_LOST) << "the notification channel did not hang up";
    return payloads;
  }

  // Waits for @connection to be closed with CONTEXT_KILLED, drains its notification channel and
  // expects exactly one payload, reporting fault @code at @address; returns it in *@payload.
  void ExpectOneFault(magma_connection_t connection, uint32_t code, uint64_t address,
                      magma_sim_notification* payload = nullptr) {
    EXPECT_EQ(WaitForConnectionError(connection), MAGMA_STATUS_CONTEXT_KILLED);
    std::vector<magma_sim_notification> payloads = DrainUntilHangUp(connection);
    ASSERT_EQ(payloads.size(), 1u);
    if (payload) *payload = payloads[0];
    EXPECT_EQ(payloads[0].fault_code, code);
    EXPECT_EQ(payloads[0].fault_address, address);
  }

  // Every call on the killed connection reports the error.
  void ExpectEveryCallFails(magma_connection_t connection) {
    EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_CONTEXT_KILLED);
    EXPECT_EQ(magma_connection_get_error(connection), MAGMA_STATUS_CONTEXT_KILLED);
    // Calls that send get CONNECTION_LOST, as Magma's on a closed channel.
    auto is_error = [](magma_status_t s) { return s == MAGMA_STATUS_CONNECTION_LOST; };
    uint32_t ctx = 0;
    magma_status_t s = magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &ctx);
    EXPECT_TRUE(is_error(s)) << "create_context2: " << s;
    magma_buffer_t buffer = 0;
    uint64_t size = 0;
    magma_buffer_id_t id = 0;
    s = magma_connection_create_buffer(connection, kPageSize, &size, &buffer, &id);
    EXPECT_TRUE(is_error(s)) << "create_buffer: " << s;
    if (s == MAGMA_STATUS_OK) magma_connection_release_buffer(connection, buffer);
    magma_semaphore_t semaphore = 0;
    magma_semaphore_id_t semaphore_id = 0;
    s = magma_connection_create_semaphore(connection, &semaphore, &semaphore_id);
    EXPECT_TRUE(is_error(s)) << "create_semaphore: " << s;
    if (s == MAGMA_STATUS_OK) magma_connection_release_semaphore(connection, semaphore);
    CommandStream cs;
    cs.End();
    s = ExecuteInline(connection, context_, cs);
    EXPECT_TRUE(is_error(s)) << "execute_inline_commands: " << s;
    std::vector<uint8_t> payload(4096);
    uint64_t payload_size = 0;
    magma_bool_t more = 0;
    EXPECT_EQ(magma_connection_read_notification_channel(connection, payload.data(), payload.size(),
                                                         &payload_size, &more),
              MAGMA_STATUS_CONNECTION_LOST);
    EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_CONTEXT_KILLED);
  }

  // Starts two healthy clients, lets them run, calls @submit_bad to make connection() fault,
  // checks what the bad connection is told (@expected) and that the healthy clients keep
  // completing correct work throughout and after.
  template <typename SubmitBad>
  void RunWithHealthyClients(const ExpectedFault& expected, SubmitBad submit_bad,
                             uint64_t kill_timeout_ns = kDefaultTimeoutNs) {
    magma_connection_t good_a = CreateExtraConnection();
    magma_connection_t good_b = CreateExtraConnection();
    ASSERT_NE(good_a, 0u);
    ASSERT_NE(good_b, 0u);
    ASSERT_NE(context(), 0u);
    HealthyClient a(good_a), b(good_b);
    a.Start();
    b.Start();
    ASSERT_TRUE(a.WaitForMore(3));
    ASSERT_TRUE(b.WaitForMore(3));

    const uint64_t start = NowNs();
    ASSERT_NO_FATAL_FAILURE(submit_bad());
    EXPECT_EQ(WaitForConnectionError(connection(), kill_timeout_ns), MAGMA_STATUS_CONTEXT_KILLED);
    last_kill_ns_ = NowNs() - start;

    // The healthy clients go on, with correct results.
    EXPECT_TRUE(a.WaitForMore(kHealthyAfterKill));
    EXPECT_TRUE(b.WaitForMore(kHealthyAfterKill));
    a.Stop();
    b.Stop();
    EXPECT_EQ(a.failures(), 0u);
    EXPECT_EQ(b.failures(), 0u);
    EXPECT_EQ(magma_connection_flush(good_a), MAGMA_STATUS_OK);
    EXPECT_EQ(magma_connection_flush(good_b), MAGMA_STATUS_OK);

    // The bad connection: one fault payload, then the hang-up.
    std::vector<magma_sim_notification> payloads = DrainUntilHangUp(connection());
    ASSERT_EQ(payloads.size(), 1u);
    EXPECT_EQ(payloads[0].type, MAGMA_SIM_NOTIFY_FAULT);
    EXPECT_EQ(payloads[0].context_id, context());
    EXPECT_EQ(payloads[0].sequence, expected.sequence);
    EXPECT_EQ(payloads[0].fault_code, expected.code);
    if (expected.check_address) {
      EXPECT_EQ(payloads[0].fault_address, expected.address);
    }
    ExpectEveryCallFails(connection());
    RecordProperty("kill_ms", static_cast<int>(last_kill_ns_ / kMsToNs));
  }

  // Submits @cs on connection() as one command buffer with @resources.
  void SubmitBad(const CommandStream& cs, const std::vector<ExecResource>& resources) {
    auto commands = CreateCommandBuffer(cs);
    ASSERT_TRUE(commands);
    std::vector<ExecResource> all = resources;
    all.push_back({commands.get()});
    last_bad_commands_va_ = commands->gpu_va();
    ASSERT_EQ(Execute(connection(), context(), *commands, cs.size_bytes(), all), MAGMA_STATUS_OK);
    bad_commands_.push_back(std::move(commands));
  }

  // Dispatches @source on connection() as one workgroup of one lane with an args buffer.
  void SubmitBadKernel(const char* source, uint64_t* prog_va, uint64_t* args_va) {
    auto code = AssembleKernel(source);
    ASSERT_FALSE(code.empty());
    auto program = LoadKernel(code);
    auto args = CreateMappedBuffer(kPageSize);
    ASSERT_TRUE(program && args);
    *prog_va = program->gpu_va();
    *args_va = args->gpu_va();
    CommandStream cs;
    cs.Dispatch(program->gpu_va(), static_cast<uint32_t>(code.size()), args->gpu_va(), 1, 1, 1)
        .End();
    ASSERT_NO_FATAL_FAILURE(SubmitBad(cs, {{program.get()}, {args.get()}}));
    bad_commands_.push_back(std::move(program));
    bad_commands_.push_back(std::move(args));
  }

  // GPU VA of the last command buffer SubmitBad submitted.
  uint64_t last_bad_commands_va_ = 0;
  // Host time from the faulting submission to the bad connection's error (last run).
  uint64_t last_kill_ns_ = 0;

 private:
  uint32_t context_ = 0;
  std::vector<std::unique_ptr<TestBuffer>> bad_commands_;
};

// ---- One faulting connection among healthy ones ----

TEST_F(MagmaIsolation, UnmappedReadKillsOnlyTheOffender) {
  auto out = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(out);
  const uint64_t nowhere = AllocGpuVa(kPageSize) + 0x80;  // never mapped
  RunWithHealthyClients({SIM_FAULT_MMU_TRANSLATION, true, nowhere}, [&] {
    CommandStream cs;
    cs.Copy(out->gpu_va(), nowhere, 4).End();
    SubmitBad(cs, {{out.get()}});
  });
  EXPECT_EQ(out->words()[0], 0u);
}

TEST_F(MagmaIsolation, WriteToReadOnlyMappingKillsOnlyTheOffender) {
  auto read_only = CreateMappedBuffer(kPageSize, MAGMA_MAP_FLAG_READ);
  ASSERT_TRUE(read_only);
  read_only->words()[4] = 0x5afe;
  const uint64_t address = read_only->gpu_va() + 0x10;
  RunWithHealthyClients({SIM_FAULT_MMU_PERMISSION, true, address}, [&] {
    CommandStream cs;
    cs.Write32(address, 0xbad).End();
    SubmitBad(cs, {{read_only.get()}});
  });
  EXPECT_EQ(read_only->words()[4], 0x5afeu);
}

TEST_F(MagmaIsolation, IllegalCommandKillsOnlyTheOffender) {
  // The fault address of an illegal command is the command's VA (docs/sim-gpu.md).
  ExpectedFault expected = {SIM_FAULT_ILLEGAL_OPCODE, true, 0};
  RunWithHealthyClients(expected, [&] {
    CommandStream cs;
    cs.Raw(0x000000ee).End();  // opcode 0xee does not exist
    SubmitBad(cs, {});
    expected.address = last_bad_commands_va_;
  });
}

TEST_F(MagmaIsolation, ComputeDivisionByZeroKillsOnlyTheOffender) {
  uint64_t prog_va = 0, args_va = 0;
  // The fault address of a compute fault is the faulting instruction's (index 1), known once the
  // kernel is loaded.
  ExpectedFault expected = {SIM_FAULT_COMPUTE_DIV_ZERO, true, 0};
  RunWithHealthyClients(expected, [&] {
    SubmitBadKernel(
        "mov  r4, 0\n"
        "divu r5, r2, r4\n"
        "exit\n",
        &prog_va, &args_va);
    expected.address = prog_va + 8;
  });
}

TEST_F(MagmaIsolation, ComputeMisalignedLoadKillsOnlyTheOffender) {
  uint64_t prog_va = 0, args_va = 0;
  // The fault address of a misaligned access is the data VA.
  ExpectedFault expected = {SIM_FAULT_COMPUTE_MISALIGNED, true, 0};
  RunWithHealthyClients(expected, [&] {
    SubmitBadKernel(
        "ld   r4, r0, 2      # args VA + 2: not 4-byte aligned\n"
        "exit\n",
        &prog_va, &args_va);
    expected.address = args_va + 2;
  });
}

// Hang detection runs on simulated time (msd-sim's test_hang bounds it in GPU cycles); here the
// outcome counts, and the kill time is recorded (RecordProperty kill_ms), not bounded.
TEST_F(MagmaIsolation, EndlessKernelIsAHangThatKillsOnlyTheOffender) {
  uint64_t prog_va = 0, args_va = 0;
  RunWithHealthyClients({MAGMA_SIM_FAULT_HANG, false, 0}, [&] {
    SubmitBadKernel(
        "loop\n"
        "nop\n"
        "endloop\n"
        "exit\n",
        &prog_va, &args_va);
  });
}

TEST_F(MagmaIsolation, HealthyWorkOnTheOffendersOtherContextIsDropped) {
  // The whole connection is closed, so even work of its other contexts queued behind the fault
  // never signals, while other connections are unaffected.
  uint32_t other_ctx = CreateContext();
  ASSERT_NE(other_ctx, 0u);
  auto target = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(target);
  TestSemaphore gate(connection()), done(connection());
  ASSERT_TRUE(gate.ok() && done.ok());
  CommandStream later;
  later.Write32(target->gpu_va(), 0x1a7e).End();
  ASSERT_EQ(SubmitCommands(other_ctx, later, {{target.get()}}, {gate.id()}, {done.id()}),
            MAGMA_STATUS_OK);
  const uint64_t nowhere = AllocGpuVa(kPageSize);
  // The held submission is the connection's first, the faulting one its second.
  RunWithHealthyClients({SIM_FAULT_MMU_TRANSLATION, true, nowhere, 2}, [&] {
    CommandStream cs;
    cs.Write32(nowhere, 1).End();
    SubmitBad(cs, {});
  });
  gate.Signal();
  EXPECT_EQ(done.Wait(100 * kMsToNs), MAGMA_STATUS_TIMED_OUT);
  EXPECT_EQ(target->words()[0], 0u);
}

// ---- Address-space isolation between connections ----

TEST_F(MagmaIsolation, ConnectionCannotWriteAnotherConnectionsBuffer) {
  // A = connection(), B = an extra connection that misbehaves.
  auto a_secret = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(a_secret);
  for (uint32_t i = 0; i < kPageSize / 4; i++) a_secret->words()[i] = 0x5ec7e700u + i;
  const uint64_t address = a_secret->gpu_va() + 0x100;
  TestClient b(CreateExtraConnection(), a_secret->gpu_va() + 64 * kPageSize);
  ASSERT_TRUE(b.ok());
  CommandStream cs;
  cs.Write32(address, 0xbad).Fill(a_secret->gpu_va(), kPageSize, 0xbadbad).End();
  ASSERT_EQ(b.Submit(cs), MAGMA_STATUS_OK);
  magma_sim_notification fault = {};
  ASSERT_NO_FATAL_FAILURE(
      ExpectOneFault(b.connection(), SIM_FAULT_MMU_TRANSLATION, address, &fault));
  EXPECT_EQ(fault.type, MAGMA_SIM_NOTIFY_FAULT);
  EXPECT_EQ(fault.context_id, b.context());
  for (uint32_t i = 0; i < kPageSize / 4; i++) {
    ASSERT_EQ(a_secret->words()[i], 0x5ec7e700u + i) << "word " << i;
  }
  // A's GPU view of its buffer is unchanged too, and A keeps working.
  auto a_out = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(a_out);
  TestSemaphore a_done(connection());
  ASSERT_TRUE(a_done.ok());
  CommandStream copy;
  copy.Copy(a_out->gpu_va(), a_secret->gpu_va(), kPageSize).End();
  ASSERT_EQ(SubmitCommands(context(), copy, {{a_secret.get()}, {a_out.get()}}, {}, {a_done.id()}),
            MAGMA_STATUS_OK);
  ASSERT_EQ(WaitSemaphoreOrConnectionLoss(connection(), a_done.get()), MAGMA_STATUS_OK);
  for (uint32_t i = 0; i < kPageSize / 4; i++) {
    ASSERT_EQ(a_out->words()[i], 0x5ec7e700u + i) << "word " << i;
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaIsolation, ConnectionCannotReadAnotherConnectionsBuffer) {
  auto a_secret = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(a_secret);
  a_secret->words()[0x40] = 0x5ec7e7;
  const uint64_t address = a_secret->gpu_va() + 0x100;
  TestClient b(CreateExtraConnection(), a_secret->gpu_va() + 64 * kPageSize);
  ASSERT_TRUE(b.ok());
  auto b_out = b.CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(b_out);
  CommandStream cs;
  cs.Copy(b_out->gpu_va(), address, 4).End();
  ASSERT_EQ(b.Submit(cs, {{b_out.get()}}), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectOneFault(b.connection(), SIM_FAULT_MMU_TRANSLATION, address));
  EXPECT_EQ(b_out->words()[0], 0u);
  EXPECT_EQ(a_secret->words()[0x40], 0x5ec7e7u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaIsolation, ComputeKernelCannotReachAnotherConnectionsBuffer) {
  // The same through the compute unit: B's kernel stores to A's VA and faults there.
  auto a_secret = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(a_secret);
  a_secret->words()[0] = 0x5ec7e7;
  TestClient b(CreateExtraConnection(), a_secret->gpu_va() + 64 * kPageSize);
  ASSERT_TRUE(b.ok());
  auto code = AssembleKernel(
      "ld   r4, r0, 0      # target VA low\n"
      "ld   r5, r0, 4      # target VA high\n"
      "mov  r6, 0xbad\n"
      "st   r4, r6, 0\n"
      "exit\n");
  ASSERT_FALSE(code.empty());
  auto program = b.CreateMappedBuffer(kPageSize), args = b.CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(program && args);
  memcpy(program->cpu(), code.data(), code.size() * 8);
  args->words()[0] = static_cast<uint32_t>(a_secret->gpu_va());
  args->words()[1] = static_cast<uint32_t>(a_secret->gpu_va() >> 32);
  CommandStream cs;
  cs.Dispatch(program->gpu_va(), static_cast<uint32_t>(code.size()), args->gpu_va(), 1, 1, 1).End();
  ASSERT_EQ(b.Submit(cs, {{program.get()}, {args.get()}}), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(
      ExpectOneFault(b.connection(), SIM_FAULT_MMU_TRANSLATION, a_secret->gpu_va()));
  EXPECT_EQ(a_secret->words()[0], 0x5ec7e7u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

}  // namespace

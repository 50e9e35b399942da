// SPDX-License-Identifier: MIT
//
// test_perf_counters.cc - MagmaPerfCounters: performance counters through the whole magma API.
// Access through a token (the file the device issued grants it, any other fd is ACCESS_DENIED
// and the connection stays open; counter and pool calls without access close the connection with
// ACCESS_DENIED), enabling counters, pools and their pollable notification handles, buffer
// ranges, dumps tagged with trigger ids and their completions, the values the simulated GPU's
// real counters report for known work (COPY, FILL, a compute kernel), clearing, removing buffers,
// releasing pools, dumps without a free range (DISCONTINUITY) and misuse.
//
// Counter ids are the GPU's (docs/sim-gpu.md §12). magma_sim_defs.h does not export them, so they
// are spelled out below.
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "magma_test.h"

namespace {

// Counter ids of the simulated GPU (docs/sim-gpu.md §12, SIM_PERF_* of the hardware).
constexpr uint64_t kPerfCycles = 0;           // GPU cycles while enabled
constexpr uint64_t kPerfBusyCp = 1;           // cycles some queue executed
constexpr uint64_t kPerfBusyCopy = 2;         // cycles in COPY/FILL
constexpr uint64_t kPerfBusyCompute = 3;      // cycles in DISPATCH
constexpr uint64_t kPerfJobs = 4;             // jobs completed
constexpr uint64_t kPerfBytes = 5;            // bytes written by COPY and FILL
constexpr uint64_t kPerfTlbMisses = 6;        // page walks
constexpr uint64_t kPerfAluInstructions = 7;  // lane-instructions (exact)
constexpr uint64_t kPerfMemWaitCycles = 8;    // cycles polling WAITs
constexpr uint64_t kPerfCounterCount = 9;

constexpr uint64_t kCopySize = 1 << 20;
constexpr uint64_t kFillSize = 64 << 10;
// Bytes one dump of every counter writes.
constexpr uint64_t kAllCountersBytes = kPerfCounterCount * sizeof(uint64_t);

struct Completion {
  uint32_t trigger_id = 0;
  uint64_t buffer_id = 0;
  uint32_t buffer_offset = 0;
  uint64_t time = 0;
  uint32_t result_flags = 0;
};

class MagmaPerfCounters : public MagmaConnectionTest {
 protected:
  // Grants this connection counter access with a fresh fd to the device's access token.
  void GrantAccess() {
    int token = OpenPerfCounterToken();
    ASSERT_GE(token, 0) << "cannot open the access token: " << token;
    ASSERT_EQ(magma_connection_enable_performance_counter_access(
                  connection(), static_cast<magma_handle_t>(token)),
              MAGMA_STATUS_OK);
  }

  void EnableAllCounters() {
    std::vector<uint64_t> ids;
    for (uint64_t i = 0; i < kPerfCounterCount; i++) ids.push_back(i);
    ASSERT_EQ(magma_connection_enable_performance_counters(connection(), ids.data(), ids.size()),
              MAGMA_STATUS_OK);
  }

  void ClearAllCounters() {
    std::vector<uint64_t> ids;
    for (uint64_t i = 0; i < kPerfCounterCount; i++) ids.push_back(i);
    ASSERT_EQ(magma_connection_clear_performance_counters(connection(), ids.data(), ids.size()),
              MAGMA_STATUS_OK);
  }

  // Creates a pool (released by the connection at the latest).
  void CreatePool(magma_perf_count_pool_t* pool, magma_handle_t* handle) {
    ASSERT_EQ(magma_connection_create_performance_counter_buffer_pool(connection(), pool, handle),
              MAGMA_STATUS_OK);
  }

  void AddRange(magma_perf_count_pool_t pool, const TestBuffer& buffer, uint64_t offset,
                uint64_t length) {
    magma_buffer_offset_t o = {buffer.id(), offset, length};
    ASSERT_EQ(
        magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), pool, &o, 1),
        MAGMA_STATUS_OK);
  }

  // Waits for @handle to turn readable and reads one completion of @pool.
  void ReadCompletion(magma_perf_count_pool_t pool, magma_handle_t handle, Completion* c) {
    ASSERT_EQ(WaitHandleReadable(handle), MAGMA_STATUS_OK)
        << "no completion; connection error " << magma_connection_get_error(connection());
    ASSERT_EQ(magma_connection_read_performance_counter_completion(
                  connection(), pool, &c->trigger_id, &c->buffer_id, &c->buffer_offset, &c->time,
                  &c->result_flags),
              MAGMA_STATUS_OK);
  }

  // True when a completion of @pool is pending (a flush first makes sure the service has seen
  // every earlier message).
  bool CompletionPending(magma_perf_count_pool_t pool, magma_handle_t handle) {
    EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
    if (WaitHandleReadable(handle, 50 * kMsToNs) != MAGMA_STATUS_OK) return false;
    Completion c;
    magma_status_t s = magma_connection_read_performance_counter_completion(
        connection(), pool, &c.trigger_id, &c.buffer_id, &c.buffer_offset, &c.time,
        &c.result_flags);
    return s == MAGMA_STATUS_OK;
  }

  // Dumps into @pool (whose next free range is @buffer at @offset) and returns every counter.
  void DumpAll(magma_perf_count_pool_t pool, magma_handle_t handle, TestBuffer& buffer,
               uint64_t offset, uint32_t trigger, std::vector<uint64_t>* values,
               Completion* c = nullptr) {
    Completion local;
    if (!c) c = &local;
    ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, trigger),
              MAGMA_STATUS_OK);
    ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, c));
    ASSERT_EQ(c->trigger_id, trigger);
    ASSERT_EQ(c->buffer_id, buffer.id());
    ASSERT_EQ(c->buffer_offset, offset);
    values->assign(kPerfCounterCount, 0);
    memcpy(values->data(), buffer.bytes() + offset, kAllCountersBytes);
  }

  // GPU time now (MAGMA_SIM_QUERY_TIMESTAMP's gpu_ns).
  void GpuNs(uint64_t* out) {
    magma_handle_t handle = 0;
    ASSERT_EQ(magma_device_query(device(), MAGMA_SIM_QUERY_TIMESTAMP, &handle, nullptr),
              MAGMA_STATUS_OK);
    int fd = static_cast<int>(handle);
    struct stat st = {};
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_GE(static_cast<uint64_t>(st.st_size), sizeof(magma_sim_timestamp));
    void* p = mmap(nullptr, sizeof(magma_sim_timestamp), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    ASSERT_NE(p, MAP_FAILED);
    magma_sim_timestamp t;
    memcpy(&t, p, sizeof(t));
    munmap(p, sizeof(t));
    *out = t.gpu_ns;
  }

  // Runs a 1 MiB COPY, a FILL of kFillSize and a compute kernel of exactly *@alu_out
  // lane-instructions as three jobs, and waits for them.
  void RunKnownWork(uint64_t* alu_out) {
    uint32_t ctx = CreateContext();
    ASSERT_NE(ctx, 0u);
    auto src = CreateMappedBuffer(kCopySize);
    auto dst = CreateMappedBuffer(kCopySize);
    auto fill = CreateMappedBuffer(kFillSize);
    ASSERT_TRUE(src && dst && fill);
    memset(src->cpu(), 0x5a, kCopySize);
    // 3 instructions, every lane active in each.
    auto code = AssembleKernel(
        "mov r4, 7\n"
        "add r5, r4, r4\n"
        "exit\n");
    ASSERT_EQ(code.size(), 3u);
    auto program = CreateMappedBuffer(kPageSize);
    ASSERT_TRUE(program);
    memcpy(program->cpu(), code.data(), code.size() * 8);
    uint64_t config = QueryValue(MAGMA_SIM_QUERY_CONFIG);
    uint32_t lanes = static_cast<uint32_t>(config >> 24) & 0xff;
    if (lanes == 0) lanes = 1;
    if (lanes > 4) lanes = 4;
    constexpr uint32_t kGroups = 8;
    *alu_out = 3ull * kGroups * lanes;

    std::vector<CommandStream> jobs(3);
    jobs[0].Copy(dst->gpu_va(), src->gpu_va(), kCopySize).End();
    jobs[1].Fill(fill->gpu_va(), kFillSize, 0xc0ffee00).End();
    jobs[2].Dispatch(program->gpu_va(), 3, 0, kGroups, 1, lanes).End();
    for (auto& job : jobs) {
      auto commands = CreateMappedBuffer(kPageSize);
      ASSERT_TRUE(commands);
      ASSERT_TRUE(job.WriteTo(*commands));
      TestSemaphore done(connection());
      ASSERT_TRUE(done.ok());
      ASSERT_EQ(Execute(connection(), ctx, *commands, job.size_bytes(),
                        {{src.get()}, {dst.get()}, {fill.get()}, {program.get()}}, {}, {done.id()}),
                MAGMA_STATUS_OK);
      ASSERT_EQ(WaitSemaphoreOrConnectionLoss(connection(), done.get()), MAGMA_STATUS_OK)
          << "connection error " << magma_connection_get_error(connection());
    }
    EXPECT_EQ(dst->bytes()[kCopySize - 1], 0x5a);
    EXPECT_EQ(fill->words()[kFillSize / 4 - 1], 0xc0ffee00u);
  }
};

// ---- Access ----

TEST_F(MagmaPerfCounters, NonSocketTokenIsAccessDenied) {
  int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(efd)),
            MAGMA_STATUS_ACCESS_DENIED);
  // The connection stays open.
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, InvalidTokenIsAccessDenied) {
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(-1)),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, DeniedTokenGrantsNothing) {
  int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  ASSERT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(efd)),
            MAGMA_STATUS_ACCESS_DENIED);
  uint64_t id = kPerfJobs;
  EXPECT_EQ(magma_connection_enable_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, SeqpacketSocketTokenIsAccessDenied) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(sv[0])),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// docs/devices.md: the token is the file the device issued; any other fd is denied. A stream
// socketpair is a connected socket, but not the token.
TEST_F(MagmaPerfCounters, StreamSocketpairTokenIsAccessDenied) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(sv[0])),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// An unconnected Unix stream socket is no device channel either.
TEST_F(MagmaPerfCounters, UnconnectedStreamSocketTokenIsAccessDenied) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(fd)),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// A device channel gives full access to the device, but it is not the counter token.
TEST_F(MagmaPerfCounters, DeviceChannelTokenIsAccessDenied) {
  int channel = OpenTestDeviceChannel();
  ASSERT_GE(channel, 0);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(
                connection(), static_cast<magma_handle_t>(channel)),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// Another memfd, even one with the token's name, is a different file.
TEST_F(MagmaPerfCounters, OtherMemfdTokenIsAccessDenied) {
  int fd = memfd_create("magma-perf-token", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(magma_connection_enable_performance_counter_access(connection(),
                                                               static_cast<magma_handle_t>(fd)),
            MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, IssuedTokenGrantsAccess) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, GrantingTwiceIsOk) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, EnableWithoutAccessClosesTheConnection) {
  uint64_t id = kPerfJobs;
  EXPECT_EQ(magma_connection_enable_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, ClearWithoutAccessClosesTheConnection) {
  uint64_t id = kPerfJobs;
  EXPECT_EQ(magma_connection_clear_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, CreatePoolWithoutAccessClosesTheConnection) {
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  EXPECT_EQ(magma_connection_create_performance_counter_buffer_pool(connection(), &pool, &handle),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(connection())),
            MAGMA_STATUS_CONNECTION_LOST);
}

// docs/devices.md: "Counter and pool calls before access was granted close the connection with
// MAGMA_STATUS_ACCESS_DENIED". Without access no pool can exist, so these name unknown pools.
TEST_F(MagmaPerfCounters, DumpWithoutAccessClosesTheConnection) {
  EXPECT_EQ(magma_connection_dump_performance_counters(connection(), 1, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, ReleasePoolWithoutAccessClosesTheConnection) {
  EXPECT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), 1),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, AddOffsetsWithoutAccessClosesTheConnection) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_buffer_offset_t o = {buffer.id(), 0, kAllCountersBytes};
  EXPECT_EQ(magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), 1, &o, 1),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

// ---- Pools and completions ----

TEST_F(MagmaPerfCounters, NewPoolHasNothingPending) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  EXPECT_EQ(WaitHandleReadable(handle, 0), MAGMA_STATUS_TIMED_OUT);
  Completion c;
  EXPECT_EQ(magma_connection_read_performance_counter_completion(connection(), pool, &c.trigger_id,
                                                                 &c.buffer_id, &c.buffer_offset,
                                                                 &c.time, &c.result_flags),
            MAGMA_STATUS_TIMED_OUT);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, PoolsHaveDistinctIdsAndHandles) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t a = 0, b = 0;
  magma_handle_t ha = 0, hb = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&a, &ha));
  ASSERT_NO_FATAL_FAILURE(CreatePool(&b, &hb));
  EXPECT_NE(a, b);
  EXPECT_NE(ha, hb);
  EXPECT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), a),
            MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), b),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, DumpDeliversACompletion) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  auto buffer = std::make_unique<TestBuffer>(connection(), kPageSize);
  ASSERT_TRUE(buffer->ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, *buffer, 256, kAllCountersBytes));
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 42), MAGMA_STATUS_OK);
  Completion c;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c));
  EXPECT_EQ(c.trigger_id, 42u);
  EXPECT_EQ(c.buffer_id, buffer->id());
  EXPECT_EQ(c.buffer_offset, 256u);
  // The first result after enabling is marked discontinuous.
  EXPECT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
  // Nothing more is pending; the handle is no longer readable.
  EXPECT_EQ(WaitHandleReadable(handle, 0), MAGMA_STATUS_TIMED_OUT);
  // A second dump into a range added back: continuous, and GPU time does not go back.
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, *buffer, 256, kAllCountersBytes));
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 43), MAGMA_STATUS_OK);
  Completion c2;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c2));
  EXPECT_EQ(c2.trigger_id, 43u);
  EXPECT_EQ(c2.result_flags, 0u);
  EXPECT_GE(c2.time, c.time);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, CompletionTimeIsGpuTimeOfTheDump) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));  // GPU time moves only while the GPU works
  uint64_t before = 0, after = 0;
  ASSERT_NO_FATAL_FAILURE(GpuNs(&before));
  std::vector<uint64_t> v;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 11, &v, &c));
  ASSERT_NO_FATAL_FAILURE(GpuNs(&after));
  EXPECT_GT(c.time, 0u);
  EXPECT_GE(c.time, before);
  EXPECT_LE(c.time, after);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, CountersMeasureTheWork) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 7, &v));
  EXPECT_GE(v[kPerfBytes], kCopySize + kFillSize);
  EXPECT_GE(v[kPerfJobs], 3u);
  EXPECT_EQ(v[kPerfAluInstructions], alu);
  EXPECT_GT(v[kPerfCycles], 0u);
  EXPECT_GT(v[kPerfBusyCp], 0u);
  EXPECT_GT(v[kPerfBusyCopy], 0u);
  EXPECT_GT(v[kPerfBusyCompute], 0u);
  // One queue ran at a time here, so busy time fits in elapsed time.
  EXPECT_LE(v[kPerfBusyCp], v[kPerfCycles]);
  EXPECT_LE(v[kPerfBusyCopy], v[kPerfBusyCp]);
  EXPECT_LE(v[kPerfBusyCompute], v[kPerfBusyCp]);
  EXPECT_GT(v[kPerfTlbMisses], 0u);
  // WAIT polling is part of the busy time.
  EXPECT_LE(v[kPerfMemWaitCycles], v[kPerfBusyCp]);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ClearZeroesTheCounters) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 512, kAllCountersBytes));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  std::vector<uint64_t> before, after;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 1, &before));
  ASSERT_GE(before[kPerfBytes], kCopySize);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 512, 2, &after, &c));
  // The first result after a clear is marked discontinuous.
  EXPECT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
  EXPECT_EQ(after[kPerfBytes], 0u);
  EXPECT_EQ(after[kPerfJobs], 0u);
  EXPECT_EQ(after[kPerfAluInstructions], 0u);
  EXPECT_EQ(after[kPerfBusyCopy], 0u);
  EXPECT_EQ(after[kPerfBusyCompute], 0u);
  EXPECT_LT(after[kPerfCycles], before[kPerfCycles]);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, EnablingAnEmptyListStopsCounting) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_EQ(magma_connection_enable_performance_counters(connection(), nullptr, 0),
            MAGMA_STATUS_OK);
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));  // not counted
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 1, &v));
  EXPECT_EQ(v[kPerfJobs], 0u);
  EXPECT_EQ(v[kPerfBytes], 0u);
  EXPECT_EQ(v[kPerfAluInstructions], 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, PoolsOfTwoConnectionsAreIndependent) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  int token = OpenPerfCounterToken();
  ASSERT_GE(token, 0);
  ASSERT_EQ(
      magma_connection_enable_performance_counter_access(other, static_cast<magma_handle_t>(token)),
      MAGMA_STATUS_OK);
  uint64_t id = kPerfJobs;
  ASSERT_EQ(magma_connection_enable_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_connection_enable_performance_counters(other, &id, 1), MAGMA_STATUS_OK);
  magma_perf_count_pool_t pool = 0, other_pool = 0;
  magma_handle_t handle = 0, other_handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  ASSERT_EQ(
      magma_connection_create_performance_counter_buffer_pool(other, &other_pool, &other_handle),
      MAGMA_STATUS_OK);
  TestBuffer buffer(connection(), kPageSize), other_buffer(other, kPageSize);
  ASSERT_TRUE(buffer.ok() && other_buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, 8));
  magma_buffer_offset_t o = {other_buffer.id(), 8, 8};
  ASSERT_EQ(
      magma_connection_add_performance_counter_buffer_offsets_to_pool(other, other_pool, &o, 1),
      MAGMA_STATUS_OK);
  // Only the other connection dumps: only its pool gets a completion.
  ASSERT_EQ(magma_connection_dump_performance_counters(other, other_pool, 77), MAGMA_STATUS_OK);
  ASSERT_EQ(WaitHandleReadable(other_handle), MAGMA_STATUS_OK);
  Completion c;
  ASSERT_EQ(magma_connection_read_performance_counter_completion(other, other_pool, &c.trigger_id,
                                                                 &c.buffer_id, &c.buffer_offset,
                                                                 &c.time, &c.result_flags),
            MAGMA_STATUS_OK);
  EXPECT_EQ(c.trigger_id, 77u);
  EXPECT_EQ(c.buffer_id, other_buffer.id());
  EXPECT_EQ(c.buffer_offset, 8u);
  EXPECT_FALSE(CompletionPending(pool, handle));
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, FaultedJobsAreNotCounted) {
  // docs/sim-gpu.md §12: JOBS counts jobs completed successfully. Another connection's job fills
  // a page and then faults; the counters (global to the GPU) see the bytes but no job.
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  uint64_t ids[] = {kPerfJobs, kPerfBytes};
  ASSERT_EQ(magma_connection_enable_performance_counters(connection(), ids, 2), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  magma_connection_t bad = CreateExtraConnection();
  ASSERT_NE(bad, 0u);
  uint32_t bad_context = 0;
  ASSERT_EQ(magma_connection_create_context2(bad, MAGMA_PRIORITY_MEDIUM, &bad_context),
            MAGMA_STATUS_OK);
  TestBuffer target(bad, kPageSize), commands(bad, kPageSize);
  ASSERT_TRUE(target.ok() && commands.ok());
  GpuVaAllocator va;
  ASSERT_EQ(target.MapGpu(va.Alloc(kPageSize)), MAGMA_STATUS_OK);
  ASSERT_EQ(commands.MapGpu(va.Alloc(kPageSize)), MAGMA_STATUS_OK);
  CommandStream cs;
  cs.Fill(target.gpu_va(), kPageSize, 0x11111111).Write32(va.Alloc(kPageSize), 1).End();
  ASSERT_TRUE(cs.WriteTo(commands));
  ASSERT_EQ(Execute(bad, bad_context, commands, cs.size_bytes(), {{&target}}), MAGMA_STATUS_OK);
  ASSERT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(bad)),
            MAGMA_STATUS_OK);
  uint64_t deadline = NowNs() + kDefaultTimeoutNs;
  while (magma_connection_get_error(bad) == MAGMA_STATUS_OK && NowNs() < deadline) {
    WaitHandleReadable(magma_connection_get_notification_channel_handle(bad), kMsToNs);
  }
  ASSERT_EQ(magma_connection_get_error(bad), MAGMA_STATUS_CONTEXT_KILLED);
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, 16));
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 1), MAGMA_STATUS_OK);
  Completion c;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c));
  uint64_t values[2];
  memcpy(values, buffer.bytes(), sizeof(values));
  EXPECT_EQ(values[0], 0u);         // JOBS
  EXPECT_EQ(values[1], kPageSize);  // BYTES of the FILL before the fault
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, OnlyEnabledCountersAreWrittenInIdOrder) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  uint64_t ids[] = {kPerfAluInstructions, kPerfJobs};  // any order; written ascending
  ASSERT_EQ(magma_connection_enable_performance_counters(connection(), ids, 2), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  memset(buffer.cpu(), 0xaa, kPageSize);
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 64, 128));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 9), MAGMA_STATUS_OK);
  Completion c;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c));
  uint64_t values[2];
  memcpy(values, buffer.bytes() + 64, sizeof(values));
  EXPECT_GE(values[0], 3u);   // JOBS (id 4) first
  EXPECT_EQ(values[1], alu);  // then ALU_INSTRUCTIONS (id 7)
  // Nothing else of the range or the buffer is touched.
  for (uint64_t i = 0; i < kPageSize; i++) {
    if (i >= 64 && i < 64 + sizeof(values)) continue;
    ASSERT_EQ(buffer.bytes()[i], 0xaa) << "byte " << i;
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RangesAreUsedOnceInTheOrderAdded) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer a(connection(), kPageSize), b(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  magma_buffer_offset_t offsets[] = {{b.id(), kPageSize, kAllCountersBytes},
                                     {a.id(), 128, kAllCountersBytes}};
  ASSERT_EQ(magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), pool,
                                                                            offsets, 2),
            MAGMA_STATUS_OK);
  for (uint32_t trigger = 1; trigger <= 2; trigger++) {
    ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, trigger),
              MAGMA_STATUS_OK);
  }
  Completion c1, c2;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c1));
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, handle, &c2));
  EXPECT_EQ(c1.trigger_id, 1u);
  EXPECT_EQ(c1.buffer_id, b.id());
  EXPECT_EQ(c1.buffer_offset, kPageSize);
  EXPECT_EQ(c2.trigger_id, 2u);
  EXPECT_EQ(c2.buffer_id, a.id());
  EXPECT_EQ(c2.buffer_offset, 128u);
  EXPECT_EQ(c2.result_flags, 0u);
  EXPECT_GE(c2.time, c1.time);
  // Both ranges are used up: a third dump has nowhere to go and delivers nothing.
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 3), MAGMA_STATUS_OK);
  EXPECT_FALSE(CompletionPending(pool, handle));
}

TEST_F(MagmaPerfCounters, DumpWithoutAFreeRangeMarksTheNextResultDiscontinuous) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  std::vector<uint64_t> v;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 1, &v, &c));
  ASSERT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);  // first after enable
  // Dropped: no free range.
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 2), MAGMA_STATUS_OK);
  EXPECT_FALSE(CompletionPending(pool, handle));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, buffer, 0, 3, &v, &c));
  EXPECT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RemovedBufferReceivesNoDump) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer removed(connection(), kPageSize), kept(connection(), kPageSize);
  ASSERT_TRUE(removed.ok() && kept.ok());
  memset(removed.cpu(), 0xaa, kPageSize);
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, removed, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, removed, 1024, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, kept, 0, kAllCountersBytes));
  ASSERT_EQ(magma_connection_remove_performance_counter_buffer_from_pool(connection(), pool,
                                                                         removed.get()),
            MAGMA_STATUS_OK);
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, handle, kept, 0, 5, &v));
  for (uint64_t i = 0; i < kPageSize; i++) ASSERT_EQ(removed.bytes()[i], 0xaa) << "byte " << i;
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RemovingABufferNotInThePoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_connection_remove_performance_counter_buffer_from_pool(connection(), pool,
                                                                         buffer.get()),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReleasedPoolDeliversNoCompletion) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 512, kAllCountersBytes));
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 1), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), pool),
            MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  Completion c;
  EXPECT_EQ(magma_connection_read_performance_counter_completion(connection(), pool, &c.trigger_id,
                                                                 &c.buffer_id, &c.buffer_offset,
                                                                 &c.time, &c.result_flags),
            MAGMA_STATUS_INVALID_ARGS);
  // A new pool does not inherit anything of the released one.
  magma_perf_count_pool_t pool2 = 0;
  magma_handle_t handle2 = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool2, &handle2));
  EXPECT_NE(pool2, pool);
  EXPECT_FALSE(CompletionPending(pool2, handle2));
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ReleaseWithRangesAndPendingCompletionsIsClean) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (uint64_t i = 0; i < 4; i++) {
    ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, i * 128, kAllCountersBytes));
  }
  ASSERT_EQ(magma_connection_dump_performance_counters(connection(), pool, 1), MAGMA_STATUS_OK);
  ASSERT_EQ(WaitHandleReadable(handle), MAGMA_STATUS_OK);
  // The connection (TearDown) releases the pool, its ranges and the pending completion.
}

// ---- Misuse ----

TEST_F(MagmaPerfCounters, UnknownCounterIdClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  uint64_t id = kPerfCounterCount;
  EXPECT_EQ(magma_connection_enable_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ClearingAnUnknownCounterIdClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  uint64_t id = 63;
  EXPECT_EQ(magma_connection_clear_performance_counters(connection(), &id, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, NullCounterListWithACountIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(magma_connection_enable_performance_counters(connection(), nullptr, 1),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, DumpToUnknownPoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(magma_connection_dump_performance_counters(connection(), 0x7777, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReleasingUnknownPoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), 0x7777),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, DumpToReleasedPoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  ASSERT_EQ(magma_connection_release_performance_counter_buffer_pool(connection(), pool),
            MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_dump_performance_counters(connection(), pool, 1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, OffsetOutsideTheBufferClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_buffer_offset_t o = {buffer.id(), kPageSize - 8, kAllCountersBytes};
  EXPECT_EQ(
      magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), pool, &o, 1),
      MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ZeroLengthRangeClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_buffer_offset_t o = {buffer.id(), 0, 0};
  EXPECT_EQ(
      magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), pool, &o, 1),
      MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, RangeOfUnknownBufferClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  magma_buffer_offset_t o = {0x123456789ull, 0, kAllCountersBytes};
  EXPECT_EQ(
      magma_connection_add_performance_counter_buffer_offsets_to_pool(connection(), pool, &o, 1),
      MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReadingCompletionOfUnknownPoolIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Completion c;
  EXPECT_EQ(magma_connection_read_performance_counter_completion(
                connection(), 0x7777, &c.trigger_id, &c.buffer_id, &c.buffer_offset, &c.time,
                &c.result_flags),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ReadingCompletionWithNullOutsIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  Completion c;
  EXPECT_EQ(
      magma_connection_read_performance_counter_completion(
          connection(), pool, nullptr, &c.buffer_id, &c.buffer_offset, &c.time, &c.result_flags),
      MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(
      magma_connection_read_performance_counter_completion(
          connection(), pool, &c.trigger_id, &c.buffer_id, &c.buffer_offset, &c.time, nullptr),
      MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, CreatePoolWithNullOutsIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  EXPECT_EQ(magma_connection_create_performance_counter_buffer_pool(connection(), nullptr, &handle),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_create_performance_counter_buffer_pool(connection(), &pool, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ConnectionErrorHangsUpThePoolHandle) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_perf_count_pool_t pool = 0;
  magma_handle_t handle = 0;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool, &handle));
  EXPECT_EQ(magma_connection_dump_performance_counters(connection(), 0x7777, 1), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(WaitHandleReadable(handle), MAGMA_STATUS_CONNECTION_LOST);
  // Every later call reports the connection's error.
  Completion c;
  EXPECT_EQ(magma_connection_read_performance_counter_completion(connection(), pool, &c.trigger_id,
                                                                 &c.buffer_id, &c.buffer_offset,
                                                                 &c.time, &c.result_flags),
            MAGMA_STATUS_INVALID_ARGS);
}

}  // namespace

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
#include <initializer_list>
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

// Every counter id of the GPU, ascending.
std::vector<uint64_t> AllCounterIds() {
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < kPerfCounterCount; i++) ids.push_back(i);
  return ids;
}

// magma_connection_enable_performance_counter_access with @fd as the token.
magma_status_t EnableAccessWith(magma_connection_t connection, int fd) {
  return magma_connection_enable_performance_counter_access(connection,
                                                            static_cast<magma_handle_t>(fd));
}

// magma_connection_enable_performance_counters for @ids (an empty list passes nullptr).
magma_status_t EnableCounters(magma_connection_t connection, std::vector<uint64_t> ids) {
  return magma_connection_enable_performance_counters(
      connection, ids.empty() ? nullptr : ids.data(), ids.size());
}

// magma_connection_clear_performance_counters for @ids.
magma_status_t ClearCounters(magma_connection_t connection, std::vector<uint64_t> ids) {
  return magma_connection_clear_performance_counters(connection, ids.data(), ids.size());
}

// A counter buffer pool of one connection (released with the connection at the latest), or just
// a pool id that connection names. The methods return the magma call's status.
struct Pool {
  magma_connection_t connection = 0;
  magma_perf_count_pool_t id = 0;
  magma_handle_t handle = 0;  // the pollable notification handle (0 for a named id)

  magma_status_t AddOffsets(const std::vector<magma_buffer_offset_t>& offsets) const {
    return magma_connection_add_performance_counter_buffer_offsets_to_pool(
        connection, id, offsets.data(), offsets.size());
  }
  magma_status_t RemoveBuffer(const TestBuffer& buffer) const {
    return magma_connection_remove_performance_counter_buffer_from_pool(connection, id,
                                                                        buffer.get());
  }
  magma_status_t Dump(uint32_t trigger) const {
    return magma_connection_dump_performance_counters(connection, id, trigger);
  }
  magma_status_t Release() const {
    return magma_connection_release_performance_counter_buffer_pool(connection, id);
  }
  // Reads one completion without waiting (MAGMA_STATUS_TIMED_OUT when none is pending).
  magma_status_t TryReadCompletion(Completion* c) const {
    return magma_connection_read_performance_counter_completion(connection, id, &c->trigger_id,
                                                                &c->buffer_id, &c->buffer_offset,
                                                                &c->time, &c->result_flags);
  }
};

class MagmaPerfCounters : public MagmaConnectionTest {
 protected:
  // Grants @connection counter access with a fresh fd to the device's access token.
  void GrantAccess(magma_connection_t connection) {
    int token = OpenPerfCounterToken();
    ASSERT_GE(token, 0) << "cannot open the access token: " << token;
    ASSERT_EQ(EnableAccessWith(connection, token), MAGMA_STATUS_OK);
  }
  void GrantAccess() { GrantAccess(connection()); }

  void EnableAllCounters() {
    ASSERT_EQ(EnableCounters(connection(), AllCounterIds()), MAGMA_STATUS_OK);
  }

  void ClearAllCounters() {
    ASSERT_EQ(ClearCounters(connection(), AllCounterIds()), MAGMA_STATUS_OK);
  }

  // The usual start of a test that dumps: access, then every counter enabled.
  void GrantAccessAndEnableAllCounters() {
    ASSERT_NO_FATAL_FAILURE(GrantAccess());
    ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  }

  // @fd is refused as the access token, and the connection stays open.
  void ExpectTokenDenied(int fd) {
    EXPECT_EQ(EnableAccessWith(connection(), fd), MAGMA_STATUS_ACCESS_DENIED);
    EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  }

  // A pool id of this connection that no pool (of this test) has.
  Pool UnknownPool(magma_perf_count_pool_t id) { return Pool{connection(), id, 0}; }

  // Creates a pool of @connection (released by the connection at the latest).
  void CreatePool(Pool* pool, magma_connection_t connection) {
    pool->connection = connection;
    ASSERT_EQ(magma_connection_create_performance_counter_buffer_pool(connection, &pool->id,
                                                                      &pool->handle),
              MAGMA_STATUS_OK);
  }
  void CreatePool(Pool* pool) { CreatePool(pool, connection()); }

  void AddRange(const Pool& pool, const TestBuffer& buffer, uint64_t offset, uint64_t length) {
    ASSERT_EQ(pool.AddOffsets({{buffer.id(), offset, length}}), MAGMA_STATUS_OK);
  }

  // Creates @pool and a page-sized *@buffer of this connection, and adds a range for one dump of
  // every counter at each of @offsets of that buffer, in order.
  void CreatePoolWithRanges(Pool* pool, std::unique_ptr<TestBuffer>* buffer,
                            std::initializer_list<uint64_t> offsets) {
    ASSERT_NO_FATAL_FAILURE(CreatePool(pool));
    *buffer = std::make_unique<TestBuffer>(connection(), kPageSize);
    ASSERT_TRUE((*buffer)->ok());
    for (uint64_t offset : offsets) {
      ASSERT_NO_FATAL_FAILURE(AddRange(*pool, **buffer, offset, kAllCountersBytes));
    }
  }

  // Waits for @pool's handle to turn readable and reads one completion of @pool.
  void ReadCompletion(const Pool& pool, Completion* c) {
    ASSERT_EQ(WaitHandleReadable(pool.handle), MAGMA_STATUS_OK)
        << "no completion; connection error " << magma_connection_get_error(pool.connection);
    ASSERT_EQ(pool.TryReadCompletion(c), MAGMA_STATUS_OK);
  }

  // Dumps into @pool with @trigger and reads the completion.
  void DumpAndReadCompletion(const Pool& pool, uint32_t trigger, Completion* c) {
    ASSERT_EQ(pool.Dump(trigger), MAGMA_STATUS_OK);
    ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, c));
  }

  // True when a completion of @pool is pending (a flush first makes sure the service has seen
  // every earlier message).
  bool CompletionPending(const Pool& pool) {
    EXPECT_EQ(magma_connection_flush(pool.connection), MAGMA_STATUS_OK);
    if (WaitHandleReadable(pool.handle, 50 * kMsToNs) != MAGMA_STATUS_OK) return false;
    Completion c;
    return pool.TryReadCompletion(&c) == MAGMA_STATUS_OK;
  }

  // Dumps into @pool (whose next free range is @buffer at @offset) and returns every counter.
  void DumpAll(const Pool& pool, TestBuffer& buffer, uint64_t offset, uint32_t trigger,
               std::vector<uint64_t>* values, Completion* c = nullptr) {
    Completion local;
    if (!c) c = &local;
    ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(pool, trigger, c));
    ASSERT_EQ(c->trigger_id, trigger);
    ASSERT_EQ(c->buffer_id, buffer.id());
    ASSERT_EQ(c->buffer_offset, offset);
    values->assign(kPerfCounterCount, 0);
    memcpy(values->data(), buffer.bytes() + offset, kAllCountersBytes);
  }

  // Every byte of @buffer's first page outside [@skip_begin, @skip_end) is still @fill.
  void CheckUntouched(TestBuffer& buffer, uint8_t fill, uint64_t skip_begin = 0,
                      uint64_t skip_end = 0) {
    for (uint64_t i = 0; i < kPageSize; i++) {
      if (i >= skip_begin && i < skip_end) continue;
      ASSERT_EQ(buffer.bytes()[i], fill) << "byte " << i;
    }
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

  // On a new connection, runs a job that FILLs a page and then faults, and waits until that
  // connection reports its context killed.
  void RunFaultingJobOnAnotherConnection() {
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
  }
};

// ---- Access ----

TEST_F(MagmaPerfCounters, NonSocketTokenIsAccessDenied) {
  int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  ExpectTokenDenied(efd);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_OK);
}

// A handle that is not an fd holds no token: INTERNAL_ERROR (as Magma); the connection stays.
TEST_F(MagmaPerfCounters, InvalidTokenIsInternalError) {
  EXPECT_EQ(EnableAccessWith(connection(), -1), MAGMA_STATUS_INTERNAL_ERROR);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// As Magma, which answers whether access is allowed: once granted, any later call is OK.
TEST_F(MagmaPerfCounters, AccessOnceGrantedStays) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(EnableAccessWith(connection(), efd), MAGMA_STATUS_OK);
  EXPECT_EQ(EnableCounters(connection(), {kPerfJobs}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, DeniedTokenGrantsNothing) {
  int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  ASSERT_EQ(EnableAccessWith(connection(), efd), MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(EnableCounters(connection(), {kPerfJobs}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, SeqpacketSocketTokenIsAccessDenied) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  ExpectTokenDenied(sv[0]);
}

// docs/devices.md: the token is the file the device issued; any other fd is denied. A stream
// socketpair is a connected socket, but not the token.
TEST_F(MagmaPerfCounters, StreamSocketpairTokenIsAccessDenied) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  ExpectTokenDenied(sv[0]);
}

// An unconnected Unix stream socket is no device channel either.
TEST_F(MagmaPerfCounters, UnconnectedStreamSocketTokenIsAccessDenied) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ExpectTokenDenied(fd);
}

// A device channel gives full access to the device, but it is not the counter token.
TEST_F(MagmaPerfCounters, DeviceChannelTokenIsAccessDenied) {
  int channel = OpenTestDeviceChannel();
  ASSERT_GE(channel, 0);
  ExpectTokenDenied(channel);
}

// Another memfd, even one with the token's name, is a different file.
TEST_F(MagmaPerfCounters, OtherMemfdTokenIsAccessDenied) {
  int fd = memfd_create("magma-perf-token", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ExpectTokenDenied(fd);
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
  EXPECT_EQ(EnableCounters(connection(), {kPerfJobs}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, ClearWithoutAccessClosesTheConnection) {
  EXPECT_EQ(ClearCounters(connection(), {kPerfJobs}), MAGMA_STATUS_OK);
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
  EXPECT_EQ(UnknownPool(1).Dump(1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, ReleasePoolWithoutAccessClosesTheConnection) {
  EXPECT_EQ(UnknownPool(1).Release(), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

TEST_F(MagmaPerfCounters, AddOffsetsWithoutAccessClosesTheConnection) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(UnknownPool(1).AddOffsets({{buffer.id(), 0, kAllCountersBytes}}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_ACCESS_DENIED);
}

// ---- Pools and completions ----

TEST_F(MagmaPerfCounters, NewPoolHasNothingPending) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  EXPECT_EQ(WaitHandleReadable(pool.handle, 0), MAGMA_STATUS_TIMED_OUT);
  Completion c;
  EXPECT_EQ(pool.TryReadCompletion(&c), MAGMA_STATUS_TIMED_OUT);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, PoolsHaveDistinctIdsAndHandles) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool a, b;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&a));
  ASSERT_NO_FATAL_FAILURE(CreatePool(&b));
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.handle, b.handle);
  EXPECT_EQ(a.Release(), MAGMA_STATUS_OK);
  EXPECT_EQ(b.Release(), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, DumpDeliversACompletion) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {256}));
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(pool, 42, &c));
  EXPECT_EQ(c.trigger_id, 42u);
  EXPECT_EQ(c.buffer_id, buffer->id());
  EXPECT_EQ(c.buffer_offset, 256u);
  // The first result after enabling is marked discontinuous.
  EXPECT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
  // Nothing more is pending; the handle is no longer readable.
  EXPECT_EQ(WaitHandleReadable(pool.handle, 0), MAGMA_STATUS_TIMED_OUT);
  // A second dump into a range added back: continuous, and GPU time does not go back.
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, *buffer, 256, kAllCountersBytes));
  Completion c2;
  ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(pool, 43, &c2));
  EXPECT_EQ(c2.trigger_id, 43u);
  EXPECT_EQ(c2.result_flags, 0u);
  EXPECT_GE(c2.time, c.time);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, CompletionTimeIsGpuTimeOfTheDump) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0}));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));  // GPU time moves only while the GPU works
  uint64_t before = 0, after = 0;
  ASSERT_NO_FATAL_FAILURE(GpuNs(&before));
  std::vector<uint64_t> v;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 11, &v, &c));
  ASSERT_NO_FATAL_FAILURE(GpuNs(&after));
  EXPECT_GT(c.time, 0u);
  EXPECT_GE(c.time, before);
  EXPECT_LE(c.time, after);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, CountersMeasureTheWork) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0}));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 7, &v));
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
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0, 512}));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  std::vector<uint64_t> before, after;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 1, &before));
  ASSERT_GE(before[kPerfBytes], kCopySize);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 512, 2, &after, &c));
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
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_EQ(EnableCounters(connection(), {}), MAGMA_STATUS_OK);
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));  // not counted
  ASSERT_NO_FATAL_FAILURE(EnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0}));
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 1, &v));
  EXPECT_EQ(v[kPerfJobs], 0u);
  EXPECT_EQ(v[kPerfBytes], 0u);
  EXPECT_EQ(v[kPerfAluInstructions], 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, PoolsOfTwoConnectionsAreIndependent) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  ASSERT_NO_FATAL_FAILURE(GrantAccess(other));
  ASSERT_EQ(EnableCounters(connection(), {kPerfJobs}), MAGMA_STATUS_OK);
  ASSERT_EQ(EnableCounters(other, {kPerfJobs}), MAGMA_STATUS_OK);
  Pool pool, other_pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  ASSERT_NO_FATAL_FAILURE(CreatePool(&other_pool, other));
  TestBuffer buffer(connection(), kPageSize), other_buffer(other, kPageSize);
  ASSERT_TRUE(buffer.ok() && other_buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, 8));
  ASSERT_NO_FATAL_FAILURE(AddRange(other_pool, other_buffer, 8, 8));
  // Only the other connection dumps: only its pool gets a completion.
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(other_pool, 77, &c));
  EXPECT_EQ(c.trigger_id, 77u);
  EXPECT_EQ(c.buffer_id, other_buffer.id());
  EXPECT_EQ(c.buffer_offset, 8u);
  EXPECT_FALSE(CompletionPending(pool));
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, FaultedJobsAreNotCounted) {
  // docs/sim-gpu.md §12: JOBS counts jobs completed successfully. Another connection's job fills
  // a page and then faults; the counters (global to the GPU) see the bytes but no job.
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  ASSERT_EQ(EnableCounters(connection(), {kPerfJobs, kPerfBytes}), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(RunFaultingJobOnAnotherConnection());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 0, 16));
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(pool, 1, &c));
  uint64_t values[2];
  memcpy(values, buffer.bytes(), sizeof(values));
  EXPECT_EQ(values[0], 0u);         // JOBS
  EXPECT_EQ(values[1], kPageSize);  // BYTES of the FILL before the fault
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, OnlyEnabledCountersAreWrittenInIdOrder) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  // Any order; written ascending.
  ASSERT_EQ(EnableCounters(connection(), {kPerfAluInstructions, kPerfJobs}), MAGMA_STATUS_OK);
  ASSERT_NO_FATAL_FAILURE(ClearAllCounters());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  memset(buffer.cpu(), 0xaa, kPageSize);
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, buffer, 64, 128));
  uint64_t alu = 0;
  ASSERT_NO_FATAL_FAILURE(RunKnownWork(&alu));
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAndReadCompletion(pool, 9, &c));
  uint64_t values[2];
  memcpy(values, buffer.bytes() + 64, sizeof(values));
  EXPECT_GE(values[0], 3u);   // JOBS (id 4) first
  EXPECT_EQ(values[1], alu);  // then ALU_INSTRUCTIONS (id 7)
  // Nothing else of the range or the buffer is touched.
  ASSERT_NO_FATAL_FAILURE(CheckUntouched(buffer, 0xaa, 64, 64 + sizeof(values)));
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RangesAreUsedOnceInTheOrderAdded) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  TestBuffer a(connection(), kPageSize), b(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(
      pool.AddOffsets({{b.id(), kPageSize, kAllCountersBytes}, {a.id(), 128, kAllCountersBytes}}),
      MAGMA_STATUS_OK);
  for (uint32_t trigger = 1; trigger <= 2; trigger++) {
    ASSERT_EQ(pool.Dump(trigger), MAGMA_STATUS_OK);
  }
  Completion c1, c2;
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, &c1));
  ASSERT_NO_FATAL_FAILURE(ReadCompletion(pool, &c2));
  EXPECT_EQ(c1.trigger_id, 1u);
  EXPECT_EQ(c1.buffer_id, b.id());
  EXPECT_EQ(c1.buffer_offset, kPageSize);
  EXPECT_EQ(c2.trigger_id, 2u);
  EXPECT_EQ(c2.buffer_id, a.id());
  EXPECT_EQ(c2.buffer_offset, 128u);
  EXPECT_EQ(c2.result_flags, 0u);
  EXPECT_GE(c2.time, c1.time);
  // Both ranges are used up: a third dump has nowhere to go and delivers nothing.
  ASSERT_EQ(pool.Dump(3), MAGMA_STATUS_OK);
  EXPECT_FALSE(CompletionPending(pool));
}

TEST_F(MagmaPerfCounters, DumpWithoutAFreeRangeMarksTheNextResultDiscontinuous) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0}));
  std::vector<uint64_t> v;
  Completion c;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 1, &v, &c));
  ASSERT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);  // first after enable
  // Dropped: no free range.
  ASSERT_EQ(pool.Dump(2), MAGMA_STATUS_OK);
  EXPECT_FALSE(CompletionPending(pool));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, *buffer, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, *buffer, 0, 3, &v, &c));
  EXPECT_EQ(c.result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RemovedBufferReceivesNoDump) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  TestBuffer removed(connection(), kPageSize), kept(connection(), kPageSize);
  ASSERT_TRUE(removed.ok() && kept.ok());
  memset(removed.cpu(), 0xaa, kPageSize);
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, removed, 0, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, removed, 1024, kAllCountersBytes));
  ASSERT_NO_FATAL_FAILURE(AddRange(pool, kept, 0, kAllCountersBytes));
  ASSERT_EQ(pool.RemoveBuffer(removed), MAGMA_STATUS_OK);
  std::vector<uint64_t> v;
  ASSERT_NO_FATAL_FAILURE(DumpAll(pool, kept, 0, 5, &v));
  ASSERT_NO_FATAL_FAILURE(CheckUntouched(removed, 0xaa));
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, RemovingABufferNotInThePoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {}));
  EXPECT_EQ(pool.RemoveBuffer(*buffer), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReleasedPoolDeliversNoCompletion) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0, 512}));
  ASSERT_EQ(pool.Dump(1), MAGMA_STATUS_OK);
  ASSERT_EQ(pool.Release(), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  Completion c;
  EXPECT_EQ(pool.TryReadCompletion(&c), MAGMA_STATUS_INVALID_ARGS);
  // A new pool does not inherit anything of the released one.
  Pool pool2;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool2));
  EXPECT_NE(pool2.id, pool.id);
  EXPECT_FALSE(CompletionPending(pool2));
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ReleaseWithRangesAndPendingCompletionsIsClean) {
  ASSERT_NO_FATAL_FAILURE(GrantAccessAndEnableAllCounters());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {0, 128, 256, 384}));
  ASSERT_EQ(pool.Dump(1), MAGMA_STATUS_OK);
  ASSERT_EQ(WaitHandleReadable(pool.handle), MAGMA_STATUS_OK);
  // The connection (TearDown) releases the pool, its ranges and the pending completion.
}

// ---- Misuse ----

TEST_F(MagmaPerfCounters, UnknownCounterIdClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(EnableCounters(connection(), {kPerfCounterCount}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ClearingAnUnknownCounterIdClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(ClearCounters(connection(), {63}), MAGMA_STATUS_OK);
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
  EXPECT_EQ(UnknownPool(0x7777).Dump(1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReleasingUnknownPoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  EXPECT_EQ(UnknownPool(0x7777).Release(), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, DumpToReleasedPoolClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  ASSERT_EQ(pool.Release(), MAGMA_STATUS_OK);
  EXPECT_EQ(pool.Dump(1), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, OffsetOutsideTheBufferClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {}));
  EXPECT_EQ(pool.AddOffsets({{buffer->id(), kPageSize - 8, kAllCountersBytes}}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ZeroLengthRangeClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  std::unique_ptr<TestBuffer> buffer;
  ASSERT_NO_FATAL_FAILURE(CreatePoolWithRanges(&pool, &buffer, {}));
  EXPECT_EQ(pool.AddOffsets({{buffer->id(), 0, 0}}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, RangeOfUnknownBufferClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  EXPECT_EQ(pool.AddOffsets({{0x123456789ull, 0, kAllCountersBytes}}), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPerfCounters, ReadingCompletionOfUnknownPoolIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Completion c;
  EXPECT_EQ(UnknownPool(0x7777).TryReadCompletion(&c), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPerfCounters, ReadingCompletionWithNullOutsIsInvalidArgs) {
  ASSERT_NO_FATAL_FAILURE(GrantAccess());
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  Completion c;
  EXPECT_EQ(
      magma_connection_read_performance_counter_completion(
          connection(), pool.id, nullptr, &c.buffer_id, &c.buffer_offset, &c.time, &c.result_flags),
      MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(
      magma_connection_read_performance_counter_completion(
          connection(), pool.id, &c.trigger_id, &c.buffer_id, &c.buffer_offset, &c.time, nullptr),
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
  Pool pool;
  ASSERT_NO_FATAL_FAILURE(CreatePool(&pool));
  EXPECT_EQ(UnknownPool(0x7777).Dump(1), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(WaitHandleReadable(pool.handle), MAGMA_STATUS_CONNECTION_LOST);
  // Reading a completion of a closed connection is CONNECTION_LOST; get_error keeps the reason.
  Completion c;
  EXPECT_EQ(pool.TryReadCompletion(&c), MAGMA_STATUS_CONNECTION_LOST);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

}  // namespace

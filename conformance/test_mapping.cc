// SPDX-License-Identifier: MIT
//
// test_mapping.cc - GPU mappings (suite MagmaMapping): map/unmap, flags, partial ranges, the
// GPU seeing exactly the mapped pages, overlap and out-of-range mappings, one buffer imported
// many times and mapped at distinct addresses, and how a remote mapping error is reported:
// through flush, through get_error, and as a hang-up of the notification channel.
#include <unistd.h>

#include <cstring>
#include <vector>

#include "magma_test.h"

class MagmaMapping : public MagmaConnectionTest {
 protected:
  // Runs @s on a fresh context and waits for it; false (with a failure) if it does not finish.
  bool RunInline(const CommandStream& s) {
    if (!context_) context_ = CreateContext();
    TestSemaphore done(connection());
    if (ExecuteInline(connection(), context_, s, {done.id()}) != MAGMA_STATUS_OK) {
      ADD_FAILURE() << "execute_inline_commands failed";
      return false;
    }
    magma_status_t status = WaitSemaphoreOrConnectionLoss(connection(), done.get());
    EXPECT_EQ(status, MAGMA_STATUS_OK) << "command did not complete";
    return status == MAGMA_STATUS_OK;
  }

  // Expects the connection to be closed with a remote error (see ExpectClosedByRemoteError).
  void ExpectRemoteError(magma_status_t expected = MAGMA_STATUS_INVALID_ARGS) {
    ExpectClosedByRemoteError(connection(), expected);
  }

  // Feed-forward: a mapping the driver refuses is sent (the call returns OK) and then closes the
  // connection with INVALID_ARGS.
  void ExpectMapFails(magma_status_t map_status) {
    EXPECT_EQ(map_status, MAGMA_STATUS_OK) << "a mapping call only sends its message";
    ExpectRemoteError();
  }

  // On a new connection with a new buffer of @buffer_size, maps [@offset, @offset + @length) of
  // it at @hw_va with @flags and expects the feed-forward rejection of ExpectMapFails.
  void ExpectMapFailsOnNewConnection(uint64_t buffer_size, uint64_t hw_va, uint64_t offset,
                                     uint64_t length, uint64_t flags) {
    magma_connection_t connection = CreateExtraConnection();
    ASSERT_NE(connection, 0u);
    TestBuffer buffer(connection, buffer_size);
    ASSERT_TRUE(buffer.ok());
    EXPECT_EQ(magma_connection_map_buffer(connection, hw_va, buffer.get(), offset, length, flags),
              MAGMA_STATUS_OK);
    ExpectClosedByRemoteError(connection, MAGMA_STATUS_INVALID_ARGS);
  }

  // Polls flush until the connection reports an error (a GPU fault kills the context and closes
  // the connection with CONTEXT_KILLED) or the default timeout passes; returns the status.
  magma_status_t WaitForFlushError() {
    uint64_t deadline = NowNs() + kDefaultTimeoutNs;
    magma_status_t status = MAGMA_STATUS_OK;
    while (NowNs() < deadline && (status = Flush()) == MAGMA_STATUS_OK) usleep(2000);
    return status;
  }

  // Runs @s on a new context without waiting and expects the GPU fault it causes to kill the
  // context: flush reports CONTEXT_KILLED.
  void ExpectFaults(const CommandStream& s) {
    uint32_t context_id = CreateContext();
    ASSERT_EQ(ExecuteInline(connection(), context_id, s), MAGMA_STATUS_OK);
    EXPECT_EQ(WaitForFlushError(), MAGMA_STATUS_CONTEXT_KILLED);
  }

  // A program that stores 0x1234 at the VA passed as its args, the buffer it stores to and the
  // dispatch of one lane of it with that buffer as args.
  struct StoreProgram {
    std::unique_ptr<TestBuffer> program, out;
    CommandStream dispatch;
  };
  // Makes *@p with the program in a buffer of its own mapped with @map_flags.
  void MakeStoreProgram(uint64_t map_flags, StoreProgram* p) {
    std::vector<uint64_t> code = AssembleKernel(
        "mov r4, 0x1234\n"
        "st r0, r4, 0\n"
        "exit\n");
    ASSERT_FALSE(code.empty());
    p->out = CreateMappedBuffer(kPageSize, kMapReadWrite);
    p->program = std::make_unique<TestBuffer>(connection(), kPageSize);
    ASSERT_TRUE(p->out && p->program->ok());
    memcpy(p->program->bytes(), code.data(), code.size() * sizeof(uint64_t));
    ASSERT_EQ(p->program->MapGpu(AllocGpuVa(kPageSize), map_flags), MAGMA_STATUS_OK);
    p->dispatch
        .Dispatch(p->program->gpu_va(), static_cast<uint32_t>(code.size()), p->out->gpu_va(), 1, 1,
                  1)
        .End();
  }

  uint64_t Committed(const TestBuffer& buffer) {
    magma_buffer_info_t info = {};
    EXPECT_EQ(magma_buffer_get_info(buffer.get(), &info), MAGMA_STATUS_OK);
    return info.committed_byte_count;
  }

  uint32_t context_ = 0;
};

// ---- Map and unmap ----

TEST_F(MagmaMapping, MapAndUnmap) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(buffer.size());
  ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  buffer.UnmapGpu();
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, RemapAfterUnmap) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(buffer.size());
  for (int i = 0; i < 50; i++) {
    ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
    buffer.UnmapGpu();
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, EveryAccessFlagCombination) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  // READ, WRITE, EXECUTE in every combination (GROWABLE: GrowableMapping).
  for (uint64_t flags = 0; flags < 8; flags++) {
    const uint64_t va = AllocGpuVa(kPageSize);
    EXPECT_EQ(magma_connection_map_buffer(connection(), va, buffer.get(), 0, kPageSize, flags),
              MAGMA_STATUS_OK)
        << "flags " << flags;
    EXPECT_EQ(Flush(), MAGMA_STATUS_OK) << "flags " << flags;
    magma_connection_unmap_buffer(connection(), va, buffer.get());
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// Magma leaves flags to the system driver: unknown core bits are sent and refused remotely.
TEST_F(MagmaMapping, UnknownCoreFlagIsARemoteError) {
  for (uint64_t flag = MAGMA_MAP_FLAG_GROWABLE << 1; flag < (1ull << MAGMA_MAP_FLAG_VENDOR_SHIFT);
       flag <<= 1) {
    SCOPED_TRACE(flag);
    ExpectMapFailsOnNewConnection(kPageSize, AllocGpuVa(kPageSize), 0, kPageSize,
                                  kMapReadWrite | flag);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK) << "other connections are not affected";
}

TEST_F(MagmaMapping, SameBufferAtSeveralAddresses) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  std::vector<uint64_t> vas;
  for (int i = 0; i < 8; i++) {
    vas.push_back(AllocGpuVa(buffer.size()));
    ASSERT_EQ(magma_connection_map_buffer(connection(), vas.back(), buffer.get(), 0, buffer.size(),
                                          kMapReadWrite),
              MAGMA_STATUS_OK);
  }
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  CommandStream s;
  for (int i = 0; i < 8; i++) s.Write32(vas[i] + 4 * i, 0x600 + i);
  s.End();
  ASSERT_TRUE(RunInline(s));
  for (int i = 0; i < 8; i++) EXPECT_EQ(buffer.words()[i], 0x600u + i);
  for (uint64_t va : vas) magma_connection_unmap_buffer(connection(), va, buffer.get());
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, PartialRangeAtOffset) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(magma_connection_map_buffer(connection(), va, buffer.get(), 2 * kPageSize, kPageSize,
                                        kMapReadWrite),
            MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va + 8, 0xabcdef01).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(buffer.words()[2 * kPageSize / 4 + 2], 0xabcdef01u);
  EXPECT_EQ(buffer.words()[2], 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, GpuSeesCpuWrites) {
  auto src = CreateMappedBuffer(kPageSize);
  auto dst = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(src && dst);
  for (uint32_t i = 0; i < kPageSize / 4; i++) src->words()[i] = ~i;
  CommandStream s;
  s.Copy(dst->gpu_va(), src->gpu_va(), kPageSize).End();
  ASSERT_TRUE(RunInline(s));
  for (uint32_t i = 0; i < kPageSize / 4; i++) ASSERT_EQ(dst->words()[i], ~i) << i;
}

TEST_F(MagmaMapping, AccessOutsideTheMappingFaults) {
  // Only the mapped range is reachable: the page after it is not mapped.
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(2 * kPageSize);
  ASSERT_EQ(
      magma_connection_map_buffer(connection(), va, buffer.get(), 0, kPageSize, kMapReadWrite),
      MAGMA_STATUS_OK);
  uint32_t context_id = CreateContext();
  TestSemaphore done(connection());
  CommandStream s;
  s.Write32(va + kPageSize, 1).End();
  ASSERT_EQ(ExecuteInline(connection(), context_id, s, {done.id()}), MAGMA_STATUS_OK);
  // The write faults: the context is killed, the connection closes (CONTEXT_KILLED).
  magma_poll_item_t item =
      HandlePollItem(magma_connection_get_notification_channel_handle(connection()));
  uint64_t deadline = NowNs() + kDefaultTimeoutNs;
  magma_status_t status = MAGMA_STATUS_OK;
  while (NowNs() < deadline) {
    status = Flush();
    if (status != MAGMA_STATUS_OK) break;
    magma_poll(&item, 1, 10 * kMsToNs);
  }
  EXPECT_EQ(status, MAGMA_STATUS_CONTEXT_KILLED);
  EXPECT_EQ(buffer.words()[0], 0u);
}

TEST_F(MagmaMapping, UnmappedAddressIsNotReachable) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  buffer.UnmapGpu();
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va, 0x77).End();
  ASSERT_NO_FATAL_FAILURE(ExpectFaults(s));
  EXPECT_EQ(buffer.words()[0], 0u);
}

TEST_F(MagmaMapping, ReleasingTheBufferRemovesItsMappings) {
  const uint64_t va = AllocGpuVa(kPageSize);
  {
    TestBuffer first(connection(), kPageSize);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  }
  // The address is free again.
  TestBuffer second(connection(), kPageSize);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, GrowableMapping) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(buffer.size());
  ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite | MAGMA_MAP_FLAG_GROWABLE), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va + 3 * kPageSize, 0x99).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(buffer.words()[3 * kPageSize / 4], 0x99u);
}

TEST_F(MagmaMapping, LargeMapping) {
  constexpr uint64_t kSize = 64ull << 20;
  TestBuffer buffer(connection(), kSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(kSize);
  ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va + kSize - 4, 0x1234567).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(buffer.words()[kSize / 4 - 1], 0x1234567u);
  EXPECT_EQ(Committed(buffer), kPageSize) << "mapping alone must not commit the whole buffer";
}

// ---- Misuse the driver checks: the call is sent (OK), the flush reports INVALID_ARGS ----

// The example of Magma's feed-forward contract: a one-page buffer mapped at page offset 1024.
TEST_F(MagmaMapping, OffsetPastTheEndReturnsOkThenFlushFails) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), buffer.get(),
                                        1024 * kPageSize, kPageSize, kMapReadWrite),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaMapping, UnalignedAddressIsARemoteError) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize) + 16, buffer.get(),
                                             0, kPageSize, kMapReadWrite));
}

TEST_F(MagmaMapping, UnalignedOffsetIsARemoteError) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), buffer.get(), 100,
                                             kPageSize, kMapReadWrite));
}

TEST_F(MagmaMapping, UnalignedLengthIsARemoteError) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), buffer.get(), 0,
                                             kPageSize + 8, kMapReadWrite));
}

TEST_F(MagmaMapping, ZeroLengthIsARemoteError) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), buffer.get(), 0,
                                             0, kMapReadWrite));
}

TEST_F(MagmaMapping, RangeOutsideTheBufferIsARemoteError) {
  const struct {
    uint64_t offset, length;
  } bad[] = {{0, 3 * kPageSize},
             {kPageSize, 2 * kPageSize},
             {2 * kPageSize, kPageSize},
             {16 * kPageSize, kPageSize},
             {kPageSize, UINT64_MAX - kPageSize + 1}};
  for (const auto& b : bad) {
    SCOPED_TRACE(testing::Message() << "offset " << b.offset << " length " << b.length);
    ExpectMapFailsOnNewConnection(2 * kPageSize, AllocGpuVa(4 * kPageSize), b.offset, b.length,
                                  kMapReadWrite);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK) << "other connections are not affected";
}

// Magma sends the id of whatever buffer it is given; the connection does not know it.
TEST_F(MagmaMapping, AnotherConnectionsBufferIsARemoteError) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer theirs(other, kPageSize);
  ASSERT_TRUE(theirs.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), theirs.get(), 0,
                                             kPageSize, kMapReadWrite));
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK) << "the owner is not affected";
}

// Only what the library cannot send is refused locally, and that leaves the connection alone.
TEST_F(MagmaMapping, UnknownBufferHandleIsRejectedLocally) {
  EXPECT_EQ(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), 0xdead0, 0, kPageSize,
                                        kMapReadWrite),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, AddressWrapIsRejected) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), UINT64_MAX - kPageSize + 1, buffer.get(),
                                             0, 2 * kPageSize, kMapReadWrite));
}

// ---- Remote errors (the connection closes) ----

TEST_F(MagmaMapping, OverlapErrorsOnFlush) {
  TestBuffer a(connection(), 2 * kPageSize), b(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t va = AllocGpuVa(4 * kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  // Sent without waiting: the call itself succeeds.
  EXPECT_EQ(magma_connection_map_buffer(connection(), va + kPageSize, b.get(), 0, 2 * kPageSize,
                                        kMapReadWrite),
            MAGMA_STATUS_OK);
  ExpectRemoteError();
}

TEST_F(MagmaMapping, SameAddressTwiceErrorsOnFlush) {
  TestBuffer a(connection(), kPageSize);
  ASSERT_TRUE(a.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_map_buffer(connection(), va, a.get(), 0, kPageSize, kMapReadWrite),
            MAGMA_STATUS_OK);
  ExpectRemoteError();
}

TEST_F(MagmaMapping, OverlapFromBelowErrorsOnFlush) {
  TestBuffer a(connection(), 2 * kPageSize), b(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t va = AllocGpuVa(4 * kPageSize) + kPageSize;
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_map_buffer(connection(), va - kPageSize, b.get(), 0, 2 * kPageSize,
                                        kMapReadWrite),
            MAGMA_STATUS_OK);
  ExpectRemoteError();
}

TEST_F(MagmaMapping, AdjacentMappingsDoNotOverlap) {
  TestBuffer a(connection(), 2 * kPageSize), b(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t va = AllocGpuVa(4 * kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(b.MapGpu(va + 2 * kPageSize, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, AddressAtTheClientLimitIsRejected) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), MAGMA_SIM_GPU_VA_LIMIT, buffer.get(), 0,
                                             kPageSize, kMapReadWrite));
}

TEST_F(MagmaMapping, RangeCrossingTheClientLimitIsRejected) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(magma_connection_map_buffer(connection(), MAGMA_SIM_GPU_VA_LIMIT - kPageSize,
                                             buffer.get(), 0, 2 * kPageSize, kMapReadWrite));
}

TEST_F(MagmaMapping, AddressZeroIsRejected) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectMapFails(
      magma_connection_map_buffer(connection(), 0, buffer.get(), 0, kPageSize, kMapReadWrite));
}

TEST_F(MagmaMapping, HighestClientPageIsMappable) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = MAGMA_SIM_GPU_VA_LIMIT - kPageSize;
  ASSERT_EQ(buffer.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va + kPageSize - 4, 0xface).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(buffer.words()[kPageSize / 4 - 1], 0xfaceu);
}

TEST_F(MagmaMapping, LowestClientPageIsMappable) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(buffer.MapGpu(MAGMA_SIM_GPU_VA_MIN, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaMapping, UnmapUnknownAddressErrorsOnFlush) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_connection_unmap_buffer(connection(), AllocGpuVa(kPageSize), buffer.get());
  ExpectRemoteError();
}

TEST_F(MagmaMapping, UnmapWithTheWrongBufferErrorsOnFlush) {
  TestBuffer a(connection(), kPageSize), b(connection(), kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(connection(), va, b.get());
  ExpectRemoteError();
}

TEST_F(MagmaMapping, UnmapTwiceErrorsOnFlush) {
  TestBuffer a(connection(), kPageSize);
  ASSERT_TRUE(a.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(connection(), va, a.get());
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(connection(), va, a.get());
  ExpectRemoteError();
}

TEST_F(MagmaMapping, UnmapInsideAMappingErrorsOnFlush) {
  TestBuffer a(connection(), 2 * kPageSize);
  ASSERT_TRUE(a.ok());
  const uint64_t va = AllocGpuVa(2 * kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(connection(), va + kPageSize, a.get());
  ExpectRemoteError();
}

TEST_F(MagmaMapping, ErrorIsReportedByGetErrorWithoutFlush) {
  TestBuffer a(connection(), kPageSize);
  ASSERT_TRUE(a.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_connection_map_buffer(connection(), va, a.get(), 0, kPageSize, kMapReadWrite),
            MAGMA_STATUS_OK);
  // As Magma's, get_error asks the service while it knows of no error: no wait is needed.
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaMapping, CallsAfterTheErrorFail) {
  TestBuffer a(connection(), kPageSize);
  ASSERT_TRUE(a.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_connection_map_buffer(connection(), va, a.get(), 0, kPageSize, kMapReadWrite),
            MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  // As on Magma, whose channel is then closed (PEER_CLOSED): the send fails, the error stays.
  EXPECT_EQ(magma_connection_map_buffer(connection(), AllocGpuVa(kPageSize), a.get(), 0, kPageSize,
                                        kMapReadWrite),
            MAGMA_STATUS_CONNECTION_LOST);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaMapping, ErrorInOneConnectionLeavesOthersMapped) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer mine(connection(), kPageSize), theirs(other, kPageSize);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  ASSERT_EQ(mine.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(theirs.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(other, va + kPageSize, theirs.get());
  EXPECT_NE(magma_connection_flush(other), MAGMA_STATUS_OK);
  CommandStream s;
  s.Write32(va, 0x4321).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(mine.words()[0], 0x4321u);
}

// ---- Imports mapped at distinct addresses ----

TEST_F(MagmaMapping, ImportedManyTimesMappedAtDistinctAddresses) {
  constexpr int kImports = 64;
  TestBuffer original(connection(), kPageSize);
  ASSERT_TRUE(original.ok());
  std::vector<std::unique_ptr<TestBuffer>> imports;
  for (int i = 0; i < kImports; i++) {
    magma_handle_t handle = 0;
    ASSERT_EQ(magma_buffer_export(original.get(), &handle), MAGMA_STATUS_OK);
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    ASSERT_EQ(magma_connection_import_buffer(connection(), handle, &size, &buffer, &id),
              MAGMA_STATUS_OK);
    EXPECT_EQ(size, original.size());
    EXPECT_NE(id, original.id());
    imports.push_back(std::make_unique<TestBuffer>(connection(), buffer, id, size));
    ASSERT_EQ(imports.back()->MapGpu(AllocGpuVa(size), kMapReadWrite), MAGMA_STATUS_OK);
  }
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  // Each import writes its own word through its own address; all land in the same memory.
  CommandStream s;
  for (int i = 0; i < kImports; i++) s.Write32(imports[i]->gpu_va() + 4 * i, 0x7000 + i);
  s.End();
  ASSERT_TRUE(RunInline(s));
  for (int i = 0; i < kImports; i++) EXPECT_EQ(original.words()[i], 0x7000u + i) << i;
  // Releasing the imports leaves the original intact and its memory readable.
  imports.clear();
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(original.words()[kImports - 1], 0x7000u + kImports - 1);
}

// ---- Access rights of a mapping ----

TEST_F(MagmaMapping, ReadOnlyMappingCanBeRead) {
  auto src = CreateMappedBuffer(kPageSize, MAGMA_MAP_FLAG_READ);
  auto dst = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(src && dst);
  src->words()[0] = 0x600d;
  CommandStream s;
  s.Copy(dst->gpu_va(), src->gpu_va(), 4).End();
  ASSERT_TRUE(RunInline(s));
  EXPECT_EQ(dst->words()[0], 0x600du);
}

TEST_F(MagmaMapping, WriteThroughReadOnlyMappingFaults) {
  auto buffer = CreateMappedBuffer(kPageSize, MAGMA_MAP_FLAG_READ);
  ASSERT_TRUE(buffer);
  CommandStream s;
  s.Write32(buffer->gpu_va(), 0xbad).End();
  ASSERT_NO_FATAL_FAILURE(ExpectFaults(s));
  EXPECT_EQ(buffer->words()[0], 0u);
}

TEST_F(MagmaMapping, ReadThroughWriteOnlyMappingFaults) {
  auto src = CreateMappedBuffer(kPageSize, MAGMA_MAP_FLAG_WRITE);
  auto dst = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(src && dst);
  src->words()[0] = 0x5ec2e7;
  CommandStream s;
  s.Copy(dst->gpu_va(), src->gpu_va(), 4).End();
  ASSERT_NO_FATAL_FAILURE(ExpectFaults(s));
  EXPECT_EQ(dst->words()[0], 0u);
}

TEST_F(MagmaMapping, ProgramNeedsAnExecutableMapping) {
  StoreProgram p;
  ASSERT_NO_FATAL_FAILURE(MakeStoreProgram(kMapReadWrite, &p));
  ASSERT_NO_FATAL_FAILURE(ExpectFaults(p.dispatch));
  EXPECT_EQ(p.out->words()[0], 0u);
}

TEST_F(MagmaMapping, ProgramInExecutableMappingRuns) {
  StoreProgram p;
  ASSERT_NO_FATAL_FAILURE(MakeStoreProgram(MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE, &p));
  ASSERT_TRUE(RunInline(p.dispatch));
  EXPECT_EQ(p.out->words()[0], 0x1234u);
}

// SPDX-License-Identifier: MIT
//
// test_buffer.cc - buffers (suite MagmaBuffer): sizes and ids, info, COMMIT/DECOMMIT arithmetic
// and every misuse of magma_connection_perform_buffer_op, cache policies and cache operations,
// naming, CPU mappings at offsets, 10,000 buffers and 10,000 CPU mappings.
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "magma_test.h"

class MagmaBuffer : public MagmaConnectionTest {
 protected:
  uint64_t Committed(const TestBuffer& buffer) {
    magma_buffer_info_t info = {};
    EXPECT_EQ(magma_buffer_get_info(buffer.get(), &info), MAGMA_STATUS_OK);
    return info.committed_byte_count;
  }
  magma_status_t Op(const TestBuffer& buffer, uint32_t op, uint64_t start, uint64_t length) {
    return magma_connection_perform_buffer_op(connection(), buffer.get(), op, start, length);
  }
};

// ---- Sizes and ids ----

TEST_F(MagmaBuffer, SizeIsRoundedUpToPages) {
  const struct {
    uint64_t requested, expected;
  } cases[] = {{1, kPageSize},
               {kPageSize - 1, kPageSize},
               {kPageSize, kPageSize},
               {kPageSize + 1, 2 * kPageSize},
               {10 * kPageSize, 10 * kPageSize},
               {(1 << 20) + 3, (1 << 20) + kPageSize}};
  for (const auto& c : cases) {
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    ASSERT_EQ(magma_connection_create_buffer(connection(), c.requested, &size, &buffer, &id),
              MAGMA_STATUS_OK);
    EXPECT_EQ(size, c.expected) << "requested " << c.requested;
    magma_connection_release_buffer(connection(), buffer);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// Magma's buffer allocation refuses an empty buffer: MAGMA_STATUS_MEMORY_ERROR, locally.
TEST_F(MagmaBuffer, SizeZeroIsMemoryError) {
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  EXPECT_EQ(magma_connection_create_buffer(connection(), 0, &size, &buffer, &id),
            MAGMA_STATUS_MEMORY_ERROR);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK) << "a local error must not close the connection";
}

TEST_F(MagmaBuffer, ImpossibleSizeIsMemoryError) {
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  EXPECT_EQ(
      magma_connection_create_buffer(connection(), UINT64_MAX - kPageSize, &size, &buffer, &id),
      MAGMA_STATUS_MEMORY_ERROR);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, IdsAreDistinctAndValid) {
  std::vector<std::unique_ptr<TestBuffer>> buffers;
  std::set<magma_buffer_id_t> ids;
  std::set<magma_buffer_t> handles;
  for (int i = 0; i < 64; i++) {
    buffers.push_back(std::make_unique<TestBuffer>(connection(), kPageSize));
    ASSERT_TRUE(buffers.back()->ok());
    EXPECT_NE(buffers.back()->id(), MAGMA_INVALID_OBJECT_ID);
    ids.insert(buffers.back()->id());
    handles.insert(buffers.back()->get());
  }
  EXPECT_EQ(ids.size(), buffers.size());
  EXPECT_EQ(handles.size(), buffers.size());
}

TEST_F(MagmaBuffer, CreateRelease) {
  for (int i = 0; i < 100; i++) {
    TestBuffer buffer(connection(), (i + 1) * kPageSize);
    ASSERT_TRUE(buffer.ok());
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, NewBufferReadsZero) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  std::vector<uint8_t> zero(buffer.size(), 0);
  ASSERT_NE(buffer.bytes(), nullptr);
  EXPECT_EQ(memcmp(buffer.bytes(), zero.data(), zero.size()), 0);
}

// ---- Info ----

TEST_F(MagmaBuffer, InfoReportsSize) {
  TestBuffer buffer(connection(), 5 * kPageSize + 1);
  ASSERT_TRUE(buffer.ok());
  magma_buffer_info_t info = {};
  ASSERT_EQ(magma_buffer_get_info(buffer.get(), &info), MAGMA_STATUS_OK);
  EXPECT_EQ(info.size, 6 * kPageSize);
  EXPECT_EQ(info.size, buffer.size());
}

TEST_F(MagmaBuffer, NewBufferHasNothingCommitted) {
  TestBuffer buffer(connection(), 16 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(Committed(buffer), 0u);
}

TEST_F(MagmaBuffer, CpuWriteCommitsOnFirstUse) {
  TestBuffer buffer(connection(), 16 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_NE(buffer.bytes(), nullptr);
  buffer.bytes()[3 * kPageSize] = 1;
  buffer.bytes()[7 * kPageSize + 5] = 1;
  EXPECT_EQ(Committed(buffer), 2 * kPageSize);
}

// ---- COMMIT / DECOMMIT ----

TEST_F(MagmaBuffer, CommitCountsPages) {
  TestBuffer buffer(connection(), 8 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 2 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 2 * kPageSize);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 4 * kPageSize, 3 * kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 5 * kPageSize);
}

TEST_F(MagmaBuffer, CommitOverlappingRangesCountsOnce) {
  TestBuffer buffer(connection(), 8 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 3 * kPageSize), MAGMA_STATUS_OK);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 2 * kPageSize, 3 * kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 5 * kPageSize);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 5 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 5 * kPageSize);
}

TEST_F(MagmaBuffer, CommitWholeBuffer) {
  TestBuffer buffer(connection(), 8 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, buffer.size()), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), buffer.size());
}

TEST_F(MagmaBuffer, DecommitSubtractsPages) {
  TestBuffer buffer(connection(), 8 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 8 * kPageSize), MAGMA_STATUS_OK);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, kPageSize, 2 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 6 * kPageSize);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0, 8 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 0u);
}

TEST_F(MagmaBuffer, DecommitUncommittedIsOk) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0, 4 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 0u);
}

TEST_F(MagmaBuffer, DecommitDiscardsContents) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  uint32_t* words = buffer.words();
  ASSERT_NE(words, nullptr);
  for (uint64_t i = 0; i < buffer.size() / 4; i++) words[i] = 0xabcd0000 + i;
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, kPageSize, kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(words[0], 0xabcd0000u);
  EXPECT_EQ(words[kPageSize / 4], 0u) << "decommitted page reads back as zero";
  EXPECT_EQ(words[2 * kPageSize / 4 - 1], 0u);
  EXPECT_EQ(words[2 * kPageSize / 4], 0xabcd0000u + 2 * kPageSize / 4);
}

TEST_F(MagmaBuffer, RecommitAfterDecommit) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (int i = 0; i < 10; i++) {
    ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 4 * kPageSize), MAGMA_STATUS_OK);
    EXPECT_EQ(Committed(buffer), 4 * kPageSize);
    ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0, 4 * kPageSize), MAGMA_STATUS_OK);
    EXPECT_EQ(Committed(buffer), 0u);
  }
}

TEST_F(MagmaBuffer, CommitIsVisibleThroughImport) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &handle), MAGMA_STATUS_OK);
  uint64_t size = 0;
  magma_buffer_t imported = 0;
  magma_buffer_id_t id = 0;
  ASSERT_EQ(magma_connection_import_buffer(connection(), handle, &size, &imported, &id),
            MAGMA_STATUS_OK);
  TestBuffer other(connection(), imported, id, size);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 3 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(other), 3 * kPageSize) << "same memory, same committed pages";
}

// COMMIT and DECOMMIT work on the buffer itself and answer at once, as Magma's do on the VMO: a
// range that is not page aligned is INVALID_ARGS for both; past the end, COMMIT is MEMORY_ERROR
// (those pages cannot be committed) and DECOMMIT INVALID_ARGS. Nothing is committed and the
// connection keeps working.
TEST_F(MagmaBuffer, RangeOpMisuseIsRejectedLocally) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  const struct {
    uint64_t start, length;
    const char* what;
    magma_status_t commit, decommit;
  } bad[] = {
      {1, kPageSize, "unaligned start", MAGMA_STATUS_INVALID_ARGS, MAGMA_STATUS_INVALID_ARGS},
      {0, kPageSize + 1, "unaligned length", MAGMA_STATUS_INVALID_ARGS, MAGMA_STATUS_INVALID_ARGS},
      {kPageSize / 2, kPageSize / 2, "both unaligned", MAGMA_STATUS_INVALID_ARGS,
       MAGMA_STATUS_INVALID_ARGS},
      {8 * kPageSize + 1, 0, "unaligned start of an empty range", MAGMA_STATUS_INVALID_ARGS,
       MAGMA_STATUS_INVALID_ARGS},
      {0, 5 * kPageSize, "longer than the buffer", MAGMA_STATUS_MEMORY_ERROR,
       MAGMA_STATUS_INVALID_ARGS},
      {4 * kPageSize, kPageSize, "starts at the end", MAGMA_STATUS_MEMORY_ERROR,
       MAGMA_STATUS_INVALID_ARGS},
      {3 * kPageSize, 2 * kPageSize, "crosses the end", MAGMA_STATUS_MEMORY_ERROR,
       MAGMA_STATUS_INVALID_ARGS},
      {8 * kPageSize, kPageSize, "starts past the end", MAGMA_STATUS_MEMORY_ERROR,
       MAGMA_STATUS_INVALID_ARGS},
      {kPageSize, UINT64_MAX - kPageSize + 1, "wraps around", MAGMA_STATUS_MEMORY_ERROR,
       MAGMA_STATUS_INVALID_ARGS},
      {UINT64_MAX - kPageSize + 1, 2 * kPageSize, "start near the top wraps",
       MAGMA_STATUS_MEMORY_ERROR, MAGMA_STATUS_INVALID_ARGS},
  };
  for (const auto& b : bad) {
    EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, b.start, b.length), b.commit)
        << "commit: " << b.what;
    EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, b.start, b.length), b.decommit)
        << "decommit: " << b.what;
  }
  EXPECT_EQ(Committed(buffer), 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// An empty aligned range has nothing to do: OK, anywhere.
TEST_F(MagmaBuffer, EmptyRangeOpIsOk) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (uint64_t start : {uint64_t{0}, 2 * kPageSize, 64 * kPageSize}) {
    EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, start, 0), MAGMA_STATUS_OK) << start;
    EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, start, 0), MAGMA_STATUS_OK) << start;
  }
  EXPECT_EQ(Committed(buffer), 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// committed_byte_count follows COMMIT and DECOMMIT page by page.
TEST_F(MagmaBuffer, CommittedByteCountFollowsRangeOpsExactly) {
  TestBuffer buffer(connection(), 16 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(Committed(buffer), 0u);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 3 * kPageSize, kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), kPageSize);
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 2 * kPageSize, 4 * kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 4 * kPageSize) << "pages 2-5; page 3 counted once";
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 12 * kPageSize, 4 * kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 8 * kPageSize);
  EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_COMMIT, 14 * kPageSize, 4 * kPageSize),
            MAGMA_STATUS_MEMORY_ERROR);
  EXPECT_EQ(Committed(buffer), 8 * kPageSize) << "a refused commit commits nothing";
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 4 * kPageSize, kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 7 * kPageSize);
  EXPECT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 12 * kPageSize, 8 * kPageSize),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Committed(buffer), 7 * kPageSize) << "a refused decommit frees nothing";
  ASSERT_EQ(Op(buffer, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0, 16 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), 0u);
}

TEST_F(MagmaBuffer, UnknownRangeOpIsInvalidArgs) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (uint32_t op : {0u, 5u, 6u, 100u, UINT32_MAX})
    EXPECT_EQ(Op(buffer, op, 0, kPageSize), MAGMA_STATUS_INVALID_ARGS) << "op " << op;
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// COMMIT works on the buffer's memory, whichever connection the call names (as Magma's).
TEST_F(MagmaBuffer, CommitOfAnotherConnectionsBufferCommitsIt) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer buffer(other, kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_connection_perform_buffer_op(connection(), buffer.get(),
                                               MAGMA_BUFFER_RANGE_OP_COMMIT, 0, kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Committed(buffer), kPageSize);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

// POPULATE_TABLES names the buffer by id on the connection it is sent to: a remote error there.
TEST_F(MagmaBuffer, PopulateTablesOfAnotherConnectionsBufferIsARemoteError) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer buffer(other, kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_connection_perform_buffer_op(connection(), buffer.get(),
                                               MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, kPageSize),
            MAGMA_STATUS_OK);
  ExpectClosedByRemoteError(connection(), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, PopulateAndDepopulateTables) {
  auto buffer = CreateMappedBuffer(8 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 8 * kPageSize), MAGMA_STATUS_OK);
  EXPECT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES, 2 * kPageSize, 2 * kPageSize),
            MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, PopulateTablesCommitsPages) {
  auto buffer = CreateMappedBuffer(8 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  ASSERT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 4 * kPageSize), MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_GE(Committed(*buffer), 4 * kPageSize);
}

TEST_F(MagmaBuffer, DepopulateKeepsContents) {
  auto buffer = CreateMappedBuffer(2 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  buffer->words()[0] = 0x5a5a5a5a;
  ASSERT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 2 * kPageSize), MAGMA_STATUS_OK);
  ASSERT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES, 0, 2 * kPageSize),
            MAGMA_STATUS_OK);
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(buffer->words()[0], 0x5a5a5a5au);
  // The GPU still reaches the buffer through its mapping afterwards.
  uint32_t context_id = CreateContext();
  TestSemaphore done(connection());
  CommandStream s;
  s.Copy(buffer->gpu_va() + kPageSize, buffer->gpu_va(), 4).End();
  ASSERT_EQ(ExecuteInline(connection(), context_id, s, {done.id()}), MAGMA_STATUS_OK);
  ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK);
  EXPECT_EQ(buffer->words()[kPageSize / 4], 0x5a5a5a5au);
}

// POPULATE/DEPOPULATE_TABLES are feed-forward: the call returns OK, the driver's refusal closes
// the connection.
TEST_F(MagmaBuffer, PopulateOutsideTheBufferIsARemoteError) {
  auto buffer = CreateMappedBuffer(2 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, kPageSize, 4 * kPageSize),
            MAGMA_STATUS_OK);
  ExpectClosedByRemoteError(connection(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaBuffer, PopulateUnalignedIsARemoteError) {
  auto buffer = CreateMappedBuffer(2 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 100, kPageSize), MAGMA_STATUS_OK);
  ExpectClosedByRemoteError(connection(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaBuffer, DepopulateEmptyRangeIsARemoteError) {
  auto buffer = CreateMappedBuffer(2 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(Op(*buffer, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES, 0, 0), MAGMA_STATUS_OK);
  ExpectClosedByRemoteError(connection(), MAGMA_STATUS_INVALID_ARGS);
}

// ---- Cache policy and cache operations ----

TEST_F(MagmaBuffer, DefaultCachePolicyIsCached) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_cache_policy_t policy = MAGMA_CACHE_POLICY_UNCACHED;
  ASSERT_EQ(magma_buffer_get_cache_policy(buffer.get(), &policy), MAGMA_STATUS_OK);
  EXPECT_EQ(policy, MAGMA_CACHE_POLICY_CACHED);
}

TEST_F(MagmaBuffer, SetCachePolicyIsRemembered) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (magma_cache_policy_t p : {MAGMA_CACHE_POLICY_WRITE_COMBINING, MAGMA_CACHE_POLICY_UNCACHED,
                                 MAGMA_CACHE_POLICY_CACHED}) {
    ASSERT_EQ(magma_buffer_set_cache_policy(buffer.get(), p), MAGMA_STATUS_OK);
    magma_cache_policy_t policy = 99;
    ASSERT_EQ(magma_buffer_get_cache_policy(buffer.get(), &policy), MAGMA_STATUS_OK);
    EXPECT_EQ(policy, p);
  }
}

TEST_F(MagmaBuffer, CachePolicyIsPerBuffer) {
  TestBuffer a(connection(), kPageSize), b(connection(), kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(magma_buffer_set_cache_policy(a.get(), MAGMA_CACHE_POLICY_UNCACHED), MAGMA_STATUS_OK);
  magma_cache_policy_t policy = 99;
  ASSERT_EQ(magma_buffer_get_cache_policy(b.get(), &policy), MAGMA_STATUS_OK);
  EXPECT_EQ(policy, MAGMA_CACHE_POLICY_CACHED);
}

// As Magma, where the VMO refuses it: INTERNAL_ERROR.
TEST_F(MagmaBuffer, UnknownCachePolicyIsInternalError) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_buffer_set_cache_policy(buffer.get(), 3), MAGMA_STATUS_INTERNAL_ERROR);
  EXPECT_EQ(magma_buffer_set_cache_policy(buffer.get(), 0xffffffffu), MAGMA_STATUS_INTERNAL_ERROR);
  magma_cache_policy_t policy = 99;
  ASSERT_EQ(magma_buffer_get_cache_policy(buffer.get(), &policy), MAGMA_STATUS_OK);
  EXPECT_EQ(policy, MAGMA_CACHE_POLICY_CACHED) << "a rejected policy is not recorded";
}

TEST_F(MagmaBuffer, CleanCacheOperations) {
  TestBuffer buffer(connection(), 4 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (magma_cache_operation_t op :
       {MAGMA_CACHE_OPERATION_CLEAN, MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE}) {
    EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 0, buffer.size(), op), MAGMA_STATUS_OK);
    EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 100, 200, op), MAGMA_STATUS_OK);
    EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), kPageSize, 0, op), MAGMA_STATUS_OK);
  }
}

// As Magma, where the cache operation on the VMO fails: INTERNAL_ERROR.
TEST_F(MagmaBuffer, CleanCacheOutsideTheBufferIsInternalError) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 0, kPageSize + 1, MAGMA_CACHE_OPERATION_CLEAN),
            MAGMA_STATUS_INTERNAL_ERROR);
  EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 2 * kPageSize, 1, MAGMA_CACHE_OPERATION_CLEAN),
            MAGMA_STATUS_INTERNAL_ERROR);
  EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 1, UINT64_MAX, MAGMA_CACHE_OPERATION_CLEAN),
            MAGMA_STATUS_INTERNAL_ERROR);
}

TEST_F(MagmaBuffer, UnknownCacheOperationIsInvalidArgs) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_buffer_clean_cache(buffer.get(), 0, kPageSize, 2), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaBuffer, CleanCacheMakesCpuWritesVisibleToGpu) {
  auto buffer = CreateMappedBuffer(2 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  ASSERT_EQ(magma_buffer_set_cache_policy(buffer->get(), MAGMA_CACHE_POLICY_WRITE_COMBINING),
            MAGMA_STATUS_OK);
  for (uint32_t i = 0; i < kPageSize / 4; i++) buffer->words()[i] = i * 3;
  ASSERT_EQ(magma_buffer_clean_cache(buffer->get(), 0, kPageSize, MAGMA_CACHE_OPERATION_CLEAN),
            MAGMA_STATUS_OK);
  uint32_t context_id = CreateContext();
  TestSemaphore done(connection());
  CommandStream s;
  s.Copy(buffer->gpu_va() + kPageSize, buffer->gpu_va(), kPageSize).End();
  ASSERT_EQ(ExecuteInline(connection(), context_id, s, {done.id()}), MAGMA_STATUS_OK);
  ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_buffer_clean_cache(buffer->get(), kPageSize, kPageSize,
                                     MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE),
            MAGMA_STATUS_OK);
  for (uint32_t i = 0; i < kPageSize / 4; i++)
    ASSERT_EQ(buffer->words()[kPageSize / 4 + i], i * 3) << "word " << i;
}

// ---- Naming ----

TEST_F(MagmaBuffer, SetName) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_buffer_set_name(buffer.get(), "conformance-buffer"), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_buffer_set_name(buffer.get(), "renamed"), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, SetEmptyName) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(magma_buffer_set_name(buffer.get(), ""), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, SetLongNameIsTruncatedNotRejected) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  std::string name(10000, 'n');
  EXPECT_EQ(magma_buffer_set_name(buffer.get(), name.c_str()), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, NameDoesNotChangeContents) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  buffer.words()[0] = 42;
  ASSERT_EQ(magma_buffer_set_name(buffer.get(), "x"), MAGMA_STATUS_OK);
  EXPECT_EQ(buffer.words()[0], 42u);
}

// ---- CPU mappings ----

TEST_F(MagmaBuffer, GetHandleReturnsNewHandleEachCall) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t a = 0, b = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &a), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &b), MAGMA_STATUS_OK);
  EXPECT_NE(a, b);
  close(static_cast<int>(a));
  close(static_cast<int>(b));
}

TEST_F(MagmaBuffer, MappingSurvivesClosingTheHandle) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &handle), MAGMA_STATUS_OK);
  void* p =
      mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle), 0);
  ASSERT_NE(p, MAP_FAILED);
  close(static_cast<int>(handle));
  static_cast<uint32_t*>(p)[10] = 0x1234;
  EXPECT_EQ(buffer.words()[10], 0x1234u);
  munmap(p, kPageSize);
}

TEST_F(MagmaBuffer, CpuMappingsAtOffsets) {
  constexpr uint64_t kPages = 8;
  TestBuffer buffer(connection(), kPages * kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &handle), MAGMA_STATUS_OK);
  for (uint64_t page = 0; page < kPages; page++) {
    // Map [page, end) at its offset and write the first word there.
    uint64_t length = (kPages - page) * kPageSize;
    void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle),
                   static_cast<off_t>(page * kPageSize));
    ASSERT_NE(p, MAP_FAILED) << "offset page " << page;
    static_cast<uint32_t*>(p)[0] = 0xfeed0000 + page;
    munmap(p, length);
  }
  close(static_cast<int>(handle));
  for (uint64_t page = 0; page < kPages; page++)
    EXPECT_EQ(buffer.words()[page * kPageSize / 4], 0xfeed0000 + page);
}

TEST_F(MagmaBuffer, CpuMappingsShareMemory) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t h1 = 0, h2 = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &h1), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &h2), MAGMA_STATUS_OK);
  auto* a = static_cast<uint32_t*>(
      mmap(nullptr, 2 * kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(h1), 0));
  auto* b = static_cast<uint32_t*>(
      mmap(nullptr, kPageSize, PROT_READ, MAP_SHARED, static_cast<int>(h2), kPageSize));
  close(static_cast<int>(h1));
  close(static_cast<int>(h2));
  ASSERT_NE(a, MAP_FAILED);
  ASSERT_NE(b, MAP_FAILED);
  a[kPageSize / 4 + 7] = 77;
  EXPECT_EQ(b[7], 77u);
  munmap(a, 2 * kPageSize);
  munmap(b, kPageSize);
}

TEST_F(MagmaBuffer, MappingSurvivesBufferRelease) {
  // The fd from get_handle is the caller's; a mapping made from it stays valid after release.
  auto buffer = std::make_unique<TestBuffer>(connection(), kPageSize);
  ASSERT_TRUE(buffer->ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer->get(), &handle), MAGMA_STATUS_OK);
  auto* p = static_cast<uint32_t*>(
      mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle), 0));
  close(static_cast<int>(handle));
  ASSERT_NE(p, MAP_FAILED);
  buffer.reset();
  p[0] = 5;
  EXPECT_EQ(p[0], 5u);
  munmap(p, kPageSize);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, TenThousandCpuMappings) {
  constexpr int kMappings = 10000;
  constexpr uint64_t kPages = 16;
  TestBuffer buffer(connection(), kPages * kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_get_handle(buffer.get(), &handle), MAGMA_STATUS_OK);
  std::vector<uint32_t*> maps;
  maps.reserve(kMappings);
  for (int i = 0; i < kMappings; i++) {
    uint64_t page = i % kPages;
    void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle),
                   static_cast<off_t>(page * kPageSize));
    if (p == MAP_FAILED) {
      ADD_FAILURE() << "mmap " << i << ": " << strerror(errno);
      break;
    }
    maps.push_back(static_cast<uint32_t*>(p));
    // Word i / kPages of the page: each mapping writes a distinct word.
    maps.back()[i / kPages] = static_cast<uint32_t>(i);
  }
  close(static_cast<int>(handle));
  // Every write landed, and every mapping of a page sees all the writes made through the others.
  for (size_t i = 0; i < maps.size(); i++) {
    size_t page = i % kPages;
    ASSERT_EQ(buffer.words()[page * kPageSize / 4 + i / kPages], static_cast<uint32_t>(i));
    ASSERT_EQ(memcmp(maps[i], buffer.bytes() + page * kPageSize, kPageSize), 0) << "mapping " << i;
  }
  for (uint32_t* p : maps) munmap(p, kPageSize);
}

// ---- Scale ----

TEST_F(MagmaBuffer, TenThousandBuffers) {
  constexpr int kBuffers = 10000;
  // The client keeps one fd per buffer (a memfd); the system driver maps it and keeps none.
  struct rlimit lim;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  const rlim_t need = static_cast<rlim_t>(kBuffers) + 512;
  if (lim.rlim_cur < need && lim.rlim_max >= need) {
    struct rlimit raised = lim;
    raised.rlim_cur = need;
    setrlimit(RLIMIT_NOFILE, &raised);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < need)
    GTEST_SKIP() << kBuffers << " live buffers need " << need << " fds here; RLIMIT_NOFILE is "
                 << lim.rlim_cur;

  std::vector<magma_buffer_t> buffers;
  std::set<magma_buffer_t> handles;
  std::set<magma_buffer_id_t> ids;
  buffers.reserve(kBuffers);
  for (int i = 0; i < kBuffers; i++) {
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    magma_status_t status =
        magma_connection_create_buffer(connection(), kPageSize, &size, &buffer, &id);
    if (status != MAGMA_STATUS_OK) {
      ADD_FAILURE() << "buffer " << i << ": " << status;
      break;
    }
    buffers.push_back(buffer);
    handles.insert(buffer);
    ids.insert(id);
  }
  EXPECT_EQ(handles.size(), buffers.size());
  EXPECT_EQ(ids.size(), buffers.size());
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  for (magma_buffer_t buffer : buffers) magma_connection_release_buffer(connection(), buffer);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaBuffer, TenThousandBuffersInBatches) {
  // 10,000 buffers through one connection, 1,000 alive at a time (fits every fd limit): the
  // live ones always have distinct handles and ids.
  constexpr int kTotal = 10000;
  constexpr int kBatch = 1000;
  for (int done = 0; done < kTotal; done += kBatch) {
    std::vector<magma_buffer_t> buffers;
    std::set<magma_buffer_t> handles;
    std::set<magma_buffer_id_t> ids;
    for (int i = 0; i < kBatch; i++) {
      uint64_t size = 0;
      magma_buffer_t buffer = 0;
      magma_buffer_id_t id = 0;
      ASSERT_EQ(magma_connection_create_buffer(connection(), kPageSize, &size, &buffer, &id),
                MAGMA_STATUS_OK)
          << "buffer " << done + i;
      buffers.push_back(buffer);
      handles.insert(buffer);
      ids.insert(id);
    }
    EXPECT_EQ(handles.size(), buffers.size());
    EXPECT_EQ(ids.size(), buffers.size());
    for (magma_buffer_t buffer : buffers) magma_connection_release_buffer(connection(), buffer);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

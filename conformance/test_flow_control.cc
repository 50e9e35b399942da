// SPDX-License-Identifier: MIT
//
// test_flow_control.cc - flow control (suite MagmaFlowControl): far more feed-forward messages
// than MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS allows in flight, and imports worth more than its
// byte budget, all go through without exhausting the service or failing a call; from one thread
// and from several, and with submissions mixed in.
#include <atomic>
#include <thread>
#include <vector>

#include "magma_test.h"

class MagmaFlowControl : public MagmaConnectionTest {
 protected:
  uint64_t MaxInflightMessages() { return QueryValue(MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS) >> 32; }
  uint64_t MaxInflightMb() { return QueryValue(MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS) & 0xffffffffu; }
};

TEST_F(MagmaFlowControl, TenThousandMessages) {
  ASSERT_LT(MaxInflightMessages(), 10000u) << "the test must exceed the in-flight limit";
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  const uint64_t va = AllocGpuVa(kPageSize);
  // 5,000 map/unmap pairs: 10,000 messages sent without waiting.
  for (int i = 0; i < 5000; i++) {
    ASSERT_EQ(
        magma_connection_map_buffer(connection(), va, buffer.get(), 0, kPageSize, kMapReadWrite),
        MAGMA_STATUS_OK)
        << "message " << 2 * i;
    magma_connection_unmap_buffer(connection(), va, buffer.get());
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, TenThousandBufferOps) {
  auto buffer = CreateMappedBuffer(4 * kPageSize);
  ASSERT_NE(buffer, nullptr);
  for (int i = 0; i < 10000; i++) {
    uint32_t op =
        (i % 2) ? MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES : MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES;
    ASSERT_EQ(
        magma_connection_perform_buffer_op(connection(), buffer->get(), op, 0, buffer->size()),
        MAGMA_STATUS_OK)
        << "message " << i;
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, TenThousandContextReleases) {
  // Context creation is a round trip; release is feed-forward.
  for (int i = 0; i < 10000; i++) {
    uint32_t context_id = 0;
    ASSERT_EQ(magma_connection_create_context2(connection(), MAGMA_PRIORITY_MEDIUM, &context_id),
              MAGMA_STATUS_OK)
        << i;
    magma_connection_release_context(connection(), context_id);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, MessagesFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kPairs = 1250;  // 4 x 2,500 = 10,000 messages
  std::vector<std::unique_ptr<TestBuffer>> buffers;
  for (int t = 0; t < kThreads; t++) {
    buffers.push_back(std::make_unique<TestBuffer>(connection(), kPageSize));
    ASSERT_TRUE(buffers.back()->ok());
  }
  std::vector<uint64_t> vas;
  for (int t = 0; t < kThreads; t++) vas.push_back(AllocGpuVa(kPageSize));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPairs; i++) {
        if (magma_connection_map_buffer(connection(), vas[t], buffers[t]->get(), 0, kPageSize,
                                        kMapReadWrite) != MAGMA_STATUS_OK)
          failures++;
        magma_connection_unmap_buffer(connection(), vas[t], buffers[t]->get());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, ManyConnectionsAtOnce) {
  constexpr int kConnections = 8;
  std::vector<magma_connection_t> connections;
  for (int i = 0; i < kConnections; i++) {
    magma_connection_t c = CreateExtraConnection();
    ASSERT_NE(c, 0u);
    connections.push_back(c);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (magma_connection_t c : connections) {
    threads.emplace_back([c, &failures] {
      TestBuffer buffer(c, kPageSize);
      if (!buffer.ok()) {
        failures++;
        return;
      }
      for (int i = 0; i < 1250; i++) {
        if (magma_connection_map_buffer(c, 0x10000000, buffer.get(), 0, kPageSize, kMapReadWrite) !=
            MAGMA_STATUS_OK)
          failures++;
        magma_connection_unmap_buffer(c, 0x10000000, buffer.get());
      }
      if (magma_connection_flush(c) != MAGMA_STATUS_OK) failures++;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(MagmaFlowControl, ImportsBeyondTheByteBudget) {
  // Imports are counted against the in-flight byte budget: import more than it in total.
  const uint64_t budget = MaxInflightMb() << 20;
  ASSERT_GT(budget, 0u);
  constexpr uint64_t kBufferSize = 64ull << 20;
  const uint64_t count = budget / kBufferSize + 4;
  TestBuffer buffer(connection(), kBufferSize);  // sparse: never touched
  ASSERT_TRUE(buffer.ok());
  std::vector<std::unique_ptr<TestBuffer>> imports;
  for (uint64_t i = 0; i < count; i++) {
    magma_handle_t handle = 0;
    ASSERT_EQ(magma_buffer_export(buffer.get(), &handle), MAGMA_STATUS_OK);
    uint64_t size = 0;
    magma_buffer_t imported = 0;
    magma_buffer_id_t id = 0;
    ASSERT_EQ(magma_connection_import_buffer(connection(), handle, &size, &imported, &id),
              MAGMA_STATUS_OK)
        << "import " << i;
    imports.push_back(std::make_unique<TestBuffer>(connection(), imported, id, size));
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, SubmissionsBeyondTheMessageLimit) {
  // More inline submissions than may be in flight; the last one's semaphore proves all ran.
  const int count = static_cast<int>(MaxInflightMessages()) * 3;
  auto target = CreateMappedBuffer(kPageSize);
  ASSERT_NE(target, nullptr);
  uint32_t context_id = CreateContext();
  ASSERT_NE(context_id, 0u);
  TestSemaphore done(connection());
  for (int i = 0; i < count; i++) {
    CommandStream s;
    s.Signal(target->gpu_va(), 1, SIM_CMD_SIGNAL_ADD).End();
    ASSERT_EQ(ExecuteInline(connection(), context_id, s,
                            i == count - 1 ? std::vector<magma_semaphore_id_t>{done.id()}
                                           : std::vector<magma_semaphore_id_t>{}),
              MAGMA_STATUS_OK)
        << i;
  }
  ASSERT_EQ(WaitSemaphoreOrConnectionLoss(connection(), done.get()), MAGMA_STATUS_OK);
  EXPECT_EQ(target->words()[0], static_cast<uint32_t>(count));
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaFlowControl, ServiceStaysResponsiveToOtherConnections) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  std::atomic<bool> stop{false};
  std::thread flooder([&] {
    while (!stop.load()) {
      magma_connection_map_buffer(connection(), 0x10000000, buffer.get(), 0, kPageSize,
                                  kMapReadWrite);
      magma_connection_unmap_buffer(connection(), 0x10000000, buffer.get());
    }
  });
  // Round trips on another connection keep completing while the first one floods (a starved
  // connection would block here; ctest's timeout catches that).
  for (int i = 0; i < 100; i++) ASSERT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
  stop = true;
  flooder.join();
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

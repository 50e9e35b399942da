// SPDX-License-Identifier: MIT
//
// test_connection.cc - connections and contexts (suites MagmaConnection, MagmaContext): create
// and release, flush and get_error, isolation between connections, the sticky error that closes
// a connection, context priorities and context release.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "magma_test.h"

// ---- MagmaConnection ----

class MagmaConnection : public MagmaConnectionTest {};

TEST_F(MagmaConnection, CreateAndRelease) {
  magma_connection_t connection = 0;
  ASSERT_EQ(magma_device_create_connection(device(), &connection), MAGMA_STATUS_OK);
  EXPECT_NE(connection, 0u);
  magma_connection_release(connection);
}

TEST_F(MagmaConnection, FlushOnNewConnectionIsOk) { EXPECT_EQ(Flush(), MAGMA_STATUS_OK); }

TEST_F(MagmaConnection, GetErrorOnNewConnectionIsOk) {
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_OK);
}

TEST_F(MagmaConnection, RepeatedFlushesAreOk) {
  for (int i = 0; i < 100; i++) ASSERT_EQ(Flush(), MAGMA_STATUS_OK) << i;
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_OK);
}

TEST_F(MagmaConnection, NotificationChannelHandleIsStable) {
  magma_handle_t a = magma_connection_get_notification_channel_handle(connection());
  magma_handle_t b = magma_connection_get_notification_channel_handle(connection());
  EXPECT_EQ(a, b);
  EXPECT_NE(fcntl(static_cast<int>(a), F_GETFD), -1) << "not a valid fd";
}

TEST_F(MagmaConnection, NotificationChannelsDifferPerConnection) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  EXPECT_NE(magma_connection_get_notification_channel_handle(connection()),
            magma_connection_get_notification_channel_handle(other));
}

TEST_F(MagmaConnection, GpuAddressSpacesAreSeparate) {
  // The same VA may be mapped in two connections: each has its own address space.
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer a(connection(), kPageSize);
  TestBuffer b(other, kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t va = 0x40000000;
  EXPECT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(b.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaConnection, GpuWritesStayInTheirConnection) {
  // Each connection writes its own marker at the same VA; each sees only its own memory.
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  const uint64_t va = 0x40000000;
  TestBuffer a(connection(), kPageSize);
  TestBuffer b(other, kPageSize);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  ASSERT_EQ(b.MapGpu(va, kMapReadWrite), MAGMA_STATUS_OK);
  uint32_t ctx_a = CreateContext();
  uint32_t ctx_b = 0;
  ASSERT_EQ(magma_connection_create_context2(other, MAGMA_PRIORITY_MEDIUM, &ctx_b),
            MAGMA_STATUS_OK);
  TestSemaphore done_a(connection()), done_b(other);
  CommandStream sa, sb;
  sa.Write32(va, 0xaaaaaaaa).End();
  sb.Write32(va, 0xbbbbbbbb).End();
  ASSERT_EQ(ExecuteInline(connection(), ctx_a, sa, {done_a.id()}), MAGMA_STATUS_OK);
  ASSERT_EQ(ExecuteInline(other, ctx_b, sb, {done_b.id()}), MAGMA_STATUS_OK);
  ASSERT_EQ(done_a.Wait(), MAGMA_STATUS_OK);
  ASSERT_EQ(done_b.Wait(), MAGMA_STATUS_OK);
  EXPECT_EQ(a.words()[0], 0xaaaaaaaau);
  EXPECT_EQ(b.words()[0], 0xbbbbbbbbu);
}

TEST_F(MagmaConnection, ErrorIsReportedByFlushAndGetError) {
  magma_connection_release_context(connection(), 0xdead);
  magma_status_t status = Flush();
  EXPECT_NE(status, MAGMA_STATUS_OK);
  EXPECT_EQ(status, MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_get_error(connection()), status);
}

TEST_F(MagmaConnection, ErrorIsSticky) {
  magma_connection_release_context(connection(), 0xdead);
  magma_status_t status = Flush();
  ASSERT_NE(status, MAGMA_STATUS_OK);
  // Every later call on the connection returns the error (or CONNECTION_LOST).
  for (int i = 0; i < 3; i++) {
    magma_status_t again = Flush();
    EXPECT_TRUE(again == status || again == MAGMA_STATUS_CONNECTION_LOST) << again;
  }
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  magma_status_t create =
      magma_connection_create_buffer(connection(), kPageSize, &size, &buffer, &id);
  EXPECT_TRUE(create == status || create == MAGMA_STATUS_CONNECTION_LOST) << create;
  if (create == MAGMA_STATUS_OK) magma_connection_release_buffer(connection(), buffer);
  uint32_t context_id = 0;
  magma_status_t ctx =
      magma_connection_create_context2(connection(), MAGMA_PRIORITY_MEDIUM, &context_id);
  EXPECT_TRUE(ctx == status || ctx == MAGMA_STATUS_CONNECTION_LOST) << ctx;
  EXPECT_EQ(magma_connection_get_error(connection()), status);
}

TEST_F(MagmaConnection, ErrorHangsUpTheNotificationChannel) {
  magma_connection_release_context(connection(), 0xdead);
  ASSERT_NE(Flush(), MAGMA_STATUS_OK);
  magma_poll_item_t item = {};
  item.handle = magma_connection_get_notification_channel_handle(connection());
  item.type = MAGMA_POLL_TYPE_HANDLE;
  item.condition = MAGMA_POLL_CONDITION_READABLE;
  EXPECT_EQ(magma_poll(&item, 1, kDefaultTimeoutNs), MAGMA_STATUS_CONNECTION_LOST);
}

TEST_F(MagmaConnection, ErrorOnOneConnectionLeavesOthersWorking) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  magma_connection_release_context(other, 0xdead);
  EXPECT_NE(magma_connection_flush(other), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  TestBuffer buffer(connection(), kPageSize);
  EXPECT_TRUE(buffer.ok());
  EXPECT_NE(CreateContext(), 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaConnection, ReleaseWithLiveObjects) {
  // Releasing a connection releases every object created through it.
  magma_connection_t connection = 0;
  ASSERT_EQ(magma_device_create_connection(device(), &connection), MAGMA_STATUS_OK);
  for (int i = 0; i < 8; i++) {
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    ASSERT_EQ(magma_connection_create_buffer(connection, kPageSize, &size, &buffer, &id),
              MAGMA_STATUS_OK);
    ASSERT_EQ(magma_connection_map_buffer(connection, 0x10000000 + i * 2 * kPageSize, buffer, 0,
                                          size, kMapReadWrite),
              MAGMA_STATUS_OK);
    magma_semaphore_t semaphore = 0;
    magma_semaphore_id_t semaphore_id = 0;
    ASSERT_EQ(magma_connection_create_semaphore(connection, &semaphore, &semaphore_id),
              MAGMA_STATUS_OK);
    uint32_t context_id = 0;
    ASSERT_EQ(magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id),
              MAGMA_STATUS_OK);
  }
  EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_OK);
  magma_connection_release(connection);
  // The device still serves new connections.
  magma_connection_t again = 0;
  ASSERT_EQ(magma_device_create_connection(device(), &again), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(again), MAGMA_STATUS_OK);
  magma_connection_release(again);
}

TEST_F(MagmaConnection, ReleaseAfterError) {
  magma_connection_t connection = 0;
  ASSERT_EQ(magma_device_create_connection(device(), &connection), MAGMA_STATUS_OK);
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  ASSERT_EQ(magma_connection_create_buffer(connection, kPageSize, &size, &buffer, &id),
            MAGMA_STATUS_OK);
  magma_connection_release_context(connection, 77);
  EXPECT_NE(magma_connection_flush(connection), MAGMA_STATUS_OK);
  magma_connection_release(connection);  // releases the buffer too
}

TEST_F(MagmaConnection, CallsFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<magma_buffer_t>> buffers(kThreads);
  std::vector<std::vector<magma_buffer_id_t>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        uint64_t size = 0;
        magma_buffer_t buffer = 0;
        magma_buffer_id_t id = 0;
        if (magma_connection_create_buffer(connection(), kPageSize, &size, &buffer, &id) !=
            MAGMA_STATUS_OK) {
          failures++;
          continue;
        }
        buffers[t].push_back(buffer);
        ids[t].push_back(id);
        if (magma_connection_flush(connection()) != MAGMA_STATUS_OK) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<magma_buffer_id_t> distinct;
  for (int t = 0; t < kThreads; t++) distinct.insert(ids[t].begin(), ids[t].end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; t++)
    for (magma_buffer_t b : buffers[t]) magma_connection_release_buffer(connection(), b);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// ---- MagmaContext ----

class MagmaContext : public MagmaConnectionTest {};

TEST_F(MagmaContext, CreateAndRelease) {
  uint32_t context_id = 0;
  ASSERT_EQ(magma_connection_create_context2(connection(), MAGMA_PRIORITY_MEDIUM, &context_id),
            MAGMA_STATUS_OK);
  magma_connection_release_context(connection(), context_id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, EveryPriority) {
  const magma_priority_t priorities[] = {MAGMA_PRIORITY_LOW, MAGMA_PRIORITY_MEDIUM,
                                         MAGMA_PRIORITY_HIGH, MAGMA_PRIORITY_REALTIME};
  std::set<uint32_t> ids;
  for (magma_priority_t priority : priorities) {
    uint32_t context_id = 0;
    ASSERT_EQ(magma_connection_create_context2(connection(), priority, &context_id),
              MAGMA_STATUS_OK)
        << "priority " << priority;
    ids.insert(context_id);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  for (uint32_t id : ids) magma_connection_release_context(connection(), id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, EveryPriorityExecutes) {
  auto target = CreateMappedBuffer(kPageSize);
  ASSERT_NE(target, nullptr);
  const magma_priority_t priorities[] = {MAGMA_PRIORITY_LOW, MAGMA_PRIORITY_MEDIUM,
                                         MAGMA_PRIORITY_HIGH, MAGMA_PRIORITY_REALTIME};
  for (int i = 0; i < 4; i++) {
    uint32_t context_id = CreateContext(priorities[i]);
    ASSERT_NE(context_id, 0u);
    TestSemaphore done(connection());
    CommandStream s;
    s.Write32(target->gpu_va() + 4 * i, 0x100 + i).End();
    ASSERT_EQ(ExecuteInline(connection(), context_id, s, {done.id()}), MAGMA_STATUS_OK);
    ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK) << "priority " << priorities[i];
    EXPECT_EQ(target->words()[i], 0x100u + i);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, IdsAreDistinct) {
  std::set<uint32_t> ids;
  for (int i = 0; i < 32; i++) ids.insert(CreateContext());
  EXPECT_EQ(ids.size(), 32u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, ManyContexts) {
  std::vector<uint32_t> ids;
  for (int i = 0; i < 100; i++) {
    uint32_t context_id = CreateContext();
    ASSERT_NE(context_id, 0u) << i;
    ids.push_back(context_id);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  for (uint32_t id : ids) magma_connection_release_context(connection(), id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, CreateReleaseRepeatedly) {
  for (int i = 0; i < 500; i++) {
    uint32_t context_id = CreateContext();
    ASSERT_NE(context_id, 0u);
    magma_connection_release_context(connection(), context_id);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, ReleaseUnknownIdErrorsOnFlush) {
  magma_connection_release_context(connection(), 0x12345);
  magma_status_t status = Flush();
  EXPECT_EQ(status, MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_get_error(connection()), status);
}

TEST_F(MagmaContext, ReleaseTwiceErrorsOnFlush) {
  uint32_t context_id = CreateContext();
  ASSERT_NE(context_id, 0u);
  magma_connection_release_context(connection(), context_id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  magma_connection_release_context(connection(), context_id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaContext, ReleaseAnotherConnectionsContextErrorsOnFlush) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  uint32_t context_id = CreateContext();
  ASSERT_NE(context_id, 0u);
  // Context ids are per connection: a fresh id of ours is unknown to `other` unless it made the
  // same one, so create nothing there.
  magma_connection_release_context(other, context_id);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  magma_connection_release_context(connection(), context_id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaContext, ExecuteOnReleasedContextErrorsOnFlush) {
  uint32_t context_id = CreateContext();
  ASSERT_NE(context_id, 0u);
  magma_connection_release_context(connection(), context_id);
  CommandStream s;
  s.Nop().End();
  // Sent without waiting: the error closes the connection.
  magma_status_t submit = ExecuteInline(connection(), context_id, s);
  magma_status_t flushed = Flush();
  EXPECT_TRUE(submit != MAGMA_STATUS_OK || flushed != MAGMA_STATUS_OK)
      << "submit " << submit << ", flush " << flushed;
}

TEST_F(MagmaContext, ReleaseWithWorkInFlight) {
  auto target = CreateMappedBuffer(kPageSize);
  ASSERT_NE(target, nullptr);
  uint32_t context_id = CreateContext();
  ASSERT_NE(context_id, 0u);
  for (int i = 0; i < 16; i++) {
    CommandStream s;
    s.Fill(target->gpu_va(), kPageSize, 0x01010101 * i).End();
    ASSERT_EQ(ExecuteInline(connection(), context_id, s), MAGMA_STATUS_OK);
  }
  magma_connection_release_context(connection(), context_id);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// SPDX-License-Identifier: MIT
//
// test_poll.cc - MagmaPoll: magma_poll over semaphores and handles (notification channels,
// exported semaphores, plain fds): argument checks, per-item results, ignored items, timeouts,
// wake-ups from other threads and the hang-up of a dead connection's notification channel.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "magma_test.h"

namespace {

using MagmaPoll = MagmaConnectionTest;

constexpr uint64_t kShortTimeoutNs = 100 * kMsToNs;

// A poll item for this connection's notification channel to be readable.
magma_poll_item_t NotificationItem(magma_connection_t connection) {
  return HandlePollItem(magma_connection_get_notification_channel_handle(connection));
}

// Closes the connection from the service side: releasing a context id that was never created
// is a remote error (magma.h), seen once the service has processed it.
void BreakConnection(magma_connection_t connection) {
  magma_connection_release_context(connection, 0xdead);
  EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_INVALID_ARGS);
}

// RAII pipe.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    CloseWriter();
    if (fds[0] >= 0) close(fds[0]);
  }
  void CloseWriter() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
  magma_handle_t reader() const { return static_cast<magma_handle_t>(fds[0]); }
};

// As Magma ("Nothing to do"): with no item to wait for, poll returns at once, even with an
// infinite timeout.
TEST_F(MagmaPoll, ZeroItemsIsInvalid) {
  EXPECT_EQ(magma_poll(nullptr, 0, 10 * kMsToNs), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_poll(nullptr, 0, UINT64_MAX), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, NullItemsWithCountIsInvalid) {
  EXPECT_EQ(magma_poll(nullptr, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, UnknownTypeIsInvalid) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  item.type = 77;
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, SemaphoreWithReadableConditionIsInvalid) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  item.condition = MAGMA_POLL_CONDITION_READABLE;
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, HandleWithSignaledConditionIsInvalid) {
  magma_poll_item_t item = NotificationItem(connection());
  item.condition = MAGMA_POLL_CONDITION_SIGNALED;
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, UnknownConditionIsInvalid) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  item.condition = 0x40;
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, ConditionZeroItemsAreIgnored) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  std::vector<magma_poll_item_t> items(2);
  // An ignored item may carry anything, even an invalid type.
  items[0] = SemaphorePollItem(sem.get());
  items[0].condition = 0;
  items[0].result = 0x1234;
  items[1].type = 99;
  items[1].condition = 0;
  items[1].handle = 0xffffffffu;
  // Nothing left to wait for: INVALID_ARGS at once (as Magma), results cleared.
  EXPECT_EQ(magma_poll(items.data(), 2, UINT64_MAX), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(items[0].result, 0u);
  EXPECT_EQ(items[1].result, 0u);
  // With one real item besides them, the ignored ones stay ignored.
  items.push_back(SemaphorePollItem(sem.get()));
  EXPECT_EQ(magma_poll(items.data(), 3, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, 0u);
  EXPECT_EQ(items[1].result, 0u);
  EXPECT_EQ(items[2].result, MAGMA_POLL_CONDITION_SIGNALED);
}

TEST_F(MagmaPoll, IgnoredItemsDoNotHideMetOnes) {
  TestSemaphore a(connection());
  TestSemaphore b(connection());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  a.Signal();
  b.Signal();
  std::vector<magma_poll_item_t> items = {SemaphorePollItem(a.get()), SemaphorePollItem(b.get())};
  items[0].condition = 0;
  EXPECT_EQ(magma_poll(items.data(), 2, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, 0u);
  EXPECT_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
}

TEST_F(MagmaPoll, ZeroTimeoutChecksOnce) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_TIMED_OUT);
  sem.Signal();
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(item.result, MAGMA_POLL_CONDITION_SIGNALED);
}

TEST_F(MagmaPoll, TimeoutIsHonoured) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  for (uint64_t timeout : {1 * kMsToNs, 20 * kMsToNs, kShortTimeoutNs}) {
    magma_poll_item_t item = SemaphorePollItem(sem.get());
    uint64_t start = NowNs();
    EXPECT_EQ(magma_poll(&item, 1, timeout), MAGMA_STATUS_TIMED_OUT);
    uint64_t elapsed = NowNs() - start;
    EXPECT_GE(elapsed, timeout) << "timeout " << timeout;
  }
}

TEST_F(MagmaPoll, DoesNotResetSemaphores) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  for (int i = 0; i < 5; i++) EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_OK);
}

TEST_F(MagmaPoll, ManyItemsReportOnlyTheSignaledOne) {
  auto sems = CreateSemaphores(200);
  ASSERT_EQ(sems.size(), 200u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  sems[137]->Signal();
  EXPECT_EQ(magma_poll(items.data(), static_cast<uint32_t>(items.size()), kShortTimeoutNs),
            MAGMA_STATUS_OK);
  for (size_t i = 0; i < items.size(); i++)
    EXPECT_EQ(items[i].result, i == 137 ? MAGMA_POLL_CONDITION_SIGNALED : 0u) << "item " << i;
}

TEST_F(MagmaPoll, SignalFromAnotherThreadWakesPoll) {
  TestSemaphore a(connection());
  TestSemaphore b(connection());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  std::vector<magma_poll_item_t> items = {SemaphorePollItem(a.get()), SemaphorePollItem(b.get())};
  SignalAfter signaller(b.get(), std::chrono::milliseconds(30));
  // No timeout: only the signal can end the wait.
  EXPECT_EQ(magma_poll(items.data(), 2, UINT64_MAX), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, 0u);
  EXPECT_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
  signaller.Join();
}

TEST_F(MagmaPoll, IdleNotificationChannelIsNotReadable) {
  magma_poll_item_t item = NotificationItem(connection());
  ExpectTimesOut([&] { return magma_poll(&item, 1, kShortTimeoutNs); }, kShortTimeoutNs);
  EXPECT_EQ(item.result, 0u);
}

TEST_F(MagmaPoll, SemaphoresAndNotificationChannelTogether) {
  TestSemaphore a(connection());
  TestSemaphore b(connection());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  std::vector<magma_poll_item_t> items = {SemaphorePollItem(a.get()), SemaphorePollItem(b.get()),
                                          NotificationItem(connection())};
  EXPECT_EQ(magma_poll(items.data(), 3, 10 * kMsToNs), MAGMA_STATUS_TIMED_OUT);
  a.Signal();
  EXPECT_EQ(magma_poll(items.data(), 3, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, MAGMA_POLL_CONDITION_SIGNALED);
  EXPECT_EQ(items[1].result, 0u);
  EXPECT_EQ(items[2].result, 0u);
  a.Reset();
  EXPECT_EQ(magma_poll(items.data(), 3, 10 * kMsToNs), MAGMA_STATUS_TIMED_OUT);
  a.Signal();
  b.Signal();
  EXPECT_EQ(magma_poll(items.data(), 3, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, MAGMA_POLL_CONDITION_SIGNALED);
  EXPECT_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
  EXPECT_EQ(items[2].result, 0u);
}

TEST_F(MagmaPoll, NotificationChannelReadableAfterNotifyingCommand) {
  uint32_t context = CreateContext();
  ASSERT_NE(context, 0u);
  auto target = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(target);
  CommandStream cs;
  cs.Write32(target->gpu_va(), 1).End();
  ASSERT_EQ(SubmitCommands(context, cs, {{target.get()}}, {}, {}, MAGMA_SIM_COMMAND_FLAG_NOTIFY),
            MAGMA_STATUS_OK);
  magma_poll_item_t item = NotificationItem(connection());
  EXPECT_EQ(magma_poll(&item, 1, kDefaultTimeoutNs), MAGMA_STATUS_OK);
  EXPECT_EQ(item.result, MAGMA_POLL_CONDITION_READABLE);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPoll, DeadConnectionsNotificationChannelIsConnectionLost) {
  magma_poll_item_t item = NotificationItem(connection());
  BreakConnection(connection());
  EXPECT_EQ(magma_poll(&item, 1, UINT64_MAX), MAGMA_STATUS_CONNECTION_LOST);
}

TEST_F(MagmaPoll, HangUpEndsAnInfiniteWait) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  std::vector<magma_poll_item_t> items = {SemaphorePollItem(sem.get()),
                                          NotificationItem(connection())};
  magma_connection_t conn = connection();
  std::thread breaker([conn] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    // A remote error, fed forward: the service closes the connection by itself.
    magma_connection_release_context(conn, 0xbeef);
  });
  EXPECT_EQ(magma_poll(items.data(), 2, UINT64_MAX), MAGMA_STATUS_CONNECTION_LOST);
  breaker.join();
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaPoll, HangUpOfOneConnectionLeavesOthersAlone) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  BreakConnection(other);
  magma_poll_item_t item = NotificationItem(connection());
  EXPECT_EQ(magma_poll(&item, 1, 10 * kMsToNs), MAGMA_STATUS_TIMED_OUT);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaPoll, PlainFdHandleBecomesReadable) {
  Pipe p;
  magma_poll_item_t item = HandlePollItem(p.reader());
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_TIMED_OUT);
  char c = 'x';
  ASSERT_EQ(write(p.fds[1], &c, 1), 1);
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(item.result, MAGMA_POLL_CONDITION_READABLE);
}

TEST_F(MagmaPoll, HugeTimeoutWithSignaledSemaphoreReturnsAtOnce) {
  // Deadlines near UINT64_MAX must not overflow into the past (or hang).
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  for (uint64_t timeout : {UINT64_MAX - 1, UINT64_MAX / 2, UINT64_MAX - NowNs()}) {
    magma_poll_item_t item = SemaphorePollItem(sem.get());
    EXPECT_EQ(magma_poll(&item, 1, timeout), MAGMA_STATUS_OK) << "timeout " << timeout;
  }
}

}  // namespace

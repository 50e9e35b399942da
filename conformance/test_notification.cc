// SPDX-License-Identifier: MIT
//
// test_notification.cc - MagmaNotification: the notification channel of a connection. Its
// handle, empty reads, the MAGMA_SIM_NOTIFY_COMPLETED payload of a command buffer submitted with
// MAGMA_SIM_COMMAND_FLAG_NOTIFY (magma_sim_defs.h), sequence numbers and more_data, too-small
// buffers (the message stays queued), 1,000 notifications left unread, a flood past the queue
// limit (docs/devices.md: MEMORY_ERROR) and the channel once the connection has died.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <vector>

#include "magma_test.h"

namespace {

// Reads one notification; returns the status and fills @size / @more.
magma_status_t ReadNotification(magma_connection_t connection, void* buffer, uint64_t buffer_size,
                                uint64_t* size, bool* more) {
  uint64_t size_out = 0xdeadbeef;
  magma_bool_t more_out = 0xcc;
  magma_status_t status = magma_connection_read_notification_channel(
      connection, buffer, buffer_size, &size_out, &more_out);
  *size = size_out;
  if (more) *more = more_out != 0;
  return status;
}

// Polls magma_connection_get_error until the connection reports an error (or 10 s pass).
magma_status_t WaitForError(magma_connection_t connection) {
  uint64_t deadline = NowNs() + kDefaultTimeoutNs;
  magma_status_t status;
  while ((status = magma_connection_get_error(connection)) == MAGMA_STATUS_OK &&
         NowNs() < deadline) {
    usleep(1000);
  }
  return status;
}

// A connection test that can run small command streams with completion notifications. The
// context and the target buffer are made on first use.
class MagmaNotification : public MagmaConnectionTest {
 protected:
  void TearDown() override {
    target_.reset();
    MagmaConnectionTest::TearDown();
  }

  // Submits a command buffer writing @value to the target's word @index, with @flags, and
  // waits until it has retired (its signal semaphore).
  void RunWrite(uint32_t index, uint32_t value, uint64_t flags) {
    if (!context_) context_ = CreateContext();
    ASSERT_NE(context_, 0u);
    if (!target_) target_ = CreateMappedBuffer(kPageSize);
    ASSERT_TRUE(target_);
    auto commands = CreateMappedBuffer(kPageSize);
    ASSERT_TRUE(commands);
    TestSemaphore done(connection());
    ASSERT_TRUE(done.ok());
    CommandStream cs;
    cs.Write32(target_->gpu_va() + 4ull * index, value).End();
    ASSERT_TRUE(cs.WriteTo(*commands));
    ASSERT_EQ(Execute(connection(), context_, *commands, cs.size_bytes(), {{target_.get()}}, {},
                      {done.id()}, flags),
              MAGMA_STATUS_OK);
    ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK);
    EXPECT_EQ(target_->words()[index], value);
  }

  // Waits until the notification channel is readable.
  void WaitForNotification() {
    EXPECT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(connection())),
              MAGMA_STATUS_OK);
  }

  uint32_t context_ = 0;
  std::unique_ptr<TestBuffer> target_;
};

TEST_F(MagmaNotification, HandleIsTheSameEveryCall) {
  magma_handle_t a = magma_connection_get_notification_channel_handle(connection());
  magma_handle_t b = magma_connection_get_notification_channel_handle(connection());
  EXPECT_EQ(a, b);
  EXPECT_GE(static_cast<int>(a), 0);
  // A valid, open file descriptor.
  EXPECT_NE(fcntl(static_cast<int>(a), F_GETFD), -1);
}

TEST_F(MagmaNotification, HandlesOfConnectionsDiffer) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  EXPECT_NE(magma_connection_get_notification_channel_handle(connection()),
            magma_connection_get_notification_channel_handle(other));
}

TEST_F(MagmaNotification, EmptyReadReturnsNothing) {
  std::vector<uint8_t> buffer(4096);
  uint64_t size = 0;
  bool more = true;
  EXPECT_EQ(ReadNotification(connection(), buffer.data(), buffer.size(), &size, &more),
            MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
  EXPECT_FALSE(more);
}

TEST_F(MagmaNotification, EmptyReadWithZeroSizedBuffer) {
  uint64_t size = 0;
  bool more = true;
  EXPECT_EQ(ReadNotification(connection(), nullptr, 0, &size, &more), MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
  EXPECT_FALSE(more);
}

TEST_F(MagmaNotification, RepeatedEmptyReadsLeaveConnectionHealthy) {
  std::vector<uint8_t> buffer(64);
  for (int i = 0; i < 100; i++) {
    uint64_t size = 0;
    ASSERT_EQ(ReadNotification(connection(), buffer.data(), buffer.size(), &size, nullptr),
              MAGMA_STATUS_OK);
    ASSERT_EQ(size, 0u);
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaNotification, NullOutParametersAreInvalid) {
  std::vector<uint8_t> buffer(64);
  uint64_t size = 0;
  magma_bool_t more = 0;
  EXPECT_EQ(magma_connection_read_notification_channel(connection(), buffer.data(), buffer.size(),
                                                       nullptr, &more),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_read_notification_channel(connection(), buffer.data(), buffer.size(),
                                                       &size, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaNotification, CompletedPayloadAfterExecution) {
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 0x1234, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  WaitForNotification();
  magma_sim_notification n = {};
  uint64_t size = 0;
  bool more = true;
  ASSERT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, &more), MAGMA_STATUS_OK);
  ASSERT_EQ(size, sizeof(n));
  EXPECT_FALSE(more);
  EXPECT_EQ(n.type, MAGMA_SIM_NOTIFY_COMPLETED);
  EXPECT_EQ(n.context_id, context_);
  EXPECT_EQ(n.sequence, 1u);  // the connection's first submission
  EXPECT_EQ(n.fault_code, 0u);
  // Consumed: the channel is empty again.
  ASSERT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, &more), MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
  EXPECT_FALSE(more);
}

TEST_F(MagmaNotification, NoPayloadWithoutNotifyFlag) {
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 7, 0));
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(connection()),
                               50 * kMsToNs),
            MAGMA_STATUS_TIMED_OUT);
  magma_sim_notification n = {};
  uint64_t size = 0;
  bool more = true;
  EXPECT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, &more), MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
  EXPECT_FALSE(more);
}

TEST_F(MagmaNotification, PayloadsArriveInSubmissionOrderWithMoreData) {
  constexpr int kCount = 3;
  for (int i = 0; i < kCount; i++)
    ASSERT_NO_FATAL_FAILURE(RunWrite(i, 100 + i, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  uint64_t last_sequence = 0;
  bool more = false;
  for (int i = 0; i < kCount; i++) {
    magma_sim_notification n = {};
    uint64_t size = 0;
    // A notification may still be on its way when its command buffer's semaphore is signaled;
    // but when the previous read said more_data, this one must be there already.
    if (!more) WaitForNotification();
    ASSERT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, &more), MAGMA_STATUS_OK);
    ASSERT_EQ(size, sizeof(n)) << "notification " << i;
    EXPECT_EQ(n.type, MAGMA_SIM_NOTIFY_COMPLETED);
    EXPECT_EQ(n.context_id, context_);
    EXPECT_GT(n.sequence, last_sequence) << "notification " << i;
    last_sequence = n.sequence;
  }
  EXPECT_FALSE(more);
  uint64_t size = 0;
  uint8_t byte = 0;
  EXPECT_EQ(ReadNotification(connection(), &byte, 1, &size, &more), MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
}

TEST_F(MagmaNotification, SequenceCountsEverySubmission) {
  // Submissions without the flag still take a sequence number; only flagged ones notify.
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 1, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  ASSERT_NO_FATAL_FAILURE(RunWrite(1, 2, 0));
  ASSERT_NO_FATAL_FAILURE(RunWrite(2, 3, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  magma_sim_notification first = {}, second = {};
  uint64_t size = 0;
  WaitForNotification();
  ASSERT_EQ(ReadNotification(connection(), &first, sizeof(first), &size, nullptr), MAGMA_STATUS_OK);
  ASSERT_EQ(size, sizeof(first));
  WaitForNotification();
  ASSERT_EQ(ReadNotification(connection(), &second, sizeof(second), &size, nullptr),
            MAGMA_STATUS_OK);
  ASSERT_EQ(size, sizeof(second));
  EXPECT_EQ(second.sequence, first.sequence + 2);
}

TEST_F(MagmaNotification, TooSmallBufferReportsNeededSizeAndKeepsMessage) {
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 5, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  WaitForNotification();
  uint8_t small[4] = {};
  uint64_t size = 0;
  EXPECT_EQ(ReadNotification(connection(), small, sizeof(small), &size, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(size, sizeof(magma_sim_notification));
  // Again, with no buffer at all.
  EXPECT_EQ(ReadNotification(connection(), nullptr, 0, &size, nullptr), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(size, sizeof(magma_sim_notification));
  // The message is still queued and the connection is fine.
  EXPECT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(connection()), 0),
            MAGMA_STATUS_OK);
  magma_sim_notification n = {};
  bool more = true;
  ASSERT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, &more), MAGMA_STATUS_OK);
  EXPECT_EQ(size, sizeof(n));
  EXPECT_EQ(n.type, MAGMA_SIM_NOTIFY_COMPLETED);
  EXPECT_FALSE(more);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaNotification, LargerBufferReceivesExactSize) {
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 9, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  WaitForNotification();
  std::vector<uint8_t> buffer(4096, 0xee);
  uint64_t size = 0;
  ASSERT_EQ(ReadNotification(connection(), buffer.data(), buffer.size(), &size, nullptr),
            MAGMA_STATUS_OK);
  EXPECT_EQ(size, sizeof(magma_sim_notification));
  // Nothing beyond the payload was written.
  for (size_t i = sizeof(magma_sim_notification); i < buffer.size(); i++)
    ASSERT_EQ(buffer[i], 0xee) << "byte " << i;
}

TEST_F(MagmaNotification, NotificationsArePerConnection) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  ASSERT_NO_FATAL_FAILURE(RunWrite(0, 11, MAGMA_SIM_COMMAND_FLAG_NOTIFY));
  WaitForNotification();
  uint64_t size = 0;
  std::vector<uint8_t> buffer(64);
  EXPECT_EQ(ReadNotification(other, buffer.data(), buffer.size(), &size, nullptr), MAGMA_STATUS_OK);
  EXPECT_EQ(size, 0u);
  EXPECT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(other), 0),
            MAGMA_STATUS_TIMED_OUT);
}

// As Magma's (PEER_CLOSED): a drained notification channel of a closed connection reads
// CONNECTION_LOST; the reason stays with get_error.
TEST_F(MagmaNotification, ReadAfterConnectionDiedIsConnectionLost) {
  magma_connection_release_context(connection(), 0xdead);
  ASSERT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  std::vector<uint8_t> buffer(64);
  uint64_t size = 0;
  EXPECT_EQ(ReadNotification(connection(), buffer.data(), buffer.size(), &size, nullptr),
            MAGMA_STATUS_CONNECTION_LOST);
  EXPECT_EQ(magma_connection_get_error(connection()), MAGMA_STATUS_INVALID_ARGS);
}

// The promise a client's event loop relies on: after a remote error, a poll of the notification
// channel with no timeout returns (CONNECTION_LOST) instead of blocking forever. ctest's timeout
// catches a hang.
TEST_F(MagmaNotification, InfinitePollReturnsAfterARemoteError) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(magma_connection_map_buffer(connection(), kFirstGpuVa, buffer.get(), 1024 * kPageSize,
                                        kPageSize, MAGMA_MAP_FLAG_READ),
            MAGMA_STATUS_OK);
  magma_poll_item_t item =
      HandlePollItem(magma_connection_get_notification_channel_handle(connection()));
  EXPECT_EQ(magma_poll(&item, 1, UINT64_MAX), MAGMA_STATUS_CONNECTION_LOST);
  EXPECT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaNotification, ChannelHangsUpWhenConnectionDies) {
  int fd = static_cast<int>(magma_connection_get_notification_channel_handle(connection()));
  magma_connection_release_context(connection(), 0xdead);
  ASSERT_EQ(Flush(), MAGMA_STATUS_INVALID_ARGS);
  struct pollfd pfd = {fd, POLLIN, 0};
  // No timeout: only the hang-up can end the wait.
  ASSERT_EQ(poll(&pfd, 1, -1), 1);
  EXPECT_TRUE(pfd.revents & (POLLHUP | POLLERR));
}

TEST_F(MagmaNotification, NullBufferWithNonzeroSizeIsInvalid) {
  uint64_t size = 0;
  magma_bool_t more = 0;
  EXPECT_EQ(magma_connection_read_notification_channel(connection(), nullptr, 64, &size, &more),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaNotification, ThousandNotificationsQueueWithoutDraining) {
  // docs/devices.md: a client that does not drain gets up to 1024 packets queued. 1,000
  // notifying command buffers, read only after the last has retired: all arrive, in order.
  constexpr int kCount = 1000;
  context_ = CreateContext();
  ASSERT_NE(context_, 0u);
  target_ = CreateMappedBuffer(kPageSize);
  auto commands = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(target_ && commands);
  TestSemaphore done(connection());
  ASSERT_TRUE(done.ok());
  CommandStream cs;
  cs.Signal(target_->gpu_va(), 1, SIM_CMD_SIGNAL_ADD).End();
  ASSERT_TRUE(cs.WriteTo(*commands));
  for (int i = 0; i < kCount; i++) {
    std::vector<magma_semaphore_id_t> signals;
    if (i == kCount - 1) signals.push_back(done.id());
    ASSERT_EQ(Execute(connection(), context_, *commands, cs.size_bytes(), {{target_.get()}}, {},
                      signals, MAGMA_SIM_COMMAND_FLAG_NOTIFY),
              MAGMA_STATUS_OK)
        << i;
  }
  ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK);
  EXPECT_EQ(target_->words()[0], static_cast<uint32_t>(kCount));
  uint64_t expected_sequence = 1;
  for (int i = 0; i < kCount; i++) {
    magma_sim_notification n = {};
    uint64_t size = 0;
    ASSERT_EQ(WaitHandleReadable(magma_connection_get_notification_channel_handle(connection())),
              MAGMA_STATUS_OK)
        << "notification " << i << ", connection error "
        << magma_connection_get_error(connection());
    ASSERT_EQ(ReadNotification(connection(), &n, sizeof(n), &size, nullptr), MAGMA_STATUS_OK)
        << "notification " << i;
    ASSERT_EQ(size, sizeof(n)) << "notification " << i;
    ASSERT_EQ(n.type, MAGMA_SIM_NOTIFY_COMPLETED);
    ASSERT_EQ(n.sequence, expected_sequence) << "notification " << i;
    expected_sequence++;
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaNotification, UndrainedFloodClosesTheConnectionWithMemoryError) {
  // docs/devices.md: notifications are never dropped silently; past the queue limit (1024
  // packets) the connection is closed with MAGMA_STATUS_MEMORY_ERROR.
  constexpr int kCount = 5000;
  context_ = CreateContext();
  ASSERT_NE(context_, 0u);
  target_ = CreateMappedBuffer(kPageSize);
  auto commands = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(target_ && commands);
  CommandStream cs;
  cs.Signal(target_->gpu_va(), 1, SIM_CMD_SIGNAL_ADD).End();
  ASSERT_TRUE(cs.WriteTo(*commands));
  magma_status_t status = MAGMA_STATUS_OK;
  for (int i = 0; i < kCount && status == MAGMA_STATUS_OK; i++) {
    status = Execute(connection(), context_, *commands, cs.size_bytes(), {{target_.get()}}, {}, {},
                     MAGMA_SIM_COMMAND_FLAG_NOTIFY);
  }
  // A submission after the close is CONNECTION_LOST; the reason is the connection's error.
  EXPECT_TRUE(status == MAGMA_STATUS_OK || status == MAGMA_STATUS_CONNECTION_LOST) << status;
  EXPECT_EQ(WaitForError(connection()), MAGMA_STATUS_MEMORY_ERROR);
  EXPECT_EQ(Flush(), MAGMA_STATUS_MEMORY_ERROR);
}

}  // namespace

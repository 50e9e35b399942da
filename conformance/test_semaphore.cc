// SPDX-License-Identifier: MIT
//
// test_semaphore.cc - MagmaSemaphore: creating, signalling, resetting, exporting and importing
// semaphores, and waiting for them with magma_poll (any-of, all-of, zero, bounded, long and
// infinite deadlines). What the GPU does with wait and signal semaphores is MagmaExecution's.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "magma_test.h"

namespace {

using MagmaSemaphore = MagmaConnectionTest;

constexpr uint64_t kShortTimeoutNs = 100 * kMsToNs;
// Upper bound for a wait that should take kShortTimeoutNs on a loaded 2-core machine.

// All-of wait built from magma_poll (which waits for any): one item at a time, sharing one
// deadline. Returns the first non-OK status.
magma_status_t WaitAll(std::vector<magma_poll_item_t>& items, uint64_t timeout_ns) {
  const uint64_t deadline = NowNs() + timeout_ns;
  for (magma_poll_item_t& item : items) {
    uint64_t now = NowNs();
    uint64_t left = deadline > now ? deadline - now : 0;
    magma_status_t status = magma_poll(&item, 1, left);
    if (status != MAGMA_STATUS_OK) return status;
  }
  return MAGMA_STATUS_OK;
}

// Whether @fd is readable right now (poll(2) with timeout 0).
bool FdReadable(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

// Exports @semaphore; -1 with a failure on error.
int ExportSemaphore(magma_semaphore_t semaphore) {
  magma_handle_t handle = 0;
  magma_status_t status = magma_semaphore_export(semaphore, &handle);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_semaphore_export failed: " << status;
    return -1;
  }
  return static_cast<int>(handle);
}

// Imports @fd (consumed) into @connection as a TestSemaphore; nullptr with a failure on error.
std::unique_ptr<TestSemaphore> ImportSemaphore(magma_connection_t connection, int fd,
                                               uint64_t flags = 0) {
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t id = 0;
  magma_status_t status = magma_connection_import_semaphore2(
      connection, static_cast<magma_handle_t>(fd), flags, &semaphore, &id);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_import_semaphore2 failed: " << status;
    return nullptr;
  }
  return std::make_unique<TestSemaphore>(connection, semaphore, id);
}

// Waits up to @timeout_ns for a new semaphore of @connection that another thread signals after
// 50 ms; expects the wait to succeed (a wait that only ends at its deadline times out).
void ExpectSignalFromAnotherThreadEndsWait(magma_connection_t connection, uint64_t timeout_ns) {
  TestSemaphore sem(connection);
  ASSERT_TRUE(sem.ok());
  SignalAfter signaller(sem.get(), std::chrono::milliseconds(50));
  EXPECT_EQ(sem.Wait(timeout_ns), MAGMA_STATUS_OK);
  signaller.Join();
}

TEST_F(MagmaSemaphore, CreateReturnsNonzeroHandleAndId) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  EXPECT_NE(sem.get(), 0u);
  EXPECT_NE(sem.id(), 0u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, IdsAreDistinctWithinConnection) {
  std::vector<std::unique_ptr<TestSemaphore>> sems;
  std::set<magma_semaphore_id_t> ids;
  std::set<magma_semaphore_t> handles;
  for (int i = 0; i < 100; i++) {
    sems.push_back(std::make_unique<TestSemaphore>(connection()));
    ASSERT_TRUE(sems.back()->ok());
    ids.insert(sems.back()->id());
    handles.insert(sems.back()->get());
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(handles.size(), 100u);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, NullOutParametersAreInvalid) {
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t id = 0;
  EXPECT_EQ(magma_connection_create_semaphore(connection(), nullptr, &id),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_connection_create_semaphore(connection(), &semaphore, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
  // Local misuse leaves the connection alone.
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, NewSemaphoreIsUnsignaled) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
}

TEST_F(MagmaSemaphore, SignalMakesItSignaled) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  magma_poll_item_t item = SemaphorePollItem(sem.get());
  EXPECT_EQ(magma_poll(&item, 1, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(item.result, MAGMA_POLL_CONDITION_SIGNALED);
}

TEST_F(MagmaSemaphore, StaysSignaledUntilReset) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  // Waiting does not consume the signal.
  for (int i = 0; i < 3; i++) EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_OK) << "poll " << i;
  sem.Reset();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
}

TEST_F(MagmaSemaphore, SignalTwiceResetOnceIsUnsignaled) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  sem.Signal();
  sem.Reset();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
}

TEST_F(MagmaSemaphore, ResetUnsignaledIsHarmless) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Reset();
  sem.Reset();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
  sem.Signal();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, SignalResetCycles) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  for (int i = 0; i < 1000; i++) {
    sem.Signal();
    ASSERT_EQ(sem.Wait(0), MAGMA_STATUS_OK) << "cycle " << i;
    sem.Reset();
    ASSERT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT) << "cycle " << i;
  }
}

TEST_F(MagmaSemaphore, ZeroTimeoutReturnsAtOnce) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
}

TEST_F(MagmaSemaphore, WaitTimesOutWithinBounds) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  ExpectTimesOut([&] { return sem.Wait(kShortTimeoutNs); }, kShortTimeoutNs);
}

TEST_F(MagmaSemaphore, WaitAnyReturnsWhenOneIsSignaled) {
  auto sems = CreateSemaphores(3);
  ASSERT_EQ(sems.size(), 3u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  sems[1]->Signal();
  EXPECT_EQ(magma_poll(items.data(), 3, kShortTimeoutNs), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, 0u);
  EXPECT_EQ(items[1].result, MAGMA_POLL_CONDITION_SIGNALED);
  EXPECT_EQ(items[2].result, 0u);
}

TEST_F(MagmaSemaphore, WaitAnyReportsEverySignaledItem) {
  auto sems = CreateSemaphores(4);
  ASSERT_EQ(sems.size(), 4u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  sems[0]->Signal();
  sems[3]->Signal();
  EXPECT_EQ(magma_poll(items.data(), 4, 0), MAGMA_STATUS_OK);
  EXPECT_EQ(items[0].result, MAGMA_POLL_CONDITION_SIGNALED);
  EXPECT_EQ(items[1].result, 0u);
  EXPECT_EQ(items[2].result, 0u);
  EXPECT_EQ(items[3].result, MAGMA_POLL_CONDITION_SIGNALED);
}

TEST_F(MagmaSemaphore, WaitAnyTimesOutWhenNoneIsSignaled) {
  auto sems = CreateSemaphores(3);
  ASSERT_EQ(sems.size(), 3u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  for (magma_poll_item_t& item : items) item.result = 0xdead;  // must be overwritten
  ExpectTimesOut([&] { return magma_poll(items.data(), 3, kShortTimeoutNs); }, kShortTimeoutNs);
  for (const magma_poll_item_t& item : items) EXPECT_EQ(item.result, 0u);
}

TEST_F(MagmaSemaphore, WaitAllTimesOutWhileOneIsUnsignaled) {
  auto sems = CreateSemaphores(3);
  ASSERT_EQ(sems.size(), 3u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  sems[0]->Signal();
  sems[2]->Signal();
  ExpectTimesOut([&] { return WaitAll(items, kShortTimeoutNs); }, kShortTimeoutNs);
}

TEST_F(MagmaSemaphore, WaitAllSucceedsOnceAllAreSignaled) {
  auto sems = CreateSemaphores(5);
  ASSERT_EQ(sems.size(), 5u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  for (auto& sem : sems) sem->Signal();
  EXPECT_EQ(WaitAll(items, 0), MAGMA_STATUS_OK);
  // Waiting reset nothing: all still signaled.
  EXPECT_EQ(WaitAll(items, 0), MAGMA_STATUS_OK);
  for (auto& sem : sems) sem->Reset();
  EXPECT_EQ(WaitAll(items, 0), MAGMA_STATUS_TIMED_OUT);
}

TEST_F(MagmaSemaphore, WaitAllSatisfiedFromAnotherThread) {
  auto sems = CreateSemaphores(4);
  ASSERT_EQ(sems.size(), 4u);
  std::vector<magma_poll_item_t> items = SemaphorePollItems(sems);
  std::thread signaller([&sems] {
    for (auto it = sems.rbegin(); it != sems.rend(); ++it) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      (*it)->Signal();
    }
  });
  EXPECT_EQ(WaitAll(items, kDefaultTimeoutNs), MAGMA_STATUS_OK);
  signaller.join();
}

TEST_F(MagmaSemaphore, WaitSatisfiedFromAnotherThread) {
  ExpectSignalFromAnotherThreadEndsWait(connection(), kDefaultTimeoutNs);
}

// A deadline an hour away, met by a signal from another thread after 50 ms.
TEST_F(MagmaSemaphore, LongDeadlineSatisfiedFromAnotherThread) {
  ExpectSignalFromAnotherThreadEndsWait(connection(), 3600ull * 1000 * kMsToNs);
}

// UINT64_MAX waits forever; a signal from another thread ends the wait.
TEST_F(MagmaSemaphore, InfiniteLongDeadlineSatisfiedFromAnotherThread) {
  ExpectSignalFromAnotherThreadEndsWait(connection(), UINT64_MAX);
}

TEST_F(MagmaSemaphore, ExportReturnsNewHandleEachCall) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  int fd1 = ExportSemaphore(sem.get());
  int fd2 = ExportSemaphore(sem.get());
  ASSERT_GE(fd1, 0);
  ASSERT_GE(fd2, 0);
  EXPECT_NE(fd1, fd2);
  close(fd1);
  close(fd2);
  // Closing exported handles does not affect the semaphore.
  sem.Signal();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ExportNullOutIsInvalid) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  EXPECT_EQ(magma_semaphore_export(sem.get(), nullptr), MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaSemaphore, ExportedHandleIsReadableExactlyWhileSignaled) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  int fd = ExportSemaphore(sem.get());
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(FdReadable(fd));
  sem.Signal();
  EXPECT_TRUE(FdReadable(fd));
  EXPECT_TRUE(FdReadable(fd));  // polling does not consume
  sem.Reset();
  EXPECT_FALSE(FdReadable(fd));
  close(fd);
}

TEST_F(MagmaSemaphore, ExportedHandleReadyWakesPollFromAnotherThread) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  int fd = ExportSemaphore(sem.get());
  ASSERT_GE(fd, 0);
  SignalAfter signaller(sem.get(), std::chrono::milliseconds(20));
  struct pollfd pfd = {fd, POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 10000), 1);
  EXPECT_TRUE(pfd.revents & POLLIN);
  signaller.Join();
  close(fd);
}

TEST_F(MagmaSemaphore, ExportedHandleWorksAsPollHandle) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  int fd = ExportSemaphore(sem.get());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(WaitHandleReadable(static_cast<magma_handle_t>(fd), 0), MAGMA_STATUS_TIMED_OUT);
  sem.Signal();
  EXPECT_EQ(WaitHandleReadable(static_cast<magma_handle_t>(fd), 0), MAGMA_STATUS_OK);
  close(fd);
}

TEST_F(MagmaSemaphore, ImportIntoSameConnectionIsANewSemaphore) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  auto imported = ImportSemaphore(connection(), ExportSemaphore(sem.get()));
  ASSERT_TRUE(imported);
  EXPECT_NE(imported->get(), sem.get());
  EXPECT_NE(imported->id(), sem.id());
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ImportSharesStateBothWays) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  auto imported = ImportSemaphore(other, ExportSemaphore(sem.get()));
  ASSERT_TRUE(imported);

  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_TIMED_OUT);
  sem.Signal();
  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_OK);
  imported->Reset();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_TIMED_OUT);
  imported->Signal();
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ImportOfSignaledSemaphoreIsSignaled) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  sem.Signal();
  auto imported = ImportSemaphore(connection(), ExportSemaphore(sem.get()));
  ASSERT_TRUE(imported);
  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ImportOutlivesTheOriginal) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  auto sem = std::make_unique<TestSemaphore>(connection());
  ASSERT_TRUE(sem->ok());
  int fd = ExportSemaphore(sem->get());
  sem.reset();  // released before the import
  auto imported = ImportSemaphore(other, fd);
  ASSERT_TRUE(imported);
  imported->Signal();
  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, OneShotImportIgnoresReset) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  auto one_shot =
      ImportSemaphore(connection(), ExportSemaphore(sem.get()), MAGMA_IMPORT_SEMAPHORE_ONE_SHOT);
  ASSERT_TRUE(one_shot);
  one_shot->Signal();
  one_shot->Reset();  // no effect
  EXPECT_EQ(one_shot->Wait(0), MAGMA_STATUS_OK);
  EXPECT_EQ(sem.Wait(0), MAGMA_STATUS_OK);
  // The original (not one-shot) can still reset the shared state.
  sem.Reset();
  EXPECT_EQ(one_shot->Wait(0), MAGMA_STATUS_TIMED_OUT);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// As Magma's import: unknown flags are refused before anything is sent, and the handle is
// consumed; the connection is not affected.
TEST_F(MagmaSemaphore, ImportUnknownFlagsIsInvalid) {
  TestSemaphore sem(connection());
  ASSERT_TRUE(sem.ok());
  // Let the service take in everything sent so far, so no fd number is reused under us.
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  int fd = ExportSemaphore(sem.get());
  ASSERT_GE(fd, 0);
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t id = 0;
  EXPECT_EQ(magma_connection_import_semaphore2(connection(), static_cast<magma_handle_t>(fd),
                                               1ull << 40, &semaphore, &id),
            MAGMA_STATUS_INVALID_ARGS);
  // The handle was consumed even though the import failed.
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ImportOfNonSemaphoreHandleFailsAndConsumesIt) {
  // Let the service take in everything sent so far, so no fd number is reused under us.
  ASSERT_EQ(Flush(), MAGMA_STATUS_OK);
  int fd = memfd_create("not-a-semaphore", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t id = 0;
  EXPECT_NE(magma_connection_import_semaphore2(connection(), static_cast<magma_handle_t>(fd), 0,
                                               &semaphore, &id),
            MAGMA_STATUS_OK);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST_F(MagmaSemaphore, ImportOfForeignEventfdWorks) {
  // Any eventfd is a semaphore handle on Linux: the export format is documented as an eventfd.
  int fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  int mine = dup(fd);
  ASSERT_GE(mine, 0);
  auto imported = ImportSemaphore(connection(), fd);
  ASSERT_TRUE(imported);
  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_TIMED_OUT);
  uint64_t one = 1;
  ASSERT_EQ(write(mine, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  EXPECT_EQ(imported->Wait(0), MAGMA_STATUS_OK);
  close(mine);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ReleaseLeavesOtherSemaphoresAlone) {
  TestSemaphore a(connection());
  TestSemaphore b(connection());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  b.Signal();
  a.Release();
  EXPECT_EQ(b.Wait(0), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, ManySemaphoresCreatedAndReleased) {
  for (int round = 0; round < 4; round++) {
    std::vector<std::unique_ptr<TestSemaphore>> sems;
    for (int i = 0; i < 500; i++) {
      sems.push_back(std::make_unique<TestSemaphore>(connection()));
      ASSERT_TRUE(sems.back()->ok()) << "round " << round << " semaphore " << i;
    }
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSemaphore, CreateSignalReleaseFromSeveralThreads) {
  // magma.h: every function may be called from any thread; calls on one connection serialise.
  constexpr int kThreads = 4, kPerThread = 200;
  magma_connection_t conn = connection();
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([conn, t, &failures] {
      for (int i = 0; i < kPerThread; i++) {
        magma_semaphore_t sem = 0;
        magma_semaphore_id_t id = 0;
        if (magma_connection_create_semaphore(conn, &sem, &id) != MAGMA_STATUS_OK) {
          failures[t]++;
          continue;
        }
        magma_semaphore_signal(sem);
        if (WaitSemaphore(sem, 0) != MAGMA_STATUS_OK) failures[t]++;
        magma_semaphore_reset(sem);
        if (WaitSemaphore(sem, 0) != MAGMA_STATUS_TIMED_OUT) failures[t]++;
        magma_connection_release_semaphore(conn, sem);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; t++) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

}  // namespace

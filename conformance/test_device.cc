// SPDX-License-Identifier: MIT
//
// test_device.cc - devices and queries (suites MagmaDevice, MagmaQuery): importing device
// channels, enumeration, every query id of magma.h and magma_sim_defs.h, NULL out-parameters
// and unknown ids.
#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "magma_test.h"

namespace {

// Reads @size bytes at offset 0 of a query's result buffer and closes it.
bool ReadResultBuffer(magma_handle_t handle, void* out, size_t size) {
  ssize_t n = pread(static_cast<int>(handle), out, size, 0);
  close(static_cast<int>(handle));
  return n == static_cast<ssize_t>(size);
}

}  // namespace

// ---- MagmaDevice ----

class MagmaDevice : public MagmaDeviceTest {};

TEST_F(MagmaDevice, ImportAndRelease) {
  int fd = OpenTestDeviceChannel();
  ASSERT_GE(fd, 0) << strerror(-fd);
  magma_device_t device = 0;
  ASSERT_EQ(magma_device_import(static_cast<magma_handle_t>(fd), &device), MAGMA_STATUS_OK);
  EXPECT_NE(device, 0u);
  magma_device_release(device);
}

TEST_F(MagmaDevice, NullDeviceOutIsInvalidArgs) {
  int fd = OpenTestDeviceChannel();
  ASSERT_GE(fd, 0) << strerror(-fd);
  // The handle is consumed on failure too; nothing to close here.
  EXPECT_EQ(magma_device_import(static_cast<magma_handle_t>(fd), nullptr),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaDevice, NonSocketHandleIsInvalidArgs) {
  int fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  magma_device_t device = 0;
  EXPECT_EQ(magma_device_import(static_cast<magma_handle_t>(fd), &device),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaDevice, PeerThatHangsUpIsConnectionLost) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  magma_device_t device = 0;
  EXPECT_EQ(magma_device_import(static_cast<magma_handle_t>(sv[0]), &device),
            MAGMA_STATUS_CONNECTION_LOST);
}

TEST_F(MagmaDevice, SeveralDevicesCoexist) {
  std::vector<magma_device_t> devices;
  for (int i = 0; i < 4; i++) {
    magma_device_t device = OpenTestDevice();
    ASSERT_NE(device, 0u);
    devices.push_back(device);
  }
  for (magma_device_t device : devices) {
    uint64_t vendor = 0;
    EXPECT_EQ(magma_device_query(device, MAGMA_QUERY_VENDOR_ID, nullptr, &vendor), MAGMA_STATUS_OK);
    EXPECT_EQ(vendor, MAGMA_SIM_VENDOR_ID);
  }
  for (magma_device_t device : devices) magma_device_release(device);
}

TEST_F(MagmaDevice, ConnectionOutlivesItsDevice) {
  magma_device_t device = OpenTestDevice();
  ASSERT_NE(device, 0u);
  magma_connection_t connection = 0;
  ASSERT_EQ(magma_device_create_connection(device, &connection), MAGMA_STATUS_OK);
  magma_device_release(device);

  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  EXPECT_EQ(magma_connection_create_buffer(connection, kPageSize, &size, &buffer, &id),
            MAGMA_STATUS_OK);
  uint32_t context_id = 0;
  EXPECT_EQ(magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id),
            MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_OK);
  if (buffer) magma_connection_release_buffer(connection, buffer);
  magma_connection_release(connection);
}

TEST_F(MagmaDevice, CreateManyConnections) {
  std::vector<magma_connection_t> connections;
  for (int i = 0; i < 32; i++) {
    magma_connection_t connection = 0;
    ASSERT_EQ(magma_device_create_connection(device(), &connection), MAGMA_STATUS_OK) << i;
    connections.push_back(connection);
  }
  std::set<magma_connection_t> distinct(connections.begin(), connections.end());
  EXPECT_EQ(distinct.size(), connections.size());
  for (magma_connection_t connection : connections) {
    EXPECT_EQ(magma_connection_flush(connection), MAGMA_STATUS_OK);
    magma_connection_release(connection);
  }
}

TEST_F(MagmaDevice, QueriesFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kQueries = 200;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([this, t, &failures] {
      for (int i = 0; i < kQueries; i++) {
        uint64_t value = 0;
        if (magma_device_query(device(), MAGMA_QUERY_VENDOR_ID, nullptr, &value) !=
                MAGMA_STATUS_OK ||
            value != MAGMA_SIM_VENDOR_ID)
          failures[t]++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; t++) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST_F(MagmaDevice, EnumeratePathsAreNulTerminated) {
  uint32_t count = 16;
  std::vector<char> paths(16 * PATH_MAX, 'x');
  ASSERT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &count, PATH_MAX, paths.data()),
            MAGMA_STATUS_OK);
  ASSERT_LE(count, 16u);
  for (uint32_t i = 0; i < count; i++) {
    const char* path = &paths[i * PATH_MAX];
    ASSERT_NE(memchr(path, '\0', PATH_MAX), nullptr) << "slot " << i << " not NUL-terminated";
    EXPECT_GT(strlen(path), 0u);
  }
  // Under magma-sim-run the device being tested is one of those listed.
  const char* tested = TestDevicePath();
  if (getenv("MAGMA_SIM_DEVICE_DIR") && strncmp(tested, "/dev/", 5) == 0) {
    bool found = false;
    for (uint32_t i = 0; i < count; i++) found |= strcmp(&paths[i * PATH_MAX], tested) == 0;
    EXPECT_TRUE(found) << tested << " not enumerated";
  }
}

TEST_F(MagmaDevice, EnumerateTooFewSlotsIsMemoryError) {
  uint32_t count = 16;
  std::vector<char> paths(16 * PATH_MAX);
  ASSERT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &count, PATH_MAX, paths.data()),
            MAGMA_STATUS_OK);
  if (count == 0) GTEST_SKIP() << "no enumerable device (embedded device only)";
  uint32_t fewer = count - 1;
  EXPECT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &fewer, PATH_MAX, paths.data()),
            MAGMA_STATUS_MEMORY_ERROR);
}

TEST_F(MagmaDevice, EnumerateTooSmallPathSizeIsInvalidArgs) {
  uint32_t count = 16;
  std::vector<char> paths(16 * PATH_MAX);
  ASSERT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &count, PATH_MAX, paths.data()),
            MAGMA_STATUS_OK);
  if (count == 0) GTEST_SKIP() << "no enumerable device (embedded device only)";
  uint32_t again = 16;
  EXPECT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &again, 2, paths.data()),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaDevice, EnumeratedDevicesAnswerQueries) {
  uint32_t count = 16;
  std::vector<char> paths(16 * PATH_MAX);
  ASSERT_EQ(magma_enumerate_devices(MAGMA_DEVICE_NAMESPACE, 0, &count, PATH_MAX, paths.data()),
            MAGMA_STATUS_OK);
  if (count == 0) GTEST_SKIP() << "no enumerable device (embedded device only)";
  for (uint32_t i = 0; i < count; i++) {
    const char* path = &paths[i * PATH_MAX];
    int fd = OpenDeviceChannelAt(path);
    ASSERT_GE(fd, 0) << path << ": " << strerror(-fd);
    magma_device_t device = 0;
    ASSERT_EQ(magma_device_import(static_cast<magma_handle_t>(fd), &device), MAGMA_STATUS_OK);
    uint64_t vendor = 0;
    EXPECT_EQ(magma_device_query(device, MAGMA_QUERY_VENDOR_ID, nullptr, &vendor), MAGMA_STATUS_OK);
    EXPECT_EQ(vendor, MAGMA_SIM_VENDOR_ID);
    magma_device_release(device);
  }
}

TEST_F(MagmaDevice, InitializeTracingAndLoggingAreOk) {
  int fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(magma_initialize_tracing(static_cast<magma_handle_t>(fd)), MAGMA_STATUS_OK);
  fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(magma_initialize_logging(static_cast<magma_handle_t>(fd)), MAGMA_STATUS_OK);
  // Invalid handles are fine too (tests on Linux pass -1).
  EXPECT_EQ(magma_initialize_tracing(static_cast<magma_handle_t>(-1)), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_initialize_logging(static_cast<magma_handle_t>(-1)), MAGMA_STATUS_OK);
}

// ---- MagmaQuery ----

class MagmaQuery : public MagmaDeviceTest {};

TEST_F(MagmaQuery, VendorId) { EXPECT_EQ(QueryValue(MAGMA_QUERY_VENDOR_ID), MAGMA_SIM_VENDOR_ID); }

TEST_F(MagmaQuery, DeviceId) {
  uint64_t id = QueryValue(MAGMA_QUERY_DEVICE_ID);
  EXPECT_EQ(id, 0x51A1u);  // GPU_ID.PRODUCT of SIM-1 (docs/sim-gpu.md)
  EXPECT_EQ(QueryValue(MAGMA_QUERY_DEVICE_ID), id) << "not stable";
}

TEST_F(MagmaQuery, VendorVersion) {
  EXPECT_EQ(QueryValue(MAGMA_QUERY_VENDOR_VERSION), MAGMA_SIM_VENDOR_VERSION);
}

TEST_F(MagmaQuery, IsTotalTimeSupported) {
  EXPECT_EQ(QueryValue(MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED), 1u);
}

TEST_F(MagmaQuery, MaximumInflightParams) {
  uint64_t value = QueryValue(MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS);
  EXPECT_GT(value >> 32, 0u) << "max inflight messages";
  EXPECT_GT(value & 0xffffffffu, 0u) << "max inflight MB";
}

TEST_F(MagmaQuery, TotalTimeReturnsBuffer) {
  uint64_t before = NowNs();
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &handle, nullptr),
            MAGMA_STATUS_OK);
  uint64_t after = NowNs();
  magma_total_time_query_result_t result = {};
  ASSERT_TRUE(ReadResultBuffer(handle, &result, sizeof(result)));
  EXPECT_GE(result.monotonic_time_ns, before);
  EXPECT_LE(result.monotonic_time_ns, after);
}

TEST_F(MagmaQuery, TotalTimeWithUnusedResultOut) {
  magma_handle_t handle = 0;
  uint64_t unused = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &handle, &unused),
            MAGMA_STATUS_OK);
  magma_total_time_query_result_t result = {};
  EXPECT_TRUE(ReadResultBuffer(handle, &result, sizeof(result)));
}

TEST_F(MagmaQuery, TotalTimeWithNullBufferOutIsInvalidArgs) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, nullptr, &value),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaQuery, SimpleQueryWithNullBufferOut) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_VENDOR_ID, nullptr, &value), MAGMA_STATUS_OK);
}

// As Magma: a query answered with a value sets the unused buffer slot to an invalid handle (on
// Linux a negative fd), never leaving it untouched or 0 (which is a valid fd).
TEST_F(MagmaQuery, SimpleQueryWithUnusedBufferOut) {
  const uint64_t value_queries[] = {MAGMA_QUERY_VENDOR_ID,
                                    MAGMA_QUERY_DEVICE_ID,
                                    MAGMA_QUERY_VENDOR_VERSION,
                                    MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED,
                                    MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS,
                                    MAGMA_SIM_QUERY_FEATURES};
  for (uint64_t id : value_queries) {
    for (magma_handle_t before : {0u, 7u, 0x12345u}) {
      magma_handle_t handle = before;
      uint64_t value = 0;
      EXPECT_EQ(magma_device_query(device(), id, &handle, &value), MAGMA_STATUS_OK) << id;
      EXPECT_LT(static_cast<int>(handle), 0) << "query " << id << " left " << handle;
    }
  }
  magma_handle_t handle = 0;
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_VENDOR_ID, &handle, &value), MAGMA_STATUS_OK);
  EXPECT_EQ(value, MAGMA_SIM_VENDOR_ID);
}

// The opposite for a query answered with a buffer: the value slot is set to 0.
TEST_F(MagmaQuery, BufferQueryClearsTheUnusedValueOut) {
  magma_handle_t handle = static_cast<magma_handle_t>(-1);
  uint64_t value = 0xdeadbeef;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &handle, &value), MAGMA_STATUS_OK);
  EXPECT_GE(static_cast<int>(handle), 0);
  EXPECT_EQ(value, 0u);
  magma_total_time_query_result_t result = {};
  EXPECT_TRUE(ReadResultBuffer(handle, &result, sizeof(result)));
}

TEST_F(MagmaQuery, SimpleQueryWithNullResultOutIsInvalidArgs) {
  magma_handle_t handle = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_VENDOR_ID, &handle, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaQuery, BothOutsNullIsInvalidArgs) {
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_VENDOR_ID, nullptr, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, nullptr, nullptr),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaQuery, UnknownIdsAreInvalidArgs) {
  const uint64_t unknown[] = {
      4,  // retired MINIMUM_MAPPABLE_ADDRESS
      6, 100, 499, 501, 9999, MAGMA_QUERY_VENDOR_PARAM_0 + 1000, UINT32_MAX, UINT64_MAX};
  for (uint64_t id : unknown) {
    uint64_t value = 0;
    magma_handle_t handle = 0;
    EXPECT_EQ(magma_device_query(device(), id, &handle, &value), MAGMA_STATUS_INVALID_ARGS)
        << "id " << id;
  }
}

TEST_F(MagmaQuery, UnknownIdLeavesDeviceUsable) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), 12345678, nullptr, &value), MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(QueryValue(MAGMA_QUERY_VENDOR_ID), MAGMA_SIM_VENDOR_ID);
}

TEST_F(MagmaQuery, VendorFeatures) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_SIM_QUERY_FEATURES, nullptr, &value),
            MAGMA_STATUS_OK);
}

TEST_F(MagmaQuery, VendorConfig) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_SIM_QUERY_CONFIG, nullptr, &value), MAGMA_STATUS_OK);
  EXPECT_NE(value, 0u);
}

TEST_F(MagmaQuery, VendorClockHz) { EXPECT_GT(QueryValue(MAGMA_SIM_QUERY_CLOCK_HZ), 0u); }

TEST_F(MagmaQuery, VendorGpuVaLimit) {
  EXPECT_EQ(QueryValue(MAGMA_SIM_QUERY_GPU_VA_LIMIT), MAGMA_SIM_GPU_VA_LIMIT);
}

TEST_F(MagmaQuery, VendorTimestampReturnsBuffer) {
  uint64_t before = NowNs();
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_SIM_QUERY_TIMESTAMP, &handle, nullptr),
            MAGMA_STATUS_OK);
  uint64_t after = NowNs();
  magma_sim_timestamp ts = {};
  ASSERT_TRUE(ReadResultBuffer(handle, &ts, sizeof(ts)));
  EXPECT_LE(before, ts.monotonic_ns_before);
  EXPECT_LE(ts.monotonic_ns_before, ts.monotonic_ns_after);
  EXPECT_LE(ts.monotonic_ns_after, after);
}

TEST_F(MagmaQuery, VendorTimestampWithNullBufferOutIsInvalidArgs) {
  uint64_t value = 0;
  EXPECT_EQ(magma_device_query(device(), MAGMA_SIM_QUERY_TIMESTAMP, nullptr, &value),
            MAGMA_STATUS_INVALID_ARGS);
}

TEST_F(MagmaQuery, EachBufferResultIsANewHandle) {
  magma_handle_t a = 0, b = 0;
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &a, nullptr), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_device_query(device(), MAGMA_QUERY_TOTAL_TIME, &b, nullptr), MAGMA_STATUS_OK);
  EXPECT_NE(a, b);
  close(static_cast<int>(a));
  close(static_cast<int>(b));
}

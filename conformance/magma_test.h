// SPDX-License-Identifier: MIT
//
// magma_test.h - support code shared by every conformance test: which device to test, fixtures
// that open a device and a connection, RAII wrappers for buffers and semaphores, a command-stream
// builder over sim_cmd.h's emitters, command submission (also by a second client, TestClient),
// semaphore waits and magma_poll items.
//
// Everything here is written against magma.h (plus magma_sim_defs.h for the SIM-1 command
// stream), so the suite exercises exactly what a client driver sees. The only exception is
// OpenTestDevice(), which reaches the embedded device through magma_system/embedded.h when no
// device path is given. Helpers report problems through GoogleTest (ADD_FAILURE) and return a
// neutral value, so a test can ASSERT on what it needs. All helpers may be called from any
// thread; the fixtures belong to the test's thread.
#ifndef CONFORMANCE_MAGMA_TEST_H_
#define CONFORMANCE_MAGMA_TEST_H_

#include <gtest/gtest.h>
#include <lib/magma/magma.h>
#include <magma_sim_defs.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMsToNs = 1000000ull;
// A generous bound for anything that should happen "soon" on a shared, loaded machine: 10 s, or
// $MAGMA_CONFORMANCE_TIMEOUT_MS (100 to 600000; read once at start-up). A fault campaign lowers
// it: a test whose context a fault killed waits this long for a semaphore that never comes.
extern const uint64_t kDefaultTimeoutNs;
constexpr uint64_t kMapReadWrite = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE;
constexpr uint64_t kMapAll = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE | MAGMA_MAP_FLAG_EXECUTE;

// ---- Which device ----

// The device under test: --device PATH (main.cc), else $MAGMA_DEVICE, else "" (embedded).
const char* TestDevicePath();
// Set by main.cc from --device (copied). nullptr or "" selects the default again.
void SetTestDevicePath(const char* path);
// True when the tests run against the in-process embedded device.
bool IsEmbeddedDevice();
// A new device channel fd for the device under test (open() first, so magma-sim-run's shim can
// serve /dev/magma0, then connect() for a socket path), or -errno.
int OpenTestDeviceChannel();
// The same for the device at @path (open(), else connect() to a socket), or -errno.
int OpenDeviceChannelAt(const char* path);
// A new fd to the performance-counter access token of the device under test (embedded:
// magma_sim_embedded_perf_token; a device path P: open(P + ".perf-token"), which magma-sim-run's
// shim maps to the daemon's file), or -errno.
int OpenPerfCounterToken();
// Imports a new channel as a device; 0 (with a test failure added) when that fails.
magma_device_t OpenTestDevice();

// ---- Child processes ----
//
// Tests that need a second process run a registered child routine in a fresh copy of this
// binary (fork + exec, so the child starts clean: no inherited service threads, nothing for
// Valgrind to report, and the device under test opened the same way). The child gets one end of
// a socketpair and its return value becomes its exit status.

using ChildMain = int (*)(int sock);

// Registers @fn under @name (use MAGMA_TEST_CHILD at namespace scope).
bool RegisterChildMain(const char* name, ChildMain fn);
#define MAGMA_TEST_CHILD(name)                                          \
  static int name(int sock);                                            \
  static const bool name##_registered = RegisterChildMain(#name, name); \
  static int name(int sock)

// Starts child routine @name; returns its pid (or -1 with a test failure) and the parent's end of
// the socketpair in *@sock_out (the caller closes it).
pid_t SpawnChild(const char* name, int* sock_out);
// The child's exit status, or a negative value when it crashed (-1) or had to be killed after
// @timeout_ns (-2).
int WaitChild(pid_t pid, uint64_t timeout_ns = 60000 * kMsToNs);
// For main.cc: runs the child routine when @argv asks for one (sets *@ran and returns its
// status).
int RunChildIfRequested(int argc, char** argv, bool* ran);

// ---- Small utilities ----

uint64_t NowNs();  // CLOCK_MONOTONIC
inline uint64_t RoundUpToPage(uint64_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

// Expects @connection to have been closed by a remote (feed-forward) error: magma_connection_flush
// and magma_connection_get_error return @expected, a magma_poll of the notification channel with
// an infinite timeout returns MAGMA_STATUS_CONNECTION_LOST (it must not block), and a later call
// that sends returns MAGMA_STATUS_CONNECTION_LOST.
void ExpectClosedByRemoteError(magma_connection_t connection, magma_status_t expected);

// Waits for @semaphore to be signaled (magma_poll); returns magma_poll's status.
magma_status_t WaitSemaphore(magma_semaphore_t semaphore, uint64_t timeout_ns = kDefaultTimeoutNs);
// Waits for @semaphore, or for @connection to close (its notification channel hangs up:
// MAGMA_STATUS_CONNECTION_LOST), so a test whose work killed the connection fails fast.
magma_status_t WaitSemaphoreOrConnectionLoss(magma_connection_t connection,
                                             magma_semaphore_t semaphore,
                                             uint64_t timeout_ns = kDefaultTimeoutNs);
// Waits until @handle is readable; returns magma_poll's status.
magma_status_t WaitHandleReadable(magma_handle_t handle, uint64_t timeout_ns = kDefaultTimeoutNs);
// Polls magma_connection_get_error until @connection reports an error or @timeout_ns pass;
// returns the last status (MAGMA_STATUS_OK when none came).
magma_status_t WaitForConnectionError(magma_connection_t connection,
                                      uint64_t timeout_ns = kDefaultTimeoutNs);
// Waits until no client has work on @device: msd-sim powers the cores down (CORES_READY of
// MAGMA_SIM_QUERY_POWER becomes 0) only after 50 ms with nothing queued or running. False after
// @timeout_ns. For tests that leave work behind on purpose, so that the GPU-global performance
// counters and busy time of later tests see only their own work.
bool WaitForIdleGpu(magma_device_t device, uint64_t timeout_ns = kDefaultTimeoutNs);

// magma_poll items: @semaphore to be signaled, @handle to be readable.
magma_poll_item_t SemaphorePollItem(magma_semaphore_t semaphore);
magma_poll_item_t HandlePollItem(magma_handle_t handle);

// Runs @wait and expects it to return MAGMA_STATUS_TIMED_OUT after at least @timeout_ns (for the
// tests of magma_poll's deadlines). No upper bound: a loaded host may oversleep; a wait that
// never ends is caught by ctest's timeout.
void ExpectTimesOut(const std::function<magma_status_t()>& wait, uint64_t timeout_ns);

// Assembles SIM-1 assembly @source (sim_asm_assemble); empty with a test failure on error.
std::vector<uint64_t> AssembleKernel(const char* source);

// Where a GpuVaAllocator (and a TestClient's VAs) start by default.
constexpr uint64_t kFirstGpuVa = 0x10000000ull;
// Hands out page-aligned, non-overlapping GPU VAs inside the client range, one allocator per
// connection/test. Allocations are never reused; guard pages separate them.
class GpuVaAllocator {
 public:
  explicit GpuVaAllocator(uint64_t base = kFirstGpuVa) : next_(base) {}
  uint64_t Alloc(uint64_t size) {
    uint64_t va = next_;
    next_ += RoundUpToPage(size ? size : 1) + kPageSize;
    return va;
  }

 private:
  uint64_t next_;
};

// ---- Objects ----

// A buffer of one connection: created in the constructor, optionally GPU-mapped and CPU-mapped,
// released (with its mappings) in the destructor. Not copyable. Check ok() after constructing.
class TestBuffer {
 public:
  TestBuffer(magma_connection_t connection, uint64_t size);
  // Wraps an imported buffer (takes ownership of @buffer).
  TestBuffer(magma_connection_t connection, magma_buffer_t buffer, magma_buffer_id_t id,
             uint64_t size);
  ~TestBuffer();
  TestBuffer(const TestBuffer&) = delete;
  TestBuffer& operator=(const TestBuffer&) = delete;

  bool ok() const { return buffer_ != 0; }
  magma_status_t create_status() const { return create_status_; }
  magma_connection_t connection() const { return connection_; }
  magma_buffer_t get() const { return buffer_; }
  magma_buffer_id_t id() const { return id_; }
  uint64_t size() const { return size_; }

  // Maps the whole buffer at @gpu_va (remembered as gpu_va()); returns map_buffer's status.
  magma_status_t MapGpu(uint64_t gpu_va, uint64_t flags = kMapAll);
  // Unmaps the mapping made by MapGpu (no-op when not mapped).
  void UnmapGpu();
  uint64_t gpu_va() const { return gpu_va_; }

  // CPU mapping of the whole buffer (made on first use through magma_buffer_get_handle; nullptr
  // with a test failure when that fails). Shared, read/write.
  void* cpu();
  uint32_t* words() { return static_cast<uint32_t*>(cpu()); }
  uint8_t* bytes() { return static_cast<uint8_t*>(cpu()); }

  // Releases now (also done by the destructor). Safe to call twice.
  void Release();

 private:
  magma_connection_t connection_;
  magma_buffer_t buffer_ = 0;
  magma_buffer_id_t id_ = 0;
  uint64_t size_ = 0;
  uint64_t gpu_va_ = 0;
  bool gpu_mapped_ = false;
  void* cpu_ = nullptr;
  magma_status_t create_status_ = MAGMA_STATUS_OK;
};

// A semaphore of one connection, released in the destructor. Check ok() after constructing.
class TestSemaphore {
 public:
  explicit TestSemaphore(magma_connection_t connection);
  // Wraps an imported semaphore (takes ownership).
  TestSemaphore(magma_connection_t connection, magma_semaphore_t semaphore, magma_semaphore_id_t id)
      : connection_(connection), semaphore_(semaphore), id_(id) {}
  ~TestSemaphore() { Release(); }
  TestSemaphore(const TestSemaphore&) = delete;
  TestSemaphore& operator=(const TestSemaphore&) = delete;

  bool ok() const { return semaphore_ != 0; }
  magma_semaphore_t get() const { return semaphore_; }
  magma_semaphore_id_t id() const { return id_; }
  void Signal() { magma_semaphore_signal(semaphore_); }
  void Reset() { magma_semaphore_reset(semaphore_); }
  magma_status_t Wait(uint64_t timeout_ns = kDefaultTimeoutNs) {
    return WaitSemaphore(semaphore_, timeout_ns);
  }
  // True when signaled right now (poll with timeout 0).
  bool IsSignaled() { return WaitSemaphore(semaphore_, 0) == MAGMA_STATUS_OK; }
  void Release();

 private:
  magma_connection_t connection_;
  magma_semaphore_t semaphore_ = 0;
  magma_semaphore_id_t id_ = 0;
};

// Exports @buffer / @semaphore and imports the handle into @into (import flags @flags), wrapped
// for release; nullptr with a test failure when either step fails.
std::unique_ptr<TestBuffer> Reimport(const TestBuffer& buffer, magma_connection_t into);
std::unique_ptr<TestSemaphore> Reimport(const TestSemaphore& semaphore, magma_connection_t into,
                                        uint64_t flags = 0);
// Poll items for @semaphores (SemaphorePollItem), in order.
std::vector<magma_poll_item_t> SemaphorePollItems(
    const std::vector<std::unique_ptr<TestSemaphore>>& semaphores);

// Signals @semaphore from a thread of its own once @delay has passed (another thread's signal for
// a test to wait for). Join() (or the destructor) waits for that thread.
class SignalAfter {
 public:
  SignalAfter(magma_semaphore_t semaphore, std::chrono::milliseconds delay);
  ~SignalAfter() { Join(); }
  SignalAfter(const SignalAfter&) = delete;
  SignalAfter& operator=(const SignalAfter&) = delete;
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// Builds a SIM-1 command stream (sim_cmd.h emitters) as 32-bit words. Use data()/size_bytes()
// for inline commands, or WriteTo() to copy it into a command buffer.
class CommandStream {
 public:
  CommandStream& Write32(uint64_t va, uint32_t value);
  CommandStream& Write64(uint64_t va, uint64_t value);
  CommandStream& Copy(uint64_t dst, uint64_t src, uint64_t size);
  CommandStream& Fill(uint64_t dst, uint64_t size, uint32_t pattern);
  CommandStream& Timestamp(uint64_t va, uint32_t flags = 0);
  CommandStream& Wait(uint64_t va, uint64_t ref, uint32_t flags = SIM_CMD_WAIT_EQ);
  CommandStream& Signal(uint64_t va, uint64_t value, uint32_t flags = 0);
  CommandStream& Dispatch(uint64_t prog_va, uint32_t prog_count, uint64_t args_va,
                          uint32_t groups_x, uint32_t groups_y, uint32_t local_size);
  CommandStream& Jump(uint64_t va, uint32_t size_bytes);
  CommandStream& Interrupt(uint32_t payload);
  CommandStream& Nop(uint32_t payload_dwords = 0);
  CommandStream& End();
  CommandStream& Raw(uint32_t word);

  const uint32_t* data() const { return words_.data(); }
  uint32_t* data() { return words_.data(); }
  uint64_t size_bytes() const { return words_.size() * sizeof(uint32_t); }
  size_t word_count() const { return words_.size(); }
  void Clear() { words_.clear(); }
  // Copies the stream into @buffer's CPU mapping at @offset; false (with a failure) if it does
  // not fit.
  bool WriteTo(TestBuffer& buffer, uint64_t offset = 0) const;

 private:
  uint32_t* Grow(size_t n);
  std::vector<uint32_t> words_;
};

// One resource of a submission: a (mapped) buffer range; length 0 = to the end of the buffer.
struct ExecResource {
  const TestBuffer* buffer;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Submits one command buffer: @commands (resource 0, executed from offset 0 for
// @command_bytes, 0 = the whole buffer) plus @resources, waiting for @wait_ids and signalling
// @signal_ids, with descriptor @flags. Returns magma_connection_execute_command's status.
magma_status_t Execute(magma_connection_t connection, uint32_t context_id,
                       const TestBuffer& commands, uint64_t command_bytes,
                       const std::vector<ExecResource>& resources = {},
                       const std::vector<magma_semaphore_id_t>& wait_ids = {},
                       const std::vector<magma_semaphore_id_t>& signal_ids = {},
                       uint64_t flags = 0);

// Submits @stream as one inline command buffer that signals @signal_ids.
magma_status_t ExecuteInline(magma_connection_t connection, uint32_t context_id,
                             const CommandStream& stream,
                             const std::vector<magma_semaphore_id_t>& signal_ids = {});

// A new buffer of @size of @connection, GPU-mapped with @flags at a VA from @va; nullptr with a
// test failure on error.
std::unique_ptr<TestBuffer> CreateMappedBufferIn(magma_connection_t connection, GpuVaAllocator& va,
                                                 uint64_t size, uint64_t flags = kMapAll);
// A new command buffer of @connection holding @cs (its size rounded up to pages), mapped at a VA
// from @va; nullptr with a test failure on error.
std::unique_ptr<TestBuffer> CreateCommandBufferIn(magma_connection_t connection, GpuVaAllocator& va,
                                                  const CommandStream& cs);

// Another client of the device on a connection the test owns (for example one from
// MagmaConnectionTest::CreateExtraConnection()): a context of its own (created in the
// constructor; check ok()), its own GPU VAs and the command buffers it submits, which it keeps
// until it is destroyed (destroy it before the connection is released).
class TestClient {
 public:
  explicit TestClient(magma_connection_t connection, uint64_t va_base = kFirstGpuVa);
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool ok() const { return context_ != 0; }
  magma_connection_t connection() const { return connection_; }
  uint32_t context() const { return context_; }
  GpuVaAllocator& va() { return va_; }
  magma_status_t Flush() { return magma_connection_flush(connection_); }
  // A new buffer of @size mapped at the next VA (nullptr with a failure on error).
  std::unique_ptr<TestBuffer> CreateMappedBuffer(uint64_t size, uint64_t flags = kMapAll) {
    return CreateMappedBufferIn(connection_, va_, size, flags);
  }
  // Copies @cs into a new command buffer and submits it on context() (see Execute); returns
  // Execute's status, or MAGMA_STATUS_INTERNAL_ERROR with a failure when the command buffer
  // cannot be made.
  magma_status_t Submit(const CommandStream& cs, const std::vector<ExecResource>& resources = {},
                        const std::vector<magma_semaphore_id_t>& wait_ids = {},
                        const std::vector<magma_semaphore_id_t>& signal_ids = {},
                        uint64_t flags = 0);

 private:
  magma_connection_t connection_;
  uint32_t context_ = 0;
  GpuVaAllocator va_;
  std::vector<std::unique_ptr<TestBuffer>> command_buffers_;
};

// ---- Fixtures ----

// Opens the device under test in SetUp and releases it in TearDown.
class MagmaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  magma_device_t device() const { return device_; }
  // magma_device_query for a simple value; 0 with a failure when the query fails.
  uint64_t QueryValue(uint64_t id);

 private:
  magma_device_t device_ = 0;
};

// Adds a connection (created in SetUp, released in TearDown) and a per-test GPU VA allocator.
// Objects the test creates through the helpers below die with the connection.
class MagmaConnectionTest : public MagmaDeviceTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  magma_connection_t connection() const { return connection_; }
  GpuVaAllocator& va() { return va_; }
  uint64_t AllocGpuVa(uint64_t size) { return va_.Alloc(size); }
  // Creates a context (0 with a failure when that fails).
  uint32_t CreateContext(magma_priority_t priority = MAGMA_PRIORITY_MEDIUM);
  // A new buffer of @size mapped at a fresh GPU VA (nullptr with a failure on error).
  std::unique_ptr<TestBuffer> CreateMappedBuffer(uint64_t size, uint64_t flags = kMapAll);
  // magma_connection_flush of this test's connection.
  magma_status_t Flush() { return magma_connection_flush(connection_); }
  // Creates a second connection on the same device (released in TearDown).
  magma_connection_t CreateExtraConnection();
  // Lanes per workgroup the device supports (CONFIG0.LANES), at most 32.
  uint32_t Lanes();
  // Puts @code (sim_asm output) into a new buffer mapped at a fresh GPU VA, all access allowed
  // (nullptr with a failure on error).
  std::unique_ptr<TestBuffer> LoadKernel(const std::vector<uint64_t>& code);
  // A new command buffer holding @cs, mapped at a fresh GPU VA (nullptr with a failure on error).
  std::unique_ptr<TestBuffer> CreateCommandBuffer(const CommandStream& cs) {
    return CreateCommandBufferIn(connection_, va_, cs);
  }
  // @count new semaphores of this connection; empty with a failure when one cannot be created.
  std::vector<std::unique_ptr<TestSemaphore>> CreateSemaphores(size_t count);
  // Copies @cs into a new command buffer mapped at a fresh GPU VA (kept until TearDown) and
  // submits it on @context_id (see Execute). Returns Execute's status, or
  // MAGMA_STATUS_INTERNAL_ERROR with a failure when the command buffer cannot be made.
  magma_status_t SubmitCommands(uint32_t context_id, const CommandStream& cs,
                                const std::vector<ExecResource>& resources = {},
                                const std::vector<magma_semaphore_id_t>& wait_ids = {},
                                const std::vector<magma_semaphore_id_t>& signal_ids = {},
                                uint64_t flags = 0);

 private:
  magma_connection_t connection_ = 0;
  std::vector<magma_connection_t> extra_connections_;
  GpuVaAllocator va_;
  std::vector<std::unique_ptr<TestBuffer>> submitted_commands_;  // SubmitCommands'
};

#endif  // CONFORMANCE_MAGMA_TEST_H_

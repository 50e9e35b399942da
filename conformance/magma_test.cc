// SPDX-License-Identifier: MIT
//
// magma_test.cc - the shared support code of the conformance suite (see magma_test.h).
#include "magma_test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magma_system/embedded.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::mutex g_path_lock;
std::string g_device_path;  // from --device; guarded by g_path_lock
bool g_device_path_set = false;

uint64_t DefaultTimeoutFromEnv() {
  const char* env = getenv("MAGMA_CONFORMANCE_TIMEOUT_MS");
  char* end = nullptr;
  long ms = env ? strtol(env, &end, 10) : 0;
  if (!env || !*env || *end || ms < 100 || ms > 600000) {
    if (env && *env)
      fprintf(stderr, "MAGMA_CONFORMANCE_TIMEOUT_MS=%s ignored (100 to 600000): 10000 ms\n", env);
    return 10000 * kMsToNs;
  }
  return static_cast<uint64_t>(ms) * kMsToNs;
}

}  // namespace

const uint64_t kDefaultTimeoutNs = DefaultTimeoutFromEnv();

const char* TestDevicePath() {
  std::lock_guard<std::mutex> lock(g_path_lock);
  if (g_device_path_set) return g_device_path.c_str();
  const char* env = getenv("MAGMA_DEVICE");
  return env ? env : "";
}

void SetTestDevicePath(const char* path) {
  std::lock_guard<std::mutex> lock(g_path_lock);
  g_device_path_set = path && *path;
  g_device_path = g_device_path_set ? path : "";
}

bool IsEmbeddedDevice() { return TestDevicePath()[0] == '\0'; }

int OpenDeviceChannelAt(const char* path) {
  // /dev/magma0 under magma-sim-run: the preload shim turns open() into a connected socket.
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd >= 0) return fd;
  int open_errno = errno;

  // A daemon's socket (magma-simd --dir DIR: DIR/magma0): open() fails with ENXIO.
  struct sockaddr_un addr = {};
  if (strlen(path) >= sizeof(addr.sun_path)) return -ENAMETOOLONG;
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    return -(open_errno == ENXIO || open_errno == EOPNOTSUPP ? err : open_errno);
  }
  return fd;
}

int OpenTestDeviceChannel() {
  const char* path = TestDevicePath();
  return *path ? OpenDeviceChannelAt(path) : magma_sim_embedded_open();
}

int OpenPerfCounterToken() {
  const char* path = TestDevicePath();
  if (!*path) return magma_sim_embedded_perf_token();
  std::string token = std::string(path) + ".perf-token";
  int fd = open(token.c_str(), O_RDONLY | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

magma_device_t OpenTestDevice() {
  int fd = OpenTestDeviceChannel();
  if (fd < 0) {
    ADD_FAILURE() << "cannot open device '" << TestDevicePath() << "': " << strerror(-fd);
    return 0;
  }
  magma_device_t device = 0;
  magma_status_t status = magma_device_import(static_cast<magma_handle_t>(fd), &device);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_device_import failed: " << status;
    return 0;
  }
  return device;
}

// ---- Child processes ----

namespace {

constexpr const char kChildFlag[] = "--magma-conformance-child";

std::map<std::string, ChildMain>& ChildRegistry() {
  static std::map<std::string, ChildMain> registry;
  return registry;
}

}  // namespace

bool RegisterChildMain(const char* name, ChildMain fn) {
  ChildRegistry()[name] = fn;
  return true;
}

pid_t SpawnChild(const char* name, int* sock_out) {
  if (!ChildRegistry().count(name)) {
    ADD_FAILURE() << "no child routine " << name;
    return -1;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    ADD_FAILURE() << "readlink /proc/self/exe: " << strerror(errno);
    return -1;
  }
  exe[n] = '\0';
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    ADD_FAILURE() << "socketpair: " << strerror(errno);
    return -1;
  }
  // Everything the child needs is prepared before fork (only async-signal-safe calls after).
  std::string fd_arg = std::to_string(sv[1]);
  std::string device = TestDevicePath();
  std::vector<char*> argv = {exe, const_cast<char*>(kChildFlag), const_cast<char*>(name),
                             const_cast<char*>(fd_arg.c_str())};
  if (!device.empty()) {
    argv.push_back(const_cast<char*>("--device"));
    argv.push_back(const_cast<char*>(device.c_str()));
  }
  argv.push_back(nullptr);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    fcntl(sv[1], F_SETFD, 0);  // the child's end survives exec
    execv(exe, argv.data());
    _exit(127);
  }
  close(sv[1]);
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << strerror(errno);
    close(sv[0]);
    return -1;
  }
  *sock_out = sv[0];
  return pid;
}

int WaitChild(pid_t pid, uint64_t timeout_ns) {
  uint64_t deadline = NowNs() + timeout_ns;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (NowNs() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    usleep(1000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int RunChildIfRequested(int argc, char** argv, bool* ran) {
  *ran = false;
  if (argc < 4 || strcmp(argv[1], kChildFlag) != 0) return 0;
  *ran = true;
  auto it = ChildRegistry().find(argv[2]);
  if (it == ChildRegistry().end()) {
    fprintf(stderr, "magma-conformance-tests: no child routine %s\n", argv[2]);
    return 126;
  }
  int sock = atoi(argv[3]);
  fcntl(sock, F_SETFD, FD_CLOEXEC);
  int ret = it->second(sock);
  close(sock);
  return ret;
}

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

magma_status_t WaitSemaphore(magma_semaphore_t semaphore, uint64_t timeout_ns) {
  magma_poll_item_t item = SemaphorePollItem(semaphore);
  return magma_poll(&item, 1, timeout_ns);
}

magma_status_t WaitSemaphoreOrConnectionLoss(magma_connection_t connection,
                                             magma_semaphore_t semaphore, uint64_t timeout_ns) {
  uint64_t deadline = timeout_ns == UINT64_MAX ? UINT64_MAX : NowNs() + timeout_ns;
  for (;;) {
    magma_poll_item_t items[2] = {
        SemaphorePollItem(semaphore),
        HandlePollItem(magma_connection_get_notification_channel_handle(connection))};
    uint64_t now = NowNs();
    uint64_t left = deadline == UINT64_MAX ? UINT64_MAX : (deadline > now ? deadline - now : 0);
    magma_status_t status = magma_poll(items, 2, left);
    if (status != MAGMA_STATUS_OK) return status;
    if (items[0].result) return MAGMA_STATUS_OK;
    // Only a notification is pending (readable channel): keep waiting for the semaphore alone,
    // polling the channel again in short slices for a hang-up.
    status = WaitSemaphore(semaphore, std::min<uint64_t>(left, 10 * kMsToNs));
    if (status != MAGMA_STATUS_TIMED_OUT) return status;
    if (deadline != UINT64_MAX && NowNs() >= deadline) return MAGMA_STATUS_TIMED_OUT;
  }
}

magma_status_t WaitHandleReadable(magma_handle_t handle, uint64_t timeout_ns) {
  magma_poll_item_t item = HandlePollItem(handle);
  return magma_poll(&item, 1, timeout_ns);
}

magma_status_t WaitForConnectionError(magma_connection_t connection, uint64_t timeout_ns) {
  uint64_t deadline = NowNs() + timeout_ns;
  magma_status_t status;
  while ((status = magma_connection_get_error(connection)) == MAGMA_STATUS_OK &&
         NowNs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return status;
}

void ExpectClosedByRemoteError(magma_connection_t connection, magma_status_t expected) {
  EXPECT_EQ(magma_connection_flush(connection), expected) << "flush";
  EXPECT_EQ(magma_connection_get_error(connection), expected) << "get_error";
  magma_poll_item_t item =
      HandlePollItem(magma_connection_get_notification_channel_handle(connection));
  EXPECT_EQ(magma_poll(&item, 1, UINT64_MAX), MAGMA_STATUS_CONNECTION_LOST)
      << "poll of the notification channel";
  uint32_t context_id = 0;
  EXPECT_EQ(magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id),
            MAGMA_STATUS_CONNECTION_LOST)
      << "a send after the error";
  EXPECT_EQ(magma_connection_get_error(connection), expected) << "get_error, later";
}

bool WaitForIdleGpu(magma_device_t device, uint64_t timeout_ns) {
  uint64_t deadline = NowNs() + timeout_ns;
  for (;;) {
    uint64_t power = 0;
    if (magma_device_query(device, MAGMA_SIM_QUERY_POWER, nullptr, &power) != MAGMA_STATUS_OK)
      return false;
    if ((power & 0xffffffffu) == 0) return true;
    if (NowNs() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

magma_poll_item_t SemaphorePollItem(magma_semaphore_t semaphore) {
  magma_poll_item_t item = {};
  item.semaphore = semaphore;
  item.type = MAGMA_POLL_TYPE_SEMAPHORE;
  item.condition = MAGMA_POLL_CONDITION_SIGNALED;
  return item;
}

magma_poll_item_t HandlePollItem(magma_handle_t handle) {
  magma_poll_item_t item = {};
  item.handle = handle;
  item.type = MAGMA_POLL_TYPE_HANDLE;
  item.condition = MAGMA_POLL_CONDITION_READABLE;
  return item;
}

void ExpectTimesOut(const std::function<magma_status_t()>& wait, uint64_t timeout_ns) {
  uint64_t start = NowNs();
  EXPECT_EQ(wait(), MAGMA_STATUS_TIMED_OUT);
  EXPECT_GE(NowNs() - start, timeout_ns);
}

std::vector<uint64_t> AssembleKernel(const char* source) {
  uint64_t* code = nullptr;
  uint32_t count = 0;
  char err[256] = {};
  int ret = sim_asm_assemble(source, &code, &count, err, sizeof(err));
  if (ret != 0) {
    ADD_FAILURE() << "sim_asm_assemble: " << ret << " " << err;
    return {};
  }
  std::vector<uint64_t> words(code, code + count);
  free(code);
  return words;
}

// ---- TestBuffer ----

TestBuffer::TestBuffer(magma_connection_t connection, uint64_t size) : connection_(connection) {
  create_status_ = magma_connection_create_buffer(connection, size, &size_, &buffer_, &id_);
  if (create_status_ != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_create_buffer(" << size << ") failed: " << create_status_;
    buffer_ = 0;
    size_ = 0;
  }
}

TestBuffer::TestBuffer(magma_connection_t connection, magma_buffer_t buffer, magma_buffer_id_t id,
                       uint64_t size)
    : connection_(connection), buffer_(buffer), id_(id), size_(size) {}

TestBuffer::~TestBuffer() { Release(); }

magma_status_t TestBuffer::MapGpu(uint64_t gpu_va, uint64_t flags) {
  magma_status_t status =
      magma_connection_map_buffer(connection_, gpu_va, buffer_, 0, size_, flags);
  if (status == MAGMA_STATUS_OK) {
    gpu_va_ = gpu_va;
    gpu_mapped_ = true;
  }
  return status;
}

void TestBuffer::UnmapGpu() {
  if (!gpu_mapped_) return;
  magma_connection_unmap_buffer(connection_, gpu_va_, buffer_);
  gpu_mapped_ = false;
}

void* TestBuffer::cpu() {
  if (cpu_) return cpu_;
  if (!buffer_) {
    ADD_FAILURE() << "CPU mapping of a buffer that does not exist";
    return nullptr;
  }
  magma_handle_t handle = 0;
  magma_status_t status = magma_buffer_get_handle(buffer_, &handle);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_buffer_get_handle failed: " << status;
    return nullptr;
  }
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle), 0);
  close(static_cast<int>(handle));
  if (p == MAP_FAILED) {
    ADD_FAILURE() << "mmap of buffer " << id_ << " failed: " << strerror(errno);
    return nullptr;
  }
  cpu_ = p;
  return cpu_;
}

void TestBuffer::Release() {
  if (cpu_) {
    munmap(cpu_, size_);
    cpu_ = nullptr;
  }
  if (buffer_) {
    // Releasing a buffer also removes its GPU mappings in this connection.
    magma_connection_release_buffer(connection_, buffer_);
    buffer_ = 0;
    gpu_mapped_ = false;
  }
}

// ---- TestSemaphore ----

TestSemaphore::TestSemaphore(magma_connection_t connection) : connection_(connection) {
  magma_status_t status = magma_connection_create_semaphore(connection, &semaphore_, &id_);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_create_semaphore failed: " << status;
    semaphore_ = 0;
  }
}

void TestSemaphore::Release() {
  if (semaphore_) {
    magma_connection_release_semaphore(connection_, semaphore_);
    semaphore_ = 0;
  }
}

std::unique_ptr<TestBuffer> Reimport(const TestBuffer& buffer, magma_connection_t into) {
  magma_handle_t handle = 0;
  magma_status_t status = magma_buffer_export(buffer.get(), &handle);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_buffer_export failed: " << status;
    return nullptr;
  }
  uint64_t size = 0;
  magma_buffer_t imported = 0;
  magma_buffer_id_t id = 0;
  status = magma_connection_import_buffer(into, handle, &size, &imported, &id);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_import_buffer failed: " << status;
    return nullptr;
  }
  return std::make_unique<TestBuffer>(into, imported, id, size);
}

std::unique_ptr<TestSemaphore> Reimport(const TestSemaphore& semaphore, magma_connection_t into,
                                        uint64_t flags) {
  magma_handle_t handle = 0;
  magma_status_t status = magma_semaphore_export(semaphore.get(), &handle);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_semaphore_export failed: " << status;
    return nullptr;
  }
  magma_semaphore_t imported = 0;
  magma_semaphore_id_t id = 0;
  status = magma_connection_import_semaphore2(into, handle, flags, &imported, &id);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_import_semaphore2 failed: " << status;
    return nullptr;
  }
  return std::make_unique<TestSemaphore>(into, imported, id);
}

std::vector<magma_poll_item_t> SemaphorePollItems(
    const std::vector<std::unique_ptr<TestSemaphore>>& semaphores) {
  std::vector<magma_poll_item_t> items;
  for (const auto& semaphore : semaphores) items.push_back(SemaphorePollItem(semaphore->get()));
  return items;
}

// ---- SignalAfter ----

SignalAfter::SignalAfter(magma_semaphore_t semaphore, std::chrono::milliseconds delay)
    : thread_([semaphore, delay] {
        std::this_thread::sleep_for(delay);
        magma_semaphore_signal(semaphore);
      }) {}

// ---- CommandStream ----

uint32_t* CommandStream::Grow(size_t n) {
  size_t old = words_.size();
  words_.resize(old + n);
  return words_.data() + old;
}

// Each emitter writes at most 9 dwords (DISPATCH); grow by the exact count it returns.
#define EMIT(max, call)                       \
  do {                                        \
    uint32_t* p = Grow(max);                  \
    uint32_t n = call;                        \
    words_.resize(words_.size() - (max) + n); \
  } while (0)

CommandStream& CommandStream::Write32(uint64_t va, uint32_t value) {
  EMIT(4, sim_cmd_emit_write32(p, va, value));
  return *this;
}

CommandStream& CommandStream::Write64(uint64_t va, uint64_t value) {
  EMIT(5, sim_cmd_emit_write64(p, va, value));
  return *this;
}

CommandStream& CommandStream::Copy(uint64_t dst, uint64_t src, uint64_t size) {
  EMIT(7, sim_cmd_emit_copy(p, dst, src, size));
  return *this;
}

CommandStream& CommandStream::Fill(uint64_t dst, uint64_t size, uint32_t pattern) {
  EMIT(6, sim_cmd_emit_fill(p, dst, size, pattern));
  return *this;
}

CommandStream& CommandStream::Timestamp(uint64_t va, uint32_t flags) {
  EMIT(3, sim_cmd_emit_timestamp(p, va, flags));
  return *this;
}

CommandStream& CommandStream::Wait(uint64_t va, uint64_t ref, uint32_t flags) {
  EMIT(5, sim_cmd_emit_wait(p, va, ref, flags));
  return *this;
}

CommandStream& CommandStream::Signal(uint64_t va, uint64_t value, uint32_t flags) {
  EMIT(5, sim_cmd_emit_signal(p, va, value, flags));
  return *this;
}

CommandStream& CommandStream::Dispatch(uint64_t prog_va, uint32_t prog_count, uint64_t args_va,
                                       uint32_t groups_x, uint32_t groups_y, uint32_t local_size) {
  EMIT(9, sim_cmd_emit_dispatch(p, prog_va, prog_count, args_va, groups_x, groups_y, local_size));
  return *this;
}

CommandStream& CommandStream::Jump(uint64_t va, uint32_t size_bytes) {
  EMIT(4, sim_cmd_emit_jump(p, va, size_bytes));
  return *this;
}

CommandStream& CommandStream::Interrupt(uint32_t payload) {
  EMIT(2, sim_cmd_emit_interrupt(p, payload));
  return *this;
}

CommandStream& CommandStream::Nop(uint32_t payload_dwords) {
  EMIT(1 + payload_dwords, sim_cmd_emit_nop(p, payload_dwords));
  return *this;
}

CommandStream& CommandStream::End() {
  EMIT(1, sim_cmd_emit_end(p));
  return *this;
}

CommandStream& CommandStream::Raw(uint32_t word) {
  words_.push_back(word);
  return *this;
}

#undef EMIT

bool CommandStream::WriteTo(TestBuffer& buffer, uint64_t offset) const {
  if (offset > buffer.size() || size_bytes() > buffer.size() - offset) {
    ADD_FAILURE() << "command stream of " << size_bytes() << " bytes does not fit at offset "
                  << offset << " of a " << buffer.size() << "-byte buffer";
    return false;
  }
  uint8_t* dst = buffer.bytes();
  if (!dst) return false;
  memcpy(dst + offset, words_.data(), size_bytes());
  return true;
}

// ---- Submission ----

magma_status_t Execute(magma_connection_t connection, uint32_t context_id,
                       const TestBuffer& commands, uint64_t command_bytes,
                       const std::vector<ExecResource>& resources,
                       const std::vector<magma_semaphore_id_t>& wait_ids,
                       const std::vector<magma_semaphore_id_t>& signal_ids, uint64_t flags) {
  std::vector<magma_exec_resource_t> res;
  res.push_back({commands.id(), 0, command_bytes ? command_bytes : commands.size()});
  for (const ExecResource& r : resources) {
    res.push_back({r.buffer->id(), r.offset, r.length ? r.length : r.buffer->size() - r.offset});
  }
  magma_exec_command_buffer_t command_buffer = {};
  command_buffer.resource_index = 0;
  command_buffer.start_offset = 0;
  std::vector<uint64_t> semaphore_ids(wait_ids.begin(), wait_ids.end());
  semaphore_ids.insert(semaphore_ids.end(), signal_ids.begin(), signal_ids.end());

  magma_command_descriptor_t descriptor = {};
  descriptor.resource_count = static_cast<uint32_t>(res.size());
  descriptor.command_buffer_count = 1;
  descriptor.wait_semaphore_count = static_cast<uint32_t>(wait_ids.size());
  descriptor.signal_semaphore_count = static_cast<uint32_t>(signal_ids.size());
  descriptor.resources = res.data();
  descriptor.command_buffers = &command_buffer;
  descriptor.semaphore_ids = semaphore_ids.empty() ? nullptr : semaphore_ids.data();
  descriptor.flags = flags;
  return magma_connection_execute_command(connection, context_id, &descriptor);
}

magma_status_t ExecuteInline(magma_connection_t connection, uint32_t context_id,
                             const CommandStream& stream,
                             const std::vector<magma_semaphore_id_t>& signal_ids) {
  std::vector<uint64_t> ids(signal_ids.begin(), signal_ids.end());
  magma_inline_command_buffer_t command = {};
  command.data = const_cast<uint32_t*>(stream.data());
  command.size = stream.size_bytes();
  command.semaphore_ids = ids.empty() ? nullptr : ids.data();
  command.semaphore_count = static_cast<uint32_t>(ids.size());
  return magma_connection_execute_inline_commands(connection, context_id, 1, &command);
}

std::unique_ptr<TestBuffer> CreateMappedBufferIn(magma_connection_t connection, GpuVaAllocator& va,
                                                 uint64_t size, uint64_t flags) {
  auto buffer = std::make_unique<TestBuffer>(connection, size);
  if (!buffer->ok()) return nullptr;
  magma_status_t status = buffer->MapGpu(va.Alloc(buffer->size()), flags);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_map_buffer failed: " << status;
    return nullptr;
  }
  return buffer;
}

std::unique_ptr<TestBuffer> CreateCommandBufferIn(magma_connection_t connection, GpuVaAllocator& va,
                                                  const CommandStream& cs) {
  auto commands = CreateMappedBufferIn(connection, va, RoundUpToPage(cs.size_bytes()));
  if (!commands || !cs.WriteTo(*commands)) return nullptr;
  return commands;
}

// ---- TestClient ----

TestClient::TestClient(magma_connection_t connection, uint64_t va_base)
    : connection_(connection), va_(va_base) {
  if (!connection_) return;  // the failure was reported where the connection was made
  magma_status_t status =
      magma_connection_create_context2(connection_, MAGMA_PRIORITY_MEDIUM, &context_);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_create_context2 failed: " << status;
    context_ = 0;
  }
}

magma_status_t TestClient::Submit(const CommandStream& cs,
                                  const std::vector<ExecResource>& resources,
                                  const std::vector<magma_semaphore_id_t>& wait_ids,
                                  const std::vector<magma_semaphore_id_t>& signal_ids,
                                  uint64_t flags) {
  auto commands = CreateCommandBufferIn(connection_, va_, cs);
  if (!commands) return MAGMA_STATUS_INTERNAL_ERROR;
  command_buffers_.push_back(std::move(commands));
  return Execute(connection_, context_, *command_buffers_.back(), cs.size_bytes(), resources,
                 wait_ids, signal_ids, flags);
}

// ---- Fixtures ----

void MagmaDeviceTest::SetUp() {
  device_ = OpenTestDevice();
  ASSERT_NE(device_, 0u) << "no device to test";
}

void MagmaDeviceTest::TearDown() {
  if (device_) magma_device_release(device_);
  device_ = 0;
}

uint64_t MagmaDeviceTest::QueryValue(uint64_t id) {
  uint64_t value = 0;
  magma_status_t status = magma_device_query(device_, id, nullptr, &value);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_device_query(" << id << ") failed: " << status;
    return 0;
  }
  return value;
}

void MagmaConnectionTest::SetUp() {
  MagmaDeviceTest::SetUp();
  if (HasFatalFailure()) return;
  ASSERT_EQ(magma_device_create_connection(device(), &connection_), MAGMA_STATUS_OK);
  ASSERT_NE(connection_, 0u);
}

void MagmaConnectionTest::TearDown() {
  submitted_commands_.clear();
  for (magma_connection_t c : extra_connections_) magma_connection_release(c);
  extra_connections_.clear();
  if (connection_) magma_connection_release(connection_);
  connection_ = 0;
  MagmaDeviceTest::TearDown();
}

uint32_t MagmaConnectionTest::CreateContext(magma_priority_t priority) {
  uint32_t context_id = 0;
  magma_status_t status = magma_connection_create_context2(connection_, priority, &context_id);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_connection_create_context2 failed: " << status;
    return 0;
  }
  return context_id;
}

std::unique_ptr<TestBuffer> MagmaConnectionTest::CreateMappedBuffer(uint64_t size, uint64_t flags) {
  return CreateMappedBufferIn(connection_, va_, size, flags);
}

std::vector<std::unique_ptr<TestSemaphore>> MagmaConnectionTest::CreateSemaphores(size_t count) {
  std::vector<std::unique_ptr<TestSemaphore>> semaphores;
  for (size_t i = 0; i < count; i++) {
    semaphores.push_back(std::make_unique<TestSemaphore>(connection_));
    if (!semaphores.back()->ok()) return {};  // the failure is reported
  }
  return semaphores;
}

magma_status_t MagmaConnectionTest::SubmitCommands(
    uint32_t context_id, const CommandStream& cs, const std::vector<ExecResource>& resources,
    const std::vector<magma_semaphore_id_t>& wait_ids,
    const std::vector<magma_semaphore_id_t>& signal_ids, uint64_t flags) {
  auto commands = CreateCommandBufferIn(connection_, va_, cs);
  if (!commands) return MAGMA_STATUS_INTERNAL_ERROR;
  submitted_commands_.push_back(std::move(commands));
  return Execute(connection_, context_id, *submitted_commands_.back(), cs.size_bytes(), resources,
                 wait_ids, signal_ids, flags);
}

uint32_t MagmaConnectionTest::Lanes() {
  uint64_t config = QueryValue(MAGMA_SIM_QUERY_CONFIG);
  uint32_t lanes = static_cast<uint32_t>(config >> 24) & 0xff;
  return lanes == 0 ? 1 : (lanes > 32 ? 32 : lanes);
}

std::unique_ptr<TestBuffer> MagmaConnectionTest::LoadKernel(const std::vector<uint64_t>& code) {
  auto program = CreateMappedBuffer(RoundUpToPage(code.size() * sizeof(uint64_t)));
  if (program && program->cpu()) memcpy(program->cpu(), code.data(), code.size() * 8);
  return program;
}

magma_connection_t MagmaConnectionTest::CreateExtraConnection() {
  magma_connection_t c = 0;
  magma_status_t status = magma_device_create_connection(device(), &c);
  if (status != MAGMA_STATUS_OK) {
    ADD_FAILURE() << "magma_device_create_connection failed: " << status;
    return 0;
  }
  extra_connections_.push_back(c);
  return c;
}

// SPDX-License-Identifier: MIT
//
// test_sharing.cc - sharing (suite MagmaSharing): exporting and importing buffers and semaphores
// across connections of one process, and across processes (a child process, with the handles
// passed over a socketpair as SCM_RIGHTS). A child process opens the device under test itself
// (the embedded device gives a child a device of its own; the memory and the semaphores are
// still the shared ones) and reports through its exit status, never through GoogleTest. Children
// are fresh processes (SpawnChild: fork + exec of this binary).
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <vector>

#include "magma_test.h"

namespace {

// Sends @fds (not consumed) with one byte of payload @tag. True on success.
bool SendFds(int sock, const std::vector<int>& fds, char tag = 'f') {
  struct msghdr msg = {};
  struct iovec iov = {&tag, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

// Receives up to @max fds (the caller owns them). Empty on failure or EOF.
std::vector<int> RecvFds(int sock, size_t max) {
  char tag = 0;
  struct msghdr msg = {};
  struct iovec iov = {&tag, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  std::vector<int> fds;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return fds;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* data = reinterpret_cast<const int*>(CMSG_DATA(c));
    fds.insert(fds.end(), data, data + n);
  }
  return fds;
}

bool SendByte(int sock, char c) { return send(sock, &c, 1, MSG_NOSIGNAL) == 1; }

bool RecvByte(int sock, char* c) { return recv(sock, c, 1, 0) == 1; }

// In a child: receives @fd_count handles over @sock (fds()), then opens the device under test and
// a connection to it (connection()); released by Close() (or the destructor). error() is the
// child's exit status for what failed: 10 (the handles did not come), 11 (no connection), else 0.
class ChildConnection {
 public:
  ChildConnection(int sock, size_t fd_count) : fds_(RecvFds(sock, fd_count)) {
    if (fds_.size() != fd_count) {
      error_ = 10;
      return;
    }
    int fd = OpenTestDeviceChannel();
    if (fd < 0) return;
    if (magma_device_import(static_cast<magma_handle_t>(fd), &device_) != MAGMA_STATUS_OK) return;
    if (magma_device_create_connection(device_, &connection_) != MAGMA_STATUS_OK) connection_ = 0;
    if (!connection_) error_ = 11;
  }
  ~ChildConnection() { Close(); }
  ChildConnection(const ChildConnection&) = delete;
  ChildConnection& operator=(const ChildConnection&) = delete;

  int error() const { return error_; }
  const std::vector<int>& fds() const { return fds_; }
  magma_connection_t connection() const { return connection_; }
  void Close() {
    if (connection_) magma_connection_release(connection_);
    if (device_) magma_device_release(device_);
    connection_ = 0;
    device_ = 0;
  }

 private:
  std::vector<int> fds_;
  magma_device_t device_ = 0;
  magma_connection_t connection_ = 0;
  int error_ = 0;
};

// In a child: imports buffer handle @fd into @connection; false on failure.
bool ImportBuffer(magma_connection_t connection, int fd, uint64_t* size, magma_buffer_t* buffer,
                  magma_buffer_id_t* id) {
  return magma_connection_import_buffer(connection, static_cast<magma_handle_t>(fd), size, buffer,
                                        id) == MAGMA_STATUS_OK;
}

// In a child: imports semaphore handle @fd into @connection; false on failure.
bool ImportSemaphore(magma_connection_t connection, int fd, magma_semaphore_t* semaphore,
                     magma_semaphore_id_t* id) {
  return magma_connection_import_semaphore2(connection, static_cast<magma_handle_t>(fd), 0,
                                            semaphore, id) == MAGMA_STATUS_OK;
}

uint32_t* MapCpu(magma_buffer_t buffer, uint64_t size) {
  magma_handle_t handle = 0;
  if (magma_buffer_get_handle(buffer, &handle) != MAGMA_STATUS_OK) return nullptr;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(handle), 0);
  close(static_cast<int>(handle));
  return p == MAP_FAILED ? nullptr : static_cast<uint32_t*>(p);
}

}  // namespace

// ---- Child routines (run in a separate process by SpawnChild) ----

MAGMA_TEST_CHILD(BufferChild) {
  ChildConnection child(sock, 1);
  if (child.error()) return child.error();
  magma_connection_t connection = child.connection();
  const std::vector<int>& fds = child.fds();
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  if (!ImportBuffer(connection, fds[0], &size, &buffer, &id)) return 12;
  if (size != 2 * kPageSize) return 13;
  uint32_t* words = MapCpu(buffer, size);
  if (!words) return 14;
  for (uint32_t i = 0; i < size / 4; i++) {
    if (words[i] != i) return 15;
    words[i] = ~i;  // answer
  }
  munmap(words, size);
  magma_connection_release_buffer(connection, buffer);
  child.Close();
  return SendByte(sock, 'd') ? 0 : 16;
}

MAGMA_TEST_CHILD(GpuWriterChild) {
  ChildConnection child(sock, 2);
  if (child.error()) return child.error();
  magma_connection_t connection = child.connection();
  const std::vector<int>& fds = child.fds();
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t buffer_id = 0;
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t semaphore_id = 0;
  if (!ImportBuffer(connection, fds[0], &size, &buffer, &buffer_id)) return 12;
  if (!ImportSemaphore(connection, fds[1], &semaphore, &semaphore_id)) return 13;
  const uint64_t va = 0x30000000;
  if (magma_connection_map_buffer(connection, va, buffer, 0, size, kMapReadWrite) !=
      MAGMA_STATUS_OK)
    return 14;
  uint32_t context_id = 0;
  if (magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id) !=
      MAGMA_STATUS_OK)
    return 15;
  CommandStream stream;
  stream.Fill(va, size, 0x5e5e5e5e).Write32(va + 12, 0x12345678).End();
  if (ExecuteInline(connection, context_id, stream, {semaphore_id}) != MAGMA_STATUS_OK) return 16;
  if (magma_connection_flush(connection) != MAGMA_STATUS_OK) return 17;
  // Stay until the parent has seen the result, then clean up.
  char c = 0;
  if (!RecvByte(sock, &c)) return 18;
  magma_connection_release_semaphore(connection, semaphore);
  magma_connection_release_buffer(connection, buffer);
  return 0;
}

MAGMA_TEST_CHILD(SemaphoreChild) {
  ChildConnection child(sock, 2);
  if (child.error()) return child.error();
  magma_connection_t connection = child.connection();
  const std::vector<int>& fds = child.fds();
  magma_semaphore_t in = 0, out = 0;
  magma_semaphore_id_t in_id = 0, out_id = 0;
  if (!ImportSemaphore(connection, fds[0], &in, &in_id) ||
      !ImportSemaphore(connection, fds[1], &out, &out_id))
    return 12;
  int ret = 0;
  if (WaitSemaphore(in, 20000 * kMsToNs) != MAGMA_STATUS_OK) ret = 13;
  magma_semaphore_reset(in);
  magma_semaphore_signal(out);
  magma_connection_release_semaphore(connection, in);
  magma_connection_release_semaphore(connection, out);
  return ret;
}

// Imports the buffer it is sent, creates a buffer and a semaphore, and sends the three ids back.
MAGMA_TEST_CHILD(ObjectIdChild) {
  ChildConnection child(sock, 1);
  if (child.error()) return child.error();
  magma_connection_t connection = child.connection();
  uint64_t ids[3] = {};
  uint64_t size = 0;
  magma_buffer_t imported = 0, created = 0;
  magma_semaphore_t semaphore = 0;
  if (!ImportBuffer(connection, child.fds()[0], &size, &imported, &ids[0])) return 12;
  if (magma_connection_create_buffer(connection, kPageSize, &size, &created, &ids[1]) !=
      MAGMA_STATUS_OK)
    return 13;
  if (magma_connection_create_semaphore(connection, &semaphore, &ids[2]) != MAGMA_STATUS_OK)
    return 14;
  if (send(sock, ids, sizeof(ids), MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(ids))) return 15;
  // Keep the objects alive until the parent has compared.
  char c = 0;
  if (!RecvByte(sock, &c)) return 16;
  return 0;
}

MAGMA_TEST_CHILD(ExportedFdChild) {
  std::vector<int> fds = RecvFds(sock, 1);
  if (fds.size() != 1) return 10;
  // Plain poll() on the exported fd: readable exactly while signaled.
  struct pollfd pfd = {fds[0], POLLIN, 0};
  if (poll(&pfd, 1, 0) != 0) return 11;
  if (!SendByte(sock, 'r')) return 12;
  pfd.revents = 0;
  if (poll(&pfd, 1, 20000) != 1 || !(pfd.revents & POLLIN)) return 13;
  close(fds[0]);
  return 0;
}

class MagmaSharing : public MagmaConnectionTest {
 protected:
  // Starts child routine @name (SpawnChild: *@pid, and the parent's end of the socketpair in
  // *@sock) and sends it @handles, which are closed here.
  void StartChild(const char* name, const std::vector<magma_handle_t>& handles, pid_t* pid,
                  int* sock) {
    *pid = SpawnChild(name, sock);
    ASSERT_GT(*pid, 0);
    std::vector<int> fds(handles.begin(), handles.end());
    ASSERT_TRUE(SendFds(*sock, fds));
    for (int fd : fds) close(fd);
  }
};

// ---- Buffers across connections ----

TEST_F(MagmaSharing, BufferAcrossConnections) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer buffer(connection(), 3 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  auto imported = Reimport(buffer, other);
  ASSERT_NE(imported, nullptr);
  EXPECT_EQ(imported->size(), buffer.size());
  EXPECT_NE(imported->id(), MAGMA_INVALID_OBJECT_ID);
  buffer.words()[100] = 0xdeadbeef;
  EXPECT_EQ(imported->words()[100], 0xdeadbeefu);
  imported->words()[2 * kPageSize / 4] = 0xcafe;
  EXPECT_EQ(buffer.words()[2 * kPageSize / 4], 0xcafeu);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaSharing, BufferImportedInSameConnectionIsDistinct) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  auto imported = Reimport(buffer, connection());
  ASSERT_NE(imported, nullptr);
  EXPECT_NE(imported->get(), buffer.get());
  EXPECT_NE(imported->id(), buffer.id());
  buffer.words()[0] = 7;
  EXPECT_EQ(imported->words()[0], 7u);
}

TEST_F(MagmaSharing, ExportGivesNewHandleEachTime) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t a = 0, b = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &a), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_buffer_export(buffer.get(), &b), MAGMA_STATUS_OK);
  EXPECT_NE(a, b);
  close(static_cast<int>(a));
  close(static_cast<int>(b));
}

TEST_F(MagmaSharing, ImportedBufferOutlivesTheExportingConnection) {
  magma_connection_t exporter = 0;
  ASSERT_EQ(magma_device_create_connection(device(), &exporter), MAGMA_STATUS_OK);
  auto buffer = std::make_unique<TestBuffer>(exporter, kPageSize);
  ASSERT_TRUE(buffer->ok());
  buffer->words()[1] = 0x11;
  auto imported = Reimport(*buffer, connection());
  ASSERT_NE(imported, nullptr);
  buffer.reset();
  magma_connection_release(exporter);
  EXPECT_EQ(imported->words()[1], 0x11u);
  ASSERT_EQ(imported->MapGpu(AllocGpuVa(kPageSize), kMapReadWrite), MAGMA_STATUS_OK);
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSharing, GpuWriteSeenThroughAnotherConnection) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  auto buffer = CreateMappedBuffer(kPageSize);
  ASSERT_NE(buffer, nullptr);
  auto imported = Reimport(*buffer, other);
  ASSERT_NE(imported, nullptr);
  // The other connection's GPU writes into its mapping of the import.
  ASSERT_EQ(imported->MapGpu(0x50000000, kMapReadWrite), MAGMA_STATUS_OK);
  TestClient client(other);
  ASSERT_TRUE(client.ok());
  TestSemaphore done(other);
  CommandStream s;
  s.Fill(0x50000000, kPageSize, 0x3c3c3c3c).End();
  ASSERT_EQ(ExecuteInline(other, client.context(), s, {done.id()}), MAGMA_STATUS_OK);
  ASSERT_EQ(WaitSemaphoreOrConnectionLoss(other, done.get()), MAGMA_STATUS_OK);
  for (uint32_t i = 0; i < kPageSize / 4; i++) ASSERT_EQ(buffer->words()[i], 0x3c3c3c3cu) << i;
}

TEST_F(MagmaSharing, ImportOfANonBufferHandleFails) {
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_semaphore_export(semaphore.get(), &handle), MAGMA_STATUS_OK);
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  magma_status_t status = magma_connection_import_buffer(connection(), handle, &size, &buffer, &id);
  if (status == MAGMA_STATUS_OK) {
    magma_connection_release_buffer(connection(), buffer);
    ADD_FAILURE() << "an eventfd was imported as a buffer";
  }
  EXPECT_EQ(status, MAGMA_STATUS_INVALID_ARGS);
}

// A handle that is not an open fd: MAGMA_STATUS_INTERNAL_ERROR, as Magma's Linux build reports,
// and the connection stays usable.
TEST_F(MagmaSharing, ImportOfAHandleThatIsNotAnFdIsInternalError) {
  int closed = dup(0);
  ASSERT_GE(closed, 0);
  close(closed);
  for (magma_handle_t handle :
       {static_cast<magma_handle_t>(-1), static_cast<magma_handle_t>(closed),
        static_cast<magma_handle_t>(1u << 30)}) {
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    EXPECT_EQ(magma_connection_import_buffer(connection(), handle, &size, &buffer, &id),
              MAGMA_STATUS_INTERNAL_ERROR)
        << "handle " << handle;
    magma_semaphore_t semaphore = 0;
    magma_semaphore_id_t semaphore_id = 0;
    EXPECT_EQ(
        magma_connection_import_semaphore2(connection(), handle, 0, &semaphore, &semaphore_id),
        MAGMA_STATUS_INTERNAL_ERROR)
        << "handle " << handle;
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  TestBuffer buffer(connection(), kPageSize);
  EXPECT_TRUE(buffer.ok()) << "the connection is still usable";
}

// An open fd that is not a buffer (a pipe, an eventfd, a socket, a directory): INVALID_ARGS; the
// fd is consumed and the connection stays usable.
TEST_F(MagmaSharing, ImportOfAnFdOfTheWrongKindAsABufferIsInvalidArgs) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  close(pipe_fds[1]);
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  magma_handle_t eventfd_handle = 0;
  ASSERT_EQ(magma_semaphore_export(semaphore.get(), &eventfd_handle), MAGMA_STATUS_OK);
  int sockets[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sockets), 0);
  close(sockets[1]);
  int dir = open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  for (int fd : {pipe_fds[0], static_cast<int>(eventfd_handle), sockets[0], dir}) {
    uint64_t size = 0;
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    EXPECT_EQ(magma_connection_import_buffer(connection(), static_cast<magma_handle_t>(fd), &size,
                                             &buffer, &id),
              MAGMA_STATUS_INVALID_ARGS)
        << "fd " << fd;
    EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "the handle is consumed";
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// docs/devices.md: a buffer must be sealed against shrinking before anything maps it, or the
// service could touch pages that no longer exist. A memfd made without MFD_ALLOW_SEALING can
// never be sealed: INVALID_ARGS, the fd is consumed and the connection stays usable.
TEST_F(MagmaSharing, ImportOfAnUnsealableMemfdIsInvalidArgs) {
  int fd = memfd_create("unsealable", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4 * kPageSize), 0);
  uint64_t size = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t id = 0;
  magma_status_t status = magma_connection_import_buffer(
      connection(), static_cast<magma_handle_t>(fd), &size, &buffer, &id);
  if (status == MAGMA_STATUS_OK) {
    magma_connection_release_buffer(connection(), buffer);
    ADD_FAILURE() << "a memfd that cannot be sealed was imported";
  }
  EXPECT_EQ(status, MAGMA_STATUS_INVALID_ARGS);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "the handle is consumed";
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  TestBuffer usable(connection(), kPageSize);
  EXPECT_TRUE(usable.ok()) << "the connection is still usable";
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSharing, ImportOfANonSemaphoreHandleFails) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &handle), MAGMA_STATUS_OK);
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t id = 0;
  magma_status_t status =
      magma_connection_import_semaphore2(connection(), handle, 0, &semaphore, &id);
  if (status == MAGMA_STATUS_OK) {
    magma_connection_release_semaphore(connection(), semaphore);
    ADD_FAILURE() << "a memfd was imported as a semaphore";
  }
  EXPECT_EQ(status, MAGMA_STATUS_INVALID_ARGS);
}

// ---- Semaphores across connections ----

TEST_F(MagmaSharing, SemaphoreAcrossConnections) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  auto imported = Reimport(semaphore, other);
  ASSERT_NE(imported, nullptr);
  EXPECT_FALSE(imported->IsSignaled());
  semaphore.Signal();
  EXPECT_EQ(imported->Wait(), MAGMA_STATUS_OK);
  imported->Reset();
  EXPECT_FALSE(semaphore.IsSignaled());
  imported->Signal();
  EXPECT_TRUE(semaphore.IsSignaled());
}

TEST_F(MagmaSharing, SemaphoreSignaledByGpuInAnotherConnection) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  auto imported = Reimport(semaphore, other);
  ASSERT_NE(imported, nullptr);
  TestClient client(other);
  ASSERT_TRUE(client.ok());
  CommandStream s;
  s.Nop().End();
  ASSERT_EQ(ExecuteInline(other, client.context(), s, {imported->id()}), MAGMA_STATUS_OK);
  EXPECT_EQ(semaphore.Wait(), MAGMA_STATUS_OK);
}

TEST_F(MagmaSharing, SemaphoreImportedIntoManyConnections) {
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  std::vector<std::unique_ptr<TestSemaphore>> imports;
  for (int i = 0; i < 8; i++) {
    magma_connection_t c = CreateExtraConnection();
    ASSERT_NE(c, 0u);
    imports.push_back(Reimport(semaphore, c));
    ASSERT_NE(imports.back(), nullptr);
  }
  semaphore.Signal();
  for (auto& s : imports) EXPECT_TRUE(s->IsSignaled());
  imports[3]->Reset();
  EXPECT_FALSE(semaphore.IsSignaled());
  for (auto& s : imports) EXPECT_FALSE(s->IsSignaled());
}

// ---- Across processes ----

// Processes sharing one device (the daemon, /dev/magma0 under magma-sim-run) never see the same
// id for two objects, and an import in another process gets an id of its own.
TEST_F(MagmaSharing, ObjectIdsAreUniqueAcrossProcesses) {
  if (IsEmbeddedDevice()) GTEST_SKIP() << "a child process opens an embedded device of its own";
  TestBuffer buffer(connection(), kPageSize);
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(buffer.ok() && semaphore.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &handle), MAGMA_STATUS_OK);
  int sock = -1;
  pid_t pid = -1;
  ASSERT_NO_FATAL_FAILURE(StartChild("ObjectIdChild", {handle}, &pid, &sock));
  uint64_t child_ids[3] = {};
  EXPECT_EQ(recv(sock, child_ids, sizeof(child_ids), MSG_WAITALL),
            static_cast<ssize_t>(sizeof(child_ids)));
  TestBuffer after(connection(), kPageSize);
  ASSERT_TRUE(after.ok());
  std::set<uint64_t> ids = {buffer.id(), semaphore.id(), after.id()};
  for (uint64_t id : child_ids) {
    EXPECT_NE(id, 0u);
    EXPECT_TRUE(ids.insert(id).second) << "id " << id << " used twice";
  }
  EXPECT_TRUE(SendByte(sock, 'd'));
  close(sock);
  EXPECT_EQ(WaitChild(pid), 0);
}

TEST_F(MagmaSharing, BufferAcrossProcesses) {
  TestBuffer buffer(connection(), 2 * kPageSize);
  ASSERT_TRUE(buffer.ok());
  for (uint32_t i = 0; i < 2 * kPageSize / 4; i++) buffer.words()[i] = i;
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &handle), MAGMA_STATUS_OK);

  int sock = -1;
  pid_t pid = -1;
  ASSERT_NO_FATAL_FAILURE(StartChild("BufferChild", {handle}, &pid, &sock));
  char c = 0;
  EXPECT_TRUE(RecvByte(sock, &c));
  close(sock);
  EXPECT_EQ(WaitChild(pid), 0);
  for (uint32_t i = 0; i < 2 * kPageSize / 4; i++) ASSERT_EQ(buffer.words()[i], ~i) << i;
}

TEST_F(MagmaSharing, GpuInAnotherProcessWritesSharedBuffer) {
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  TestSemaphore done(connection());
  ASSERT_TRUE(done.ok());
  magma_handle_t buffer_handle = 0, semaphore_handle = 0;
  ASSERT_EQ(magma_buffer_export(buffer.get(), &buffer_handle), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_semaphore_export(done.get(), &semaphore_handle), MAGMA_STATUS_OK);

  int sock = -1;
  pid_t pid = -1;
  ASSERT_NO_FATAL_FAILURE(
      StartChild("GpuWriterChild", {buffer_handle, semaphore_handle}, &pid, &sock));
  EXPECT_EQ(done.Wait(), MAGMA_STATUS_OK) << "the child's GPU work did not signal";
  EXPECT_EQ(buffer.words()[0], 0x5e5e5e5eu);
  EXPECT_EQ(buffer.words()[3], 0x12345678u);
  EXPECT_EQ(buffer.words()[kPageSize / 4 - 1], 0x5e5e5e5eu);
  SendByte(sock, 'q');
  close(sock);
  EXPECT_EQ(WaitChild(pid), 0);
}

TEST_F(MagmaSharing, SemaphoreAcrossProcesses) {
  TestSemaphore to_child(connection()), to_parent(connection());
  ASSERT_TRUE(to_child.ok() && to_parent.ok());
  magma_handle_t h1 = 0, h2 = 0;
  ASSERT_EQ(magma_semaphore_export(to_child.get(), &h1), MAGMA_STATUS_OK);
  ASSERT_EQ(magma_semaphore_export(to_parent.get(), &h2), MAGMA_STATUS_OK);

  int sock = -1;
  pid_t pid = -1;
  ASSERT_NO_FATAL_FAILURE(StartChild("SemaphoreChild", {h1, h2}, &pid, &sock));
  EXPECT_FALSE(to_parent.IsSignaled());
  to_child.Signal();
  EXPECT_EQ(to_parent.Wait(), MAGMA_STATUS_OK);
  EXPECT_EQ(WaitChild(pid), 0);
  EXPECT_FALSE(to_child.IsSignaled()) << "the child's reset is seen here";
  close(sock);
}

TEST_F(MagmaSharing, ExportedFdIsReadableWhileSignaledInAnotherProcess) {
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(semaphore.ok());
  magma_handle_t handle = 0;
  ASSERT_EQ(magma_semaphore_export(semaphore.get(), &handle), MAGMA_STATUS_OK);
  int sock = -1;
  pid_t pid = -1;
  ASSERT_NO_FATAL_FAILURE(StartChild("ExportedFdChild", {handle}, &pid, &sock));
  char c = 0;
  ASSERT_TRUE(RecvByte(sock, &c));
  semaphore.Signal();
  EXPECT_EQ(WaitChild(pid), 0);
  close(sock);
}

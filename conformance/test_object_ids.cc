// SPDX-License-Identifier: MIT
//
// test_object_ids.cc - object ids (suite MagmaObjectIds). Buffer and semaphore ids behave like
// kernel object ids (Magma's koids): every buffer and semaphore a connection creates or imports
// gets an id no other object of the device has, an import gets an id of its own (not the
// exporter's), and ids are not reused while the device lives. Ids across processes sharing one
// device are covered by MagmaSharing.ObjectIdsAreUniqueAcrossProcesses.
#include <set>
#include <vector>

#include "magma_test.h"

namespace {

class MagmaObjectIds : public MagmaConnectionTest {
 protected:
  // Records @id, failing the test if it is zero or was seen before.
  void ExpectNew(uint64_t id, const char* what) {
    EXPECT_NE(id, 0u) << what;
    EXPECT_TRUE(seen_.insert(id).second) << what << " id " << id << " seen before";
  }

  std::set<uint64_t> seen_;
};

TEST_F(MagmaObjectIds, BuffersAndSemaphoresShareOneIdSpace) {
  std::vector<std::unique_ptr<TestBuffer>> buffers;
  std::vector<std::unique_ptr<TestSemaphore>> semaphores;
  for (int i = 0; i < 16; i++) {
    buffers.push_back(std::make_unique<TestBuffer>(connection(), kPageSize));
    ASSERT_TRUE(buffers.back()->ok());
    ExpectNew(buffers.back()->id(), "buffer");
    semaphores.push_back(std::make_unique<TestSemaphore>(connection()));
    ASSERT_TRUE(semaphores.back()->ok());
    ExpectNew(semaphores.back()->id(), "semaphore");
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

TEST_F(MagmaObjectIds, IdsAreUniqueAcrossConnections) {
  std::vector<magma_connection_t> connections = {connection()};
  for (int i = 0; i < 3; i++) {
    connections.push_back(CreateExtraConnection());
    ASSERT_NE(connections.back(), 0u);
  }
  std::vector<std::unique_ptr<TestBuffer>> buffers;
  std::vector<std::unique_ptr<TestSemaphore>> semaphores;
  // Interleaved, so no connection's ids could simply follow another's.
  for (int round = 0; round < 8; round++) {
    for (magma_connection_t c : connections) {
      buffers.push_back(std::make_unique<TestBuffer>(c, kPageSize));
      ASSERT_TRUE(buffers.back()->ok());
      ExpectNew(buffers.back()->id(), "buffer");
      semaphores.push_back(std::make_unique<TestSemaphore>(c));
      ASSERT_TRUE(semaphores.back()->ok());
      ExpectNew(semaphores.back()->id(), "semaphore");
    }
  }
  for (magma_connection_t c : connections) EXPECT_EQ(magma_connection_flush(c), MAGMA_STATUS_OK);
}

TEST_F(MagmaObjectIds, AnImportGetsAnIdOfItsOwn) {
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  TestBuffer buffer(connection(), kPageSize);
  TestSemaphore semaphore(connection());
  ASSERT_TRUE(buffer.ok() && semaphore.ok());
  ExpectNew(buffer.id(), "exported buffer");
  ExpectNew(semaphore.id(), "exported semaphore");
  // Into the other connection and back into the exporter's own: each import is a new object.
  for (magma_connection_t into : {other, connection(), other}) {
    auto imported_buffer = Reimport(buffer, into);
    auto imported_semaphore = Reimport(semaphore, into);
    ASSERT_TRUE(imported_buffer && imported_semaphore);
    ExpectNew(imported_buffer->id(), "imported buffer");
    ExpectNew(imported_semaphore->id(), "imported semaphore");
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

TEST_F(MagmaObjectIds, IdsAreNotReusedAfterRelease) {
  for (int i = 0; i < 64; i++) {
    TestBuffer buffer(connection(), kPageSize);
    ASSERT_TRUE(buffer.ok());
    ExpectNew(buffer.id(), "buffer");
    buffer.Release();
    TestSemaphore semaphore(connection());
    ASSERT_TRUE(semaphore.ok());
    ExpectNew(semaphore.id(), "semaphore");
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

// A connection that makes more objects than fit in one block of ids (the service hands them out
// in blocks) keeps getting unique ids, while another connection takes blocks between.
TEST_F(MagmaObjectIds, ManyObjectsStayUnique) {
  constexpr int kObjects = 10000;
  magma_connection_t other = CreateExtraConnection();
  ASSERT_NE(other, 0u);
  for (int i = 0; i < kObjects; i++) {
    magma_connection_t c = i % 97 == 0 ? other : connection();
    magma_semaphore_t semaphore = 0;
    magma_semaphore_id_t id = 0;
    ASSERT_EQ(magma_connection_create_semaphore(c, &semaphore, &id), MAGMA_STATUS_OK) << i;
    ExpectNew(id, "semaphore");
    magma_connection_release_semaphore(c, semaphore);
  }
  TestBuffer buffer(connection(), kPageSize);
  ASSERT_TRUE(buffer.ok());
  ExpectNew(buffer.id(), "buffer after the semaphores");
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
  EXPECT_EQ(magma_connection_flush(other), MAGMA_STATUS_OK);
}

// Ids of a released connection are not handed to the next one.
TEST_F(MagmaObjectIds, ANewConnectionDoesNotReuseIds) {
  for (int i = 0; i < 4; i++) {
    magma_connection_t c = 0;
    ASSERT_EQ(magma_device_create_connection(device(), &c), MAGMA_STATUS_OK);
    magma_buffer_t buffer = 0;
    magma_buffer_id_t id = 0;
    uint64_t size = 0;
    ASSERT_EQ(magma_connection_create_buffer(c, kPageSize, &size, &buffer, &id), MAGMA_STATUS_OK);
    ExpectNew(id, "buffer");
    magma_connection_release(c);
  }
}

}  // namespace

/* SPDX-License-Identifier: MIT */
/*
 * test_abi_c.c - proof that magma.h is plain C: this file is compiled as C11 and drives a short
 * sequence through the API (device query, connection, context, buffer with a CPU write, GPU
 * mapping, a semaphore, one inline command that writes a word and signals, the read-back),
 * releasing everything. test_abi_c_runner.cc calls it from a TEST; it returns 0 or the number of
 * the step that failed (with a message in @err).
 */
#include <lib/magma/magma.h>
#include <magma_sim_defs.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int magma_conformance_abi_c(magma_device_t device, char *err, size_t err_size);

#define CHECK(step, cond)                                    \
  do {                                                       \
    if (!(cond)) {                                           \
      snprintf(err, err_size, "step %d: %s", (step), #cond); \
      ret = (step);                                          \
      goto out;                                              \
    }                                                        \
  } while (0)

/*
 * magma_conformance_abi_c - runs the C sequence on @device (borrowed). Returns 0 on success or
 * the failing step, with a description in @err. Releases everything it created either way.
 */
int magma_conformance_abi_c(magma_device_t device, char *err, size_t err_size) {
  const uint64_t gpu_va = 0x20000000ull;
  magma_connection_t connection = 0;
  magma_buffer_t buffer = 0;
  magma_buffer_id_t buffer_id = 0;
  magma_semaphore_t semaphore = 0;
  magma_semaphore_id_t semaphore_id = 0;
  magma_handle_t handle = 0;
  magma_poll_item_t item;
  magma_inline_command_buffer_t inline_cmd;
  magma_buffer_info_t info;
  uint64_t value = 0, size = 0;
  uint32_t context_id = 0, words[8], n = 0;
  volatile uint32_t *cpu = NULL;
  int ret = 0;

  err[0] = '\0';
  CHECK(1, magma_device_query(device, MAGMA_QUERY_VENDOR_ID, NULL, &value) == MAGMA_STATUS_OK);
  CHECK(2, value == MAGMA_SIM_VENDOR_ID);
  CHECK(3, magma_device_create_connection(device, &connection) == MAGMA_STATUS_OK);
  CHECK(4, magma_connection_create_context2(connection, MAGMA_PRIORITY_MEDIUM, &context_id) ==
               MAGMA_STATUS_OK);
  CHECK(5, magma_connection_create_buffer(connection, 100, &size, &buffer, &buffer_id) ==
               MAGMA_STATUS_OK);
  CHECK(6, size == 4096 && buffer_id != 0);
  CHECK(7, magma_buffer_get_info(buffer, &info) == MAGMA_STATUS_OK && info.size == size);
  CHECK(8, magma_buffer_get_handle(buffer, &handle) == MAGMA_STATUS_OK);
  cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
  close((int)handle);
  if (cpu == MAP_FAILED) cpu = NULL;
  CHECK(9, cpu != NULL);
  cpu[0] = 0x11111111u;
  CHECK(10,
        magma_connection_map_buffer(connection, gpu_va, buffer, 0, size,
                                    MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) == MAGMA_STATUS_OK);
  CHECK(11, magma_connection_create_semaphore(connection, &semaphore, &semaphore_id) ==
                MAGMA_STATUS_OK);

  n += sim_cmd_emit_write32(words + n, gpu_va + 4, 0xc0ffee00u);
  n += sim_cmd_emit_end(words + n);
  memset(&inline_cmd, 0, sizeof(inline_cmd));
  inline_cmd.data = words;
  inline_cmd.size = n * sizeof(uint32_t);
  inline_cmd.semaphore_ids = &semaphore_id;
  inline_cmd.semaphore_count = 1;
  CHECK(12, magma_connection_execute_inline_commands(connection, context_id, 1, &inline_cmd) ==
                MAGMA_STATUS_OK);

  memset(&item, 0, sizeof(item));
  item.semaphore = semaphore;
  item.type = MAGMA_POLL_TYPE_SEMAPHORE;
  item.condition = MAGMA_POLL_CONDITION_SIGNALED;
  CHECK(13, magma_poll(&item, 1, 10000000000ull) == MAGMA_STATUS_OK);
  CHECK(14, item.result == MAGMA_POLL_CONDITION_SIGNALED);
  CHECK(15, cpu[1] == 0xc0ffee00u && cpu[0] == 0x11111111u);
  CHECK(16, magma_connection_flush(connection) == MAGMA_STATUS_OK);
  CHECK(17, magma_connection_get_error(connection) == MAGMA_STATUS_OK);
  magma_connection_unmap_buffer(connection, gpu_va, buffer);
  magma_connection_release_context(connection, context_id);
  context_id = 0;
  CHECK(18, magma_connection_flush(connection) == MAGMA_STATUS_OK);

out:
  if (cpu) munmap((void *)cpu, size);
  if (semaphore) magma_connection_release_semaphore(connection, semaphore);
  if (buffer) magma_connection_release_buffer(connection, buffer);
  if (connection) magma_connection_release(connection);
  return ret;
}

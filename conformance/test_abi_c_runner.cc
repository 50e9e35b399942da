// SPDX-License-Identifier: MIT
//
// test_abi_c_runner.cc - runs test_abi_c.c's plain-C sequence (suite MagmaAbiC).
#include "magma_test.h"

extern "C" int magma_conformance_abi_c(magma_device_t device, char* err, size_t err_size);

class MagmaAbiC : public MagmaDeviceTest {};

TEST_F(MagmaAbiC, SequenceFromPlainC) {
  char err[256];
  EXPECT_EQ(magma_conformance_abi_c(device(), err, sizeof(err)), 0) << err;
}

# SPDX-License-Identifier: MIT
# kernel.s - the first client's compute kernel: data[i] += i for every i < n.
#
# Assembled at build time by sim-asm (sim-asm kernel.s -o kernel.bin) and embedded in the
# program (embed_kernel.cmake); docs/sim-gpu.md section 7 is the ISA. Every lane runs this once.
# At launch r0:r1 holds the args VA (the pair is an address) and r2 the global invocation id i.
# The args buffer (struct first_client_args in first_client.c):
#   +0  data VA, low and high word
#   +8  n, the number of elements
# The grid is rounded up to whole workgroups, so lanes with i >= n must do nothing.

        ld    r4, r0, 8           # n
        sltu  r5, r2, r4          # i < n ?
        if    r5                  # lanes past the end skip to endif
        ld    r6, r0, 0           # data VA: r6 low, r7 high (the pair r6:r7 is an address)
        ld    r7, r0, 4
        shl   r8, r2, 2           # byte offset of data[i]
        ldx   r9, r6, r8, 0       # data[i]
        add   r9, r9, r2          # + i
        stx   r6, r8, r9, 0       # data[i] = data[i] + i
        endif
        exit

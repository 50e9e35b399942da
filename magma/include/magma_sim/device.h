/* SPDX-License-Identifier: MIT */
/*
 * device.h - opening a magma-simd device socket by path. magma-sim's own helper, part of
 * libmagma but not of Magma's API (magma.h opens devices only through magma_device_import).
 *
 * A device is a connected Unix stream socket to a magma-sim service (docs/devices.md). The
 * embedded device hands one out (magma_sim_embedded_open, magma_system/embedded.h); under
 * magma-sim-run an unmodified open("/dev/magma0") returns one (the preload shim); and the daemon
 * `magma-simd --dir DIR` listens on DIR/magma0, DIR/magma1, ..., which a client connect()s to.
 * magma_sim_device_open does that connect() and the magma_device_import, so a client of a
 * daemon needs no socket code of its own.
 *
 * It connects to Unix sockets only: it never open()s a path, so a /dev/magmaN name (which only
 * the magma-sim-run shim serves, and only to open()), a FIFO or a device node is refused, not
 * opened with whatever side effects that has.
 */
#ifndef MAGMA_SIM_DEVICE_H
#define MAGMA_SIM_DEVICE_H

#include <lib/magma/magma.h>

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * magma_sim_device_open - connects a Unix stream socket to @path (a magma-simd device socket,
 * "DIR/magma0") and imports it as a device into *@device_out.
 *
 * Ownership: on success the caller owns *@device_out (magma_device_release); the socket belongs
 * to the device. On failure nothing is left open and *@device_out is unchanged. The socket is
 * close-on-exec.
 *
 * Thread-safety: any thread, any number at once; no state is shared between calls.
 *
 * Returns:
 *   MAGMA_STATUS_OK               the device answered the handshake.
 *   MAGMA_STATUS_INVALID_ARGS     @path or @device_out is NULL; @path is empty or longer than a
 *                                 Unix socket address holds (107 bytes); or @path names no
 *                                 socket: it does not exist (no daemon serves it: magma-simd
 *                                 removes its sockets when it stops), is something else (a file,
 *                                 a directory, a /dev node) or is a socket of another type.
 *   MAGMA_STATUS_ACCESS_DENIED    the caller may not reach @path (a daemon's directory is mode
 *                                 0700: its permissions are the devices' access control).
 *   MAGMA_STATUS_CONNECTION_LOST  a socket nobody listens on (its daemon was killed), or the
 *                                 service hung up or did not answer the handshake (as a daemon
 *                                 does to a process past its limit of device channels).
 *   MAGMA_STATUS_MEMORY_ERROR     this process is out of file descriptors or memory.
 *   other                         magma_device_import's status for a refused handshake (for
 *                                 example MAGMA_STATUS_UNIMPLEMENTED: another wire protocol).
 *
 * errno is set on every failure, so a message can say why: the system call's error when one
 * failed (ENOENT, ENOTSOCK for a path that is not a socket, EPROTOTYPE for a socket of another
 * type, ENAMETOOLONG, EACCES, ECONNREFUSED, EMFILE, ...), EINVAL for NULL arguments or an empty
 * path, and EPROTO when the connection was made but the handshake failed.
 */
MAGMA_EXPORT magma_status_t magma_sim_device_open(const char *path, magma_device_t *device_out);

#if defined(__cplusplus)
}
#endif

#endif /* MAGMA_SIM_DEVICE_H */

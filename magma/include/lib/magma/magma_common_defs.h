/* SPDX-License-Identifier: MIT */
/*
 * magma_common_defs.h - types and constants of the Magma client API, version 16.
 *
 * Written for magma-sim from the documented interface of Fuchsia's Magma (names, values and
 * layouts match, so an existing Magma client compiles against this header unchanged). Shared by
 * the client library, the wire protocol and the system layer. This is a C header usable from
 * C++; it defines no functions. On Linux a magma_handle_t is a file descriptor.
 */
#ifndef LIB_MAGMA_MAGMA_COMMON_DEFS_H_
#define LIB_MAGMA_MAGMA_COMMON_DEFS_H_

#include <stdint.h>

/* clang-format off */
#ifdef __Fuchsia__
#include <zircon/availability.h>
#define MAGMA_AVAILABLE_SINCE(level_added) ZX_AVAILABLE_SINCE(level_added)
#define MAGMA_DEPRECATED_SINCE(level_added, level_deprecated, msg) \
	ZX_DEPRECATED_SINCE(level_added, level_deprecated, msg)
/* Trailing slash: the namespace is opened as a directory. */
#define MAGMA_DEVICE_NAMESPACE "/loader-gpu-devices/svc/magma/"
#else
#define MAGMA_AVAILABLE_SINCE(level_added)
#define MAGMA_DEPRECATED_SINCE(level_added, level_deprecated, msg)
#define MAGMA_DEVICE_NAMESPACE ""
#endif

#if defined(__cplusplus)
extern "C" {
#endif

/* Incremented whenever the API changes. */
#define MAGMA_API_VERSION 16

/* Entry points carry this; an ICD may predefine it (e.g. to a visibility attribute). */
#ifndef MAGMA_EXPORT
#define MAGMA_EXPORT
#endif

typedef int8_t magma_log_severity_t;
#define MAGMA_LOG_ERROR   ((magma_log_severity_t)1)
#define MAGMA_LOG_WARNING ((magma_log_severity_t)2)
#define MAGMA_LOG_INFO    ((magma_log_severity_t)3)
#define MAGMA_LOG_DEBUG   ((magma_log_severity_t)4)

/* Vendor-neutral queries for magma_device_query(). */
typedef uint64_t magma_query_t;
#define MAGMA_QUERY_VENDOR_ID               ((magma_query_t)0)  /* PCI or Khronos vendor id */
#define MAGMA_QUERY_DEVICE_ID               ((magma_query_t)1)
#define MAGMA_QUERY_VENDOR_VERSION          ((magma_query_t)2)  /* vendor interface version */
#define MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED ((magma_query_t)3)
/* 4 was MAGMA_QUERY_MINIMUM_MAPPABLE_ADDRESS; retired. */
/* Upper 32 bits: maximum in-flight messages; lower 32 bits: maximum in-flight memory (MB). */
#define MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS ((magma_query_t)5)
/* Vendor-specific query ids start here. */
#define MAGMA_QUERY_VENDOR_PARAM_0          ((magma_query_t)10000)
/* Buffer result: struct magma_total_time_query_result. */
#define MAGMA_QUERY_TOTAL_TIME              ((magma_query_t)500)

/* An id that never names an object. */
#define MAGMA_INVALID_OBJECT_ID ((uint64_t)0ull)

/* Vendor-specific command descriptor flags start here. */
#define MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0 ((uint64_t)(1ull << 16))

typedef int32_t magma_status_t;
#define MAGMA_STATUS_OK                                ((magma_status_t)(0))
#define MAGMA_STATUS_INTERNAL_ERROR                    ((magma_status_t)(-1))
#define MAGMA_STATUS_INVALID_ARGS                      ((magma_status_t)(-2))
#define MAGMA_STATUS_ACCESS_DENIED                     ((magma_status_t)(-3))
#define MAGMA_STATUS_MEMORY_ERROR                      ((magma_status_t)(-4))
#define MAGMA_STATUS_CONTEXT_KILLED                    ((magma_status_t)(-5))
#define MAGMA_STATUS_CONNECTION_LOST                   ((magma_status_t)(-6))
#define MAGMA_STATUS_TIMED_OUT                         ((magma_status_t)(-7))
#define MAGMA_STATUS_UNIMPLEMENTED                     ((magma_status_t)(-8))
/* An object was not in the right state for the operation. */
#define MAGMA_STATUS_BAD_STATE                         ((magma_status_t)(-9))
/* sysmem: constraints have no intersection / too many group child combinations. */
#define MAGMA_STATUS_CONSTRAINTS_INTERSECTION_EMPTY    ((magma_status_t)(-10))
#define MAGMA_STATUS_TOO_MANY_GROUP_CHILD_COMBINATIONS ((magma_status_t)(-11))
#define MAGMA_STATUS_ALIAS_FOR_LAST MAGMA_STATUS_TOO_MANY_GROUP_CHILD_COMBINATIONS

typedef uint32_t magma_cache_operation_t;
#define MAGMA_CACHE_OPERATION_CLEAN            ((magma_cache_operation_t)0)
#define MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE ((magma_cache_operation_t)1)

typedef uint32_t magma_cache_policy_t;
#define MAGMA_CACHE_POLICY_CACHED          ((magma_cache_policy_t)0)
#define MAGMA_CACHE_POLICY_WRITE_COMBINING ((magma_cache_policy_t)1)
#define MAGMA_CACHE_POLICY_UNCACHED        ((magma_cache_policy_t)2)

#define MAGMA_DUMP_TYPE_NORMAL ((uint32_t)(1 << 0))

#define MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY ((uint32_t)(1 << 0))

#define MAGMA_IMPORT_SEMAPHORE_ONE_SHOT ((uint64_t)(1 << 0))

/* Pixel formats; values follow fuchsia.images2.PixelFormat. */
typedef uint32_t magma_format_t;
#define MAGMA_FORMAT_INVALID     ((magma_format_t)0)
#define MAGMA_FORMAT_R8G8B8A8    ((magma_format_t)1)
#define MAGMA_FORMAT_BGRA32      ((magma_format_t)101)
#define MAGMA_FORMAT_I420        ((magma_format_t)102)
#define MAGMA_FORMAT_M420        ((magma_format_t)103)
#define MAGMA_FORMAT_NV12        ((magma_format_t)104)
#define MAGMA_FORMAT_YUY2        ((magma_format_t)105)
#define MAGMA_FORMAT_MJPEG       ((magma_format_t)106)
#define MAGMA_FORMAT_YV12        ((magma_format_t)107)
#define MAGMA_FORMAT_BGR24       ((magma_format_t)108)
#define MAGMA_FORMAT_RGB565      ((magma_format_t)109)
#define MAGMA_FORMAT_RGB332      ((magma_format_t)110)
#define MAGMA_FORMAT_RGB2220     ((magma_format_t)111)
#define MAGMA_FORMAT_L8          ((magma_format_t)112)
#define MAGMA_FORMAT_R8          ((magma_format_t)113)
#define MAGMA_FORMAT_R8G8        ((magma_format_t)114)
#define MAGMA_FORMAT_A2R10G10B10 ((magma_format_t)115)
#define MAGMA_FORMAT_A2B10G10R10 ((magma_format_t)116)
#define MAGMA_FORMAT_P010        ((magma_format_t)117)
#define MAGMA_FORMAT_R8G8B8      ((magma_format_t)118)

/* Format modifiers; values follow fuchsia.images2 FORMAT_MODIFIER_*. */
typedef uint64_t magma_format_modifier_t;
#define MAGMA_FORMAT_MODIFIER_LINEAR               ((magma_format_modifier_t)0x0000000000000000)
#define MAGMA_FORMAT_MODIFIER_INTEL_X_TILED        ((magma_format_modifier_t)0x0100000000000001)
#define MAGMA_FORMAT_MODIFIER_INTEL_Y_TILED        ((magma_format_modifier_t)0x0100000000000002)
#define MAGMA_FORMAT_MODIFIER_INTEL_YF_TILED       ((magma_format_modifier_t)0x0100000000000003)
#define MAGMA_FORMAT_MODIFIER_INTEL_Y_TILED_CCS    ((magma_format_modifier_t)0x0100000001000002)
#define MAGMA_FORMAT_MODIFIER_INTEL_YF_TILED_CCS   ((magma_format_modifier_t)0x0100000001000003)
#define MAGMA_FORMAT_MODIFIER_ARM_YUV_BIT          ((magma_format_modifier_t)0x10)
#define MAGMA_FORMAT_MODIFIER_ARM_SPLIT_BLOCK_BIT  ((magma_format_modifier_t)0x20)
#define MAGMA_FORMAT_MODIFIER_ARM_SPARSE_BIT       ((magma_format_modifier_t)0x40)
#define MAGMA_FORMAT_MODIFIER_ARM_BCH_BIT          ((magma_format_modifier_t)0x800)
#define MAGMA_FORMAT_MODIFIER_ARM_TE_BIT           ((magma_format_modifier_t)0x1000)
#define MAGMA_FORMAT_MODIFIER_ARM_TILED_HEADER_BIT ((magma_format_modifier_t)0x2000)
#define MAGMA_FORMAT_MODIFIER_ARM                  ((magma_format_modifier_t)0x0800000000000000)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16       ((magma_format_modifier_t)0x0800000000000001)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_32X8        ((magma_format_modifier_t)0x0800000000000002)
#define MAGMA_FORMAT_MODIFIER_ARM_LINEAR_TE        ((magma_format_modifier_t)0x0800000000001000)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_TE    ((magma_format_modifier_t)0x0800000000001001)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_32X8_TE     ((magma_format_modifier_t)0x0800000000001002)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_YUV_TILED_HEADER \
	((magma_format_modifier_t)0x0800000000002011)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_SPLIT_BLOCK_SPARSE_YUV \
	((magma_format_modifier_t)0x0800000000000071)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_SPLIT_BLOCK_SPARSE_YUV_TE \
	((magma_format_modifier_t)0x0800000000001071)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_SPLIT_BLOCK_SPARSE_YUV_TILED_HEADER \
	((magma_format_modifier_t)0x0800000000002071)
#define MAGMA_FORMAT_MODIFIER_ARM_AFBC_16X16_SPLIT_BLOCK_SPARSE_YUV_TE_TILED_HEADER \
	((magma_format_modifier_t)0x0800000000003071)

/* Colour spaces; values follow fuchsia.sysmem.ColorSpaceType. */
typedef uint32_t magma_colorspace_t;
#define MAGMA_COLORSPACE_INVALID                 ((magma_colorspace_t)0)
#define MAGMA_COLORSPACE_SRGB                    ((magma_colorspace_t)1)
#define MAGMA_COLORSPACE_REC601_NTSC             ((magma_colorspace_t)2)
#define MAGMA_COLORSPACE_REC601_NTSC_FULL_RANGE  ((magma_colorspace_t)3)
#define MAGMA_COLORSPACE_REC601_PAL              ((magma_colorspace_t)4)
#define MAGMA_COLORSPACE_REC601_PAL_FULL_RANGE   ((magma_colorspace_t)5)
#define MAGMA_COLORSPACE_REC709                  ((magma_colorspace_t)6)
#define MAGMA_COLORSPACE_REC2020                 ((magma_colorspace_t)7)
#define MAGMA_COLORSPACE_REC2100                 ((magma_colorspace_t)8)

typedef uint32_t magma_coherency_domain_t;
#define MAGMA_COHERENCY_DOMAIN_CPU          ((magma_coherency_domain_t)0)
#define MAGMA_COHERENCY_DOMAIN_RAM          ((magma_coherency_domain_t)1)
#define MAGMA_COHERENCY_DOMAIN_INACCESSIBLE ((magma_coherency_domain_t)2)

/* magma_poll_item_t.type and .condition. */
#define MAGMA_POLL_TYPE_SEMAPHORE     ((uint32_t)1)
#define MAGMA_POLL_TYPE_HANDLE        ((uint32_t)2)
#define MAGMA_POLL_CONDITION_READABLE ((uint32_t)1)
#define MAGMA_POLL_CONDITION_SIGNALED ((uint32_t)3)

/* Operations for magma_connection_perform_buffer_op(). */
typedef uint32_t magma_buffer_range_op_t;
/* Commit pages as needed and populate the GPU page tables for the range now. */
#define MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES   ((magma_buffer_range_op_t)1)
/* Commit memory on the calling thread; page tables may stay unpopulated. */
#define MAGMA_BUFFER_RANGE_OP_COMMIT            ((magma_buffer_range_op_t)2)
/* Remove the range from the GPU page tables; contents are kept. */
#define MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES ((magma_buffer_range_op_t)3)
/* Release the range's pages; may fail while the system driver has the tables populated. */
#define MAGMA_BUFFER_RANGE_OP_DECOMMIT          ((magma_buffer_range_op_t)4)

#define MAGMA_SYSMEM_FLAG_PROTECTED  ((uint32_t)(1 << 0))
#define MAGMA_SYSMEM_FLAG_FOR_CLIENT ((uint32_t)(1 << 2))

#define MAGMA_MAX_IMAGE_PLANES         ((uint32_t)4)
#define MAGMA_MAX_DRM_FORMAT_MODIFIERS ((uint32_t)16)
/* clang-format on */

/* A fixed-size boolean (C bool has no fixed size across ABIs). */
typedef uint8_t magma_bool_t;

/* Opaque client-side objects. */
typedef uint64_t magma_device_t;
typedef uint64_t magma_buffer_t;
typedef uint64_t magma_semaphore_t;
typedef uint64_t magma_perf_count_pool_t;
typedef uint64_t magma_connection_t;
typedef uint64_t magma_sysmem_connection_t;

/* A platform handle: a file descriptor on Linux, a zx_handle_t on Fuchsia. */
typedef uint32_t magma_handle_t;

/* Ids by which a connection's messages refer to its buffers and semaphores (per connection). */
typedef uint64_t magma_buffer_id_t;
typedef uint64_t magma_semaphore_id_t;

typedef struct magma_poll_item {
	union {
		magma_semaphore_t semaphore; /* type MAGMA_POLL_TYPE_SEMAPHORE */
		magma_handle_t handle;       /* type MAGMA_POLL_TYPE_HANDLE */
	};
	uint32_t type;
	uint32_t condition; /* 0: the item is ignored */
	uint32_t result;    /* set by magma_poll: the condition met, or 0 */
	uint32_t unused;
} magma_poll_item_t;

/* A buffer range a command buffer may touch; the range must already be GPU-mapped. */
typedef struct magma_exec_resource {
	magma_buffer_id_t buffer_id;
	uint64_t offset;
	uint64_t length;
} magma_exec_resource_t;

/* A command buffer: resources[resource_index] holds the commands, from start_offset. */
typedef struct magma_exec_command_buffer {
	uint32_t resource_index;
	uint32_t unused;
	uint64_t start_offset;
} __attribute__((__aligned__(8))) magma_exec_command_buffer_t;

typedef struct magma_command_descriptor {
	uint32_t resource_count;
	uint32_t command_buffer_count;
	/* Waited on before execution begins, and reset once all have been signaled. */
	uint32_t wait_semaphore_count;
	/* Signaled when execution completes. */
	uint32_t signal_semaphore_count;
	struct magma_exec_resource *resources;
	struct magma_exec_command_buffer *command_buffers;
	/* wait_semaphore_count wait ids, then signal_semaphore_count signal ids. */
	uint64_t *semaphore_ids;
	uint64_t flags; /* vendor flags are >= MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0 */
} __attribute__((__aligned__(8))) magma_command_descriptor_t;

/* Commands passed by value; the semaphores are signaled when they complete. */
typedef struct magma_inline_command_buffer {
	void *data;
	uint64_t size;
	uint64_t *semaphore_ids;
	uint32_t semaphore_count;
} magma_inline_command_buffer_t;

typedef struct magma_total_time_query_result {
	uint64_t gpu_time_ns;       /* GPU busy time since the driver started */
	uint64_t monotonic_time_ns; /* CLOCK_MONOTONIC when gpu_time_ns was sampled */
} magma_total_time_query_result_t;

typedef struct magma_buffer_offset {
	uint64_t buffer_id;
	uint64_t offset;
	uint64_t length;
} magma_buffer_offset_t;

/* clang-format off */
/* Map flags; the top bits from MAGMA_MAP_FLAG_VENDOR_SHIFT are vendor-specific. */
#define MAGMA_MAP_FLAG_VENDOR_SHIFT ((uint64_t)16)
#define MAGMA_MAP_FLAG_READ         ((uint64_t)(1 << 0))
#define MAGMA_MAP_FLAG_WRITE        ((uint64_t)(1 << 1))
#define MAGMA_MAP_FLAG_EXECUTE      ((uint64_t)(1 << 2))
#define MAGMA_MAP_FLAG_GROWABLE     ((uint64_t)(1 << 3))
#define MAGMA_MAP_FLAG_VENDOR_0     ((uint64_t)(1 << MAGMA_MAP_FLAG_VENDOR_SHIFT))
/* clang-format on */

typedef struct magma_buffer_info {
	uint64_t committed_byte_count;
	uint64_t size;
} magma_buffer_info_t;

#define MAGMA_IMAGE_CREATE_FLAGS_PRESENTABLE ((uint32_t)1)
#define MAGMA_IMAGE_CREATE_FLAGS_VULKAN_USAGE ((uint32_t)(1 << 1))

typedef struct magma_image_create_info {
	uint64_t drm_format; /* a Linux DRM fourcc */
	/* Candidate modifiers; the list ends with DRM_FORMAT_MOD_INVALID. */
	uint64_t drm_format_modifiers[MAGMA_MAX_DRM_FORMAT_MODIFIERS];
	uint32_t width;
	uint32_t height;
	/* With MAGMA_IMAGE_CREATE_FLAGS_VULKAN_USAGE, Vulkan usage flags in the upper 32 bits. */
	uint64_t flags;
} magma_image_create_info_t;

typedef struct magma_image_info {
	uint64_t plane_strides[MAGMA_MAX_IMAGE_PLANES];
	uint32_t plane_offsets[MAGMA_MAX_IMAGE_PLANES];
	uint64_t drm_format_modifier;
	uint32_t coherency_domain;
	uint32_t unused;
} magma_image_info_t;

/* Context priorities for magma_connection_create_context2(). */
#define MAGMA_PRIORITY_LOW ((uint64_t)(128))
#define MAGMA_PRIORITY_MEDIUM ((uint64_t)(256))
#define MAGMA_PRIORITY_HIGH ((uint64_t)(512))
#define MAGMA_PRIORITY_REALTIME ((uint64_t)(1024))

typedef uint64_t magma_priority_t;

#if defined(__cplusplus)
}
#endif

#endif /* LIB_MAGMA_MAGMA_COMMON_DEFS_H_ */

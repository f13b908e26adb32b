/* demo: a small instrument library of ours, the kind dllgen is for: an opaque device
 * handle, status codes, strings both ways, buffers in, out and in place, a string the
 * caller frees, errno, a struct with a string field, a progress callback. Built 32-bit (gcc -m32, mingw i686) and 64-bit (native). */
#ifndef DEMO_H
#define DEMO_H
#include <stdint.h>

#if defined(_WIN32)
#include <sal.h>
#else
#define _In_
#define _In_opt_
#define _Inout_opt_
#define _Out_opt_
#define _In_z_
#define _Out_
#define _Inout_
#define _Outptr_
#define _Ret_z_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _Inout_updates_opt_(n)
#define _In_reads_bytes_(n)
#define _Out_writes_z_(n)
#define _Out_writes_bytes_to_(cap, len)
#define _Inout_updates_(n)
#endif

#ifndef DEMO_API
#define DEMO_API
#endif

/** An open device. */
typedef struct demo_device demo_device;

/** What every device call returns. */
typedef enum demo_status {
    DEMO_OK = 0,
    DEMO_ERR_ARG = -1,
    DEMO_ERR_NOT_FOUND = -2,
    DEMO_ERR_FULL = -3,
    DEMO_ERR_CANCELLED = -4
} demo_status;

/** Opens the device called `name` ("sim0" to "sim9"). */
DEMO_API demo_status demo_open(_In_z_ const char *name, _Outptr_ demo_device **out);

/** Closes a device. */
DEMO_API void demo_close(_In_ demo_device *dev);

/** The library's version. */
DEMO_API _Ret_z_ const char *demo_version(void);

/** Adds two numbers. */
DEMO_API int32_t demo_add(int32_t a, int32_t b);

/** Multiplies `count` samples by `gain`, in place. */
DEMO_API demo_status demo_scale(_In_ demo_device *dev, _Inout_updates_(count) float *samples, uint32_t count, double gain);

/** Appends `len` bytes to the device's log. */
DEMO_API demo_status demo_write(_In_ demo_device *dev, _In_reads_bytes_(len) const void *data, uint32_t len);

/** Copies up to `cap` bytes of the log into `buf`; `*got` receives how many. */
DEMO_API demo_status demo_read(_In_ demo_device *dev, _Out_writes_bytes_to_(cap, *got) void *buf, uint32_t cap, _Out_ uint32_t *got);

/** The device's name, NUL-terminated, in `buf` of `cap` bytes. */
DEMO_API demo_status demo_name(_In_ demo_device *dev, _Out_writes_z_(cap) char *buf, uint32_t cap);

/** The sum of `n` values. */
DEMO_API int64_t demo_sum(_In_reads_(n) const int32_t *values, uint32_t n);

/** Flips every bit of `*flags`; returns how many were set before. */
DEMO_API uint32_t demo_toggle(_Inout_ uint32_t *flags);

/** Clamps `*value` into [`*low`, 100] (`low` defaults to 0) when `value` is given;
 * `*clamped`, when given, says whether it changed. Returns the clamped value, or -1
 * without `value`. */
DEMO_API int32_t demo_clamp(_In_opt_ const int32_t *low, _Inout_opt_ int32_t *value, _Out_opt_ uint8_t *clamped);

/** The sum of the `n` values in `add` (none: 0), added to each of the `m` values in
 * `acc` when given; returns the sum, or -1 when neither is given. */
DEMO_API int32_t demo_mix(_In_reads_opt_(n) const int16_t *add, uint32_t n, _Inout_updates_opt_(m) int32_t *acc, uint32_t m);

/** A description of the device; the caller frees it with demo_free. */
DEMO_API char *demo_describe(_In_ demo_device *dev);

/** Frees what demo_describe returned. */
DEMO_API void demo_free(void *p);

/** Fails with errno set to `code`, returning -1. */
DEMO_API int32_t demo_fail(int32_t code);

/** One measurement. */
typedef struct demo_reading {
    uint32_t channel;  /**< The channel measured. */
    double value;      /**< The value, in `unit`. */
    uint64_t sequence; /**< Readings taken since the device was opened. */
    const char *unit;  /**< "V" or "mA". */
    uint8_t flags;     /**< Bit 0: over range. */
} demo_reading;

/** Measures `channel` (0 to 3) into `*out`. */
DEMO_API demo_status demo_measure(_In_ demo_device *dev, uint32_t channel, _Out_ demo_reading *out);

/** Calibration progress: `done` of `total` steps; return non-zero to cancel. */
typedef int (*demo_progress_fn)(void *ctx, uint32_t done, uint32_t total);

/** Calibrates in `steps` steps, calling `progress` (when given) after each; returns
 * DEMO_ERR_CANCELLED when it asks to stop. */
DEMO_API demo_status demo_calibrate(_In_ demo_device *dev, uint32_t steps, demo_progress_fn progress, void *ctx);

#endif

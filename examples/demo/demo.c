/* The demo library (demo.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define DEMO_API __declspec(dllexport)
#else
#define DEMO_API __attribute__((visibility("default")))
#endif
#include "demo.h"

struct demo_device {
    char name[16];
    unsigned char log[4096];
    uint32_t used;
    uint64_t readings;
    double offset;
};

demo_status demo_open(const char *name, demo_device **out)
{
    if (!name || !out)
        return DEMO_ERR_ARG;
    if (strncmp(name, "sim", 3) != 0 || name[3] < '0' || name[3] > '9' || name[4] != 0)
        return DEMO_ERR_NOT_FOUND;
    demo_device *d = calloc(1, sizeof *d);
    if (!d)
        return DEMO_ERR_FULL;
    strcpy(d->name, name);
    *out = d;
    return DEMO_OK;
}

void demo_close(demo_device *dev) { free(dev); }

const char *demo_version(void) { return "demo 1.2.0"; }

int32_t demo_add(int32_t a, int32_t b) { return a + b; }

demo_status demo_scale(demo_device *dev, float *samples, uint32_t count, double gain)
{
    if (!dev || (count && !samples))
        return DEMO_ERR_ARG;
    for (uint32_t i = 0; i < count; i++)
        samples[i] = (float)(samples[i] * gain);
    return DEMO_OK;
}

demo_status demo_write(demo_device *dev, const void *data, uint32_t len)
{
    if (!dev || (len && !data))
        return DEMO_ERR_ARG;
    if (len > sizeof dev->log - dev->used)
        return DEMO_ERR_FULL;
    memcpy(dev->log + dev->used, data, len);
    dev->used += len;
    return DEMO_OK;
}

demo_status demo_read(demo_device *dev, void *buf, uint32_t cap, uint32_t *got)
{
    if (!dev || !got)
        return DEMO_ERR_ARG;
    uint32_t n = dev->used < cap ? dev->used : cap;
    memcpy(buf, dev->log, n);
    *got = n;
    return DEMO_OK;
}

demo_status demo_name(demo_device *dev, char *buf, uint32_t cap)
{
    if (!dev || !buf || cap == 0)
        return DEMO_ERR_ARG;
    snprintf(buf, cap, "%s", dev->name);
    return DEMO_OK;
}

int64_t demo_sum(const int32_t *values, uint32_t n)
{
    int64_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += values[i];
    return s;
}

int32_t demo_clamp(const int32_t *low, int32_t *value, uint8_t *clamped)
{
    int32_t lo = low ? *low : 0, before;
    if (clamped)
        *clamped = 0;
    if (!value)
        return -1;
    before = *value;
    if (*value < lo)
        *value = lo;
    if (*value > 100)
        *value = 100;
    if (clamped)
        *clamped = *value != before;
    return *value;
}

int32_t demo_mix(const int16_t *add, uint32_t n, int32_t *acc, uint32_t m)
{
    int32_t sum = 0;
    if (!add && !acc)
        return -1;
    for (uint32_t i = 0; add && i < n; i++)
        sum += add[i];
    for (uint32_t i = 0; acc && i < m; i++)
        acc[i] += sum;
    return sum;
}

uint32_t demo_toggle(uint32_t *flags)
{
    uint32_t set = 0;
    for (uint32_t v = *flags; v; v &= v - 1)
        set++;
    *flags = ~*flags;
    return set;
}

char *demo_describe(demo_device *dev)
{
    char *s = malloc(64);
    if (s)
        snprintf(s, 64, "%s with %u bytes logged (%d-bit build)", dev ? dev->name : "?", dev ? dev->used : 0u, (int)(8 * sizeof(void *)));
    return s;
}

void demo_free(void *p) { free(p); }

int32_t demo_fail(int32_t code)
{
    errno = code;
    return -1;
}

demo_status demo_measure(demo_device *dev, uint32_t channel, demo_reading *out)
{
    if (!dev || !out || channel > 3)
        return DEMO_ERR_ARG;
    out->channel = channel;
    out->value = 1.25 * (channel + 1) + dev->used / 100.0 - dev->offset;
    out->sequence = ++dev->readings;
    out->unit = channel % 2 ? "mA" : "V";
    out->flags = out->value > 5.0;
    return DEMO_OK;
}

demo_status demo_calibrate(demo_device *dev, uint32_t steps, demo_progress_fn progress, void *ctx)
{
    if (!dev)
        return DEMO_ERR_ARG;
    for (uint32_t i = 1; i <= steps; i++) {
        dev->offset = 0.01 * i;
        if (progress && progress(ctx, i, steps))
            return DEMO_ERR_CANCELLED;
    }
    return DEMO_OK;
}

/* A C program written against examples/demo/demo.h, built 64-bit twice: linked with the
 * library's own 64-bit build, and linked with the dllgen proxy (generated/demo-proxy),
 * which runs every call in the 32-bit build through its host. tests/tests/proxy.rs runs
 * both and requires the same output, byte for byte. */
#include "demo.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int progress(void *ctx, uint32_t done, uint32_t total)
{
    int *calls = ctx;
    ++*calls;
    printf("  progress %u/%u\n", done, total);
    return done == 3 && total == 5; /* asks to stop after 3 of 5 */
}

int main(void)
{
    printf("version %s\n", demo_version());
    printf("add %d %d %d\n", demo_add(2, 3), demo_add(-7, 7), demo_add(2147483647, 0));

    int32_t values[1000];
    for (int i = 0; i < 1000; i++)
        values[i] = i * 7919 - 3000000;
    printf("sum %lld %lld\n", (long long)demo_sum(values, 1000), (long long)demo_sum(NULL, 0));

    uint32_t flags = 0xF0F0u;
    uint32_t set = demo_toggle(&flags);
    printf("toggle %u 0x%08x\n", set, flags);

    int32_t low = 10, value = 5;
    uint8_t clamped = 7;
    int32_t r = demo_clamp(&low, &value, &clamped);
    printf("clamp %d %d %u\n", r, value, clamped);
    value = 500;
    r = demo_clamp(NULL, &value, NULL);
    printf("clamp %d %d\n", r, value);
    printf("clamp without value %d\n", demo_clamp(NULL, NULL, NULL));

    int16_t add[3] = {1, 2, 3};
    int32_t acc[2] = {100, 200};
    printf("mix %d", demo_mix(add, 3, acc, 2));
    printf(" %d %d", acc[0], acc[1]);
    printf(" %d %d\n", demo_mix(NULL, 0, acc, 2), demo_mix(NULL, 0, NULL, 0));

    errno = 0;
    r = demo_fail(42);
    printf("fail %d errno %d\n", r, errno);

    demo_device *dev = NULL;
    printf("open missing %d %s\n", demo_open("nope", &dev), dev ? "set" : "untouched");
    demo_status s = demo_open("sim3", &dev);
    printf("open %d %s\n", s, dev ? "handle" : "null");
    if (s != DEMO_OK)
        return 1;

    char name[32];
    memset(name, 'x', sizeof name);
    printf("name %d '%s'\n", demo_name(dev, name, sizeof name), name);
    printf("name too small %d\n", demo_name(dev, name, 3));

    const char msg[] = "hello from a C program";
    printf("write %d\n", demo_write(dev, msg, (uint32_t)strlen(msg)));
    char back[64];
    uint32_t got = 12345;
    s = demo_read(dev, back, sizeof back, &got);
    printf("read %d %u '%.*s'\n", s, got, (int)got, back);
    got = 99;
    s = demo_read(dev, back, 5, &got);
    printf("read 5 %d %u '%.*s'\n", s, got, (int)got, back);

    float samples[4] = {1.5f, -2.0f, 0.25f, 1000.0f};
    s = demo_scale(dev, samples, 4, 2.5);
    printf("scale %d %.4f %.4f %.4f %.4f\n", s, samples[0], samples[1], samples[2], samples[3]);

    for (uint32_t ch = 0; ch < 5; ch++) {
        demo_reading rd;
        memset(&rd, 0, sizeof rd);
        s = demo_measure(dev, ch, &rd);
        if (s == DEMO_OK)
            printf("measure %u: %d channel %u value %.6f seq %llu unit %s flags %u\n", ch, s, rd.channel, rd.value,
                   (unsigned long long)rd.sequence, rd.unit, rd.flags);
        else
            printf("measure %u: %d\n", ch, s);
    }

    int calls = 0;
    s = demo_calibrate(dev, 5, progress, &calls);
    printf("calibrate %d after %d calls\n", s, calls);
    printf("calibrate without progress %d\n", demo_calibrate(dev, 4, NULL, NULL));

    /* The library reports its own bitness after " (": only the part before it is the
     * same in both builds. */
    char *d = demo_describe(dev);
    char *paren = d ? strstr(d, " (") : NULL;
    printf("describe '%.*s'\n", paren ? (int)(paren - d) : 0, d ? d : "");
    demo_free(d);

    demo_close(dev);
    printf("done\n");
    return 0;
}

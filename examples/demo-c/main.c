/* An ordinary 64-bit C program using the demo library through its header. Linked with
 * the 64-bit proxy (generated/demo-proxy, installed as libdemo.so.1 with demo-host beside
 * it), every call runs in the 32-bit libdemo32.so; nothing here knows. */
#include "demo.h"
#include <stdio.h>

static int progress(void *ctx, uint32_t done, uint32_t total)
{
    printf("  %s: step %u of %u\n", (const char *)ctx, done, total);
    return 0;
}

int main(void)
{
    printf("%s, in a %d-bit program\n", demo_version(), (int)(8 * sizeof(void *)));
    demo_device *dev;
    if (demo_open("sim0", &dev) != DEMO_OK)
        return 1;
    demo_reading r;
    demo_measure(dev, 1, &r);
    printf("channel %u: %.2f %s\n", r.channel, r.value, r.unit);
    demo_calibrate(dev, 3, progress, "calibrating");
    char *d = demo_describe(dev);
    printf("%s\n", d);
    demo_free(d);
    demo_close(dev);
    return 0;
}

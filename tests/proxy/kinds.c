/* A C program written against tests/fixtures/kinds.h (the project's fake device SDK),
 * built 64-bit twice: linked with the library's own 64-bit build, and with the dllgen
 * proxy (generated/kinds-linux-proxy), which runs every call in the 32-bit build through
 * its host. tests/tests/proxy.rs requires the same output from both. */
#include "kinds.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int progress(void *user, int percent)
{
    printf("  progress %s %d\n", (const char *)user, percent);
    return 0;
}

static void visit(const char *name, int index, void *user)
{
    printf("  visit %s %d %s\n", name, index, (const char *)user);
}

static int rows(void *ctx, int argc, char **argv)
{
    printf("  rows %s:", (const char *)ctx);
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i] ? argv[i] : "NULL");
    printf("\n");
    return argc;
}

static int each(intptr_t ctx, int i) { return (int)ctx * i; }

static int visit_device(void *ctx, kx_device *d)
{
    char name[32];
    int n = kx_name(d, name, sizeof name); /* a call from inside a callback */
    printf("  visit_device %s %d %.*s\n", (const char *)ctx, n, n, name);
    return 5;
}

static int32_t listener(void *ctx, int32_t event, const char *what)
{
    printf("  listener %s %d %s\n", (const char *)ctx, event, what);
    return event + 1;
}

static int32_t by_last_digit(void *ctx, int32_t a, int32_t b)
{
    (void)ctx;
    return (a % 10) - (b % 10);
}

static void destroyed(void *ctx) { printf("  destroyed %s\n", (const char *)ctx); }

static int32_t logger(void *ctx, const char *line)
{
    printf("  log %s: %s\n", (const char *)ctx, line);
    return (int32_t)strlen(line);
}

/* Frames come from the camera's own thread: only counted and checked here, printed at the
 * end (the order of prints across threads is not the program's to fix). */
static pthread_mutex_t frames_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t frames_seen, frames_bad;
static int32_t on_frame(void *ctx, uint32_t index, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    int bad = 0;
    for (uint32_t i = 0; i < len; i++)
        if (data[i] != (uint8_t)((index * 7 + i * 13) & 0xff))
            bad = 1;
    pthread_mutex_lock(&frames_lock);
    frames_seen++;
    frames_bad += bad;
    pthread_mutex_unlock(&frames_lock);
    return 0;
}

int main(void)
{
    printf("even %d %d\n", kx_even(4), kx_even(3));
    printf("error_text %s | %s\n", kx_error_text(KX_ERR_IO), kx_error_text(KX_OK));
    /* (One call per statement: C leaves the order of a call's arguments open.) */
    errno = 0;
    int r = kx_fail(17);
    printf("fail %d errno %d\n", r, errno);

    kx_device *dev = NULL;
    r = kx_open("dev/a", &dev);
    printf("open %d %s\n", r, dev ? "handle" : "null");
    kx_device *found = kx_find("dev/a");
    printf("find %s", found == dev ? "same" : "other");
    printf(" %s\n", kx_find("nowhere") ? "found" : "null");
    kx_device *none = (kx_device *)1;
    r = kx_nothing(&none);
    printf("nothing %d %s\n", r, none ? "set" : "null");
    char name[32];
    int n = kx_name(dev, name, sizeof name);
    printf("name %d %.*s\n", n, n, name);
    printf("write %d\n", kx_write(dev, "0123456789", 10));
    uint8_t buf[8];
    size_t got = 99;
    printf("read %d", kx_read(dev, buf, sizeof buf, &got));
    printf(" %zu %.*s\n", got, (int)got, (const char *)buf);
    kx_point origin = {3, -4};
    printf("set_origin %d", kx_set_origin(dev, &origin));
    printf(" %d\n", kx_set_origin(dev, NULL));
    char *d = kx_describe(dev);
    printf("describe %s\n", d);
    kx_free(d);
    printf("scan %d\n", kx_scan(dev, progress, "scanning"));
    printf("visit_device %d\n", kx_visit_device(dev, visit_device, "v"));

    printf("each %d\n", kx_each(3, visit, "names"));
    printf("each without %d\n", kx_each(2, NULL, NULL));
    printf("rows %d\n", kx_rows(4, rows, "r"));
    printf("sum_each %d\n", kx_sum_each(5, each, 3));

    uint8_t bytes[5] = {1, 2, 3, 4, 5};
    kx_reverse(bytes, 5);
    printf("reverse %u %u %u %u %u\n", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]);
    bool flags[4] = {true, false, true, true};
    int was = kx_flip(flags, 4);
    printf("flip %d %d%d%d%d\n", was, flags[0], flags[1], flags[2], flags[3]);
    uint16_t text[] = {'a', 'B', 'c', '1', 0}, upper[8];
    kx_upper16(text, upper, 8);
    printf("upper16");
    for (int i = 0; upper[i]; i++)
        printf(" %c", (char)upper[i]);
    printf("\n");
    double values[4] = {1.5, 2.5, -1.0, 10.0};
    printf("mean %.4f\n", kx_mean(values, 4));
    uint32_t odd[3];
    memset(odd, 0xee, sizeof odd);
    /* (A byte count that is not whole uint32_t's, 7, is refused by the proxy: the
     * client's buffer is counted in elements.) */
    r = kx_fill_odd(odd, 8);
    printf("fill_odd %d %08x %08x\n", r, odd[0], odd[1]);
    uint8_t data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (uint8_t)(i * 3);
    printf("sum_opt %d", kx_sum_opt(data, 3, 4));
    printf(" %d\n", kx_sum_opt(NULL, 0, 0));
    uint8_t packed[16];
    uint32_t plen = sizeof packed;
    printf("pack %d", kx_pack(packed, &plen, (const uint8_t *)"abcdef", 6));
    printf(" %u %.*s\n", plen, (int)plen, (const char *)packed);
    /* (Not kx_pack into too small a buffer: it fails with the size it needs in *dst_len,
     * more than the buffer holds, which the proxy refuses with -1 rather than pass on.) */
    uint32_t eaten = 8;
    printf("eat %d", kx_eat((const uint8_t *)"abc\0defg", &eaten));
    printf(" %u\n", eaten);
    char *msg = NULL;
    r = kx_explain(3, &msg);
    printf("explain %d %s", r, msg ? msg : "NULL");
    kx_free(msg);
    msg = (char *)"untouched";
    r = kx_explain(0, &msg);
    printf(" | %d %s unfreed %d\n", r, msg ? msg : "NULL", kx_unfreed());
    printf("fixed %d\n", kx_fixed(21, KX_MAGIC, KX_VERSION, NULL, KX_TRANSIENT, sizeof(struct kx_info)));

    printf("listen %d\n", kx_listen(dev, listener, "L"));
    printf("emit %d\n", kx_emit(dev, 3, "ping"));
    printf("order_set %d\n", kx_order_set(1, by_last_digit, "order 1", destroyed));
    printf("order_set bad %d\n", kx_order_set(9, by_last_digit, "bad slot", destroyed));
    int32_t sortme[5] = {45, 12, 93, 4, 51};
    r = kx_order_sort(1, sortme, 5);
    printf("order_sort %d %d %d %d %d %d\n", r, sortme[0], sortme[1], sortme[2], sortme[3], sortme[4]);
    printf("order_set replace %d\n", kx_order_set(1, by_last_digit, "order 1 again", destroyed));
    kx_orders_clear();
    printf("cleared\n");
    kx_logger_set(logger, "log");
    printf("logger_line %d\n", kx_logger_line("a line to log"));

    kx_stream s;
    memset(&s, 0, sizeof s);
    r = kx_stream_init(&s, 0x20);
    printf("stream_init %d live %d\n", r, kx_streams_live());
    uint8_t out[6];
    s.next_in = (const uint8_t *)"HELLO world";
    s.avail_in = 11;
    size_t produced = 0;
    while (s.avail_in) {
        s.next_out = out;
        s.avail_out = sizeof out;
        r = kx_stream_run(&s);
        printf("  stream_run %d '%.*s' avail_in %u total_in %u total_out %u\n", r, r, (const char *)out, s.avail_in,
               s.total_in, s.total_out);
        produced += (size_t)r;
        if (r <= 0)
            break;
    }
    r = kx_stream_end(&s);
    printf("stream_end %d live %d produced %zu\n", r, kx_streams_live(), produced);

    kx_camera *cam = kx_camera_open(4096);
    printf("camera %s\n", cam ? "open" : "null");
    printf("on_frame %d\n", kx_camera_on_frame(cam, on_frame, NULL));
    printf("start %d\n", kx_camera_start(cam, 50));
    printf("wait %d\n", kx_camera_wait(cam));
    r = kx_camera_delivered(cam);
    printf("frames %u bad %u delivered %d\n", frames_seen, frames_bad, r);
    kx_camera_close(cam);

    kx_close(dev);
    printf("done\n");
    return 0;
}

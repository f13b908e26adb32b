/* What tests/proxy/dlopen.c and loadlibrary.c do with the demo library once loaded at run
 * time: resolve its functions by name through `find` and call them. */
#include <stdint.h>
#include <stdio.h>

typedef int32_t (*add_fn)(int32_t, int32_t);
typedef const char *(*version_fn)(void);
typedef int (*open_fn)(const char *, void **);
typedef int (*write_fn)(void *, const void *, uint32_t);
typedef int (*read_fn)(void *, void *, uint32_t, uint32_t *);
typedef void (*close_fn)(void *);

static void use_demo(void *(*find)(void *lib, const char *name), void *lib)
{
    add_fn add = (add_fn)find(lib, "demo_add");
    version_fn version = (version_fn)find(lib, "demo_version");
    open_fn open = (open_fn)find(lib, "demo_open");
    write_fn write = (write_fn)find(lib, "demo_write");
    read_fn read = (read_fn)find(lib, "demo_read");
    close_fn close = (close_fn)find(lib, "demo_close");
    printf("resolved %d\n", add && version && open && write && read && close);
    printf("missing %s\n", find(lib, "demo_no_such_function") ? "found" : "absent");
    printf("add %d version %s\n", add(40, 2), version());
    void *dev = NULL;
    printf("open %d\n", open("sim1", &dev));
    printf("write %d\n", write(dev, "plugin", 6));
    char buf[16];
    uint32_t got = 0;
    int r = read(dev, buf, sizeof buf, &got);
    printf("read %d %u %.*s\n", r, got, (int)got, buf);
    close(dev);
}

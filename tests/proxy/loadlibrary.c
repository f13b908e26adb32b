/* Loads the demo DLL at run time from the path given (its own 64-bit build, or the dllgen
 * proxy) with LoadLibraryW and resolves its functions by name with GetProcAddress;
 * tests/tests/proxy.rs requires the same output from both under Wine. */
#include <stdint.h>
#include <stdio.h>
#include <windows.h>

typedef int32_t (*add_fn)(int32_t, int32_t);
typedef const char *(*version_fn)(void);
typedef int (*open_fn)(const char *, void **);
typedef int (*write_fn)(void *, const void *, uint32_t);
typedef int (*read_fn)(void *, void *, uint32_t, uint32_t *);
typedef void (*close_fn)(void *);

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    wchar_t path[MAX_PATH];
    MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, path, MAX_PATH);
    HMODULE lib = LoadLibraryW(path);
    if (!lib) {
        printf("LoadLibraryW failed: %lu\n", GetLastError());
        return 1;
    }
    add_fn add = (add_fn)(void *)GetProcAddress(lib, "demo_add");
    version_fn version = (version_fn)(void *)GetProcAddress(lib, "demo_version");
    open_fn open = (open_fn)(void *)GetProcAddress(lib, "demo_open");
    write_fn write = (write_fn)(void *)GetProcAddress(lib, "demo_write");
    read_fn read = (read_fn)(void *)GetProcAddress(lib, "demo_read");
    close_fn close = (close_fn)(void *)GetProcAddress(lib, "demo_close");
    printf("resolved %d\n", add && version && open && write && read && close);
    printf("missing %s\n", GetProcAddress(lib, "demo_no_such_function") ? "found" : "absent");
    printf("add %d version %s\n", add(40, 2), version());
    void *dev = NULL;
    printf("open %d\n", open("sim1", &dev));
    printf("write %d\n", write(dev, "plugin", 6));
    char buf[16];
    uint32_t got = 0;
    int r = read(dev, buf, sizeof buf, &got);
    printf("read %d %u %.*s\n", r, got, (int)got, buf);
    close(dev);
    printf("FreeLibrary %d\n", FreeLibrary(lib) != 0);
    return 0;
}

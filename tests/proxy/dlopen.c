/* Loads the demo library at run time from the path given (its own 64-bit build, or the
 * dllgen proxy) and resolves its functions by name, as a plugin host or a language
 * runtime does; tests/tests/proxy.rs requires the same output from both. */
#include "plugin.h"
#include <dlfcn.h>
#include <unistd.h>

static void *find(void *lib, const char *name) { return dlsym(lib, name); }

int main(int argc, char **argv)
{
    void *lib = dlopen(argc > 1 ? argv[1] : "libdemo.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("dlopen failed: %s\n", dlerror());
        return 1;
    }
    use_demo(find, lib);
    printf("dlclose %d\n", dlclose(lib));
    /* The proxy's client threads go on running its code: it must have stayed mapped. */
    usleep(1500000);
    printf("still running\n");
    return 0;
}

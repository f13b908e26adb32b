/* Loads the demo DLL at run time from the path given (its own 64-bit build, or the dllgen
 * proxy) with LoadLibraryW and resolves its functions by name with GetProcAddress;
 * tests/tests/proxy.rs requires the same output from both under Wine. */
#include "plugin.h"
#include <windows.h>

static void *find(void *lib, const char *name) { return (void *)GetProcAddress((HMODULE)lib, name); }

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
    use_demo(find, lib);
    printf("unloaded %d\n", FreeLibrary(lib) != 0);
    /* The proxy's client threads go on running its code: it must have stayed mapped. */
    Sleep(1500);
    printf("still running\n");
    return 0;
}

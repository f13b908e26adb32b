/* The Win32 API as mingw-w64 declares it: specs/kernel32.yaml and specs/advapi32.yaml
 * take their functions from these (system) headers. */
#include <windows.h>

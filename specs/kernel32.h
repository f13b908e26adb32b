/* The Win32 API as mingw-w64 declares it: specs/kernel32.yaml takes kernel32's functions
 * from these (system) headers. */
#include <windows.h>

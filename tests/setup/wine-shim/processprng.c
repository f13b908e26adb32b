/* Wine 8.0 lacks bcryptprimitives.dll!ProcessPrng, which Rust's std (>= 1.78) imports on
 * Windows; without it every Rust .exe exits with status 53 before main. This tiny DLL
 * provides it on top of RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T len)
{
    const SIZE_T chunk = 1u << 28; /* RtlGenRandom takes a ULONG length */
    for (; len > 0;) {
        ULONG n = (ULONG)(len < chunk ? len : chunk);
        if (!RtlGenRandom(out, n))
            return FALSE;
        out += n;
        len -= n;
    }
    return TRUE;
}

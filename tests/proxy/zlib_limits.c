/* Linked with the zlib proxy (tests/tests/proxy.rs): a 64-bit length the 32-bit zlib
 * cannot take is refused with the function's failure value, never truncated. */
#include <errno.h>
#include <stdio.h>
#include <zlib.h>

const char *dllgen_last_error_message(void);

int main(void)
{
    static unsigned char src[16], dst[64];
    uLongf dlen = sizeof dst;
    /* 2^32 + 16: truncated to 32 bits it would be a valid 16. */
    int r = uncompress(dst, &dlen, src, (uLong)0x100000010ull);
    printf("uncompress %d destLen %lu\n", r, (unsigned long)dlen);
    printf("message %s\n", dllgen_last_error_message());
    printf("crc32 %08lx\n", crc32(0, src, sizeof src));
    /* A stream's input NULL with a count: refused, never advanced from NULL. */
    z_stream s = {0};
    printf("inflateInit %d\n", inflateInit(&s));
    s.next_in = NULL;
    s.avail_in = 5;
    s.next_out = dst;
    s.avail_out = sizeof dst;
    r = inflate(&s, Z_NO_FLUSH);
    printf("inflate %d next_in %s avail_in %u\n", r, s.next_in ? "moved" : "NULL", s.avail_in);
    printf("message %s\n", dllgen_last_error_message());
    printf("inflateEnd %d\n", inflateEnd(&s));
    return 0;
}

/* A C program written against Debian's zlib.h, built 64-bit twice: linked (-lz) with
 * Debian's 64-bit zlib, and with the dllgen proxy (generated/zlib-proxy), which runs every
 * call in Debian's 32-bit zlib through its host. tests/tests/proxy.rs requires the same
 * output from both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *text(size_t n)
{
    unsigned char *p = malloc(n);
    unsigned long x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        p[i] = (i % 7 == 0) ? (unsigned char)(x >> 16) : (unsigned char)"the quick brown fox "[i % 20];
    }
    return p;
}

/* Deflates `in` through an output buffer of `chunk` bytes, input fed `feed` bytes at a
 * time; returns the compressed size, its bytes in `out`. */
static size_t stream_deflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap, unsigned chunk,
                             unsigned feed, int level)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    int r = deflateInit(&s, level);
    printf("deflateInit %d\n", r);
    size_t done = 0, fed = 0;
    int flush = Z_NO_FLUSH;
    do {
        if (s.avail_in == 0 && fed < n) {
            s.next_in = (Bytef *)in + fed;
            s.avail_in = (uInt)(n - fed < feed ? n - fed : feed);
            fed += s.avail_in;
        }
        flush = fed == n ? Z_FINISH : Z_NO_FLUSH;
        s.next_out = out + done;
        s.avail_out = (uInt)(cap - done < chunk ? cap - done : chunk);
        r = deflate(&s, flush);
        done = s.next_out - out;
    } while (r == Z_OK || r == Z_BUF_ERROR);
    printf("deflate %d total_in %lu total_out %lu adler %08lx avail_in %u\n", r, s.total_in, s.total_out, s.adler,
           s.avail_in);
    printf("deflateEnd %d\n", deflateEnd(&s));
    return done;
}

static size_t stream_inflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap, unsigned chunk)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    int r = inflateInit(&s);
    printf("inflateInit %d\n", r);
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    size_t done = 0;
    do {
        s.next_out = out + done;
        s.avail_out = (uInt)(cap - done < chunk ? cap - done : chunk);
        r = inflate(&s, Z_NO_FLUSH);
        done = s.next_out - out;
    } while (r == Z_OK);
    printf("inflate %d total_in %lu total_out %lu adler %08lx left %u\n", r, s.total_in, s.total_out, s.adler,
           s.avail_in);
    printf("inflateEnd %d\n", inflateEnd(&s));
    return done;
}

int main(int argc, char **argv)
{
    /* Not zlibCompileFlags(): it describes the library's own build (4-byte uLong and
     * pointers in the 32-bit one). */
    printf("version %s\n", zlibVersion());
    const size_t n = 200000;
    unsigned char *in = text(n);
    printf("crc32 %08lx adler32 %08lx\n", crc32(0, in, (uInt)n), adler32(1, in, (uInt)n));
    uLong a = crc32(0, in, 1000), b = crc32(0, in + 1000, (uInt)n - 1000);
    printf("crc32_combine %08lx\n", crc32_combine(a, b, (z_off_t)(n - 1000)));
    printf("compressBound %lu\n", compressBound(n));

    uLongf clen = compressBound(n);
    unsigned char *c = malloc(clen);
    for (int level = 0; level <= 9; level += 3) {
        clen = compressBound(n);
        int r = compress2(c, &clen, in, n, level);
        printf("compress2 level %d: %d %lu crc %08lx\n", level, r, clen, crc32(0, c, (uInt)clen));
    }
    unsigned char *back = malloc(n);
    uLongf blen = n;
    int r = uncompress(back, &blen, c, clen);
    printf("uncompress %d %lu same %d\n", r, blen, blen == n && memcmp(back, in, n) == 0);
    blen = 100;
    r = uncompress(back, &blen, c, clen);
    printf("uncompress too small %d destLen %lu crc %08lx\n", r, blen, crc32(0, back, (uInt)blen));
    c[clen / 2] ^= 0x55;
    blen = n;
    printf("uncompress corrupt %d\n", uncompress(back, &blen, c, clen));

    unsigned char *s = malloc(n + 1000);
    size_t slen = stream_deflate(in, n, s, n + 1000, 777, 5000, 6);
    printf("streamed %zu crc %08lx\n", slen, crc32(0, s, (uInt)slen));
    memset(back, 0, n);
    size_t got = stream_inflate(s, slen, back, n, 4096);
    printf("inflated %zu same %d\n", got, got == n && memcmp(back, in, n) == 0);
    printf("zError %s\n", zError(Z_DATA_ERROR));

    /* A corrupt stream: inflate fails with zlib's message in the stream, and its pointers
     * where it stopped. */
    z_stream bad;
    memset(&bad, 0, sizeof bad);
    inflateInit(&bad);
    s[40] ^= 0xff;
    s[41] ^= 0xff;
    bad.next_in = s;
    bad.avail_in = (uInt)slen;
    bad.next_out = back;
    bad.avail_out = (uInt)n;
    r = inflate(&bad, Z_NO_FLUSH);
    printf("inflate corrupt %d msg %s consumed %ld produced %ld total_in %lu\n", r, bad.msg ? bad.msg : "NULL",
           (long)(bad.next_in - s), (long)(bad.next_out - back), bad.total_in);
    printf("inflateEnd %d\n", inflateEnd(&bad));

    if (argc > 1) {
        gzFile f = gzopen(argv[1], "wb9");
        printf("gzopen %s\n", f ? "ok" : "failed");
        printf("gzwrite %d\n", gzwrite(f, in, 50000));
        printf("gzputs %d\n", gzputs(f, "\nend of file\n"));
        printf("gzclose %d\n", gzclose(f));
        f = gzopen(argv[1], "rb");
        memset(back, 0, n);
        int m = gzread(f, back, 60000);
        printf("gzread %d same %d tail '%.*s'\n", m, m == 50013 && memcmp(back, in, 50000) == 0, 11, back + 50001);
        printf("gzeof %d", gzeof(f));
        printf(" gzclose %d\n", gzclose(f));
        /* Lines back with gzgets: its result points into the caller's buffer. */
        f = gzopen(argv[1], "wb");
        gzputs(f, "first line\nsecond\n");
        gzclose(f);
        f = gzopen(argv[1], "rb");
        char line[8];
        for (int i = 0; i < 5; i++) {
            char *l = gzgets(f, line, sizeof line);
            printf("gzgets %s '%s'\n", l == line ? "buf" : l ? "other" : "NULL", l ? l : "");
        }
        gzclose(f);
    }
    free(in);
    free(c);
    free(back);
    free(s);
    printf("done\n");
    return 0;
}

/* Linked with the demo proxy (tests/tests/proxy.rs): what a C caller sees when the proxy
 * cannot make a call, and when the library itself fails. */
#include "demo.h"
#include <errno.h>
#include <stdio.h>

const char *dllgen_last_error_message(void);

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    demo_device *dev = NULL;
    errno = 0;
    int r = demo_open("nope", &dev);
    printf("open %d %s\n", r, dev ? "set" : "untouched");
    printf("message %s\n", dllgen_last_error_message());
    errno = 0;
    r = demo_fail(42);
    printf("fail %d errno %d\n", r, errno);
    printf("add %d\n", demo_add(2, 3));
    return 0;
}

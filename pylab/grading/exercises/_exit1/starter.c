/* _exit1.c - _exit() ends the process without flushing stdio. See _exit1.md. */
#include <stdio.h>

int main(void)
{
    printf("output begin\n");
    printf("content in buffer");
    /* TODO: end the process with _exit(0) here, so stdio's buffers are NOT flushed */
    return 0;
}

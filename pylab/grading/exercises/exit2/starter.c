/* exit2.c - exit() flushes stdio buffers. See exit2.md. */
#include <stdio.h>

int main(void)
{
    /* TODO: print "output begin\n" */
    /* TODO: print "content in buffer" (no newline) */
    /* TODO: leave with exit(0), without fflush */
    return 1;
}

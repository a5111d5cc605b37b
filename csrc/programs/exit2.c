/* exit2 - exit() flushes stdio buffers before the process ends.
 *
 * Seed: processes.md, "exit and _exit". The second printf has no newline, so it
 * waits in the stdout buffer; exit() writes it out. Look for: both texts, whatever
 * stdout is (terminal, pipe or file). Compare with _exit1.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("output begin\n");
    printf("content in buffer");
    exit(0);
}

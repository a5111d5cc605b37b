/* _exit1 - _exit() ends the process at once: stdio buffers are not flushed.
 *
 * Seed: processes.md, "exit and _exit". Look for: on a terminal stdout is
 * line-buffered, so "output begin\n" was already written and only "content in
 * buffer" is lost; on a pipe or a file stdout is fully buffered and nothing at all
 * appears. Compare with exit2.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("output begin\n");
    printf("content in buffer");
    _exit(0);
}

/* exit_test1 - exit() ends the process where it is called.
 *
 * Seed: processes.md, "exit". Look for: the first line only; "never be displayed!"
 * is never printed, and the exit status is 0.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("this process will exit!\n");
    exit(0);
    printf("never be displayed!\n");
}

/* getpid_test - every process has its own PID: run it twice, the number differs.
 *
 * Seed: processes.md, "getpid". Look for: "The current process ID is N", with a new
 * N on each run (PIDs are handed out in increasing order and wrap at pid_max).
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("The current process ID is %d\n", getpid());
    return 0;
}

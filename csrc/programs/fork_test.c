/* fork_test - fork is called once and returns twice: 0 in the child, the child's PID
 * in the parent.
 *
 * Seed: processes.md, "fork". Look for: one line from each process, with different
 * PIDs. Their order is up to the scheduler: the seed shows the parent first, but
 * nothing guarantees it.
 */
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

int main(void)
{
    pid_t pid;

    /* only one process here */
    pid = fork();
    /* two processes from here on, both running the same code */
    if (pid < 0)
        printf("error in fork!");
    else if (pid == 0)
        printf("I am the child process, my process ID is %d\n", getpid());
    else
        printf("I am the parent process, my process ID is %d\n", getpid());
    return 0;
}

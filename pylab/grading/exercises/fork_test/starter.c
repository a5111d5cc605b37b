/* fork_test.c - fork once; parent and child each print one line.
 *
 * Child:   I am the child process, my process ID is C
 * Parent:  I am the parent process, my process ID is P
 * See fork_test.md.
 */
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = 0;

    /* TODO: create the child with fork() and keep what it returns in pid */
    if (pid < 0)
        printf("error in fork!");
    /* TODO: in the child (pid == 0) print the child line with getpid() */
    /* TODO: in the parent print the parent line with getpid() */
    return 0;
}

/* redirects_its_stdout - a child points its fd 1 at a file (OSTEP's p4 shape).
 *
 * The parent's line is still in the buffer at the fork, so the child has a copy. The
 * child closes fd 1 and opens a file, which gets the lowest free fd: 1. Its exit
 * flushes the copy and its own line into the file, not into the run's stdout; the
 * parent then writes its copy and the same words to stdout.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    printf("hello from the parent\n");
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(1);
        if (open("./redirected.output", O_CREAT | O_WRONLY | O_TRUNC, 0600) != 1)
            _exit(3);
        printf("child result\n");
        exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("child result\n");
    return 0;
}

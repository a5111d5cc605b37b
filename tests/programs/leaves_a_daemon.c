/* leaves_a_daemon - a child and a daemon grandchild that outlive the program.
 *
 * The parent forks a child, which forks a grandchild that calls setsid() (a session of
 * its own, as a daemon does); both then wait forever. The parent waits (a pipe, no
 * sleep) until the grandchild has left the session, prints the three pids and returns,
 * or, given "stay", waits forever too (a timeout then ends it). Only killing the whole
 * tree ends them.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int ready[2];
    char c;
    if (pipe(ready) < 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        pid_t daemon = fork();
        if (daemon == 0) {
            setsid();
            close(ready[1]);                /* the parent's read sees EOF: we have left */
        }
        close(ready[0]);
        if (daemon > 0)
            close(ready[1]);
        for (;;)
            pause();
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) < 0) {        /* EOF once child and grandchild closed theirs */
        perror("read");
        return 1;
    }
    printf("parent %d child %d\n", (int)getpid(), (int)child);
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "stay"))
        for (;;)
            pause();
    return 0;
}

/* atexit_order - atexit handlers run in reverse order of registration, are inherited
 * across fork, and are skipped by _exit.
 *
 * Usage: atexit_order [exit|_exit|fork|fork-_exit]  (default exit). Three handlers are
 * registered in the order 1, 2, 3. exit: this process leaves by exit() and prints
 * "handler 3", "2", "1". _exit: it leaves by _exit() and no handler runs. fork: a child
 * forked after registering leaves by exit(), so each handler runs twice, once per
 * process. fork-_exit: the child leaves by _exit(), so the handlers run in the parent
 * only. Look for: the "in pid" of each handler line, and 3-2-1 order per process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static void handler1(void) { printf("handler 1 in pid %d\n", getpid()); }
static void handler2(void) { printf("handler 2 in pid %d\n", getpid()); }
static void handler3(void) { printf("handler 3 in pid %d\n", getpid()); }

int main(int argc, char *argv[])
{
    const char *how = argc > 1 ? argv[1] : "exit";
    pid_t pid;

    if (strcmp(how, "exit") && strcmp(how, "_exit") && strcmp(how, "fork") && strcmp(how, "fork-_exit")) {
        fprintf(stderr, "usage: atexit_order [exit|_exit|fork|fork-_exit]\n");
        return 2;
    }
    if (atexit(handler1) || atexit(handler2) || atexit(handler3))
        err_exit("atexit");
    printf("registered handlers 1, 2, 3 in pid %d\n", getpid());
    fflush(stdout);                 /* nothing pending at fork: only handlers print twice */

    if (strcmp(how, "_exit") == 0) {
        printf("pid %d leaves by _exit()\n", getpid());
        fflush(stdout);             /* _exit flushes nothing, and runs no handler */
        _exit(0);
    }
    if (strncmp(how, "fork", 4) == 0) {
        if ((pid = fork()) < 0)
            err_exit("fork");
        if (pid == 0) {
            if (strcmp(how, "fork-_exit") == 0) {
                printf("child pid %d leaves by _exit()\n", getpid());
                fflush(stdout);
                _exit(0);           /* the inherited handlers are skipped */
            }
            printf("child pid %d leaves by exit()\n", getpid());
            exit(0);                /* runs the handlers it inherited from the parent */
        }
        if (waitpid(pid, NULL, 0) < 0)
            err_exit("waitpid");
    }
    printf("pid %d leaves by exit()\n", getpid());
    exit(0);
}

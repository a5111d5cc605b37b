/* sigchld_reap.c - reap children in a SIGCHLD handler. See sigchld_reap.md.
 * Usage: ./sigchld_reap [N] [blocked|open]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t signals, reaped;

static void on_sigchld(int sig)
{
    (void)sig;
    signals++;
    /* TODO: reap every child that has ended: waitpid(-1, NULL, WNOHANG) in a loop, reaped++ each;
     *       save and restore errno */
}

int main(int argc, char *argv[])
{
    int n = argc > 1 ? atoi(argv[1]) : 5;

    (void)on_sigchld;
    /* TODO: install on_sigchld with sigaction; block SIGCHLD; fork n children released together */
    /* TODO: blocked mode: waitid(P_PID, pid, &info, WEXITED | WNOWAIT) for each, then the line
     *       "all N children ended while SIGCHLD was blocked" */
    /* TODO: sigsuspend until reaped == n */
    printf("children %d, SIGCHLD signals handled %d, reaped %d\n", n, (int)signals, (int)reaped);
    /* TODO: wait(NULL) fails with ECHILD: print "wait: ECHILD, no child left" */
    return 0;
}

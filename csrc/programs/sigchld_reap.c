/* sigchld_reap - reaping in a SIGCHLD handler: N children, fewer signals, every child reaped.
 *
 * Usage: sigchld_reap [N] [blocked|open]   (default 5 children, blocked)
 * Standard signals don't queue: while one SIGCHLD is pending, more are merged into it.
 *   blocked  SIGCHLD is blocked while all N children end (the parent sees each one end
 *            with waitid WNOWAIT); unblocking delivers ONE signal, and the handler's
 *            waitpid(-1, WNOHANG) loop reaps all N in that one call.
 *   open     the children end with SIGCHLD unblocked: anywhere from 1 to N signals.
 * Look for: "signals" smaller than "reaped", and "reaped" equal to N every time.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"

#define MAX 64
static volatile sig_atomic_t signals, reaped;

static void on_sigchld(int sig)
{
    int saved = errno;                        /* waitpid may change errno under main's feet */
    (void)sig;
    signals++;
    while (waitpid(-1, NULL, WNOHANG) > 0)    /* one signal may stand for many children */
        reaped++;
    errno = saved;
}

int main(int argc, char *argv[])
{
    int n = argc > 1 ? atoi(argv[1]) : 5, blocked = argc < 3 || strcmp(argv[2], "open"), gate[2];
    struct sigaction sa;
    sigset_t chld, old;
    siginfo_t info;
    pid_t pids[MAX];

    if (n < 1 || n > MAX) { fprintf(stderr, "usage: sigchld_reap [1..%d] [blocked|open]\n", MAX); return 2; }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) < 0) err_exit("sigaction");
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);      /* blocked from here: sigsuspend below opens it */
    if (pipe(gate) < 0) err_exit("pipe");
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        if ((pids[i] = fork()) < 0) err_exit("fork");
        if (pids[i] == 0) { close(gate[1]); (void)!read(gate[0], gate, 1); _exit(0); }
    }
    close(gate[0]);
    if (!blocked) sigprocmask(SIG_SETMASK, &old, NULL);
    close(gate[1]);                           /* EOF for all: the children end together */
    if (blocked) {
        for (int i = 0; i < n; i++)           /* all N have ended; none reaped yet */
            if (waitid(P_PID, (id_t)pids[i], &info, WEXITED | WNOWAIT) < 0) err_exit("waitid");
        printf("all %d children ended while SIGCHLD was blocked\n", n);
    }
    sigprocmask(SIG_BLOCK, &chld, NULL);
    while (reaped < n)                        /* sleep until a signal, without a race */
        sigsuspend(&old);
    printf("children %d, SIGCHLD signals handled %d, reaped %d\n", n, (int)signals, (int)reaped);
    if (wait(NULL) < 0 && errno == ECHILD) printf("wait: ECHILD, no child left\n");
    return 0;
}

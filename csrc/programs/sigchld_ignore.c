/* sigchld_ignore - a child stays a zombie until waited for, unless SIGCHLD is ignored (or SA_NOCLDWAIT).
 *
 * Usage: sigchld_ignore [default|ignore|nocldwait]   (no argument: all three in turn)
 *   default    a child that ends is a zombie until its parent waits; wait() returns it.
 *   ignore     signal(SIGCHLD, SIG_IGN): the kernel reaps the child the moment it ends;
 *              wait() has nothing to collect and fails with ECHILD.
 *   nocldwait  sigaction with SA_NOCLDWAIT does the same, and may keep a handler.
 * Each mode forks a child that exits at once; the parent sees it end with
 * waitid(WEXITED|WNOWAIT), which does not reap (when the kernel already did, it blocks
 * until the child is gone, then fails with ECHILD), and prints the child's state: Z, or
 * - for no process at all. Then it waits for a line on stdin (a handshake: a driver can
 * look from outside; EOF also goes on) before it calls wait(). Look for the contrast:
 * state Z and "reaped" under default, state - and ECHILD under the other two.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"
#include "proc_state.h"

static const char *modes[] = {"default", "ignore", "nocldwait"};

static void one(const char *mode)            /* SIGCHLD set as `mode` says, then a child ends */
{
    struct sigaction sa;
    char line[64];
    siginfo_t info;
    pid_t pid, got;
    int raw;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = strcmp(mode, "ignore") ? SIG_DFL : SIG_IGN;
    if (!strcmp(mode, "nocldwait"))
        sa.sa_flags = SA_NOCLDWAIT;             /* the disposition stays SIG_DFL */
    if (sigaction(SIGCHLD, &sa, NULL) < 0) err_exit("sigaction");
    printf("mode %s\n", mode);
    fflush(stdout);
    if ((pid = fork()) < 0) err_exit("fork");
    if (pid == 0) _exit(7);
    printf("child %d\n", (int)pid);
    fflush(stdout);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0)
        printf("waitid WNOWAIT: %s\n", strerror(errno));
    printf("child ended: state %c\n", proc_state(pid));
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    if ((got = wait(&raw)) < 0)
        printf("wait: %s (%s)\n", strerror(errno), errno == ECHILD ? "ECHILD" : "?");
    else
        printf("wait: reaped %d, exit %d\n", (int)got, WEXITSTATUS(raw));
}

int main(int argc, char *argv[])
{
    size_t n = sizeof modes / sizeof modes[0];

    if (argc == 1) {                            /* all three in turn: the contrast is the lesson */
        for (size_t i = 0; i < n; i++)
            one(modes[i]);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], modes[i])) {
            one(modes[i]);
            return 0;
        }
    fprintf(stderr, "usage: sigchld_ignore [default|ignore|nocldwait]\n");
    return 2;
}

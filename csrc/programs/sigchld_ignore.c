/* sigchld_ignore - with SIGCHLD ignored, or SA_NOCLDWAIT, children never become zombies.
 *
 * Usage: sigchld_ignore [default|ignore|nocldwait]   (default: default)
 *   default    a child that ends is a zombie until its parent waits; wait() returns it.
 *   ignore     signal(SIGCHLD, SIG_IGN): the kernel reaps the child the moment it ends;
 *              wait() has nothing to collect and fails with ECHILD.
 *   nocldwait  sigaction with SA_NOCLDWAIT does the same, and may keep a handler.
 * The child exits at once; the parent sees it end with waitid(WEXITED|WNOWAIT), which
 * does not reap (when the kernel already did, it blocks until the child is gone, then
 * fails with ECHILD), and prints the child's state: Z, or - for no process at all. Then
 * it waits for a line on stdin (a handshake: a driver can look from outside; EOF also
 * goes on) before it calls wait(). Look for the state and for what wait() returns.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"
#include "proc_state.h"

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "default";
    struct sigaction sa;
    char line[64];
    siginfo_t info;
    pid_t pid, got;
    int raw;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    if (!strcmp(mode, "ignore"))
        sa.sa_handler = SIG_IGN;
    else if (!strcmp(mode, "nocldwait"))
        sa.sa_flags = SA_NOCLDWAIT;             /* the disposition stays SIG_DFL */
    else if (strcmp(mode, "default")) {
        fprintf(stderr, "usage: sigchld_ignore [default|ignore|nocldwait]\n");
        return 2;
    }
    if (sigaction(SIGCHLD, &sa, NULL) < 0) err_exit("sigaction");
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
    return 0;
}

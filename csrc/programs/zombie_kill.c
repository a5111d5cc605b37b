/* zombie_kill - a zombie outlives SIGKILL: only a wait by its parent (or new parent) removes it.
 *
 * Usage: zombie_kill [reap|exit]   (default reap)
 * The child exits at once; the parent sees it end with waitid(WNOWAIT), so it is a
 * zombie, then sends it SIGKILL: kill() succeeds, yet /proc still says Z, because a
 * zombie runs no code and has nothing left to kill. The parent then waits for a line
 * on stdin (a handshake for drivers that look from outside; EOF also goes on) and
 *   reap  reaps it: the status is the child's own exit 0, not SIGKILL; then it is gone.
 *   exit  exits without waiting: the zombie is re-parented to the nearest subreaper
 *         (under pylab, the runner's supervisor) or PID 1, whose wait removes it.
 * This is the seed's zombie.c, plus the SIGKILL; zombie.c stays the seed's lesson.
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
    const char *mode = argc > 1 ? argv[1] : "reap";
    char line[64];
    siginfo_t info;
    int raw;
    pid_t pid;

    if (strcmp(mode, "reap") && strcmp(mode, "exit")) {
        fprintf(stderr, "usage: zombie_kill [reap|exit]\n");
        return 2;
    }
    fflush(stdout);
    if ((pid = fork()) < 0) err_exit("fork");
    if (pid == 0) _exit(0);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0) err_exit("waitid");
    printf("child %d has exited: state %c\n", (int)pid, proc_state(pid));
    if (kill(pid, SIGKILL) < 0) err_exit("kill");
    printf("kill(%d, SIGKILL) returned 0: state %c\n", (int)pid, proc_state(pid));
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    if (!strcmp(mode, "exit")) {
        printf("parent %d exits without waiting for %d\n", (int)getpid(), (int)pid);
        return 0;
    }
    if (waitpid(pid, &raw, 0) < 0) err_exit("waitpid");
    printf("reaped %d: %s %d; state %c\n", (int)pid, WIFEXITED(raw) ? "exited with" : "killed by signal",
           WIFEXITED(raw) ? WEXITSTATUS(raw) : WTERMSIG(raw), proc_state(pid));
    return 0;
}

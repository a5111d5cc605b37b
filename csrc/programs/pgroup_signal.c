/* pgroup_signal - one kill(-pgid) signals every member of a process group the sender
 * may signal (here all: same uid); setpgid is called on both sides of the fork so the
 * group is complete before it is signalled.
 *
 * Usage: pgroup_signal [-]. The parent forks 3 children into a new group led by the
 * first. The child calls setpgid so it is in the group before it does anything else,
 * the parent so the group is complete before it signals it (whichever runs first wins;
 * the other call is harmless): the race a shell avoids. With "-" the parent holds until
 * a line arrives on stdin (so a driver can read /proc). Then one kill(-pgid, SIGTERM).
 * Look for: every child with the same pgid (the first child's pid) and the parent's sid;
 * "killed by SIGTERM" three times, in whatever order wait() returns them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

#define N 3

int main(int argc, char *argv[])
{
    pid_t kids[N], pgid = 0, pid;
    char line[64];
    int status;

    printf("parent pid %d: pgid %d, sid %d\n", getpid(), getpgid(0), getsid(0));
    fflush(stdout);                         /* before fork: no copy of the buffer */
    for (int i = 0; i < N; i++) {
        if ((pid = fork()) < 0)
            err_exit("fork");
        if (pid == 0) {
            if (setpgid(0, pgid) < 0)       /* pgid 0 (first child): lead a new group */
                err_exit_child("setpgid in child");
            pause();                        /* until the group's signal */
            _exit(0);
        }
        /* EACCES: the child has already exec'd (not here); the child's own call covers it */
        if (setpgid(pid, pgid) < 0 && errno != EACCES)
            err_exit("setpgid in parent");
        kids[i] = pid;
        if (pgid == 0)
            pgid = pid;
    }
    for (int i = 0; i < N; i++)             /* true now, whichever setpgid ran first */
        printf("child %d: pgid %d, sid %d\n", kids[i], getpgid(kids[i]), getsid(kids[i]));
    if (argc > 1 && argv[1][0] == '-') {
        printf("holding; send a line to go on\n");
        fflush(stdout);
        (void)!fgets(line, sizeof line, stdin);
    }
    printf("kill(-%d, SIGTERM)\n", pgid);
    if (kill(-pgid, SIGTERM) < 0)
        err_exit("kill");
    for (int i = 0; i < N; i++) {
        if ((pid = wait(&status)) < 0)
            err_exit("wait");
        if (WIFSIGNALED(status))
            printf("child %d: killed by SIG%s\n", pid, sigabbrev_np(WTERMSIG(status)));
        else
            printf("child %d: not killed (status %#x)\n", pid, status);
    }
    return 0;
}

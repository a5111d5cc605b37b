/* pgroups - process groups and sessions: setpgid in both parent and child, kill(-pgid)
 * reaching every member, setsid making a new session.
 *
 * Usage: pgroups [-]. The parent forks 3 children into a new group led by the first.
 * Both sides call setpgid: the child so it is in the group before it does anything else,
 * the parent so the group is complete before it signals it (whichever runs first wins;
 * the other call is harmless). That is the race a shell avoids. With "-" the parent
 * holds until a line arrives on stdin (so a driver can read /proc). Then one
 * kill(-pgid, SIGTERM) ends all three. Last, setsid: the parent tries, then a child,
 * which opens /dev/tty before and after. Look for: every child with the same pgid (the
 * first child's pid) and the parent's sid; "killed by SIGTERM" three times; the parent's
 * setsid failing with EPERM when it leads a process group (a group leader may not; under
 * pylab and a job-control shell it does); the child's giving pid == pgid == sid and,
 * where /dev/tty opened before (a controlling terminal: --mode tty), ENXIO after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

#define N 3

static void tty_check(const char *when)     /* our ids, and do we have a controlling terminal? */
{
    int tty = open("/dev/tty", O_RDWR);
    printf("%s pid %d, pgid %d, sid %d; /dev/tty: %s\n", when, getpid(), getpgid(0), getsid(0),
           tty < 0 ? strerrorname_np(errno) : "opened");
    if (tty >= 0)
        close(tty);
}

int main(int argc, char *argv[])
{
    pid_t kids[N], pgid = 0, pid;
    char line[64];
    int status;

    printf("parent pid %d: pgid %d, sid %d\n", getpid(), getpgid(0), getsid(0));
    fflush(stdout);
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
    if ((pid = setsid()) < 0)               /* EPERM: a process-group leader may not */
        printf("parent setsid(): %s (pid %d leads group %d: a group leader may not)\n",
               strerrorname_np(errno), getpid(), getpgid(0));
    else
        printf("parent setsid(): new session %d (pid %d led no group, so it may)\n", pid, getpid());
    fflush(stdout);
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        tty_check("child before setsid():");
        if (setsid() < 0)
            err_exit_child("setsid");
        tty_check("child after setsid():");
        exit(0);
    }
    if (waitpid(pid, NULL, 0) < 0)
        err_exit("waitpid");
    return 0;
}

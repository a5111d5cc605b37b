/* setsid - setsid() makes a new session, led by the caller, and a process-group leader
 * may not call it.
 *
 * Usage: setsid. The parent tries setsid(), then forks a child that tries too. Look
 * for: the parent's EPERM when it leads its process group (under pylab and under a
 * job-control shell it does; as a command that is not the last of a shell without job
 * control, `sh -c '"$0"; exit $?' BINARY`, it stays in the shell's group and may); the
 * child always may (a fresh pid leads no group), and after it pid == pgid == sid: it
 * leads a new session and a new group in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static void ids(const char *who)
{
    printf("%s pid %d, pgid %d, sid %d\n", who, getpid(), getpgid(0), getsid(0));
}

int main(void)
{
    pid_t pid;

    ids("parent:");
    if ((pid = setsid()) < 0)               /* EPERM: a process-group leader may not */
        printf("parent setsid(): %s (pid %d leads group %d: a group leader may not)\n",
               strerrorname_np(errno), getpid(), getpgid(0));
    else
        printf("parent setsid(): new session %d (pid %d led no group, so it may)\n", pid, getpid());
    fflush(stdout);                         /* before fork: no copy of the buffer */
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        ids("child before setsid():");
        if ((pid = setsid()) < 0)
            err_exit_child("setsid in child");
        printf("child setsid(): new session %d\n", pid);
        ids("child after setsid():");
        exit(0);
    }
    if (waitpid(pid, NULL, 0) < 0)
        err_exit("waitpid");
    return 0;
}

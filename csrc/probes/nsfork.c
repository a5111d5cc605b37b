/* probe nsfork: fork in a PID namespace whose init has exited fails with ENOMEM, with no
 * memory pressure at all: unshare(CLONE_NEWPID), a first child (the namespace's init)
 * exits, the next fork into that dead namespace fails. Run with CAP_SYS_ADMIN (root, or
 * root of a user namespace: unshare -Ur). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    if (unshare(CLONE_NEWPID) < 0) { printf("unshare=%s\n", strerrorname_np(errno)); return 0; }
    pid_t init = fork();                        /* PID 1 of the new namespace */
    if (init < 0) { printf("first=%s\n", strerrorname_np(errno)); return 0; }
    if (init == 0) _exit(getpid() == 1 ? 0 : 3);
    int st;
    waitpid(init, &st, 0);
    pid_t pid = fork();                         /* the namespace's init is gone */
    if (pid == 0) _exit(0);
    int err = errno;
    if (pid > 0) waitpid(pid, NULL, 0);
    printf("init_was_pid1=%d second=%s ret=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0,
           pid > 0 ? "ok" : strerrorname_np(err), pid > 0 ? 0 : pid);
    return 0;
}

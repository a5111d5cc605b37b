/* lab_exec.c - exec, process groups and pidfds as a C program makes them. See lab_exec.h. */
#define _GNU_SOURCE
#include "lab_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

int lab_fork_exec(char *argv[], int *exec_errno)
{
    int fds[2], err;
    ssize_t n;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if ((pid = fork()) < 0) {
        err = errno;
        close(fds[0]);
        close(fds[1]);
        errno = err;
        return -1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        err = errno;
        (void)!write(fds[1], &err, sizeof err);
        _exit(127);
    }
    close(fds[1]);
    while ((n = read(fds[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    *exec_errno = n == (ssize_t)sizeof err ? err : 0;   /* 0 bytes: the exec closed it */
    return pid;
}

int lab_spawn(char *argv[])
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

int lab_fork_paused(int pgid)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (pgid >= 0 && setpgid(0, pgid) < 0)
            _exit(126);
        for (;;)
            pause();                    /* only a signal ends it */
    }
    /* the parent's call too: the group is right when we return, whoever ran first */
    if (pgid >= 0 && setpgid(pid, pgid) < 0 && errno != EACCES) {
        int err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = err;
        return -1;
    }
    return pid;
}

int lab_getpgid(int pid) { return getpgid(pid); }
int lab_setpgid(int pid, int pgid) { return setpgid(pid, pgid); }
int lab_getsid(int pid) { return getsid(pid); }
int lab_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int lab_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int lab_pidfd_wait(int pidfd, int options, lab_status *out)
{
    siginfo_t info;
    int raw = 0;

    memset(&info, 0, sizeof info);
    if (!(options & (WSTOPPED | WCONTINUED)))
        options |= WEXITED;
    if (waitid(P_PIDFD, (id_t)pidfd, &info, options) < 0)
        return -1;
    if (info.si_pid == 0) {             /* WNOHANG, nothing yet */
        memset(out, 0, sizeof *out);
        return 0;
    }
    switch (info.si_code) {             /* the status word waitpid would have given */
    case CLD_EXITED: raw = (info.si_status & 0xff) << 8; break;
    case CLD_KILLED: raw = info.si_status; break;
    case CLD_DUMPED: raw = info.si_status | 0x80; break;
    case CLD_STOPPED: case CLD_TRAPPED: raw = (info.si_status << 8) | 0x7f; break;
    case CLD_CONTINUED: raw = 0xffff; break;
    }
    lab_decode_status(raw, out);
    out->pid = info.si_pid;
    return info.si_pid;
}

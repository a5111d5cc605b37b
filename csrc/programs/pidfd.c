/* pidfd - a pidfd names one process for good: wait for it and signal it without the
 * pid-reuse race of kill(pid) and waitpid(pid).
 *
 * Usage: pidfd. Child 1 waits for a signal; the parent opens a pidfd for it
 * (pidfd_open), signals it through the pidfd (pidfd_send_signal) and reaps it with
 * waitid(P_PIDFD). Child 2 exits with 7 by itself; poll() says its pidfd is readable
 * once it has exited, waitid(P_PIDFD) reaps it, and then pidfd_send_signal fails with
 * ESRCH: the pidfd still names the dead process, even if its pid number were reused by
 * now, where kill(pid) would hit whoever holds that number. Look for: "killed by
 * SIGTERM", "POLLIN", "exited with 7", "ESRCH". The calls go through syscall(), since
 * older C libraries have no wrappers.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_signal(int fd, int sig) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

static void reap(int fd)
{
    siginfo_t info = {0};
    if (waitid(P_PIDFD, (id_t)fd, &info, WEXITED) < 0)
        err_exit("waitid P_PIDFD");
    if (info.si_code == CLD_EXITED)
        printf("waitid(P_PIDFD): pid %d exited with %d\n", info.si_pid, info.si_status);
    else
        printf("waitid(P_PIDFD): pid %d killed by SIG%s\n", info.si_pid, sigabbrev_np(info.si_status));
}

int main(void)
{
    struct pollfd p = {.events = POLLIN};
    pid_t pid;
    int fd;

    fflush(stdout);
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        pause();                            /* until a signal ends it */
        _exit(0);
    }
    if ((fd = pidfd_open_(pid)) < 0)
        err_exit("pidfd_open");
    printf("child 1 pid %d: pidfd %d\n", pid, fd);
    if (pidfd_signal(fd, SIGTERM) < 0)
        err_exit("pidfd_send_signal");
    printf("pidfd_send_signal(SIGTERM): 0\n");
    reap(fd);
    close(fd);

    fflush(stdout);
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0)
        _exit(7);
    if ((p.fd = fd = pidfd_open_(pid)) < 0)
        err_exit("pidfd_open");
    if (poll(&p, 1, -1) < 0)                /* readable: the process has exited */
        err_exit("poll");
    printf("child 2 pid %d: poll on its pidfd: %s\n", pid, p.revents & POLLIN ? "POLLIN (it has exited)" : "?");
    reap(fd);
    if (pidfd_signal(fd, SIGKILL) < 0)
        printf("after reaping, pidfd_send_signal: %s, not a signal to a reused pid\n", strerrorname_np(errno));
    close(fd);
    return 0;
}

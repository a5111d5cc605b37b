/* lab_bench.c - process-creation loops timed in C. See lab_bench.h. */
#define _GNU_SOURCE
#include "lab_bench.h"
#include "proc_state.h" /* csrc/include: the lessons' own reader of /proc/PID/stat */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long lab_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reap pid; 0 if it exited with 0, else -1 (ECHILD for a bad status). */
static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = ECHILD;
        return -1;
    }
    return 0;
}

/* fork or vfork, child _exit(0), waitpid; vfork is called here, in the loop's own frame,
 * because a vfork child must not return from the function that called it. */
static int creation_loop(int n, long long *ns, int use_vfork)
{
    for (int i = 0; i < n; i++) {
        long long t0 = lab_bench_now();
        pid_t pid = use_vfork ? vfork() : fork();   /* vfork: parent waits for _exit */
        if (pid < 0)
            return -1;
        if (pid == 0)
            _exit(0);
        if (reap(pid) < 0)
            return -1;
        ns[i] = lab_bench_now() - t0;
    }
    return 0;
}

int lab_bench_fork(int n, long long *ns) { return creation_loop(n, ns, 0); }
int lab_bench_vfork(int n, long long *ns) { return creation_loop(n, ns, 1); }

int lab_bench_posix_spawn(int n, const char *path, long long *ns)
{
    char *argv[] = {(char *)path, NULL};
    posix_spawn_file_actions_t fa;
    int rc = 0, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    for (int i = 0; i < n && rc == 0; i++) {
        pid_t pid;
        long long t0 = lab_bench_now();
        int e = posix_spawn(&pid, path, &fa, NULL, argv, environ);
        if (e != 0) {
            errno = e;
            rc = -1;
        } else if ((rc = reap(pid)) == 0) {
            ns[i] = lab_bench_now() - t0;
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    close(devnull);
    return rc;
}

int lab_bench_fork_exec(int n, const char *path, long long *ns)
{
    char *argv[] = {(char *)path, NULL};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        long long t0 = lab_bench_now();
        pid_t pid = fork();
        if (pid < 0 || (pid > 0 && reap(pid) < 0)) {
            int e = errno;
            close(devnull);
            errno = e;
            return -1;
        }
        if (pid == 0) {
            dup2(devnull, 1);
            execv(path, argv);
            _exit(127);
        }
        ns[i] = lab_bench_now() - t0;
    }
    close(devnull);
    return 0;
}

/* The supervisor's side of lab_bench_forked_supervisor: runs in the forked child only. */
static void supervise_once(const char *path, int devnull)
{
    char *argv[] = {(char *)path, NULL};
    pid_t pid;
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if ((pid = vfork()) == 0) {     /* the target: no copy of this (large) image */
        setpgid(0, 0);
        dup2(devnull, 1);
        execv(path, argv);
        _exit(127);
    }
    _exit(pid > 0 && reap(pid) == 0 ? 0 : 1);
}

int lab_bench_forked_supervisor(int n, const char *path, long long *ns)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), rc = 0;
    if (devnull < 0)
        return -1;
    for (int i = 0; i < n && rc == 0; i++) {
        long long t0 = lab_bench_now();
        pid_t pid = fork();
        if (pid == 0)
            supervise_once(path, devnull);
        if (pid < 0 || (rc = reap(pid)) < 0)
            rc = -1;
        else
            ns[i] = lab_bench_now() - t0;
    }
    close(devnull);
    return rc;
}

int lab_bench_stamped_child(int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        long long t = lab_bench_now();
        ssize_t w = write(fd, &t, sizeof t);
        _exit(w == (ssize_t)sizeof t ? 0 : 1);
    }
    return pid;
}

long long lab_bench_zombie_seen(void)
{
    int fds[2];
    long long stamp = 0, seen;
    pid_t pid;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if ((pid = lab_bench_stamped_child(fds[1])) < 0) {
        int e = errno;
        close(fds[0]), close(fds[1]);
        errno = e;
        return -1;
    }
    close(fds[1]);
    while (read(fds[0], &stamp, sizeof stamp) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    while (proc_state(pid) != 'Z')
        sched_yield();              /* a tight poll (the floor, not how the lab waits)
                                     * that still lets the exiting child have the CPU */
    seen = lab_bench_now();
    if (reap(pid) < 0)
        return -1;
    return seen - stamp;
}

/* forkwatch - an LD_PRELOAD library the grader uses to see who forked whom, and
 * whether a process had reaped its children by the time it exited.
 *
 * Not a lesson: pylab/grading/supervisor.py preloads it into a student's program when
 * a check must know that a process really is another's child (the pids a program
 * prints prove nothing by themselves). On load it registers pthread_atfork handlers:
 * the parent notes its pid just before fork (after fork it may already be gone, and
 * getppid() in the child would then name the subreaper), and each new child appends
 * "fork CHILD PARENT\n" to the file named by $PYLAB_FORKWATCH, in one O_APPEND write.
 * fork() and the libc wrappers that use it are seen; a raw clone syscall is not.
 * At exit() (a destructor; _exit skips it) it appends "exit PID N": N children, zombies
 * included, still not reaped (from /proc/self/task/PID/children).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pid_t forking_parent;

static void before_fork(void) { forking_parent = getpid(); }

static void record(const char *what, long a, long b)
{
    const char *path = getenv("PYLAB_FORKWATCH");
    char line[64];
    int fd, n;

    if (!path || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    n = snprintf(line, sizeof line, "%s %ld %ld\n", what, a, b);
    if (write(fd, line, (size_t)n) < 0) { /* nothing to do: the check will say it saw nothing */ }
    close(fd);
}

static void in_child(void) { record("fork", (long)getpid(), (long)forking_parent); }

__attribute__((destructor)) static void at_exit(void)
{
    char path[64], buf[4096];
    long n = 0;
    ssize_t len;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    while ((len = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < len; i++)
            n += buf[i] == ' ';             /* "PID PID " : one space after each */
    close(fd);
    record("exit", (long)getpid(), n);
}

__attribute__((constructor)) static void forkwatch_init(void)
{
    pthread_atfork(before_fork, NULL, in_child);
}

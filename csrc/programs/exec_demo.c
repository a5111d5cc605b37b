/* exec_demo - fork + exec, and how a parent tells "exec failed" from "the program
 * exited 127": a close-on-exec error pipe, as subprocess uses.
 *
 * Usage: exec_demo [PROGRAM [ARGS...]]. Without arguments it runs three cases:
 * `true`, a program that does not exist, and `sh -c 'exit 127'`. The child sets up a
 * pipe whose write end is O_CLOEXEC, then execs. A successful exec closes that end, so
 * the parent's read() returns 0 bytes; a failed exec writes errno into it first. Look
 * for: both the missing program and `exit 127` end with status 127, but only the
 * missing one says "exec failed" with the errno the pipe carried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static void run(char *argv[])
{
    int fds[2], child_errno, status;
    ssize_t n;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0)
        err_exit("pipe2");
    fflush(stdout);                 /* nothing pending for the child to copy */
    if ((pid = fork()) < 0)
        err_exit("fork");
    if (pid == 0) {
        close(fds[0]);
        execvp(argv[0], argv);      /* on success fds[1] is closed by the exec */
        child_errno = errno;
        (void)!write(fds[1], &child_errno, sizeof child_errno);
        _exit(127);                 /* what a shell does when it cannot run a command */
    }
    close(fds[1]);                  /* else our own copy would keep read() waiting */
    while ((n = read(fds[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (waitpid(pid, &status, 0) < 0)
        err_exit("waitpid");
    printf("[");
    for (char **a = argv; *a; a++)
        printf("%s%s", *a, a[1] ? " " : "] ");
    if (n == sizeof child_errno)
        printf("exec failed: %s (%s), read %zd bytes from the pipe;", strerrorname_np(child_errno),
               strerror(child_errno), n);
    else
        printf("exec succeeded: read %zd bytes from the pipe;", n);
    if (WIFEXITED(status))
        printf(" the child exited with %d\n", WEXITSTATUS(status));
    else
        printf(" the child was killed by signal %d\n", WTERMSIG(status));
}

int main(int argc, char *argv[])
{
    char *ok[] = {"true", NULL};
    char *missing[] = {"/nonexistent/program", NULL};
    char *exits127[] = {"sh", "-c", "exit 127", NULL};

    if (argc > 1) {
        run(argv + 1);
        return 0;
    }
    run(ok);
    run(missing);
    run(exits127);
    return 0;
}

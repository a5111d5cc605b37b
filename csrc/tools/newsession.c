/* newsession - fork + exec + wait of a program, from a new session or not, for `pylab bench`.
 *
 * Not a lesson: `newsession 1 PROG..` does what the supervisor does before and after the
 * program runs - setsid(), fork, exec PROG in the child, waitpid - and nothing else;
 * `newsession 0 PROG..` the same without setsid. With the kernel's autogroup on, each
 * session is a scheduling group of its own, so the difference is what a run's own
 * session costs on this machine at this moment (next to other sessions' load).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int status;
    if (argc < 3) {
        fprintf(stderr, "usage: newsession 0|1 PROG..\n");
        return 2;
    }
    if (atoi(argv[1]) && setsid() < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[2], &argv[2]);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

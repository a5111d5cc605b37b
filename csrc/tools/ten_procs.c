/* ten_procs - ten processes that each write a line, for `pylab bench`'s traced run.
 *
 * Not a lesson: the parent forks nine children, each writes one line with write(2)
 * (no stdio buffer to copy, so the output is ten lines on any stdout target) and
 * _exits; the parent reaps all nine, then writes its own line. What the tracer has to
 * follow is what a small textbook fork program does: forks, writes, exits and reaps.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 9

int main(void)
{
    char line[32];
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            int n = snprintf(line, sizeof line, "child %d\n", i);
            _exit(write(1, line, n) == n ? 0 : 1);
        }
    }
    int failed = 0, status;
    for (int i = 0; i < CHILDREN; i++)
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    return write(1, "parent\n", 7) == 7 && !failed ? 0 : 1;
}

/* forks_before_output - stdout's buffering is chosen at its first use, after a fork.
 *
 * OSTEP's p1 shape: the program forks before it has printed anything. glibc picks
 * stdout's default buffering when it first allocates the buffer, at the first printf
 * (line-buffered on a terminal, fully buffered otherwise), so at the fork nothing in
 * stdout's FILE says which it will be yet. The child prints one line and leaves with
 * _exit, which does not flush: the line comes out on a terminal (written at its
 * newline) and is lost on a pipe or a file (still in the buffer). The parent waits,
 * then prints its own line and returns from main.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        printf("child\n");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent\n");
    return 0;
}

/* fork_copies_buffer - a line printed before fork can come out twice.
 *
 * The parent prints one line, then forks; both processes print one more line each
 * and return from main. On a terminal stdout is line-buffered, so "before fork" has
 * been written by the time fork runs: it appears once. On a pipe or a file stdout is
 * fully buffered: the line is still in the buffer, fork copies the buffer into the
 * child, and both flush it at exit - "before fork" appears twice.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    printf("before fork\n");
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        printf("child\n");
        return 0;
    }
    waitpid(pid, NULL, 0);
    printf("parent\n");
    return 0;
}

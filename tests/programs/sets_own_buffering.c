/* sets_own_buffering - a program that chooses its own stdout buffering.
 *
 * Like TLPI's make_zombie, it calls setvbuf(stdout, NULL, _IONBF, 0) first: from
 * then on every printf is written at once on any target, so nothing is pending when
 * it forks, and "before fork" appears once even on a pipe or a file.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
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

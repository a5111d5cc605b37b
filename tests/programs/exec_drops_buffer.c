/* exec_drops_buffer - a line printed just before exec can vanish.
 *
 * The child prints a line and then execs `echo`: exec replaces the whole program,
 * C stdio buffer included. On a terminal the line was written at its newline and is
 * seen; on a pipe or a file it was still in the buffer and is lost - only echo's
 * output and the parent's line appear.
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
        printf("child before exec\n");
        execlp("echo", "echo", "from echo", (char *)NULL);
        perror("execlp");
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    printf("parent done\n");
    return 0;
}

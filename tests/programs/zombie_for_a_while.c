/* zombie_for_a_while - a child that is a zombie until its parent waits.
 *
 * The child exits at once; the parent reads one line from stdin before it calls
 * wait, so the child stays a zombie for as long as the parent's stdin stays open
 * without a line (a pipe's EOF ends it at once).
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char line[64];
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        _exit(5);
    if (!fgets(line, sizeof line, stdin))
        line[0] = 0;
    int status;
    waitpid(pid, &status, 0);
    printf("reaped %d: exit %d\n", (int)pid, WEXITSTATUS(status));
    return 0;
}

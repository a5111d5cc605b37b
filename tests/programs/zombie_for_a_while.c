/* zombie_for_a_while - a child that is a zombie until its parent waits.
 *
 * The child exits at once; the parent reads one line from stdin before it calls
 * wait, so the child stays a zombie until a line (or EOF) arrives. It says what it
 * read and what it reaped.
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
    if (fgets(line, sizeof line, stdin))
        printf("parent read: %s", line);
    else
        printf("parent read nothing (EOF)\n");
    int status;
    waitpid(pid, &status, 0);
    printf("reaped %d: exit %d\n", (int)pid, WEXITSTATUS(status));
    return 0;
}

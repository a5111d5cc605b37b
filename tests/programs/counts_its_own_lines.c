/* counts_its_own_lines - a child that execs `wc -l` on this program's own source.
 *
 * As OSTEP's p3: the child prints a line, then execvp's wc on "counts_its_own_lines.c",
 * a name relative to the folder it runs in, so the source must be there. On a pipe or
 * a file the child's line is still in its stdout buffer when exec replaces the
 * program, and is lost; wc's count and the parent's line appear.
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
        printf("child: counting my own source\n");
        char *argv[] = {"wc", "-l", "counts_its_own_lines.c", NULL};
        execvp(argv[0], argv);
        perror("execvp wc");
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    printf("parent: done\n");
    return 0;
}

/* fork_stdio.c - a line buffered before fork prints twice on a pipe. See fork_stdio.md.
 * Usage: ./fork_stdio [none|fflush|setvbuf|_exit]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    const char *remedy = argc > 1 ? argv[1] : "none";

    /* TODO: reject an unknown remedy: usage on stderr, return 2 */
    /* TODO: setvbuf remedy: line-buffer stdout before any output */
    /* TODO: printf("before fork: pid %d (remedy: %s)\n", ...); fflush remedy: fflush(stdout) */
    /* TODO: fork; child: dprintf(STDOUT_FILENO, "child %d: parent %d\n", ...) then _exit(0) or exit(0) */
    /* TODO: parent: waitpid, then printf("parent %d: child %d done\n", ...) */
    (void)remedy;
    return 0;
}

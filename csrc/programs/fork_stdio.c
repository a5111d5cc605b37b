/* fork_stdio - a line printed before fork without a flush appears twice on a pipe or a file, once on a terminal.
 *
 * Usage: fork_stdio [none|fflush|setvbuf|_exit]   (default none: no remedy)
 * printf puts "before fork" in stdout's buffer. A terminal is line-buffered, so the
 * newline writes it out before fork; a pipe or a file is fully buffered, so it is still
 * in the buffer, fork copies the buffer, and both processes flush their copy at exit.
 * Remedies, each enough on its own:
 *   fflush   flush before fork: the buffer copied is empty.
 *   setvbuf  line buffering set first, as on a terminal: the newline writes the line out.
 *   _exit    the child leaves with _exit, which never flushes its copy.
 * The child writes its own line with write(2), so no stdio buffer holds it. Look for
 * how many "before fork" lines there are: the pid in them is the parent's both times.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"

int main(int argc, char *argv[])
{
    const char *remedy = argc > 1 ? argv[1] : "none";
    pid_t pid;

    if (strcmp(remedy, "none") && strcmp(remedy, "fflush") && strcmp(remedy, "setvbuf") && strcmp(remedy, "_exit")) {
        fprintf(stderr, "usage: fork_stdio [none|fflush|setvbuf|_exit]\n");
        return 2;
    }
    if (!strcmp(remedy, "setvbuf"))
        setvbuf(stdout, NULL, _IOLBF, BUFSIZ);   /* before any output, as setvbuf requires */
    printf("before fork: pid %d (remedy: %s)\n", (int)getpid(), remedy);
    if (!strcmp(remedy, "fflush"))
        fflush(stdout);
    if ((pid = fork()) < 0) err_exit("fork");
    if (pid == 0) {
        dprintf(STDOUT_FILENO, "child %d: parent %d\n", (int)getpid(), (int)getppid());
        if (!strcmp(remedy, "_exit"))
            _exit(0);                             /* the copied buffer dies with the child */
        exit(0);                                  /* flushes the copied buffer */
    }
    if (waitpid(pid, NULL, 0) < 0) err_exit("waitpid");
    printf("parent %d: child %d done\n", (int)getpid(), (int)pid);
    return 0;                                     /* exit() flushes the parent's buffer */
}

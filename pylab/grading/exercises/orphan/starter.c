/* orphan.c - orphan a grandchild and see who adopts it. See orphan.md.
 * Usage: ./orphan [plain|subreaper]
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int sub = argc > 1 && !strcmp(argv[1], "subreaper");

    /* TODO: in subreaper mode: prctl(PR_SET_CHILD_SUBREAPER, 1) */
    printf("grandparent %d%s\n", (int)getpid(), sub ? " (a child subreaper)" : " (not a subreaper)");
    fflush(stdout);
    /* TODO: a pipe, then fork the parent */
    /* TODO: the parent forks the orphan; the orphan prints "orphan O: parent P", writes a byte on the pipe,
     *       polls getppid() until it changes, prints "orphan O: parent P exited, new parent N (NAME)" */
    /* TODO: the parent reads the byte, prints "parent P exits, leaving O behind", _exit(0) */
    /* TODO: the grandparent waits for the parent; in subreaper mode also waitpid(-1) for the orphan and
     *       prints "grandparent reaped adopted orphan O (exit 0)" */
    return 0;
}

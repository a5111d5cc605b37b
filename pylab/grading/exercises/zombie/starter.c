/* zombie.c - a child that exits stays a zombie until its parent waits.
 * Usage: ./zombie -    (hold the zombie until a line arrives on stdin). See zombie.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char line[64];

    (void)argc, (void)argv, (void)line;
    /* TODO: fork(); on failure print "error occurred!\n" and return 1 */
    /* TODO: in the child: exit(0) at once */
    /* TODO: in the parent: hold until a line arrives on stdin (fgets; EOF also ends it) */
    /* TODO: then collect the zombie with wait(NULL) */
    return 0;
}

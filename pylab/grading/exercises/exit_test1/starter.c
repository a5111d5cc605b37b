/* exit_test1.c - exit() ends the process: the second printf never runs.
 * See exit_test1.md.
 */
#include <stdio.h>

int main(void)
{
    /* TODO: print "this process will exit!\n" */
    /* TODO: end the process here with exit(0) (which header declares it?) */
    printf("never be displayed!\n");
    return 0;
}

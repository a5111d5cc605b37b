/* getpid_test.c - print this process's PID.
 *
 * Expected output (one line):  The current process ID is N
 * where N is this process's own PID. See getpid_test.md.
 */
#include <stdio.h>

int main(void)
{
    /* TODO: include the header that declares getpid() */
    /* TODO: print "The current process ID is N\n" with N from getpid() */
    return 0;
}

/* attack: fill the terminal and never read or exit, with every signal blocked
 * family: output floods and control characters
 * target: getpid_test
 * expect: printed more than|still running after the time limit
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    sigset_t all;
    static char b[4096];
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, 0);
    memset(b, 'y', sizeof b);
    for (;;) (void)!write(1, b, sizeof b);
}

/* attack: a child keeps stdout and stderr open forever after the program exits
 * family: stopping, tracing or killing the supervisor and the grader
 * target: getpid_test
 * expect: left \d+ process|still running after the time limit
 * wall: 0.5
 */
#include <signal.h>
#include <unistd.h>
int main(void)
{
    if (fork() == 0) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        for (;;) pause();
    }
    return 0;
}

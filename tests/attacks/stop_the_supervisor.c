/* attack: SIGSTOP the supervisor (its parent, pid 1), every process it may signal, then hang
 * family: stopping, tracing or killing the supervisor and the grader
 * target: getpid_test
 * expect: still running after the time limit|had to stop this check
 * wall: 0.5
 */
#include <signal.h>
#include <unistd.h>
int main(void)
{
    kill(getppid(), SIGSTOP);
    kill(1, SIGSTOP);
    kill(-1, SIGSTOP);
    signal(SIGTERM, SIG_IGN);
    for (;;) pause();
}

/* attack: kill(-1, SIGKILL), then SIGKILL every pid up to 40000 (the grader's among them?)
 * family: stopping, tracing or killing the supervisor and the grader
 * target: getpid_test
 * expect: killed \d+
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int hit = 0;
    kill(-1, SIGKILL);
    for (int pid = 2; pid < 40000; pid++)
        if (pid != getpid() && kill(pid, SIGKILL) == 0) hit++;
    printf("killed %d\n", hit);
    return 0;
}

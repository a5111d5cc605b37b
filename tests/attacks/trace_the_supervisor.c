/* attack: ptrace the supervisor (attach or seize pid 1 and the parent) so it hangs stopped
 * family: stopping, tracing or killing the supervisor and the grader
 * target: getpid_test
 * expect: attach -1 seize -1
 * wall: 0.5
 */
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void)
{
    long a = ptrace(PTRACE_ATTACH, 1, 0, 0);
    long s = ptrace(PTRACE_SEIZE, getppid(), 0, 0);
    ptrace(PTRACE_INTERRUPT, getppid(), 0, 0);
    printf("attach %ld seize %ld\n", a, s);
    fflush(stdout);
    for (;;) pause();
}

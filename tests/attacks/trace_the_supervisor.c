/* attack: ptrace the supervisor (attach or seize pid 1 and the parent) so it hangs stopped
 * family: stopping, tracing or killing the supervisor and the grader
 * target: getpid_test
 * expect: still running after the time limit|had to stop this check
 */
#include <sys/ptrace.h>
#include <unistd.h>
int main(void)
{
    ptrace(PTRACE_ATTACH, 1, 0, 0);
    ptrace(PTRACE_SEIZE, getppid(), 0, 0);
    ptrace(PTRACE_INTERRUPT, getppid(), 0, 0);
    for (;;) pause();
}

/* attack: a bomb of raw clone() and vfork() children, which an LD_PRELOAD fork hook never saw
 * family: fork, thread and clone bombs
 * target: getpid_test
 * expect: made \d+
 * wall: 0.5
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    int n = 0;
    for (int i = 0; i < 100000; i++) {
        long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (r == 0) { for (;;) pause(); }
        if (r < 0) break;
        n++;
    }
    printf("made %d\n", n);
    fflush(stdout);
    for (;;) pause();
}

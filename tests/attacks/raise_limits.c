/* attack: raise every soft limit to the hard one (or beyond), then fork 100 children
 * family: raising limits
 * target: getpid_test
 * expect: forked \d+ of 100
 * wall: 0.5
 */
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
int main(void)
{
    int res[] = {RLIMIT_NPROC, RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE};
    int raised = 0, n = 0;
    for (int i = 0; i < 6; i++) {
        struct rlimit rl;
        getrlimit(res[i], &rl);
        if (rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; raised += setrlimit(res[i], &rl) == 0; }
        rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
        raised += setrlimit(res[i], &rl) == 0;
    }
    for (; n < 100; n++) {
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0) { pause(); _exit(0); }
    }
    printf("raised %d limits; forked %d of 100\n", raised, n);
    fflush(stdout);
    return 0;
}

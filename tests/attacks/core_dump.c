/* attack: dump a 200 MiB core (after raising RLIMIT_CORE) where the grader will not clean up
 * family: cores and files left in /tmp and /dev/shm
 * target: getpid_test
 * expect: SIGABRT
 * wall: 5
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
int main(void)
{
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_CORE, &rl);
    char *p = malloc(200 << 20);
    if (p) memset(p, 1, 200 << 20);
    (void)!chdir("/tmp");
    abort();
}

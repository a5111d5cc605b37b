/* attack: claim a fork without forking: print both lines with a made-up child PID and
 *         write "fork CHILD PARENT" wherever the old LD_PRELOAD log could be
 * family: forged evidence
 * target: fork_test
 * zero: child_is_the_parents_child
 * expect: no line .*the PID of a child it forked
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    int me = getpid(), kid = me + 1;
    const char *log = getenv("PYLAB_FORKWATCH");
    const char *guesses[] = {log ? log : "/box/tmp/forks.1", "/box/tmp/forks.1", "/box/tmp/forks.2",
                             "/box/tmp/forks.3", "/tmp/forks.1", 0};
    for (int i = 0; guesses[i]; i++) {
        FILE *f = fopen(guesses[i], "a");
        if (f) { fprintf(f, "fork %d %d\n", kid, me); fclose(f); }
    }
    printf("I am the parent process, my process ID is %d\n", me);
    printf("I am the child process, my process ID is %d\n", kid);
    return 0;
}

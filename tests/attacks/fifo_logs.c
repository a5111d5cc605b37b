/* attack: turn every file the grader might read back into a FIFO, then hold it open
 * family: FIFO and huge logs
 * target: fork_test
 * expect: still running after the time limit
 * wall: 0.5
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
    const char *paths[] = {"/box/tmp/forks.1", "/box/tmp/forks.2", "/box/work/out", "/tmp/log", 0};
    for (int i = 0; paths[i]; i++) {
        unlink(paths[i]);
        mkfifo(paths[i], 0666);
    }
    for (;;) pause();
}

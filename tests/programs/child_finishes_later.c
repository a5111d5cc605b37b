/* child_finishes_later - the parent returns at once; its child finishes 0.3 s later.
 *
 * The orphan's last line comes out after its parent is gone: a run that waited only
 * for the program would lose it, one that waited for the timeout would waste time.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        printf("child done\n");
        return 0;
    }
    printf("parent returns\n");
    return 0;
}

/* child_outlives - the parent returns at once; its child lives on as an orphan.
 *
 * Like CS:APP's fork8: the child prints its pid and then sleeps for a minute, long
 * after the parent is gone. The orphan is re-parented to the nearest subreaper (the
 * supervisor of a pylab run) or to init.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        printf("child %d sleeps\n", (int)getpid());
        fflush(stdout);
        sleep(60);
        return 0;
    }
    printf("parent %d returns\n", (int)getpid());
    return 0;
}

/* attack: a thread bomb: create threads until it fails, each spinning
 * family: fork, thread and clone bombs
 * target: getpid_test
 * expect: threads \d+
 * wall: 0.5
 */
#include <pthread.h>
#include <stdio.h>
static void *spin(void *arg) { for (;;) (void)arg; return 0; }
int main(void)
{
    pthread_t t;
    int n = 0;
    while (n < 100000 && pthread_create(&t, 0, spin, 0) == 0) n++;
    printf("threads %d\n", n);
    fflush(stdout);
    for (;;) ;
}

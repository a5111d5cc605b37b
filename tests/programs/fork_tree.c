/* fork_tree - three forks in a row make eight processes, as CS:APP's fork2/fork3 show.
 *
 * Each process prints "hello" once after the forks and waits for its children, so on
 * a terminal there are eight lines. On a pipe or a file "start" was still buffered
 * when the first fork copied it: all eight print it.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    printf("start\n");
    for (int i = 0; i < 3; i++)
        if (fork() < 0)
            perror("fork");
    printf("hello\n");
    while (wait(NULL) > 0)
        ;
    return 0;
}

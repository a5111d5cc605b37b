/* probe forkret: fork's two return values; the parent waits first, so the order is fixed. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        printf("child returned=%d getpid=%d getppid=%d\n", pid, getpid(), getppid());
        return 0;
    }
    waitpid(pid, NULL, 0);
    printf("parent returned=%d getpid=%d\n", pid, getpid());
    return 0;
}

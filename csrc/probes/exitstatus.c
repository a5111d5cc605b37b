/* probe exitstatus: children exit(N) for each N given; the parent's wait reads WEXITSTATUS. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        int st;
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) exit(atoi(argv[i]));
        waitpid(pid, &st, 0);
        printf("exit%s=%d ", argv[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    printf("\n");
    return 0;
}

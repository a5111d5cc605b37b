/* escapes_to_new_session - a child that leaves its session and spins forever.
 *
 * The parent forks; the child calls setsid() (a new session and process group, out of
 * reach of a kill of the parent's group) and spins. The parent writes "PPID PID CHILD"
 * to the file "pids" in its folder and then waits forever. Only killing the whole tree
 * - whatever its groups and sessions - ends them.
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
        setsid();
        for (;;)
            ;
    }
    FILE *f = fopen("pids.tmp", "w");
    if (!f) {
        perror("pids.tmp");
        return 1;
    }
    fprintf(f, "%d %d %d\n", (int)getppid(), (int)getpid(), (int)pid);
    fclose(f);
    rename("pids.tmp", "pids");     /* whoever reads "pids" sees it whole */
    for (;;)
        pause();
}

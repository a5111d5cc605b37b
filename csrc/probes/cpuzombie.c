/* probe cpuzombie: a child burns 20 ms of CPU, handles one SIGUSR1 and exits; it stays a zombie until a line
 * arrives on stdin, then wait4 reaps it and prints the CPU time the parent collected. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void on_usr1(int sig) { (void)sig; }

int main(int argc, char *argv[])
{
    int code = argc > 1 ? atoi(argv[1]) : 7, st; siginfo_t si; struct rusage ru; char line[8];
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        clock_t end = clock() + CLOCKS_PER_SEC / 50;    /* 20 ms of its own CPU time */
        volatile unsigned long n = 0;
        while (clock() < end) n++;
        signal(SIGUSR1, on_usr1);                       /* one signal received and handled */
        raise(SIGUSR1);
        _exit(code);
    }
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);         /* exited, left unreaped */
    printf("zombie=%d\n", pid);
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    if (wait4(pid, &st, 0, &ru) != pid) { perror("wait4"); return 1; }
    printf("reaped=%d exit_code=%d utime_us=%ld stime_us=%ld clk_tck=%ld\n", pid,
           WEXITSTATUS(st), ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
           ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, sysconf(_SC_CLK_TCK));
    printf("minflt=%ld majflt=%ld nsignals=%ld nvcsw=%ld nivcsw=%ld maxrss_kb=%ld\n", ru.ru_minflt,
           ru.ru_majflt, ru.ru_nsignals, ru.ru_nvcsw, ru.ru_nivcsw, ru.ru_maxrss);
    return 0;
}

/* probe states: children in the states the lab can make: R (spinning), S (pause), T
 * (SIGSTOP), t (stopped under ptrace), Z (exited, not reaped); all killed and reaped after
 * a line. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    pid_t kids[5]; int st; siginfo_t si; char line[8];
    for (int i = 0; i < 5; i++) {
        if ((kids[i] = fork()) < 0) { perror("fork"); return 1; }
        if (kids[i] > 0) continue;
        if (i == 0) for (;;) {}                         /* R: always runnable */
        if (i == 1 || i == 2) for (;;) pause();         /* S; T once stopped below */
        if (i == 3) {                                   /* t: stopped for its tracer */
            if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) _exit(2);
            raise(SIGSTOP);
        }
        _exit(0);                                       /* Z */
    }
    kill(kids[2], SIGSTOP);
    waitpid(kids[2], &st, WUNTRACED);                   /* it has stopped */
    waitpid(kids[3], &st, WUNTRACED);                   /* the tracer sees its stop */
    int traced = WIFSTOPPED(st);
    waitid(P_PID, kids[4], &si, WEXITED | WNOWAIT);     /* exited, left unreaped */
    printf("R=%d S=%d T=%d t=%d Z=%d traceme=%s\n", kids[0], kids[1], kids[2], kids[3],
           kids[4], traced ? "ok" : "failed");
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    for (int i = 0; i < 5; i++) kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {}
    return 0;
}

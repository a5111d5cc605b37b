/* waitid_peek - waitid with WNOWAIT looks at a zombie's status without reaping it.
 *
 * Usage: waitid_peek [CODE]   the child exits with CODE (default 42).
 * The parent peeks twice with WEXITED|WNOWAIT: both report the same pid and status,
 * and /proc still shows the child in state Z. Then it waits for a line on stdin (a
 * handshake: a driver can look at the zombie from outside; EOF also goes on) and
 * reaps it with a plain waitid: the status is the same, and the child is gone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "err.h"
#include "proc_state.h"

static void report(const char *how, const siginfo_t *info)
{
    printf("%s: pid %d si_code %s si_status %d; /proc says state %c\n", how, (int)info->si_pid,
           info->si_code == CLD_EXITED ? "CLD_EXITED" : "other", info->si_status, proc_state(info->si_pid));
}

int main(int argc, char *argv[])
{
    int code = argc > 1 ? atoi(argv[1]) : 42;
    char line[64];
    siginfo_t info;
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) < 0) err_exit("fork");
    if (pid == 0) _exit(code);
    printf("child %d\n", (int)pid);
    for (int i = 1; i <= 2; i++) {
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0) err_exit("waitid WNOWAIT");
        report(i == 1 ? "peek 1 (WNOWAIT)" : "peek 2 (WNOWAIT)", &info);
    }
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED) < 0) err_exit("waitid");
    report("reap", &info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG) < 0)
        printf("waitid again: %s\n", strerror(errno));
    return 0;
}

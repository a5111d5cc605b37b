/* reap_all - collecting children: wait() until ECHILD, waitpid() in creation order, WNOHANG polling.
 *
 * Usage: reap_all [any|order|poll] [N]   (default: any, 3 children; child i exits with i)
 * Each child blocks on a pipe of its own until the parent releases it, so the order
 * in which children end is the parent's choice: it releases them last-created first.
 *   any    wait() after each release returns whichever child ended: N, N-1, ... 1;
 *          one more wait() fails with ECHILD: no children left.
 *   order  all are released (and seen to end, with waitid WNOWAIT) before waitpid(pid)
 *          collects them in creation order: 1, 2, ... N, although N ended first.
 *   poll   waitpid(-1, WNOHANG) returns 0 while children still run, so the parent is
 *          never stuck: after each empty poll it does 1 ms of other work (a nanosleep
 *          stands for it), then polls again, until ECHILD. Look for "returned 0" before
 *          any release, and for how few polls found nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "err.h"

#define MAX 16

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "any";
    int n = argc > 2 ? atoi(argv[2]) : 3, gate[MAX], fds[2], raw, empty = 0;
    pid_t pids[MAX], pid;
    siginfo_t info;
    struct timespec work = {0, 1000000};     /* 1 ms */

    if (strcmp(mode, "any") && strcmp(mode, "order") && strcmp(mode, "poll")) {
        fprintf(stderr, "usage: reap_all [any|order|poll] [N]\n");
        return 2;
    }
    if (n < 1 || n > MAX) n = 3;
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        if (pipe(fds) < 0 || (pids[i] = fork()) < 0) err_exit("fork");
        if (pids[i] == 0) {                  /* child i+1: block until the gate closes */
            close(fds[1]);
            (void)!read(fds[0], &raw, 1);
            _exit(i + 1);
        }
        close(fds[0]);
        gate[i] = fds[1];
        printf("created child %d: pid %d\n", i + 1, (int)pids[i]);
    }
    if (!strcmp(mode, "poll")) {
        printf("waitpid(-1, WNOHANG) returned %d: children still running\n", (int)waitpid(-1, &raw, WNOHANG));
        for (int i = n - 1; i >= 0; i--) close(gate[i]);
        while ((pid = waitpid(-1, &raw, WNOHANG)) >= 0) {
            if (pid == 0) {                  /* nothing ended yet: the parent is free */
                empty++;
                nanosleep(&work, NULL);        /* its "other work": not a busy spin */
                continue;
            }
            printf("waitpid(-1, WNOHANG) -> pid %d exit %d\n", (int)pid, WEXITSTATUS(raw));
        }
        printf("polls that found nothing: %d (each followed by 1 ms of other work)\n", empty);
    } else if (!strcmp(mode, "order")) {
        for (int i = n - 1; i >= 0; i--) {
            close(gate[i]);                   /* release and see it end, without reaping */
            if (waitid(P_PID, (id_t)pids[i], &info, WEXITED | WNOWAIT) < 0) err_exit("waitid");
            printf("child %d ended (a zombie until reaped)\n", i + 1);
        }
        for (int i = 0; i < n; i++) {
            if (waitpid(pids[i], &raw, 0) < 0) err_exit("waitpid");
            printf("waitpid(%d) -> exit %d\n", (int)pids[i], WEXITSTATUS(raw));
        }
        pid = waitpid(-1, &raw, 0);
    } else {
        for (int i = n - 1; i >= 0; i--) {
            close(gate[i]);
            if ((pid = wait(&raw)) < 0) err_exit("wait");
            printf("wait() -> pid %d exit %d\n", (int)pid, WEXITSTATUS(raw));
        }
        pid = wait(&raw);
    }
    if (pid < 0)
        printf("then: %s (ECHILD: every child collected)\n", strerror(errno));
    return 0;
}

/* probe pgroup: a signal sent to a process group reaches every process in it. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(void)
{
    sigset_t term; int fds[2], st; char c;
    struct timespec five = { 5, 0 };
    sigemptyset(&term); sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);        /* the parent collects SIGTERM by sigtimedwait */
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid == 0) {                              /* child: SIGTERM's default action kills it */
        sigprocmask(SIG_UNBLOCK, &term, NULL);
        close(fds[0]); close(fds[1]);            /* closing is the "ready" handshake */
        for (;;) pause();
    }
    close(fds[1]);
    (void)!read(fds[0], &c, 1);
    printf("ready parent=%d child=%d pgrp=%d\n", getpid(), pid, getpgrp());
    fflush(stdout);
    int got = sigtimedwait(&term, NULL, &five);
    waitpid(pid, &st, 0);
    printf("parent_got=%s child_signal=%d\n", got == SIGTERM ? "SIGTERM" : "none",
           WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}

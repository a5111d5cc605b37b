/* orphan - a child whose parent exits is adopted by the nearest child subreaper, else by PID 1.
 *
 * Usage: orphan [plain|subreaper]   (default plain)
 * Three generations: grandparent (this program) -> parent -> orphan. The orphan
 * reports its parent on a pipe; only then does the parent exit (a handshake, so the
 * first getppid() is surely the parent). The orphan then polls getppid(), with a 5 s
 * deadline on the monotonic clock, until it changes, and prints its new parent and that
 * process's name.
 *   plain      the grandparent is NOT a subreaper, so it is skipped: the adopter is the
 *              nearest subreaper above it (under pylab: the runner's supervisor), or
 *              PID 1 when there is none.
 *   subreaper  the grandparent sets PR_SET_CHILD_SUBREAPER first: it adopts the
 *              orphan, and reaps it with a plain waitpid() as its own child.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "err.h"

static long long now_ms(void)                 /* CLOCK_MONOTONIC: wall-clock changes can't move it */
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void adopted(pid_t old)               /* in the orphan: poll getppid with a deadline */
{
    struct timespec nap = {0, 100000};
    char path[64], comm[64] = "?";
    FILE *f;
    for (long long deadline = now_ms() + 5000; getppid() == old && now_ms() < deadline; ) {
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 10000000) nap.tv_nsec *= 2;   /* back off up to 10 ms */
    }
    pid_t now = getppid();
    snprintf(path, sizeof path, "/proc/%d/comm", (int)now);
    if ((f = fopen(path, "r"))) { if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0; fclose(f); }
    if (now == old)
        printf("orphan %d: parent still %d after 5 s\n", (int)getpid(), (int)old);
    else
        printf("orphan %d: parent %d exited, new parent %d (%s)\n", (int)getpid(), (int)old, (int)now, comm);
}

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    int sub = !strcmp(mode, "subreaper"), fds[2], raw;
    pid_t parent, child;
    char x = 'x';

    if (!sub && strcmp(mode, "plain")) { fprintf(stderr, "usage: orphan [plain|subreaper]\n"); return 2; }
    if (sub && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) err_exit("prctl");
    printf("grandparent %d%s\n", (int)getpid(), sub ? " (a child subreaper)" : " (not a subreaper)");
    fflush(stdout);
    if (pipe(fds) < 0 || (parent = fork()) < 0) err_exit("fork");
    if (parent == 0) {
        if ((child = fork()) < 0) err_exit_child("fork");
        if (child == 0) {
            pid_t old = getppid();
            printf("orphan %d: parent %d\n", (int)getpid(), (int)old);
            fflush(stdout);
            if (write(fds[1], &x, 1) != 1) err_exit_child("write");
            close(fds[1]);
            adopted(old);
            return 0;
        }
        if (read(fds[0], &x, 1) != 1) err_exit_child("read");
        printf("parent %d exits, leaving %d behind\n", (int)getpid(), (int)child);
        fflush(stdout);
        _exit(0);
    }
    close(fds[0]);
    close(fds[1]);
    if (waitpid(parent, &raw, 0) < 0) err_exit("waitpid");
    if (sub) {                                  /* the orphan is our child now */
        if ((child = waitpid(-1, &raw, 0)) < 0) err_exit("waitpid adopted");
        printf("grandparent reaped adopted orphan %d (exit %d)\n", (int)child, WEXITSTATUS(raw));
    }
    return 0;
}

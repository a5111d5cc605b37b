/* probe forkdiff: what fork's child does not inherit, against "parent and child differ only
 * in the PID and fork's return value": a pending signal, a timer, a record lock, the CPU
 * time used so far, and the parent PID. Argument: a file to lock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *who, int fd)
{
    sigset_t pend; struct rusage ru; struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    sigpending(&pend);
    unsigned left = alarm(0);                       /* reads and cancels the timer */
    getrusage(RUSAGE_SELF, &ru);
    fcntl(fd, F_GETLK, &fl);                        /* F_UNLCK: we hold it (or nobody does) */
    printf("%s pid=%d ppid=%d pending_usr1=%d alarm_left=%u cpu_ms=%ld lock_held_by_other=%d\n", who, getpid(),
           getppid(), sigismember(&pend, SIGUSR1), left, (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000, fl.l_type != F_UNLCK ? (int)fl.l_pid : 0);
    fflush(stdout);
}

int main(int argc, char *argv[])
{
    sigset_t usr1; struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int fd = open(argc > 1 ? argv[1] : "forkdiff.lock", O_RDWR | O_CREAT, 0600);
    if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0) { perror("lock"); return 1; }
    sigemptyset(&usr1); sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);                                 /* pending, blocked */
    alarm(100);
    clock_t end = clock() + CLOCKS_PER_SEC / 50;   /* 20 ms of CPU */
    while (clock() < end) {}
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) { report("child", fd); _exit(0); }
    waitpid(pid, NULL, 0);
    report("parent", fd);
    return 0;
}

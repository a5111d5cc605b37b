/* fork_fail - fork fails with EAGAIN when the user's process limit (RLIMIT_NPROC) is
 * reached: the seed's "error in fork!" path, actually taken.
 *
 * Usage: fork_fail [EXTRA] (default 5, at most 50). The limit counts every process
 * (thread) of the real uid on the machine, so it is set to what /proc counts now plus
 * EXTRA. Root is not held by RLIMIT_NPROC: run as root, the program first drops to
 * uid/gid 65534 (nobody). The children wait on a pipe so the count only grows; when
 * fork fails the pipe is closed and every child is reaped. Look for: "error in fork!"
 * with EAGAIN after about EXTRA children (other processes of the uid may come and go),
 * and as many reaped as made.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static long tasks_of(uid_t uid)             /* what RLIMIT_NPROC counts, from /proc */
{
    long total = 0, real, threads;
    char path[300], line[256];
    struct dirent *e;
    DIR *d = opendir("/proc");
    if (!d)
        err_exit("opendir /proc");
    while ((e = readdir(d))) {
        FILE *f;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || !(f = fopen(path, "r")))
            continue;                       /* not a pid, or gone already */
        for (real = threads = -1; fgets(line, sizeof line, f);)
            (void)(sscanf(line, "Uid: %ld", &real) || sscanf(line, "Threads: %ld", &threads));
        fclose(f);
        if (real == (long)uid && threads > 0)
            total += threads;
    }
    closedir(d);
    return total;
}

int main(int argc, char *argv[])
{
    int extra = argc > 1 ? atoi(argv[1]) : 5, hold[2], made = 0, reaped = 0;
    struct rlimit lim;
    pid_t pid;

    if (extra < 1 || extra > 50) {
        fprintf(stderr, "usage: fork_fail [EXTRA]  (1 to 50 more processes allowed)\n");
        return 2;
    }
    if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
        err_exit("dropping root to uid 65534");
    lim.rlim_cur = lim.rlim_max = tasks_of(getuid()) + extra;
    if (setrlimit(RLIMIT_NPROC, &lim) < 0)
        err_exit("setrlimit RLIMIT_NPROC");
    printf("uid %d: RLIMIT_NPROC %ld (%ld processes of this uid now + %d)\n", getuid(),
           (long)lim.rlim_cur, (long)lim.rlim_cur - extra, extra);
    if (pipe(hold) < 0)
        err_exit("pipe");
    fflush(stdout);
    for (;;) {
        if (made >= 4 * extra + 20) {       /* bounded: the limit never bit */
            printf("fork never failed after %d children\n", made);
            break;
        }
        pid = fork();
        if (pid < 0) {
            printf("error in fork! errno %s (%s) after %d children\n", strerrorname_np(errno),
                   strerror(errno), made);
            break;
        }
        if (pid == 0) {                     /* wait for the parent to close the pipe */
            char c;
            close(hold[1]);
            _exit(read(hold[0], &c, 1) < 0);
        }
        made++;
    }
    close(hold[1]);                         /* EOF: every child leaves */
    while (wait(NULL) > 0)
        reaped++;
    printf("made %d, reaped %d\n", made, reaped);
    return made == reaped ? 0 : 1;
}

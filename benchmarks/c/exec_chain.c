/* exec_chain - what one process between the caller and a program costs, and why.
 *
 * Not a lesson: `exec_chain N PROG` starts PROG N times directly (vfork + exec + wait,
 * as subprocess does) and N times through a middle process that does the same (as the
 * supervisor does), interleaved, and prints for each the mean wall time of a run and
 * how often the program changed CPU before it ended (se.nr_migrations, read from
 * /proc/PID/sched while it is a zombie, with waitid WNOWAIT). docs/performance.md
 * ("The supervisor's price") explains the result. `exec_chain --middle PROG` is the
 * middle process.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long migrations(pid_t pid)
{
    char path[64], buf[4096], *at;
    snprintf(path, sizeof path, "/proc/%d/sched", (int)pid);
    int fd = open(path, O_RDONLY), n;
    if (fd < 0)
        return -1;
    n = (int)read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    at = strstr(buf, "se.nr_migrations");
    return at && (at = strchr(at, ':')) ? atol(at + 1) : -1;
}

/* vfork + exec argv, then wait; *moved: the program's migrations (in the middle: its own) */
static int run(char **argv, long *moved)
{
    siginfo_t si;
    pid_t pid = vfork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
        return -1;
    if (moved)
        *moved = migrations(pid);
    return waitpid(pid, NULL, 0) < 0 ? -1 : si.si_status;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    if (argc == 3 && !strcmp(argv[1], "--middle")) {
        long moved;
        int status = run(&argv[2], &moved);
        return status < 0 ? 126 : (int)(moved > 0 ? 100 + (moved > 9 ? 9 : moved) : status);
    }
    if (argc != 3 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: exec_chain N PROG\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = 0;
    char *direct[] = {argv[2], NULL}, *middle[] = {self, "--middle", argv[2], NULL};
    double secs[2] = {0}, t;
    long moved[2] = {0}, m;
    int devnull = open("/dev/null", O_WRONLY);
    int out = dup(1);
    dup2(devnull, 1);                       /* the program's output goes nowhere */
    for (int i = 0; i < n; i++)
        for (int way = 0; way < 2; way++) {
            t = now();
            int status = run(way ? middle : direct, way ? NULL : &m);
            secs[way] += now() - t;
            if (status < 0 || status == 126 || status == 127) {
                dprintf(out, "exec_chain: could not run %s\n", argv[2]);
                return 1;
            }
            moved[way] += way ? (status >= 100 ? status - 100 : 0) : (m > 0 ? m : 0);
        }
    dprintf(out, "direct            %7.1f us a run, the program changed CPU %ld times in %d runs\n",
            secs[0] / n * 1e6, moved[0], n);
    dprintf(out, "through a middle  %7.1f us a run, the program changed CPU %ld times in %d runs\n",
            secs[1] / n * 1e6, moved[1], n);
    return 0;
}

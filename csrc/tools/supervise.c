/* supervise - run one program so that nothing it creates outlives the run.
 *
 * Not a lesson: the runner (pylab/runner.py) execs this for every supervised run.
 *   supervise STATUS_FD TIMEOUT_MS LINGER_MS TTY UID GID [-r RES=SOFT] [-c DIR] -- PROG..
 * It becomes a session leader (and takes fd 1 as its controlling terminal when TTY is
 * 1, as a shell would), sets PR_SET_CHILD_SUBREAPER so every orphan of the run is
 * re-parented here, forks the target into its own process group (the foreground
 * group on a tty), applies the rlimits and the uid/gid in the child, and execs PROG.
 * When the target ends, or at the timeout, it waits LINGER_MS for what is left, then
 * SIGKILLs every descendant and reaps until ECHILD.  On STATUS_FD it reports lines:
 *   start PID                    the target is running
 *   execfail ERRNO               exec failed in the child (the child exits 127)
 *   end PID RAW TIMEDOUT NS      the target's raw wait status, run time in ns
 *   straggler PID                a descendant still alive at the end, SIGKILLed
 *   done                         nothing of the run is left
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarmed;
static int status_fd;

static void on_alarm(int sig) { (void)sig; alarmed = 1; }

static void report(const char *fmt, long a, long b, long c, long d)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, fmt, a, b, c, d);
    if (write(status_fd, buf, (size_t)n) < 0) { /* the runner is gone: carry on */ }
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void arm(long ms)            /* one-shot SIGALRM after ms; 0 disarms */
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    alarmed = 0;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* SIGKILL every live descendant of ours, walking the tree down from us through
 * /proc, and report each one as a straggler. */
static void kill_descendants(void)
{
    static pid_t tree[65536];
    int n = 1, grew = 1;
    siginfo_t si;
    /* We are a subreaper, so every descendant of ours that outlived its parent was
     * re-parented here: with no child at all (ECHILD) there is nothing to sweep, and
     * the usual run skips reading every /proc/PID/stat on the machine. */
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
        return;
    tree[0] = getpid();
    while (grew && n < 65536) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        grew = 0;
        if (!d) return;
        while ((e = readdir(d)) && n < 65536) {
            char path[64], buf[512], *p, st;
            long pid = strtol(e->d_name, &p, 10), ppid;
            int fd, len, known = 0;
            if (*p || pid <= 0) continue;
            for (int i = 0; i < n; i++) known |= tree[i] == pid;
            if (known) continue;
            snprintf(path, sizeof path, "/proc/%ld/stat", pid);
            if ((fd = open(path, O_RDONLY)) < 0) continue;
            len = (int)read(fd, buf, sizeof buf - 1);
            close(fd);
            if (len <= 0) continue;
            buf[len] = 0;
            if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %c %ld", &st, &ppid) != 2)
                continue;       /* comm may hold ')' or spaces: parse after the last */
            for (int i = 0; i < n; i++) {
                if (tree[i] != ppid) continue;
                tree[n++] = (pid_t)pid;
                grew = 1;
                if (st != 'Z' && kill((pid_t)pid, SIGKILL) == 0)
                    report("straggler %ld\n", pid, 0, 0, 0);
                break;
            }
        }
        closedir(d);
    }
}

/* close every fd from `low` up, except `keep` (close_range where the kernel has it) */
static void close_from(int low, int keep)
{
    if ((keep <= low || syscall(SYS_close_range, low, keep - 1, 0) == 0) &&
        syscall(SYS_close_range, keep + 1, ~0U, 0) == 0)
        return;
    for (long fd = low, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
        if (fd != keep)
            close((int)fd);
}

static void apply_rlimit(const char *spec)
{
    static const struct { const char *name; int res; } names[] = {
        {"cpu", RLIMIT_CPU}, {"as", RLIMIT_AS}, {"fsize", RLIMIT_FSIZE},
        {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE},
        {"stack", RLIMIT_STACK}, {"data", RLIMIT_DATA},
    };
    const char *eq = strchr(spec, '=');
    for (size_t i = 0; eq && i < sizeof names / sizeof names[0]; i++) {
        if (strncmp(spec, names[i].name, (size_t)(eq - spec)) || names[i].name[eq - spec])
            continue;
        struct rlimit rl;
        getrlimit(names[i].res, &rl);
        rl.rlim_cur = strcmp(eq + 1, "inf") ? strtoull(eq + 1, NULL, 10) : RLIM_INFINITY;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
            rl.rlim_max = rl.rlim_cur;      /* raising the hard limit needs root */
        if (setrlimit(names[i].res, &rl) < 0) {
            rl.rlim_max = rl.rlim_cur;
            setrlimit(names[i].res, &rl);
        }
    }
}

int main(int argc, char *argv[])
{
    int a = 7, tty, status = 0, timed_out = 0, e;
    long timeout_ms, linger_ms, uid, gid, t0, t1;
    pid_t pid;
    struct sigaction sa = {0};

    if (argc < 9) {
        fprintf(stderr, "usage: supervise FD TIMEOUT_MS LINGER_MS TTY UID GID [-r R=N].. -- PROG..\n");
        return 2;
    }
    status_fd = atoi(argv[1]);
    timeout_ms = atol(argv[2]);
    linger_ms = atol(argv[3]);
    tty = atoi(argv[4]);
    uid = atol(argv[5]);
    gid = atol(argv[6]);
    /* A run starts with stdin, stdout, stderr and nothing else: whatever our caller
     * inherited from its own parent must not leak into the program. */
    close_from(3, status_fd);
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    setsid();
    if (tty)
        ioctl(1, TIOCSCTTY, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);          /* no SA_RESTART: waitpid gets EINTR */
    signal(SIGTTOU, SIG_IGN);
    /* The runner closes the pty's master once the target's output ends: the hang-up
     * then SIGHUPs us, the controlling process, before our report is written. */
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);               /* a runner gone away must not stop the sweep */

    t0 = now_ns();
    pid = fork();
    if (pid < 0) {
        report("execfail %ld\n", errno, 0, 0, 0);
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (tty)
            tcsetpgrp(1, getpid());         /* the foreground group, as a shell does */
        signal(SIGTTOU, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        for (; a + 1 < argc && strcmp(argv[a], "--"); a += 2)
            if (!strcmp(argv[a], "-r"))
                apply_rlimit(argv[a + 1]);
            else if (!strcmp(argv[a], "-c") && chdir(argv[a + 1]) < 0)
                report("execfail %ld\n", errno, 0, 0, 0), _exit(127);
        if ((gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0)) ||
            (uid >= 0 && setuid((uid_t)uid) < 0)) {
            report("execfail %ld\n", errno, 0, 0, 0);
            _exit(127);
        }
        execvp(argv[a + 1], &argv[a + 1]);
        report("execfail %ld\n", errno, 0, 0, 0);
        _exit(127);
    }
    setpgid(pid, pid);                      /* both sides: whoever runs first wins */
    if (tty)
        tcsetpgrp(1, pid);
    report("start %ld\n", pid, 0, 0, 0);
    /* From here the run's output must reach EOF when the tree is done: drop our
     * copies of the target's stdio. */
    e = open("/dev/null", O_RDWR);
    dup2(e, 0), dup2(e, 1), dup2(e, 2);
    if (e > 2)
        close(e);

    if (timeout_ms > 0)
        arm(timeout_ms);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno == EINTR && alarmed) {
            timed_out = 1;
            kill(pid, SIGKILL);
            kill_descendants();            /* the whole tree, whatever its groups */
        } else if (errno != EINTR) {
            break;
        }
    }
    t1 = now_ns();
    report("end %ld %ld %ld %ld\n", pid, status, timed_out, t1 - t0);

    /* Let what is left finish on its own for LINGER_MS (< 0: until the timeout),
     * then kill it. */
    if (!timed_out && linger_ms != 0) {
        long left = timeout_ms > 0 ? timeout_ms - (t1 - t0) / 1000000 : -1;
        if (timeout_ms > 0 && left < 1)
            left = 1;
        if (linger_ms > 0 && (left < 0 || linger_ms < left))
            left = linger_ms;
        if (left > 0)
            arm(left);
        while (left != 0 && !alarmed && (waitpid(-1, NULL, 0) > 0 || errno == EINTR))
            ;
    }
    arm(0);
    for (;;) {
        kill_descendants();                /* again: a straggler may have forked */
        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
            break;
    }
    report("done\n", 0, 0, 0, 0);
    return 0;
}

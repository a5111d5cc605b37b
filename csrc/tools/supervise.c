/* supervise - run one program so that nothing it creates outlives the run.
 *
 * Not a lesson: the runner (pylab/run/runner.py) execs this for every supervised run.
 *   supervise STATUS_FD TIMEOUT_MS LINGER_MS TTY UID GID [-r RES=SOFT].. [-c DIR]
 *             [-o OWNER_PID] [-b 1] [-t LOG_FD [-e VAR=VALUE]..] -- PROG..
 * It becomes a session leader (and takes fd 1 as its controlling terminal when TTY is
 * 1, as a shell would), sets PR_SET_CHILD_SUBREAPER so every orphan of the run is
 * re-parented here, forks the target into its own process group (the foreground
 * group on a tty), applies the rlimits, the folder and the uid/gid in the child, and
 * execs PROG. It waits on one poll(): a signalfd (SIGCHLD: reap; SIGALRM: the runner
 * says "time is up"; SIGTERM/SIGINT: stop now; SIGHUP is ignored) and a pidfd of OWNER_PID (the
 * runner: if it dies, the whole run is killed at once). No signal handler, no
 * itimer: nothing can arrive between a check and the wait that follows it.
 * When the target ends, it reports what outlived it (with LINGER_MS 0 too; at the
 * timeout or a stop, what is about to be killed with it), waits up to LINGER_MS (< 0:
 * until the timeout) for that to end, then SIGKILLs every descendant through a pidfd
 * opened and checked first (a pid freed and reused meanwhile is never signalled), and
 * reaps until ECHILD. On STATUS_FD it reports lines:
 *   supervisor PID               its own pid (a tracer may sit between runner and it)
 *   start PID                    the target is running
 *   execfail ERRNO               exec failed in the child (the child exits 127)
 *   end PID RAW HOW NS           the target's raw wait status; HOW 0: it ended, 1: at the
 *                                timeout (or the runner's SIGALRM), 2: stopped (SIGTERM,
 *                                SIGINT, the runner gone); run time in ns
 *   outlived PID PPID STATE WCHAN COMM   alive when the target ended (whatever the linger),
 *                                or, at the timeout or a stop, just before the sweep
 *   reaped PID RAW               an adopted orphan ended and was reaped here
 *   straggler PID                a descendant still alive at the end, SIGKILLed
 *   done                         nothing of the run is left
 * With -t (x86-64), the run is traced from outside the program: after setsid the
 * supervisor forks a tracer (ptrace_core.h; in the run's session, so the stops of a
 * run go back and forth within one scheduling group) that seizes the target before it
 * execs PROG with the -e variables and the trace filter; the tracer logs every process
 * of the program to LOG_FD, and the supervisor its own exec, fork, reaps and exit.
 * Lines are gathered and written together before each wait (the runner wakes once for
 * them, not once a line); with -b 1 ("batch": nobody watches the run while it goes),
 * all of them at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include "ptrace_core.h"
#include "rlimit_names.h"
#define CAN_TRACE 1
#else
#define CAN_TRACE 0
#endif

static int status_fd, batch, trace_fd = -1;
static char pending[16384];                 /* report lines not written yet */
static size_t npending;

static void flush(void)
{
    size_t done = 0;
    while (done < npending) {
        ssize_t n = write(status_fd, pending + done, npending - done);
        if (n <= 0)
            break;                          /* the runner is gone: carry on */
        done += (size_t)n;
    }
    npending = 0;
}
/* Set once a wait said ECHILD: we are a subreaper, so with no child there is no
 * descendant either, and none can appear (only we fork, once). Later checks then cost
 * no system call (a traced run stops at each wait). */
static int childless;

static pid_t tracer;                        /* our tracer child (-t), while it runs */

/* Does /proc say our only child is the tracer (so nothing of the run is left)? */
static int only_the_tracer(void)
{
    char path[64], buf[256];
    int fd, n;
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;                           /* (no such file: walk /proc as ever) */
    n = (int)read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 && n < (int)sizeof buf - 1 && atol(buf) == tracer && !strchr(buf, ' ')[1];
}

static int nothing_left(void)
{
    siginfo_t si;
    if (!childless && waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
        childless = 1;
    /* (the tracer outlives the run by a moment: it writes its log once the last
     * process of the run is gone) */
    return childless || (tracer > 0 && only_the_tracer());
}

__attribute__((format(printf, 1, 2))) static void report(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (npending + (size_t)n > sizeof pending)
        flush();
    memcpy(pending + npending, buf, (size_t)n);
    npending += (size_t)n;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* state, ppid and comm of pid from /proc/PID/stat; 0 when it is gone */
static int read_stat(long pid, char *state, long *ppid, char *comm, size_t comm_size)
{
    char path[64], buf[512], *open_paren, *close_paren;
    int fd, len;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    len = (int)read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return 0;
    buf[len] = 0;
    /* comm may hold ')' or spaces: it runs from the first '(' to the last ')' */
    if (!(open_paren = strchr(buf, '(')) || !(close_paren = strrchr(buf, ')')) ||
        sscanf(close_paren + 1, " %c %ld", state, ppid) != 2)
        return 0;
    if (comm) {
        size_t n = (size_t)(close_paren - open_paren - 1);
        n = n < comm_size - 1 ? n : comm_size - 1;
        memcpy(comm, open_paren + 1, n);
        comm[n] = 0;
        for (char *c = comm; *c; c++)       /* a name is the process's to choose: never a line of ours */
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    return 1;
}

/* Every live descendant of ours, parents before children, read from /proc. */
static int descendants(pid_t *tree, int max)
{
    int n = 1, grew = 1;
    tree[0] = getpid();
    while (grew && n < max) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        grew = 0;
        if (!d)
            break;
        while ((e = readdir(d)) && n < max) {
            char *p, st;
            long pid = strtol(e->d_name, &p, 10), ppid;
            int known = 0;
            if (*p || pid <= 0 || pid == tracer)
                continue;                   /* (the tracer must see the run to its end) */
            for (int i = 0; i < n && !known; i++)
                known = tree[i] == pid;
            if (known || !read_stat(pid, &st, &ppid, NULL, 0))
                continue;
            for (int i = 0; i < n; i++)
                if (tree[i] == ppid) {
                    tree[n++] = (pid_t)pid;
                    grew = 1;
                    break;
                }
        }
        closedir(d);
    }
    return n;
}

static int in_tree(const pid_t *tree, int n, long pid)
{
    for (int i = 0; i < n; i++)
        if (tree[i] == pid)
            return 1;
    return 0;
}

/* SIGKILL every live descendant and report each as a straggler. Each one is pinned
 * with a pidfd first and its parent checked again through /proc: a pid that was
 * freed and handed to another process after the walk is left alone. */
static void kill_descendants(void)
{
    static pid_t tree[65536];
    int n;
    /* We are a subreaper: whatever of the run outlived its parent is our child, so
     * with no child at all (ECHILD) there is nothing to sweep. */
    if (nothing_left())
        return;
    n = descendants(tree, 65536);
    for (int i = 1; i < n; i++) {
        char st;
        long ppid;
        int fd = pidfd_open(tree[i]);
        if (fd < 0 && errno != ENOSYS)
            continue;                       /* already gone */
        /* (a kernel before 5.3 has no pidfds: there only the check narrows the race) */
        if (read_stat(tree[i], &st, &ppid, NULL, 0) && st != 'Z' && in_tree(tree, i, ppid) &&
            (fd >= 0 ? syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) : kill(tree[i], SIGKILL)) == 0)
            report("straggler %ld\n", (long)tree[i]);
        if (fd >= 0)
            close(fd);
    }
}

/* Report, once, what is alive besides the target as it ends (reaped, or about to be
 * killed at the timeout or a stop): who, its parent, its state, where in the kernel it
 * waits, and its name. Whatever is killed afterwards was first reported here, so the
 * report can say who was killed, not just a pid. */
static void report_outlived(pid_t target)
{
    static pid_t tree[4096];
    static int reported;
    int n;
    /* Whatever outlived the target was re-parented here or descends from what was (or
     * from the target), so with no child at all there is nothing to walk /proc for. */
    if (reported++ || nothing_left())
        return;
    n = descendants(tree, 4096);
    for (int i = 1; i < n; i++) {
        char st, comm[64], path[64], wchan[64] = "-";
        long ppid;
        int fd, len;
        if (tree[i] == target || !read_stat(tree[i], &st, &ppid, comm, sizeof comm) || st == 'Z')
            continue;
        snprintf(path, sizeof path, "/proc/%ld/wchan", (long)tree[i]);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
            len = (int)read(fd, wchan, sizeof wchan - 1);
            close(fd);
            wchan[len > 0 ? len : 0] = 0;
            if (len <= 0 || !strcmp(wchan, "0"))
                strcpy(wchan, "-");
        }
        report("outlived %ld %ld %c %s %s\n", (long)tree[i], ppid, st, wchan, comm);
    }
}

/* close every fd from `low` up, except `keep` and `also` (-1: none) (close_range where
 * the kernel has it) */
static void close_from(int low, int keep, int also)
{
    int a = also < 0 || keep < also ? keep : also, b = also < 0 ? -1 : keep < also ? also : keep;
    if ((a <= low || syscall(SYS_close_range, low, a - 1, 0) == 0) &&
        (b < 0 || b == a + 1 || syscall(SYS_close_range, a + 1, b - 1, 0) == 0) &&
        syscall(SYS_close_range, (b < 0 ? a : b) + 1, ~0U, 0) == 0)
        return;
    for (long fd = low, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
        if (fd != keep && fd != also)
            close((int)fd);
}

static void apply_rlimit(const char *spec)
{
    int res = rlimit_of(spec);
    struct rlimit rl;
    if (res < 0)
        return;
    getrlimit(res, &rl);
    rl.rlim_cur = strcmp(strchr(spec, '=') + 1, "inf") ? strtoull(strchr(spec, '=') + 1, NULL, 10) : RLIM_INFINITY;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
        rl.rlim_max = rl.rlim_cur;          /* raising the hard limit needs root */
    if (setrlimit(res, &rl) < 0) {
        rl.rlim_max = rl.rlim_cur;
        setrlimit(res, &rl);
    }
}

enum { GO_ON, CHILD, TIME_UP, STOP };

/* Wait until a child may be reapable, the deadline (ms, < 0: none), a signal or the
 * owner's end; says which. */
static int wait_event(int sigfd, int ownerfd, long deadline)
{
    struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {ownerfd, POLLIN, 0}};
    long left = deadline < 0 ? -1 : deadline - now_ms();
    struct signalfd_siginfo si;
    if (deadline >= 0 && left <= 0)
        return TIME_UP;
    if (!batch)
        flush();                            /* what happened so far, before we sleep */
    if (poll(fds, ownerfd >= 0 ? 2 : 1, (int)(left > 1L << 30 ? 1L << 30 : left)) <= 0)
        return deadline >= 0 && now_ms() >= deadline ? TIME_UP : GO_ON;
    if (fds[1].revents)
        return STOP;                        /* the runner is gone: so is the run */
    if (read(sigfd, &si, sizeof si) != sizeof si)
        return GO_ON;
    return si.ssi_signo == SIGCHLD ? CHILD : si.ssi_signo == SIGALRM ? TIME_UP : STOP;
}

/* Reap every child that has ended; returns 1 once the target is among them. */
static int reap_ready(pid_t target, int *status)
{
    int st, found = 0;
    pid_t w;
    while (!childless && (w = waitpid(-1, &st, WNOHANG)) > 0) {
        if (w == tracer) {                  /* done: its log is written */
            tracer = 0;
            continue;
        }
#if CAN_TRACE
        if (trace_fd >= 0)
            line(getpid(), now(), "wait4(-1, %s, WNOHANG, NULL) = %d", status_text(st), (int)w);
#endif
        if (w == target)
            *status = st, found = 1;
        else
            report("reaped %ld %d\n", (long)w, st);
    }
    if (!childless && w < 0 && errno == ECHILD)
        childless = 1;
    return found;
}

/* The child's side, up to its exec: its own group (the foreground one on a tty), the
 * default dispositions we changed, the caller's mask, the limits, the folder, the ids,
 * and (-t) being seized and filtered. After a vfork it shares our memory until the exec:
 * it changes nothing but its own frame and writes its failure straight to the pipe. */
__attribute__((noinline, noreturn))
static void run_child(int argc, char *argv[], int a, int tty, long uid, long gid, const sigset_t *old, const int *go)
{
    char msg[32];
    int e;
    setpgid(0, 0);
    if (tty)
        tcsetpgrp(1, getpid());             /* the foreground group, as a shell does */
    signal(SIGTTOU, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, old, NULL);
    for (; a + 1 < argc && strcmp(argv[a], "--"); a += 2)
        if (!strcmp(argv[a], "-r"))
            apply_rlimit(argv[a + 1]);
        else if (!strcmp(argv[a], "-c") && chdir(argv[a + 1]) < 0)
            goto failed;
    /* (raw calls: the C library's setuid would look for other threads to tell) */
    if ((gid >= 0 && (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setgid, (gid_t)gid) < 0)) ||
        (uid >= 0 && syscall(SYS_setuid, (uid_t)uid) < 0))
        goto failed;
#if CAN_TRACE
    if (trace_fd >= 0) {                    /* (forked, not vforked) wait to be seized, filter, exec */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0) { /* EOF: the tracer has us (or is gone) */ }
        for (int i = 7; i + 1 < argc && strcmp(argv[i], "--"); i += 2)
            if (!strcmp(argv[i], "-e"))
                putenv(argv[i + 1]);
        install_filter();
    }
#else
    (void)go;
#endif
    execvp(argv[a + 1], &argv[a + 1]);
failed:
    e = errno;
    if (write(status_fd, msg, (size_t)snprintf(msg, sizeof msg, "execfail %d\n", e)) < 0) { /* the runner is gone */ }
    _exit(127);
}

/* (on its own: the function that calls vfork returns twice, and main's variables stay
 * out of it) */
__attribute__((noinline))
static pid_t start_child(int argc, char *argv[], int a, int tty, long uid, long gid, const sigset_t *old, const int *go)
{
    pid_t pid = trace_fd >= 0 ? fork() : vfork();
    if (pid == 0)
        run_child(argc, argv, a, tty, uid, gid, old, go);
    return pid;
}

int main(int argc, char *argv[])
{
    int a = 7, tty, status = 0, timed_out = 0, stopped = 0, e, sigfd, ownerfd = -1;
    long timeout_ms, linger_ms, uid, gid, t0, t1, deadline;
    pid_t pid;
    sigset_t mask, old;
    int go[2] = {-1, -1};                   /* -t: the target waits on this until it is seized */

    if (argc < 9) {
        fprintf(stderr, "usage: supervise FD TIMEOUT_MS LINGER_MS TTY UID GID [-r R=N].. [-c DIR] [-o PID] -- PROG..\n");
        return 2;
    }
    status_fd = atoi(argv[1]);
    timeout_ms = atol(argv[2]);
    linger_ms = atol(argv[3]);
    tty = atoi(argv[4]);
    uid = atol(argv[5]);
    gid = atol(argv[6]);
    for (int i = a; i + 1 < argc && strcmp(argv[i], "--"); i += 2)
        if (!strcmp(argv[i], "-t")) {
            if (!CAN_TRACE) {
                fprintf(stderr, "supervise: -t: this tracer reads x86-64 registers only\n");
                return 2;
            }
            trace_fd = atoi(argv[i + 1]);
        }
    /* A run starts with stdin, stdout, stderr and nothing else: whatever our caller
     * inherited from its own parent must not leak into the program. */
    close_from(3, status_fd, trace_fd);
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
#if CAN_TRACE
    if (trace_fd >= 0) {                    /* our own exec, as strace would have logged it */
        char *text = NULL;
        size_t n = 0, room = 0;
        fcntl(trace_fd, F_SETFD, FD_CLOEXEC);
        quoted(&text, &n, &room, (unsigned char *)argv[0], strlen(argv[0]));
        append(&text, &n, &room, ", [");
        for (int i = 0; i < argc; i++) {
            append(&text, &n, &room, i ? ", " : "");
            quoted(&text, &n, &room, (unsigned char *)argv[i], strlen(argv[i]));
        }
        line(getpid(), now(), "execve(%s], 0x0) = 0", text);
        free(text);
    }
#endif
    for (int i = a; i + 1 < argc && strcmp(argv[i], "--"); i += 2)
        if (!strcmp(argv[i], "-o") && (ownerfd = pidfd_open((pid_t)atol(argv[i + 1]))) < 0 && errno == ESRCH)
            return 1;                       /* the runner is already gone (ENOSYS: no watch) */
        else if (!strcmp(argv[i], "-b"))
            batch = atoi(argv[i + 1]);
    if (ownerfd >= 0)
        fcntl(ownerfd, F_SETFD, FD_CLOEXEC);
    setsid();
    if (tty)
        ioctl(1, TIOCSCTTY, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGALRM);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, &old);
    sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    signal(SIGTTOU, SIG_IGN);
    /* The runner closes the pty's master once the target's output ends: the hang-up
     * then SIGHUPs us, the controlling process, before our report is written. */
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);               /* a runner gone away must not stop the sweep */
    report("supervisor %ld\n", (long)getpid());

    t0 = now_ns();
    deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
    if (trace_fd >= 0 && pipe2(go, O_CLOEXEC) < 0)
        go[0] = go[1] = -1;
    /* An untraced run's program is started with vfork (no copy of our page tables;
     * we wait until it has exec'd): run_child touches nothing of ours but its own
     * stack frame below ours. A traced one waits to be seized while we fork its
     * tracer: there, fork. */
    pid = start_child(argc, argv, a, tty, uid, gid, &old, go);
    if (pid < 0) {
        report("execfail %d\n", errno);
        flush();
        return 1;
    }
#if CAN_TRACE
    if (trace_fd >= 0) {
        pid_t self = getpid();
        line(self, now(), "fork() = %d", (int)pid);
        tracer = fork();
        if (tracer == 0) {                  /* the tracer: it dies with us, and so do its tracees */
            int nul = open("/dev/null", O_RDWR);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(go[0]);
            /* none of the run's streams kept open here: their ends come with the run's end */
            dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
            close(nul);
            close(status_fd);
            if (getppid() != self || seize(pid) < 0)
                kill(pid, SIGKILL), _exit(1);
            close(go[1]);
            trace_loop(pid);
            log_write(trace_fd);
            _exit(0);
        }
        if (tracer < 0)
            tracer = 0;
        close(go[0]);
        close(go[1]);                       /* (the target goes on once the tracer lets go of it too) */
        loglen = 0;                         /* our lines so far are the tracer's to write */
    }
#endif
    setpgid(pid, pid);                      /* both sides: whoever runs first wins */
    if (tty)
        tcsetpgrp(1, pid);
    report("start %ld\n", (long)pid);
    /* From here the run's output must reach EOF when the tree is done: drop our
     * copies of the target's stdio. */
    e = open("/dev/null", O_RDWR);
    dup2(e, 0), dup2(e, 1), dup2(e, 2);
    if (e > 2)
        close(e);

    /* Wait first, then reap: a target that has already ended left SIGCHLD pending in
     * the signalfd, so the first wait returns at once. */
    for (;;) {
        int ev = wait_event(sigfd, ownerfd, timed_out || stopped ? -1 : deadline);
        if (ev == TIME_UP || ev == STOP) {
            timed_out |= ev == TIME_UP;
            stopped |= ev == STOP;
            report_outlived(pid);           /* what is about to be killed with it, as it was */
            int killed = kill(pid, SIGKILL); /* our unreaped child: its pid is still its own */
#if CAN_TRACE
            if (trace_fd >= 0)
                line(getpid(), now(), "kill(%d, SIGKILL) = %s", (int)pid, killed == 0 ? "0" : "-1 ESRCH");
#endif
            (void)killed;
            kill_descendants();             /* the whole tree, whatever its groups */
        }
        if (reap_ready(pid, &status))
            break;
    }
    t1 = now_ns();
    report("end %ld %d %d %ld\n", (long)pid, status, timed_out ? 1 : stopped ? 2 : 0, t1 - t0);

    /* Say what is left, even when no linger lets it go on (it is about to be killed:
     * the report names it); let it finish on its own for LINGER_MS (< 0: until the
     * timeout), then kill it. */
    if (!timed_out && !stopped)
        report_outlived(pid);
    if (!timed_out && !stopped && linger_ms != 0) {
        long until = deadline;
        if (linger_ms > 0 && (until < 0 || now_ms() + linger_ms < until))
            until = now_ms() + linger_ms;
        for (;;) {
            reap_ready(0, &status);
            if (nothing_left())
                break;                      /* nothing left */
            int ev = wait_event(sigfd, ownerfd, until);
            if (ev == TIME_UP || ev == STOP)
                break;
        }
    }
    for (;;) {
        int st;
        pid_t w;
        kill_descendants();                /* again: a straggler may have forked */
        if (childless || ((w = waitpid(-1, &st, 0)) < 0 && errno == ECHILD))
            break;
        if (w == tracer)
            tracer = 0;
#if CAN_TRACE
        else if (w > 0 && trace_fd >= 0)
            line(getpid(), now(), "wait4(-1, %s, 0, NULL) = %d", status_text(st), (int)w);
#endif
    }
#if CAN_TRACE
    if (trace_fd >= 0) {                    /* (the tracer is done: no lines of ours can mix with its) */
        line(getpid(), now(), "exit_group(0) = ?");
        line(getpid(), now(), "+++ exited with 0 +++");
        log_write(trace_fd);
    }
#endif
    report("done\n");
    flush();
    close(status_fd);                       /* the runner sees the end with the last line */
    return 0;
}

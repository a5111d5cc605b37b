/* jail - set the limits a sandboxed run cannot undo, then exec the next program.
 *
 * Not a lesson: pylab/grading/bwrap.py puts it on both sides of bubblewrap.
 *   jail [-S] [-C CGROUP_PROCS]... [-u UID -g GID] [-r RES=N]... -- PROG ARGS..
 * Outside (as root): joins the submission's cgroups (pids, memory) by writing its own
 * pid to each cgroup.procs, so bwrap and all it starts are counted there, then drops
 * to the pool uid/gid. Inside (after bwrap made the namespaces): sets each rlimit with
 * hard = soft, so the program cannot raise it again (a lower hard limit it inherited
 * stays: the tracer's file-size cap, say). RLIMIT_NPROC must be set inside:
 * set before the user namespace exists, it would also cap the namespace's creator.
 * -S (around the tracer): stay as a subreaper that reaps everything PROG leaves when it
 * dies (strace cut off by its log's size limit takes its tracees with it, and their
 * orphans must not land on the grader); exit with PROG's status once nothing is left.
 * Any failure is fatal (exit 126 with one line on stderr): a jail that half-applied
 * its limits must not run the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rlimit_names.h"

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "jail: %s %s: %s\n", what, arg, strerror(errno));
    _exit(126);
}

static void join_cgroup(const char *procs)
{
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || write(fd, pid, (size_t)n) != n)
        die("cannot join cgroup", procs);
    close(fd);
}

static void hard_limit(const char *spec)
{
    int res = rlimit_of(spec);
    struct rlimit rl;
    rlim_t want;
    if (res < 0) {
        errno = EINVAL;
        die("unknown limit", spec);
    }
    want = strtoull(strchr(spec, '=') + 1, NULL, 10);
    getrlimit(res, &rl);
    if (want > rl.rlim_max)                 /* a lower hard limit from outside stays */
        want = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max = want;
    if (setrlimit(res, &rl) < 0)
        die("cannot set limit", spec);
}

/* The subreaper's side: hold none of the run's descriptors (its pipes must reach EOF
 * when the tree ends, not when we do), reap until nothing is left. */
static int reap_all(pid_t child)
{
    int status = 0, st;
    pid_t p;
    for (int fd = 0; fd < 1024; fd++)
        close(fd);
    while ((p = wait(&st)) > 0 || (p < 0 && errno == EINTR))
        if (p == child)
            status = st;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char *argv[])
{
    long uid = -1, gid = -1;
    int a = 1, reaper = 0;
    pid_t parent = getppid();

    for (; a + 1 < argc && strcmp(argv[a], "--"); a += 2) {
        if (!strcmp(argv[a], "-S")) {
            reaper = 1;
            a--;                            /* a flag: no value follows */
        } else if (!strcmp(argv[a], "-C"))
            join_cgroup(argv[a + 1]);
        else if (!strcmp(argv[a], "-u"))
            uid = atol(argv[a + 1]);
        else if (!strcmp(argv[a], "-g"))
            gid = atol(argv[a + 1]);
        else if (!strcmp(argv[a], "-r"))
            hard_limit(argv[a + 1]);
        else
            errno = EINVAL, die("unknown option", argv[a]);
    }
    if (a >= argc - 1 || strcmp(argv[a], "--")) {
        fprintf(stderr, "usage: jail [-S] [-C PROCS].. [-u UID -g GID] [-r RES=N].. -- PROG ARGS..\n");
        return 2;
    }
    if (gid >= 0 && (setgroups(0, NULL) < 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0))
        die("cannot change gid", "");
    if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
        die("cannot change uid", "");
    /* no setuid binary, file capability or LSM transition can give anything back */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("cannot set", "no_new_privs");
    if (reaper) {
        pid_t child;
        /* dies with the grader (bwrap's --die-with-parent then takes the sandbox along);
         * set after the uid change, which clears it, and checked against a lost race */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            die("the grader is gone:", "not starting");
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || (child = fork()) < 0)
            die("cannot become", "a subreaper");
        if (child > 0)
            return reap_all(child);
    }
    execv(argv[a + 1], &argv[a + 1]);
    die("cannot exec", argv[a + 1]);
    return 126;
}

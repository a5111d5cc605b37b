/* jail - set the limits a sandboxed run cannot undo, then exec the next program.
 *
 * Not a lesson: pylab/grading/bwrap.py puts it on both sides of bubblewrap.
 *   jail [-C CGROUP_PROCS]... [-u UID -g GID] [-r RES=N]... -- PROG ARGS..
 * Outside (as root): joins the submission's cgroups (pids, memory) by writing its own
 * pid to each cgroup.procs, so bwrap and all it starts are counted there, then drops
 * to the pool uid/gid. Inside (after bwrap made the namespaces): sets each rlimit with
 * hard = soft, so the program cannot raise it again. RLIMIT_NPROC must be set inside:
 * set before the user namespace exists, it would also cap the namespace's creator.
 * Any failure is fatal (exit 126 with one line on stderr): a jail that half-applied
 * its limits must not run the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

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
    static const struct { const char *name; int res; } names[] = {
        {"cpu", RLIMIT_CPU}, {"as", RLIMIT_AS}, {"fsize", RLIMIT_FSIZE},
        {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"core", RLIMIT_CORE},
        {"stack", RLIMIT_STACK}, {"data", RLIMIT_DATA}, {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"sigpending", RLIMIT_SIGPENDING},
    };
    const char *eq = strchr(spec, '=');
    for (size_t i = 0; eq && i < sizeof names / sizeof names[0]; i++) {
        if (strncmp(spec, names[i].name, (size_t)(eq - spec)) || names[i].name[eq - spec])
            continue;
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = strtoull(eq + 1, NULL, 10);
        if (setrlimit(names[i].res, &rl) < 0)
            die("cannot set limit", spec);
        return;
    }
    errno = EINVAL;
    die("unknown limit", spec);
}

int main(int argc, char *argv[])
{
    long uid = -1, gid = -1;
    int a = 1;

    for (; a + 1 < argc && strcmp(argv[a], "--"); a += 2) {
        if (!strcmp(argv[a], "-C"))
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
        fprintf(stderr, "usage: jail [-C PROCS].. [-u UID -g GID] [-r RES=N].. -- PROG ARGS..\n");
        return 2;
    }
    if (gid >= 0 && (setgroups(0, NULL) < 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0))
        die("cannot change gid", "");
    if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
        die("cannot change uid", "");
    /* no setuid binary, file capability or LSM transition can give anything back */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("cannot set", "no_new_privs");
    execv(argv[a + 1], &argv[a + 1]);
    die("cannot exec", argv[a + 1]);
    return 126;
}

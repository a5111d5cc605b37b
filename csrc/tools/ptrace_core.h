/* ptrace_core.h - the lab's outside tracer, shared by tracelog.c (around any command)
 * and supervise.c (-t: the supervisor's own tracer child, in the run's session).
 *
 * Not a lesson. seize() a process that waits to be traced, let it install_filter()
 * (a seccomp filter: only the calls the lab reads stop it) and exec, then trace_loop()
 * follows it and everything it creates: forks as ptrace events, the filtered calls at
 * their entry (and exit, for the result), signals, ends; stdiowatch's markers read from
 * its slot at the call that follows. Each event is a line in strace -f -ttt -xx's form
 * (the subset pylab/run/tracer.py parses), kept in memory: log_write(fd) writes it at
 * once. x86-64 only (it reads the registers of that ABI).
 * The first process seized names the run's stdout and stderr (what its fds 1 and 2 are,
 * as /proc shows them) in a "--- pylab-streams 1<..> 2<..> ---" line; a later write to fd 1
 * or 2 that points elsewhere (the process closed, dup2'd or reopened it) is logged as
 * strace -y would, "write(1</its/target>, ..."; one that reaches the run's stream is not.
 */
#ifndef PTRACE_CORE_H
#define PTRACE_CORE_H
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* seccomp and BPF, spelled out: musl's headers do not carry the kernel's <linux/...> */
struct bpf_insn { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct bpf_prog { unsigned short len; struct bpf_insn *filter; };
#define LD_ABS 0x20                         /* BPF_LD | BPF_W | BPF_ABS */
#define JEQ 0x15                            /* BPF_JMP | BPF_JEQ | BPF_K */
#define RET 0x06                            /* BPF_RET | BPF_K */
#define RET_ALLOW 0x7fff0000U
#define RET_TRACE 0x7ff00000U
#define ARCH_X86_64 0xc000003eU
#define EVENT(st) ((st) >> 16)

static const int traced[] = {SYS_execve, SYS_execveat, SYS_exit, SYS_exit_group, SYS_wait4,
                             SYS_waitid, SYS_kill, SYS_tkill, SYS_tgkill, SYS_unshare, SYS_setns};
#define NTRACED (int)(sizeof traced / sizeof traced[0])

static size_t limit = 1 << 16;             /* bytes of a write kept (strace's -s) */
static char *logbuf;                        /* the log, kept whole until the end: written with */
static size_t loglen, logcap;               /* one write, so lines of two writers never mix */

struct tracee {
    pid_t pid;
    int announced, held;                    /* its parent's fork logged; stopped until it is */
    int ns;                                 /* it, or an ancestor, may have left our PID namespace */
    unsigned long slot;                     /* where stdiowatch leaves its markers (0: nowhere) */
    long nr, args[6];                       /* the call stopped at its entry, or -1 */
    double t;
    char *text;                             /* what was read at the entry */
    char *fd_note;                          /* "<target>", \xHH-quoted, when a write's fd 1/2 points elsewhere */
};
static struct tracee *table;
static size_t cap, used;

static struct tracee *find(pid_t pid, int add)
{
    if (add && 2 * (used + 1) > cap) {      /* open addressing, kept under half full */
        struct tracee *old = table;
        size_t n = cap;
        cap = cap ? 2 * cap : 256;
        table = calloc(cap, sizeof *table);
        used = 0;
        for (size_t i = 0; i < n; i++)
            if (old[i].pid > 0)
                *find(old[i].pid, 1) = old[i];
        free(old);
    }
    for (size_t i = (size_t)pid & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (table[i].pid == pid)
            return &table[i];
        if (table[i].pid == 0) {
            if (!add)
                return NULL;
            used++;
            table[i] = (struct tracee){.pid = pid, .nr = -1};
            return &table[i];
        }
    }
}

static void drop(pid_t pid)                 /* remove, and close the gap it leaves */
{
    struct tracee *t = find(pid, 0);
    if (!t)
        return;
    free(t->text);
    free(t->fd_note);
    t->text = t->fd_note = NULL;
    size_t i = (size_t)(t - table), j = i, mask = cap - 1;
    table[i].pid = 0;
    used--;
    for (;;) {
        j = (j + 1) & mask;
        if (table[j].pid == 0)
            return;
        size_t k = (size_t)table[j].pid & mask;  /* where it would sit: leave it if that is in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        table[i] = table[j];
        table[j].pid = 0;
        i = j;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void line(pid_t pid, double t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(pid_t pid, double t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = logcap - loglen;
        int n = snprintf(logbuf + loglen, room, "%d %.6f ", (int)pid, t);
        if (n >= 0 && (size_t)n < room) {
            va_start(ap, fmt);
            int m = vsnprintf(logbuf + loglen + n, room - (size_t)n, fmt, ap);
            va_end(ap);
            if (m >= 0 && (size_t)(n + m) + 1 < room) {
                loglen += (size_t)(n + m);
                logbuf[loglen++] = '\n';
                return;
            }
        }
        logcap = logcap ? 2 * logcap + (size_t)(n > 0 ? n : 0) + limit * 4 : (1 << 16) + limit * 4;
        logbuf = realloc(logbuf, logcap);
        if (!logbuf)
            abort();
    }
}

static void log_write(int fd)               /* the whole log, at once */
{
    size_t done = 0;
    while (done < loglen) {
        ssize_t n = write(fd, logbuf + done, loglen - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    loglen = 0;
}

/* ---- names, as strace prints them -------------------------------------------------- */
static const char *const signames[] = {"0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP",
    "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",
    "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};

static const char *signame(long sig)
{
    static char buf[16];
    if (sig >= 0 && sig < (long)(sizeof signames / sizeof signames[0]))
        return signames[sig];
    snprintf(buf, sizeof buf, sig >= 32 && sig < 65 ? "SIGRT_%ld" : "%ld", sig >= 32 && sig < 65 ? sig - 32 : sig);
    return buf;
}

static const char *errname(long e)
{
    static const struct { int e; const char *name; } names[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"}, {EIO, "EIO"},
        {E2BIG, "E2BIG"}, {ENOEXEC, "ENOEXEC"}, {EBADF, "EBADF"}, {ECHILD, "ECHILD"},
        {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
        {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"},
        {ETXTBSY, "ETXTBSY"}, {EPIPE, "EPIPE"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {ELOOP, "ELOOP"},
        {ENOSYS, "ENOSYS"}, {ENOSPC, "ENOSPC"}, {EFBIG, "EFBIG"}
    };
    static char buf[16];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(buf, sizeof buf, "E%ld", e);
    return buf;
}

static const char *clone_flags(unsigned long f, int with_signal)
{
    static const char *const names[] = {"CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND",
        "CLONE_PIDFD", "CLONE_PTRACE", "CLONE_VFORK", "CLONE_PARENT", "CLONE_THREAD", "CLONE_NEWNS",
        "CLONE_SYSVSEM", "CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID",
        "CLONE_DETACHED", "CLONE_UNTRACED", "CLONE_CHILD_SETTID", "CLONE_NEWCGROUP", "CLONE_NEWUTS",
        "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_IO"};
    static char buf[512];
    size_t n = 0;
    buf[0] = 0;
    for (int b = 8; b < 32; b++)
        if (f & (1UL << b))
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "|" : "", names[b - 8]);
    if (with_signal && (f & 0xff))
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "|" : "", signame((long)(f & 0xff)));
    if (!n)
        strcpy(buf, "0");
    return buf;
}

/* ---- reading the tracee's memory ---------------------------------------------------- */
static size_t peek(pid_t pid, unsigned long addr, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {                     /* page by page: a read may stop at a hole */
        size_t room = 4096 - ((addr + got) & 4095), want = len - got < room ? len - got : room;
        struct iovec local = {(char *)buf + got, want}, remote = {(void *)(addr + got), want};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Append `len` bytes as strace -xx quotes them: "\x68\x69". */
static void quoted(char **out, size_t *n, size_t *room, const unsigned char *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (*n + 4 * len + 3 > *room) {
        *room = *n + 4 * len + 4096;
        *out = realloc(*out, *room);
    }
    char *p = *out + *n;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        *p++ = '\\', *p++ = 'x', *p++ = hex[data[i] >> 4], *p++ = hex[data[i] & 15];
    }
    *p++ = '"';
    *p = 0;
    *n = (size_t)(p - *out);
}

static void append(char **out, size_t *n, size_t *room, const char *s)
{
    size_t len = strlen(s);
    if (*n + len + 1 > *room) {
        *room = *n + len + 4096;
        *out = realloc(*out, *room);
    }
    memcpy(*out + *n, s, len + 1);
    *n += len;
}

static void string_at(pid_t pid, unsigned long addr, char **out, size_t *n, size_t *room)
{
    unsigned char buf[4096];
    size_t len = 0, got;
    char *all = NULL;
    /* a string may be longer than one read: gather it up to the limit, then quote it */
    for (;;) {
        got = peek(pid, addr + len, buf, sizeof buf);
        void *nul = memchr(buf, 0, got);
        size_t take = nul ? (size_t)((unsigned char *)nul - buf) : got;
        all = realloc(all, len + take + 1);
        memcpy(all + len, buf, take);
        len += take;
        if (nul || got < sizeof buf || len >= limit)
            break;
    }
    quoted(out, n, room, (unsigned char *)all, len < limit ? len : limit);
    free(all);
}

/* execve(path, argv, ..): "path", ["arg0", "arg1"] */
static char *exec_text(pid_t pid, unsigned long path, unsigned long argv)
{
    char *out = NULL;
    size_t n = 0, room = 0;
    unsigned long ptr;
    string_at(pid, path, &out, &n, &room);
    append(&out, &n, &room, ", [");
    for (int i = 0; i < 4096 && peek(pid, argv + 8UL * (unsigned long)i, &ptr, 8) == 8 && ptr; i++) {
        if (i)
            append(&out, &n, &room, ", ");
        string_at(pid, ptr, &out, &n, &room);
    }
    append(&out, &n, &room, "]");
    return out;
}

/* write(fd, buf, count) or writev(fd, iov, cnt): what strace prints between the fd and the end */
static char *write_text(pid_t pid, long nr, const long *a)
{
    char *out = NULL, num[64];
    size_t n = 0, room = 0, left = limit;
    unsigned char *buf = malloc(limit ? limit : 1);
    if (nr == SYS_write) {
        size_t len = (size_t)a[2] < limit ? (size_t)a[2] : limit;
        quoted(&out, &n, &room, buf, peek(pid, (unsigned long)a[1], buf, len));
        snprintf(num, sizeof num, ", %lu", (unsigned long)a[2]);
        append(&out, &n, &room, num);
    } else {
        struct iovec iov;
        append(&out, &n, &room, "[");
        for (long i = 0; i < a[2] && i < 1024 && peek(pid, (unsigned long)a[1] + i * sizeof iov, &iov, sizeof iov) == sizeof iov; i++) {
            size_t len = iov.iov_len < left ? iov.iov_len : left;
            append(&out, &n, &room, i ? ", {iov_base=" : "{iov_base=");
            len = peek(pid, (unsigned long)iov.iov_base, buf, len);
            quoted(&out, &n, &room, buf, len);
            left -= len;
            snprintf(num, sizeof num, ", iov_len=%zu}", iov.iov_len);
            append(&out, &n, &room, num);
        }
        snprintf(num, sizeof num, "], %ld", a[2]);
        append(&out, &n, &room, num);
    }
    free(buf);
    return out;
}

static const char *wait_options(long o)
{
    static char buf[96];
    size_t n = 0;
    static const struct { long bit; const char *name; } names[] = {{WNOHANG, "WNOHANG"}, {WSTOPPED, "WSTOPPED"},
        {WEXITED, "WEXITED"}, {WCONTINUED, "WCONTINUED"}, {WNOWAIT, "WNOWAIT"}, {__WALL, "__WALL"}};
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (o & names[i].bit)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "|" : "", names[i].name);
    return n ? buf : "0";
}

static const char *status_text(int s)
{
    static char buf[128];
    if (WIFEXITED(s))
        snprintf(buf, sizeof buf, "[{WIFEXITED(s) && WEXITSTATUS(s) == %d}]", WEXITSTATUS(s));
    else if (WIFSIGNALED(s))
        snprintf(buf, sizeof buf, "[{WIFSIGNALED(s) && WTERMSIG(s) == %s%s}]", signame(WTERMSIG(s)),
                 WCOREDUMP(s) ? " && WCOREDUMP(s)" : "");
    else if (WIFSTOPPED(s))
        snprintf(buf, sizeof buf, "[{WIFSTOPPED(s) && WSTOPSIG(s) == %s}]", signame(WSTOPSIG(s)));
    else
        snprintf(buf, sizeof buf, "[{WIFCONTINUED(s)}]");
    return buf;
}

static const char *code_name(int sig, int code)
{
    static char buf[16];
    static const char *const cld[] = {"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED",
                                      "CLD_STOPPED", "CLD_CONTINUED"};
    if (sig == SIGCHLD && code >= 1 && code <= 6)
        return cld[code - 1];
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    }
    snprintf(buf, sizeof buf, "%d", code);
    return buf;
}

/* "si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=N, si_uid=N, si_status=N" */
static const char *siginfo_text(const siginfo_t *si)
{
    static char buf[256];
    int n = snprintf(buf, sizeof buf, "si_signo=%s, si_code=%s", signame(si->si_signo),
                     code_name(si->si_signo, si->si_code));
    if (si->si_signo == SIGCHLD) {
        if (si->si_code == CLD_EXITED)
            snprintf(buf + n, sizeof buf - (size_t)n, ", si_pid=%d, si_uid=%d, si_status=%d", (int)si->si_pid,
                     (int)si->si_uid, si->si_status);
        else
            snprintf(buf + n, sizeof buf - (size_t)n, ", si_pid=%d, si_uid=%d, si_status=%s", (int)si->si_pid,
                     (int)si->si_uid, signame(si->si_status));
    } else if (si->si_code <= 0) {          /* sent by a process: kill, tkill, sigqueue */
        snprintf(buf + n, sizeof buf - (size_t)n, ", si_pid=%d, si_uid=%d", (int)si->si_pid, (int)si->si_uid);
    }
    return buf;
}

/* ---- stdiowatch's markers --------------------------------------------------------------- */
/* A marker left in the tracee's slot for the call it is stopped at: log it as the write
 * to fd -1 it stands for (strace's fallback sees that write itself), then empty the slot. */
static void take_marker(pid_t pid, unsigned long slot, double t)
{
    unsigned len = 0, zero = 0;
    if (!slot || peek(pid, slot, &len, sizeof len) != sizeof len || len == 0 || len > 8192)
        return;
    unsigned char *buf = malloc(len);
    char *out = NULL;
    size_t n = 0, room = 0;
    size_t got = peek(pid, slot + sizeof len, buf, len);
    quoted(&out, &n, &room, buf, got);
    line(pid, t, "write(-1, %s, %u) = ?", out, len);
    free(out);
    free(buf);
    struct iovec local = {&zero, sizeof zero}, remote = {(void *)slot, sizeof zero};
    process_vm_writev(pid, &local, 1, &remote, 1, 0);
}

static void forget_marker(pid_t pid, unsigned long slot)  /* a child's copy of its parent's slot */
{
    unsigned zero = 0;
    struct iovec local = {&zero, sizeof zero}, remote = {(void *)slot, sizeof zero};
    if (slot)
        process_vm_writev(pid, &local, 1, &remote, 1, 0);
}

/* ---- the calls, at their entry and exit ----------------------------------------------- */
static char streams[2][4096];               /* the run's stdout and stderr, as /proc names them */
static dev_t terminal;                      /* the run's stdout or stderr when it is a terminal (tty mode) */

/* What pid's fd points at ("pipe:[123]", "/dev/pts/0", a path); "" when it cannot be
 * read whole (a process gone, a name as long as the buffer): then it is not told apart */
static void fd_target(pid_t pid, int fd, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    ssize_t n = readlink(path, out, size - 1);
    out[n > 0 && (size_t)n < size - 1 ? n : 0] = 0;
}

/* pid's controlling terminal (tty_nr of /proc/PID/stat), 0 when it has none */
static dev_t controlling_tty(pid_t pid)
{
    char path[64], buf[1024], *close_paren;
    int tty = 0, fd;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    if ((close_paren = strrchr(buf, ')')))
        sscanf(close_paren + 1, " %*c %*d %*d %*d %d", &tty);
    return (dev_t)tty;
}

/* The run's terminal, if its stdout or stderr is one: what /dev/tty is for a process
 * whose controlling terminal it is (in tty mode, the supervisor takes it as the run's) */
static void note_terminal(pid_t pid)
{
    char path[64];
    struct stat st;
    for (int fd = 1; fd <= 2 && !terminal; fd++) {
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
        if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && !strncmp(streams[fd - 1], "/dev/pts/", 9))
            terminal = st.st_rdev;
    }
}

/* "<target>" with every byte \xHH-quoted, as strace -y -xx writes it: a file name may
 * hold a newline, '>' or a quote, and must not be read as more of the log */
static void bracketed(const char *target, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '<';
    for (const unsigned char *c = (const unsigned char *)target; *c && n + 6 < size; c++)
        out[n++] = '\\', out[n++] = 'x', out[n++] = hex[*c >> 4], out[n++] = hex[*c & 15];
    out[n++] = '>';
    out[n] = 0;
}

/* "<target>" (malloc'd) when pid's fd (1 or 2) no longer points at the run's stream, else NULL */
static char *note_fd(pid_t pid, int fd)
{
    char now[4096];
    if (fd != 1 && fd != 2)
        return NULL;
    fd_target(pid, fd, now, sizeof now);
    if (!now[0] || !streams[fd - 1][0] || !strcmp(now, streams[fd - 1]))
        return NULL;
    if (!strcmp(now, "/dev/tty") && terminal && controlling_tty(pid) == terminal)
        return NULL;                        /* its controlling terminal is the run's */
    size_t size = 4 * strlen(now) + 8;
    char *note = malloc(size);
    if (note)
        bracketed(now, note, size);
    return note;
}

static void resume(pid_t pid, int request, int sig)
{
    ptrace(request, pid, 0, (void *)(long)sig);
}

static void entry(struct tracee *tr)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tr->pid, 0, &r) < 0)
        return;
    long nr = (long)r.orig_rax, a[6] = {(long)r.rdi, (long)r.rsi, (long)r.rdx, (long)r.r10, (long)r.r8, (long)r.r9};
    tr->t = now();
    free(tr->text);
    tr->text = NULL;
    tr->nr = -1;
    if (nr == SYS_exit || nr == SYS_exit_group || nr == SYS_execve || nr == SYS_execveat)
        take_marker(tr->pid, tr->slot, tr->t);  /* (what _exit or exec left in stdout's buffer) */
    if (nr == SYS_exit || nr == SYS_exit_group) {
        line(tr->pid, tr->t, "%s(%d) = ?", nr == SYS_exit ? "exit" : "exit_group", (int)a[0]);
        resume(tr->pid, PTRACE_CONT, 0);
        return;
    }
    if (nr == SYS_unshare || nr == SYS_setns) {
        /* its next children may be in another PID namespace: their pids are then looked up */
        tr->ns |= nr == SYS_setns || (a[0] & 0x20000000 /* CLONE_NEWPID */);
        resume(tr->pid, PTRACE_CONT, 0);
        return;
    }
    if ((nr == SYS_write || nr == SYS_writev) && (int)a[0] == -1) {
        /* a stdiowatch marker: fd -1 always fails, and only its bytes matter */
        char where[64] = "";
        if (nr == SYS_write && a[2] > 17 && a[2] < 64 && peek(tr->pid, (unsigned long)a[1], where, 63) > 17 &&
            !strncmp(where, "pylab-stdio-slot ", 17)) {
            tr->slot = strtoul(where + 17, NULL, 16);   /* its markers will be in memory */
            resume(tr->pid, PTRACE_CONT, 0);
            return;
        }
        char *text = write_text(tr->pid, nr, a);
        line(tr->pid, tr->t, "%s(-1, %s) = ?", nr == SYS_write ? "write" : "writev", text);
        free(text);
        resume(tr->pid, PTRACE_CONT, 0);
        return;
    }
    if (nr == SYS_write || nr == SYS_writev) {
        tr->text = write_text(tr->pid, nr, a);
        free(tr->fd_note);
        tr->fd_note = note_fd(tr->pid, (int)a[0]);
    } else if (nr == SYS_execve)
        tr->text = exec_text(tr->pid, (unsigned long)a[0], (unsigned long)a[1]);
    else if (nr == SYS_execveat)
        tr->text = exec_text(tr->pid, (unsigned long)a[1], (unsigned long)a[2]);
    tr->nr = nr;
    memcpy(tr->args, a, sizeof a);
    resume(tr->pid, PTRACE_SYSCALL, 0);     /* stop again at its exit, for the result */
}

static void result(char *buf, size_t size, long ret)
{
    if (ret < 0 && ret > -4096)
        snprintf(buf, size, "-1 %s (%s)", errname(-ret), strerror((int)-ret));
    else
        snprintf(buf, size, "%ld", ret);
}

static void exec_line(struct tracee *tr, const char *ret)
{
    if (tr->nr == SYS_execveat)
        line(tr->pid, tr->t, "execveat(%d, %s, %p, %#lx) = %s", (int)tr->args[0], tr->text ? tr->text : "\"\", []",
             (void *)tr->args[3], (unsigned long)tr->args[4], ret);
    else
        line(tr->pid, tr->t, "execve(%s, %p) = %s", tr->text ? tr->text : "\"\", []", (void *)tr->args[2], ret);
}

static void leave(struct tracee *tr)
{
    struct user_regs_struct r;
    long *a = tr->args, nr = tr->nr;
    char ret[160];
    tr->nr = -1;
    if (nr < 0 || ptrace(PTRACE_GETREGS, tr->pid, 0, &r) < 0) {
        resume(tr->pid, PTRACE_CONT, 0);
        return;
    }
    double t = now();
    long rv = (long)r.rax;
    result(ret, sizeof ret, rv);
    if (nr == SYS_write || nr == SYS_writev) {
        line(tr->pid, tr->t, "%s(%d%s, %s) = %s", nr == SYS_write ? "write" : "writev", (int)a[0],
             tr->fd_note ? tr->fd_note : "", tr->text, ret);
        free(tr->fd_note);
        tr->fd_note = NULL;
    } else if (nr == SYS_execve || nr == SYS_execveat) {
        exec_line(tr, ret);                 /* (a successful exec was logged at its event) */
    } else if (nr == SYS_wait4) {
        int s;
        const char *st = a[1] && rv > 0 && peek(tr->pid, (unsigned long)a[1], &s, sizeof s) == sizeof s
                         ? status_text(s) : a[1] ? "0x0" : "NULL";
        line(tr->pid, t, "wait4(%d, %s, %s, %s) = %s", (int)a[0], st, wait_options(a[2]), a[3] ? "0x0" : "NULL", ret);
    } else if (nr == SYS_waitid) {
        static const char *const types[] = {"P_ALL", "P_PID", "P_PGID", "P_PIDFD"};
        siginfo_t si;
        const char *info = "NULL";
        char buf[300];
        if (a[2] && rv == 0 && peek(tr->pid, (unsigned long)a[2], &si, sizeof si) == sizeof si) {
            if (si.si_pid == 0)
                info = "{}";
            else {
                snprintf(buf, sizeof buf, "{%s}", siginfo_text(&si));
                info = buf;
            }
        }
        line(tr->pid, t, "waitid(%s, %d, %s, %s, NULL) = %s", a[0] >= 0 && a[0] < 4 ? types[a[0]] : "?",
             (int)a[1], info, wait_options(a[3]), ret);
    } else if (nr == SYS_kill || nr == SYS_tkill) {
        line(tr->pid, t, "%s(%d, %s) = %s", nr == SYS_kill ? "kill" : "tkill", (int)a[0], signame(a[1]), ret);
    } else if (nr == SYS_tgkill) {
        line(tr->pid, t, "tgkill(%d, %d, %s) = %s", (int)a[0], (int)a[1], signame(a[2]), ret);
    }
    free(tr->text);
    tr->text = NULL;
    resume(tr->pid, PTRACE_CONT, 0);
}

/* The pids of `pid` in each PID namespace it is in, ours first (/proc/PID/status NSpid). */
static int nspids(pid_t pid, long *out, int max)
{
    char path[64], buf[4096], *p;
    int fd, n = 0;
    ssize_t len;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    len = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[len > 0 ? len : 0] = 0;
    if (!(p = strstr(buf, "\nNSpid:")))
        return 0;
    for (p += 7; n < max && *p != '\n' && *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        out[n++] = v;
        p = end;
    }
    return n;
}

/* A fork, vfork or clone: log it (as strace does, in the parent, with the child's pid)
 * and let the child go, if its first stop came before this. A parent in another PID
 * namespace saw the child by that namespace's number: that is the call's value, and
 * ours is noted as strace --pidns-translation notes it. */
static void spawned(struct tracee *tr)
{
    struct user_regs_struct r;
    unsigned long msg = 0, nr = 0, flags = 0, cflags;
    uint64_t args[5] = {0};
    char value[96];
    ptrace(PTRACE_GETEVENTMSG, tr->pid, 0, &msg);
    if (ptrace(PTRACE_GETREGS, tr->pid, 0, &r) == 0)
        nr = r.orig_rax, flags = r.rdi;
    pid_t child = (pid_t)msg, parent = tr->pid;
    unsigned long slot = tr->slot;
    double t = now();
    take_marker(parent, slot, t);           /* what the fork copied (pthread_atfork's marker) */
    forget_marker(child, slot);
    if (nr == SYS_clone3)
        peek(parent, flags, args, sizeof args);
    cflags = nr == SYS_clone3 ? args[0] : nr == SYS_clone ? flags : 0;
    snprintf(value, sizeof value, "%d", (int)child);
    if (tr->ns) {
        long mine[32], theirs[32];
        int levels = nspids(parent, mine, 32), n = nspids(child, theirs, 32);
        if (levels > 0 && levels <= n && theirs[levels - 1] != child)
            snprintf(value, sizeof value, "%ld /* %d in strace's PID NS */", theirs[levels - 1], (int)child);
    }
    if (nr == SYS_fork || nr == SYS_vfork)
        line(parent, t, "%s() = %s", nr == SYS_fork ? "fork" : "vfork", value);
    else if (nr == SYS_clone3)
        line(parent, t, "clone3({flags=%s, exit_signal=%s}, %lu) = %s", clone_flags(args[0], 0),
             signame((long)args[4]), (unsigned long)r.rsi, value);
    else
        line(parent, t, "clone(child_stack=%#lx, flags=%s) = %s", (unsigned long)r.rsi, clone_flags(flags, 1), value);
    int ns = tr->ns || (cflags & 0x20000000 /* CLONE_NEWPID */);
    struct tracee *c = find(child, 1);      /* (the table may move: tr is not used after this) */
    c->announced = 1;
    c->ns = ns;
    c->slot = slot;
    if (c->held) {
        c->held = 0;
        resume(child, PTRACE_CONT, 0);
    }
    resume(parent, PTRACE_CONT, 0);
}

static void install_filter(void)
{
    struct bpf_insn f[16 + NTRACED];
    int n = 0, allow, fdcheck, trace;
    /* layout: arch check, nr loads and jumps, ALLOW, the fd check for writes, TRACE */
    allow = 5 + NTRACED;
    fdcheck = allow + 1;
    trace = fdcheck + 5;
    f[n++] = (struct bpf_insn){LD_ABS, 0, 0, 4};                               /* arch */
    f[n++] = (struct bpf_insn){JEQ, 0, (uint8_t)(allow - 2), ARCH_X86_64};
    f[n++] = (struct bpf_insn){LD_ABS, 0, 0, 0};                               /* nr */
    f[n] = (struct bpf_insn){JEQ, (uint8_t)(fdcheck - n - 1), 0, SYS_write}, n++;
    f[n] = (struct bpf_insn){JEQ, (uint8_t)(fdcheck - n - 1), 0, SYS_writev}, n++;
    for (int i = 0; i < NTRACED; i++, n++)
        f[n] = (struct bpf_insn){JEQ, (uint8_t)(trace - n - 1), 0, (uint32_t)traced[i]};
    f[n++] = (struct bpf_insn){RET, 0, 0, RET_ALLOW};
    f[n++] = (struct bpf_insn){LD_ABS, 0, 0, 16};                              /* args[0], low half */
    f[n] = (struct bpf_insn){JEQ, (uint8_t)(trace - n - 1), 0, 1}, n++;
    f[n] = (struct bpf_insn){JEQ, (uint8_t)(trace - n - 1), 0, 2}, n++;
    f[n] = (struct bpf_insn){JEQ, (uint8_t)(trace - n - 1), 0, 0xffffffffU}, n++;
    f[n++] = (struct bpf_insn){RET, 0, 0, RET_ALLOW};
    f[n++] = (struct bpf_insn){RET, 0, 0, RET_TRACE};
    struct bpf_prog prog = {(unsigned short)n, f};
    if (geteuid() != 0)
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);  /* what an unprivileged filter needs */
    if (prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &prog, 0, 0) < 0) {
        fprintf(stderr, "tracelog: seccomp filter: %s\n", strerror(errno));
        _exit(127);
    }
}

/* Follow every tracee until none is left; returns `root`'s exit status (128+N if
 * killed by signal N). `root` must be seized already, and announced. */
static int trace_loop(pid_t root)
{
    int st, code = 1;
    pid_t pid;
    while ((pid = waitpid(-1, &st, __WALL)) > 0 || (pid < 0 && errno == EINTR)) {
        if (pid < 0)
            continue;
        double t = now();
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (WIFEXITED(st))
                line(pid, t, "+++ exited with %d +++", WEXITSTATUS(st));
            else
                line(pid, t, "+++ killed by %s%s +++", signame(WTERMSIG(st)), WCOREDUMP(st) ? " (core dumped)" : "");
            if (pid == root)
                code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            drop(pid);
            continue;
        }
        if (!WIFSTOPPED(st))
            continue;
        struct tracee *tr = find(pid, 1);
        int sig = WSTOPSIG(st), ev = EVENT(st);
        if (ev == PTRACE_EVENT_SECCOMP)
            entry(tr);
        else if (sig == (SIGTRAP | 0x80))
            leave(tr);
        else if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE)
            spawned(tr);
        else if (ev == PTRACE_EVENT_EXEC) {
            /* the exec succeeded; no stop at its exit is needed any more */
            tr->t = t;
            tr->slot = 0;                   /* a new program: its library says where anew */
            exec_line(tr, "0");
            free(tr->text);
            tr->text = NULL;
            tr->nr = -1;
            resume(pid, PTRACE_CONT, 0);
        } else if (ev == PTRACE_EVENT_STOP) {
            if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                ptrace(PTRACE_LISTEN, pid, 0, 0);   /* a group-stop: stay stopped */
            else if (!tr->announced)
                tr->held = 1;               /* a new child, before its parent's fork event */
            else
                resume(pid, PTRACE_CONT, 0);
        } else if (ev == 0) {               /* a signal on its way in: log it, deliver it */
            siginfo_t si;
            if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0)
                line(pid, t, "--- %s {%s} ---", signame(sig), siginfo_text(&si));
            resume(pid, PTRACE_CONT, sig);
        } else
            resume(pid, PTRACE_CONT, 0);
    }
    return code;
}

/* Seize `pid` (not yet running what is to be traced: it waits for us) with the options
 * the loop reads; 0 on success. */
static int seize(pid_t pid)
{
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
               PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
               PTRACE_O_EXITKILL)) < 0)
        return -1;
    find(pid, 1)->announced = 1;
    if (!streams[0][0] && !streams[1][0]) {  /* the first process: its fds 1 and 2 are the run's */
        static char out[4 * 4096 + 8], err[4 * 4096 + 8];
        fd_target(pid, 1, streams[0], sizeof streams[0]);
        fd_target(pid, 2, streams[1], sizeof streams[1]);
        note_terminal(pid);
        bracketed(streams[0], out, sizeof out);
        bracketed(streams[1], err, sizeof err);
        line(pid, now(), "--- pylab-streams 1%s 2%s ---", out, err);
    }
    return 0;
}
#endif

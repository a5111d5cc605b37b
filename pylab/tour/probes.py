"""Tiny C probes the tour compiles and runs to observe what the seed's programs don't print.

Each probe is a few lines of C kept here as text: `build(name)` writes it to a temporary
file and compiles it with the lab's toolchain (cached by content hash), `run(name, ...)`
runs it supervised. `strace(argv)` runs a command under `strace -f` and returns the
system calls it saw, or the reason it could not.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pylab.run import runner, toolchain

SOURCES = {
    # the sizes and system-call numbers of this machine's C ABI
    "abi": r"""
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#ifndef SYS_fork
#define SYS_fork -1
#endif
#ifndef SYS_vfork
#define SYS_vfork -1
#endif
#ifndef SYS_clone3
#define SYS_clone3 -1
#endif
int main(void)
{
    printf("sizeof_pid_t=%zu sizeof_int=%zu pid_t_signed=%d sizeof_long=%zu\n",
           sizeof(pid_t), sizeof(int), (pid_t)-1 < 0, sizeof(long));
    printf("fork=%d vfork=%d clone=%d clone3=%d exit=%d exit_group=%d getpid=%d\n",
           SYS_fork, SYS_vfork, SYS_clone, SYS_clone3, SYS_exit, SYS_exit_group, SYS_getpid);
    return 0;
}
""",
    # fork's two return values; the parent waits first, so the order is fixed
    "forkret": r"""
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        printf("child returned=%d getpid=%d getppid=%d\n", pid, getpid(), getppid());
        return 0;
    }
    waitpid(pid, NULL, 0);
    printf("parent returned=%d getpid=%d\n", pid, getpid());
    return 0;
}
""",
    # children exit(N) for each N given; the parent's wait reads WEXITSTATUS
    "exitstatus": r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        int st;
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) exit(atoi(argv[i]));
        waitpid(pid, &st, 0);
        printf("exit%s=%d ", argv[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    printf("\n");
    return 0;
}
""",
    # fork until fork fails; children stay alive ("live") or are zombies ("zombie")
    "forklimit": r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char *argv[])
{
    int zombies = argc > 1 && strcmp(argv[1], "zombie") == 0, made = 0, err = 0, fds[2];
    siginfo_t si;
    if (pipe(fds) < 0) { perror("pipe"); return 1; }
    for (made = 0; made < 200; made++) {
        pid_t pid = fork();
        if (pid < 0) { err = errno; break; }
        if (pid == 0) {                 /* live: block until the parent closes the pipe */
            char c;
            close(fds[1]);
            if (!zombies) (void)!read(fds[0], &c, 1);
            _exit(0);
        }
        if (zombies)                    /* be sure it has exited (and is not reaped) */
            waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    }
    printf("made=%d mode=%s errno=%s\n", made, zombies ? "zombie" : "live",
           err ? strerrorname_np(err) : "none");
    fflush(stdout);
    close(fds[1]);
    while (wait(NULL) > 0) {}
    return 0;
}
""",
    # system() and the shell it runs: how do they create processes?
    "system": r"""
#include <stdlib.h>
int main(void)
{
    return system("/bin/true; /bin/true");
}
""",
    # fork under an address-space limit that leaves no room for more memory
    "memfork": r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1) { perror("statm"); return 1; }
    fclose(f);
    struct rlimit rl = { pages * sysconf(_SC_PAGESIZE) + (16 << 20), RLIM_INFINITY };
    rl.rlim_max = rl.rlim_cur;
    if (setrlimit(RLIMIT_AS, &rl) < 0) { perror("setrlimit"); return 1; }
    void *p = malloc(64 << 20);
    printf("limit=%lu malloc64M=%s\n", (unsigned long)rl.rlim_cur, p ? "ok" : strerrorname_np(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    printf("fork=%s\n", pid > 0 ? "ok" : strerrorname_np(errno));
    if (pid > 0) waitpid(pid, NULL, 0);
    return 0;
}
""",
    # a signal sent to a process group reaches every process in it
    "pgroup": r"""
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
""",
    # children in the states the lab can make: R (spinning), S (pause), T (SIGSTOP),
    # t (stopped under ptrace), Z (exited, not reaped); all killed and reaped after a line
    "states": r"""
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    pid_t kids[5]; int st; siginfo_t si; char line[8];
    for (int i = 0; i < 5; i++) {
        if ((kids[i] = fork()) < 0) { perror("fork"); return 1; }
        if (kids[i] > 0) continue;
        if (i == 0) for (;;) {}                         /* R: always runnable */
        if (i == 1 || i == 2) for (;;) pause();         /* S; T once stopped below */
        if (i == 3) {                                   /* t: stopped for its tracer */
            if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) _exit(2);
            raise(SIGSTOP);
        }
        _exit(0);                                       /* Z */
    }
    kill(kids[2], SIGSTOP);
    waitpid(kids[2], &st, WUNTRACED);                   /* it has stopped */
    waitpid(kids[3], &st, WUNTRACED);                   /* the tracer sees its stop */
    int traced = WIFSTOPPED(st);
    waitid(P_PID, kids[4], &si, WEXITED | WNOWAIT);     /* exited, left unreaped */
    printf("R=%d S=%d T=%d t=%d Z=%d traceme=%s\n", kids[0], kids[1], kids[2], kids[3],
           kids[4], traced ? "ok" : "failed");
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    for (int i = 0; i < 5; i++) kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {}
    return 0;
}
""",
    # a child burns 20 ms of CPU and exits; it stays a zombie until a line arrives on
    # stdin, then wait4 reaps it and prints the CPU time the parent collected
    "cpuzombie": r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char *argv[])
{
    int code = argc > 1 ? atoi(argv[1]) : 7, st; siginfo_t si; struct rusage ru; char line[8];
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        clock_t end = clock() + CLOCKS_PER_SEC / 50;    /* 20 ms of its own CPU time */
        volatile unsigned long n = 0;
        while (clock() < end) n++;
        _exit(code);
    }
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);         /* exited, left unreaped */
    printf("zombie=%d\n", pid);
    fflush(stdout);
    (void)!fgets(line, sizeof line, stdin);
    if (wait4(pid, &st, 0, &ru) != pid) { perror("wait4"); return 1; }
    printf("reaped=%d exit_code=%d utime_us=%ld stime_us=%ld clk_tck=%ld\n", pid,
           WEXITSTATUS(st), ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
           ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, sysconf(_SC_CLK_TCK));
    return 0;
}
""",
}


def build(name: str) -> Path:
    """Compile the probe `name` (cached by content) and return its binary."""
    with tempfile.TemporaryDirectory(prefix="pylab-probe-") as d:
        src = Path(d) / f"probe_{name}.c"
        src.write_text(SOURCES[name])
        return toolchain.build(src, flags=(*toolchain.FLAGS, "-Werror"))


def run(name: str, args=(), **kw) -> runner.RunResult:
    return runner.run([build(name), *args], **kw)


@contextmanager
def readable_copy(binary: Path):
    """A copy of `binary` in a fresh directory any uid can read and execute (the cache
    may not be), removed afterwards."""
    d = tempfile.mkdtemp(prefix="pylab-probe-")
    try:
        os.chmod(d, 0o755)
        copy = Path(d) / binary.name
        shutil.copy(binary, copy)
        os.chmod(copy, 0o755)
        yield copy
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fields(text: str) -> dict[str, str]:
    """key=value words of a probe's output, as a dict."""
    return dict(re.findall(r"(\w+)=(\S+)", text))


@dataclass
class Trace:
    """What `strace -f` saw: available=False (with why) when it could not trace."""

    available: bool
    why: str = ""
    calls: list[str] = field(default_factory=list)  # syscall names in order, all processes
    numbers: dict[str, int] = field(default_factory=dict)  # name -> number, as strace -n saw
    lines: list[str] = field(default_factory=list)
    result: runner.RunResult | None = None

    def names(self) -> set[str]:
        return set(self.calls)


# "PID [ NR] name(" with the pid (strace -f -o) and the number (strace -n) optional
_CALL = re.compile(r"^(?:\d+\s+)?(?:\[\s*(\d+)\]\s+)?([a-z_0-9]+)\(")


def strace_path() -> str | None:
    return shutil.which("strace")


def strace(argv, trace: str = "process", mode: str = "pipe") -> Trace:
    """Run argv under `strace -f -n -e trace=TRACE` (-n: syscall numbers, strace >= 5.15;
    retried without it on an older strace) and list the calls it saw."""
    exe = strace_path()
    if exe is None:
        return Trace(False, "strace is not installed (Debian: apt-get install strace)")
    for numbered in (["-n"], []):
        with tempfile.TemporaryDirectory(prefix="pylab-strace-") as d:
            log = Path(d) / "trace"
            r = runner.run([exe, "-f", "-qq", *numbered, "-o", str(log), "-e", f"trace={trace}",
                            *map(str, argv)], mode=mode)
            text = log.read_text() if log.exists() else ""
        if text.strip():
            break
    else:
        why = (r.stderr_text.strip().splitlines() or [r.describe()])[-1]
        return Trace(False, f"strace could not trace: {why}", result=r)
    lines = text.splitlines()
    found = [m for m in map(_CALL.match, lines) if m]
    return Trace(True, calls=[m.group(2) for m in found], lines=lines, result=r,
                 numbers={m.group(2): int(m.group(1)) for m in found if m.group(1)})

"""The claims of seeds/processes.md about what fork copies, what exit and _exit clean up,
when stdio writes its buffers, what wait and waitpid do, and what fork and exec are
(library functions or system calls). Same shape as every claim module."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import re
import shutil
import tempfile

from pylab.run import toolchain
from pylab.run.runner import run_program
from pylab.tour import probes
from pylab.tour.exit import PLAIN_ENV, observe_wait
from pylab.tour.processes import SEED
from pylab.tour.shape import ClaimList, Finding, unverified

CLAIMS = ClaimList()
SYSCALL_HEADERS = ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h",
                   "/usr/include/aarch64-linux-gnu/asm/unistd.h", "/usr/include/asm-generic/unistd.h")


def observe_forkdiff() -> dict:
    with tempfile.TemporaryDirectory(prefix="pylab-forkdiff-") as d:
        out = probes.run("forkdiff", [os.path.join(d, "lock")]).stdout_text
    return {who: probes.fields(line) for who, _, line in (ln.partition(" ") for ln in out.splitlines())}


@CLAIMS.claim("fork-differs-only-pid", SEED, "Parent and child differ only in their PID and in the value "
              "fork returned (pid)", observe=observe_forkdiff)
def judge_forkdiff(seen: dict) -> Finding:
    parent, child = seen.get("parent", {}), seen.get("child", {})
    evidence = {"parent": parent, "child": child}
    if not parent or not child:
        raise RuntimeError(f"the forkdiff probe printed {seen}")
    differ = {k: (parent[k], child[k]) for k in ("ppid", "pending_usr1", "alarm_left", "cpu_ms")
              if parent[k] != child[k]}
    if child["lock_held_by_other"] == parent["pid"]:
        differ["record lock"] = ("held", f"not inherited (held by the parent, {parent['pid']})")
    evidence["differ besides the PID (parent, child)"] = differ
    if differ:
        return Finding("refuted", evidence, documentation="fork(2) lists what the child does not inherit: "
                       "PPID, pending signals, timers, record locks, resource usage, and more")
    return Finding("confirmed", evidence)


@CLAIMS.claim("exit-clears-pcb", SEED, "exit and _exit clear the process's data structures, the PCB "
              "included, and end it", observe=observe_wait)
def judge_exit_clears(seen: dict) -> Finding:
    evidence = {"after its exit, before the parent's wait": seen["state before wait"],
                "after the parent's wait": seen["after wait"], "wait returned": seen["wait returned"]}
    if seen["state before wait"] == "Z" and seen["after wait"] == "gone":
        evidence["so"] = ("the process-table entry stays after exit, as the zombie with its exit status, "
                          "until the parent's wait removes it")
        return Finding("refuted", evidence)
    return Finding("confirmed", evidence)


def observe_integrity() -> dict:
    binary = toolchain.find("exit2").build()
    t = probes.strace([binary], trace="write,fsync,fdatasync,sync,syncfs,exit_group", mode="file")
    return {"strace exit2 (stdout a file)": t.data(),
            "fork_stdio stdout": {m: run_program("fork_stdio", mode=m, env=PLAIN_ENV).stdout_text for m in ("pipe", "file")}}


@CLAIMS.claim("exit-guarantees-integrity", SEED, "To guarantee the integrity of data, use exit() (not _exit)",
              observe=observe_integrity)
def judge_integrity(seen: dict) -> Finding:
    trace = seen["strace exit2 (stdout a file)"]
    dup = {m: out.count("before fork") for m, out in seen["fork_stdio stdout"].items()}
    evidence = {"fork_stdio: 'before fork' lines printed (one printf)": dup}
    if not trace["available"]:
        return unverified(f"strace: whether exit syncs to disk was not seen ({trace['why']})", evidence)
    calls = trace["calls"]
    evidence["strace exit2, stdout a file"] = [c for c in calls]
    synced = any(c in ("fsync", "fdatasync", "sync", "syncfs") for c in calls)
    cond = []
    if not synced:
        cond.append("for stdio's buffers only, and only as far as the kernel: exit() handed them to the kernel with "
                    "write() and called no fsync (strace), so the data is not guaranteed to be on disk")
    if any(n > 1 for n in dup.values()):
        cond.append("and not after fork: a child's exit wrote the parent's unflushed buffer a second time "
                    "(one printf, " + " and ".join(f"{n} 'before fork' lines on a {m}" for m, n in dup.items()) + ")")
    if cond:
        return Finding("qualified", evidence, "; ".join(cond))
    return Finding("confirmed", evidence)


FLUSH_EVENTS = {"write(1": "write", "writev(1": "write", "read(0": "read", "getppid(": "marker"}


def _prompt_order(binary, mode: str) -> dict:
    """The prompt probe under strace: its writes to stdout, its read, the marker, in order."""
    t = probes.strace([binary], trace="read,write,writev,getppid", mode=mode, stdin=b"lab\n")
    if not t.available:
        return {"available": False, "why": t.why}
    order = [next(e for k, e in FLUSH_EVENTS.items() if k in ln) for ln in t.lines
             if any(k in ln for k in FLUSH_EVENTS)]
    return {"available": True, "order": order}


def _musl_prompt() -> dict:
    """The same probe built against musl (musl-gcc), on a terminal: another C library's
    answer to the same reads and writes, where musl-gcc is installed."""
    if shutil.which("musl-gcc") is None:
        return {"available": False, "why": "musl-gcc is not installed (Debian: apt-get install musl-tools)"}
    try:
        binary = toolchain.build(probes.source("prompt"), flags=(*toolchain.FLAGS, "-Werror"), cc="musl-gcc")
    except toolchain.ToolchainError as e:  # another C library is extra evidence: its absence stops nothing
        return {"available": False, "why": f"musl-gcc could not build the probe: {e}"}
    return _prompt_order(binary, "tty")


def observe_flush_triggers() -> dict:
    binary = probes.build("prompt")
    return {**{m: _prompt_order(binary, m) for m in ("tty", "pipe")}, "libc": " ".join(platform.libc_ver()),
            "musl, stdout = tty": _musl_prompt()}


def _newline_written(order: list[str]) -> bool | None:
    """Was the line after the read ("hello\n") written before the marker call? None: no marker seen."""
    if "marker" not in order or "read" not in order:
        return None
    return "write" in order[order.index("read"):order.index("marker")]


@CLAIMS.claim("stdio-flushes-on-newline", SEED, "stdio writes its buffer out when it fills or on certain "
              "characters, such as the newline and EOF", observe=observe_flush_triggers)
def judge_flush_triggers(seen: dict) -> Finding:
    """The newline: 'hello\n' written before the marker on a terminal (line-buffered) and on
    a pipe (fully buffered). What else flushes (glibc's write before a read; musl's not) is
    evidence, not a condition of the seed's claim."""
    modes = ("tty", "pipe")
    evidence = {f"prompt probe, stdout = {m}: its writes, its read, the marker after 'hello\\n', in order":
                seen[m].get("order", seen[m]) for m in modes}
    if not all(seen[m]["available"] for m in modes):
        return unverified("strace: the order of the prompt's write and the read was not seen", evidence)
    doc = ("C11 7.21.3: a line-buffered stream's characters are intended to be transmitted when a new-line is "
           "met, and when input is requested on an unbuffered stream or on a line-buffered one that needs "
           "characters from the host environment ('intended': not required); glibc's libio "
           "(_IO_new_file_underflow) flushes a line-buffered stdout before it reads a line-buffered or unbuffered "
           "stream; setvbuf(3); EOF is a condition a read reports, not a character stdio buffers")
    libc = seen.get("libc") or "this C library"
    musl = seen.get("musl, stdout = tty", {"available": False, "why": "not tried"})
    tty, pipe = seen["tty"]["order"], seen["pipe"]["order"]
    if tty[:1] == ["write"] and pipe[:1] == ["read"]:
        also = (f"with {libc}, a read from a line-buffered input (a terminal's stdin, set line-buffered) wrote a "
                "line-buffered stdout out first: the prompt without a newline was written before the read, on the "
                "terminal only")
        if musl.get("available"):
            evidence["the prompt probe built with musl (musl-gcc), stdout = tty"] = musl["order"]
            if musl["order"][:1] == ["read"]:
                also += "; the same probe built with musl read first and wrote the prompt only with 'hello\\n'"
        else:
            evidence["the prompt probe built with musl"] = f"not run: {musl.get('why')}"
        evidence["and"] = also
    nl_tty, nl_pipe = _newline_written(tty), _newline_written(pipe)
    if nl_tty is None or nl_pipe is None:
        return unverified("the marker call after 'hello\\n': whether the newline wrote it out was not seen",
                          evidence)
    if nl_tty and not nl_pipe:
        return Finding("qualified", evidence, "the newline flushes only a line-buffered stream: on the terminal "
                       "'hello\\n' was written at its newline, before the next call; on a pipe only at exit",
                       documentation=doc)
    if nl_tty and nl_pipe:
        return Finding("confirmed", evidence, documentation=doc)
    return Finding("refuted", evidence, documentation=doc)


def observe_waits() -> dict:
    return {"waitid_peek": run_program("waitid_peek", stdin=b"\n").lines,
            "sigchld_ignore": run_program("sigchld_ignore", stdin=b"\n\n\n").lines, "wait": observe_wait()}


@CLAIMS.claim("wait-and-waitpid-reap", SEED, "wait and waitpid both collect what a zombie left and make it "
              "disappear; that is how zombies end", observe=observe_waits)
def judge_waits(seen: dict) -> Finding:
    peek, ignore, w = seen["waitid_peek"], seen["sigchld_ignore"], seen["wait"]
    evidence = {"waitpid on a zombie": w, "waitid_peek": peek, "sigchld_ignore": ignore}
    if not (w["state before wait"] == "Z" and w["after wait"] == "gone"):
        return Finding("refuted", evidence)
    peeked = sum("(WNOWAIT)" in ln and "state Z" in ln for ln in peek) >= 2
    no_zombie = sum(ln == "child ended: state -" for ln in ignore) >= 1
    if peeked:  # another call than the two the seed names: what it shows is evidence
        evidence["and"] = ("waitid, a third call, need not reap: with WNOWAIT it read the zombie's status twice and "
                           "left it a zombie")
    if no_zombie:
        return Finding("qualified", evidence, "the parent keeps SIGCHLD's default: with SIGCHLD ignored (SIG_IGN) "
                       "or SA_NOCLDWAIT no zombie was left for wait to collect, the kernel reaped the child itself, "
                       "and wait failed with ECHILD")
    return Finding("confirmed", evidence)


# what read_syscall_table reads: the headers installed for compiling programs, which may
# differ from the running kernel's own table (another kernel version, or none installed)
HEADERS_TABLE = "system-call numbers in the installed kernel headers (not read from the running kernel)"


def read_syscall_table(paths=SYSCALL_HEADERS) -> dict:
    """__NR_ numbers of fork, clone, exec* from the first installed asm/unistd header."""
    for path in paths:
        try:
            with open(path) as f:
                found = dict(re.findall(r"#define\s+__NR_(\w+)\s+(\d+)", f.read()))
        except OSError:
            continue
        return {"header": path, **{n: int(found[n]) if n in found else None
                                   for n in ("fork", "clone", "clone3", "execve", "execveat", "execl", "execvp")}}
    return {"header": None}


LIBRARY_CALLS = ("fork", "execl", "execvp", "execve")


def declared_by(symbol: str, posix: bool) -> str:
    """Build the isoc probe with -std=c11 naming `symbol`: every ISO C header, and
    <unistd.h> too when `posix`. 'declared' or 'undeclared' (or why it could not tell)."""
    flags = (*toolchain.FLAGS, "-Werror", "-std=c11", f"-DSYMBOL={symbol}", *(("-DPOSIX",) if posix else ()))
    try:
        toolchain.build(probes.source("isoc"), flags=flags)
    except toolchain.CompileError as e:
        return "undeclared" if f"'{symbol}' undeclared" in e.output.replace("\u2018", "'").replace("\u2019", "'") \
            else f"could not tell: {e}"
    return "declared"


def observe_fork_exec() -> dict:
    t = probes.strace([toolchain.find("exec_demo").build()], trace="process")
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        exported = {name: hasattr(libc, name) for name in LIBRARY_CALLS}
    except OSError as e:
        exported = {"unavailable": str(e)}
    return {"table": read_syscall_table(),
            "strace exec_demo": sorted({c for c in t.calls if c.startswith("exec") or c in ("clone", "clone3", "fork")})
            if t.available else t.why,
            "C library": " ".join(platform.libc_ver()), "the C library exports": exported,
            "declared by the ISO C11 headers (-std=c11)": {n: declared_by(n, False) for n in ("fork", "execl")},
            "declared with <unistd.h> (POSIX) added": {n: declared_by(n, True) for n in ("fork", "execl")}}


@CLAIMS.claim("fork-exec-library", SEED, "fork is a Linux library function; exec is a family of C standard "
              "library functions", observe=observe_fork_exec)
def judge_fork_exec(seen: dict) -> Finding:
    """Library functions: the C library exports them (each a wrapper over a system call,
    as strace shows). 'C standard library': ISO C's headers declare neither (while
    <unistd.h> does), so it holds only for the system's C library, not ISO C's."""
    table, exported = seen["table"], seen["the C library exports"]
    iso, posix = seen["declared by the ISO C11 headers (-std=c11)"], seen["declared with <unistd.h> (POSIX) added"]
    libc = seen.get("C library") or "this C library"
    evidence = {f"{libc} exports (libc.so, ctypes)": exported, "system calls exec_demo made (strace)": seen["strace exec_demo"],
                "declared by the ISO C11 headers alone (-std=c11)": iso, "declared with <unistd.h> (POSIX) added": posix,
                HEADERS_TABLE: table}
    doc = ("exec* and fork are POSIX (<unistd.h>), not ISO C: ISO C's library has system(), not fork or exec; "
           "glibc's fork() is a wrapper over clone, execl/execvp/... call execve")
    if "unavailable" in exported:
        return unverified(f"the C library's exports ({exported['unavailable']})", evidence)
    if not (exported.get("fork") and exported.get("execl") and exported.get("execve")):
        return Finding("refuted", evidence, documentation=doc)  # not functions of the C library at all
    if set(iso.values()) == {"declared"}:
        return Finding("confirmed", evidence, documentation=doc)  # ISO C's headers declare them
    if set(iso.values()) != {"undeclared"} or set(posix.values()) != {"declared"}:
        return unverified("whether ISO C declares them: the -std=c11 builds did not tell (" + "; ".join(
            f"{n}: {v}" for n, v in {**iso, **posix}.items() if v not in ("declared", "undeclared")) + ")", evidence)
    calls = seen["strace exec_demo"]
    wraps = (f", each a wrapper around a system call (exec_demo made {' and '.join(calls)} under strace)"
             if isinstance(calls, list) and calls else "")
    return Finding("qualified", evidence, f"'C standard library' means the system's C library ({libc}), not ISO C's: "
                   f"fork, execl, execvp and execve are functions {libc} exports{wraps}; a program that includes every "
                   "ISO C11 header (-std=c11) has neither fork nor execl declared, and with <unistd.h> (POSIX) it has "
                   "both", documentation=doc)

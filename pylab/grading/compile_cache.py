"""Compiled submissions, kept by everything the compile could see.

Inside the bubblewrap sandbox a submission's file is compiled in a folder of its own,
made fresh for that compile: src/NAME.c, include/ (the lab's headers), bin/ and work/,
mounted at /box; the rest of its view is the system's read-only folders and a private
/tmp. Its result is therefore a function of: the file's bytes, the lab's headers, the
exact command line and the limits it ran under (the supervisor's own arguments, which a
compile can read in /proc/1/cmdline), the compiler (its path, version and the stat of
its programs and of the system's package database, which changes with any upgrade of
gcc, binutils or libc's headers) and the lab's own code that builds the compile. The
key is a SHA-256 of all of it, so a changed byte anywhere misses.

Stored: the binary (copied into each run's sandbox fresh), or a compile error's text,
but only an error that the same compile always gives: gcc's exit status 1, on time,
with nothing cut, and no word of a resource running out (memory, processes: a limit
shared with the submission's runs could cause those). Never a time-out.

The folder is the grader's, PYLAB_CACHE/grading-compiles, mode 0700, never followed
through a link, and used only when student code runs in namespaces: there the
compile's folder and the cache are outside anything the sandbox can see. Without
namespaces (containment "uid" or "none") nothing is looked up or stored.
PYLAB_COMPILE_CACHE=off turns it off; PYLAB_COMPILE_CACHE=/a/folder keeps it there
(an absolute path: the same rules hold for it).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import pylab
from pylab.run import toolchain

ENV_SWITCH = "PYLAB_COMPILE_CACHE"
FORMAT = b"pylab-grading-compile-cache-1"
MAX_ENTRIES = 2000  # past it (or past MAX_BYTES), the least recently used are removed
MAX_BYTES = 256 << 20
BINARY_CAP = 64 << 20  # the compile's own fsize limit: the most a compile's output is read
STORE_CAP = 2 << 20  # a larger result is not kept (a student's binary is some 20-100 KiB)
# what a compile that stopped for want of a resource says (a limit shared with the runs)
_RESOURCE = re.compile(r"memory|Resource temporarily|cannot fork|vfork|Killed|signal|terminated|"
                       r"No space|File too large|Too many open files", re.I)
_stores = 0
_lock = threading.Lock()


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "").lower() not in ("off", "0", "no", "false")


def folder() -> Path | None:
    """The cache folder, made if needed; None when it is not ours alone (then no cache)."""
    chosen = os.environ.get(ENV_SWITCH, "")
    path = Path(chosen) if os.path.isabs(chosen) else toolchain.cache_dir().parent / "grading-compiles"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        st = os.lstat(path)
        above = os.lstat(path.parent)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    # and nobody else may swap the folder for a link: its parent is ours (or root's), and
    # only its owner may rename in it (not writable by others, or sticky like /tmp)
    if above.st_uid not in (os.geteuid(), 0) or (above.st_mode & 0o022 and not above.st_mode & stat.S_ISVTX):
        return None
    return path


def _stat_of(path: str | None) -> list:
    if not path:
        return [None]
    try:
        st = os.stat(path)
    except OSError:
        return [path, None]
    return [os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode]


@functools.lru_cache(maxsize=8)
def _compiler_words(path: str, stamp: tuple) -> tuple:
    """What the compiler says of itself (version, target, where its programs are);
    asked once per compiler binary (stamp: its stat)."""
    ask = ["-dumpfullversion", "-dumpmachine", "-print-prog-name=cc1", "-print-prog-name=as",
           "-print-prog-name=collect2", "-print-prog-name=ld", "-print-file-name=libc.so.6",
           "-print-file-name=crt1.o"]
    words = []
    for flag in ask:
        try:
            out = subprocess.run([path, flag], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        words.append(out)
    return tuple(words)


def compiler_identity(path: str) -> list:
    """The compiler's identity: its path and stat, its words, the stat of each program it
    runs, and of the package database (an upgrade of any of them changes it)."""
    real = os.path.realpath(path)
    stamp = tuple(_stat_of(real))
    words = _compiler_words(real, stamp)
    progs = [_stat_of(shutil.which(w) if w and "/" not in w else w) for w in words[2:]]
    return [path, stamp, words, progs, _stat_of("/var/lib/dpkg/status")]


@functools.lru_cache(maxsize=1)
def _lab_digest() -> str:
    """The lab's code that makes a compile's command and view: the Python that builds
    it and the tools it runs under."""
    h = hashlib.sha256(pylab.__version__.encode())
    here = Path(__file__).resolve().parent
    for f in [here / "sandbox.py", here / "bwrap.py", here / "compile_cache.py",
              *sorted((here.parent / "run").glob("*.py"))]:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    for tool in ("supervise", "jail"):
        h.update(Path(toolchain.tool(tool)).read_bytes())
    return h.hexdigest()


def key(argv: list[str], files: dict[str, bytes], settings: dict) -> str:
    """The key of one compile: argv as run, every file of its folder (path -> bytes),
    the settings it ran under (limits, environment, view), the compiler and the lab."""
    h = hashlib.sha256(FORMAT)
    head = {"argv": argv, "settings": settings, "compiler": compiler_identity(argv[0]), "lab": _lab_digest()}
    h.update(json.dumps(head, sort_keys=True, default=str).encode() + b"\0")
    for name in sorted(files):
        data = files[name]
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _read(path: Path, cap: int) -> bytes | None:
    """A file's bytes, never through a link (symbolic or hard), regular and ours only."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        # one name only: a hard link to someone else's file of ours is not an entry
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap or st.st_uid != os.geteuid() or st.st_nlink != 1:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(cap + 1)
        return data if len(data) <= cap else None
    finally:
        os.close(fd)


def lookup(k: str) -> tuple[str, bytes] | None:
    """("binary", bytes) or ("error", the compiler's text as bytes), or None: a miss."""
    where = folder() if enabled() else None
    if where is None:
        return None
    for kind in ("binary", "error"):
        path = where / f"{k}.{kind}"
        data = _read(path, STORE_CAP)
        if data is not None:
            try:
                os.utime(path, follow_symlinks=False)  # recently used
            except OSError:
                pass
            return kind, data
    return None


def cacheable_error(exit_code: int | None, timed_out: bool, truncated: bool, text: str) -> bool:
    """Is this compile error one the same compile always gives?"""
    return exit_code == 1 and not timed_out and not truncated and not _RESOURCE.search(text)


def store(k: str, kind: str, data: bytes) -> None:
    """Keep one result (atomically: a reader sees all of it or nothing)."""
    global _stores
    where = folder() if enabled() else None
    if where is None or kind not in ("binary", "error") or len(data) > STORE_CAP:
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".new-", dir=where)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, where / f"{k}.{kind}")
    except OSError:  # a full disk, a folder made read-only: the grade goes on uncached
        return
    finally:  # (after the replace there is nothing left to remove)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    with _lock:
        _stores += 1
        due = _stores % 64 == 1  # a process's first store, then every 64th: a grader started
    if due:                      # once per submission prunes too
        try:
            prune(where)
        except OSError:
            pass


def prune(where: Path, keep: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Remove the least recently used entries past `keep` of them or `max_bytes` in all."""
    entries = []
    for p in where.iterdir():
        try:
            st = os.lstat(p)
        except OSError:
            continue
        entries.append((st.st_mtime_ns, st.st_size, p))
    entries.sort(reverse=True)
    total = 0
    for n, (_, size, p) in enumerate(entries):
        total += size
        if n >= keep or total > max_bytes:
            try:
                os.unlink(p)
            except OSError:
                pass

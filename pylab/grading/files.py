"""Writing report files: atomically, so a reader never sees half a file; a device in place.

A path under /dev/ (but not /dev/shm/ or /dev/mqueue/, which are ordinary world-writable
folders) or /proc/self/fd/ names a device or one of this process's open files:
`--junit /dev/null`, `--results /dev/stdout`. It is written in place (opened, or for
one of this process's descriptors a copy of it), never replaced (as root, a rename would
put a regular file where the device node or the /dev/stdout link was), and nothing is
created there. Every other path is written to a
temp file beside it, then renamed over it: whatever was there, a link or a FIFO a
student planted included, is replaced, never written through (nor waited on)."""
from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
import tempfile
from pathlib import Path

IN_PLACE = ("/dev/", "/proc/self/fd/")
NOT_IN_PLACE = ("/dev/shm/", "/dev/mqueue/")  # tmpfs folders anyone may write in: written atomically
NAME_MAX = 255  # bytes in one file name (every Linux file system the grader writes to)


def _under_devices(full: str) -> bool:
    roots = (*IN_PLACE, f"/proc/{os.getpid()}/fd/")
    return full.startswith(roots) and not full.startswith(NOT_IN_PLACE)


def written_in_place(path: str | os.PathLike) -> bool:
    """Whether write_atomic writes `path` in place: it is given under /dev/ or
    /proc/self/fd/ (not /dev/shm/, /dev/mqueue/), or its folder really is there (a link
    to /dev elsewhere, whose rename would replace the device all the same)."""
    full = os.path.abspath(os.fspath(path))
    full = "/" + full.lstrip("/")  # "//dev/null" is /dev/null
    real = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
    return _under_devices(full) or _under_devices(real)


def _in_place_refusal(st: os.stat_result) -> str | None:
    """What an in-place target must not be, in words: None when it may be written."""
    if stat.S_ISDIR(st.st_mode):
        return "is a directory: name the file to write"
    if stat.S_ISBLK(st.st_mode):
        return "is a block device: a report is never written onto a disk"
    if stat.S_ISSOCK(st.st_mode):
        return "is a socket, which cannot be opened to write"
    return None


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text to path: to a temp file beside it, then rename, so that a reader never
    sees half a file and what was there (a planted link, a FIFO) is replaced, never
    written through. A device (written_in_place) is opened and written in place instead."""
    if written_in_place(path):
        _write_in_place(path, text)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temp name is bounded: a name near NAME_MAX still has room for its temp file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:32]}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _own_descriptor(path: str | os.PathLike, st: os.stat_result) -> int | None:
    """The descriptor of this process that `path` names (/dev/stdout, /dev/fd/N,
    /proc/self/fd/N), when it is open for writing and still the file path leads to."""
    full = "/" + os.path.abspath(os.fspath(path)).lstrip("/")
    number = {"/dev/stdin": "0", "/dev/stdout": "1", "/dev/stderr": "2"}.get(full)
    for root in ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/"):
        if number is None and full.startswith(root):
            number = full[len(root):]
    if number is None or not number.isdigit():
        return None
    try:
        mine = os.fstat(int(number))
        mode = fcntl.fcntl(int(number), fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        return None
    same = (mine.st_dev, mine.st_ino) == (st.st_dev, st.st_ino)
    return int(number) if same and mode in (os.O_WRONLY, os.O_RDWR) else None


def _write_in_place(path: str | os.PathLike, text: str) -> None:
    """Write into what is there (following links: /dev/stdout is one); make nothing.
    One of this process's descriptors (`--results /dev/stdout`) is written through a
    copy of it, so that its offset is shared: after `> file` the table printed next
    comes after the report, not over it, and `>> file` appends. Anything else is opened:
    O_NONBLOCK (a FIFO without a reader is an error, not a wait), then blocking writes;
    O_APPEND (a file there keeps what it holds)."""
    data = memoryview(text.encode("utf-8"))
    st = os.stat(path)  # FileNotFoundError when there is nothing
    why = _in_place_refusal(st)
    if why is None:
        own = _own_descriptor(path, st)
        if own is not None:
            for stream in (sys.stdout, sys.stderr):  # what Python holds for it goes first
                try:
                    if stream is not None and stream.fileno() == own:
                        stream.flush()
                except (OSError, ValueError, AttributeError):  # (a stream pytest or a caller replaced)
                    pass
            fd = os.dup(own)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            why = _in_place_refusal(os.fstat(fd))  # what was opened, whatever the path is by now
            if why is None:
                if own is None:
                    os.set_blocking(fd, True)  # (a copy's flags are the original's: left as they are)
                while data:
                    data = data[os.write(fd, data):]
        finally:
            os.close(fd)
    if why is not None:
        raise OSError(errno.EISDIR if why.startswith("is a directory") else errno.EINVAL, why, os.fspath(path))


def _name_problem(path: Path) -> str | None:
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return f"the name {part[:24]}... is longer than {NAME_MAX} bytes"
    return None


def output_problem(path: str | os.PathLike, directory: bool = False) -> str | None:
    """Why `path` cannot take a results file (or, directory=True, a folder of them), as
    far as can be told before any work: None when it can. What is wrong is said without
    the path itself (the caller names it, with its option)."""
    path = Path(path)
    try:
        if directory and written_in_place(path / "report"):
            if path.exists() and not path.is_dir():
                return "exists and is not a directory"
            return ("is where devices are, which are written in place: a folder of results goes "
                    "elsewhere (/dev/shm/ is an ordinary folder)")
        if written_in_place(path):  # a device: written in place, so it must be there and take it
            try:
                st = os.stat(path)
            except FileNotFoundError:
                return ("does not exist: under /dev/ and /proc/self/fd/ a report is written only into "
                        "what is there (a device, this process's open file), nothing is made")
            why = _in_place_refusal(st)
            if why:
                return why
            if not os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
                return "cannot write to it (permission denied)"
            return None
        why = _name_problem(path)
        if why:
            return why
        if path.is_symlink() and not directory:  # a link there is replaced, never followed
            where = path.parent
        elif path.is_dir():
            if not directory:
                return "is a directory: name the file to write"
            where = path
        elif path.is_symlink():  # (a folder of results: a link to nothing)
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        elif path.exists():
            if directory:
                return "exists and is not a directory"
            where = path.parent
        else:  # to be made: its nearest existing folder must take it
            where = path if directory else path.parent
            while not os.path.lexists(where) and where != where.parent:
                where = where.parent
            if where.is_symlink() and not where.exists():  # mkdir cannot make a folder where a link is
                return f"{where} is a symbolic link to {os.readlink(where)}, which does not exist"
            if not where.is_dir():
                return f"{where} is not a directory"
        if not os.access(where, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
            return f"cannot write in {where}" + (" (permission denied)" if where.exists() else "")
    except OSError as e:
        return f"{e.filename or path}: {e.strerror or e}"
    return None


def os_error_text(e: OSError) -> str:
    """An OSError as one line a person reads: 'PATH: reason' (both paths of a rename)."""
    names = " -> ".join(str(n) for n in (e.filename, e.filename2) if n is not None)
    reason = e.strerror or str(e)
    return f"{names}: {reason}" if names else reason

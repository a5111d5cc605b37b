"""Writing report files: atomically, so a reader never sees half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write to a temp file beside path, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def output_problem(path: str | os.PathLike, directory: bool = False) -> str | None:
    """Why `path` cannot take a results file (or, directory=True, a folder of them), as
    far as can be told before any work: None when it can. What is wrong is said without
    the path itself (the caller names it, with its option)."""
    path = Path(path)
    try:
        if path.is_dir():
            if not directory:
                return "is a directory: name the file to write"
            where = path
        elif path.exists() or path.is_symlink():
            if directory:
                return "exists and is not a directory"
            where = path.parent
        else:  # to be made: its nearest existing folder must take it
            where = path if directory else path.parent
            while not where.exists() and where != where.parent:
                where = where.parent
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

"""Writing report files: atomically, so a reader never sees half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, text: str, replace: bool = True) -> bool:
    """Write to a temp file beside path, then rename: readers never see half a file.
    replace=False: only where no file is yet (the temp file is linked into place, which
    fails on an existing name), and an existing one is left as it was. Returns whether
    the file was written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create it exclusively instead
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(out, "w", encoding="utf-8") as f:
                f.write(text)
        return True
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)

"""Find and compile C programs: the lab's reference programs (csrc/programs/), its
tools (csrc/tools/) and anyone's C file (a student's).

Binaries are cached by a hash of the source (and the lab's headers), the compiler's
identity and the flags, so a program is compiled once per change. A compile error
raises CompileError carrying the compiler's whole output; a missing compiler raises
CompilerMissing. Both are ToolchainError, which the CLI reports in one line (exit 2).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAGS = ("-Wall", "-Wextra", "-O1", "-g", "-std=gnu11")


class ToolchainError(Exception):
    """Something stops the lab from producing a binary."""


class CompilerMissing(ToolchainError):
    pass


class UnknownProgram(ToolchainError):
    pass


class CompileError(ToolchainError):
    def __init__(self, source: Path, output: str):
        self.source = Path(source)
        self.output = output
        first = next((ln for ln in output.splitlines() if "error" in ln), "")
        super().__init__(f"{self.source.name} does not compile: {first.strip() or 'see the compiler output'}")


def csrc_dir() -> Path:
    """The C sources: $PYLAB_CSRC if set (the mutation smoke test points it at a mutated
    copy), else inside the installed package, else the source tree's csrc/."""
    if os.environ.get("PYLAB_CSRC"):
        return Path(os.environ["PYLAB_CSRC"]).resolve()
    here = Path(__file__).resolve().parents[1]  # the pylab package
    for candidate in (here / "csrc", here.parent / "csrc"):
        if (candidate / "programs").is_dir():
            return candidate
    raise ToolchainError(f"the lab's C sources are missing (looked in {here / 'csrc'} and {here.parent / 'csrc'})")


def cache_dir() -> Path:
    root = os.environ.get("PYLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pylab"
    )
    return Path(root) / "bin"


@functools.lru_cache(maxsize=None)
def compiler(cc: str | None = None) -> tuple[str, str]:
    """(path, identity) of the C compiler: $CC or gcc. Raises CompilerMissing."""
    name = cc or os.environ.get("CC") or "gcc"
    path = shutil.which(name)
    if path is None:
        raise CompilerMissing(
            f"no C compiler: {name!r} is not on PATH (install gcc, e.g. 'apt-get install gcc', or set CC)"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True)
    return path, (out.stdout.splitlines() or [""])[0]


@dataclass(frozen=True)
class Program:
    """A reference C program: one lesson."""

    name: str
    source: Path
    summary: str

    def build(self) -> Path:
        return build(self.source)


def _summary(source: Path) -> str:
    """The first comment's first line, after 'name - '."""
    m = re.match(r"\s*/\*\s*(.*?)(?:\n\s*\*\s*\n|\*/)", source.read_text(), re.S)
    if not m:
        return ""
    text = " ".join(ln.strip(" *") for ln in m.group(1).splitlines())
    return text.split(" - ", 1)[-1].strip()


def programs() -> dict[str, Program]:
    """Every reference program in csrc/programs/, by name."""
    found = {}
    for src in sorted((csrc_dir() / "programs").glob("*.c")):
        found[src.stem] = Program(src.stem, src, _summary(src))
    return found


def find(name: str) -> Program:
    progs = programs()
    if name not in progs:
        close = [p for p in progs if name.strip("_.") in p or p in name]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownProgram(f"unknown program {name!r}{hint}; 'pylab list' shows them all")
    return progs[name]


def _key(source_bytes: bytes, cc_id: str, flags: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for part in (source_bytes, cc_id.encode(), "\0".join(flags).encode()):
        h.update(part)
        h.update(b"\0")
    for header in sorted((csrc_dir() / "include").glob("*.h")):
        h.update(header.read_bytes())
    return h.hexdigest()[:20]


def build(source: str | os.PathLike, flags: tuple[str, ...] = FLAGS, cc: str | None = None,
          output: str | os.PathLike | None = None) -> Path:
    """Compile one C file (cached); returns the binary's path.

    Raises FileNotFoundError-like ToolchainError for a missing file, CompileError with
    the compiler's whole output, CompilerMissing when there is no compiler."""
    source = Path(source)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ToolchainError(f"no such C file: {source}") from None
    except IsADirectoryError:
        raise ToolchainError(f"{source} is a directory, not a C file") from None
    cc_path, cc_id = compiler(cc)
    flags = tuple(flags)
    key = _key(data, cc_id, flags)
    binary = Path(output) if output else cache_dir() / key / source.stem
    if binary.exists() and (output is None):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    # compile to a temporary name, then rename: concurrent builds never see half a file
    fd, tmp = tempfile.mkstemp(prefix=f".{source.stem}.", dir=binary.parent)
    os.close(fd)
    cmd = [cc_path, *flags, "-I", str(csrc_dir() / "include"), "-o", tmp, str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        os.unlink(tmp)
        raise CompileError(source, proc.stdout + proc.stderr)
    os.chmod(tmp, 0o755)
    log = Path(f"{binary}.warnings")
    if proc.stdout or proc.stderr:  # warnings (-Wall -Wextra) are kept for whoever asks
        log.write_text(proc.stdout + proc.stderr)
    elif log.exists():
        log.unlink()
    os.replace(tmp, binary)
    return binary


def warnings_for(binary: str | os.PathLike) -> str:
    """The compiler's warnings when `binary` was built ('' when there were none)."""
    log = Path(f"{binary}.warnings")
    return log.read_text() if log.exists() else ""


TOOL_FLAGS = ("-O2", "-Wall", "-Wextra", "-std=gnu11")
# How a tool is built, best first; each falls back to the next when it is not available.
# The supervisor is exec'd for every run, and an exec's cost is mostly the C library's
# start-up: musl's is a few system calls, glibc's runs CPUID dozens of times, and in a
# virtual machine each one traps (~0.6 ms an exec here; see docs/performance.md).
# (-D_PYLAB_MUSL keeps musl's binary apart in the cache: musl-gcc reports gcc's version.)
TOOL_BUILDS = (("musl-gcc", ("-static", "-D_PYLAB_MUSL")), (None, ("-static",)), (None, ()))
_tools: dict[tuple, tuple[Path, Path, int]] = {}


def tool(name: str) -> Path:
    """A helper binary from csrc/tools/ (the supervisor), built once and cached.

    The runner asks for the supervisor on every run: the answer is remembered in this
    process (until the source's mtime changes or the binary goes), which saves
    re-hashing the source and headers each time (~0.1-0.2 ms a run)."""
    key = (name, os.environ.get("PYLAB_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    known = _tools.get(key)
    if known is not None:
        binary, source, mtime = known
        try:
            if os.stat(source).st_mtime_ns == mtime and os.path.exists(binary):
                return binary
        except FileNotFoundError:
            pass
    source = csrc_dir() / "tools" / f"{name}.c"
    mtime = os.stat(source).st_mtime_ns if source.exists() else 0
    for cc, extra in TOOL_BUILDS:
        try:
            binary = build(source, flags=TOOL_FLAGS + extra, cc=cc)
            break
        except (CompilerMissing, CompileError) as e:
            failed = e
    else:
        raise failed
    _tools[key] = (binary, source, mtime)
    return binary

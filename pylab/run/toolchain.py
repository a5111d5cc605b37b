"""Find and compile C programs: the lab's reference programs (csrc/programs/), its
tools (csrc/tools/) and anyone's C files (a student's, a textbook's).

One function compiles C: build(). Everything else that needs a binary (lessons, the
supervisor and other tools, probes, the bench's tiny program) calls it:

    build("prog.c")                                   # the textbooks' -O0, cached
    build(["main.c", "util.c"], include_dirs=["include"], defines=["DEBUG=1"],
          libs=["m"], cflags=["-O2"])                 # several files, -I, -D, -l, flags

Flags: FLAGS (-Wall -Wextra -O0 -g -std=gnu11) unless `flags` replaces them; `cflags`
come after them, so `cflags=["-O2"]` wins over -O0 (gcc keeps the last -O). The lab's
own headers (csrc/include/) are always on the include path, after the caller's -I.

The cache: binaries are kept by a hash of the compiler's identity, the whole command
line and every source's bytes, then of every local header the sources included, as gcc
reported them (-MMD: the dependency output make uses). Editing an included header
therefore rebuilds. A compile or link error raises CompileError carrying the compiler's
whole output; a missing compiler raises CompilerMissing. Both are ToolchainError, which
the CLI reports as one message with the compiler's text (exit 2).

command() gives the same compiler command line without running it, for a caller that
must run the compiler elsewhere (the grading sandbox).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pylab.core.errors import LabError

OPT = "-O0"  # the textbooks' level: what TLPI, OSTEP and CS:APP print is what -O0 gives
FLAGS = ("-Wall", "-Wextra", OPT, "-g", "-std=gnu11")
PathLike = str | os.PathLike


class ToolchainError(LabError):
    """Something stops the lab from producing a binary."""


class CompilerMissing(ToolchainError):
    pass


class UnknownProgram(ToolchainError):
    pass


class CompileError(ToolchainError):
    """The compiler or the linker refused; `output` is its whole text, `stage` says which
    ("compile" or "link")."""

    def __init__(self, source: PathLike, output: str, stage: str | None = None):
        self.source = Path(source)
        self.output = output
        self.details = output.rstrip()  # the command line prints it after the one line
        lines = _said(output)
        linker = [ln for ln in lines if not _COMPILER_DIAGNOSTIC.search(ln)]
        self.stage = stage or ("link" if any(_LINK_ERROR.search(ln) for ln in linker) else "compile")
        verb = "does not link" if self.stage == "link" else "does not compile"
        super().__init__(f"{self.source.name} {verb}: {_reason(lines, linker) or 'see the compiler output'}")


_LINK_ERROR = re.compile(r"undefined reference|multiple definition|ld returned|collect2|cannot find -l"
                         r"|undefined symbol|duplicate symbol|linker command failed")
# The linker's own reasons (GNU ld's, then lld's words), read from the phrase on: what
# comes before it is only where ("file.c:2: ", "/usr/bin/ld: ").
_LINK_REASON = re.compile(r"(?:undefined reference to|multiple definition of|cannot find"
                          r"|undefined symbol|duplicate symbol)\b.*")
# A diagnostic of the compiler proper; not the driver's wrap-up, which only says the
# linker failed (collect2's "ld returned 1 exit status", clang's "linker command failed").
_COMPILER_ERROR = re.compile(r"(?:^|: )(?:fatal )?error: (?!ld returned|linker command failed)")
# The compiler's "file:line:col: kind: " (its message may quote any text, a #error's too).
_COMPILER_DIAGNOSTIC = re.compile(r":\d+:\d+: (?:fatal error|error|warning|note): ")
_SOURCE_ECHO = re.compile(r"\s*\d*\s*\|")  # gcc's quoted source line and its caret: "  3 | int x"


def _said(output: str) -> list[str]:
    """The compiler's and linker's own lines, without the source lines gcc quotes (the
    program's text may hold any words, "undefined reference" among them)."""
    return [ln for ln in output.splitlines() if not _SOURCE_ECHO.match(ln)]


def _reason(lines: list[str], linker: list[str]) -> str:
    """The most informative line of a failed compile or link: the linker's first reason
    (cut before the "; " where ld adds the other object's path), else the compiler's first
    error, else the first line that mentions an error at all ("" when none does)."""
    for line in linker:
        if m := _LINK_REASON.search(line):
            return m.group(0).split("; ", 1)[0].strip()
    for line in lines:
        if _COMPILER_ERROR.search(line):
            return line.strip()
    return next((line.strip() for line in lines if "error" in line), "")


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


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def _sources(source) -> list[Path]:
    sources = [Path(s) for s in _as_list(source)]
    if not sources:
        raise ToolchainError("no C file given")
    for src in sources:
        if src.is_dir():
            raise ToolchainError(f"{src} is a directory, not a C file")
        if not src.is_file():
            raise ToolchainError(f"no such C file: {src}")
    return sources


def _extras(include_dirs, defines, libs, cflags) -> tuple[list[str], list[str]]:
    """(flags before the sources, libraries after them: the linker reads left to right)."""
    before = []
    if isinstance(cflags, str):
        cflags = shlex.split(cflags)
    before += [str(f) for f in _as_list(cflags)]
    for d in _as_list(include_dirs):
        if not Path(d).is_dir():
            raise ToolchainError(f"no such include directory: {d}")
        before += ["-I", str(Path(d).resolve())]
    before += [f"-D{d}" for d in _as_list(defines)]
    after = [lib if str(lib).startswith("-l") else f"-l{lib}" for lib in _as_list(libs)]
    return before, after


def command(source: PathLike | Sequence[PathLike], output: PathLike, flags: Sequence[str] = FLAGS,
            cc: str | None = None, *, include_dirs=(), defines=(), libs=(), cflags=(),
            lab_include: PathLike | None = None) -> list[str]:
    """The compiler command line build() would run, for a caller that runs it itself.
    lab_include: where the lab's headers are (default csrc/include/)."""
    before, after = _extras(include_dirs, defines, libs, cflags)
    lab = str(lab_include or csrc_dir() / "include")
    return [compiler(cc)[0], *flags, *before, "-I", lab, "-o", str(output),
            *(str(s) for s in _as_list(source)), *after]


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:20]


def _read_deps(depfiles: Iterable[Path], sources: list[Path]) -> list[str]:
    """The local headers gcc's -MMD output names (absolute paths), sources left out."""
    found: set[str] = set()
    own = {str(s.resolve()) for s in sources}
    for dep in depfiles:
        text = dep.read_text().replace("\\\n", " ")
        _, _, rest = text.partition(": ")
        for name in re.findall(r"(?:\\ |[^\s])+", rest):
            path = str(Path(name.replace("\\ ", " ")).resolve())
            if path not in own:
                found.add(path)
    return sorted(found)


def _portable(headers: list[str], base: Path) -> list[str]:
    """Headers beside the sources as "./name" (resolved again against the folder of the
    source being built: the same file elsewhere includes its own neighbours), others as
    absolute paths."""
    base = base.resolve()
    out = []
    for h in headers:
        try:
            out.append("./" + str(Path(h).relative_to(base)))
        except ValueError:
            out.append(h)
    return out


def _resolved(entries: list[str], base: Path) -> list[str]:
    return [str(base.resolve() / e[2:]) if e.startswith("./") else e for e in entries]


def _headers_key(headers: list[str]) -> str:
    parts = []
    for h in headers:
        try:
            parts += [h.encode(), Path(h).read_bytes()]
        except OSError:
            parts += [h.encode(), b"\0missing"]  # gone or unreadable: rebuild
    return _digest(*parts)


def _run_cc(cmd: list[str], sources: list[Path]) -> str:
    # in a process group of its own: the driver's cc1, as and ld go with it when pylab
    # is stopped (subprocess would kill the driver alone, and leave them to run on)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                            process_group=0)
    try:
        out, err = proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if proc.returncode != 0:
        raise CompileError(sources[0], out + err)
    return out + err


def build(source: PathLike | Sequence[PathLike], flags: Sequence[str] = FLAGS, cc: str | None = None,
          output: PathLike | None = None, *, include_dirs=(), defines=(), libs=(),
          cflags: str | Sequence[str] = ()) -> Path:
    """Compile and link one or more C files (cached); returns the binary's path.

    source: a .c file or a list of them (the binary is named after the first).
    flags: the base flags (FLAGS). include_dirs (-I), defines ("NAME" or "NAME=VALUE",
    -D), libs ("m" or "-lm") and cflags (more flags, a list or a shell-quoted string)
    come on top. output: write the binary there (always compiled, not cached).
    Raises ToolchainError for a missing file or include directory, CompileError
    (compile or link, with the compiler's whole output), CompilerMissing."""
    sources = _sources(source)
    cc_path, cc_id = compiler(cc)
    before, after = _extras(include_dirs, defines, libs, cflags)
    lab = ["-I", str(csrc_dir() / "include")]
    base = [*flags, *before, *lab]
    key = _digest(cc_id.encode(), "\0".join([*base, *after]).encode(),
                  *(p for s in sources for p in (s.name.encode(), s.read_bytes())))
    slot = cache_dir() / key
    manifest = slot / "headers"

    def cached() -> Path | None:
        if output is None and manifest.exists():
            known = _resolved(manifest.read_text().splitlines(), sources[0].parent)
            binary = slot / _headers_key(known) / sources[0].stem
            if binary.exists():
                return binary
        return None

    found = cached()
    if found is not None:
        return found
    slot.mkdir(parents=True, exist_ok=True)
    # One build per key at a time: the suite's workers and `grade --jobs` ask for the same
    # program together, and each would otherwise compile it (make -j's problem; a lock
    # file is what ccache and pip use). The second asker finds it built. (output=: always
    # compiled, nothing shared, no lock.)
    with _locked(slot / ".lock") if output is None else contextlib.nullcontext():
        found = cached()
        if found is not None:
            return found
        # build in a private folder, then rename: concurrent builds never see half a file
        work = Path(tempfile.mkdtemp(prefix=f".{sources[0].stem}.", dir=slot))
        try:
            out = work / sources[0].stem
            if len(sources) == 1:
                deps = [work / "main.d"]
                text = _run_cc([cc_path, *base, "-MMD", "-MF", str(deps[0]), "-o", str(out),
                                str(sources[0]), *after], sources)
            else:  # gcc -MMD writes one file's dependencies per run: compile each, then link
                deps, objs, text = [], [], ""
                for i, src in enumerate(sources):
                    obj, dep = work / f"{i}.{src.stem}.o", work / f"{i}.d"
                    text += _run_cc([cc_path, *base, "-c", "-MMD", "-MF", str(dep), "-o", str(obj), str(src)], [src])
                    deps.append(dep)
                    objs.append(str(obj))
                text += _run_cc([cc_path, *flags, *before, "-o", str(out), *objs, *after], sources)
            headers = _read_deps(deps, sources)
            if output is not None:
                shutil.move(str(out), str(output))  # maybe onto another file system
                return Path(output)
            binary = slot / _headers_key(headers) / sources[0].stem
            binary.parent.mkdir(exist_ok=True)
            log = Path(f"{binary}.warnings")
            if text:  # warnings (-Wall -Wextra) are kept for whoever asks
                log.write_text(text)
            elif log.exists():
                log.unlink()
            os.replace(out, binary)
            (work / "headers").write_text("".join(f"{h}\n" for h in _portable(headers, sources[0].parent)))
            os.replace(work / "headers", manifest)
            return binary
        finally:
            shutil.rmtree(work, ignore_errors=True)


LOCK_WAIT = 120.0  # seconds one build waits for another's; then it compiles too


@contextlib.contextmanager
def _locked(path: Path):
    """Hold the slot's lock while inside, if it can be had. Without it (a file system
    with no locks, a holder stopped with ^Z past LOCK_WAIT) the build goes on anyway:
    the rename at its end already keeps a concurrent build correct, only not single."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when fd closes, even if killed
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            except OSError:  # ENOLCK, EOPNOTSUPP: no locks here
                break
        yield
    finally:
        os.close(fd)


def warnings_for(binary: PathLike) -> str:
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
_tools: dict[tuple, tuple[Path, Path, int]] = {}  # what remembered() remembers


def remembered(name: str, source, make) -> Path:
    """make(source())'s binary, remembered in this process (until the source's mtime
    changes or the binary goes): the runner asks for the supervisor, and a traced run for
    the stdio library, on every run, and this saves finding the sources and re-hashing
    them and their headers each time (~0.1-0.2 ms a run)."""
    key = (name, os.environ.get("PYLAB_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    known = _tools.get(key)
    if known is not None:
        binary, path, mtime = known
        try:
            if os.stat(path).st_mtime_ns == mtime and os.path.exists(binary):
                return binary
        except FileNotFoundError:
            pass
    path = source()
    mtime = os.stat(path).st_mtime_ns if path.exists() else 0
    binary = make(path)
    _tools[key] = (binary, path, mtime)
    return binary


def tool(name: str) -> Path:
    """A helper binary from csrc/tools/ (the supervisor), built once and cached, and
    remembered in this process (remembered())."""
    def make(source: Path) -> Path:
        for cc, extra in TOOL_BUILDS:
            try:
                return build(source, flags=TOOL_FLAGS + extra, cc=cc)
            except (CompilerMissing, CompileError) as e:
                failed = e
        raise failed
    return remembered(name, lambda: csrc_dir() / "tools" / f"{name}.c", make)

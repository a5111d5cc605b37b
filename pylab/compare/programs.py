"""The programs behind `pylab compare`: one row per way a process ends.

C rows run csrc/drivers/endings.c with HOW in argv. Python rows run a generated script:
each leaves a line and a tail (no newline) in the stdout buffer(s) it uses, registers
exit handlers, and ends in its row's way inside try/finally. Every piece of output is a
marker (<py-tail>) so the matrix is read off what reached stdout; handlers and finally
blocks also note on stderr that they ran (`@lab ran NAME main|child`), which stays
true when their stdout output is lost. A row with `kill` says `@lab ready` on stderr
and waits for the driver's signal (then EOF on stdin); a fork row's parent notes `@lab wait STATUS`.
"""
from __future__ import annotations

import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class Way:
    """One way a process ends: a row of the matrix."""

    lang: str  # "C", "Python" or "C+Python" (both layers in one Python process)
    how: str  # the row's label
    ending: str  # C: endings' HOW argument; Python: the statement that ends the script
    writes: tuple[str, ...]  # the output markers it leaves pending before it ends
    kill: int | None = None  # the signal the driver sends after `@lab ready`
    fork: bool = False  # the way is taken by a forked child (its status is the row's)

    @property
    def key(self) -> str:
        return f"{self.lang} {self.how}"


_C = ("c-line", "c-tail")
_PY = ("py-line", "py-tail")

WAYS = (
    Way("C", "return from main", "return", _C),
    Way("C", "exit(n)", "exit", _C),
    Way("C", "_exit(n)", "_exit", _C),
    Way("C", "abort()", "abort", _C),
    Way("C", "killed by SIGTERM", "wait", _C, kill=signal.SIGTERM),
    Way("C", "killed by SIGKILL", "wait", _C, kill=signal.SIGKILL),
    Way("C", "exit(n) in a child after fork", "fork-exit", _C, fork=True),
    Way("Python", "falling off the end", "pass", _PY),
    Way("Python", "sys.exit(n)", "sys.exit(CODE)", _PY),
    Way("Python", 'sys.exit("message")', 'sys.exit("goodbye from sys.exit")', _PY),
    Way("Python", "uncaught exception", 'raise RuntimeError("boom")', _PY),
    Way("Python", "os._exit(n)", "os._exit(CODE)", _PY),
    Way("Python", "os.abort()", "os.abort()", _PY),
    Way("Python", "killed by SIGTERM", "wait_for_signal()", _PY, kill=signal.SIGTERM),
    # SIGINT is the contrast: Python turns it into KeyboardInterrupt, then dies of it
    Way("Python", "killed by SIGINT (Ctrl-C)", "wait_for_signal()", _PY, kill=signal.SIGINT),
    Way("Python", "sys.exit(n) in a child after os.fork", "fork_child_exits(CODE)", _PY, fork=True),
    Way("C+Python", "C printf then os._exit", "os._exit(CODE)", _PY + _C),
    Way("C+Python", "C printf then sys.exit", "sys.exit(CODE)", _PY + _C),
    Way("C+Python", "Python print then C _exit", "native._exit(CODE)", _PY + _C),
    Way("C+Python", "Python print then C exit", "native.exit(CODE)", _PY + _C),
    Way("C+Python", "C and Python atexit both registered, falling off the end", "pass", _PY + _C),
)

_PRELUDE = '''\
import atexit, os, sys
MAIN = os.getpid()

def note(text):  # straight to fd 2: never buffered, never lost
    os.write(2, f"@lab {text}\\n".encode())

def ran(what):
    note(f"ran {what} {'main' if os.getpid() == MAIN else 'child'}")

def wait_for_signal():
    # The driver signals, then closes stdin. A signal Python handles (SIGINT) that
    # lands before read() starts is not lost: read() then sees EOF and the loop's
    # next turn raises it. (pause() would sleep through it.)
    note("ready")
    while True:
        os.read(0, 1)

def on_exit():
    ran("py-atexit")
    print("<py-atexit>", end="")

def fork_child_exits(code):
    pid = os.fork()
    if pid == 0:
        print("<child>", end="")  # into the child's copy of Python's buffer
        sys.exit(code)
    note(f"wait {os.waitpid(pid, 0)[1]}")
    print("<parent>", end="")

atexit.register(on_exit)
'''

_NATIVE = '''\
sys.path[:0] = PATH  # run with -S: the folders of pylab's bindings and cffi's backend
from pylab.bindings import native
native.atexit_print("<c-atexit>")  # a C atexit handler: runs only in C exit()
'''

_BODY = '''\
print("<py-line>")
print("<py-tail>", end="")
{c_output}try:
    {ending}
finally:
    ran("finally")
    print("<finally>", end="")
'''

_C_OUTPUT = '''\
native.print_("<c-line>\\n")
native.print_("<c-tail>")
'''


def python_script(way: Way, code: int, path: tuple[str, ...] = ()) -> str:
    """The script for a Python or C+Python row, ending with exit code `code`; a C+Python
    row first puts `path` (the folders pylab's bindings import from) on sys.path."""
    both = way.lang == "C+Python"
    body = _BODY.format(c_output=_C_OUTPUT if both else "",
                        ending=way.ending.replace("CODE", str(code)))
    return _PRELUDE + (_NATIVE.replace("PATH", repr(list(path))) if both else "") + body

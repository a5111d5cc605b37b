"""Where a supervised run's time goes: `python benchmarks/runner_breakdown.py [ROUNDS]`.

Each line adds one piece to the one above it, measured round-robin in one run (so the
load of a shared machine falls on all alike), medians in microseconds:
  tiny alone            os.posix_spawn + waitpid of the tiny program (no supervisor)
  supervisor exec       the supervisor started and gone at once (its usage error): the
                        price of exec'ing one more program
  supervisor + tiny     the supervisor running tiny, stdio to /dev/null, no Python reader
  runner.run pipe       the whole runner: pipes, the reader loop, the status lines
  subprocess capture    subprocess.run(capture_output=True), the reference
  forked supervisor     a design the runner could take: the supervisor forked from this
                        process in C (no exec of its own), vforking + exec'ing tiny
                        (lab_bench.forked_supervisor_loop; no pipes, no Python reader)
and, outside the chain, the runner's lookup of the supervisor binary, how many
processes the supervisor's /proc sweep would have to read on this machine now, and on
x86-64 what an exec costs without the C library's start-up (benchmarks/c/nolibc_exit.c)
and what one CPUID instruction costs (benchmarks/c/cpuid_cost.c): glibc executes CPUID
dozens of times as each program starts, and in a virtual machine each one traps.
Last, benchmarks/c/exec_chain.c (built as the supervisor is) runs tiny directly and
through one middle process, and counts how often tiny changed CPU: the middle's price
is mostly the kernel moving the program at its exec (docs/performance.md, "The
supervisor's price").
"""
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from pylab.bench import costs as bench
from pylab.bindings import lab_bench
from pylab.run import runner, toolchain

HERE = os.path.dirname(os.path.abspath(__file__))


def main(rounds: int = 300) -> None:
    sup = str(toolchain.tool("supervise"))
    tiny = str(bench.tiny_program())
    devnull = os.open(os.devnull, os.O_WRONLY)
    quiet = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (1, 2, 3)]

    def spawn(argv):
        os.waitpid(os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet), 0)

    def forked_supervisor():
        lab_bench.forked_supervisor_loop(1, tiny)

    steps = {
        "tiny alone": lambda: spawn([tiny]),
        "supervisor exec": lambda: spawn([sup]),
        "supervisor + tiny": lambda: spawn([sup, "3", "10000", "-1", "0", "-1", "-1", "--", tiny]),
        "runner.run pipe": lambda: runner.run([tiny]),
        "runner.run tty": lambda: runner.run([tiny], mode="tty"),
        "subprocess capture": lambda: subprocess.run([tiny], capture_output=True),
        "forked supervisor": forked_supervisor,
        **x86_steps(spawn),
        "toolchain.tool lookup": lambda: toolchain.tool("supervise"),
    }
    samples = {k: [] for k in steps}
    for _ in range(5):
        for fn in steps.values():
            fn()
    for _ in range(rounds):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    ref = statistics.median(samples["subprocess capture"])
    for name, xs in samples.items():
        med = statistics.median(xs)
        print(f"{name:<24}{med * 1e6:9.0f} us  {med / ref:5.2f}x subprocess capture")
    procs = sum(1 for n in os.listdir("/proc") if n.isdigit())
    print(f"processes in /proc now (a full sweep reads each one's stat): {procs}")
    if platform.machine() == "x86_64":
        cpuid = toolchain.build(os.path.join(HERE, "c", "cpuid_cost.c"), flags=("-O2",))
        ns = int(subprocess.run([cpuid], capture_output=True, text=True).stdout)
        print(f"one CPUID instruction: {ns / 1e3:.2f} us")
    chain = toolchain.build(os.path.join(HERE, "c", "exec_chain.c"), flags=toolchain.TOOL_FLAGS + ("-static",),
                            cc="musl-gcc" if shutil.which("musl-gcc") else None)
    print(subprocess.run([chain, str(rounds), tiny], capture_output=True, text=True, check=True).stdout, end="")


def x86_steps(spawn) -> dict:
    """exec of a program with no C library (x86-64 only: its _start is assembly)."""
    if platform.machine() != "x86_64":
        return {}
    nolibc = str(toolchain.build(os.path.join(HERE, "c", "nolibc_exit.c"),
                                 flags=("-O2", "-nostdlib", "-static")))
    return {"exec without libc": lambda: spawn([nolibc])}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

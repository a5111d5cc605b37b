"""cffi builder for pylab.bindings._native (API mode, out-of-line). It only builds.

The cdef is read from the headers in csrc/lib/ (the text between the cdef markers),
so each header is the single source of its declarations.
"""
from pathlib import Path

from cffi import FFI

LIB = Path(__file__).resolve().parents[2] / "csrc" / "lib"
HEADERS = sorted(LIB.glob("lab*.h"))


def cdef_of(header: Path) -> str:
    text = header.read_text()
    start = text.index("/* cdef-begin */") + len("/* cdef-begin */")
    return text[start : text.index("/* cdef-end */")]


ffibuilder = FFI()
ffibuilder.cdef("\n".join(cdef_of(h) for h in HEADERS))
ffibuilder.set_source(
    "pylab.bindings._native",
    "\n".join(f'#include "{h.name}"' for h in HEADERS),
    # relative paths keep the build reproducible from an sdist or a clone
    sources=[str(p.relative_to(LIB.parent.parent)) for p in sorted(LIB.glob("*.c"))],
    include_dirs=["csrc/lib", "csrc/include"],
    extra_compile_args=["-Wall", "-Wextra", "-std=gnu11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

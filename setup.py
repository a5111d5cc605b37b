"""Build pylab.bindings._native with cffi (API mode) and ship the C sources inside the package.

Metadata lives in pyproject.toml; this file only wires what setuptools cannot declare:
the cffi module, and a build_py step that copies csrc/ into the package so an
installed pylab can compile its lesson programs.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class build_py_with_csrc(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "pylab" / "csrc"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(HERE / "csrc", target)


setup(
    cffi_modules=["pylab/bindings/_build.py:ffibuilder"],
    cmdclass={"build_py": build_py_with_csrc},
)

"""argparse for the lab: one-line usage errors (exit 2, never usage + traceback)."""
from __future__ import annotations

import argparse

from pylab.core.errors import UsageError


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        raise UsageError(f"{message} (see '{self.prog} --help')")


def seconds(text: str, zero_ok: bool = False) -> float:
    """An option's number of seconds: above 0 (or 0 and more, with zero_ok)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 if zero_ok else value > 0):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds {'of 0 or more' if zero_ok else 'above 0'}, not {text!r}")
    return value


def rounds(text: str) -> int:
    """`bench --rounds N`: a whole number of samples per figure, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of rounds, 1 or more, not {text!r}")
    return value

"""argparse for the lab: one-line usage errors (exit 2, never usage + traceback)."""
from __future__ import annotations

import argparse
import math

from pylab.core.errors import UsageError


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        raise UsageError(f"{message} (see '{self.prog} --help')")


# The longest time an option takes, in seconds: a year. The runner hands the supervisor
# whole milliseconds (a C long added to its clock) and Python's own waits take at most
# threading.TIMEOUT_MAX; "inf" or 1e300 would overflow one or the other. No option of
# the lab documents a way to say "no limit", so none is accepted for one.
MAX_SECONDS = 365 * 24 * 3600


def seconds(text: str, zero_ok: bool = False) -> float:
    """An option's number of seconds: above 0 (or 0 and more, with zero_ok), and at most
    MAX_SECONDS (so not inf, nor nan)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not ((value >= 0 if zero_ok else value > 0) and value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds {'of 0 or more' if zero_ok else 'above 0'} and at most "
            f"{MAX_SECONDS} (a year), not {text!r}")
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

"""The lab's exit codes and its user-facing errors (DESIGN: 0 ok, 1 checks failed, 2 usage)."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class LabError(Exception):
    """An error the command line reports in one line and exits with EXIT_USAGE: bad input,
    or a machine that stops the lab (no compiler, a program that does not compile, a run
    that cannot be set up). `details`, when set, is printed after that line (a compiler's
    whole output). The layers below raise their own subclasses; the command line catches
    this one class, so it need not import every layer to know their errors."""

    details: str = ""


class UsageError(LabError):
    """Bad input from the user (unknown name, bad option, missing file): the command line
    reports it in one line and exits with EXIT_USAGE."""

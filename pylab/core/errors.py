"""The lab's exit codes and its one user-facing error (DESIGN: 0 ok, 1 checks failed, 2 usage)."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user (unknown name, bad option, missing file): the command line
    reports it in one line and exits with EXIT_USAGE."""

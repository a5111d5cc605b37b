"""The three places stdout can go, named the same everywhere (CLI, JSON, API)."""

MODES = ("tty", "pipe", "file")
IN_WORDS = {"tty": "a terminal", "pipe": "a pipe", "file": "a file"}

"""Program output made safe for every report it reaches.

A submission prints whatever it likes: NUL bytes, ANSI escapes, lone surrogates,
control characters, invalid UTF-8. Reports carry that text to an XML parser (JUnit),
a terminal (the instructor's) and JSON (Gradescope, PrairieLearn). One rule for all
three: text is decoded with invalid bytes as U+FFFD, newlines and tabs are kept, and
every other control character (C0, DEL, C1, including ESC, so no escape sequence
survives) and every character XML 1.0 cannot hold becomes a visible `\\xNN` / `\\uNNNN`.
"""
from __future__ import annotations

import re

# What XML 1.0 allows, minus the C0/C1 controls a terminal acts on; \t and \n kept.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def text(value) -> str:
    """Any program output (bytes or str) as text safe for XML, a terminal and JSON."""
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    value = value.replace("\r\n", "\n").replace("\r", "\\r")
    return _UNSAFE.sub(_escape, value)


def quote(value, limit: int = 300) -> str:
    """Output for a feedback message: safe, shortened, in quotes; `nothing` when empty.
    Bytes are shown as text, never as b'...'."""
    shown = text(value)
    if not shown:
        return "nothing"
    if len(shown) > limit:
        shown = shown[:limit] + " ..."
    return '"' + shown.replace("\n", "\\n") + '"'

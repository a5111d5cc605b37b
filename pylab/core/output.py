"""The one place the lab writes JSON for people and scripts (`--json` on every command),
and what text output does on a stream that cannot hold every character (a seed quote in
Chinese on `PYTHONIOENCODING=ascii`, a latin-1 terminal): JSON stays valid, as \\u
escapes, and text degrades to backslash escapes instead of stopping with an error."""
from __future__ import annotations

import json
import sys

_settled: int | None = None


def settle(code: int) -> int:
    """Say the exit status of the command now, before its report is printed: if the
    reader of stdout goes away during the report (a broken pipe: `pylab grade DIR |
    head -1`), pylab still ends with it (pylab.cli.main), not with a status that reads as
    another verdict. Returns `code`."""
    global _settled
    _settled = code
    return code


def settled() -> int | None:
    """The status settle() was given in this command; None before it was called."""
    return _settled


def unsettle() -> None:
    """A new command starts (pylab.cli.main): nothing is settled."""
    global _settled
    _settled = None


def holds(text: str, stream) -> bool:
    """Can `stream` write `text` as it is? A stream without an encoding (io.StringIO)
    takes any str."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except LookupError:  # an encoding Python does not know: let the stream say so itself
        return True
    return True


def for_stream(text: str, stream=None) -> str:
    """`text` as `stream` (stdout by default) can write it: unchanged when its encoding
    holds every character, else each character it cannot hold as a backslash escape
    (修 -> \\u4fee), never an error."""
    stream = stream or sys.stdout
    if holds(text, stream):
        return text
    return text.encode(stream.encoding, "backslashreplace").decode(stream.encoding)


def emit_json(obj, stream=None) -> None:
    """Pretty JSON, one trailing newline; UTF-8 kept readable where the stream can write
    it, else every non-ASCII character escaped (ensure_ascii): the same JSON either way."""
    stream = stream or sys.stdout
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    if not holds(text, stream):
        text = json.dumps(obj, indent=2, ensure_ascii=True)
    stream.write(text + "\n")

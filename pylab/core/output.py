"""The one place the lab writes JSON for people and scripts (`--json` on every command)."""
from __future__ import annotations

import json
import sys


def emit_json(obj, stream=None) -> None:
    """Pretty JSON, UTF-8 kept readable, one trailing newline."""
    stream = stream or sys.stdout
    json.dump(obj, stream, indent=2, ensure_ascii=False)
    stream.write("\n")

"""`pylab new-exercise DIR`: a new exercise folder that works from the first minute.

The reference passes every check, the starter fails them (so `pylab assignment verify`
is green), and the instructor edits from there. The folder's parent becomes (or
already is) the assignment: its assignment.toml lists the new exercise."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pylab.core.errors import UsageError
from pylab.grading import assignment as assignments

REFERENCE = """\
/* {name} - a parent forks one child and waits for it (edit: what this exercise shows).
 * Look for: the child's line, then the parent's, naming the child it waited for. */
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{{
    pid_t pid = fork();

    if (pid < 0) {{
        perror("fork");
        return 1;
    }}
    if (pid == 0) {{
        printf("child %d\\n", (int)getpid());
        return 0;
    }}
    if (waitpid(pid, NULL, 0) < 0) {{
        perror("waitpid");
        return 1;
    }}
    printf("parent %d: child %d done\\n", (int)getpid(), (int)pid);
    return 0;
}}
"""

STARTER = """\
/* {name} - see statement.md. */
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{{
    /* TODO: fork a child that prints "child C" (its PID) */
    /* TODO: the parent waits for it, then prints "parent P: child C done" */
    return 0;
}}
"""

STATEMENT = """\
# {name} — a parent waits for its child

Write `{source}`: the program forks one child. The child prints

    child C

(`C`: its own PID) and ends. The parent waits for that child, then prints

    parent P: child C done

(`P`: the parent's PID) and returns 0.

**What is observed:** the two lines in this order, with stdout to a pipe and to a
terminal; the PIDs are checked against the processes the grader saw; the parent
collects its child before it exits.
"""

EXERCISE = """\
# {name}: see docs/assignments.md for every key.
summary = "a parent forks a child and waits for it"
source = "{source}"
reference = "reference.c"

[[check]]
name = "child_then_parent"
title = "the child's line, then the parent's naming it (pipe and terminal)"
points = 2
hint = "the parent's line comes after the child has ended only if the parent waits for it"
modes = ["pipe", "tty"]
lines = ["child {{child}}", "parent {{pid}}: child {{child}} done"]
exit_code = 0

[[check]]
name = "child_collected"
title = "the parent collects its child before it exits"
points = 1
hint = "a child that has ended stays a zombie until its parent collects it"
children = 1
reaped = true

[[check]]
name = "same_to_a_file"
title = "the same with stdout to a file"
points = 1
visibility = "hidden"
modes = ["file"]
lines = ["child {{child}}", "parent {{pid}}: child {{child}} done"]
exit_code = 0
"""


@dataclass
class Made:
    folder: Path
    files: list[str]
    manifest: str | None


def new_exercise(folder: Path, source: str | None = None) -> Made:
    name = folder.name
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", name):
        raise UsageError(f"new-exercise: {name!r} is not a usable exercise name (letters, digits, _ and -)")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"new-exercise: {folder} exists and is not empty")
    source = source or f"{name}.c"
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.c", source):
        raise UsageError(f"new-exercise: --source must be a C file name such as {name}.c, not {source!r}")
    folder.mkdir(parents=True, exist_ok=True)
    files = {"statement.md": STATEMENT, "starter.c": STARTER, "reference.c": REFERENCE,
             assignments.EXERCISE_FILE: EXERCISE}
    for file, text in files.items():
        (folder / file).write_text(text.format(name=name, source=source))
    manifest = folder.parent / assignments.MANIFEST
    if not manifest.exists():
        manifest.write_text(f'title = "{folder.parent.resolve().name}"\n')
    listed = assignments._toml(manifest).get("exercise", [])
    if not any(isinstance(e, dict) and e.get("name") == name for e in listed):
        with manifest.open("a") as f:
            f.write(f'\n[[exercise]]\nname = "{name}"\n')
    assignments.load_exercise(folder)  # what was written loads
    return Made(folder, list(files), str(manifest))

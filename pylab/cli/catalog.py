"""`pylab list`: the C programs, the sockets lab's demos and the exercises."""
from __future__ import annotations

from pylab.cli import demos
from pylab.core.errors import EXIT_OK
from pylab.core.output import emit_json, settle
from pylab.grading import exercises
from pylab.run import toolchain


def catalog() -> list[dict]:
    """Everything `pylab run` can run: the C programs, plus the sockets lab's Python demos
    (pylab.cli.demos.DEMOS: name -> (summary, callable))."""
    items = [{"name": p.name, "kind": "program", "summary": p.summary}
             for p in toolchain.programs().values()]
    for name, (summary, _) in sorted(demos.DEMOS.items()):
        items.append({"name": name, "kind": "demo", "summary": summary})
    return items


def main(args) -> int:
    items = catalog()
    ex = [{"name": e.name, "kind": "exercise", "summary": e.summary} for e in exercises.all_exercises()]
    settle(EXIT_OK)
    if args.json:
        emit_json({"programs": items, "exercises": ex})
        return EXIT_OK
    width = max(len(i["name"]) for i in items + ex)
    print("Programs and demos (pylab run NAME):")
    for i in items:
        print(f"  {i['name']:<{width}}  {i['summary']}")
    if ex:
        print("\nExercises (pylab starter DIR, pylab check):")
        for i in ex:
            print(f"  {i['name']:<{width}}  {i['summary']}")
    return EXIT_OK

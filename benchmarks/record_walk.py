"""Trace one record from a SQL sender into `import_records` and count the seams it crosses.

A SQLite sender database with one row is read with `build_sender("sql", ...).read()`, and the
chunk goes into `import_records` on a SQLite target. `sys.setprofile` records every Python
function entered inside `sync_pipeline/`; the script prints how many distinct functions and
files the record passes through and how often consecutive calls switch files (issue 9's
"walk of one record"). Run: `.venv/bin/python -m benchmarks.record_walk [-v]`.
"""

import itertools
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa

import sync_pipeline
from sync_pipeline import import_records
from sync_pipeline.senders import build_sender

PACKAGE = Path(sync_pipeline.__file__).resolve().parent


def _databases(folder: Path) -> tuple[str, str]:
    source, target = f"sqlite:///{folder / 'source.db'}", f"sqlite:///{folder / 'target.db'}"
    for url, extra in ((source, ""), (target, ", last_batch_id INTEGER")):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT{extra})"))
        engine.dispose()
    engine = sa.create_engine(source)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO people VALUES (1, 'Ada')"))
    engine.dispose()
    return source, target


def walk(source: str, target: str) -> list[tuple[str, str]]:
    """(file relative to the package, function) for every call into sync_pipeline, in order."""
    calls: list[tuple[str, str]] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(PACKAGE):
            calls.append((str(path.relative_to(PACKAGE)), frame.f_code.co_qualname))

    sender = build_sender("sql", url=source, table="people")
    sys.setprofile(profile)
    try:
        chunks = sender.read(None)
        import_records(target, "people", chunks)
    finally:
        sys.setprofile(None)
    return calls


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        calls = walk(*_databases(Path(tmp)))
    files = [f for f, _ in calls]
    switches = sum(1 for a, b in itertools.pairwise(files) if a != b)
    print(f"functions: {len(set(calls))}")
    print(f"files:     {len(set(files))}")
    print(f"switches:  {switches}")
    if "-v" in sys.argv:
        for name in sorted(set(files)):
            entered = sum(1 for a, b in zip([None, *files], files, strict=False) if a != b == name)
            print(
                f"  {name}: {len({fn for f, fn in calls if f == name})} functions, "
                f"entered {entered} times"
            )


if __name__ == "__main__":
    main()

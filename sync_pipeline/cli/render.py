"""Plain-text output of the command line: diff tables, counts, values as text."""

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

WIDTH = 40  # longest value shown in a table cell
COUNTS = ("created", "updated", "unchanged", "skipped", "deleted", "missing")
DIFF_COUNTS = ("added", "changed", "unchanged", "skipped", "missing", "total")


def text(value: Any, width: int = WIDTH) -> str:
    """A value as a person reads it (`311.99`, `2026-01-07 07:50`, `NULL`), cut to `width`."""
    if value is None:
        out = "NULL"
    elif isinstance(value, dt.datetime):
        out = value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    elif isinstance(value, (Decimal, dt.date)):
        out = str(value)
    elif isinstance(value, tuple):
        out = ", ".join(text(v, width) for v in value)
    else:
        out = str(value)
    return out if len(out) <= width else out[: width - 1] + "…"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A left-aligned table with a header rule, columns as wide as their widest cell."""
    body = [list(r) for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=False)]
    lines = [list(header), ["-" * w for w in widths], *body]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines
    )


def diff_rows(entries: Iterable[Any]) -> list[list[str]]:
    """effect | key | field | old | new: a changed row gives one line per changed field."""
    out: list[list[str]] = []
    for e in entries:
        key = text(e.key)
        if e.effect == "changed":
            out += [[e.effect, key, f, text(o), text(n)] for f, (o, n) in e.changes.items()]
        elif e.changes:  # an added row: its values on one line
            values = ", ".join(f"{f}={text(n, 20)}" for f, (_, n) in e.changes.items())
            out.append([e.effect, key, "*", "", text(values, 2 * WIDTH)])
        else:
            out.append([e.effect, key, "", "", ""])
    return out


def counts(source: Any, names: Sequence[str]) -> str:
    """`created=3 updated=0 ...` from an ImportResult or a BatchDiff."""
    return " ".join(f"{n}={int(getattr(source, n) or 0)}" for n in names)

"""changed_rows: what makes a planned diff stale, decided on Arrow tables (no database)."""

import pyarrow as pa
import pytest

from sync_pipeline.engine.stale import changed_rows

NAN = float("nan")
PLANNED = {"id": [1, 2, 3], "v": [1.5, NAN, None], "t": ["a", None, None]}
CASES = [
    ("nothing changed (NaN = NaN, null = null)", {}, 0),
    ("a touched value changed", {"v": [1.25, NAN, None]}, 1),
    ("NaN became a number", {"v": [1.5, 0.0, None]}, 1),
    ("null became a value", {"t": ["a", "", None]}, 1),
    ("an untouched row's value changed", {"t": ["a", None, "x"], "v": [1.5, NAN, 7.0]}, 0),
    ("a row removed", {"id": [1, 2], "v": [1.5, NAN], "t": ["a", None]}, 1),
    (
        "a row added",
        {"id": [1, 2, 3, 4], "v": [1.5, NAN, None, 0.0], "t": ["a", None, None, ""]},
        1,
    ),
    ("a row replaced by another id", {"id": [1, 2, 5]}, 2),
]


@pytest.mark.parametrize(("what", "current", "n"), CASES, ids=[c[0] for c in CASES])
def test_changed_rows(what, current, n):
    planned = pa.table(PLANNED)
    now = pa.table({**PLANNED, **current}).cast(planned.schema)
    touched = pa.array([0, 1], pa.int64())  # rows 1 and 2; row 3 is missing from the batch
    assert changed_rows(planned, now, ("id",), touched) == n


def test_rows_with_a_null_identity_are_compared_too():
    planned = pa.table({"k": ["a", None], "v": [1, 2]})
    same = changed_rows(planned, planned, ("k",), pa.array([0, 1], pa.int64()))
    moved = changed_rows(
        planned, pa.table({"k": ["a", None], "v": [1, 3]}), ("k",), pa.array([1], pa.int64())
    )
    assert (same, moved) == (0, 1)

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
    ("a touched row removed", {"id": [1, 3], "v": [1.5, None], "t": ["a", None]}, 1),
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
    touched = planned.slice(0, 2)  # rows 1 and 2; row 3 is missing from the batch
    assert changed_rows(planned.select(["id"]), touched, now, ("id",), ["v", "t"]) == n


def test_rows_with_a_null_identity_are_compared_too():
    planned = pa.table({"k": ["a", None], "v": [1, 2]})
    scope = planned.select(["k"])
    same = changed_rows(scope, planned, planned, ("k",), ["v"])
    moved = changed_rows(
        scope, planned.slice(1), pa.table({"k": ["a", None], "v": [1, 3]}), ("k",), ["v"]
    )
    assert (same, moved) == (0, 1)


def test_only_the_compared_columns_count():
    planned = pa.table({"id": [1, 2], "__version": [7, 8], "v": [None, None]})
    now = pa.table({"id": [1, 2], "__version": [7, 9], "v": [5, None]})
    scope = planned.select(["id"])
    assert changed_rows(scope, planned, now, ("id",), ["__version"]) == 1


def test_one_more_row_of_a_repeated_identity_counts():
    planned = pa.table({"k": ["a", None, None], "v": [1, 2, 3]})
    now = pa.table({"k": ["a", None, None, None], "v": [1, 2, 3, 4]})
    scope = planned.select(["k"])
    assert changed_rows(scope, planned.slice(0, 1), now, ("k",), ["v"]) == 1
    assert changed_rows(scope, planned.slice(0, 1), now.slice(0, 2), ("k",), ["v"]) == 1
    assert changed_rows(scope, planned.slice(0, 1), planned, ("k",), ["v"]) == 0

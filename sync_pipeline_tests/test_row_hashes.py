"""Row hashes (what the `unique` rule keeps of a batch): equal rows hash alike wherever they sit
(any chunk, any slice offset, nulls alike), and `unique` over any chunking reports what pandera
reports on the whole batch."""

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.row_hashes import row_hashes
from sync_pipeline.syncs.rules import check_rule
from sync_pipeline.syncs.spec import Rule

# Few distinct values, so that equal rows (and duplicates) are common.
TYPES = {
    "int": (pa.int64(), st.integers(-3, 3)),
    "text": (pa.string(), st.sampled_from(["", "a", "ab", "ba", "é", "a\x00", "x" * 1500])),
    "bytes": (pa.large_binary(), st.sampled_from([b"", b"\x00", b"\x00\x00", b"ab"])),
    "decimal": (pa.decimal128(12, 2), st.sampled_from([Decimal("0.00"), Decimal("1.50")])),
    "when": (pa.timestamp("us", "UTC"), st.sampled_from([dt.datetime(2026, 1, 1, tzinfo=dt.UTC)])),
    "flag": (pa.bool_(), st.booleans()),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, list[int]]:
    """A table of 1-3 covered columns (nulls included) and cut points that chunk it."""
    names = draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=3, unique=True))
    n = draw(st.integers(1, 40))
    columns = {}
    for name in names:
        kind, values = TYPES[name]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=n, max_size=n)), kind)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return pa.table(columns), cuts


def chunked(table: pa.Table, cuts: list[int]) -> list[pa.Table]:
    bounds = [0, *cuts, table.num_rows]
    return [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]


@given(tables())
@settings(max_examples=200, deadline=None)
def test_equal_rows_hash_alike_in_any_chunk(drawn: tuple[pa.Table, list[int]]) -> None:
    table, cuts = drawn
    hashes = np.concatenate([row_hashes(chunk) for chunk in chunked(table, cuts)])
    rows = [tuple(r.values()) for r in table.to_pylist()]
    for i, j in zip(*np.triu_indices(len(rows), 1), strict=True):
        if rows[i] == rows[j]:
            assert hashes[i] == hashes[j], (rows[i], cuts)
    # and the hash tells these few values apart: no two different rows collide here
    assert len(set(hashes.tolist())) == len(set(rows))


@given(tables())
@settings(max_examples=100, deadline=None)
def test_unique_over_any_chunking_reports_what_pandera_reports_on_the_batch(
    drawn: tuple[pa.Table, list[int]],
) -> None:
    table, cuts = drawn
    rule = Rule("u", "unique", tuple(table.column_names))
    keys = table.column_names[:1]
    expected = check_rule(rule, table.to_pandas(types_mapper=pd.ArrowDtype), keys)

    (outcome,) = check_chunks([rule], chunked(table, cuts), keys)

    assert (outcome.passed, outcome.failures, outcome.sample) == (
        expected.passed,
        expected.failures,
        expected.sample,
    )


def test_uncovered_types_have_no_hash() -> None:
    assert row_hashes(pa.table({"x": [1.5]})) is None
    assert row_hashes(pa.table({"x": pa.array([[1]])})) is None
    assert row_hashes(pa.table({"x": pa.array(["a"]).dictionary_encode()})) is not None
    assert row_hashes(pa.table({"x": pa.chunked_array([], pa.string())})).tolist() == []


def test_a_duplicate_is_named_by_its_key_and_place_in_the_batch() -> None:
    first = pa.table({"order_id": [1, 2, 3], "sku": ["a", "b", "c"]})
    second = pa.table({"order_id": [4, 5, 6], "sku": ["d", "b", "e"]})
    rule = Rule("u", "unique", ("sku",))
    whole = pd.concat([first.to_pandas(), second.to_pandas()], ignore_index=True)

    (outcome,) = check_chunks([rule], [first, second], ["order_id"])

    assert (outcome.failures, outcome.sample) == (2, ("2", "5"))
    assert outcome.sample == check_rule(rule, whole, ["order_id"]).sample

"""Staged batches keep every Arrow type exactly, are read back one chunk at a time, and live in a
local folder or behind any fsspec URL (docs/dagster.md, "Staging")."""

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from sync_pipeline.syncs import staging

EXACT = pa.table(
    {
        "big": pa.array([2**53 + 1, 2**63 - 1, -(2**63)], pa.int64()),
        "amount": pa.array(
            [Decimal("12345678901234567890123456.1234567891")] * 3, pa.decimal128(38, 10)
        ),
        "at": pa.array([dt.datetime(2026, 1, 3, 10, tzinfo=dt.UTC)] * 3, pa.timestamp("us", "UTC")),
        "naive": pa.array([dt.datetime(2026, 1, 3, 10, 0, 0, 1)] * 3, pa.timestamp("us")),
        "doc": pa.array(['{"a": [1, 2]}', None, "null"], pa.json_(pa.string())),
        "name": ["Zoë", "日本", "😀"],
    }
)


@pytest.fixture(params=["local", "memory", "file_url"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return {
        "local": str(tmp_path / "batch"),
        "memory": f"memory://staging-{uuid.uuid4().hex}/batch",
        "file_url": (tmp_path / "batch").as_uri(),
    }[request.param]


def test_every_type_comes_back_exactly(location: str) -> None:
    staged = staging.stage([EXACT.slice(0, 2), EXACT.slice(2)], location)

    chunks = list(staged.chunks())

    assert [c.num_rows for c in chunks] == [2, 1]
    assert pa.concat_tables(chunks).equals(EXACT)
    assert staged.schema == EXACT.schema
    assert staged.num_rows == 3


def test_chunks_are_read_one_at_a_time(location: str) -> None:
    staged = staging.stage((EXACT.slice(i, 1) for i in range(3)), location)
    chunks = staged.chunks()

    first = next(chunks)

    assert first.num_rows == 1  # the rest is still on storage
    assert sum(c.num_rows for c in chunks) == 2


def test_chunks_may_differ_in_schema_and_the_batch_schema_unifies_them(location: str) -> None:
    all_null = pa.table({"id": [1], "note": pa.nulls(1)})
    staged = staging.stage([all_null, pa.table({"id": [2], "note": ["x"]})], location)

    assert staged.schema.field("note").type == pa.string()
    assert [c["note"].to_pylist() for c in staged.chunks()] == [[None], ["x"]]


def test_staging_again_replaces_the_old_chunks_and_an_empty_stream_still_exists(
    location: str,
) -> None:
    staging.stage([EXACT, EXACT, EXACT], location)

    staged = staging.stage([], location)

    assert staging.exists(location)
    assert staged.num_rows == 0
    assert [c.num_rows for c in staged.chunks()] == [0]


def test_head_reads_only_the_first_chunk(location: str) -> None:
    staged = staging.stage([EXACT.slice(0, 2), EXACT.slice(2)], location)

    assert staged.head(5).to_pylist() == EXACT.slice(0, 2).to_pylist()

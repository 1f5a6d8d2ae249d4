"""`progress=callable(done, total, phase)` hears of every written chunk, with growing counts."""

import io

import pandas as pd
import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, import_records
from sync_pipeline.errors import ConfigError
from sync_pipeline.progress import tqdm_progress


def _table(db) -> None:
    db.create(
        sa.Table(
            "items",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.Text),
            sa.Column("last_batch_id", sa.BigInteger),
        )
    )


def test_progress_is_called_per_chunk_with_the_batch_total(db):
    _table(db)
    calls: list[tuple] = []
    records = [{"id": i, "name": f"n{i}"} for i in range(5)]
    result = import_records(
        db.engine,
        "items",
        records,
        match_by="id",
        chunk_size=2,
        progress=lambda *a: calls.append(a),
    )
    assert result.created == 5
    assert calls == [(2, 5, "write"), (4, 5, "write"), (5, 5, "write")]


def test_streamed_chunks_report_growing_counts_without_a_total(db):
    _table(db)
    calls: list[tuple] = []
    chunks = [pd.DataFrame({"id": [i, i + 1], "name": ["a", "b"]}) for i in (0, 2, 4)]
    BatchImport(db.engine, "items", match_by="id", progress=lambda *a: calls.append(a)).run(
        iter(chunks)
    )
    assert [c[0] for c in calls] == [2, 4, 6]
    assert {c[1] for c in calls} == {None}


def test_tqdm_adapter_draws_rows_and_rate(sqlite):
    _table(sqlite)
    out = io.StringIO()
    with tqdm_progress(file=out, disable=False) as progress:
        import_records(
            sqlite.engine, "items", [{"id": i} for i in range(3)], chunk_size=2, progress=progress
        )
    assert "3/3" in out.getvalue() and "rows/s" in out.getvalue()


def test_progress_must_be_callable():
    with pytest.raises(ConfigError, match="progress must be a callable"):
        BatchImport("sqlite://", "items", progress=3)

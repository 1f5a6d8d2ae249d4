"""SqlSender values arrive exactly: Postgres through COPY, the others fetched in bulk."""

import datetime as dt
import json
import math
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sync_pipeline.senders.sql import SqlSender
from sync_pipeline_tests.senders.sources import Source

pytestmark = pytest.mark.integration

JSON_VALUES = [{"b": 1, "a": [1, "x", None]}, [3, {"z": True}], "plain text", 42, {"ü": "é"}]


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _read(source: Source, **kw: object) -> list[pa.Table]:
    return list(SqlSender(source.url, table=source.name, **kw).read())  # type: ignore[arg-type]


def test_json_columns_arrive_as_canonical_json_text(source: Source) -> None:
    t = source.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("doc", sa.JSON),
    )
    source.insert(t, [{"id": i, "doc": v} for i, v in enumerate(JSON_VALUES)])
    chunks = _read(source, chunk_size=2)
    got = {r["id"]: r["doc"] for c in chunks for r in c.to_pylist()}
    if source.kind == "mariadb":  # MariaDB's JSON is LONGTEXT: the stored text, as text
        assert chunks[0].schema.field("doc").type == pa.string()
        assert {i: json.loads(v) for i, v in got.items()} == dict(enumerate(JSON_VALUES))
        return
    assert chunks[0].schema.field("doc").type == pa.json_(pa.string())
    assert got == {i: _canonical(v) for i, v in enumerate(JSON_VALUES)}


def test_postgres_jsonb_and_json_columns(pg) -> None:
    src = Source(pg)
    t = src.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("j", postgresql.JSON),
        sa.Column("jb", postgresql.JSONB),
    )
    src.insert(t, [{"id": i, "j": v, "jb": v} for i, v in enumerate(JSON_VALUES)])
    rows = [r for c in _read(src) for r in c.to_pylist()]
    assert {r["id"]: (r["j"], r["jb"]) for r in rows} == {
        i: (_canonical(v), _canonical(v)) for i, v in enumerate(JSON_VALUES)
    }


EXACT = [
    # column, SQL type, Arrow type, values (the last one null)
    ("big", sa.BigInteger, pa.int64(), [2**63 - 1, -(2**63), 2**53 + 1, 0]),
    (
        "num",
        sa.Numeric(38, 10),
        pa.decimal128(38, 10),
        [Decimal("1234567890123456789012345678.0123456789"), Decimal("-0.0000000001"), Decimal(0)],
    ),
    (
        "at",
        sa.DateTime(timezone=True),
        pa.timestamp("us", tz="UTC"),
        [
            dt.datetime(2025, 3, 30, 1, 30, 0, 123456, tzinfo=dt.UTC),
            dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        ],
    ),
    (
        "dbl",
        postgresql.DOUBLE_PRECISION,
        pa.float64(),
        [float("inf"), float("-inf"), 5e-324, 1.7976931348623157e308, 0.1],
    ),
    ("txt", sa.Text, pa.string(), ['line\nbreak, "quoted"', "cr\r\nlf", "", "x,y", "\\N"]),
    ("raw", postgresql.BYTEA, pa.binary(), [b'\x00\xff\n,"', b"", b"\\x00"]),
]


@pytest.mark.parametrize(("name", "sql_type", "arrow", "values"), EXACT, ids=[e[0] for e in EXACT])
def test_postgres_copy_reads_values_exactly(pg, name, sql_type, arrow, values) -> None:
    src = Source(pg)
    t = src.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(name, sql_type),
    )
    expected = [*values, None]
    src.insert(t, [{"id": i, name: v} for i, v in enumerate(expected)])
    chunks = _read(src, chunk_size=2)
    assert all(c.schema.field(name).type == arrow for c in chunks)
    got = {r["id"]: r[name] for c in chunks for r in c.to_pylist()}
    assert got == dict(enumerate(expected))


def test_chunks_never_exceed_chunk_size(source: Source) -> None:
    t = source.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text),
    )
    source.insert(t, [{"id": i, "note": "n\n" * (i % 7)} for i in range(1000)])
    chunks = _read(source, chunk_size=64)
    assert max(c.num_rows for c in chunks) <= 64
    assert sorted(i for c in chunks for i in c.column("id").to_pylist()) == list(range(1000))


def test_empty_batch_still_has_typed_columns(source: Source) -> None:
    source.table(
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("doc", sa.JSON),
        sa.Column("amount", sa.Numeric(12, 3)),
    )
    [chunk] = _read(source)
    assert chunk.num_rows == 0
    assert chunk.schema.field("id").type == pa.int64()
    json_type = pa.string() if source.kind == "mariadb" else pa.json_(pa.string())
    assert chunk.schema.field("doc").type == json_type
    assert chunk.schema.field("amount").type == pa.decimal128(12, 3)


def test_integer_delete_flag_becomes_bool(source: Source) -> None:
    t = source.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("gone", sa.Integer),
    )
    source.insert(t, [{"id": i, "gone": i % 2} for i in range(4)])
    chunks = _read(source, delete_flag="gone")
    assert chunks[0].schema.field("gone").type == pa.bool_()
    got = {r["id"]: r["gone"] for c in chunks for r in c.to_pylist()}
    assert got == {0: False, 1: True, 2: False, 3: True}


def test_timestamptz_cursor_is_tracked(pg, tmp_path) -> None:
    src = Source(pg)
    t = src.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True)),
    )
    top = dt.datetime(2025, 6, 1, 12, 0, 0, 1, tzinfo=dt.UTC)
    src.insert(t, [{"id": 1, "at": top - dt.timedelta(days=1)}, {"id": 2, "at": top}])
    sender = SqlSender(
        pg.url, table=src.name, cursor_column="at", cursor_store=tmp_path / "c.db", chunk_size=1
    )
    assert [r["id"] for c in sender.read() for r in c.to_pylist()] == [1, 2]
    assert sender.pending_cursor == top


def test_postgres_nan_stays_nan_and_null_stays_null(pg) -> None:
    src = Source(pg)
    t = src.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("f", postgresql.DOUBLE_PRECISION),
    )
    src.insert(t, [{"id": 1, "f": float("nan")}, {"id": 2, "f": None}])
    got = {r["id"]: r["f"] for c in _read(src) for r in c.to_pylist()}
    assert math.isnan(got[1])
    assert got[2] is None

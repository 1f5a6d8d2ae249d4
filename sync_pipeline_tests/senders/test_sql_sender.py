"""SqlSender against real Postgres, SQLite and MariaDB."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders import PartitionFilter, build_sender
from sync_pipeline.senders.errors import SchemaDriftError, SenderError
from sync_pipeline.senders.sql import SqlSender
from sync_pipeline.senders.state import CursorStore
from sync_pipeline_tests.senders.sources import Source


def _orders(source: Source, n: int = 7) -> sa.Table:
    t = source.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40)),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("day", sa.Date),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("gone", sa.Boolean),
        sa.Column("tenant", sa.String(10)),
    )
    source.insert(
        t,
        [
            {
                "id": i,
                "name": f"n{i}",
                "amount": Decimal(i) + Decimal("0.25"),
                "day": dt.date(2025, 1, i),
                "updated_at": dt.datetime(2025, 1, i, 12),
                "gone": i % 3 == 0,
                "tenant": "a" if i % 2 else "b",
            }
            for i in range(1, n + 1)
        ],
    )
    return t


def _rows(sender: SqlSender, partition: PartitionFilter | None = None) -> list[dict]:
    return [r for chunk in sender.read(partition) for r in chunk.to_pylist()]


def test_reads_a_table_with_types_from_the_schema(source: Source) -> None:
    _orders(source, 3)
    chunks = list(SqlSender(source.url, table=source.name).read())
    schema = chunks[0].schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("amount").type == pa.decimal128(10, 2)
    assert schema.field("day").type == pa.date32()
    rows = [r for c in chunks for r in c.to_pylist()]
    assert [r["id"] for r in sorted(rows, key=lambda r: r["id"])] == [1, 2, 3]
    assert rows[0]["amount"] == Decimal("1.25") or Decimal("1.25") in [r["amount"] for r in rows]


def test_streams_in_chunks_of_at_most_chunk_size(source: Source) -> None:
    _orders(source, 7)
    chunks = list(SqlSender(source.url, table=source.name, chunk_size=3).read())
    assert [c.num_rows for c in chunks] == [3, 3, 1]
    assert all(c.schema == chunks[0].schema for c in chunks)


def test_selects_and_renames_columns(source: Source) -> None:
    _orders(source, 2)
    sender = SqlSender(
        source.url, table=source.name, columns=["id", "name"], rename={"name": "label"}
    )
    rows = sorted(_rows(sender), key=lambda r: r["id"])
    assert rows == [{"id": 1, "label": "n1"}, {"id": 2, "label": "n2"}]


def test_reads_a_query(source: Source) -> None:
    _orders(source, 5)
    # The table name is ours (uuid-based), not outside input.
    sender = SqlSender(source.url, query=f"SELECT id, name FROM {source.name} WHERE id >= 4;")
    assert sorted(r["id"] for r in _rows(sender)) == [4, 5]


def test_unknown_column_is_named_with_a_hint(source: Source) -> None:
    _orders(source, 1)
    sender = SqlSender(source.url, table=source.name, columns=["id", "nmae"])
    with pytest.raises(SchemaDriftError, match=r"'nmae'.*did you mean 'name'"):
        list(sender.read())


def test_missing_table_is_an_error(source: Source) -> None:
    with pytest.raises(SenderError, match="does not exist"):
        list(SqlSender(source.url, table="no_such_table_x").read())


def test_time_window_partition(source: Source) -> None:
    _orders(source, 7)
    window = PartitionFilter.window("day", dt.date(2025, 1, 2), dt.date(2025, 1, 5))
    rows = _rows(SqlSender(source.url, table=source.name), window)
    assert sorted(r["id"] for r in rows) == [2, 3, 4]


def test_static_partition(source: Source) -> None:
    _orders(source, 5)
    rows = _rows(SqlSender(source.url, table=source.name), PartitionFilter.static("tenant", "b"))
    assert sorted(r["id"] for r in rows) == [2, 4]


def test_partition_by_renamed_column(source: Source) -> None:
    _orders(source, 5)
    sender = SqlSender(source.url, table=source.name, rename={"tenant": "shard"})
    rows = _rows(sender, PartitionFilter.static("shard", "a"))
    assert sorted(r["id"] for r in rows) == [1, 3, 5]


def test_incremental_cursor_across_two_runs(source: Source, tmp_path) -> None:
    t = _orders(source, 4)
    store = CursorStore(tmp_path / "cursors.db")
    sender = SqlSender(
        source.url, table=source.name, cursor_column="updated_at", cursor_store=store, name="orders"
    )
    assert sorted(r["id"] for r in _rows(sender)) == [1, 2, 3, 4]
    sender.commit_cursor()
    assert store.get("orders") == dt.datetime(2025, 1, 4, 12)
    with source.engine.begin() as conn:
        conn.execute(t.update().where(t.c.id == 2).values(updated_at=dt.datetime(2025, 2, 1)))
        conn.execute(t.insert().values(id=9, name="new", updated_at=dt.datetime(2025, 2, 2)))
    second = SqlSender(
        source.url, table=source.name, cursor_column="updated_at", cursor_store=store, name="orders"
    )
    assert [r["id"] for r in _rows(second)] == [2, 9]


def test_cursor_moves_only_on_commit_so_a_failed_run_rereads(source: Source, tmp_path) -> None:
    _orders(source, 3)
    store = CursorStore(tmp_path / "cursors.db")
    sender = SqlSender(source.url, table=source.name, cursor_column="id", cursor_store=store)
    assert len(_rows(sender)) == 3  # run 1 "fails" after reading: no commit
    assert store.get(sender.name) is None
    assert len(_rows(sender)) == 3
    assert sender.commit_cursor() == 3
    assert _rows(sender) == []


def test_cursor_column_not_selected_is_tracked_but_not_delivered(source: Source, tmp_path) -> None:
    _orders(source, 2)
    sender = SqlSender(
        source.url, table=source.name, columns=["name"], cursor_column="id",
        cursor_store=str(tmp_path / "c.db"),
    )  # fmt: skip
    assert sorted(_rows(sender), key=lambda r: r["name"]) == [{"name": "n1"}, {"name": "n2"}]
    assert sender.pending_cursor == 2


def test_delete_flag_is_delivered_as_bool(source: Source) -> None:
    _orders(source, 3)
    sender = SqlSender(source.url, table=source.name, delete_flag="gone")
    chunk = next(iter(sender.read()))
    assert chunk.schema.field("gone").type == pa.bool_()
    assert {r["id"]: r["gone"] for r in chunk.to_pylist()} == {1: False, 2: False, 3: True}


def test_password_never_appears_in_errors() -> None:
    sender = SqlSender("postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:1/test", table="x")
    with pytest.raises(SenderError) as err:
        list(sender.read())
    assert "s3cr3t-pw" not in str(err.value)
    assert "***" in str(err.value)


def test_config_errors() -> None:
    with pytest.raises(ConfigError):
        SqlSender("sqlite://", table="a", query="select 1")
    with pytest.raises(ConfigError):
        SqlSender("sqlite://", table="a", cursor_column="id")


def test_build_sender_sql(source: Source) -> None:
    _orders(source, 2)
    sender = build_sender("sql", url=source.url, table=source.name, columns=["id"])
    assert sorted(r["id"] for c in sender.read() for r in c.to_pylist()) == [1, 2]


def test_reads_use_server_side_cursors(source: Source) -> None:
    """Memory does not grow with the table: Postgres and MariaDB stream via server cursors."""
    _orders(source, 5)
    cursors: list[str] = []

    def spy(conn, cursor, *args) -> None:
        cursors.append(type(cursor).__name__)

    engine = sa.create_engine(source.url)
    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        chunks = list(SqlSender(engine, table=source.name, chunk_size=2).read())
    finally:
        engine.dispose()
    assert [c.num_rows for c in chunks] == [2, 2, 1]
    if source.kind == "postgres":  # streamed by COPY TO STDOUT, outside SQLAlchemy's cursors
        assert "ServerCursor" not in cursors
        return
    expected = {"mariadb": "SSCursor", "sqlite": "Cursor"}[source.kind]
    assert cursors[-1] == expected  # SQLite's cursor fetches lazily by itself


def test_first_chunk_arrives_without_reading_the_whole_result(pg) -> None:
    sender = SqlSender(
        pg.url, query="SELECT g AS id FROM generate_series(1, 3000000) g", chunk_size=10
    )
    reader = sender.read()
    assert next(reader).column("id").to_pylist() == list(range(1, 11))
    reader.close()


def test_schema_qualified_table_on_postgres(pg) -> None:
    src = Source(pg)
    _orders(src, 2)
    rows = _rows(SqlSender(pg.url, table=f"{pg.schema}.{src.name}", columns=["id"]))
    assert sorted(r["id"] for r in rows) == [1, 2]


def test_partition_keys_given_as_text_are_read_as_the_column_type(source: Source) -> None:
    _orders(source, 5)
    sender = SqlSender(source.url, table=source.name)
    assert sorted(r["id"] for r in _rows(sender, PartitionFilter.static("id", "3"))) == [3]
    window = PartitionFilter(column="day", start="2025-01-04", end="2025-01-06")  # type: ignore[arg-type]
    assert sorted(r["id"] for r in _rows(sender, window)) == [4, 5]
    with pytest.raises(ConfigError, match="does not fit column 'id'"):
        list(sender.read(PartitionFilter.static("id", "three")))


@pytest.mark.parametrize(
    "bad", ["orders; DROP TABLE x; --", "orders' OR '1'='1", 'o"; DELETE FROM x; --']
)
def test_sql_metacharacters_in_names_are_rejected_not_run(source: Source, bad: str) -> None:
    _orders(source, 2)
    with pytest.raises(SenderError):
        list(SqlSender(source.url, table=bad).read())
    with pytest.raises(SchemaDriftError):
        list(SqlSender(source.url, table=source.name, columns=["id", bad]).read())
    with pytest.raises(SchemaDriftError):
        list(SqlSender(source.url, table=source.name).read(PartitionFilter.static(bad, 1)))
    assert len(_rows(SqlSender(source.url, table=source.name))) == 2


def test_unconstrained_numeric_keeps_every_digit_across_chunks(source: Source) -> None:
    t = source.table(
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("v", sa.Numeric),
    )
    values = [Decimal("1.5"), Decimal("2.25"), Decimal("123456.123456789012")]
    source.insert(t, [{"id": i, "v": v} for i, v in enumerate(values)])
    chunks = list(SqlSender(source.url, table=source.name, chunk_size=1, cursor_column=None).read())
    got = [r["v"] for c in chunks for r in c.to_pylist()]
    if source.kind == "mariadb":  # MariaDB's NUMERIC without arguments is DECIMAL(10,0)
        return
    if source.kind == "sqlite":  # SQLite stores NUMERIC as a float: its own precision limit
        assert got[:2] == values[:2]
        return
    assert got == values
    assert pa.types.is_decimal(chunks[0].schema.field("v").type)

"""Issue 2 point 10: Postgres stages with COPY and applies set-based SQL; SQLite uses chunked
executemany. The number of statements must not grow with the number of rows."""

import pyarrow as pa
import pytest
import sqlalchemy as sa

import sync_pipeline.db.copy as copy_module
from sync_pipeline import import_records
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


def statements_for(db, n, chunk_size=10_000):
    """Seed n rows, then sync n rows (1/3 changed, 1/3 unchanged, 1/3 new); count statements."""
    import_records(db.engine, "people", [{"id": i, "name": f"n{i}"} for i in range(n)])
    batch = [
        {"id": i, "name": f"n{i}" if i % 2 else f"changed{i}"} for i in range(n // 3, n + n // 3)
    ]
    seen: list[tuple[str, bool]] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        verb = statement.split()[0].upper()
        if verb != "ANALYZE":  # big stages are analyzed once each; not a per-row statement
            seen.append((verb, executemany))

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        result = import_records(db.engine, "people", batch, "overwrite", chunk_size=chunk_size)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    assert result.created == n // 3 and result.updated + result.unchanged == n - n // 3
    return seen


def test_postgres_statement_count_does_not_grow_with_rows(pg, monkeypatch):
    pg.create(people())
    copies = []
    real = copy_module.copy_into

    def counting_copy(conn, stage, data):
        copies.append(data.num_rows)
        return real(conn, stage, data)

    monkeypatch.setattr("sync_pipeline.db.copy.copy_into", counting_copy)
    small = statements_for(pg, 30)
    pg.execute("DELETE FROM people")
    pg.execute("DELETE FROM _sync_batches")
    copies.clear()
    large = statements_for(pg, 3000)
    assert len(small) == len(large)
    assert not any(many for _, many in large)  # no executemany on the Postgres path
    assert copies == [3000, 1000, 1000, 1000]  # seed; then new, changed and unchanged (stamped)
    assert {"INSERT", "UPDATE"} <= {verb for verb, _ in large}


def test_sqlite_uses_chunked_executemany(sqlite):
    sqlite.create(people())
    seen = statements_for(sqlite, 300, chunk_size=100)
    bulk = [verb for verb, many in seen if many]
    single_writes = [
        verb for verb, many in seen if not many and verb in {"INSERT", "UPDATE", "DELETE"}
    ]
    # 400 rows in chunks of 100: at most insert + update + stamp per chunk, each one executemany
    assert 4 <= len(bulk) <= 3 * 4
    # the batch's ledger row, replaced; the rows missing after earlier batches that this one saw
    assert single_writes == ["DELETE", "DELETE", "INSERT"]


def test_a_big_stamp_gets_room_for_its_hash_join_and_the_setting_comes_back(pg):
    """A stamp joins every seen row with the target: at the default work_mem the join spills
    to disk and updates the target out of order, so it runs with enough memory (capped)."""
    read = sa.select(sa.func.current_setting("work_mem"))
    with pg.engine.begin() as conn:
        before = conn.execute(read).scalar_one()
        with copy_module.work_memory_for(conn, 1_000_000):
            assert conn.execute(read).scalar_one() == "78125kB"
        assert conn.execute(read).scalar_one() == before
        with copy_module.work_memory_for(conn, 10**9):
            assert conn.execute(read).scalar_one() == "256MB"
        with copy_module.work_memory_for(conn, 10):
            assert conn.execute(read).scalar_one() == before


def test_a_big_copy_goes_in_slices_and_every_value_arrives(pg, monkeypatch):
    """COPY writes the CSV of a slice at a time (the text of a big table is never whole in
    memory); the rows are the same as one COPY would give, across the slice boundaries."""
    table = sa.Table(
        "sliced",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("note", sa.Text),
        sa.Column("blob", sa.LargeBinary),
    )
    pg.create(table)
    n = 25_000
    notes = [None if i % 7 == 0 else f'n{i}, "q"\nline 2 é' for i in range(n)]
    blobs = [None if i % 5 == 0 else i.to_bytes(3, "big") for i in range(n)]
    data = pa.table({"id": list(range(n)), "note": notes, "blob": pa.array(blobs, pa.binary())})
    slices = []
    real_write = copy_module.pacsv.write_csv

    def counting_write(part, *args, **kwargs):
        slices.append(part.num_rows)
        return real_write(part, *args, **kwargs)

    monkeypatch.setattr(copy_module, "BLOCK_BYTES", 1)  # the smallest slice: 10,000 rows
    monkeypatch.setattr(copy_module.pacsv, "write_csv", counting_write)
    with pg.engine.begin() as conn:
        copy_module.copy_into(conn, table, data)
    assert slices == [10_000, 10_000, 5_000]
    rows = pg.rows("sliced")
    assert [r["note"] for r in rows] == notes
    assert [None if r["blob"] is None else bytes(r["blob"]) for r in rows] == blobs

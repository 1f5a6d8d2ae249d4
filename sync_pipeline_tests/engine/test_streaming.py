"""Chunk streams (as senders yield them): each chunk is looked up by key and written in turn."""

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, import_records, missing_after_batch
from sync_pipeline.db.read import scope_fits
from sync_pipeline.db.schema import reflect
from sync_pipeline.engine import pipeline
from sync_pipeline.errors import DuplicateKeyError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


def chunks(rows, size):
    for start in range(0, len(rows), size):
        yield pa.Table.from_pylist(rows[start : start + size])


@pytest.fixture
def ppl(db, monkeypatch):
    # every chunk its own look-up unit, so the cross-chunk paths run (see the coalescing test),
    # and no scope small enough to hold (see the held-scope tests)
    monkeypatch.setattr(pipeline, "LOOKUP_ROWS", 1)
    monkeypatch.setattr(pipeline, "HOLD_BYTES", 0)
    db.create(people())
    import_records(db.engine, "people", [{"id": i, "name": f"n{i}"} for i in range(1, 11)])
    return db


@pytest.mark.parametrize("mode", ["column", "ledger"])
def test_a_stream_gives_the_same_result_as_one_batch(ppl, mode):
    rows = [{"id": i, "name": f"n{i}" if i % 3 else "changed"} for i in range(3, 15)]
    result = import_records(ppl.engine, "people", chunks(rows, 4), "overwrite", batch_mode=mode)
    assert (result.created, result.updated, result.unchanged, result.missing) == (4, 3, 5, 2)
    assert [r["id"] for r in missing_after_batch(ppl.engine, "people", result.batch_id)] == [1, 2]
    assert [r["name"] for r in ppl.rows("people")][2:9] == [
        "changed",
        "n4",
        "n5",
        "changed",
        "n7",
        "n8",
        "changed",
    ]


def test_only_the_rows_a_chunk_hits_are_read(ppl):
    statements = []
    sa.event.listen(ppl.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    import_records(ppl.engine, "people", chunks([{"id": 2, "name": "x"}], 1), "overwrite")
    reads = [
        s
        for s in statements
        if "FROM people" in s and "SELECT" in s and "max(" not in s and "count(" not in s
    ]
    if ppl.kind == "sqlite":  # Postgres reads through COPY, which the event does not see
        lookups = [s for s in reads if " IN (SELECT" in s]
        # besides the look-ups, ledger mode reads the ids (only) of the rows no chunk saw
        unseen = [
            s for s in reads if s.startswith("SELECT people.id AS id \nFROM people \nWHERE NOT")
        ]
        assert lookups and sorted(lookups + unseen) == sorted(reads)
    assert ppl.rows("people")[1]["name"] == "x"


@pytest.mark.parametrize(("policy", "name"), [("first", "early"), ("last", "late")])
def test_duplicates_across_chunks_follow_the_policy(ppl, policy, name):
    rows = [{"id": 20, "name": "early"}, {"id": 21}, {"id": 20, "name": "late"}]
    result = import_records(ppl.engine, "people", chunks(rows, 2), "overwrite", duplicates=policy)
    assert ppl.rows("people")[-2]["name"] == name
    assert result.created == 2


def test_duplicates_across_chunks_are_an_error_by_default(ppl):
    rows = [{"id": 20, "name": "early"}, {"id": 21}, {"id": 20, "name": "late"}]
    with pytest.raises(DuplicateKeyError):
        import_records(ppl.engine, "people", chunks(rows, 2), "overwrite")
    assert len(ppl.rows("people")) == 10


def test_prepare_looks_rows_up_per_chunk_too(ppl):
    with BatchImport(ppl.engine, "people", "overwrite", chunk_size=3).prepare() as prepared:
        prepared.add_many({"id": i, "name": f"n{i}"} for i in range(5, 12))
        result = prepared.flush()
    assert (result.created, result.unchanged, result.missing) == (1, 6, 4)


def test_small_chunks_are_looked_up_together_with_the_same_result(ppl, monkeypatch):
    """A look-up costs about a scan of the target: chunks are joined into units of
    LOOKUP_ROWS rows (here 5) before the target is read, not read once per chunk."""
    monkeypatch.setattr(pipeline, "LOOKUP_ROWS", 5)
    looked_up = []
    read = pipeline.read_existing
    monkeypatch.setattr(
        pipeline, "read_existing", lambda *a, **k: looked_up.append(a[2].num_rows) or read(*a, **k)
    )
    rows = [{"id": i, "name": f"n{i}" if i % 3 else "changed"} for i in range(3, 15)]
    result = import_records(ppl.engine, "people", chunks(rows, 2), "overwrite")
    assert looked_up == [6, 6]
    assert (result.created, result.updated, result.unchanged, result.missing) == (4, 3, 5, 2)
    assert [r["name"] for r in ppl.rows("people")][2:6] == ["changed", "n4", "n5", "changed"]


def test_chunks_of_another_schema_start_a_unit_of_their_own():
    tables = [pa.table({"id": [1]}), pa.table({"id": [2]}), pa.table({"id": ["3"]})]
    units = list(pipeline.coalesce(iter(tables), 10))
    assert [u.num_rows for u in units] == [2, 1]
    assert units[1].schema == tables[2].schema


def test_an_iterator_of_mappings_is_one_batch(ppl):
    result = import_records(ppl.engine, "people", ({"id": i, "name": f"n{i}"} for i in (1, 2, 99)))
    assert (result.created, result.skipped) == (1, 2)


@pytest.fixture
def reads():
    """What the stream read of the target: "scope" (all of it) or "unit" (one unit's rows)."""
    return []


@pytest.fixture
def held(pg, monkeypatch, reads):
    """Postgres with a scope small enough to hold: read once, every chunk matched against it."""
    monkeypatch.setattr(pipeline, "LOOKUP_ROWS", 1)
    pg.create(people())
    import_records(pg.engine, "people", [{"id": i, "name": f"n{i}"} for i in range(1, 11)])
    fetch, look_up = pipeline._fetch_scope, pipeline.read_existing
    monkeypatch.setattr(pipeline, "_fetch_scope", lambda *a: reads.append("scope") or fetch(*a))
    monkeypatch.setattr(
        pipeline, "read_existing", lambda *a, **k: reads.append("unit") or look_up(*a, **k)
    )
    return pg


@pytest.mark.parametrize("mode", ["column", "ledger"])
def test_a_held_scope_is_read_once_and_gives_the_result_of_one_batch(held, reads, mode):
    rows = [{"id": i, "name": f"n{i}" if i % 3 else "changed"} for i in range(3, 15)]
    result = import_records(held.engine, "people", chunks(rows, 4), "overwrite", batch_mode=mode)
    assert reads == ["scope"]
    assert (result.created, result.updated, result.unchanged, result.missing) == (4, 3, 5, 2)
    assert [r["id"] for r in missing_after_batch(held.engine, "people", result.batch_id)] == [1, 2]
    assert [r["name"] for r in held.rows("people")][2:7] == ["changed", "n4", "n5", "changed", "n7"]


def test_a_held_scope_counts_only_the_rows_in_scope_as_missing(held, reads):
    rows = [{"id": i, "name": f"n{i}"} for i in (2, 3, 7, 20)]
    above_one = sa.table("people", sa.column("id")).c.id > 1
    result = import_records(
        held.engine, "people", chunks(rows, 1), "overwrite", where=above_one, batch_mode="ledger"
    )
    assert reads == ["scope"]
    assert (result.created, result.unchanged, result.missing) == (1, 3, 6)
    missing = [r["id"] for r in missing_after_batch(held.engine, "people", result.batch_id)]
    assert missing == [4, 5, 6, 8, 9, 10]


def test_duplicates_first_across_chunks_of_a_held_scope_keep_the_early_record(held, reads):
    rows = [{"id": 2, "name": "early"}, {"id": 21}, {"id": 2, "name": "late"}]
    result = import_records(held.engine, "people", chunks(rows, 2), "overwrite", duplicates="first")
    assert reads == ["scope"]
    assert held.rows("people")[1]["name"] == "early"
    assert (result.created, result.updated, result.skipped) == (1, 1, 1)


def test_duplicates_last_look_each_unit_up_so_a_later_record_sees_the_earlier_write(held, reads):
    rows = [{"id": 21, "name": "early"}, {"id": 22}, {"id": 21, "name": "late"}]
    result = import_records(held.engine, "people", chunks(rows, 2), "overwrite", duplicates="last")
    assert reads == ["unit", "unit"]
    assert [r["name"] for r in held.rows("people") if r["id"] == 21] == ["late"]
    assert (result.created, result.updated) == (2, 1)


def test_a_scope_is_held_when_postgres_puts_it_within_the_budget(pg):
    table = people()
    pg.create(table)
    import_records(pg.engine, "people", [{"id": i, "name": f"n{i}"} for i in range(1, 11)])
    pg.execute("ANALYZE people")
    size = pg.execute("SELECT pg_table_size('people')")[0][0]
    nine_rows = int(size / 10 * 9) + 1  # the table's size per row, times nine rows
    with pg.engine.connect() as conn:
        target = reflect(conn, "people")
        ids = target.table.c.id
        assert scope_fits(conn, target, None, size)  # the whole table fits: no count needed
        assert not scope_fits(conn, target, None, size - 1)  # no scope: nothing to count
        assert scope_fits(conn, target, ids > 1, nine_rows)
        assert not scope_fits(conn, target, ids > 0, nine_rows)

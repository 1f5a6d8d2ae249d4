"""A stream previewed against a scope too big to hold (engine/lookup.py): each chunk looks its
target rows up, the missing rows are found in the database, and the diff keeps of the scope only
the rows its records match and a fingerprint of the row set. It must apply exactly like `run`,
and every change test_stale_diff.py makes between preview and apply must make it stale."""

import pyarrow as pa
import pytest

from sync_pipeline import BatchImport, StaleDiffError, import_records, missing_after_batch
from sync_pipeline.engine import pipeline
from sync_pipeline.engine.staged import load_diff
from sync_pipeline.engine.stale import ROWS
from sync_pipeline_tests.engine.tables import people, products
from sync_pipeline_tests.engine.test_stale_diff import (
    BATCH,
    CHANGES,
    COUNTS,
    SEED,
    Seeded,
    ledger,
)

pytestmark = pytest.mark.integration


@pytest.fixture(params=["column", "ledger"])
def big(request, pg, monkeypatch):
    """people and twin seeded in batch 1; every scope counts as too big to hold."""
    monkeypatch.setattr(pipeline, "HOLD_BYTES", -1)
    pg.create(people(), people(name="twin"))
    for table in ("people", "twin"):
        import_records(pg.engine, table, SEED, batch_mode=request.param)
    return Seeded(pg, request.param)


def importer(db, table="people", **options):
    return BatchImport(db.engine, table, "overwrite", batch_mode=db.mode, **options)


def stream(rows):
    """BATCH as a stream of two chunks."""
    return iter([pa.Table.from_pylist(rows[:2]), pa.Table.from_pylist(rows[2:])])


def test_a_looked_up_diff_holds_only_the_matched_rows_and_applies_like_run(big, tmp_path):
    diff = importer(big).preview(stream(BATCH), staged_at=tmp_path / "d")
    assert diff.scope is not None and diff.scope.schema.metadata[ROWS] == b"5"
    assert sorted(diff.scope.column("id").to_pylist()) == [1, 2, 3]  # not 4, 5: missing
    assert sorted(diff.old.column("id").to_pylist()) == [1, 2, 3]
    assert sorted(diff.missing_rows.column("id").to_pylist()) == [4, 5]
    applied = importer(big).apply(load_diff(tmp_path / "d"))
    ran = importer(big, "twin").run(BATCH)
    assert [getattr(applied, c) for c in COUNTS] == [getattr(ran, c) for c in COUNTS]
    assert big.rows("people") == big.rows("twin")
    assert [r["id"] for r in missing_after_batch(big.engine, "people", 2)] == [4, 5]


@pytest.mark.parametrize(("what", "sql", "n"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_between_plan_and_apply_makes_a_looked_up_diff_stale(big, what, sql, n):
    diff = importer(big).preview(stream(BATCH))
    big.execute(sql)
    before = big.rows("people")
    with pytest.raises(StaleDiffError, match=rf"^{n} row\(s\) of 'people' changed.*plan the diff"):
        importer(big).apply(diff)
    assert big.rows("people") == before
    assert ledger(big, "people") == [1]


def test_one_row_removed_and_another_added_is_told_by_the_hash(big):
    diff = importer(big).preview(stream(BATCH))
    big.execute("DELETE FROM people WHERE id = 5")  # untouched: the count alone would not tell
    big.execute("INSERT INTO people (id, name) VALUES (8, 'x')")
    with pytest.raises(StaleDiffError, match=r"^1 row"):
        importer(big).apply(diff)
    assert ledger(big, "people") == [1]


def test_changes_outside_a_looked_up_scope_do_not_make_it_stale(pg, monkeypatch):
    monkeypatch.setattr(pipeline, "HOLD_BYTES", -1)
    pg.create(products())
    rows = [{"id": i, "sku": f"s{i}", "region": "a" if i <= 3 else "b"} for i in range(1, 7)]
    import_records(pg.engine, "products", rows)
    batch = [{"id": 1, "sku": "S1", "region": "a"}, {"id": 2, "sku": "s2", "region": "a"}]
    region_a = BatchImport(pg.engine, "products", "overwrite", where={"region": "a"})
    diff = region_a.preview(iter([pa.Table.from_pylist(batch)]))
    assert diff.scope is not None and diff.scope.schema.metadata[ROWS] == b"3"
    pg.execute("UPDATE products SET sku = 'other' WHERE id = 4")
    pg.execute("DELETE FROM products WHERE id = 5")
    pg.execute("INSERT INTO products (id, sku, region) VALUES (9, 's9', 'b')")
    result = region_a.apply(diff)
    assert (result.updated, result.unchanged, result.missing) == (1, 1, 1)
    again = region_a.preview(iter([pa.Table.from_pylist(batch)]))
    pg.execute("INSERT INTO products (id, sku, region) VALUES (10, 's10', 'a')")
    with pytest.raises(StaleDiffError, match=r"^1 row"):
        region_a.apply(again)

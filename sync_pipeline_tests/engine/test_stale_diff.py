"""BatchImport.preview then apply: exactly the planned diff is written, or StaleDiffError."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_pipeline import BatchImport, StaleDiffError, import_records, missing_after_batch
from sync_pipeline.engine.staged import drop_diff, load_diff, save_diff
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.engine.tables import people, products

pytestmark = pytest.mark.integration

SEED = [{"id": i, "name": f"n{i}", "age": 20 + i} for i in range(1, 6)]
BATCH = [
    {"id": 1, "name": "n1", "age": 21},  # unchanged
    {"id": 2, "name": "CHANGED", "age": 22},  # changed
    {"id": 3, "name": "n3", "age": 99},  # changed
    {"id": 7, "name": "new", "age": 1},  # added; 4 and 5 are missing
]
COUNTS = ("created", "updated", "unchanged", "skipped", "deleted", "missing", "errors")


@pytest.fixture(params=["column", "ledger"])
def seeded(request, db):
    """Two identical tables, people and twin, seeded in batch 1 in the parametrized mode."""
    db.create(people(), people(name="twin"))
    for table in ("people", "twin"):
        import_records(db.engine, table, SEED, batch_mode=request.param)
    return Seeded(db, request.param)


class Seeded:
    def __init__(self, db, mode):
        self.db, self.mode = db, mode
        self.engine, self.schema = db.engine, db.schema
        self.rows, self.execute = db.rows, db.execute


def importer(seeded, table="people", **options):
    return BatchImport(seeded.engine, table, "overwrite", batch_mode=seeded.mode, **options)


def test_plan_is_the_deprecated_name_of_preview(seeded):
    with pytest.warns(DeprecationWarning, match=r"renamed preview\(\)"):
        diff = importer(seeded).plan(BATCH)
    assert list(diff.entries()) == list(importer(seeded).preview(BATCH).entries())
    assert seeded.rows("people") == seeded.rows("twin")  # nothing written


def ledger(db, table):
    """Batch ids the ledger holds for `table`."""
    with db.engine.connect() as conn:
        if not sa.inspect(conn).has_table("_sync_batches", schema=db.schema):
            return []
        rows = conn.execute(
            sa.text("SELECT batch_id FROM _sync_batches WHERE table_name = :t ORDER BY batch_id"),
            {"t": table},
        )
        return [r[0] for r in rows]


def test_preview_then_apply_gives_what_run_gives(seeded):
    updated = []
    diff = importer(seeded).preview(BATCH)
    applied = importer(seeded, on_updated=updated.extend).apply(diff)
    ran = importer(seeded, "twin").run(BATCH)
    assert [getattr(applied, c) for c in COUNTS] == [getattr(ran, c) for c in COUNTS]
    assert (applied.created, applied.updated, applied.unchanged, applied.missing) == (1, 2, 1, 2)
    assert applied.batch_id == ran.batch_id == 2
    assert seeded.rows("people") == seeded.rows("twin")
    assert ledger(seeded, "people") == ledger(seeded, "twin") == [1, 2]
    assert [r["id"] for r in missing_after_batch(seeded.engine, "people", 2)] == [4, 5]
    assert sorted(r["id"] for r in updated) == [2, 3]  # callbacks fired after commit


CHANGES = [
    ("a changed row's value", "UPDATE people SET name = 'other' WHERE id = 2", 1),
    ("an unchanged row's value", "UPDATE people SET age = 0 WHERE id = 1", 1),
    ("a touched row's batch stamp", "UPDATE people SET last_batch_id = 9 WHERE id = 3", 1),
    ("a row inserted into the scope", "INSERT INTO people (id, name) VALUES (8, 'x')", 1),
    ("a missing row deleted from the scope", "DELETE FROM people WHERE id = 5", 1),
    ("a touched row deleted", "DELETE FROM people WHERE id = 1", 1),
    ("the row the diff adds, inserted", "INSERT INTO people (id, name) VALUES (7, 'new')", 1),
    ("two rows", "UPDATE people SET age = age + 1 WHERE id IN (1, 2)", 2),
]


@pytest.mark.parametrize(("what", "sql", "n"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_between_plan_and_apply_makes_the_diff_stale(seeded, what, sql, n):
    diff = importer(seeded).preview(BATCH)
    seeded.execute(sql)  # another transaction, committed
    before = seeded.rows("people")
    with pytest.raises(StaleDiffError, match=rf"^{n} row\(s\) of 'people' changed.*plan the diff"):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == before
    assert ledger(seeded, "people") == [1]


def test_a_value_change_on_a_row_the_diff_does_not_touch_keeps_it_current(seeded):
    diff = importer(seeded).preview(BATCH)
    seeded.execute("UPDATE people SET name = 'renamed' WHERE id = 4")  # missing: not touched
    result = importer(seeded).apply(diff)
    assert (result.updated, result.missing) == (2, 2)
    assert {r["id"]: r["name"] for r in seeded.rows("people")}[4] == "renamed"


@pytest.mark.parametrize("mode", ["column", "ledger"])
def test_changes_outside_the_scope_do_not_make_the_diff_stale(db, mode):
    db.create(products())
    rows = [{"id": i, "sku": f"s{i}", "tenant": "a" if i <= 3 else "b"} for i in range(1, 7)]
    import_records(db.engine, "products", rows, batch_mode=mode)
    batch = [{"id": 1, "sku": "S1", "tenant": "a"}, {"id": 2, "sku": "s2", "tenant": "a"}]
    tenant_a = BatchImport(
        db.engine, "products", "overwrite", where={"tenant": "a"}, batch_mode=mode
    )
    diff = tenant_a.preview(batch)
    db.execute("UPDATE products SET sku = 'other' WHERE id = 4")
    db.execute("DELETE FROM products WHERE id = 5")
    db.execute("INSERT INTO products (id, sku, tenant) VALUES (9, 's9', 'b')")
    result = tenant_a.apply(diff)
    assert (result.updated, result.unchanged, result.missing) == (1, 1, 1)
    assert {r["id"]: r["sku"] for r in db.rows("products")}[1] == "S1"
    again = tenant_a.preview(batch)
    db.execute("INSERT INTO products (id, sku, tenant) VALUES (10, 's10', 'a')")  # in scope
    with pytest.raises(StaleDiffError, match=r"^1 row"):
        tenant_a.apply(again)


def test_applying_a_diff_twice_is_stale_once_the_first_apply_wrote(seeded):
    diff = importer(seeded).preview(BATCH)
    first = importer(seeded).apply(diff)
    after = seeded.rows("people")
    with pytest.raises(StaleDiffError):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == after
    assert ledger(seeded, "people") == [1, first.batch_id]


def test_a_diff_that_writes_nothing_stays_current_in_ledger_mode(db):
    db.create(people())
    import_records(db.engine, "people", SEED, batch_mode="ledger")
    same = BatchImport(db.engine, "people", "overwrite", batch_mode="ledger")
    diff = same.preview(SEED)
    assert diff.unchanged == 5
    first, second = same.apply(diff), same.apply(diff)
    assert (first.batch_id, second.batch_id) == (2, 3)
    assert (second.unchanged, second.updated, second.created) == (5, 0, 0)
    assert {r["last_batch_id"] for r in db.rows("people")} == {1}


def test_in_column_mode_the_stamp_makes_a_second_apply_stale(db):
    db.create(people())
    import_records(db.engine, "people", SEED)
    same = BatchImport(db.engine, "people", "overwrite", batch_mode="column")
    diff = same.preview(SEED)
    same.apply(diff)
    with pytest.raises(StaleDiffError, match=r"^5 row"):
        same.apply(diff)


def test_apply_calls_the_guard_and_a_raising_guard_writes_nothing(seeded):
    seen = []

    def guard(diff):
        seen.append(diff.changed)
        raise ValueError("no")

    diff = importer(seeded).preview(BATCH)
    before = seeded.rows("people")
    with pytest.raises(ValueError, match="no"):
        importer(seeded, guard=guard).apply(diff)
    assert seen == [2]
    assert seeded.rows("people") == before
    assert ledger(seeded, "people") == [1]


def test_a_diff_planned_for_another_table_is_refused(seeded):
    diff = importer(seeded, "twin").preview(BATCH)
    with pytest.raises(ConfigError, match="planned for 'twin'"):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == seeded.rows("twin")


def test_a_diff_staged_on_disk_keeps_its_types_and_applies_like_the_original(db, tmp_path):
    db.create(products())
    seed = [
        {"id": 1, "sku": "a", "price": "12.90", "weight": 1.5, "attrs": {"k": [1, 2]}},
        {"id": 2, "sku": "b", "seen_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)},
        {"id": 3, "sku": "c", "price": "-0.01"},
    ]
    import_records(db.engine, "products", seed)
    batch = [{"id": 1, "sku": "a", "price": "13.00"}, {"id": 2, "sku": "b"}, {"id": 3, "sku": "C"}]
    imp = BatchImport(db.engine, "products", "merge")
    diff = imp.preview(batch)
    save_diff(diff, tmp_path / "staged")
    loaded = load_diff(tmp_path / "staged")
    assert loaded is not None
    for name in ("rows", "old", "new", "changed_mask", "missing_rows", "keys", "scope"):
        assert getattr(loaded, name).equals(getattr(diff, name), check_metadata=True), name
    assert (loaded.table, loaded.compared, loaded.counts, loaded.columns) == (
        diff.table,
        diff.compared,
        diff.counts,
        diff.columns,
    )
    result = imp.apply(loaded)
    assert (result.updated, result.unchanged) == (2, 1)
    rows = {r["id"]: r for r in db.rows("products")}
    assert (rows[1]["price"], rows[3]["sku"]) == (Decimal("13.00"), "C")
    drop_diff(tmp_path / "staged")
    assert load_diff(tmp_path / "staged") is None


def test_a_column_added_between_plan_and_apply_makes_the_diff_stale(seeded):
    diff = importer(seeded).preview(BATCH)
    seeded.execute("ALTER TABLE people ADD COLUMN nickname TEXT")
    before = seeded.rows("people")
    with pytest.raises(StaleDiffError, match=r"columns of 'people' changed .*\['nickname'\]"):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == before


_person = st.fixed_dictionaries(
    {"id": st.integers(1, 8)},
    optional={"name": st.sampled_from(["a", "A", "b", None]), "age": st.integers(0, 3)},
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.lists(_person, max_size=6, unique_by=lambda r: r["id"]),
    batch=st.lists(_person, max_size=6, unique_by=lambda r: r["id"]),
    strategy=st.sampled_from(["skip", "overwrite", "merge"]),
    mode=st.sampled_from(["column", "ledger"]),
)
def test_plan_then_apply_always_equals_run(db, seed, batch, strategy, mode):
    names = [f"p{uuid.uuid4().hex[:8]}" for _ in range(2)]
    md = sa.MetaData()
    db.create(*(people(md, name) for name in names))
    results = []
    for name in names:
        import_records(db.engine, name, seed, batch_mode=mode)
        imp = BatchImport(db.engine, name, strategy, batch_mode=mode)
        results.append(imp.apply(imp.preview(batch)) if name == names[0] else imp.run(batch))
    applied, ran = results
    assert [getattr(applied, c) for c in (*COUNTS, "batch_id")] == [
        getattr(ran, c) for c in (*COUNTS, "batch_id")
    ]
    assert db.rows(names[0]) == db.rows(names[1])

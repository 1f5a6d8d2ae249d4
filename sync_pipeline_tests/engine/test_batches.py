"""semantics §3.5: batch ids on every seen row (column mode), per-table monotonic ids,
missing_after_batch, and the default batch mode (ledger with a primary key)."""

import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, import_records, missing_after_batch
from sync_pipeline_tests.engine.tables import people, products

pytestmark = pytest.mark.integration


@pytest.fixture
def two_tables(db):
    md = sa.MetaData()
    people(md)
    products(md)
    md.create_all(db.engine)
    return db


def stamps(db, table="people"):
    return {r["id"]: r["last_batch_id"] for r in db.rows(table)}


def test_inserted_changed_unchanged_and_skipped_rows_are_all_stamped(two_tables):
    db = two_tables
    first = import_records(
        db.engine,
        "people",
        [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
        batch_mode="column",
    )
    second = import_records(
        db.engine,
        "people",
        [{"id": 1, "name": "a"}, {"id": 2, "name": "B"}, {"id": 4, "name": "d"}],
        "overwrite",
        batch_mode="column",
    )
    assert (second.created, second.updated, second.unchanged, second.missing) == (1, 1, 1, 1)
    assert stamps(db) == {
        1: second.batch_id,
        2: second.batch_id,
        3: first.batch_id,
        4: second.batch_id,
    }
    third = import_records(
        db.engine, "people", [{"id": 1, "name": "zzz"}], "skip", batch_mode="column"
    )
    assert third.skipped == 1 and stamps(db)[1] == third.batch_id


def test_generated_ids_are_per_table_monotonic_and_returned(two_tables):
    db = two_tables
    ids = [import_records(db.engine, "people", [{"id": i}]).batch_id for i in range(3)]
    other = import_records(db.engine, "products", [{"id": 1, "sku": "x"}]).batch_id
    assert ids == [1, 2, 3] and other == 1


def test_generated_id_is_above_every_id_already_in_the_column(two_tables):
    db = two_tables
    import_records(db.engine, "people", [{"id": 1}], batch_id=41)
    assert import_records(db.engine, "people", [{"id": 1}]).batch_id == 42


def test_given_batch_id_is_used_and_false_disables_stamping(two_tables):
    db = two_tables
    assert import_records(db.engine, "people", [{"id": 1}], batch_id=7).batch_id == 7
    result = import_records(db.engine, "people", [{"id": 2}], batch_id=False)
    assert result.batch_id is None and stamps(db) == {1: 7, 2: None}


def test_missing_after_batch_returns_rows_not_seen(two_tables):
    db = two_tables
    import_records(db.engine, "people", [{"id": i, "name": f"p{i}"} for i in range(1, 5)])
    db.execute("INSERT INTO people (id, name) VALUES (9, 'never synced')")
    second = import_records(db.engine, "people", [{"id": 1, "name": "p1"}, {"id": 3, "name": "p3"}])
    missing = missing_after_batch(db.engine, "people", second.batch_id)
    assert [r["id"] for r in missing] == [2, 4, 9]
    assert missing[0] == {"id": 2, "name": "p2", "email": None, "age": None, "last_batch_id": 1}
    assert second.missing == 3


@pytest.mark.parametrize(("mode", "outside"), [("column", [2, 4, 6]), ("ledger", [])])
def test_missing_after_batch_scoped_by_where(two_tables, mode, outside):
    """Column mode: rows outside the batch's scope carry an older id, so an unscoped question
    counts them; ledger mode records only the rows in scope that the batch did not see."""
    db = two_tables
    rows = [{"id": i, "sku": f"s{i}", "tenant": "a" if i % 2 else "b"} for i in range(1, 7)]
    import_records(db.engine, "products", rows, batch_mode=mode)
    tenant_a = [r for r in rows if r["tenant"] == "a" and r["id"] != 3]
    batch = import_records(db.engine, "products", tenant_a, where={"tenant": "a"}, batch_mode=mode)
    assert batch.missing == 1
    assert [
        r["id"]
        for r in missing_after_batch(db.engine, "products", batch.batch_id, where={"tenant": "a"})
    ] == [3]
    everywhere = missing_after_batch(db.engine, "products", batch.batch_id)
    assert [r["id"] for r in everywhere] == sorted([3, *outside])


def test_where_scopes_matching_too(two_tables):
    db = two_tables
    import_records(
        db.engine,
        "products",
        [{"id": 1, "sku": "s", "tenant": "a", "deleted_at": "2025-01-01T00:00:00Z"}],
    )
    # the soft-deleted row is outside the scope, so the record does not match it
    live_only = sa.table("products", sa.column("deleted_at")).c.deleted_at.is_(None)
    diff = BatchImport(db.engine, "products", "overwrite", match_by="sku", where=live_only).preview(
        [{"sku": "s", "tenant": "b"}]
    )
    assert (diff.added, diff.changed) == (1, 0)
    # a where that includes soft-deleted rows brings them into matching
    result = import_records(
        db.engine,
        "products",
        [{"sku": "s", "tenant": "b", "deleted_at": None}],
        "overwrite",
        match_by="sku",
    )
    assert result.updated == 1
    assert db.rows("products")[0]["tenant"] == "b" and db.rows("products")[0]["deleted_at"] is None


def test_re_running_the_same_batch_reports_everything_unchanged(two_tables):
    db = two_tables
    batch = [{"id": i, "name": f"n{i}", "email": f"{i}@x.io"} for i in range(50)]
    import_records(db.engine, "people", batch, "overwrite")
    again = import_records(db.engine, "people", batch, "overwrite")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)


def test_ledger_records_each_batch(two_tables):
    db = two_tables
    result = import_records(db.engine, "people", [{"id": 1}, {"id": 2}])
    [row] = db.execute("SELECT table_name, batch_id, created, mode FROM _sync_batches")
    assert tuple(row) == ("people", result.batch_id, 2, "ledger")  # the default, with a PK


def test_the_default_batch_mode_is_ledger_with_a_primary_key_and_column_without(two_tables):
    """Ledger by default: an unchanged row keeps its old id (no rewrite) and the batch still
    knows what it did not see; a table without a primary key cannot be addressed by the ledger,
    so it stays in column mode and every seen row is stamped."""
    db = two_tables
    first = import_records(db.engine, "people", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    second = import_records(db.engine, "people", [{"id": 1, "name": "a"}, {"id": 3, "name": "c"}])
    assert stamps(db) == {1: first.batch_id, 2: first.batch_id, 3: second.batch_id}
    assert [r["id"] for r in missing_after_batch(db.engine, "people", second.batch_id)] == [2]
    db.execute("CREATE TABLE no_pk (code VARCHAR(10), last_batch_id BIGINT)")
    import_records(db.engine, "no_pk", [{"code": "x"}], match_by="code")
    again = import_records(db.engine, "no_pk", [{"code": "x"}], match_by="code")
    assert db.execute("SELECT last_batch_id FROM no_pk") == [(again.batch_id,)]
    modes = db.execute("SELECT table_name, mode FROM _sync_batches ORDER BY table_name, batch_id")
    assert [tuple(r) for r in modes] == [
        ("no_pk", "column"),
        ("no_pk", "column"),
        ("people", "ledger"),
        ("people", "ledger"),
    ]

"""batch_mode="ledger": unchanged rows are not rewritten; missing rows come from the ledger."""

import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, import_records, missing_after_batch
from sync_pipeline_tests.engine.tables import people, products

pytestmark = pytest.mark.integration


@pytest.fixture
def ppl(db):
    db.create(people())
    return db


def ids(rows):
    return [r["id"] for r in rows]


def test_ledger_mode_reports_the_same_missing_rows_as_column_mode(ppl):
    import_records(
        ppl.engine, "people", [{"id": i, "name": f"n{i}"} for i in range(1, 6)], batch_mode="ledger"
    )
    second = import_records(
        ppl.engine,
        "people",
        [{"id": 1, "name": "n1"}, {"id": 2, "name": "B"}, {"id": 6}],
        "overwrite",
        batch_mode="ledger",
    )
    assert (second.created, second.updated, second.unchanged, second.missing) == (1, 1, 1, 3)
    assert ids(missing_after_batch(ppl.engine, "people", second.batch_id)) == [3, 4, 5]
    stamps = {r["id"]: r["last_batch_id"] for r in ppl.rows("people")}
    assert stamps[1] == 1  # unchanged: not rewritten
    assert stamps[2] == stamps[6] == second.batch_id  # written rows still carry the id


def test_a_row_seen_again_later_is_no_longer_missing(ppl):
    import_records(ppl.engine, "people", [{"id": 1}, {"id": 2}], batch_mode="ledger")
    gap = import_records(ppl.engine, "people", [{"id": 1}], batch_mode="ledger")
    assert ids(missing_after_batch(ppl.engine, "people", gap.batch_id)) == [2]
    import_records(
        ppl.engine, "people", [{"id": 1}, {"id": 2}], batch_mode="ledger"
    )  # 2 is back, unchanged
    assert missing_after_batch(ppl.engine, "people", gap.batch_id) == []


def test_ledger_mode_with_where_and_prepare(db):
    db.create(products())
    rows = [{"id": i, "sku": f"s{i}", "tenant": "a" if i % 2 else "b"} for i in range(1, 9)]
    import_records(db.engine, "products", rows, batch_mode="ledger")
    importer = BatchImport(
        db.engine, "products", "overwrite", where={"tenant": "a"}, batch_mode="ledger", chunk_size=2
    )
    with importer.prepare() as prepared:
        prepared.add_many(r for r in rows if r["tenant"] == "a" and r["id"] != 5)
        prepared.add({"id": 11, "sku": "s11", "tenant": "a"})
        result = prepared.flush()
    assert (result.created, result.unchanged, result.missing) == (1, 3, 1)
    where = sa.table("products", sa.column("tenant")).c.tenant == "a"
    assert ids(missing_after_batch(db.engine, "products", result.batch_id, where=where)) == [5]


def test_ledger_mode_works_without_a_batch_column(db):
    sa.Table(
        "plain",
        md := sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("v", sa.Text),
    )
    md.create_all(db.engine)
    import_records(db.engine, "plain", [{"id": 1}, {"id": 2}], batch_mode="ledger")
    second = import_records(db.engine, "plain", [{"id": 2}], batch_mode="ledger")
    assert second.batch_id == 2 and second.missing == 1
    assert ids(missing_after_batch(db.engine, "plain", second.batch_id)) == [1]

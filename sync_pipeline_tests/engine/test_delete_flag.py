"""The sender's hard-delete flag: a true flag deletes or soft-deletes the matched row."""

import datetime as dt

import pytest

from sync_pipeline import BatchImport, import_records
from sync_pipeline_tests.engine.tables import products

pytestmark = pytest.mark.integration

NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def shop(db):
    db.create(products())
    import_records(db.engine, "products", [{"id": i, "sku": f"s{i}"} for i in (1, 2, 3)])
    return db


def test_flagged_records_delete_their_rows(shop):
    batch = [
        {"id": 1, "sku": "s1", "gone": True},
        {"id": 2, "sku": "s2", "gone": False},
        {"id": 9, "sku": "x", "gone": True},
    ]
    diff = BatchImport(shop.engine, "products", "overwrite", delete_flag="gone").preview(batch)
    assert (diff.deleted, diff.unchanged, diff.skipped) == (1, 1, 1)
    result = import_records(shop.engine, "products", batch, "overwrite", delete_flag="gone")
    assert (result.deleted, result.unchanged, result.skipped, result.created) == (1, 1, 1, 0)
    assert [r["id"] for r in shop.rows("products")] == [2, 3]


def test_soft_delete_sets_deleted_at(shop):
    result = import_records(
        shop.engine,
        "products",
        [{"id": 2, "sku": "s2", "gone": 1}],
        "overwrite",
        delete_flag="gone",
        delete_mode="soft_delete",
        clock=lambda: NOW,
    )
    rows = {r["id"]: r["deleted_at"] for r in shop.rows("products")}
    assert result.deleted == 1
    assert rows[2].replace(tzinfo=rows[2].tzinfo or dt.UTC) == NOW
    assert rows[1] is None and rows[3] is None

"""Missing-row cleanup is guarded by the batch ledger: never after a failed, empty or partial
batch, whoever calls it (library, cleanup job, sensor)."""

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.engine.missing import delete_missing, deletion_blocked
from sync_pipeline.errors import SyncError
from sync_pipeline_tests.dbs import TestDb

pytestmark = pytest.mark.integration

ROWS = [{"id": i, "code": f"c{i}", "deleted_at": None} for i in (1, 2, 3)]


def _items(db: TestDb) -> None:
    db.create(
        sa.Table(
            "items",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("code", sa.String(10)),
            sa.Column("deleted_at", sa.DateTime),
            sa.Column("last_batch_id", sa.BigInteger),
        )
    )
    import_records(db.engine, "items", [{"id": i, "code": f"c{i}"} for i in (1, 2, 3)])


def empty(db: TestDb) -> int:
    return import_records(db.engine, "items", []).batch_id  # type: ignore[return-value]


def partial(db: TestDb) -> int:
    result = import_records(
        db.engine,
        "items",
        [{"id": 1, "code": "c1"}, {"id": None, "code": "x"}],
        null_keys="skip",
    )
    return result.batch_id  # type: ignore[return-value]


def failed(db: TestDb) -> int:
    with pytest.raises(SyncError):
        import_records(db.engine, "items", [{"id": 1, "code": "c1"}, {"id": "one", "code": "x"}])
    return 2  # the id the failed batch would have had: rolled back, so not in the ledger


def complete(db: TestDb) -> int:
    return import_records(db.engine, "items", [{"id": 1, "code": "c1"}]).batch_id  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("make_batch", "reason", "left"),
    [
        (empty, "was empty", [1, 2, 3]),
        (partial, "was partial", [1, 2, 3]),
        (failed, "is not in the batch ledger", [1, 2, 3]),
        (complete, None, [1]),
    ],
    ids=["empty", "partial", "failed", "complete"],
)
def test_delete_missing_only_after_a_complete_batch(
    db: TestDb, make_batch: Callable[[TestDb], int], reason: str | None, left: list[int]
) -> None:
    _items(db)
    batch_id = make_batch(db)
    blocked = deletion_blocked(db.engine, "items", batch_id)
    result = delete_missing(db.engine, "items", batch_id)
    assert [r["id"] for r in db.rows("items")] == left
    if reason is None:
        assert blocked is None and result.blocked is None and result.rows == 2
    else:
        assert blocked is not None and reason in blocked
        assert result.rows == 0 and result.blocked == f"nothing deleted: {blocked}"


def test_soft_delete_stamps_only_missing_rows(db: TestDb) -> None:
    _items(db)
    result = delete_missing(db.engine, "items", complete(db), mode="soft_delete")
    stamped: dict[Any, bool] = {r["id"]: r["deleted_at"] is not None for r in db.rows("items")}
    assert result.rows == 2 and stamped == {1: False, 2: True, 3: True}

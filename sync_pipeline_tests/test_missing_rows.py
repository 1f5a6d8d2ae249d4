"""Missing rows in one home (`syncs/missing.py`): which recorded events are batches, the rows a
batch did not see within its scope, whether cleanup may follow it (never after a failed, empty or
partial batch, nor under `report`), and the cleanup itself, on Postgres and on SQLite
(semantics §3.5; docs/dagster.md, "Schedules and the missing-rows sensor")."""

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.errors import ConfigError, SyncError
from sync_pipeline.syncs.missing import (
    AppliedBatch,
    applied_batches,
    batch_of,
    cleanup_decision,
    cleanup_missing,
    find_missing,
    missing_rows,
)
from sync_pipeline.syncs.scope import Scope, scope_metadata
from sync_pipeline.syncs.spec import SenderSpec, SyncSpec
from sync_pipeline_tests.dbs import TestDb

EU = Scope("region", "region", values=("eu, west",))  # a value with a comma stays one value
ROWS = [
    {"id": 1, "region": "eu, west"},
    {"id": 2, "region": "eu, west"},
    {"id": 3, "region": "eu, west"},
    {"id": 4, "region": "us"},
]


def spec(missing: str = "soft_delete") -> SyncSpec:
    return SyncSpec(
        name="items",
        sender=SenderSpec("fake"),
        table="items",
        match_by=("id",),
        strategy="overwrite",
        missing=missing,
    )


def items(db: TestDb, **options: object) -> None:
    """Items in two regions, all seen by batch 1; the ledger mode is `options`' to choose."""
    db.create(
        sa.Table(
            "items",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("region", sa.String(20)),
            sa.Column("deleted_at", sa.DateTime(timezone=True)),
            sa.Column("last_batch_id", sa.BigInteger),
        )
    )
    import_records(db.engine, "items", ROWS, **options)


def eu_batch(db: TestDb, ids: list[int], **options: object) -> AppliedBatch:
    """A batch over the eu partition that sees `ids`, as the sensor reads it back."""
    rows = [r for r in ROWS if r["id"] in ids]
    result = import_records(db.engine, "items", rows, where={"region": "eu, west"}, **options)
    meta = {"batch_id": result.batch_id, **scope_metadata(EU)}
    batch = batch_of(meta)
    assert batch is not None
    return batch


# ---- which events are batches -------------------------------------------------------------


def test_events_become_one_batch_per_id_with_its_partitions() -> None:
    day = Scope("ts", "day", values=())
    records = [
        ({"batch_id": 7, **scope_metadata(day)}, "2026-01-01"),
        ({"batch_id": 7, **scope_metadata(day)}, "2026-01-02"),  # a range run: one batch
        ({"sync_action": "cleanup", "cleaned_after_batch": 7}, "2026-01-01"),  # not a batch
        ({"dagster/row_count": 3}, None),  # carries no batch
        ({"batch_id": "8", "scope": "whole table"}, None),
    ]
    assert applied_batches(records) == [
        AppliedBatch(7, day, ("2026-01-01", "2026-01-02")),
        AppliedBatch(8, None, ()),
    ]


# ---- find and decide, on a real target -----------------------------------------------------


@pytest.mark.parametrize("batch_mode", ["column", "ledger"])
def test_rows_the_batch_did_not_see_within_its_scope_may_be_cleaned(
    db: TestDb, batch_mode: str
) -> None:
    items(db, batch_mode=batch_mode)
    batch = eu_batch(db, [1], batch_mode=batch_mode)

    found = missing_rows(db.engine, spec(), batch)

    assert [r["id"] for r in found.rows] == [2, 3]  # id 4 is outside the eu scope
    assert found.sample_keys == ("2", "3") and found.scope == EU
    decision = cleanup_decision(db.engine, spec(), found)
    assert decision.may_clean and decision.blocked is None


def test_cleanup_soft_deletes_exactly_the_missing_rows(db: TestDb) -> None:
    items(db)
    batch = eu_batch(db, [1])

    done = cleanup_missing(db.engine, spec(), batch.batch_id, batch.scope)

    assert done.rows == 2 and done.blocked is None
    deleted = [r["id"] for r in db.rows("items") if r["deleted_at"] is not None]
    assert deleted == [2, 3]
    again = cleanup_missing(db.engine, spec(), batch.batch_id, batch.scope)
    assert again.rows == 0  # already stamped rows keep their first deletion time


def test_cleanup_under_delete_removes_the_missing_rows(db: TestDb) -> None:
    items(db)
    batch = eu_batch(db, [1, 3])

    done = cleanup_missing(db.engine, spec("delete"), batch.batch_id, batch.scope)

    assert done.rows == 1
    assert [r["id"] for r in db.rows("items")] == [1, 3, 4]


def test_report_policy_finds_but_never_cleans(db: TestDb) -> None:
    items(db)
    batch = eu_batch(db, [1])

    found = missing_rows(db.engine, spec("report"), batch)

    assert found.found
    decision = cleanup_decision(db.engine, spec("report"), found)
    assert not decision.may_clean and decision.blocked is None
    with pytest.raises(ConfigError, match="missing policy 'report' never deletes"):
        cleanup_missing(db.engine, spec("report"), batch.batch_id, batch.scope)
    assert all(r["deleted_at"] is None for r in db.rows("items"))


def test_nothing_missing_needs_no_cleanup(db: TestDb) -> None:
    items(db)
    found = missing_rows(db.engine, spec(), eu_batch(db, [1, 2, 3]))
    assert not found.found and found.sample_keys == ()
    assert not cleanup_decision(db.engine, spec(), found).may_clean


def empty(db: TestDb) -> AppliedBatch:
    return eu_batch(db, [])


def partial(db: TestDb) -> AppliedBatch:
    result = import_records(
        db.engine,
        "items",
        [{"id": 1, "region": "eu, west"}, {"id": None, "region": "eu, west"}],
        where={"region": "eu, west"},
        null_keys="skip",
    )
    assert result.batch_id is not None
    return AppliedBatch(result.batch_id, EU)


def failed(db: TestDb) -> AppliedBatch:
    with pytest.raises(SyncError):
        import_records(db.engine, "items", [{"id": "one", "region": "eu, west"}])
    return AppliedBatch(2, EU)  # the id it would have had: rolled back, so not in the ledger


@pytest.mark.parametrize(
    ("make_batch", "reason"),
    [(empty, "was empty"), (partial, "was partial"), (failed, "is not in the batch ledger")],
    ids=["empty", "partial", "failed"],
)
def test_no_cleanup_after_an_empty_partial_or_failed_batch(db: TestDb, make_batch, reason) -> None:
    items(db)
    batch = make_batch(db)

    found = missing_rows(db.engine, spec(), batch)
    decision = cleanup_decision(db.engine, spec(), found)
    done = cleanup_missing(db.engine, spec(), batch.batch_id, batch.scope)

    assert found.found  # the rows are reported all the same
    assert not decision.may_clean and decision.blocked is not None and reason in decision.blocked
    assert done.rows == 0 and done.blocked is not None and reason in done.blocked
    assert all(r["deleted_at"] is None for r in db.rows("items"))


def test_a_scope_column_the_target_lacks_is_a_config_error(db: TestDb) -> None:
    items(db)
    with pytest.raises(ConfigError, match="partition column 'tenant' is not in target table"):
        find_missing(db.engine, spec(), 1, Scope("tenant", "tenant", values=("a",)))

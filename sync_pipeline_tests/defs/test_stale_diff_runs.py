"""`diff` stages the diff it planned; `applied` writes exactly that diff or fails as stale."""

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import Location, run
from sync_pipeline_tests.defs.test_sync_runs import checksum

pytestmark = pytest.mark.integration

UP_TO_DIFF = [dg.AssetKey(["customers", s]) for s in ("extract", "normalized", "diff")]
UP_TO_NORMALIZED = UP_TO_DIFF[:2]
APPLIED = [dg.AssetKey(["customers", "applied"])]
FIRST_EU = "(SELECT MIN(customer_id) FROM customers WHERE region = 'eu')"


def sync(defs: dg.Definitions, instance: dg.DagsterInstance, selection=None):
    """One run of the customers sync for partition `eu` (the whole family by default)."""
    return run(defs, "customers_sync", instance, partition_key="eu", asset_selection=selection)


def applied_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == APPLIED[0]
    ]
    return {k: v.value for k, v in event.metadata.items()}


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """The failed step's error with all its causes."""
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error, parts = failure.step_failure_data.error, []
    while error is not None:
        parts.append(f"{error.cls_name}: {error.message}")
        error = error.cause
    return "\n".join(parts)


CHANGES = {
    "a touched row changed": f"UPDATE customers SET name = 'other' WHERE customer_id = {FIRST_EU}",
    "a row added to the scope": "INSERT INTO customers (customer_id, name, region)"
    " VALUES (9999, 'x', 'eu')",
    "a row removed from the scope": f"DELETE FROM customers WHERE customer_id = {FIRST_EU}",
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=list(CHANGES))
def test_applied_fails_as_stale_when_the_target_moved_after_diff(
    db: TestDb, location: Location, instance: dg.DagsterInstance, change: str
) -> None:
    defs = location()
    assert sync(defs, instance).success  # the target holds the partition
    assert sync(defs, instance, UP_TO_DIFF).success  # stages a diff that touches every eu row
    db.execute(change)  # another transaction
    before = checksum(db, "customers", "customer_id")

    result = sync(defs, instance, APPLIED)

    assert not result.success
    text = failure_text(result)
    assert "StaleDiffError" in text
    assert "1 row(s) of 'customers' changed" in text
    assert "materialize the diff asset again" in text
    assert checksum(db, "customers", "customer_id") == before


def test_a_change_outside_the_scope_keeps_the_staged_diff_current(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert sync(defs, instance).success
    assert sync(defs, instance, UP_TO_DIFF).success
    db.execute("INSERT INTO customers (customer_id, name, region) VALUES (9999, 'x', 'us')")

    staged = sync(defs, instance, APPLIED)
    again = sync(defs, instance, APPLIED)  # the staged diff was spent: plans afresh

    assert staged.success and again.success
    assert applied_metadata(staged)["diff"] == "staged"
    assert applied_metadata(again)["diff"] == "planned in this step"
    assert applied_metadata(staged)["unchanged"] == applied_metadata(again)["unchanged"] > 0


def test_applied_alone_without_a_staged_diff_writes_what_the_whole_family_writes(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    family = sync(defs, instance)
    by_family = db.rows("customers", order_by="customer_id")
    db.execute("DELETE FROM customers")
    db.execute("DELETE FROM _sync_batches")
    assert sync(defs, instance, UP_TO_NORMALIZED).success

    alone = sync(defs, instance, APPLIED)

    assert family.success and alone.success
    assert applied_metadata(family)["diff"] == "staged"
    assert applied_metadata(alone)["diff"] == "planned in this step"
    assert db.rows("customers", order_by="customer_id") == by_family
    assert len(by_family) > 0
    counts = ("created", "updated", "unchanged", "batch_id")
    assert [applied_metadata(alone)[c] for c in counts] == [
        applied_metadata(family)[c] for c in counts
    ]


def test_a_batch_normalized_after_the_diff_supersedes_the_staged_diff(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert sync(defs, instance).success
    assert sync(defs, instance, UP_TO_DIFF).success  # staged, never applied
    sender = sa.create_engine(sender_url)
    with sender.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE customers SET name = 'Renamed' WHERE customer_id = {FIRST_EU}")
        )
    sender.dispose()
    assert sync(defs, instance, UP_TO_NORMALIZED).success  # a newer batch, no diff of it

    result = sync(defs, instance, APPLIED)

    assert result.success
    assert applied_metadata(result)["diff"] == "planned in this step"
    assert applied_metadata(result)["updated"] == 1
    assert "Renamed" in {r["name"] for r in db.rows("customers", order_by="customer_id")}

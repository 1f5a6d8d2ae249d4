"""The batch-id sensor: rows removed at the sender show up as missing after the next batch,
scoped to the batch's partition; `report` only reports, `soft_delete` launches the cleanup run;
nothing happens after a failed batch. Needs the engine from main."""

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs import parse_syncs
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import Location, run

pytestmark = pytest.mark.integration


def evaluate(
    defs: dg.Definitions, name: str, instance: dg.DagsterInstance, db: TestDb, cursor=None
):
    sensor = defs.get_repository_def().get_sensor_def(name)
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"target_db": SqlDatabase(url=db.url)}
    )
    return sensor(context)


def delete_at_sender(sender_url: str, table: str, key: str, ids: list[int]) -> None:
    engine = sa.create_engine(sender_url)
    t = sa.Table(table, sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(t).where(t.c[key].in_(ids)))
    engine.dispose()


def ids_of_region(db: TestDb, region: str) -> list[int]:
    return [
        r["customer_id"]
        for r in db.rows("customers", order_by="customer_id")
        if r["region"] == region
    ]


def test_removed_rows_are_reported_and_soft_deleted_within_the_partition(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    for region in ("eu", "us"):
        assert run(defs, "customers_sync", instance, partition_key=region).success
    first = evaluate(defs, "customers_missing_rows", instance, db)
    gone = ids_of_region(db, "eu")[:2]
    delete_at_sender(sender_url, "customers", "customer_id", gone)

    assert run(defs, "customers_sync", instance, partition_key="eu").success
    result = evaluate(defs, "customers_missing_rows", instance, db, cursor=first.cursor)

    [evaluation] = result.asset_events
    assert evaluation.passed is False
    assert evaluation.metadata["missing_rows"].value == 2  # us rows are outside the batch's scope
    assert evaluation.metadata["sample_keys"].value == [repr(i) for i in gone]
    [request] = result.run_requests
    cleanup = defs.resolve_job_def("customers_cleanup").execute_in_process(
        instance=instance, run_config=request.run_config
    )
    assert cleanup.success
    deleted = {
        r["customer_id"] for r in db.rows("customers", order_by="customer_id") if r["deleted_at"]
    }
    assert deleted == set(gone)


def test_report_policy_reports_without_cleanup(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "orders_sync", instance, partition_key="2026-01-01").success
    first = evaluate(defs, "orders_missing_rows", instance, db)
    assert [e.passed for e in first.asset_events] == [True] and not first.run_requests
    delete_at_sender(sender_url, "orders", "order_id", [10_000])

    assert run(defs, "orders_sync", instance, partition_key="2026-01-01").success
    result = evaluate(defs, "orders_missing_rows", instance, db, cursor=first.cursor)

    [evaluation] = result.asset_events
    assert evaluation.metadata["missing_rows"].value == 1
    assert result.run_requests == []
    assert all(r["deleted_at"] is None for r in db.rows("orders", order_by="order_id"))


def test_no_action_after_a_failed_batch(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "orders_sync", instance, partition_key="2026-01-02").success
    first = evaluate(defs, "orders_missing_rows", instance, db)

    assert not run(defs, "orders_sync", instance, partition_key="2026-01-03").success
    result = evaluate(defs, "orders_missing_rows", instance, db, cursor=first.cursor)

    assert isinstance(result, dg.SkipReason)


def test_cursor_makes_a_quiet_tick_cheap(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "customers_sync", instance, partition_key="apac").success
    first = evaluate(defs, "customers_missing_rows", instance, db)
    assert first.cursor

    again = evaluate(defs, "customers_missing_rows", instance, db, cursor=first.cursor)

    assert isinstance(again, dg.SkipReason)


def test_empty_batch_is_reported_but_never_cleaned_up(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "customers_sync", instance, partition_key="apac").success
    first = evaluate(defs, "customers_missing_rows", instance, db)
    everyone = ids_of_region(db, "apac")
    delete_at_sender(sender_url, "customers", "customer_id", everyone)

    assert run(defs, "customers_sync", instance, partition_key="apac").success
    result = evaluate(defs, "customers_missing_rows", instance, db, cursor=first.cursor)

    [evaluation] = result.asset_events
    assert evaluation.metadata["missing_rows"].value == len(everyone)
    assert result.run_requests == []  # soft_delete policy, but an empty batch proves nothing
    assert all(r["deleted_at"] is None for r in db.rows("customers", order_by="customer_id"))


def test_cleanup_launched_by_hand_after_an_empty_batch_deletes_nothing_and_says_why(
    db: TestDb, location: Location, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    source = tmp_path / "items.csv"
    entry = {
        "name": "gone",
        "sender": {"kind": "files", "path": str(source)},
        "table": "gone_items",
        "match_by": "id",
        "missing": "delete",
    }
    defs = location(parse_syncs({"syncs": [entry]}))
    source.write_text("id,name\n1,a\n2,b\n")
    assert run(defs, "gone_sync", instance).success
    source.write_text("id,name\n")  # the sender delivers nothing
    assert run(defs, "gone_sync", instance).success
    cleanup = defs.resolve_job_def("gone_cleanup").execute_in_process(
        instance=instance,
        run_config={"ops": {"gone__cleanup_missing": {"config": {"batch_id": 2}}}},
    )
    assert cleanup.success
    [done] = [e.materialization for e in cleanup.get_asset_materialization_events()]
    assert done.metadata["rows"].value == 0
    assert "batch 2 of 'gone_items' was empty" in str(done.metadata["blocked"].value)
    assert [r["id"] for r in db.rows("gone_items")] == [1, 2]


def test_a_partition_value_with_a_comma_scopes_the_report_and_the_cleanup(
    db: TestDb, location: Location, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """The scope reaches the sensor and the cleanup job whole: "eu, west" is one value, not
    "eu" and " west" (which would find nothing missing)."""
    source = tmp_path / "sites.csv"
    entry = {
        "name": "sites",
        "sender": {"kind": "files", "path": str(source)},
        "table": "sites",
        "match_by": "id",
        "missing": "soft_delete",
        "partitioning": {"kind": "static", "column": "region", "values": ["eu, west", "us"]},
    }
    defs = location(parse_syncs({"syncs": [entry]}))
    source.write_text('id,region\n1,"eu, west"\n2,"eu, west"\n3,us\n')
    for region in ("eu, west", "us"):
        assert run(defs, "sites_sync", instance, partition_key=region).success
    first = evaluate(defs, "sites_missing_rows", instance, db)
    source.write_text('id,region\n1,"eu, west"\n3,us\n')  # site 2 is gone at the sender

    assert run(defs, "sites_sync", instance, partition_key="eu, west").success
    result = evaluate(defs, "sites_missing_rows", instance, db, cursor=first.cursor)

    [evaluation] = result.asset_events
    assert evaluation.metadata["missing_rows"].value == 1
    assert evaluation.metadata["scope"].value == "region in ['eu, west']"
    [request] = result.run_requests
    cleanup = defs.resolve_job_def("sites_cleanup").execute_in_process(
        instance=instance, run_config=request.run_config
    )
    assert cleanup.success
    rows = db.rows("sites")
    assert [r["id"] for r in rows if r["deleted_at"] is not None] == [2]

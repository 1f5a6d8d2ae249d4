"""Whole syncs in-process against real Postgres and SQLite targets (arrange -> run -> re-select).

Needs the engine (BatchImport) from main."""

import hashlib

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.demo.transforms import clean_email, squash_spaces
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import Location, executed_assets, run

pytestmark = pytest.mark.integration


def sender_rows(sender_url: str, table: str, **equals: object) -> list[dict]:
    """Rows of a sender table (typed through reflection), filtered by column equality."""
    engine = sa.create_engine(sender_url)
    t = sa.Table(table, sa.MetaData(), autoload_with=engine)
    query = sa.select(t).where(*(t.c[k] == v for k, v in equals.items())).order_by(*t.primary_key)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    engine.dispose()
    return rows


def checksum(db: TestDb, table: str, key: str) -> tuple[int, str]:
    rows = db.rows(table, order_by=key)
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def test_whole_sync_materializes_and_target_matches_sender(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    result = run(location(), "customers_sync", instance, partition_key="eu")

    assert result.success
    assert executed_assets(result) == {
        f"customers/{s}" for s in ("extract", "normalized", "diff", "applied")
    }
    expected = [
        {**r, "email": clean_email(r["email"]), "name": squash_spaces(r["name"])}
        for r in sender_rows(sender_url, "customers", region="eu")
    ]
    got = db.rows("customers", order_by="customer_id")
    assert [{k: r[k] for k in expected[0]} for r in got] == expected
    [applied] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["customers", "applied"])
    ]
    batch = applied.metadata["batch_id"].value
    assert {r["last_batch_id"] for r in got} == {batch}
    assert applied.metadata["created"].value == len(expected)
    assert applied.metadata["dagster/row_count"].value == len(expected)
    assert ("txid" in applied.metadata) == (db.kind == "postgres")
    assert applied.metadata["events"].value == 0 and "last_event_position" not in applied.metadata
    assert applied.metadata["preview"].value.count("\n| added |") > len(expected)  # per field
    schema = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "column_schema_change"
    ]
    assert [e.passed for e in schema] == [True]  # the first schema of the table


def test_failing_blocking_check_stops_the_write(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "orders_sync", instance, partition_key="2026-01-02").success
    before = checksum(db, "orders", "order_id")

    result = run(defs, "orders_sync", instance, partition_key="2026-01-03")

    assert not result.success
    assert "orders/applied" not in executed_assets(result)
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert {"amount_in_range", "status_known", "currency_iso"} <= set(failed)
    evidence = failed["status_known"].metadata
    assert evidence["failed_rows"].value == 1
    assert evidence["rule"].value == "status one of placed, paid, shipped, cancelled"
    assert len(evidence["evidence"].value.splitlines()) == 5  # head, blank, header, rule, 1 row
    assert checksum(db, "orders", "order_id") == before
    # the row rules run in one step, so its error (shown on the run page) names every failure
    steps = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in steps] == ["orders__normalized__rules"]
    error = steps[0].step_failure_data.error
    assert error is not None
    assert f"{len(failed)} blocking asset checks failed" in error.message
    assert set(error.message.rsplit("orders/normalized: ", 1)[1].strip().split(",")) == set(failed)


def test_applied_launched_alone_revalidates_before_writing(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    run(defs, "orders_sync", instance, partition_key="2026-01-03")  # stages the invalid batch
    before = checksum(db, "orders", "order_id")

    result = run(
        defs,
        "orders_sync",
        instance,
        partition_key="2026-01-03",
        asset_selection=[dg.AssetKey(["orders", "applied"])],
    )

    assert not result.success
    assert executed_assets(result) == set()
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "orders__applied"
    assert "validation rule(s) failed, nothing written" in str(failure.step_failure_data.error)
    assert checksum(db, "orders", "order_id") == before
    assert before[0] == 0


def test_applied_without_the_checks_in_its_run_revalidates(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    """The batch staged and the checks left out of the run: `applied` checks it itself."""
    keys = [dg.AssetKey(["orders", s]) for s in ("extract", "normalized", "diff", "applied")]
    rules = dg.AssetSelection.checks_for_assets(keys[1])  # the row rules, on `normalized`
    unchecked = dg.define_asset_job("unchecked", selection=dg.AssetSelection.assets(*keys) - rules)
    defs = dg.Definitions.merge(location(), dg.Definitions(jobs=[unchecked]))
    before = checksum(db, "orders", "order_id")

    result = run(defs, "unchecked", instance, partition_key="2026-01-03")

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "orders__applied"
    assert "validation rule(s) failed, nothing written" in str(failure.step_failure_data.error)
    assert checksum(db, "orders", "order_id") == before


def test_applied_does_not_repeat_the_checks_that_passed_in_its_run(
    db: TestDb, location: Location, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks ran in the run and passed: `applied` reads the batch once, to write it."""
    from sync_pipeline.defs import gates

    checked: list[object] = []
    monkeypatch.setattr(gates, "check_chunks", lambda *a: checked.append(a) or [])

    result = run(location(), "orders_sync", instance, partition_key="2026-01-02")

    assert result.success
    assert checked == []
    alone = run(
        location(),
        "orders_sync",
        instance,
        partition_key="2026-01-02",
        asset_selection=[dg.AssetKey(["orders", "applied"])],
    )
    assert alone.success
    assert len(checked) == 1  # launched alone, it checks again


def test_partitioned_run_writes_only_its_day(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    result = run(location(), "orders_sync", instance, partition_key="2026-01-01")

    assert result.success
    days = {r["ordered_at"].date().isoformat() for r in db.rows("orders", order_by="order_id")}
    assert days == {"2026-01-01"}


def test_applied_logs_progress_per_written_chunk(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    result = run(location(), "orders_sync", instance, partition_key="2026-01-02")

    assert result.success
    lines = [e.user_message for e in instance.all_logs(result.run_id) if "write" in e.user_message]
    assert "sync 'orders': write 5 of 5 rows" in lines


def test_three_partition_range_runs_as_one_batch(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    result = run(
        location(),
        "orders_sync",
        instance,
        tags={
            "dagster/asset_partition_range_start": "2026-01-04",
            "dagster/asset_partition_range_end": "2026-01-06",
        },
    )

    assert result.success
    rows = db.rows("orders", order_by="order_id")
    assert {r["ordered_at"].date().isoformat() for r in rows} == {
        "2026-01-04",
        "2026-01-05",
        "2026-01-06",
    }
    assert len(rows) == 15
    assert len({r["last_batch_id"] for r in rows}) == 1
    partitions = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["orders", "applied"])
    }
    assert partitions == {"2026-01-04", "2026-01-05", "2026-01-06"}


def test_applied_launched_alone_rechecks_the_diff_rules_before_writing(
    db: TestDb, sender_url: str, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location()
    assert run(defs, "orders_sync", instance, partition_key="2026-01-01").success
    day = [r["order_id"] for r in db.rows("orders", order_by="order_id")]
    engine = sa.create_engine(sender_url)
    orders = sa.Table("orders", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:  # two thirds of the day vanish at the sender
        conn.execute(sa.delete(orders).where(orders.c.order_id.in_(day[: 2 * len(day) // 3])))
    engine.dispose()
    blocked = run(defs, "orders_sync", instance, partition_key="2026-01-01")
    assert not blocked.success and "orders/applied" not in executed_assets(blocked)
    before = checksum(db, "orders", "order_id")

    alone = run(
        defs,
        "orders_sync",
        instance,
        partition_key="2026-01-01",
        asset_selection=[dg.AssetKey(["orders", "applied"])],
    )

    assert not alone.success
    [failure] = [e for e in alone.all_events if e.is_step_failure]
    assert "diff rule(s) failed, nothing written: missing_guard" in str(
        failure.step_failure_data.error
    )
    assert checksum(db, "orders", "order_id") == before

"""A first sync from a CSV file: no `types:`, no table made by hand; bad input fails short."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from sync_pipeline.syncs import parse_syncs
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import Location, run

pytestmark = pytest.mark.integration

CSV = """order_id,customer,ordered_on,amount,paid
10001,ann,2026-01-03,12.50,true
10002,bob,2026-01-03,7,false
10003,cid,2026-01-04,100000.00,true
"""


def csv_sync(path: Path, **extra: Any) -> Any:
    entry = {
        "name": "csv_orders",
        "sender": {"kind": "files", "path": str(path)},
        "table": "csv_orders",
        "match_by": "order_id",
        "strategy": "overwrite",
        "rules": [
            {
                "name": "amount_range",
                "kind": "range",
                "columns": ["amount"],
                "min": 0,
                "max": 100000,
            },
            {"name": "customer_present", "kind": "not_null", "columns": ["customer"]},
        ],
        **extra,
    }
    return parse_syncs({"syncs": [entry]})


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data is not None
    return str(failure.step_failure_data.error.message)


def test_csv_into_a_missing_table_creates_it_with_typed_values(
    db: TestDb, tmp_path: Path, location: Location, instance: dg.DagsterInstance
) -> None:
    (tmp_path / "orders.csv").write_text(CSV)
    result = run(location(csv_sync(tmp_path / "orders.csv")), "csv_orders_sync", instance)
    assert result.success
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "amount_range": True,
        "customer_present": True,
        "key_unique_in_batch": True,
        "column_schema_change": True,  # the created table's first schema
    }
    rows = db.rows("csv_orders", order_by="order_id")
    assert [(r["order_id"], r["ordered_on"], r["amount"], r["paid"]) for r in rows] == [
        (10001, dt.date(2026, 1, 3), Decimal("12.50"), True),
        (10002, dt.date(2026, 1, 3), Decimal("7.00"), False),
        (10003, dt.date(2026, 1, 4), Decimal("100000.00"), True),
    ]
    table = sa.Table("csv_orders", sa.MetaData(), autoload_with=db.engine)
    assert [c.name for c in table.primary_key] == ["order_id"]
    assert {r["last_batch_id"] for r in rows} == {1}
    again = run(location(csv_sync(tmp_path / "orders.csv")), "csv_orders_sync", instance)
    assert again.success
    rows_again = db.rows("csv_orders", order_by="order_id")
    # typed values compare equal, so nothing is written: in the default ledger mode an unchanged
    # row keeps the id of the batch that wrote it
    assert rows_again == rows


def test_a_value_that_does_not_fit_names_file_line_field_and_value(
    db: TestDb, tmp_path: Path, location: Location, instance: dg.DagsterInstance
) -> None:
    defs = location(csv_sync(tmp_path / "orders.csv"))
    (tmp_path / "orders.csv").write_text(CSV)
    assert run(defs, "csv_orders_sync", instance).success
    (tmp_path / "orders.csv").write_text(CSV.replace("7,false", "7;5,false"))
    result = run(defs, "csv_orders_sync", instance)
    assert not result.success
    message = failure_text(result)
    assert f"{tmp_path / 'orders.csv'}, line 3, field 'amount': '7;5' does not fit" in message
    assert "Traceback" not in message
    assert [r["amount"] for r in db.rows("csv_orders", order_by="order_id")][1] == Decimal("7.00")


def test_rule_evidence_shows_the_offending_values_next_to_their_keys(
    db: TestDb, tmp_path: Path, location: Location, instance: dg.DagsterInstance
) -> None:
    (tmp_path / "orders.csv").write_text(
        CSV.replace("10002,bob,2026-01-03,7", "10002,bob,2026-01-03,-12.50")
    )
    result = run(location(csv_sync(tmp_path / "orders.csv")), "csv_orders_sync", instance)
    assert not result.success
    [check] = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert check.description == (
        "order_id 10002: amount = -12.50 (rule: amount between 0 and 100000)"
    )
    assert not sa.inspect(db.engine).has_table("csv_orders")


def test_create_table_false_and_a_missing_batch_column_fail_with_the_fix(
    db: TestDb, tmp_path: Path, location: Location, instance: dg.DagsterInstance
) -> None:
    (tmp_path / "orders.csv").write_text(CSV)
    forbidden = run(
        location(csv_sync(tmp_path / "orders.csv", create_table=False)), "csv_orders_sync", instance
    )
    assert "does not exist (create_table: false)" in failure_text(forbidden)
    db.execute("CREATE TABLE csv_orders (order_id BIGINT PRIMARY KEY, customer TEXT)")
    stamped = csv_sync(tmp_path / "orders.csv", batch_mode="column")  # column mode needs it
    result = run(location(stamped), "csv_orders_sync", instance)
    assert "ALTER TABLE csv_orders ADD COLUMN last_batch_id BIGINT;" in failure_text(result)
    assert db.rows("csv_orders", order_by="order_id") == []


def test_the_readme_csv_sync_runs_verbatim(
    db: TestDb,
    tmp_path: Path,
    location: Location,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    csv_text = re.search(r"cat > data/orders.csv <<'CSV'\n(.*?)CSV\n", readme, re.S)
    config = re.search(r"```yaml\n# my_syncs.yaml\n(.*?)```", readme, re.S)
    assert csv_text is not None and config is not None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text(csv_text.group(1))
    specs = parse_syncs(yaml.safe_load(config.group(1)))
    assert run(location(specs), "csv_orders_sync", instance).success
    assert [r["amount"] for r in db.rows("csv_orders", order_by="order_id")] == [
        Decimal("12.50"),
        Decimal("7.00"),
    ]


def test_a_sync_writes_to_its_own_target_database(
    db: TestDb,
    tmp_path: Path,
    location: Location,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "orders.csv").write_text(CSV)
    other = f"sqlite:///{tmp_path / 'billing.db'}"
    monkeypatch.setenv("BILLING_DB", other)
    specs = csv_sync(tmp_path / "orders.csv", target={"url_env": "BILLING_DB"})
    result = run(location(specs), "csv_orders_sync", instance)
    assert result.success
    engine = sa.create_engine(other)
    with engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT order_id FROM csv_orders ORDER BY 1")).scalars().all()
    engine.dispose()
    assert ids == [10001, 10002, 10003]
    assert not sa.inspect(db.engine).has_table("csv_orders")  # not the location's target
    text = repr([e.event_specific_data for e in result.all_events])
    assert "billing.db" not in text  # the URL is not copied into events or metadata

"""The demo's data is deterministic and its one bad day trips the blocking rules; staged batches
round-trip through Parquet per partition and per range."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from sync_pipeline.defs.io import ParquetIOManager
from sync_pipeline.demo.data import BAD_DAY, customers_rows, orders_rows
from sync_pipeline.syncs import load_syncs
from sync_pipeline.syncs.rules import check_rows, row_rules_for

REPO = Path(__file__).resolve().parents[2]


def test_demo_data_is_deterministic() -> None:
    assert customers_rows() == customers_rows()
    assert orders_rows() == orders_rows()


def orders_on(day_iso: str) -> pd.DataFrame:
    return pd.DataFrame([r for r in orders_rows() if r["ordered_at"].date().isoformat() == day_iso])


def test_only_the_bad_day_breaks_the_orders_rules() -> None:
    spec = next(s for s in load_syncs(REPO / "syncs.yaml") if s.name == "orders")
    rules = row_rules_for(spec)

    bad = {
        o.rule
        for o in check_rows(rules, orders_on(BAD_DAY.isoformat()), spec.key_columns)
        if not o.passed
    }
    good = [o for o in check_rows(rules, orders_on("2026-01-02"), spec.key_columns) if not o.passed]

    assert {"amount_in_range", "status_known", "currency_iso"} <= bad
    assert good == []


def test_staged_range_loads_back_and_falls_back_to_single_partitions(tmp_path: Path) -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2026-01-01")
    io = ParquetIOManager(base_dir=str(tmp_path))
    key = dg.AssetKey(["orders", "normalized"])
    frames = {
        d: pd.DataFrame({"order_id": [i], "day": [d]})
        for i, d in enumerate(["2026-01-01", "2026-01-02", "2026-01-03"])
    }
    for day, frame in frames.items():
        io.handle_output(
            dg.build_output_context(asset_key=key, partition_key=day, asset_partitions_def=daily),
            frame,
        )
    context = dg.build_input_context(
        asset_key=key,
        asset_partition_key_range=dg.PartitionKeyRange("2026-01-01", "2026-01-03"),
        asset_partitions_def=daily,
    )

    loaded = io.load_input(context)

    assert loaded["order_id"].tolist() == [0, 1, 2]


def test_missing_staged_batch_says_what_to_materialize(tmp_path: Path) -> None:
    io = ParquetIOManager(base_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="materialize the upstream asset"):
        io.load_input(dg.build_input_context(asset_key=dg.AssetKey(["x", "extract"])))

"""The demo's data is deterministic and its one bad day trips the blocking rules; staged batches
are read back per partition and per range, from a local folder or any fsspec URL."""

import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from sync_pipeline.defs.io import StagingIOManager
from sync_pipeline.demo.data import BAD_DAY, customers_rows, orders_rows
from sync_pipeline.syncs import load_syncs, staging
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.rules import row_rules_for

REPO = Path(__file__).resolve().parents[2]


def test_demo_data_is_deterministic() -> None:
    assert customers_rows() == customers_rows()
    assert orders_rows() == orders_rows()


def orders_on(day_iso: str) -> list[pa.Table]:
    """One day's orders as two chunks (the rules add up over chunks)."""
    rows = [r for r in orders_rows() if r["ordered_at"].date().isoformat() == day_iso]
    half = len(rows) // 2
    return [pa.Table.from_pylist(rows[:half]), pa.Table.from_pylist(rows[half:])]


def test_only_the_bad_day_breaks_the_orders_rules() -> None:
    spec = next(s for s in load_syncs(REPO / "syncs.yaml") if s.name == "orders")
    rules = row_rules_for(spec)

    bad = {
        o.rule
        for o in check_chunks(rules, orders_on(BAD_DAY.isoformat()), spec.key_columns)
        if not o.passed
    }
    good = [
        o for o in check_chunks(rules, orders_on("2026-01-02"), spec.key_columns) if not o.passed
    ]

    assert {"amount_in_range", "status_known", "currency_iso"} <= bad
    assert good == []


def _stage_days(io: StagingIOManager, key: dg.AssetKey) -> None:
    for i, day in enumerate(["2026-01-01", "2026-01-02", "2026-01-03"]):
        staging.stage([pa.table({"order_id": [i], "day": [day]})], io.location(key, [day]))


def _range_context(key: dg.AssetKey) -> dg.InputContext:
    return dg.build_input_context(
        asset_key=key,
        asset_partition_key_range=dg.PartitionKeyRange("2026-01-01", "2026-01-03"),
        asset_partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"),
    )


@pytest.mark.parametrize("base", ["local", "memory", "file_url"])
def test_staged_range_loads_back_and_falls_back_to_single_partitions(
    tmp_path: Path, base: str
) -> None:
    base_dir = {
        "local": str(tmp_path),
        "memory": f"memory://staging-{uuid.uuid4().hex}",
        "file_url": tmp_path.as_uri(),
    }[base]
    io = StagingIOManager(base_dir=base_dir)
    key = dg.AssetKey(["orders", "normalized"])
    _stage_days(io, key)

    loaded = io.load_input(_range_context(key))

    assert [c["order_id"].to_pylist() for c in loaded.chunks()] == [[0], [1], [2]]
    assert loaded.num_rows == 3


def test_a_range_staged_in_one_run_is_read_as_one_dataset(tmp_path: Path) -> None:
    io = StagingIOManager(base_dir=str(tmp_path))
    key = dg.AssetKey(["orders", "normalized"])
    _stage_days(io, key)
    whole = io.location(key, ["2026-01-01", "2026-01-02", "2026-01-03"])
    staging.stage([pa.table({"order_id": [7, 8, 9]})], whole)

    loaded = io.load_input(_range_context(key))

    assert loaded.locations == (whole,)
    assert [c["order_id"].to_pylist() for c in loaded.chunks()] == [[7, 8, 9]]


def test_missing_staged_batch_says_what_to_materialize(tmp_path: Path) -> None:
    io = StagingIOManager(base_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="materialize the upstream asset"):
        io.load_input(dg.build_input_context(asset_key=dg.AssetKey(["x", "extract"])))

"""The code location loads (without any env var) and has exactly the expected shape."""

import dagster as dg
import pytest

from sync_pipeline.definitions import defs as load_defs
from sync_pipeline.defs.assets import EXTRACT_RETRY, build_assets, short_errors
from sync_pipeline.defs.resources import SENDER_URL_ENV, TARGET_URL_ENV
from sync_pipeline.errors import SyncError
from sync_pipeline.syncs.spec import SenderSpec, SyncSpec

SNAPSHOT = {
    "assets": [
        f"{sync}/{step}"
        for sync in ("customers", "orders")
        for step in ("applied", "diff", "extract", "normalized", "sender")
    ],
    "checks": [
        "customers/applied:column_schema_change",
        "customers/applied:missing_rows",
        "customers/normalized:country_is_iso2",
        "customers/normalized:email_and_name_present",
        "customers/normalized:email_format",
        "customers/normalized:key_unique_in_batch",
        "orders/applied:column_schema_change",
        "orders/applied:missing_rows",
        "orders/diff:missing_guard",
        "orders/normalized:amount_in_range",
        "orders/normalized:currency_iso",
        "orders/normalized:customer_present",
        "orders/normalized:key_unique_in_batch",
        "orders/normalized:paid_orders_have_amount",
        "orders/normalized:required_columns",
        "orders/normalized:status_known",
    ],
    "jobs": ["customers_cleanup", "customers_sync", "orders_cleanup", "orders_sync"],
    "schedules": ["customers_sync_schedule", "orders_sync_schedule"],
    "sensors": ["customers_missing_rows", "orders_missing_rows"],
}


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> dg.RepositoryDefinition:
    monkeypatch.delenv(TARGET_URL_ENV, raising=False)
    monkeypatch.delenv(SENDER_URL_ENV, raising=False)
    monkeypatch.delenv("SYNC_CONFIG", raising=False)
    return load_defs().get_repository_def()


def test_definitions_snapshot(repo: dg.RepositoryDefinition) -> None:
    graph = repo.asset_graph
    assert {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    } == SNAPSHOT


def test_family_is_grouped_chained_and_tagged(repo: dg.RepositoryDefinition) -> None:
    graph = repo.asset_graph
    key = dg.AssetKey
    applied = graph.get(key(["orders", "applied"]))
    assert applied.group_name == "orders"
    assert applied.parent_keys == {key(["orders", "normalized"]), key(["orders", "diff"])}
    assert graph.get(key(["orders", "diff"])).parent_keys == {key(["orders", "normalized"])}
    assert graph.get(key(["orders", "normalized"])).parent_keys == {key(["orders", "extract"])}
    assert graph.get(key(["orders", "extract"])).parent_keys == {key(["orders", "sender"])}
    assert {"sqlite", "table"} <= set(applied.kinds)
    assert applied.pools == {"target_table:orders"}
    assert applied.metadata["dagster/table_name"] == "orders"  # before any run
    assert graph.get(key(["orders", "extract"])).description


def test_extract_retries_but_the_projects_own_errors_do_not() -> None:
    spec = SyncSpec("s", SenderSpec("sql"), "t")
    [extract] = [a for a in build_assets(spec, "sqlite") if a.key.path[-1] == "extract"]
    assert extract.op.retry_policy == EXTRACT_RETRY
    with pytest.raises(dg.Failure) as failure, short_errors(spec):
        raise SyncError("bad value")
    assert failure.value.allow_retries is False


def test_validation_checks_are_blocking_and_partitioned(repo: dg.RepositoryDefinition) -> None:
    graph = repo.asset_graph
    normalized_checks = [
        k for k in graph.asset_check_keys if k.asset_key == dg.AssetKey(["orders", "normalized"])
    ]
    assert normalized_checks
    for check in normalized_checks:
        node = graph.get_check_spec(check)
        assert node.blocking, check
        assert node.partitions_def is not None, check


def test_sync_job_excludes_missing_rows_check_and_carries_table_tag(
    repo: dg.RepositoryDefinition,
) -> None:
    job = repo.get_job("orders_sync")
    assert job.tags["sync_table"] == "orders"
    assert isinstance(job.partitions_def, dg.DailyPartitionsDefinition)
    checks = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert {"status_known", "missing_guard", "key_unique_in_batch"} <= checks
    assert "missing_rows" not in checks


def test_postgres_target_is_tagged_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TARGET_URL_ENV, "postgresql+psycopg://u:secret@h/db")
    repo = load_defs().get_repository_def()
    assert "postgres" in repo.asset_graph.get(dg.AssetKey(["orders", "applied"])).kinds

"""What the catalog shows beyond the four steps: owners, tags and a freshness policy from
syncs.yaml, the sender as an external asset upstream of `extract`, `sync_table` metadata."""

import datetime as dt
from typing import Any

import dagster as dg
import pytest

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.resources import default_resources
from sync_pipeline.syncs.build import SyncConfigError
from sync_pipeline.syncs.loader import parse_syncs

ORDERS: dict[str, Any] = {
    "name": "orders",
    "sender": {"kind": "sql", "table": "orders", "url": "postgresql://etl:s3cret@erp-db/erp"},
    "table": "orders",
    "match_by": "order_id",
    "owners": ["team:sales", "ana@example.com"],
    "tags": {"tier": "gold", "domain": "sales"},
    "freshness": {"fail_window": "26h", "warn_window": "1d1h"},
}
STEPS = ("extract", "normalized", "diff", "applied")


def graph_of(**changes: Any) -> Any:
    specs = parse_syncs({"syncs": [{**ORDERS, **changes}]})
    return build_location(specs, default_resources()).resolve_asset_graph()


def test_owners_and_tags_from_config_reach_every_asset_of_the_sync() -> None:
    graph = graph_of()
    for step in (*STEPS, "sender"):
        node = graph.get(dg.AssetKey(["orders", step]))
        assert list(node.owners) == ["team:sales", "ana@example.com"], step
        assert {k: node.tags[k] for k in ("tier", "domain")} == ORDERS["tags"], step


def test_every_materialized_asset_names_its_table_for_the_run_queue() -> None:
    graph = graph_of()
    for step in STEPS:
        assert graph.get(dg.AssetKey(["orders", step])).metadata["sync_table"] == "orders"


def test_sender_is_an_external_asset_upstream_of_extract_without_the_password() -> None:
    graph = graph_of()
    sender = graph.get(dg.AssetKey(["orders", "sender"]))
    assert not sender.is_materializable
    assert "sql" in sender.kinds
    assert graph.get(dg.AssetKey(["orders", "extract"])).parent_keys == {sender.key}
    assert "table `orders` at `postgresql://etl:***@erp-db/erp`" in (sender.description or "")
    assert "s3cret" not in (sender.description or "")


def test_sender_without_url_names_the_sender_db_resource() -> None:
    graph = graph_of(sender={"kind": "sql", "query": "SELECT * FROM orders"})
    description = graph.get(dg.AssetKey(["orders", "sender"])).description or ""
    assert "a query at the `sender_db` resource" in description


def test_freshness_policy_from_config_is_on_applied_only() -> None:
    graph = graph_of()
    policy = graph.get(dg.AssetKey(["orders", "applied"])).freshness_policy
    assert isinstance(policy, dg.FreshnessPolicy)
    assert policy.fail_window.to_timedelta() == dt.timedelta(hours=26)
    assert policy.warn_window is not None
    assert policy.warn_window.to_timedelta() == dt.timedelta(days=1, hours=1)
    assert graph.get(dg.AssetKey(["orders", "diff"])).freshness_policy is None


def test_no_freshness_configured_means_no_policy() -> None:
    applied = graph_of(freshness=None).get(dg.AssetKey(["orders", "applied"]))
    assert applied.freshness_policy is None


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"owners": ["sales team"]}, "owners[0]", "neither an email nor 'team:<name>'"),
        ({"tags": {"tier": "gold plated"}}, "tags.tier", "letters, digits"),
        ({"tags": {"dagster/kind": "x"}}, "tags.dagster/kind", "a tag key is"),
        ({"freshness": {"fail_window": "26 hours"}}, "freshness.fail_window", "not a duration"),
        ({"freshness": {"fail_window": "30s"}}, "freshness.fail_window", "shorter than one min"),
        (
            {"freshness": {"fail_window": "2h", "warn_window": "3h"}},
            "freshness.warn_window",
            "shorter than fail_window",
        ),
    ],
)
def test_bad_catalog_config_names_the_sync_and_the_field(
    change: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(SyncConfigError) as raised:
        parse_syncs({"syncs": [{**ORDERS, **change}]})
    assert (raised.value.sync, raised.value.field) == ("orders", field)
    assert reason in raised.value.reason

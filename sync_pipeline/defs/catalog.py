"""What the catalog shows about a sync beyond its four steps: the sender upstream of `extract`,
owners and tags from config, the `sync_table` metadata, and an optional freshness policy."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from sync_pipeline.defs.coordinator import TABLE_TAG
from sync_pipeline.syncs import catalog
from sync_pipeline.syncs.spec import SyncSpec


def sender_key(spec: SyncSpec) -> dg.AssetKey:
    """The sender, an external asset upstream of `extract`: `[<prefix>/]<sync>/sender`."""
    return dg.AssetKey([*spec.key_prefix, spec.name, "sender"])


def sender_asset(spec: SyncSpec) -> dg.AssetSpec:
    """Never materialized here; shown so lineage starts where the records come from."""
    return dg.AssetSpec(
        key=sender_key(spec),
        kinds={spec.sender.kind},
        description=(
            f"The `{spec.sender.kind}` sender of sync `{spec.name}`: "
            f"{catalog.sender_source(spec)}. Read by `{spec.name}/extract`, never written."
        ),
        group_name=spec.name,
        owners=list(spec.owners),
        tags=dict(spec.tags),
    )


def labels(spec: SyncSpec, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Owners and tags from config, and the `sync_table` metadata the run coordinator turns
    into the run's queue tag, as asset decorator arguments."""
    return {
        "owners": list(spec.owners),
        "tags": dict(spec.tags),
        "metadata": {TABLE_TAG: spec.table, **(metadata or {})},
    }


def freshness_policy(spec: SyncSpec) -> dg.FreshnessPolicy | None:
    """`freshness:` of the sync: `applied` fails (warns) after that long without a new batch."""
    if spec.freshness is None:
        return None
    return dg.FreshnessPolicy.time_window(
        fail_window=spec.freshness.fail_window, warn_window=spec.freshness.warn_window
    )

"""Partitions of a sync (daily on a sender time column, or static values) and its scope."""

import datetime as dt

import dagster as dg

from sync_pipeline.syncs.scope import Scope
from sync_pipeline.syncs.spec import SyncSpec


def partitions_for(spec: SyncSpec) -> dg.PartitionsDefinition | None:
    """The partitions definition shared by every asset and check of the sync."""
    p = spec.partitioning
    if p is None:
        return None
    if p.kind == "daily":
        assert p.start is not None  # the loader guarantees it
        return dg.DailyPartitionsDefinition(
            start_date=p.start.strftime("%Y-%m-%d"), timezone=p.timezone
        )
    return dg.StaticPartitionsDefinition(list(p.values))


def backfill_policy_for(spec: SyncSpec) -> dg.BackfillPolicy | None:
    """Daily ranges run as one run (one batch); static values (tenants) one run each."""
    p = spec.partitioning
    if p is None:
        return None
    if p.kind == "daily":
        return dg.BackfillPolicy.single_run()
    return dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def scope_for(context: dg.AssetExecutionContext, spec: SyncSpec) -> Scope | None:
    """The slice one run covers: the partition time window (range) or the static keys."""
    p = spec.partitioning
    if p is None or not (context.has_partition_key or context.has_partition_key_range):
        return None
    if p.kind == "daily":
        window = context.partition_time_window
        return Scope(p.column, p.scope_column, _naive_utc(window.start), _naive_utc(window.end))
    return Scope(p.column, p.scope_column, values=tuple(context.partition_keys))


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Databases store the sender's timestamps without zone; compare in UTC."""
    return value.astimezone(dt.UTC).replace(tzinfo=None)

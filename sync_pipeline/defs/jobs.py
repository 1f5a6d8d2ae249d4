"""Per sync: the sync job (the asset family with its blocking checks) and the cleanup job that
applies the missing-row policy after a batch (launched by the batch-id sensor)."""

from typing import Any, TypeAlias

import dagster as dg

from sync_pipeline import events
from sync_pipeline.defs.assets import FamilyKeys
from sync_pipeline.defs.checks import missing_check_key
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs.missing import cleanup_missing
from sync_pipeline.syncs.runner import target_engine
from sync_pipeline.syncs.scope import decode_scope
from sync_pipeline.syncs.spec import SyncSpec

# What define_asset_job returns (its class is not exported by dagster).
SyncJob: TypeAlias = Any


class CleanupConfig(dg.Config):
    """Which batch's missing rows to act on, and in which scope (copied from its metadata)."""

    batch_id: int
    partition_keys: list[str] = []
    scope: str = ""  # `encode_scope` of the batch's scope; "" is the whole table


def sync_job_name(spec: SyncSpec) -> str:
    return f"{spec.name}_sync"


def cleanup_job_name(spec: SyncSpec) -> str:
    return f"{spec.name}_cleanup"


def build_sync_job(spec: SyncSpec) -> SyncJob:
    """extract -> normalized (+ blocking checks) -> diff -> applied, one run per batch."""
    return dg.define_asset_job(
        sync_job_name(spec),
        # by key, not group: a component may put several syncs in one group
        selection=dg.AssetSelection.assets(*FamilyKeys.of(spec).all())
        - dg.AssetSelection.checks(missing_check_key(spec)),
        tags={"sync_table": spec.table},
        description=f"Sync `{spec.name}` into `{spec.table}`.",
    )


def build_cleanup_job(spec: SyncSpec) -> dg.JobDefinition:
    """Soft-delete or delete the rows a batch did not see; records it on `<sync>/applied`."""
    applied_key = FamilyKeys.of(spec).applied

    @dg.op(name=f"{spec.name}__cleanup_missing", pool=f"target_table:{spec.table}")
    def cleanup(
        context: dg.OpExecutionContext, config: CleanupConfig, target_db: SqlDatabase
    ) -> None:
        scope = decode_scope(config.scope)
        with target_engine(spec, target_db.url) as engine:
            done = cleanup_missing(engine, spec, config.batch_id, scope)
        rows = done.rows
        if done.blocked:
            context.log.warning(f"{spec.missing}: {done.blocked}")
        else:
            context.log.info(f"{spec.missing}: {rows} row(s) missing after batch {config.batch_id}")
        keys: list[str | None] = list(config.partition_keys) or [None]
        for key in keys:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=applied_key,
                    partition=key,
                    metadata={
                        "sync_action": "cleanup",
                        "policy": spec.missing,
                        "rows": dg.MetadataValue.int(rows),
                        "cleaned_after_batch": dg.MetadataValue.int(config.batch_id),
                        "blocked": done.blocked or "",
                    },
                )
            )

    @dg.job(
        name=cleanup_job_name(spec),
        tags={"sync_table": spec.table},
        description=f"Apply policy `{spec.missing}` to rows missing from `{spec.table}`.",
    )
    def cleanup_job() -> None:
        cleanup()

    return cleanup_job


def prune_job_name(spec: SyncSpec) -> str:
    return f"{spec.name}_prune_events"


def build_prune_job(spec: SyncSpec) -> dg.JobDefinition | None:
    """With `events: {retention_days: n}`: drop the target's change events older than n days
    (never what a durable consumer has not acknowledged)."""
    retention = spec.events_retention
    if retention is None:
        return None

    @dg.op(name=f"{spec.name}__prune_events")
    def prune(context: dg.OpExecutionContext, target_db: SqlDatabase) -> None:
        with target_engine(spec, target_db.url) as engine:
            dropped = events.prune(engine, older_than=retention)
        context.log.info(f"pruned {dropped} change event(s) older than {retention}")

    @dg.job(
        name=prune_job_name(spec),
        tags={"sync_table": spec.table},
        description=f"Drop change events older than {retention} from the target of `{spec.name}`.",
    )
    def prune_job() -> None:
        prune()

    return prune_job

"""Per sync: the batch-id sensor. After each applied batch it reports the rows missing after that
batch (scoped to its partition) and, under `soft_delete`/`delete`, launches the cleanup job.

The cursor is the storage id of the last `applied` materialization handled, so a tick reads only
new events and runs one indexed query per new batch.
"""

from typing import Any

import dagster as dg

from sync_pipeline.defs.assets import FamilyKeys
from sync_pipeline.defs.checks import batch_facts, missing_evaluation
from sync_pipeline.defs.jobs import CleanupConfig
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.engine.missing import deletion_blocked
from sync_pipeline.syncs.runner import target_engine
from sync_pipeline.syncs.spec import SyncSpec

EVENTS_PER_TICK = 50


def sensor_name(spec: SyncSpec) -> str:
    return f"{spec.name}_missing_rows"


def build_missing_sensor(spec: SyncSpec, cleanup_job: dg.JobDefinition) -> dg.SensorDefinition:
    applied_key = FamilyKeys.of(spec).applied

    @dg.sensor(
        name=sensor_name(spec),
        job=cleanup_job,
        minimum_interval_seconds=60,
        description=(
            f"After each applied batch of `{spec.name}`, find target rows missing after it; "
            f"policy `{spec.missing}`."
        ),
    )
    def missing_rows_sensor(
        context: dg.SensorEvaluationContext, target_db: SqlDatabase
    ) -> dg.SensorResult | dg.SkipReason:
        page = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=applied_key),
            limit=EVENTS_PER_TICK,
            cursor=context.cursor,
            ascending=True,
        )
        if not page.records:
            return dg.SkipReason("no new batches applied")
        batches = _new_batches(page.records)
        events: list[dg.AssetCheckEvaluation] = []
        runs: list[dg.RunRequest] = []
        with target_engine(spec, target_db.url) as engine:
            for batch_id, (meta, partitions) in batches.items():
                facts = batch_facts(meta)
                events.append(missing_evaluation(spec, engine, batch_id, facts[1]))
                if _may_clean(spec, engine, batch_id, events[-1], context):
                    runs.append(_cleanup_request(spec, batch_id, meta, partitions))
        return dg.SensorResult(run_requests=runs, asset_events=events, cursor=page.cursor)

    return missing_rows_sensor


def _new_batches(records: Any) -> dict[int, tuple[dict[str, Any], list[str]]]:
    """Complete sync batches among the new events, by batch id. A range run records the same
    batch once per partition; cleanup runs (sync_action=cleanup) are not batches."""
    batches: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for record in records:
        materialization = record.asset_materialization
        if materialization is None:
            continue
        meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        batch_id, _ = batch_facts(meta)
        if meta.get("sync_action") == "cleanup" or batch_id is None:
            continue
        _, partitions = batches.setdefault(batch_id, (meta, []))
        if materialization.partition:
            partitions.append(materialization.partition)
    return batches


def _may_clean(
    spec: SyncSpec,
    engine: Any,
    batch_id: int,
    found: dg.AssetCheckEvaluation,
    context: dg.SensorEvaluationContext,
) -> bool:
    """Deletion only when rows are missing and the engine's ledger says the batch was complete
    and not empty (the cleanup job checks the same again before it deletes)."""
    if spec.missing == "report" or found.passed:
        return False
    blocked = deletion_blocked(engine, spec.table, batch_id, column=spec.batch_column)
    if blocked:
        context.log.info(f"no cleanup for {spec.name!r}: {blocked}")
    return blocked is None


def _cleanup_request(
    spec: SyncSpec, batch_id: int, meta: dict[str, Any], partitions: list[str]
) -> dg.RunRequest:
    config = CleanupConfig(
        batch_id=batch_id,
        partition_keys=partitions,
        **{k: str(meta.get(k) or "") for k in CleanupConfig.scope_fields()},
    )
    return dg.RunRequest(
        run_key=f"{spec.name}:cleanup:{batch_id}",
        run_config=dg.RunConfig(ops={f"{spec.name}__cleanup_missing": config}),
        tags={"sync_batch_id": str(batch_id), "sync_table": spec.table},
    )

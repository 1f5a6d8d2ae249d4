"""Per sync: the batch-id sensor. After each applied batch it reports the rows missing after that
batch (scoped to its partition) and, under `soft_delete`/`delete`, launches the cleanup job.

The decisions (which events are batches, the rows missing, whether cleanup may follow) live in
`syncs/missing.py`; this module only turns a tick's events into calls and the answers into check
evaluations and run requests. The cursor is the storage id of the last `applied` materialization
handled, so a tick reads only new events and runs one indexed query per new batch.
"""

from collections.abc import Iterator, Sequence

import dagster as dg

from sync_pipeline.defs.assets import FamilyKeys
from sync_pipeline.defs.checks import missing_evaluation
from sync_pipeline.defs.jobs import CleanupConfig
from sync_pipeline.defs.metadata import plain_metadata
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs import missing
from sync_pipeline.syncs.runner import target_engine
from sync_pipeline.syncs.scope import encode_scope
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
        events: list[dg.AssetCheckEvaluation] = []
        runs: list[dg.RunRequest] = []
        with target_engine(spec, target_db.url) as engine:
            for batch in missing.applied_batches(_recorded(page.records)):
                found = missing.missing_rows(engine, spec, batch)
                events.append(missing_evaluation(spec, found))
                decision = missing.cleanup_decision(engine, spec, found)
                if decision.blocked:
                    context.log.info(f"no cleanup for {spec.name!r}: {decision.blocked}")
                if decision.may_clean:
                    runs.append(_cleanup_request(spec, batch))
        return dg.SensorResult(run_requests=runs, asset_events=events, cursor=page.cursor)

    return missing_rows_sensor


def _recorded(
    records: Sequence[dg.EventLogRecord],
) -> Iterator[tuple[dict[str, object], str | None]]:
    """(plain metadata, partition) of each materialization among the records."""
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None:
            yield plain_metadata(materialization.metadata), materialization.partition


def _cleanup_request(spec: SyncSpec, batch: missing.AppliedBatch) -> dg.RunRequest:
    config = CleanupConfig(
        batch_id=batch.batch_id,
        partition_keys=list(batch.partitions),
        scope=encode_scope(batch.scope),
    )
    return dg.RunRequest(
        run_key=f"{spec.name}:cleanup:{batch.batch_id}",
        run_config=dg.RunConfig(ops={f"{spec.name}__cleanup_missing": config}),
        tags={"sync_batch_id": str(batch.batch_id), "sync_table": spec.table},
    )

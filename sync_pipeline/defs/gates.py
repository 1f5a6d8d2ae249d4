"""What keeps `applied` from writing what the checks would have stopped: it may be launched
alone, and blocking checks gate only the steps of their own run (docs/dagster.md, "Why nothing
is written when a check fails")."""

import dagster as dg

from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.syncs import rules, runner
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import StagedBatch


def first_diff(seen: list[BatchDiff]) -> runner.Guard:
    """A guard that keeps the first diff the engine is about to write, for the preview (a
    streamed batch has one per chunk: keeping them all would hold the batch). The diff rules
    are judged again by the runner, on the whole batch, inside the transaction."""

    def guard(planned: BatchDiff) -> None:
        if not seen:
            seen.append(planned)

    return guard


def revalidate(
    context: dg.AssetExecutionContext, spec: SyncSpec, batch: StagedBatch, key: dg.AssetKey
) -> None:
    """Blocking checks gate only their own run; `applied` launched without them checks `batch`
    (asset `key`) again, chunk by chunk. When they passed in this run, on the batch this run
    staged, they are not repeated."""
    row_rules = rules.row_rules_for(spec)
    if not row_rules or _passed_in_run(context, key, [r.name for r in row_rules]):
        return
    outcomes = check_chunks(row_rules, batch.chunks(), spec.key_columns)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise dg.Failure(
            description=(
                f"sync {spec.name!r}: {len(failed)} validation rule(s) failed, nothing written: "
                + ", ".join(f"{o.rule} ({o.failures} rows)" for o in failed)
            ),
            metadata={f"{o.rule}/failed_rows": o.failures for o in failed}
            | {f"{o.rule}/sample_keys": dg.MetadataValue.json(list(o.sample)) for o in failed},
        )


def _passed_in_run(context: dg.AssetExecutionContext, key: dg.AssetKey, names: list[str]) -> bool:
    """Every named check of `key` was evaluated in this run and passed (the checks, blocking,
    stop the run's later steps when one fails; a run checks the batch it staged itself)."""
    keys = [dg.AssetCheckKey(key, name) for name in names]
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return all(
        (record := latest.get(key)) is not None
        and record.run_id == context.run.run_id
        and record.status.value == "SUCCEEDED"  # the status enum is not exported
        for key in keys
    )

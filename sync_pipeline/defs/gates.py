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


def revalidate(spec: SyncSpec, batch: StagedBatch) -> None:
    """Blocking checks gate only their own run; `applied` launched alone checks again (chunk by
    chunk)."""
    outcomes = check_chunks(rules.row_rules_for(spec), batch.chunks(), spec.key_columns)
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

"""What keeps `applied` from writing what the checks would have stopped: it may be launched
alone, and blocking checks gate only the steps of their own run (docs/dagster.md, "Why nothing
is written when a check fails")."""

import dagster as dg

from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.syncs import rules, runner
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import StagedBatch


def diff_guard(spec: SyncSpec, seen: list[BatchDiff]) -> runner.Guard:
    """The diff rules again, on the diff the engine is about to write (inside its transaction);
    the first such diff is kept in `seen` (a streamed batch has one per chunk: keeping them all
    would hold the batch)."""

    def guard(planned: BatchDiff) -> None:
        if not seen:
            seen.append(planned)
        failed = [
            o for o in (rules.check_diff(r, planned) for r in spec.diff_rules) if not o.passed
        ]
        if failed:
            raise dg.Failure(
                description=(
                    f"sync {spec.name!r}: {len(failed)} diff rule(s) failed, nothing written: "
                    + ", ".join(f"{o.rule} ({o.detail})" for o in failed)
                )
            )

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

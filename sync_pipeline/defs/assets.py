"""The four assets of one sync: extract -> normalized -> diff -> applied (the target table).

Each body unpacks the context, calls a plain-Python step (sync_pipeline.syncs.runner) and turns
the result into metadata. `applied` is the only asset that writes to the target.
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster as dg

from sync_pipeline.defs import metadata as md
from sync_pipeline.defs.catalog import freshness_policy, labels, sender_key
from sync_pipeline.defs.gates import first_diff, revalidate
from sync_pipeline.defs.io import StagingIOManager
from sync_pipeline.defs.partitions import backfill_policy_for, partitions_for, scope_for
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.spec import Progress
from sync_pipeline.engine.staged import drop_diff, load_diff
from sync_pipeline.errors import SyncError
from sync_pipeline.syncs import diff_rules, runner, staging
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import StagedBatch


@dataclass(frozen=True, slots=True)
class FamilyKeys:
    """Asset keys of one sync family: `[<prefix>/]<sync>/extract` ... `<sync>/applied`."""

    extract: dg.AssetKey
    normalized: dg.AssetKey
    diff: dg.AssetKey
    applied: dg.AssetKey

    @classmethod
    def of(cls, spec: SyncSpec) -> "FamilyKeys":
        return cls(*(dg.AssetKey([*spec.key_prefix, spec.name, step]) for step in cls.__slots__))

    def all(self) -> list[dg.AssetKey]:
        return [getattr(self, step) for step in self.__slots__]


# A sender that is briefly unreachable gets three more tries; the project's own errors none.
EXTRACT_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)


class ExtractConfig(dg.Config):
    """Run config of `extract`: `full_refresh: true` reads an incremental sender from the start."""

    full_refresh: bool = False


@contextmanager
def short_errors(spec: SyncSpec) -> Iterator[None]:
    """The project's own errors (bad value, missing table, ...) as a short Failure message for
    the UI and CLI, not a stack trace, never retried; anything else propagates as it is."""
    try:
        yield
    except SyncError as exc:
        raise dg.Failure(  # bad data or config: a retry would fail the same way
            description=f"sync {spec.name!r}: {type(exc).__name__}: {exc}", allow_retries=False
        ) from None


def build_assets(spec: SyncSpec, target_kind: str) -> list[dg.AssetsDefinition]:
    """The asset family of one sync, grouped under the sync's name."""
    return [
        _extract(spec),
        _normalized(spec),
        _diff(spec),
        _applied(spec, target_kind),
    ]


def _common(spec: SyncSpec, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "group_name": spec.name,
        "partitions_def": partitions_for(spec),
        "backfill_policy": backfill_policy_for(spec),
        **labels(spec, metadata),
    }


def _extract(spec: SyncSpec) -> dg.AssetsDefinition:
    keys = FamilyKeys.of(spec)

    @dg.asset(
        key=keys.extract,
        kinds={spec.sender.kind, "arrow"},
        description=f"Records the `{spec.sender.kind}` sender delivers for sync `{spec.name}`.",
        retry_policy=EXTRACT_RETRY,
        deps=[sender_key(spec)],
        **_common(spec),
    )
    def extract(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        sender_db: SqlDatabase,
        io_manager: dg.ResourceParam[StagingIOManager],
    ) -> StagedBatch:
        sender = runner.open_sender(spec, sender_db.url, full_refresh=config.full_refresh)
        scope = scope_for(context, spec)
        at = io_manager.location(keys.extract, _partition_keys(context))
        with short_errors(spec):  # each chunk is staged as the sender delivers it
            staged = staging.stage(runner.read(sender, scope), at)
        context.add_output_metadata({**md.batch_metadata(staged), **md.scope_metadata(scope)})
        return staged

    return extract


def _normalized(spec: SyncSpec) -> dg.AssetsDefinition:
    keys = FamilyKeys.of(spec)

    @dg.asset(
        key=keys.normalized,
        ins={"extract": dg.AssetIn(keys.extract)},
        kinds={"arrow", "pandera"},
        description=(
            f"The batch in target columns with transforms applied, text cast to the target's "
            f"column types (inferred where the table has none); validation rules of "
            f"`{spec.name}` run here as blocking checks."
        ),
        **_common(spec),
    )
    def normalized(
        context: dg.AssetExecutionContext,
        extract: StagedBatch,
        target_db: SqlDatabase,
        io_manager: dg.ResourceParam[StagingIOManager],
    ) -> StagedBatch:
        at = io_manager.location(keys.normalized, _partition_keys(context))
        with short_errors(spec), runner.target_engine(spec, target_db.url) as engine:
            chunks = runner.transform(spec, extract, runner.reflect_target(engine, spec))
            staged = staging.stage(chunks, at)  # chunk by chunk, as each is transformed
        context.add_output_metadata(md.batch_metadata(staged))
        return staged

    return normalized


def _diff(spec: SyncSpec) -> dg.AssetsDefinition:
    keys = FamilyKeys.of(spec)
    check_specs = [
        dg.AssetCheckSpec(r.name, asset=keys.diff, blocking=True, description=r.description)
        for r in spec.diff_rules
    ]

    @dg.asset(
        key=keys.diff,
        ins={"normalized": dg.AssetIn(keys.normalized)},
        check_specs=check_specs,
        kinds={"sql", "arrow"},
        description=(
            f"What applying the batch to `{spec.table}` would do: added / changed (old → new) / "
            "unchanged / missing. Read-only."
        ),
        **_common(spec),
    )
    def diff(
        context: dg.AssetExecutionContext,
        normalized: StagedBatch,
        target_db: SqlDatabase,
        io_manager: dg.ResourceParam[StagingIOManager],
    ) -> dg.MaterializeResult:
        scope = scope_for(context, spec)
        staged_at = io_manager.diff_dir(keys.diff, _partition_keys(context))
        with short_errors(spec), runner.target_engine(spec, target_db.url) as engine:
            # staged chunk by chunk as it is planned: what `applied` writes, if the target
            # still matches it
            planned = runner.preview(engine, spec, normalized, scope, staged_at)
        outcomes = diff_rules.outcomes(spec, planned)
        return dg.MaterializeResult(
            metadata={
                **md.diff_metadata(planned),
                **md.scope_metadata(scope),
                "staged_diff": dg.MetadataValue.path(str(staged_at)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=o.rule, passed=o.passed, metadata=md.outcome_metadata(o)
                )
                for o in outcomes
            ],
        )

    return diff


def _applied(spec: SyncSpec, target_kind: str) -> dg.AssetsDefinition:
    keys = FamilyKeys.of(spec)

    @dg.asset(
        key=keys.applied,
        ins={"normalized": dg.AssetIn(keys.normalized)},
        deps=[keys.diff],
        pool=f"target_table:{spec.table}",
        kinds={target_kind, "table"},
        freshness_policy=freshness_policy(spec),
        description=_applied_description(spec),
        **_common(spec, {"dagster/table_name": spec.table}),
    )
    def applied(
        context: dg.AssetExecutionContext,
        normalized: StagedBatch,
        target_db: SqlDatabase,
        sender_db: SqlDatabase,
        io_manager: dg.ResourceParam[StagingIOManager],
    ) -> dg.MaterializeResult:
        revalidate(context, spec, normalized, keys.normalized)
        scope = scope_for(context, spec)
        partition_keys = _partition_keys(context)
        staged = _staged_diff(context, io_manager, keys, partition_keys)
        seen: list[BatchDiff] = []  # the (first chunk's) diff the engine writes, for the preview
        guard = first_diff(seen)
        with short_errors(spec), runner.target_engine(spec, target_db.url) as engine:
            progress = _log_progress(context, spec)
            if staged is None:  # no staged diff: plan and apply in one transaction
                result = runner.apply(engine, spec, normalized, scope, guard, progress)
            else:  # exactly the staged diff, or StaleDiffError when the target moved
                result = runner.apply_planned(engine, spec, staged, scope, guard, progress)
            table = {**md.table_metadata(engine, spec.table), **md.events_metadata(engine, result)}
        _consume_staged(io_manager, keys.diff, partition_keys)
        # an incremental sender's cursor moves only now, after the batch was applied
        cursor = runner.commit_cursor(spec, normalized, sender_db.url)
        if cursor is not None:
            table["cursor"] = str(cursor)
        return dg.MaterializeResult(
            metadata={
                **table,
                **md.result_metadata(result),
                **md.scope_metadata(scope),
                "diff": "staged" if staged is not None else "planned in this step",
                **({"preview": md.preview_value(seen[0])} if seen else {}),
            }
        )

    return applied


def _applied_description(spec: SyncSpec) -> str:
    return (
        f"The target table `{spec.table}`. The only writer: applies the diff staged by "
        f"`{spec.name}/diff` (or, launched alone without one, the batch) with strategy "
        f"`{spec.strategy}` in one transaction and stamps `{spec.batch_column}`."
    )


def _partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    """The partition keys of this run (one, a range, or none for an unpartitioned sync)."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return []


def _latest(context: dg.AssetExecutionContext, key: dg.AssetKey, partition_keys: list[str]) -> int:
    """Storage id of the newest materialization of `key` for these partitions (-1: none)."""
    found = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=partition_keys or None), limit=1
    )
    return found.records[0].storage_id if found.records else -1


def _staged_diff(
    context: dg.AssetExecutionContext, io: StagingIOManager, keys: FamilyKeys, partitions: list[str]
) -> BatchDiff | None:
    """The diff `diff` staged for the batch now staged; None when there is none, or when it is
    older than the partition's latest `normalized` (superseded: never written)."""
    if _latest(context, keys.diff, partitions) <= _latest(context, keys.normalized, partitions):
        return None
    return load_diff(io.diff_dir(keys.diff, partitions))


def _consume_staged(io_manager: StagingIOManager, key: dg.AssetKey, keys: list[str]) -> None:
    """An applied diff is spent: drop it, and diffs staged per partition of an applied range."""
    for part in [keys, *([k] for k in keys if len(keys) > 1)]:
        drop_diff(io_manager.diff_dir(key, part))


PROGRESS_EVERY_S = 2.0


def _log_progress(context: dg.AssetExecutionContext, spec: SyncSpec) -> Progress:
    """The engine's progress: a log line after a written chunk, so long runs show life, but
    at most every PROGRESS_EVERY_S and the last (each is a stored event: 0.3 s per 1M rows)."""
    last = [-PROGRESS_EVERY_S]

    def progress(done: int, total: int | None, phase: str) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S and done != total:
            return
        last[0] = now
        of = f" of {total}" if total is not None else ""
        context.log.info(f"sync {spec.name!r}: {phase} {done}{of} rows")

    return progress

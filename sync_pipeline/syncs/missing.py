"""Rows missing after a batch, in one home: which recorded batches to look at, the target rows a
batch did not see within its scope, whether cleanup may follow it, and the cleanup itself.

Every answer about the target comes from the engine's ledger-aware functions
(`engine/api.missing_after_batch`, `engine/missing.py` over `engine/batches.py`): a batch the
ledger does not hold (failed, rolled back), one that saw no rows and one that dropped or failed
records never lead to a deletion. The Dagster sensor, check and cleanup job only adapt these.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from sync_pipeline.engine.api import missing_after_batch
from sync_pipeline.engine.missing import CleanupResult, delete_missing, deletion_blocked
from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.rules import SAMPLE_SIZE, key_text
from sync_pipeline.syncs.scope import Scope, scope_from_metadata, target_where
from sync_pipeline.syncs.spec import SyncSpec

# Keys of the `applied` metadata this module reads: the batch id, and the action of a cleanup run
# (it records on `applied` too, but is not a batch).
BATCH_KEY = "batch_id"
ACTION_KEY = "sync_action"
CLEANUP_ACTION = "cleanup"

Row = dict[str, object]


@dataclass(frozen=True, slots=True)
class AppliedBatch:
    """A batch as its run recorded it: id, scope, and the partitions it covered (a range run
    records the same batch once per partition)."""

    batch_id: int
    scope: Scope | None
    partitions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MissingRows:
    """The target rows in a batch's scope that the batch did not see."""

    batch_id: int
    scope: Scope | None
    rows: tuple[Row, ...]
    sample_keys: tuple[str, ...]  # the first rows' keys, as check evidence shows keys

    @property
    def found(self) -> bool:
        return bool(self.rows)


@dataclass(frozen=True, slots=True)
class CleanupDecision:
    """Whether the sync's cleanup may run after a batch; `blocked` says why the ledger refuses
    (None when it was not asked: nothing missing, or a policy that never deletes)."""

    may_clean: bool
    blocked: str | None = None


def batch_of(meta: Mapping[str, object]) -> AppliedBatch | None:
    """The batch an `applied` materialization's (plain) metadata records; None for a cleanup
    run's record or one without a batch id."""
    value = meta.get(BATCH_KEY)
    if meta.get(ACTION_KEY) == CLEANUP_ACTION or not isinstance(value, int | str):
        return None
    return AppliedBatch(int(value), scope_from_metadata(meta))


def applied_batches(
    records: Iterable[tuple[Mapping[str, object], str | None]],
) -> list[AppliedBatch]:
    """The batches among (metadata, partition) records, in order, one per batch id."""
    found: dict[int, tuple[AppliedBatch, list[str]]] = {}
    for meta, partition in records:
        batch = batch_of(meta)
        if batch is None:
            continue
        _, partitions = found.setdefault(batch.batch_id, (batch, []))
        if partition:
            partitions.append(partition)
    return [
        AppliedBatch(batch.batch_id, batch.scope, tuple(partitions))
        for batch, partitions in found.values()
    ]


def find_missing(
    engine: sa.Engine, spec: SyncSpec, batch_id: int, scope: Scope | None
) -> list[Row]:
    """Target rows in the scope that batch `batch_id` did not see (ledger mode: those it
    recorded as not seen), ordered by primary key."""
    rows: list[Row] = missing_after_batch(
        engine,
        spec.table,
        batch_id,
        column=spec.batch_column,
        where=target_where(engine, spec, scope),
    )
    return rows


def missing_rows(engine: sa.Engine, spec: SyncSpec, batch: AppliedBatch) -> MissingRows:
    """The rows missing after `batch`, with a sample of their keys (the sync's key columns,
    else every column)."""
    rows = find_missing(engine, spec, batch.batch_id, batch.scope)
    keys = (list(spec.key_columns) or sorted(rows[0])) if rows else []
    sample = tuple(key_text(tuple(row.get(k) for k in keys)) for row in rows[:SAMPLE_SIZE])
    return MissingRows(batch.batch_id, batch.scope, tuple(rows), sample)


def cleanup_decision(engine: sa.Engine, spec: SyncSpec, found: MissingRows) -> CleanupDecision:
    """Cleanup follows a batch only under `soft_delete`/`delete`, when rows are missing, and
    when the engine's ledger says the batch was complete and not empty (the cleanup checks the
    ledger again before it deletes)."""
    if spec.missing == "report" or not found.found:
        return CleanupDecision(may_clean=False)
    blocked = deletion_blocked(engine, spec.table, found.batch_id, column=spec.batch_column)
    return CleanupDecision(may_clean=blocked is None, blocked=blocked)


def cleanup_missing(
    engine: sa.Engine, spec: SyncSpec, batch_id: int, scope: Scope | None
) -> CleanupResult:
    """Soft-delete or delete the rows batch `batch_id` did not see in the scope, in one
    transaction; the engine refuses (and says why) after a failed, empty or partial batch."""
    if spec.missing not in ("soft_delete", "delete"):
        raise ConfigError(f"sync {spec.name!r}: missing policy {spec.missing!r} never deletes")
    return delete_missing(
        engine,
        spec.table,
        batch_id,
        mode="soft_delete" if spec.missing == "soft_delete" else "delete",
        column=spec.batch_column,
        where=target_where(engine, spec, scope),
        soft_delete_column=spec.deleted_column,
    )

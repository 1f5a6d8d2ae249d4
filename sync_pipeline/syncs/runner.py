"""Plain-Python steps of one sync, called by the Dagster assets and the CLI: read, transform,
plan, apply. Batches travel as Arrow chunks (a `staging.Batch`), never as one table."""

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.engine.api import BatchImport
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.engine.spec import Progress, no_progress
from sync_pipeline.errors import ConfigError
from sync_pipeline.senders import build_sender
from sync_pipeline.senders.base import PartitionFilter, Sender
from sync_pipeline.syncs.diff_rules import DiffJudge
from sync_pipeline.syncs.options import import_kwargs, where_clause
from sync_pipeline.syncs.scope import Scope, scope_clause
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import Batch
from sync_pipeline.syncs.target import ensure_table, fit_to_target
from sync_pipeline.syncs.typed import PROVENANCE, cast_chunks, inferred_types

# What the engine's guard is handed before a write; raising rolls the whole import back.
Guard = Callable[[BatchDiff], None]
# An incremental sender's cursor: the highest value of its cursor column.
Cursor = int | float | Decimal | str | dt.date | dt.datetime

# ---- target ------------------------------------------------------------------------------


def target_url(spec: SyncSpec, default_url: str) -> str:
    """The sync's own target (`target: {url | url_env}`), else the code location's target."""
    if spec.target is None:
        return default_url
    if spec.target.url:
        return spec.target.url
    url = os.environ.get(spec.target.url_env or "")
    if not url:
        raise ConfigError(
            f"sync {spec.name!r}: target.url_env {spec.target.url_env!r} is not set in the "
            "environment of this run"
        )
    return url


@contextmanager
def target_engine(spec: SyncSpec, default_url: str) -> Iterator[sa.Engine]:
    """An engine on the sync's target for one step, disposed afterwards."""
    engine = sa.create_engine(target_url(spec, default_url), pool_pre_ping=True)
    try:
        yield engine
    finally:
        engine.dispose()


# ---- sender ------------------------------------------------------------------------------


def open_sender(spec: SyncSpec, sender_url: str, full_refresh: bool = False) -> Sender:
    """The sync's sender; a SQL sender without a `url` reads the `sender_db` resource.
    `full_refresh` forgets an incremental sender's cursor, so it reads from the start."""
    config = dict(spec.sender.config)
    if spec.sender.kind == "sql":
        config.setdefault("url", sender_url)
    config.setdefault("name", spec.name)
    if spec.sender.kind == "files":
        config.setdefault("provenance", True)  # file and line of each row, for typed errors
    sender = build_sender(spec.sender.kind, **config)
    store = getattr(sender, "cursor_store", None)
    if full_refresh and store is not None:
        store.reset(sender.name)
    return sender


def commit_cursor(spec: SyncSpec, batch: Batch, sender_url: str) -> Cursor | None:
    """After a successful apply only: store the highest cursor value of the batch and return it
    (None when the sender is not incremental or the batch is empty). Chunk by chunk."""
    column = spec.sender.config.get("cursor_column")
    if not column:
        return None
    name = dict(spec.sender.config.get("rename") or {}).get(column, column)
    name = spec.columns.get(name, name)
    tops = [
        pc.max(chunk.column(name)).as_py()
        for chunk in batch.chunks()
        if name in chunk.column_names and chunk.num_rows
    ]
    values: list[Cursor] = [v for v in tops if v is not None]
    if not values:
        return None
    top = max(values)  # one column: its values compare
    stored: Cursor = open_sender(spec, sender_url).commit_cursor(top)  # type: ignore[attr-defined]
    return stored


def read(sender: Sender, scope: Scope | None) -> Iterator[pa.Table]:
    """The batch of one run as the sender's Arrow chunks, every partition filter in turn."""
    filters: Sequence[PartitionFilter | None] = scope.sender_filters() if scope else [None]
    for f in filters:
        yield from sender.read(f)


# ---- transform ---------------------------------------------------------------------------


def transform(spec: SyncSpec, batch: Batch, table: sa.Table | None = None) -> Iterator[pa.Table]:
    """Chunk by chunk: rename sender columns to target columns, apply the transforms, then cast
    text values to the target table's column types (`table`; inferred from the values of the
    whole batch, in a first pass, for columns it lacks)."""
    known = {c.name: c.type for c in table.c} if table is not None else {}
    names = [spec.columns.get(n, n) for n in batch.schema.names]
    unknown = [n for n in names if n not in known and n not in PROVENANCE]
    inferred = inferred_types(_shaped(spec, batch), table) if unknown else {}
    return cast_chunks(_shaped(spec, batch), {**known, **inferred}, source=f"sync {spec.name!r}")


def _shaped(spec: SyncSpec, batch: Batch) -> Iterator[pa.Table]:
    """The batch's chunks in target column names with the per-field transforms applied."""
    functions = {column: ref.load() for column, ref in spec.transforms.items()}
    for chunk in batch.chunks():
        out = chunk.rename_columns([spec.columns.get(n, n) for n in chunk.column_names])
        for column, fn in functions.items():
            if column in out.column_names:
                mapped = pa.array([fn(v) for v in out.column(column).to_pylist()])
                out = out.set_column(out.schema.get_field_index(column), column, mapped)
        yield out


def reflect_target(engine: sa.Engine, spec: SyncSpec) -> sa.Table | None:
    """The target table as the database has it, or None when it does not exist yet."""
    schema, _, name = spec.table.rpartition(".")
    if not sa.inspect(engine).has_table(name, schema=schema or None):
        return None
    return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)


# ---- engine ------------------------------------------------------------------------------


def importer(
    engine: sa.Engine,
    spec: SyncSpec,
    scope: Scope | None,
    guard: Guard | None = None,
    progress: Progress = no_progress,
) -> BatchImport:
    """The engine's BatchImport configured from the spec (the keywords the loader validated).

    A sync with diff rules has them judged on the whole batch before the commit (`DiffJudge`);
    `guard` still sees each diff the engine is about to write."""
    judge = DiffJudge(spec) if spec.diff_rules else None

    def guarded(diff: BatchDiff) -> None:
        if guard is not None:
            guard(diff)
        if judge is not None:
            judge.guard(diff)

    return BatchImport(
        engine,
        spec.table,
        spec.strategy,
        where=where_clause(spec.options.get("where"), scope_clause(engine, spec, scope)),
        guard=guarded if guard is not None or judge is not None else None,
        before_commit=judge.before_commit if judge is not None else None,
        progress=progress,
        **import_kwargs(spec),
    )


def preview(
    engine: sa.Engine,
    spec: SyncSpec,
    batch: Batch,
    scope: Scope | None,
    staged_at: Path | None = None,
) -> BatchDiff:
    """Read-only: what applying this batch would do (staged at `staged_at` as it is planned)."""
    ensure_table(engine, spec, batch.schema)
    records = fit_to_target(engine, spec, batch)
    return importer(engine, spec, scope).preview(records, staged_at=staged_at)


def apply(
    engine: sa.Engine,
    spec: SyncSpec,
    batch: Batch,
    scope: Scope | None,
    guard: Guard | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Write the batch in one transaction, streamed chunk by chunk; `guard` sees each diff
    before it is written, `progress(done, total, phase)` hears of each written chunk; diff
    rules are judged on the whole batch before the commit (RuleError rolls it back)."""
    ensure_table(engine, spec, batch.schema)
    rows = batch.num_rows  # the engine streams the chunks: tell progress the batch's size

    def counted(done: int, total: int | None, phase: str) -> None:
        progress(done, rows if total is None else total, phase)

    return importer(engine, spec, scope, guard, counted).run(fit_to_target(engine, spec, batch))


def apply_planned(
    engine: sa.Engine,
    spec: SyncSpec,
    diff: BatchDiff,
    scope: Scope | None,
    guard: Guard | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Write exactly `diff` (from `plan`) if the target still matches it, else StaleDiffError."""
    return importer(engine, spec, scope, guard, progress).apply(diff)

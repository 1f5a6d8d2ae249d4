"""Plain-Python steps of one sync, called by the Dagster assets: read, normalize, plan, apply."""

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine.api import BatchImport
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.spec import Progress, no_progress
from sync_pipeline.errors import ConfigError
from sync_pipeline.senders import build_sender
from sync_pipeline.senders.base import PartitionFilter, Sender
from sync_pipeline.syncs.options import import_kwargs, where_clause
from sync_pipeline.syncs.scope import Scope, scope_clause
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.target import ensure_table, fit_to_target
from sync_pipeline.syncs.typed import batch_types, cast_frame
from sync_pipeline.values.carried import is_null

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


def commit_cursor(spec: SyncSpec, frame: pd.DataFrame, sender_url: str) -> Any:
    """After a successful apply only: store the highest cursor value of the batch and return it
    (None when the sender is not incremental or the batch is empty)."""
    column = spec.sender.config.get("cursor_column")
    if not column:
        return None
    name = dict(spec.sender.config.get("rename") or {}).get(column, column)
    name = spec.columns.get(name, name)
    values = [v for v in frame[name] if not is_null(v)] if name in frame.columns else []
    if not values:
        return None
    top = max(values)
    if hasattr(top, "to_pydatetime"):
        top = top.to_pydatetime()
    elif hasattr(top, "item"):
        top = top.item()
    return open_sender(spec, sender_url).commit_cursor(top)  # type: ignore[attr-defined]


def read_frame(sender: Sender, scope: Scope | None) -> pd.DataFrame:
    """The whole batch of one run as a DataFrame (all chunks of every partition filter)."""
    filters: Sequence[PartitionFilter | None] = scope.sender_filters() if scope else [None]
    chunks = [chunk for f in filters for chunk in sender.read(f)]
    if not chunks:
        return pd.DataFrame()
    return pa.concat_tables(chunks, promote_options="permissive").to_pandas()


# ---- normalize ---------------------------------------------------------------------------


def normalize(spec: SyncSpec, frame: pd.DataFrame, table: sa.Table | None = None) -> pd.DataFrame:
    """Rename sender columns to target columns, apply the transforms, then cast text values to
    the target table's column types (`table`; inferred from the values where it has none)."""
    out = frame.rename(columns=dict(spec.columns)).reset_index(drop=True)
    for column, ref in spec.transforms.items():
        if column in out.columns:
            fn = ref.load()
            out[column] = out[column].map(fn)
    return cast_frame(out, batch_types(out, table), source=f"sync {spec.name!r}")


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
    guard: Callable[[Any], Any] | None = None,
    progress: Progress = no_progress,
) -> Any:
    """The engine's BatchImport configured from the spec (the keywords the loader validated)."""
    return BatchImport(
        engine,
        spec.table,
        spec.strategy,
        where=where_clause(spec.options.get("where"), scope_clause(engine, spec, scope)),
        guard=guard,
        progress=progress,
        **import_kwargs(spec),
    )


def plan(engine: sa.Engine, spec: SyncSpec, frame: pd.DataFrame, scope: Scope | None) -> Any:
    """Read-only: what applying this batch would do (engine BatchDiff)."""
    ensure_table(engine, spec, frame)
    return importer(engine, spec, scope).plan(fit_to_target(engine, spec, frame))


def apply(
    engine: sa.Engine,
    spec: SyncSpec,
    frame: pd.DataFrame,
    scope: Scope | None,
    guard: Callable[[Any], Any] | None = None,
    progress: Progress = no_progress,
) -> Any:
    """Write the batch in one transaction (engine ImportResult); `guard` sees the diff first,
    `progress(done, total, phase)` hears of each written chunk."""
    ensure_table(engine, spec, frame)
    return importer(engine, spec, scope, guard, progress).run(fit_to_target(engine, spec, frame))


def apply_planned(
    engine: sa.Engine,
    spec: SyncSpec,
    diff: BatchDiff,
    scope: Scope | None,
    guard: Callable[[Any], Any] | None = None,
    progress: Progress = no_progress,
) -> Any:
    """Write exactly `diff` (from `plan`) if the target still matches it, else StaleDiffError."""
    return importer(engine, spec, scope, guard, progress).apply(diff)

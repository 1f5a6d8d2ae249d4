"""What the commands do besides printing: read a batch, find the latest batch, test connections."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from sync_pipeline.db.schema import reflect
from sync_pipeline.engine import missing
from sync_pipeline.engine.plan import scope_clause
from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs import runner, staging
from sync_pipeline.syncs.local import sender_default, shown, target_default
from sync_pipeline.syncs.scope import Scope, target_where
from sync_pipeline.syncs.spec import SyncSpec
from sync_pipeline.syncs.staging import StagedBatch


@dataclass(frozen=True, slots=True)
class Batch:
    """One run's normalized records (staged chunks) and the slice of the target they cover."""

    staged: StagedBatch
    scope: Scope | None


@contextmanager
def read_batch(spec: SyncSpec, scope: Scope | None) -> Iterator[Batch]:
    """Read the sender for the scope and transform to the target's columns and types, staged
    chunk by chunk in a temporary folder that is removed afterwards (as the Dagster path)."""
    with tempfile.TemporaryDirectory(prefix="sync-pipeline-") as tmp:
        sender = runner.open_sender(spec, sender_default())
        extracted = staging.stage(runner.read(sender, scope), str(Path(tmp, "extract")))
        with runner.target_engine(spec, target_default()) as engine:
            table = runner.reflect_target(engine, spec)
        chunks = runner.transform(spec, extracted, table)
        yield Batch(staging.stage(chunks, str(Path(tmp, "normalized"))), scope)


def latest_batch(engine: sa.Engine, spec: SyncSpec, scope: Scope | None) -> int | None:
    """The newest batch applied to the scope's target rows (None: no batch yet)."""
    if runner.reflect_target(engine, spec) is None:
        return None
    where = target_where(engine, spec, scope)
    with engine.connect() as conn:
        target = reflect(conn, spec.table)
        return missing.latest_batch(conn, target, spec.batch_column, scope_clause(target, where))


def check_sync(spec: SyncSpec) -> Iterator[tuple[str, bool]]:
    """(line, ok) for the sender and the target of one sync; URLs shown without password."""
    if spec.sender.kind == "sql":
        url = str(spec.sender.config.get("url") or sender_default())
        yield _probe("sender", url, spec.sender.config.get("table"))
    else:
        try:
            runner.open_sender(spec, sender_default())
            yield f"sender {spec.sender.kind}: OK", True
        except Exception as exc:  # any failure to build it is the answer
            yield f"sender {spec.sender.kind}: FAILED: {exc}", False
    try:
        url = runner.target_url(spec, target_default())
    except ConfigError as exc:
        yield f"target: FAILED: {exc}", False
        return
    yield _probe("target", url, spec.table)


def _probe(role: str, url: str, table: object) -> tuple[str, bool]:
    """Connect once; report whether `table` exists. Error text never carries the password."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            schema, _, name = str(table or "").rpartition(".")
            exists = bool(name) and sa.inspect(conn).has_table(name, schema=schema or None)
        note = f"table {table} exists" if exists else f"table {table} not created yet"
        return f"{role} {shown(url)}: OK ({note})", True
    except Exception as exc:  # report any connection failure, never raise
        message = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        password = sa.make_url(url).password
        if password:
            message = message.replace(str(password), "***")
        return f"{role} {shown(url)}: FAILED: {message}", False
    finally:
        engine.dispose()

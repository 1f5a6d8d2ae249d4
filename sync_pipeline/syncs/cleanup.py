"""Act on rows missing after a batch: soft-delete (stamp `deleted_at`) or delete them.

INTEGRATION: if the engine grows a cleanup function (batches.py), call it from here instead.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.runner import Scope, scope_clause
from sync_pipeline.syncs.spec import SyncSpec


def cleanup_missing(engine: sa.Engine, spec: SyncSpec, batch_id: int, scope: Scope | None) -> int:
    """Apply the sync's missing-row policy to rows batch `batch_id` did not see; returns count."""
    if spec.missing not in ("soft_delete", "delete"):
        raise ConfigError(f"sync {spec.name!r}: missing policy {spec.missing!r} never deletes")
    table = sa.Table(spec.table, sa.MetaData(), autoload_with=engine)
    if spec.batch_column not in table.c:
        raise ConfigError(
            f"sync {spec.name!r}: batch column {spec.batch_column!r} is not in {spec.table!r}"
        )
    batch = table.c[spec.batch_column]
    condition: Any = sa.or_(batch.is_(None), batch < batch_id)
    where = scope_clause(engine, spec, scope)
    if where is not None:
        condition = sa.and_(condition, where)
    with engine.begin() as conn:
        if spec.missing == "delete":
            return int(conn.execute(sa.delete(table).where(condition)).rowcount)
        if spec.deleted_column not in table.c:
            raise ConfigError(
                f"sync {spec.name!r}: soft_delete needs column {spec.deleted_column!r} "
                f"in {spec.table!r}"
            )
        deleted = table.c[spec.deleted_column]
        stmt = (
            sa.update(table)
            .where(sa.and_(condition, deleted.is_(None)))
            .values({spec.deleted_column: dt.datetime.now(dt.UTC).replace(tzinfo=None)})
        )
        return int(conn.execute(stmt).rowcount)

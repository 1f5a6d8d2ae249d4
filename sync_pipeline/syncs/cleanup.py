"""Act on rows missing after a batch: the sync's policy through the engine's guarded cleanup."""

import sqlalchemy as sa

from sync_pipeline.engine.missing import CleanupResult, delete_missing
from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.options import where_clause
from sync_pipeline.syncs.runner import Scope, scope_clause
from sync_pipeline.syncs.spec import SyncSpec


def cleanup_missing(
    engine: sa.Engine, spec: SyncSpec, batch_id: int, scope: Scope | None
) -> CleanupResult:
    """Soft-delete or delete the rows batch `batch_id` did not see in the scope; the engine
    refuses (and says why) after a failed, empty or partial batch."""
    if spec.missing not in ("soft_delete", "delete"):
        raise ConfigError(f"sync {spec.name!r}: missing policy {spec.missing!r} never deletes")
    return delete_missing(
        engine,
        spec.table,
        batch_id,
        mode="soft_delete" if spec.missing == "soft_delete" else "delete",
        column=spec.batch_column,
        where=where_clause(spec.options.get("where"), scope_clause(engine, spec, scope)),
        soft_delete_column=spec.deleted_column,
    )

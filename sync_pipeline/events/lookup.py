"""Where a write's events landed in the stream: the position of the last one it recorded."""

from contextlib import AbstractContextManager, nullcontext

import sqlalchemy as sa

from sync_pipeline.db.connect import Target, as_engine
from sync_pipeline.errors import ConfigError
from sync_pipeline.events import schema
from sync_pipeline.events.model import Position


def last_position(
    target: Target, *, txid: int | None = None, batch_id: int | None = None
) -> Position | None:
    """The position of the last committed event of transaction `txid` (Postgres) or of batch
    `batch_id`; None when it recorded none (or they were pruned)."""
    if (txid is None) == (batch_id is None):
        raise ConfigError("last_position needs exactly one of txid= or batch_id=")
    x, e = schema.tx, schema.events
    stmt = (
        sa.select(x.c.seq, e.c.n)
        .join_from(x, e, e.c.txid == x.c.txid)
        .where(e.c.txid == txid if txid is not None else e.c.batch_id == batch_id)
        .order_by(x.c.seq.desc(), e.c.n.desc())
        .limit(1)
    )
    bind = as_engine(target)
    opened: AbstractContextManager[sa.Connection] = (
        bind.connect() if isinstance(bind, sa.Engine) else nullcontext(bind)
    )
    with opened as conn:
        if not schema.installed(conn):
            return None
        row = conn.execute(stmt).first()
    return None if row is None else Position(int(row.seq), int(row.n))

"""The one hook the engine's table writers call: a recorder for the table, or None (events off)."""

from collections.abc import Sequence

import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.events.model import EventOptions
from sync_pipeline.events.record_pg import PgEvents
from sync_pipeline.events.record_rows import RowEvents


def recorder_for(
    conn: sa.Connection, table: sa.Table, pk: Sequence[str], options: EventOptions | None
) -> PgEvents | RowEvents | None:
    """Nothing is created or run until the first event statement; None when events are off."""
    if options is None:
        return None
    cls = PgEvents if Dialect.of(conn).txid else RowEvents
    return cls(conn, table, pk, options)

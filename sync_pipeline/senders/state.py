"""Where incremental senders keep their last cursor, one row per sync.

A run reads rows with cursor > the stored value; the cursor moves only when the caller commits
it after a successful apply, so a failed run re-reads the same rows next time. Values are kept as
tagged JSON (see values.py), so ints, strings, Decimals, dates and datetimes round-trip exactly.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sync_pipeline.values.tagged import decode_tagged, encode_tagged

DEFAULT_TABLE = "sync_pipeline_cursors"


class CursorStore:
    """A tiny key-value table (sync name -> last cursor) in any SQLAlchemy database.

    Args:
        target: an Engine, a URL string, or a filesystem path (a SQLite file is created).
        table: the table name; created on first use.
    """

    def __init__(self, target: sa.Engine | str | Path, table: str = DEFAULT_TABLE) -> None:
        self._target = target
        self._engine: sa.Engine | None = target if isinstance(target, sa.Engine) else None
        self._table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column("sync_name", sa.String(200), primary_key=True),
            sa.Column("cursor_value", sa.Text, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
        self._ready = False

    def _connect(self) -> sa.Engine:
        if self._engine is None:
            text = str(self._target)
            url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
            self._engine = sa.create_engine(url)
        if not self._ready:
            self._table.metadata.create_all(self._engine, checkfirst=True)
            self._ready = True
        return self._engine

    def get(self, sync_name: str) -> Any:
        """The last committed cursor of a sync, or None when it has never committed."""
        t = self._table
        with self._connect().connect() as conn:
            text = conn.execute(
                sa.select(t.c.cursor_value).where(t.c.sync_name == sync_name)
            ).scalar_one_or_none()
        return None if text is None else decode_tagged(json.loads(text))

    def commit(self, sync_name: str, value: Any) -> None:
        """Store `value` as the sync's cursor (call only after the batch was applied)."""
        if value is None:
            return
        t = self._table
        row = {
            "cursor_value": json.dumps(encode_tagged(value)),
            "updated_at": dt.datetime.now(dt.UTC),
        }
        with self._connect().begin() as conn:
            done = conn.execute(t.update().where(t.c.sync_name == sync_name).values(**row))
            if done.rowcount == 0:
                conn.execute(t.insert().values(sync_name=sync_name, **row))

    def reset(self, sync_name: str) -> None:
        """Forget a sync's cursor, so its next run reads everything."""
        t = self._table
        with self._connect().begin() as conn:
            conn.execute(t.delete().where(t.c.sync_name == sync_name))

"""Tables and small helpers shared by the event tests."""

from typing import Any

import sqlalchemy as sa

from sync_pipeline import events


def accounts(md: sa.MetaData | None = None, name: str = "accounts") -> sa.Table:
    return sa.Table(
        name,
        md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(20)),
        sa.Column("name", sa.String(50)),
        sa.Column("balance", sa.Numeric(12, 2)),
        sa.Column("last_batch_id", sa.BigInteger),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )


def all_events(target: Any, **kwargs: Any) -> list[events.ChangeEvent]:
    return [e for c in events.read(target, **kwargs) for e in c.events]


def effects(target: Any) -> list[tuple[str, Any]]:
    """(effect, pk id) of every recorded event, in stream order."""
    return [(e.effect, e.pk["id"]) for e in all_events(target)]


def has_event_tables(engine: sa.Engine) -> bool:
    return sa.inspect(engine).has_table("_sync_event_tx") or sa.inspect(engine).has_table(
        "_sync_events"
    )

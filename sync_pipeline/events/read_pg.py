"""Postgres: a page of events read as one JSON text, walking each commit's events by key.

The page is chosen by (seq, n) over narrow rows: the commits in seq order, each one's events
by the (txid, n) primary key from the cursor on (JOIN LATERAL). Only the chosen events are then
fetched by that key for their JSON (a LATERAL too) and sent as one `json_agg` text in (seq, n)
order, one row per event shaped [seq, txid, n, table, effect, batch_id, pk, keys, changes],
decoded in one parse.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sync_pipeline.events import schema
from sync_pipeline.events.jsonvalues import loads
from sync_pipeline.events.model import Position

_MIN_N = -(2**63)  # below every event number: "all events of the commit"


def tune(conn: sa.Connection, *, local: bool) -> None:
    """Planner settings for the page query on this connection (`local`: this transaction only).

    Right after a large commit the event table has no statistics, and the planner would take a
    bitmap scan that reads and sorts every event after the cursor for each page (quadratic in
    the size of the commit) plus a JIT compile per query; the key walk reads what it returns.
    """
    names = ("enable_bitmapscan", "jit")
    conn.execute(sa.select(*[sa.func.set_config(name, "off", local) for name in names]))


def page(
    conn: sa.Connection, after: Position, tables: Sequence[str] | None, limit: int | None
) -> tuple[str | None, int, Position | None]:
    """The events after `after` in (seq, n) order, at most `limit`: their JSON text (decode it
    with `rows`), how many there are and the position of the last one."""
    text, count, last = conn.execute(_page(after, tables, limit)).one()
    return text, int(count), None if last is None else Position(int(last[0]), int(last[1]))


def rows(text: str | None) -> list[list[Any]]:
    """A page's JSON text -> one list per event, in (seq, n) order (aggregated in that order)."""
    if text is None:
        return []
    decoded: list[list[Any]] = loads(text)
    return decoded


def _page(
    after: Position, tables: Sequence[str] | None, limit: int | None
) -> sa.Select[str, int, Any]:
    x, e = schema.tx, schema.events
    inner = sa.select(e.c.n).where(
        e.c.txid == x.c.txid,
        e.c.n > sa.case((x.c.seq == after.seq, after.n), else_=_MIN_N),
    )
    if tables is not None:
        inner = inner.where(e.c.table_name.in_(list(tables)))
    per_commit = inner.order_by(e.c.txid, e.c.n).limit(limit).lateral("walk")
    chosen = (
        sa.select(x.c.seq, x.c.txid, per_commit.c.n)
        .join_from(x, per_commit, sa.true())
        .where(x.c.seq >= after.seq)
        .order_by(x.c.seq, per_commit.c.n)
        .limit(limit)
        .subquery("chosen")
    )
    # Each chosen event is fetched by its key (a LATERAL the planner cannot flatten): a hash
    # join would scan every stored event once per page.
    found = sa.select(e).where(e.c.txid == chosen.c.txid, e.c.n == chosen.c.n).offset(0)
    event = found.lateral("e")
    f = event.c
    one = sa.func.json_build_array(
        chosen.c.seq, chosen.c.txid, chosen.c.n, f.table_name, f.effect, f.batch_id,
        f["pk"], f["keys"], f["changes"],  # jsonb: nested as JSON values, not strings
    )  # fmt: skip
    last = sa.func.max(postgresql.array([chosen.c.seq, chosen.c.n]))
    # Ordered by the database, on its side of the read-ahead, not by the decoding subscriber.
    in_order = postgresql.aggregate_order_by(one, chosen.c.seq, chosen.c.n)
    text = sa.cast(sa.func.json_agg(in_order), sa.Text)
    return sa.select(text, sa.func.count(), last).join_from(chosen, event, sa.true())

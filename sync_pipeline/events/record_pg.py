"""Postgres: events written set-based from the COPY stage tables, one statement per write.

Inserts and deletes run as `WITH w AS (INSERT|DELETE ... RETURNING t.*) INSERT INTO
_sync_events SELECT ... FROM w`; updates as `WITH u AS (UPDATE ... RETURNING ...) INSERT INTO
_sync_events SELECT ... FROM u JOIN target old`, recording (old, new) of every changed column.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from sync_pipeline.db import labels
from sync_pipeline.events import schema
from sync_pipeline.events.record import TableEvents, pg_txid, register

_PAIRS_PER_CALL = 50  # jsonb_build_object takes at most 100 arguments


def _text(value: str) -> sa.ColumnElement[str]:
    return sa.cast(sa.literal(value, sa.Text), sa.Text)


def _empty() -> sa.ColumnElement[Any]:
    return sa.cast(sa.literal("{}", sa.Text), JSONB)


def json_object(pairs: Sequence[tuple[str, Any]]) -> sa.ColumnElement[Any]:
    """jsonb_build_object over any number of (name, expression) pairs."""
    if not pairs:
        return _empty()
    parts = []
    for start in range(0, len(pairs), _PAIRS_PER_CALL):
        args: list[Any] = []
        for name, expr in pairs[start : start + _PAIRS_PER_CALL]:
            args += [_text(name), expr]
        parts.append(sa.func.jsonb_build_object(*args, type_=JSONB))
    result: sa.ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        result = result.op("||", return_type=JSONB)(part)
    return result


class PgEvents(TableEvents):
    """Set-based event statements for one table."""

    def _record(self, effect: str, source: Any, pk: Any, keys: Any, changes: Any) -> Any:
        return sa.select(
            pg_txid(),
            _text(self.table.fullname),
            _text(effect),
            json_object([(p, pk[p]) for p in self.pk]),
            json_object([(k, keys[k]) for k in self.keys]),
            changes,
            sa.cast(sa.literal(self.batch_id, sa.BigInteger), sa.BigInteger),
        ).select_from(source)

    def _insert(self, select: Any) -> None:
        """INSERT INTO _sync_events from `select`; counted in the same statement."""
        self.ensure()
        cols = ["txid", "table_name", "effect", "pk", "keys", "changes", "batch_id"]
        written = sa.insert(schema.events).from_select(cols, select).returning(sa.literal(1))
        e = written.cte("e")
        count = _without_jit(self.conn, sa.select(sa.func.count()).select_from(e))
        if count:
            self.count += int(count)
            register(self.conn)

    def insert(self, statement: sa.Insert) -> None:
        """Run the INSERT ... SELECT and record every row it wrote (ids the database made too)."""
        w = statement.returning(*self.table.c).cte("w")
        row = sa.func.to_jsonb(w.table_valued(), type_=JSONB)  # the whole row in one call
        self._insert(self._record("I", w, w.c, w.c, row))

    def delete(self, statement: sa.Delete) -> None:
        """Run the DELETE and record every row it removed, with its old key values."""
        w = statement.returning(*self.table.c).cte("w")
        self._insert(self._record("D", w, w.c, w.c, sa.null()))

    def update(
        self, statement: sa.Update, keys: Mapping[str, Any], values: Mapping[str, Any]
    ) -> None:
        """Run the UPDATE ... FROM stage and record (old, new) of each changed column, in one
        statement: `WITH u AS (UPDATE ... RETURNING new values, stage keys) INSERT INTO
        _sync_events SELECT ... FROM u JOIN LATERAL (target row by key) old`. All parts of one
        statement read one snapshot, so `old` is each row as it was before this UPDATE; its
        lookup finds the page the UPDATE has just read, instead of a statement of its own.

        `keys` maps each primary key column to the stage column naming the row to update (the
        lookup uses it, so an UPDATE that changes a key column still finds its old row).
        """
        stage_keys = [keys[p].label(labels.IDENTITY + p) for p in self.pk]
        returned = [self.table.c[c] for c in dict.fromkeys([*values, *self.keys])]
        u = statement.returning(*stage_keys, *returned).cte("u")
        # Per row of u by key (a LATERAL the planner cannot flatten), whatever u's row estimate.
        match = [self.table.c[p] == u.c[labels.IDENTITY + p] for p in self.pk]
        old = sa.select(self.table).where(*match).offset(0).lateral("old")
        source = u.join(old, sa.true())
        differs = {c: _comparable(old.c[c]).is_distinct_from(_comparable(u.c[c])) for c in values}
        changes: Any = _empty()
        for c in values:
            pair = sa.func.jsonb_build_object(
                _text(c), sa.func.jsonb_build_array(old.c[c], u.c[c], type_=JSONB), type_=JSONB
            )
            changes = changes.op("||", return_type=JSONB)(
                sa.case((differs[c], pair), else_=_empty())
            )
        pk = {p: old.c[p] for p in self.pk}
        select = self._record("U", source, pk, {k: u.c[k] for k in self.keys}, changes)
        # Rows where some column differs: the typed comparisons again, not the JSON built twice.
        self._insert(select.where(sa.or_(sa.false(), *differs.values())))


def _without_jit(conn: sa.Connection, count: sa.Select[Any]) -> int:
    """Run an event statement with JIT off, then restore the transaction's setting.

    Its cost estimate (a key lookup and a JSON object per staged row) is above the JIT
    thresholds, and compiling it takes 0.3-0.4 s per statement: more than JIT saves on a
    statement that runs once per chunk. On failure the transaction is rolled back, and the
    local setting with it.
    """
    jit = sa.func.current_setting("jit")
    (before,) = conn.execute(sa.select(jit, sa.func.set_config("jit", "off", True))).one()[:1]
    written = int(conn.execute(count).scalar_one())
    conn.execute(sa.select(sa.func.set_config("jit", before, True)))
    return written


def _comparable(expr: Any) -> Any:
    """json has no equality operator in Postgres: compare json values as jsonb."""
    is_json = isinstance(expr.type, sa.JSON) and not isinstance(expr.type, JSONB)
    return sa.cast(expr, JSONB) if is_json else expr

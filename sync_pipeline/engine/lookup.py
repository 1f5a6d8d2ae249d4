"""A stream planned against a scope too big to hold (`pipeline.plan_all`): each chunk is matched
against only the target rows its keys hit, looked up in the database; the rows no chunk saw (the
missing rows) are found in the database too, from the identities the chunks saw, staged as they
are seen. So the plan holds a chunk's rows and, of the target, only the rows its records match
(lean: identity, version, and the values a record changes), never the scope.

What the diff keeps for the staleness check (stale.py) is then the identity and version of every
row its records match, plus a fingerprint of the scope's row set computed in the database (count
and sum of identity hashes), taken before the first chunk is looked up: a row added to or
removed from the scope while or after planning changes it.
"""

from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.copy import copy_into, create_stage, drop_stage
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.labels import VERSION
from sync_pipeline.db.read import read_rows
from sync_pipeline.engine.diff import RENUMBERED, BatchDiff, combine, lean
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.stale import fingerprint

_MATCH = RENUMBERED[1]


def can_look_up(conn: sa.Connection, plan: Plan) -> bool:
    """Whether a planned stream can look its rows up instead of holding the scope: keys SQL
    equality decides, rows that carry versions and a never-null identity (Postgres, a primary
    key), and no policy that needs a key's later rows (duplicates "last")."""
    return (
        plan.exact_keys
        and plan.options.strategy != "append"
        and plan.options.duplicates != "last"
        and Dialect.of(conn).row_version(plan.table) is not None
        and not any(plan.table.c[c].nullable for c in plan.identity)
    )


class LookedUp:
    """The parts of a stream's diff, each planned against the rows looked up for it, and the
    identities they saw (in a temporary table); `diff` puts them together."""

    def __init__(self, conn: sa.Connection, plan: Plan) -> None:
        self.conn, self.plan = conn, plan
        self.print = fingerprint(conn, plan)  # first: what changes while planning is stale
        identity = [sa.Column(c, plan.table.c[c].type) for c in plan.identity]
        self.seen = create_stage(conn, identity)
        self.parts: list[BatchDiff] = []

    def lean(self, part: BatchDiff) -> BatchDiff:
        """`part` holding of its looked-up rows only what apply and the check need; what it saw
        goes to the database."""
        copy_into(self.conn, self.seen, part.seen(self.plan.identity))
        keys = dict.fromkeys([*self.plan.identity, *self.plan.target.primary_key, VERSION])
        sparse = frozenset(c for c in part.compared if c not in keys)
        kept = [c for c in part.old.column_names if c in keys or c in sparse]
        none = part.missing_rows.schema.empty_table()  # not a slice: it would keep `old` alive
        return replace(lean(part, kept, sparse), missing_rows=none)

    def diff(self) -> BatchDiff:
        """The whole diff: parts in order, their rows renumbered into one `old`, the missing rows
        read from the database, the fingerprint and versions kept in `scope`."""
        plan, offset, parts = self.plan, 0, []
        for part in self.parts:
            at = part.rows.schema.get_field_index(_MATCH)
            match = pc.add(part.rows.column(_MATCH), offset)
            parts.append(replace(part, rows=part.rows.set_column(at, _MATCH, match)))
            offset += part.old.num_rows
        old = pa.concat_tables([p.old for p in self.parts])
        diff = combine(parts, old, self._missing())
        identity = list(plan.identity)
        scope = old.select([*identity, VERSION]).replace_schema_metadata(self.print)
        return replace(diff, old=old.drop_columns([VERSION]), scope=scope, columns=_columns(plan))

    def _missing(self) -> pa.Table:
        """The rows in scope that no chunk saw (every column)."""
        plan, conn = self.plan, self.conn
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(self.seen.name)}")
        ids = list(plan.identity)
        unseen = ~sa.exists().where(*[self.seen.c[c] == plan.table.c[c] for c in ids])
        where = unseen if plan.scope is None else sa.and_(plan.scope, unseen)
        try:
            return read_rows(conn, plan.target, where)
        finally:
            drop_stage(conn, self.seen)


def _columns(plan: Plan) -> tuple[str, ...]:
    return tuple(c.name for c in plan.table.columns)

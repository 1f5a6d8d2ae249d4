"""What an import has seen so far, for imports that arrive in several chunks.

Keys feed the duplicates policy across chunks; target-row identities feed ledger mode, whose
missing rows are the rows in scope that no chunk saw.
"""

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.db.read import read_rows
from sync_pipeline.engine.apply import pk_table
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.plan import Plan


class SeenRows:
    """Keys and target-row identities seen by the chunks of one import."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys: list[pa.Table] = []
        self.ids: list[pa.Table] = []
        self.calls = 0
        self.chunked = False
        self.last: BatchDiff | None = None

    def earlier_keys(self) -> pa.Table | None:
        return pa.concat_tables(self.keys, promote_options="permissive") if self.keys else None

    def record(self, diff: BatchDiff, *, lookup: bool) -> None:
        self.calls += 1
        self.chunked = self.chunked or lookup or self.calls > 1
        self.last = diff
        if diff.keys is not None and diff.keys.num_rows and self.plan.options.duplicates != "last":
            self.keys.append(diff.keys)
        if self.plan.options.batch_mode == "ledger":
            self.ids.append(self._identities(diff))

    def _identities(self, diff: BatchDiff) -> pa.Table:
        """Identity columns of the target rows this chunk matched or inserted."""
        identity = self.plan.identity
        matched = pk_table(diff.old, pc.drop_null(diff.rows.column("__e")), identity)
        added = diff.rows.filter(pc.equal(diff.rows.column("__effect"), "added"))
        if all(c in added.column_names for c in identity):
            matched = pa.concat_tables([matched, added.select(list(identity)).cast(matched.schema)])
        return matched

    def missing(self, conn: sa.Connection) -> list[tuple[Any, ...]]:
        """Identities of the target rows in scope that no chunk saw."""
        assert self.last is not None
        identity = list(self.plan.identity)
        if not self.chunked:
            return _tuples(self.last.missing_rows.select(identity))
        plan = self.plan
        scope = read_rows(conn, plan.table, plan.target.kinds, plan.scope, columns=identity)
        seen = pa.concat_tables(self.ids)
        seen = seen.append_column("__seen", pa.array([True] * seen.num_rows, pa.bool_()))
        joined = scope.join(seen, keys=identity, join_type="left outer", use_threads=False)
        return _tuples(joined.filter(pc.is_null(joined.column("__seen"))).select(identity))

    def seen_again(self, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Which of `keys` (rows missing after earlier batches) this import saw."""
        if not keys or not self.ids:
            return []
        identity = list(self.plan.identity)
        seen = pa.concat_tables(self.ids)
        columns = {c: [k[i] for k in keys] for i, c in enumerate(identity)}
        candidates = pa.table(columns).cast(seen.schema)
        hits = candidates.join(seen, keys=identity, join_type="inner", use_threads=False)
        return _tuples(hits.select(identity))


def _tuples(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]

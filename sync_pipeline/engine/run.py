"""The state of one import in progress: its plan, writer, batch id, counts and what it has seen.

An import runs one batch, or several chunks of one batch, through the stages in pipeline.py;
they all add to one ImportRun, which `finish.py` turns into the ImportResult.
"""

from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine import batches
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.keys import KeyCodes, Keys
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.writers import TableWriter, writer_for

COUNTS = ("created", "updated", "unchanged", "skipped", "deleted", "missing")


class ImportRun:
    """One import into one table inside the caller's transaction."""

    def __init__(self, conn: sa.Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.table = plan.target.name
        self.options = plan.options
        self.dialect = plan.target.dialect
        self.writer: TableWriter = writer_for(
            conn, self.dialect, plan.table, plan.identity, plan.target.kinds, self.options.events
        )
        self.codes = KeyCodes()
        self.counts = dict.fromkeys(COUNTS, 0)
        self.errors: list[tuple[dict[str, Any], str]] = []
        self.partial = False  # records dropped (null keys) or failed (skip_record): never delete
        self.inserted: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self.batch_id: int | None = None
        # (column, batch id) that written rows carry (ledger mode: only if the column exists)
        self.stamp: tuple[str, int] | None = None
        self.ledger: sa.Table | None = None
        self.now = self.options.clock()
        self.chunk_rows = self.options.chunk(self.dialect)  # rows per write
        self.callback_rows = self.options.callback_chunk(self.dialect)  # rows per callback call
        self.seen = SeenRows(plan)
        self.stamps: list[pa.Table] = []  # seen rows whose data is not written (column mode)
        self.done = 0  # rows of the diffs written so far, for the progress callable

    def begin(self) -> None:
        """Lock the table and take the batch id."""
        batches.lock_table(self.conn, self.plan.target)
        if self.options.stamps:
            self.ledger = batches.ensure_ledger(self.conn, self.plan.target)
            given = self.options.batch_id
            self.batch_id = (
                given
                if isinstance(given, int)
                else batches.next_batch_id(
                    self.conn, self.plan.target, self.options.batch_column, self.ledger
                )
            )
        self.writer.event_batch_id(self.batch_id)
        if self.batch_id is not None and self.options.batch_column in self.plan.table.c:
            self.stamp = (self.options.batch_column, self.batch_id)


class SeenRows:
    """Keys and target-row identities seen by the chunks of one import.

    Keys feed the duplicates policy across chunks; target-row identities feed ledger mode, whose
    missing rows are the rows in scope that no chunk saw. A stream that holds its scope (read
    once, see pipeline.py) keeps it here with its keys, and the positions each chunk touched.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys: list[pa.Table] = []
        self.ids: list[pa.Table] = []
        self.calls = 0
        self.chunked = False
        self.last: BatchDiff | None = None
        self.scope: pa.Table | None = None
        self.scope_keys: Keys | None = None
        self.touched: list[pa.Array] = []

    def hold(self, scope: pa.Table, keys: Keys | None) -> None:
        self.scope, self.scope_keys = scope, keys

    def earlier_keys(self) -> pa.Table | None:
        return pa.concat_tables(self.keys, promote_options="permissive") if self.keys else None

    def record(self, diff: BatchDiff, *, lookup: bool) -> None:
        self.calls += 1
        self.chunked = self.chunked or lookup or self.calls > 1
        self.last = diff
        if self.scope is not None and diff.old is self.scope:
            self.touched.append(diff.touched())
        if diff.keys is not None and diff.keys.num_rows and self.plan.options.duplicates != "last":
            self.keys.append(diff.keys)
        if self.plan.batch_mode == "ledger":
            self.ids.append(diff.seen(self.plan.identity))

"""What the database behind a connection can do, asked by capability instead of by name.

Every "is this Postgres?" in the package is a question about one of these capabilities; the
database name is compared here and nowhere else (test_dialect.py holds the rest of the package
to that). A database we do not know gets the plain, portable answers (SQLAlchemy Core, no COPY,
no locks, 64-bit integers).
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


@dataclass(frozen=True, slots=True)
class Dialect:
    """The capabilities of one database dialect; get it with `Dialect.of(conn)`."""

    name: str  # SQLAlchemy's dialect name; for messages, never for decisions
    copy: bool = False  # COPY FROM STDIN / TO STDOUT (bulk stages, bulk reads)
    advisory_locks: bool = False  # transaction-scoped advisory locks (pg_advisory_xact_lock)
    txid: bool = False  # a transaction id the database hands out (pg_current_xact_id)
    jsonb: bool = False  # event JSON columns are jsonb: bound text needs an explicit cast
    notify: bool = False  # LISTEN/NOTIFY wakes a waiting subscriber
    data_version: bool = False  # PRAGMA data_version counts other connections' commits
    deferred_begin: bool = False  # the driver defers BEGIN to the first write: begin explicitly
    snapshot_reads: bool = False  # REPEATABLE READ gives one consistent read transaction
    lateral: bool = False  # JOIN LATERAL (a subquery per outer row, e.g. per commit)
    sized_ints: bool = False  # int2/int4/int8 hold only their width (elsewhere: 64-bit)
    rowid_pk: bool = False  # a single INTEGER PRIMARY KEY is filled by the database (rowid)
    naive_timestamps: bool = False  # timestamps are stored without zone: compare in naive UTC
    row_versions: bool = (
        False  # every write to a row gives it a new version (xmin): see row_version
    )
    bulk_chunk: int = 500  # rows per write chunk when the caller does not say

    @staticmethod
    def of(bind: sa.Connection | sa.Engine) -> "Dialect":
        """The capabilities of the database `bind` talks to."""
        return Dialect.named(bind.dialect.name)

    @staticmethod
    @cache
    def named(name: str) -> "Dialect":
        """The capabilities of SQLAlchemy's dialect `name` (plain ones for a name unknown here)."""
        return next((d for d in (_POSTGRES, _SQLITE) if d.name == name), None) or Dialect(name)

    def row_version(self, table: sa.Table) -> sa.ColumnElement[int] | None:
        """Per row of `table`, an id of its version (None where the database keeps none).

        Postgres: `xmin`, the id of the transaction that wrote this version of the row. Every
        UPDATE writes a new version (a no-op one too), and a deleted and re-inserted row is a new
        row; the same id comes back only after 2**32 transactions. No user column can take the
        name of this system column."""
        if not self.row_versions:
            return None
        xmin: sa.ColumnClause[Any] = sa.column("xmin", _selectable=table)  # qualified: `table.xmin`
        return sa.cast(sa.cast(xmin, sa.Text), sa.BigInteger)

    def upsert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that takes ON CONFLICT clauses (Postgres' or SQLite's spelling)."""
        return postgresql.insert(table) if self.name == "postgresql" else sqlite.insert(table)


_POSTGRES = Dialect(
    "postgresql",
    copy=True,
    advisory_locks=True,
    txid=True,
    jsonb=True,
    notify=True,
    snapshot_reads=True,
    lateral=True,
    sized_ints=True,
    row_versions=True,
    bulk_chunk=50_000,
)
_SQLITE = Dialect(
    "sqlite", data_version=True, deferred_begin=True, rowid_pk=True, naive_timestamps=True
)

"""Schema drift policy per sync: what to do when sender columns and target columns diverge.

- "error" (default): a new sender column the target lacks, or an expected/required column the
  sender no longer sends, raises SchemaDriftError naming the column(s).
- "ignore": report only; the caller drops `report.drop_columns` from the batch.
- "add_columns": new sender columns are added to the target as nullable columns (ALTER TABLE ...
  ADD COLUMN through SQLAlchemy DDL; Postgres, SQLite and MariaDB allow it); missing columns
  still raise.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.ddl import ExecutableDDLElement

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.errors import SchemaDriftError
from sync_pipeline.values.kinds import ColumnKind

DriftPolicy = Literal["error", "ignore", "add_columns"]
DRIFT_POLICIES: tuple[str, ...] = get_args(DriftPolicy)
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class DriftReport:
    """New sender columns, missing ones, and the columns added to the target (add_columns)."""

    policy: DriftPolicy
    new_columns: tuple[str, ...]
    missing_columns: tuple[str, ...]
    added_columns: tuple[str, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.new_columns or self.missing_columns)

    @property
    def drop_columns(self) -> tuple[str, ...]:
        """Sender columns the caller must drop before applying (new and not added)."""
        return tuple(c for c in self.new_columns if c not in self.added_columns)


def _names(columns: Iterable[str] | pa.Schema | Mapping[str, Any] | sa.Table) -> list[str]:
    if isinstance(columns, sa.Table):
        return [c.name for c in columns.columns]
    if isinstance(columns, pa.Schema):
        return list(columns.names)
    return list(columns)


def _required(table: sa.Table) -> list[str]:
    """Target columns an insert cannot do without: NOT NULL, no default, not generated."""
    out = []
    for c in table.columns:
        generated = (
            c.primary_key and isinstance(c.type, sa.Integer) and c.autoincrement is not False
        )
        if not c.nullable and c.server_default is None and c.computed is None and not generated:
            out.append(c.name)
    return out


def check_drift(
    sender_columns: Iterable[str] | pa.Schema | Mapping[str, Any],
    target_columns: Iterable[str] | sa.Table,
    policy: str = "error",
    *,
    expected: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> DriftReport:
    """Compare columns; raises SchemaDriftError under "error" (and for missing ones always).

    Args:
        sender_columns: names, an Arrow schema, or a mapping whose keys are the names.
        target_columns: names or a reflected sa.Table (then its required columns count as expected).
        expected: the sender columns the sync was configured with (missing ones are drift).
        ignore: sender columns never compared (e.g. the delete flag).
    """
    if policy not in DRIFT_POLICIES:
        raise ConfigError(f"unknown drift policy {policy!r}; use one of {DRIFT_POLICIES}")
    skip = set(ignore)
    sender = [c for c in _names(sender_columns) if c not in skip]
    target = _names(target_columns)
    wanted = list(expected or [])
    if isinstance(target_columns, sa.Table):
        wanted += [c for c in _required(target_columns) if c not in wanted]
    new = tuple(c for c in sender if c not in target)
    missing = tuple(c for c in wanted if c not in sender and c not in skip)
    report = DriftReport(policy, new, missing)  # type: ignore[arg-type]
    if missing and policy != "ignore":
        raise SchemaDriftError(
            f"sender no longer sends column(s) {list(missing)} (policy {policy!r}); "
            "restore them or set drift policy 'ignore'"
        )
    if new and policy == "error":
        raise SchemaDriftError(
            f"sender column(s) {list(new)} are not in the target table; add them, drop them "
            "from the sender config, or set drift policy 'ignore' or 'add_columns'"
        )
    return report


class AddColumn(ExecutableDDLElement):
    """ALTER TABLE <table> ADD COLUMN <column spec>, quoted by the dialect."""

    def __init__(self, table: sa.Table, column: sa.Column[Any]) -> None:
        self.table = table
        self.column = column


@compiles(AddColumn)
def _compile_add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    return f"ALTER TABLE {table} ADD COLUMN {compiler.get_column_specification(element.column)}"


def sql_type_for(arrow: pa.DataType | None) -> sa.types.TypeEngine[Any]:
    """A SQL column type for a sender column's Arrow type (text when unknown)."""
    return ColumnKind.of_arrow(arrow).sql


def reconcile_drift(
    target: sa.Engine | sa.Connection,
    table: str,
    sender_columns: pa.Schema | Iterable[str],
    policy: str = "error",
    *,
    expected: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> DriftReport:
    """Reflect the target table, check drift and, under add_columns, add the new columns."""
    schema, _, name = table.rpartition(".")
    if isinstance(target, sa.Engine):
        with target.begin() as conn:
            return reconcile_drift(
                conn, table, sender_columns, policy, expected=expected, ignore=ignore
            )
    reflected = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=target)
    report = check_drift(sender_columns, reflected, policy, expected=expected, ignore=ignore)
    if policy != "add_columns" or not report.new_columns:
        return report
    types = sender_columns if isinstance(sender_columns, pa.Schema) else None
    for column in report.new_columns:
        if not _SAFE_NAME.match(column):
            raise SchemaDriftError(
                f"cannot add column {column[:80]!r}: names must match {_SAFE_NAME.pattern}"
            )
        arrow = types.field(column).type if types is not None else None
        target.execute(AddColumn(reflected, sa.Column(column, sql_type_for(arrow), nullable=True)))
    return DriftReport(
        report.policy, report.new_columns, report.missing_columns, report.new_columns
    )

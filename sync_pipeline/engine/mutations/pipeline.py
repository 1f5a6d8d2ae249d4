"""One run of a writer over one parsed transaction, inside one database transaction.

Per operation, in order: load -> validate -> pre_apply -> apply -> post_apply. Rows written
earlier in the same transaction are reused by later operations on the same key instead of being
loaded again; a row deleted earlier counts as missing.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.engine.mutations.casting import default_validate
from sync_pipeline.engine.mutations.config import TableConfig, positional_count
from sync_pipeline.engine.mutations.errors import Step, WriteRejected
from sync_pipeline.engine.mutations.operations import Operation, OperationType
from sync_pipeline.values.client import cast_value

_DELETED = object()
Key = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Change:
    """One applied operation: the row as written (insert/update) or as it was (delete).

    `before` is the row as loaded before an update (empty for inserts and deletes).
    """

    index: int
    operation: OperationType
    table: str
    pk: Mapping[str, Any]
    row: Mapping[str, Any]
    before: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What pre_apply/post_apply callbacks get besides the connection and the values."""

    index: int
    operation: Operation
    table: sa.Table
    pk: Mapping[str, Any]
    before_all: Any = None
    changes: tuple[Change, ...] = field(default_factory=tuple)


def outcome(step: Step, op: Operation | None, value: Any, what: str) -> None:
    """Callbacks pass with None/True and reject with False or an error string."""
    if value is None or value is True:
        return
    index = None if op is None else op.index
    if value is False:
        raise WriteRejected(step, index, op, f"{what} rejected the operation")
    if isinstance(value, str):
        raise WriteRejected(step, index, op, value)


def guarded(step: Step, op: Operation, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a user callback; any exception becomes WriteRejected(step) with its message."""
    try:
        return fn(*args)
    except WriteRejected:
        raise
    except Exception as exc:
        raise WriteRejected(step, op.index, op, str(exc)[:500] or type(exc).__name__) from None


def pk_values(table: sa.Table, op: Operation) -> dict[str, Any]:
    """The operation's primary key from `data`, cast to the key column types (ValueError if not)."""
    missing = [c.name for c in table.primary_key if c.name not in op.data]
    if missing:
        raise ValueError(f"Operation data is missing required primary keys: {missing}")
    values = {}
    for col in table.primary_key:
        value = cast_value(col, op.data[col.name])
        if value is None:
            raise ValueError(f"primary key {col.name!r} is null")
        values[col.name] = value
    return values


class Run:
    """Applies operations one by one on `conn`; raises WriteRejected on the first failure."""

    def __init__(self, conn: sa.Connection, tables: Mapping[str, sa.Table]) -> None:
        self.conn = conn
        self.tables = tables
        self.cache: dict[Key, Any] = {}
        self.before_all: dict[str, Any] = {}
        self.changes: list[Change] = []

    def execute(
        self, ops: Sequence[tuple[Operation, TableConfig, dict[str, Any]]]
    ) -> tuple[Change, ...]:
        for op, cfg, pk in ops:
            table = self.tables[cfg.table]
            if cfg.table not in self.before_all:
                fn = cfg.before_all
                self.before_all[cfg.table] = (
                    guarded("before_all", op, fn, self.conn) if fn else None
                )
            row = self._load(op, cfg, table, pk)
            values = self._validate(op, cfg, table, row)
            ctx = Context(op.index, op, table, pk, self.before_all[cfg.table], tuple(self.changes))
            self._hook("pre_apply", op, cfg, values, ctx)
            change = self._apply(op, table, pk, values, row)
            ctx = Context(op.index, op, table, change.pk, ctx.before_all, tuple(self.changes))
            self._hook("post_apply", op, cfg, change.row, ctx)
            self.changes.append(change)
        return tuple(self.changes)

    def _key(self, table: sa.Table, pk: Mapping[str, Any]) -> Key:
        return (table.fullname, tuple(pk[c.name] for c in table.primary_key))

    def _load(
        self, op: Operation, cfg: TableConfig, table: sa.Table, pk: Mapping[str, Any]
    ) -> dict[str, Any]:
        if op.operation == "insert":
            return {}
        cached = self.cache.get(self._key(table, pk))
        if cached is _DELETED:
            raise WriteRejected(
                "load",
                op.index,
                op,
                f"No original record found for row {dict(pk)} (deleted "
                "earlier in this transaction)",
            )
        if cached is not None:
            return dict(cached)
        if cfg.load is not None:
            args = (
                (self.conn, dict(op.data))
                if positional_count(cfg.load, (1, 2)) == 2
                else (dict(op.data),)
            )
            found = guarded("load", op, cfg.load, *args)
            outcome("load", op, found if isinstance(found, (str, bool)) else None, "load")
        else:
            try:
                found = self._select(table, pk, lock=True)
            except sa.exc.DBAPIError as exc:  # e.g. a key out of the column's range
                text = str(exc.orig).splitlines()[0][:300]
                raise WriteRejected(
                    "load", op.index, op, f"{type(exc.orig).__name__}: {text}"
                ) from None
        if found is None:
            raise WriteRejected(
                "load", op.index, op, f"No original record found for row {dict(pk)}"
            )
        if not isinstance(found, Mapping):
            raise WriteRejected("load", op.index, op, "Invalid return value from load()")
        return dict(found)

    def _select(self, table: sa.Table, pk: Mapping[str, Any], lock: bool = False) -> Any:
        stmt = sa.select(table).where(*[table.c[k] == v for k, v in pk.items()])
        row = self.conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
        return None if row is None else dict(row)

    def _validate(
        self, op: Operation, cfg: TableConfig, table: sa.Table, row: dict[str, Any]
    ) -> dict[str, Any]:
        fn = cfg.callback("validate", op.operation) or default_validate(
            table, Dialect.of(self.conn).sized_ints
        )
        n = positional_count(fn, (1, 2, 3) if op.operation == "delete" else (2, 3))
        args = (row, dict(op.changes), op.operation)[:n]
        values = guarded("validate", op, fn, *args)
        if op.operation == "delete":
            outcome("validate", op, values if isinstance(values, (str, bool)) else None, "validate")
            return {}
        outcome("validate", op, values if isinstance(values, (str, bool)) else None, "validate")
        if not isinstance(values, Mapping):
            raise WriteRejected(
                "validate", op.index, op, "validate must return the values to write"
            )
        unknown = [str(k)[:80] for k in values if k not in table.c]
        if unknown:
            raise WriteRejected("validate", op.index, op, f"unknown column {unknown[0]!r}")
        return dict(values)

    def _hook(
        self, step: Step, op: Operation, cfg: TableConfig, values: Mapping[str, Any], ctx: Context
    ) -> None:
        fn = cfg.callback(step, op.operation)
        if fn is not None:
            outcome(step, op, guarded(step, op, fn, self.conn, dict(values), ctx), step)

    def _apply(
        self,
        op: Operation,
        table: sa.Table,
        pk: Mapping[str, Any],
        values: dict[str, Any],
        row: dict[str, Any],
    ) -> Change:
        try:
            return self._write(op, table, dict(pk), values, row)
        except sa.exc.SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            text = (str(orig).splitlines() or [type(orig).__name__])[0][:300]
            raise WriteRejected("apply", op.index, op, f"{type(orig).__name__}: {text}") from None

    def _write(
        self,
        op: Operation,
        table: sa.Table,
        pk: dict[str, Any],
        values: dict[str, Any],
        row: dict[str, Any],
    ) -> Change:
        where = [table.c[k] == v for k, v in pk.items()]
        if op.operation == "delete":
            if self.conn.execute(sa.delete(table).where(*where)).rowcount != 1:
                raise WriteRejected("apply", op.index, op, f"row {pk} no longer exists")
            self.cache[self._key(table, pk)] = _DELETED
            return Change(op.index, "delete", table.fullname, pk, row)
        if op.operation == "insert":
            result = self.conn.execute(sa.insert(table).values(values))
            new_pk = dict(
                zip(
                    [c.name for c in table.primary_key],
                    result.inserted_primary_key or (),
                    strict=False,
                )
            )
            new_pk = {k: values.get(k, v) if v is None else v for k, v in new_pk.items()}
        else:
            if (
                values
                and self.conn.execute(sa.update(table).where(*where).values(values)).rowcount != 1
            ):
                raise WriteRejected("apply", op.index, op, f"row {pk} no longer exists")
            new_pk = {k: values.get(k, v) for k, v in pk.items()}
            if new_pk != pk:
                self.cache[self._key(table, pk)] = _DELETED
        written = self._select(table, new_pk) or {**row, **values}
        self.cache[self._key(table, new_pk)] = written
        before = row if op.operation == "update" else {}
        return Change(op.index, op.operation, table.fullname, new_pk, written, before)

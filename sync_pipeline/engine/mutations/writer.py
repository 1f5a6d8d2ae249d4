"""Writer: apply untrusted client mutation batches to allow-listed tables, all or nothing."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.connect import Target
from sync_pipeline.db.dialect import Dialect
from sync_pipeline.engine.mutations.config import (
    MutationCallback,
    TableConfig,
    make_config,
    positional_count,
    resolve,
)
from sync_pipeline.engine.mutations.errors import WriteRejected
from sync_pipeline.engine.mutations.operations import (
    Limits,
    Operation,
    TableRef,
    Transaction,
    parse_transaction,
)
from sync_pipeline.engine.mutations.pipeline import Change, Run, guarded, outcome, pk_values
from sync_pipeline.errors import ConfigError
from sync_pipeline.events.model import event_options
from sync_pipeline.events.record_changes import record_changes

# Parses a custom transaction payload (Writer.apply(..., parser=...)) into the tanstack-db shape.
PayloadParser = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """txid: pg_current_xact_id() of the transaction on Postgres (None elsewhere).

    events: how many change events were recorded (apply(..., events=True)).
    """

    txid: int | None
    changes: tuple[Change, ...]
    events: int = 0


@contextmanager
def _transaction(target: Target) -> Iterator[sa.Connection]:
    """One transaction; a SAVEPOINT when the caller's connection is already in one."""
    if isinstance(target, sa.Connection):
        begin = target.begin_nested if target.in_transaction() else target.begin
        with begin():
            yield target
        return
    engine = sa.create_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        if isinstance(target, str):
            engine.dispose()


def _txid(conn: sa.Connection) -> int | None:
    if not Dialect.of(conn).txid:
        return None
    return int(conn.execute(sa.text("SELECT pg_current_xact_id()::text")).scalar_one())


class Writer:
    """Accepts nothing until allow(...) registers a table; see docs/senders.md for the pipeline.

    Callbacks (per allow):
        check(op) -> None/True to pass, False or an error string to reject (or raise);
            runs for EVERY operation before any database access.
        before_all(conn) -> anything; once per table per transaction, before its first load.
        load(data) or load(conn, data) -> row mapping or None (update/delete only).
        validate(row, changes[, operation]) -> the values to write (delete: may take only row).
        pre_apply(conn, values, ctx) / post_apply(conn, row, ctx) -> None/True, or reject.
    insert=/update=/delete= dicts with validate/pre_apply/post_apply override the above.
    """

    def __init__(self, *, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._configs: dict[TableRef, TableConfig] = {}

    def allow(
        self,
        table: str,
        *,
        client_table: str | tuple[str, str] | None = None,
        accept: Sequence[str] = ("insert", "update", "delete"),
        check: MutationCallback | None = None,
        before_all: MutationCallback | None = None,
        load: MutationCallback | None = None,
        validate: MutationCallback | None = None,
        pre_apply: MutationCallback | None = None,
        post_apply: MutationCallback | None = None,
        insert: dict[str, MutationCallback] | None = None,
        update: dict[str, MutationCallback] | None = None,
        delete: dict[str, MutationCallback] | None = None,
    ) -> "Writer":
        """Allow writes to the server `table` ("name" or "schema.name"); returns the writer."""
        cfg = make_config(
            table, client_table, tuple(accept), check=check, before_all=before_all, load=load,
            validate=validate, pre_apply=pre_apply, post_apply=post_apply, insert=insert,
            update=update, delete=delete,
        )  # fmt: skip
        if cfg.client_key in self._configs:
            raise ConfigError(f"client table {cfg.client_key!r} is already allowed")
        self._configs[cfg.client_key] = cfg
        return self

    def parse_transaction(
        self,
        payload: Any,
        *,
        format: str | None = "tanstack-db",
        parser: PayloadParser | None = None,
    ) -> Transaction:
        """Decode a client payload into a Transaction (raises WriteRejected at step 'parse')."""
        return parse_transaction(payload, format=format, parser=parser, limits=self.limits)

    def _check(self, txn: Transaction) -> list[TableConfig]:
        """Resolve and check EVERY operation before any database access."""
        configs = []
        for op in txn.operations:
            try:
                cfg = resolve(self._configs, op)
            except ValueError as exc:
                raise WriteRejected("check", op.index, op, str(exc)) from None
            if op.operation not in cfg.accept:
                raise WriteRejected(
                    "check", op.index, op, f"{op.operation} is not accepted on {cfg.table!r}"
                )
            if cfg.check is not None:
                outcome("check", op, guarded("check", op, cfg.check, op), "check")
            configs.append(cfg)
        return configs

    def _prepare(
        self, conn: sa.Connection, txn: Transaction, configs: list[TableConfig]
    ) -> tuple[dict[str, sa.Table], list[tuple[Operation, TableConfig, dict[str, Any]]]]:
        """Reflect the tables and read every operation's primary key before the first write."""
        tables: dict[str, sa.Table] = {}
        plan = []
        for op, cfg in zip(txn.operations, configs, strict=True):
            if cfg.table not in tables:
                schema, name = cfg.schema_and_name
                if not sa.inspect(conn).has_table(name, schema=schema):
                    raise WriteRejected(
                        "check", op.index, op, f"table {cfg.table!r} does not exist"
                    )
                tables[cfg.table] = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
            table = tables[cfg.table]
            try:
                pk = {} if op.operation == "insert" else pk_values(table, op)
            except ValueError as exc:
                raise WriteRejected("check", op.index, op, str(exc)) from None
            plan.append((op, cfg, pk))
        return tables, plan

    def _parse(
        self, transaction: Any, format: str | None, parser: PayloadParser | None
    ) -> Transaction:
        if isinstance(transaction, Transaction):
            return self.parse_transaction(list(transaction.operations), parser=lambda ops: ops)
        return self.parse_transaction(transaction, format=format, parser=parser)

    def apply(
        self,
        transaction: Any,
        target: Target,
        *,
        format: str | None = "tanstack-db",
        parser: PayloadParser | None = None,
        events: Any = False,
    ) -> WriteResult:
        """Parse, check, and apply a client transaction in one database transaction.

        Args:
            transaction: JSON text/bytes, a decoded list, or a parsed Transaction.
            target: Engine, Connection (a SAVEPOINT if already in a transaction) or URL.
            format: "tanstack-db" (default) or "operations"; parser: a callable instead.
            events: True or {"keys": [...]} records one change event per written row, in the
                same transaction (see docs on events).
        Returns:
            WriteResult(txid, changes). Raises WriteRejected; then nothing was written.
        """
        options = event_options(events)
        txn = self._parse(transaction, format, parser)
        configs = self._check(txn)
        with _transaction(target) as conn:
            tables, plan = self._prepare(conn, txn, configs)
            changes = Run(conn, tables).execute(plan)
            recorded = 0 if options is None else record_changes(conn, changes, tables, options)
            txid = _txid(conn)
        return WriteResult(txid, changes, recorded)

    def transact(
        self,
        transaction: Any,
        target: Target,
        fn: Callable[..., Any],
        *,
        format: str | None = "tanstack-db",
        parser: PayloadParser | None = None,
    ) -> int | None:
        """Lower level: after parse and check, call fn(op) or fn(op, conn) per operation.

        fn passes by returning None/True (or any other value) and rejects by returning False or
        an error string, or by raising; then everything is rolled back. Returns the txid.
        """
        txn = self._parse(transaction, format, parser)
        self._check(txn)
        two = positional_count(fn, (1, 2)) == 2
        with _transaction(target) as conn:
            for op in txn.operations:
                result = guarded("apply", op, fn, *((op, conn) if two else (op,)))
                outcome("apply", op, result if isinstance(result, (bool, str)) else None, "fn")
            return _txid(conn)

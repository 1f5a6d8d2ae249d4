"""What one import will do to one table, resolved against the reflected schema."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from sync_pipeline.db.schema import TargetTable
from sync_pipeline.engine.spec import BatchMode, ImportOptions, KeyCallable
from sync_pipeline.errors import ConfigError, SchemaError


@dataclass(frozen=True, slots=True)
class KeyRecipe:
    """How to build the comparison key of a record or a target row."""

    fields: tuple[str, ...]
    callables: Mapping[str, KeyCallable] = field(default_factory=dict)
    case_sensitive: bool = True
    comparison_key: Callable[[Mapping[str, Any]], Any] | None = None
    # Keys that need per-row Python (user callables); otherwise they are vectorized.
    in_python: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "in_python", bool(self.callables) or self.comparison_key is not None
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """Options checked against one target table: key, compared columns, scope, managed columns.

    Not a diff: what a batch would change is a `BatchDiff`, from `BatchImport.preview`."""

    target: TargetTable
    options: ImportOptions
    keys: KeyRecipe
    scope: sa.ColumnElement[bool] | None
    created_column: str | None
    updated_column: str | None
    expressions: Mapping[str, sa.ColumnElement[Any]]  # update_if_exists SQL, bound to `table`
    table: sa.Table
    # The columns that address one target row in UPDATE/DELETE: the primary key, or for a table
    # without one the (plain, unique within scope) match-by fields.
    identity: tuple[str, ...]
    # Whether SQL equality on the match fields decides matching (no callables, no folding of
    # text), so rows can be looked up by key instead of reading the whole scope.
    exact_keys: bool
    # "column" or "ledger": the option, else the table's default (`default_batch_mode`)
    batch_mode: BatchMode
    # What update_if_exists gives each column it names: COPY (the incoming value), a constant,
    # a callable or SQL (`expressions`); empty without update_if_exists (every column copies).
    update_fields: Mapping[str, Any]

    def compared(self, batch_columns: tuple[str, ...]) -> tuple[str, ...]:
        """Columns a matched row may change: update_if_exists fields, else every incoming column
        except the primary key and the batch column."""
        if self.options.update_fields is not None:
            return tuple(self.options.update_fields)
        skip = set(self.target.primary_key) | {self.options.batch_column}
        return tuple(c for c in batch_columns if c not in skip)


def make_plan(target: TargetTable, options: ImportOptions) -> Plan:
    """Check every name in the options against the table; resolve the defaults that depend on
    it: the key (the primary key) and the batch mode (`default_batch_mode`)."""
    fields = options.match_by or target.primary_key
    mode = options.batch_mode or default_batch_mode(bool(target.primary_key))
    _check(target, options, fields, mode)
    created, updated = (
        (c if c in target.table.c else None for c in options.timestamps)
        if options.timestamps
        else (None, None)
    )
    keys = KeyRecipe(fields, options.key_callables, options.case_sensitive, options.comparison_key)
    scope = scope_clause(target, options.where)
    expressions = {
        name: _expression(target, name, value)
        for name, value in (options.update_fields or {}).items()
        if isinstance(value, (sa.ColumnElement, sa.TextClause))
    }
    exact = not keys.in_python and (
        keys.case_sensitive or all(target.kinds[f] != "text" for f in keys.fields)
    )
    identity = target.primary_key or keys.fields
    return Plan(
        target,
        options,
        keys,
        scope,
        created,
        updated,
        expressions,
        target.table,
        identity,
        exact,
        mode,
        options.update_fields or {},
    )


def default_batch_mode(has_primary_key: bool) -> BatchMode:
    """The batch mode of a table: "ledger" when it has a primary key, so that a batch writes
    only what changed and records the rows it did not see in the ledger, instead of rewriting
    every seen row to stamp the batch id (at 1M rows that stamp alone costs about one COPY of
    the batch). The ledger addresses rows by primary key: a table without one stays "column"."""
    return "ledger" if has_primary_key else "column"


def _check(
    target: TargetTable, options: ImportOptions, fields: tuple[str, ...], mode: BatchMode
) -> None:
    if not fields and options.comparison_key is None and options.strategy != "append":
        raise SchemaError(
            f"table {target.name!r} has no primary key: "
            "pass match_by=... to say how records match rows"
        )
    target.check_columns(fields, role="match_by field")
    if not target.primary_key and (options.key_callables or not options.case_sensitive):
        raise ConfigError(
            f"table {target.name!r} has no primary key, so rows are addressed by the match_by "
            "fields themselves: they cannot be transformed (callables, case_sensitive=False)"
        )
    target.check_columns(options.comparators, role="comparator field")
    target.check_columns(options.on_updated_when or (), role="on_updated_when field")
    if options.update_fields is not None:
        target.check_columns(options.update_fields, role="update_if_exists field")
        pk = [f for f in options.update_fields if f in target.primary_key]
        if pk:
            raise ConfigError(f"update_if_exists cannot rewrite primary key column(s) {pk}")
    if options.stamps and mode == "column":
        target.column(options.batch_column, role="batch column")
    if mode == "ledger" and not target.primary_key:
        raise ConfigError(f"batch_mode='ledger' needs a primary key on {target.name!r}")
    if options.delete_mode == "soft_delete" and options.delete_flag:
        target.column(options.soft_delete_column, role="soft-delete column")
    if options.strategy == "append" and not target.has_generated_pk():
        raise ConfigError(
            f"strategy 'append' drops the source primary key, but {target.name!r} does not "
            "generate one (no serial/identity/default)"
        )


def _expression(target: TargetTable, name: str, value: Any) -> sa.ColumnElement[Any]:
    """An update_if_exists SQL value over the existing row; `sa.text` is trusted and typed as the
    column it updates."""
    if isinstance(value, sa.TextClause):
        return sa.type_coerce(value.self_group(), target.table.c[name].type)
    checked: sa.ColumnElement[Any] = _checked(target, value, f"update_if_exists[{name!r}]")
    return checked


def scope_clause(
    target: TargetTable, where: Mapping[str, Any] | sa.ColumnElement[bool] | None
) -> sa.ColumnElement[bool] | None:
    """`where` as a clause on the target: a {column: value} mapping or a SQLAlchemy clause."""
    if where is None:
        return None
    if isinstance(where, Mapping):
        parts = []
        for name, value in where.items():
            if not isinstance(name, str):
                raise ConfigError(f"where keys must be column names, got {name!r}")
            col = target.column(name, role="where column")
            parts.append(col.is_(None) if value is None else col == value)
        return sa.and_(sa.true(), *parts)
    if isinstance(where, sa.ColumnElement):
        return _checked(target, where, "where")
    raise ConfigError(f"where must be a mapping or a SQLAlchemy clause, got {type(where).__name__}")


def _checked(target: TargetTable, clause: Any, option: str) -> Any:
    """Check the columns a user clause names against the table, then bind them to it."""
    for col in sa.sql.visitors.iterate(clause):
        if (
            isinstance(col, sa.ColumnClause)
            and not col.is_literal
            and col.name not in target.table.c
        ):
            raise SchemaError(f"{option} refers to {col.name!r}, which is not in {target.name!r}")
    return _rebind(clause, target.table)


def _rebind(clause: sa.ColumnElement[bool], table: sa.Table) -> sa.ColumnElement[bool]:
    """Point columns of another Table object (or sa.column()) at the reflected table's columns."""

    def replace(element: Any, **kw: Any) -> Any:
        rebind = isinstance(element, sa.ColumnClause) and element.name in table.c
        if rebind and getattr(element, "table", None) is not table:
            return table.c[element.name]
        return None

    rebound: sa.ColumnElement[bool] = sa.sql.visitors.replacement_traverse(clause, {}, replace)
    return rebound

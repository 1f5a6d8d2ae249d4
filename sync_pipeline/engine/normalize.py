"""Incoming records -> one Arrow table typed like the target's columns.

Columns are converted vectorized when Arrow's conversion means the same as ours; otherwise (and
to find the offending record when a fast conversion fails) value by value with coerce.py. Either
way the result is then checked against the column itself (integer width, NUL in text, length),
so no value reaches SQL that the database would refuse or change.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.db import labels
from sync_pipeline.db.schema import TargetTable
from sync_pipeline.engine.spec import ImportOptions
from sync_pipeline.errors import ConfigError, RecordError, did_you_mean
from sync_pipeline.values import checks
from sync_pipeline.values.coerce import coercer
from sync_pipeline.values.kinds import TEXT_CARRIED, Kind

Records: TypeAlias = Iterable[Mapping[str, Any]] | pd.DataFrame | pa.Table
RowAt = Callable[[int], Mapping[str, Any]]
Column: TypeAlias = pa.Array | pa.ChunkedArray

# Python lists Arrow may convert: Arrow infers their type, then the Arrow rules below apply. Never
# pa.array(values, type=...) except for decimals (exact there): it truncates 1.5 into an int64,
# takes True as 1.0 and b"x" as "x". Not datetimes: once pandera is imported, pyarrow takes the
# wall time of an aware datetime as UTC (seen with zoneinfo zones), so coerce.py converts them to
# UTC explicitly.
_FAST_PY: frozenset[Kind] = frozenset({"int", "decimal", "float", "text"})
# Arrow source types that cast to each kind with our meaning (safe casts; failures fall back).
_FAST_ARROW: dict[Kind, Callable[[pa.DataType], bool]] = {
    "int": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_string(t),
    "decimal": lambda t: pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_string(t),
    "float": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "bool": pa.types.is_boolean,
    "date": pa.types.is_date,
    "datetime": pa.types.is_timestamp,
    "datetime_tz": pa.types.is_timestamp,
    "time": pa.types.is_time,
    "bytes": lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t),
}


def check_records(records: Any) -> None:
    """ConfigError unless `records` is a kind of input the engine takes."""
    if isinstance(records, (pa.Table, pa.RecordBatch, pd.DataFrame)):
        return
    if (
        records is None
        or isinstance(records, (str, bytes, bytearray, Mapping))
        or not isinstance(records, Iterable)
    ):
        raise ConfigError(
            "records must be a list (or iterable) of mappings, a DataFrame, an Arrow table or an "
            f"iterable of chunks; got {type(records).__name__}"
        )


def _unique_columns(names: Iterable[Any]) -> None:
    seen: set[Any] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"records have the column {name!r} more than once")
        seen.add(name)


def to_arrow(records: Records) -> tuple[dict[str, Column | list[Any]], RowAt, int]:
    """Split any accepted input into columns, a way to show record i, and the row count."""
    check_records(records)
    if isinstance(records, pd.DataFrame):
        _unique_columns(records.columns)
        frame = records
        try:
            records = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            plain = frame.astype(object).where(frame.notna(), None)
            records = [{str(k): v for k, v in r.items()} for r in plain.to_dict("records")]
    if isinstance(records, pa.Table):
        table = records  # columns stay as they are chunked: no copy of the caller's data
        _unique_columns(table.column_names)
        cols: dict[str, Column | list[Any]] = {n: table.column(n) for n in table.column_names}
        return cols, lambda i: table.slice(i, 1).to_pylist()[0], table.num_rows
    rows: list[Any] = list(records)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise RecordError(i, None, f"expected a mapping, got {type(row).__name__}", None)
        for name in row:
            if not isinstance(name, str):
                reason = f"field names must be strings, got {name!r} ({type(name).__name__})"
                raise RecordError(i, None, reason, row)
    names = dict.fromkeys(name for row in rows for name in row)
    return {n: [r.get(n) for r in rows] for n in names}, lambda i: rows[i], len(rows)


@dataclass(frozen=True, slots=True)
class NormalizedBatch:
    """A batch typed like the target, its hard-delete flags, and the records skipped as bad."""

    table: pa.Table
    deletes: pa.Array | None
    errors: tuple[tuple[dict[str, Any], str], ...]


def normalize_batch(
    records: Records, target: TargetTable, options: ImportOptions
) -> NormalizedBatch:
    """Normalize with the import's policies: the delete flag and on_error."""
    columns, row_at, count = to_arrow(records)
    rows: list[Mapping[str, Any]] = (
        [row_at(i) for i in range(count)] if options.on_error == "skip_record" else []
    )
    flags = columns.pop(options.delete_flag, None) if options.delete_flag else None
    deletes = None
    if options.delete_flag:
        values = [] if flags is None else (flags if isinstance(flags, list) else flags.to_pylist())
        deletes = pa.array([bool(v) for v in values] or [False] * count, type=pa.bool_())
    if options.on_error != "skip_record":
        return NormalizedBatch(_normalize_columns(columns, row_at, count, target), deletes, ())
    alive = list(range(count))
    errors: list[tuple[dict[str, Any], str]] = []
    while True:
        subset = [{k: v for k, v in rows[i].items() if k != options.delete_flag} for i in alive]
        try:
            table = normalize(subset, target)
        except RecordError as exc:
            if exc.index is None:
                raise
            original = alive.pop(exc.index)
            errors.append((dict(rows[original]), str(exc)))
            continue
        kept = pa.array(alive, type=pa.int64())
        return NormalizedBatch(
            table, deletes.take(kept) if deletes is not None else None, tuple(errors)
        )


def normalize(records: Records, target: TargetTable) -> pa.Table:
    """Check every field against the target and convert the batch to the target's types."""
    columns, row_at, count = to_arrow(records)
    return _normalize_columns(columns, row_at, count, target)


def _normalize_columns(
    columns: dict[str, Column | list[Any]], row_at: RowAt, count: int, target: TargetTable
) -> pa.Table:
    for name, values in columns.items():
        if name not in target.table.c:
            first = _first_present(values)
            hint = did_you_mean(name, target.columns)
            raise RecordError(
                first,
                name,
                f"{name!r} is not a column of {target.name!r}{hint}",
                row_at(first) if count else None,
            )
    converted = {n: _convert(n, v, target, row_at) for n, v in columns.items()}
    return pa.table(converted) if converted else labels.no_columns(count)


def _first_present(values: Column | list[Any]) -> int:
    if isinstance(values, list):
        return next((i for i, v in enumerate(values) if v is not None), 0)
    return 0


def _convert(name: str, values: Column | list[Any], target: TargetTable, row_at: RowAt) -> pa.Array:
    kind = target.kinds[name]
    col = target.table.c[name]
    typ = target.arrow[name]
    if not isinstance(values, list) and hasattr(values.type, "extension_name"):
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if values.type.extension_name == "arrow.json" and kind == "json":
            values = [None if v is None else _JsonText(v) for v in values.storage.to_pylist()]
        else:
            values = values.storage
    result = _fast(kind, values, typ)
    if result is None:
        py = values if isinstance(values, list) else values.to_pylist()
        result = _slow(name, kind, py, col.type, typ, row_at)
    if kind == "float":
        result = pc.if_else(pc.is_nan(result), pa.scalar(None, pa.float64()), result)
    if kind == "int":
        _check_range(name, result, target.bounds[name], row_at)
    if kind == "text":
        _check_text(name, result, getattr(col.type, "length", None), row_at)
    return result


class _JsonText(str):
    """JSON text from Arrow's json type: parsed (and checked) value by value in _slow."""


def _fast(kind: Kind, values: Column | list[Any], typ: pa.DataType) -> pa.Array | None:
    if kind in TEXT_CARRIED:
        return None
    try:
        if isinstance(values, list):
            if kind not in _FAST_PY:
                return None
            if kind == "decimal":  # typed is exact: Arrow refuses data loss, floats and text
                return pa.array(values, type=typ)
            values = pa.array(values)  # inferred: a mixed list raises and goes value by value
            exact = pa.types.is_integer(values.type) or pa.types.is_null(values.type)
            if kind == "int" and not exact:
                return None  # floats go value by value: only exact integers are taken
        if values.type == typ:
            return values
        if pa.types.is_null(values.type) or _FAST_ARROW[kind](values.type):
            return pc.cast(values, typ, safe=True)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None  # includes UnicodeEncodeError (a lone surrogate): _slow names the record
    return None


def _slow(
    name: str, kind: Kind, values: list[Any], sa_type: Any, typ: pa.DataType, row_at: RowAt
) -> pa.Array:
    convert = coercer(kind, sa_type)
    out = []
    for i, value in enumerate(values):
        try:
            if isinstance(value, _JsonText):
                value = checks.parse_json(value)
            out.append(convert(value))
        except checks.InvalidValue as exc:
            raise RecordError(i, name, str(exc), row_at(i)) from None
    return pa.array(out, type=typ)


def _check_range(name: str, values: pa.Array, bounds: tuple[int, int], row_at: RowAt) -> None:
    """Every integer fits the column's width (int2/int4/int8 on Postgres; 64-bit on SQLite)."""
    low, high = bounds
    outside = pc.or_(pc.less(values, low), pc.greater(values, high))
    if pc.any(outside).as_py():
        i = pc.index(outside, True).as_py()
        try:
            checks.check_int(values[i].as_py(), bounds)
        except checks.InvalidValue as exc:
            raise RecordError(i, name, str(exc), row_at(i)) from None


def _check_text(name: str, values: pa.Array, length: int | None, row_at: RowAt) -> None:
    """No NUL character (Postgres refuses it) and no text longer than the column allows."""
    nul = pc.match_substring(values, "\x00")
    if pc.any(nul).as_py():
        i = pc.index(nul, True).as_py()
        try:
            checks.check_text(values[i].as_py())
        except checks.InvalidValue as exc:
            raise RecordError(i, name, str(exc), row_at(i)) from None
    if length:
        _check_length(name, values, length, row_at)


def _check_length(name: str, values: pa.Array, length: int, row_at: RowAt) -> None:
    too_long = pc.greater(pc.utf8_length(values), length)
    if pc.any(too_long).as_py():
        i = pc.index(too_long, True).as_py()
        size = len(values[i].as_py())
        raise RecordError(
            i, name, f"text of {size} characters is longer than the column's {length}", row_at(i)
        )

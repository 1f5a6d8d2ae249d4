"""Typed batches: sender text (CSV, JSON) cast to the target's column types, or inferred ones.

The conversion of each value is the engine's (engine/coerce.py); this module only decides the
SQL type of each text column: the target table's where the column exists, else one inferred from
the column's values (integer, exact decimal, date, timestamp, boolean, or text).
"""

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sync_pipeline.senders.errors import BadValueError
from sync_pipeline.senders.files import SOURCE_FILE, SOURCE_LINE
from sync_pipeline.values.carried import is_null
from sync_pipeline.values.coerce import CoercionError, coercer
from sync_pipeline.values.kinds import column_kind

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_DECIMAL = re.compile(r"^[+-]?(0|[1-9]\d*)\.(\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_BOOL = {"true", "false"}
PROVENANCE = (SOURCE_FILE, SOURCE_LINE)


def text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose non-null values are all text (what CSV/JSON senders deliver undeclared)."""
    out = []
    for name in frame.columns:
        textual = frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name].dtype)
        if name in PROVENANCE or not textual:
            continue
        values = [v for v in frame[name] if not is_null(v)]
        if values and all(isinstance(v, str) for v in values):
            out.append(str(name))
    return out


def infer_type(values: Sequence[Any]) -> sa.types.TypeEngine[Any]:
    """The narrowest SQL type every non-empty text value fits; text when nothing fits."""
    texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not texts:
        return sa.Text()
    if all(_INT.match(t) for t in texts):
        return sa.BigInteger()
    if all(_INT.match(t) or _DECIMAL.match(t) for t in texts):
        return _numeric(texts)
    if all(_DATE.match(t) and _parses(dt.date.fromisoformat, t) for t in texts):
        return sa.Date()
    if all(_TIMESTAMP.match(t) and _parses(dt.datetime.fromisoformat, t) for t in texts):
        aware = {dt.datetime.fromisoformat(t).tzinfo is not None for t in texts}
        return sa.DateTime(timezone=True) if aware == {True} else sa.DateTime()
    if all(t.lower() in _BOOL for t in texts):
        return sa.Boolean()
    return sa.Text()


def batch_types(frame: pd.DataFrame, table: sa.Table | None) -> dict[str, sa.types.TypeEngine[Any]]:
    """The SQL type of each text column: the target column's, else inferred from the values."""
    out: dict[str, sa.types.TypeEngine[Any]] = {}
    for name in text_columns(frame):
        if table is not None and name in table.c:
            out[name] = table.c[name].type
        else:
            out[name] = infer_type(list(frame[name]))
    return out


def cast_frame(
    frame: pd.DataFrame, types: Mapping[str, sa.types.TypeEngine[Any]], source: str
) -> pd.DataFrame:
    """Each text column converted to its type, value by value; the first value that does not fit
    raises BadValueError naming the file and line (or the record), the field and the value."""
    out = frame.drop(columns=[c for c in PROVENANCE if c in frame.columns])
    for name, type_ in types.items():
        kind = column_kind(type_)
        if kind in ("text", "json", "uuid"):
            continue
        convert = coercer(kind, type_)
        values = []
        for i, value in enumerate(frame[name]):
            empty = value is None or (isinstance(value, str) and not value.strip())
            try:
                typed = None if empty else convert(value)
            except CoercionError as exc:
                raise _bad_value(frame, i, name, value, str(exc), source) from None
            values.append(Decimal(typed) if kind == "decimal_text" and typed is not None else typed)
        out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


def _bad_value(
    frame: pd.DataFrame, i: int, name: str, value: Any, reason: str, source: str
) -> BadValueError:
    detail = f"{value!r} does not fit: {reason}"
    if SOURCE_FILE in frame.columns and isinstance(frame[SOURCE_FILE].iloc[i], str):
        return BadValueError(
            frame[SOURCE_FILE].iloc[i], int(frame[SOURCE_LINE].iloc[i]), name, detail
        )
    return BadValueError(source, i + 1, name, detail, unit="record")


def _numeric(texts: Sequence[str]) -> sa.Numeric[Any]:
    """An exact numeric wide enough for every value (never a float)."""
    scale = max((len(m.group(2)) for t in texts if (m := _DECIMAL.match(t))), default=0)
    digits = max(len(t.lstrip("+-").split(".")[0]) for t in texts)
    return sa.Numeric(max(digits, 18) + scale, scale)


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True

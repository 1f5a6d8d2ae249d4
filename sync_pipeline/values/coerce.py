"""The library's reading of incoming values: values/parse.py under the LIBRARY policy.

Values are brought to the form the engine carries them in (see values/kinds.py): Decimals rounded
to the column's scale, datetimes as UTC, JSON/UUID/unbounded numerics as canonical text.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from sync_pipeline.values.carried import is_null
from sync_pipeline.values.checks import InvalidValue
from sync_pipeline.values.kinds import ColumnKind, Kind
from sync_pipeline.values.parse import LIBRARY, STORED, parser

CoercionError = InvalidValue  # the name callers catch; every refusal is an InvalidValue


def coercer(
    kind: Kind, type_: sa.types.TypeEngine[Any], *, stored: bool = False
) -> Callable[[Any], Any]:
    """A function that coerces one value of a column, returning None for nulls.

    `stored` values come back from the database: they are read as stored, so text and JSON that
    an older version let in (NUL on SQLite, NaN in JSON) stay readable instead of failing.
    """
    column = ColumnKind.of_sql(type_)
    read = parser(
        column if column.kind == kind else replace(column, kind=kind), STORED if stored else LIBRARY
    )
    return lambda v: None if is_null(v) else read(v)


# Kinds whose Arrow cast from text is exact: it accepts a plain decimal or integer literal only
# when the value fits the column unchanged, and fails on anything else (spaces, empty strings,
# NaN, more decimal places than the scale, too many digits).
_EXACT_TEXT_CASTS: frozenset[Kind] = frozenset({"int", "decimal"})


def cast_text(values: pa.ChunkedArray, type_: sa.types.TypeEngine[Any]) -> pa.ChunkedArray | None:
    """A text column cast to the column's Arrow type in one Arrow pass when every value fits it
    exactly (what `coercer` would return for each); None when the cast does not apply or some
    value needs the parser (to round, strip, treat blank as null or name the bad value), so the
    caller falls back to `coercer` value by value."""
    column = ColumnKind.of_sql(type_)
    if column.kind not in _EXACT_TEXT_CASTS:
        return None
    try:
        return pc.cast(values, column.arrow)  # safe: fails rather than truncate or overflow
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None

"""One probe, three sources: how the library, declared file types and the Writer read a value.

Each row states the expected result per source. Where the sources differ, `why` starts with the
Policy field (values/parse.py) that names the difference; everything else agrees. Values no
column can hold are refused by all three (values/checks.py).
"""

import dataclasses
import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.values.client import cast_value
from sync_pipeline.values.coerce import coercer
from sync_pipeline.values.declared import ColumnType
from sync_pipeline.values.kinds import ColumnKind
from sync_pipeline.values.parse import CLIENT, DECLARED, LIBRARY

REJECT = "reject"
UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
T0 = dt.datetime(2025, 1, 1)
TAGGED_DATE = {"__type__": "date", "value": "2025-01-01"}
POLICY_FIELDS = {f.name for f in dataclasses.fields(LIBRARY)}

# (probe, column type, declared file type, (library, file, client), why they differ)
PROBES: list[tuple[Any, sa.types.TypeEngine[Any], str, tuple[Any, Any, Any], str]] = [
    ("12.345", sa.Numeric(10, 2), "numeric(10,2)", (Decimal("12.35"), REJECT, Decimal("12.345")),
     "extra_decimals: the library rounds half-up as Postgres would, files refuse (declare a "
     "larger scale), client values go to the database as sent"),
    ('{"a":1}', sa.JSON(), "json", ('"{\\"a\\":1}"', '{"a":1}', '{"a":1}'),
     "json_text: files carry JSON as text (parsed); library and client strings are JSON strings"),
    ("2025-01-01T00:00:00", sa.DateTime(timezone=True), "datetime_tz", (T0.replace(tzinfo=UTC),
     REJECT, T0), "time_zones: naive into timestamptz: library takes UTC, files refuse, "
     "client: the database"),
    ("2025-01-01T00:00:00+02:00", sa.DateTime(), "datetime",
     (dt.datetime(2024, 12, 31, 22), REJECT, T0.replace(tzinfo=PLUS2)),
     "time_zones: aware into timestamp: library converts to UTC, files refuse, "
     "client: the database"),
    ("2.0", sa.Integer(), "int", (2, REJECT, REJECT),
     "integer_text: the library takes any exact number, files and clients only digits"),
    ("NaN", sa.Float(), "float", (None, "nan", "nan"),
     "nan: the library carries it as null; files carry NaN (normalize makes it null later)"),
    (True, sa.Text(), "text", (REJECT, "true", "true"),
     "text_from_scalars: files and clients write JSON scalars as their text"),
    ({"a": 1}, sa.Text(), "text", (REJECT, '{"a":1}', REJECT),
     "text_from_json: a file's JSON object in a text column is its JSON text"),
    (TAGGED_DATE, sa.Date(), "date", (REJECT, dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
     "tagged: files and clients decode {'__type__': ...}; library records are Python values"),
    # the sources agree
    (20250101, sa.Date(), "date", (REJECT, REJECT, REJECT), ""),
    ("123456789.5", sa.Numeric(10, 2), "numeric(10,2)", (REJECT, REJECT, REJECT), ""),
    (1, sa.Boolean(), "bool", (True, True, True), ""),
    ("1.5", sa.Integer(), "int", (REJECT, REJECT, REJECT), ""),
    (2.0, sa.Integer(), "int", (2, 2, 2), ""),
    (" 7 ", sa.Integer(), "int", (7, 7, 7), ""),
    (True, sa.Integer(), "int", (REJECT, REJECT, REJECT), ""),
    (2**63, sa.BigInteger(), "int", (REJECT, REJECT, REJECT), ""),
    ("yes", sa.Boolean(), "bool", (True, True, True), ""),
    (True, sa.Float(), "float", (REJECT, REJECT, REJECT), ""),
    ("1e400", sa.Float(), "float", (REJECT, REJECT, REJECT), ""),
    ("-Infinity", sa.Float(), "float", (float("-inf"), float("-inf"), float("-inf")), ""),
    (123, sa.Text(), "text", ("123", "123", "123"), ""),
    (b"x", sa.Text(), "text", (REJECT, REJECT, REJECT), ""),
    ("a\ud800", sa.Text(), "text", (REJECT, REJECT, REJECT), ""),
    ("a\x00b", sa.Text(), "text", (REJECT, REJECT, REJECT), ""),
    ({"a": float("nan")}, sa.JSON(), "json", (REJECT, REJECT, REJECT), ""),
    ("2025-01-01", sa.Date(), "date", (dt.date(2025, 1, 1),) * 3, ""),
    ("2025-01-01T10:00:00", sa.Date(), "date", (REJECT, REJECT, REJECT), ""),
    ("10:00", sa.Time(), "time", (dt.time(10),) * 3, ""),
    (dt.datetime(1, 1, 1, tzinfo=PLUS2), sa.DateTime(timezone=True), "datetime_tz",
     (REJECT, REJECT, dt.datetime(1, 1, 1, tzinfo=PLUS2)),
     "time_zones: client: Postgres timestamptz reaches back to 4713 BC, so the database takes it"),
]  # fmt: skip


def _outcome(read: Any) -> Any:
    try:
        value = read()
    except ValueError:  # every source's refusal is a ValueError subclass with a reason
        return REJECT
    return "nan" if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.parametrize(("probe", "type_", "declared", "expected", "why"), PROBES)
def test_each_source_reads_the_probe_as_its_policy_says(probe, type_, declared, expected, why):
    library = _outcome(lambda: coercer(ColumnKind.of_sql(type_).kind, type_)(probe))
    files = _outcome(lambda: ColumnType(declared).read(probe))
    client = _outcome(lambda: cast_value(sa.Column("c", type_), probe, sized_ints=True))
    assert (library, files, client) == expected
    assert bool(why) == (len({repr(v) for v in expected}) > 1)  # a difference is always named


@pytest.mark.parametrize("why", sorted({row[-1] for row in PROBES if row[-1]}))
def test_each_difference_is_a_policy_field_the_sources_set_differently(why):
    field = why.split(":")[0]
    assert field in POLICY_FIELDS
    assert len({getattr(p, field) for p in (LIBRARY, DECLARED, CLIENT)}) > 1

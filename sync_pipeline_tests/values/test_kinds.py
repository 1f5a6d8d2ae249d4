"""ColumnKind: the one ladder from SQL types, declared names and Arrow types to kinds and back."""

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sync_pipeline.errors import ConfigError
from sync_pipeline.values.kinds import ColumnKind

JSON_WIRE = pa.json_(pa.string())

# (SQL type, kind, carried Arrow type, Arrow type senders deliver; None: inferred)
SQL = [
    (sa.Boolean(), "bool", pa.bool_(), pa.bool_()),
    (sa.SmallInteger(), "int", pa.int64(), pa.int64()),
    (sa.Float(), "float", pa.float64(), pa.float64()),
    (sa.Numeric(10, 2), "decimal", pa.decimal128(10, 2), pa.decimal128(10, 2)),
    (sa.Numeric(), "decimal_text", pa.string(), None),
    (sa.Numeric(60, 2), "decimal_text", pa.string(), None),
    (sa.DateTime(), "datetime", pa.timestamp("us"), pa.timestamp("us")),
    (sa.DateTime(timezone=True), "datetime_tz", pa.timestamp("us", "UTC"), pa.timestamp("us", "UTC")),  # noqa: E501
    (sa.Date(), "date", pa.date32(), pa.date32()),
    (sa.Time(), "time", pa.time64("us"), pa.time64("us")),
    (postgresql.JSONB(), "json", pa.string(), JSON_WIRE),
    (sa.Uuid(), "uuid", pa.string(), pa.string()),
    (sa.LargeBinary(), "bytes", pa.binary(), pa.binary()),
    (sa.String(5), "text", pa.string(), pa.string()),
    (sa.Enum("a", "b"), "text", pa.string(), pa.string()),
    (postgresql.INTERVAL(), "text", pa.string(), None),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "kind", "carried", "wire"), SQL)
def test_of_sql_gives_the_kind_and_both_arrow_forms(type_, kind, carried, wire):
    column = ColumnKind.of_sql(type_)
    assert (column.kind, column.arrow, column.wire) == (kind, carried, wire)


def test_of_sql_keeps_the_facts_parsers_need():
    assert ColumnKind.of_sql(sa.Enum("a", "b")).enums == ("a", "b")
    assert ColumnKind.of_sql(sa.String(5)).length == 5


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("text", pa.string()),
        ("int", pa.int64()),
        ("numeric", pa.decimal128(38, 10)),
        ("numeric(10, 2)", pa.decimal128(10, 2)),
        ("datetime_tz", pa.timestamp("us", "UTC")),
        ("json", JSON_WIRE),
    ],
)
def test_of_name_reads_declared_type_names(name, wire):
    assert ColumnKind.of_name(name).wire == wire


@pytest.mark.parametrize("name", ["numeric(40,2)", "numeric(5,6)", "integer", "uuid"])
def test_of_name_refuses_unknown_or_impossible_types(name):
    with pytest.raises(ConfigError, match=r"numeric|unknown column type"):
        ColumnKind.of_name(name)


@pytest.mark.parametrize(
    ("arrow", "sql"),
    [
        (None, sa.Text),
        (pa.bool_(), sa.Boolean),
        (pa.int32(), sa.BigInteger),
        (pa.float32(), sa.Float),
        (pa.date32(), sa.Date),
        (pa.time64("us"), sa.Time),
        (pa.binary(), sa.LargeBinary),
        (JSON_WIRE, sa.JSON),
        (pa.string(), sa.Text),
    ],
)
def test_of_arrow_gives_the_column_type_to_create(arrow, sql):
    assert type(ColumnKind.of_arrow(arrow).sql) is sql


def test_of_arrow_keeps_decimal_scale_and_time_zone():
    numeric = ColumnKind.of_arrow(pa.decimal128(12, 3)).sql
    assert isinstance(numeric, sa.Numeric) and (numeric.precision, numeric.scale) == (12, 3)
    stamp = ColumnKind.of_arrow(pa.timestamp("us", tz="Europe/Paris")).sql
    assert isinstance(stamp, sa.DateTime) and stamp.timezone


@pytest.mark.parametrize("type_", [t for t, *_ in SQL if ColumnKind.of_sql(t).wire is not None])
def test_a_known_sql_type_survives_the_round_trip_through_its_wire_type(type_):
    column = ColumnKind.of_sql(type_)
    assert ColumnKind.of_arrow(column.wire).kind == column.kind or column.kind == "uuid"

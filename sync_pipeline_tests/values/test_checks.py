"""values/checks.py: what no column can hold, and normalize's use of it (no database needed)."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.db.schema import TargetTable
from sync_pipeline.engine.normalize import normalize
from sync_pipeline.errors import RecordError
from sync_pipeline.values import checks
from sync_pipeline.values.checks import InvalidValue
from sync_pipeline.values.kinds import int_range


@pytest.mark.parametrize(
    ("type_", "sized", "bounds"),
    [
        (sa.SmallInteger(), True, (-(2**15), 2**15 - 1)),
        (sa.Integer(), True, (-(2**31), 2**31 - 1)),
        (sa.BigInteger(), True, (-(2**63), 2**63 - 1)),
        (sa.Integer(), False, (-(2**63), 2**63 - 1)),
        (sa.SmallInteger(), False, (-(2**63), 2**63 - 1)),
    ],
)
def test_int_range_follows_the_column_width_where_the_database_enforces_it(type_, sized, bounds):
    assert int_range(type_, sized) == bounds


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (checks.check_text, "a\x00b", "NUL"),
        (checks.check_text, "a\ud800", "lone surrogate"),
        (checks.parse_float, "1e400", "out of range"),
        (checks.parse_float, "x", "not a number"),
        (checks.to_float, 10**400, "out of range"),
        (checks.to_float, Decimal("1e400"), "out of range"),
        (lambda v: checks.integral(v, v), Decimal("1.5"), "not an integer"),
        (lambda v: checks.integral(v, v), Decimal("Infinity"), "not a finite number"),
        (lambda v: checks.integral(v, v), Decimal("1e400"), "out of range"),
        (checks.check_int, 2**63, "out of range"),
        (checks.as_utc, dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "UTC"),
        (checks.check_json, {"a": [float("nan")]}, "NaN"),
        (checks.check_json, {"a": "\x00"}, "NUL"),
        (checks.parse_json, '{"a": NaN}', "NaN"),
        (checks.parse_json, "[" * 5000 + "]" * 5000, "nested deeper than 256"),
        (checks.parse_json, "{", "not valid JSON"),
        (checks.dump_json, {"a": {1, 2}}, "not JSON-serializable"),
    ],
)
def test_values_no_column_can_hold_are_refused_with_a_reason(check, value, message):
    with pytest.raises(InvalidValue, match=message):
        check(value)


@pytest.mark.parametrize(
    ("check", "value", "result"),
    [
        (checks.parse_float, "-Infinity", float("-inf")),
        (lambda v: checks.integral(v, v), Decimal("2.00"), 2),
        (checks.check_int, 2**63 - 1, 2**63 - 1),
        (checks.check_text, "line\nbreak\r\t\"'", "line\nbreak\r\t\"'"),
        (
            checks.parse_json,
            '{"b": [1, 2.5, null], "a": "\\u00e9"}',
            {"a": "é", "b": [1, 2.5, None]},
        ),
    ],
)
def test_legitimate_values_pass_unchanged(check, value, result):
    assert check(value) == result


def _target(dialect: str) -> TargetTable:
    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer),
    )
    return TargetTable.of(table, Dialect.named(dialect))


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-(2**31), max_value=2**31 - 1))
def test_a_float_into_an_int_column_is_exact_or_refused(value):
    records = [{"id": 1, "n": 0}, {"id": 2, "n": value}]
    if value.is_integer():
        assert normalize(records, _target("postgresql")).column("n").to_pylist()[1] == int(value)
    else:
        with pytest.raises(RecordError) as err:
            normalize(records, _target("postgresql"))
        assert (err.value.index, err.value.field) == (1, "n")


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_an_int_is_stored_exactly_when_it_fits_the_column_and_refused_otherwise(value):
    records = [{"id": 1, "n": value}]
    for dialect, (low, high) in (("postgresql", (-(2**31), 2**31 - 1)), ("sqlite", checks.INT64)):
        if low <= value <= high:
            assert normalize(records, _target(dialect)).column("n").to_pylist() == [value]
        else:
            with pytest.raises(RecordError, match="out of range") as err:
                normalize(records, _target(dialect))
            assert (err.value.index, err.value.field) == (0, "n")


@pytest.mark.parametrize(
    "text",
    ["12345678901234567890.0123456789", "-0.000000000000000000000000000000001", "1" * 60 + ".5"],
)
def test_unbounded_numeric_keeps_every_digit(text):
    from sync_pipeline.values.coerce import coercer

    carried = coercer("decimal_text", sa.Numeric())(text)
    assert Decimal(carried) == Decimal(text)


@pytest.mark.parametrize(
    ("number", "text"), [(1e16, "10000000000000000"), (-0.0, "0"), (2.5, "2.5")]
)
def test_json_numbers_are_written_as_jsonb_keeps_them(number, text):
    assert checks.dump_json({"n": number}) == '{"n":' + text + "}"

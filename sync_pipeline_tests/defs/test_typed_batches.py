"""Typed batches: the SQL type of a text column is the target's, else inferred from its values."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline.senders.errors import BadValueError
from sync_pipeline.syncs.typed import cast_chunks, infer_type, inferred_types
from sync_pipeline.values.coerce import cast_text, coercer


def cast(chunks: list[pa.Table], table: sa.Table | None, source: str = "s") -> list[pa.Table]:
    """The transform's cast: target types first, the rest inferred over every chunk."""
    known = {c.name: c.type for c in table.c} if table is not None else {}
    types = {**known, **inferred_types(chunks, table)}
    return list(cast_chunks(chunks, types, source=source))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-20", None, ""], "BIGINT"),
        (["12.50", "7", "0.125"], "NUMERIC(21, 3)"),
        (["2026-01-03", "2026-02-28"], "DATE"),
        (["2026-01-03T10:00:00", "2026-01-03 11:30"], "DATETIME"),
        (["2026-01-03T10:00:00Z", "2026-01-03T10:00:00+02:00"], "DATETIME"),
        (["true", "False"], "BOOLEAN"),
        (["007", "12"], "TEXT"),  # a leading zero is text (an id), never a number
        (["1e3"], "TEXT"),  # no float is ever inferred
        (["2026-02-30"], "TEXT"),
        (["12.50", "abc"], "TEXT"),
        ([None, ""], "TEXT"),
    ],
)
def test_inferred_types(values: list[Any], expected: str) -> None:
    assert str(infer_type(values).compile()) == expected


def test_timezone_aware_timestamps_stay_aware() -> None:
    assert infer_type(["2026-01-03T10:00:00Z"]).timezone is True  # type: ignore[attr-defined]


@given(st.lists(st.decimals(min_value=-(10**15), max_value=10**15, places=4), min_size=1))
def test_inferred_decimals_are_exact(values: list[Decimal]) -> None:
    texts = [f"{v:f}" for v in values]
    (typed,) = cast([pa.table({"amount": texts})], None)
    assert typed["amount"].to_pylist() == [Decimal(t) for t in texts]


def test_the_target_type_wins_over_inference() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("code", sa.Text), sa.Column("day", sa.Date))
    chunk = pa.table({"code": ["0012"], "day": ["2026-01-03"], "n": ["5"]})
    (typed,) = cast([chunk], table)
    assert typed.to_pylist() == [{"code": "0012", "day": dt.date(2026, 1, 3), "n": 5}]


def test_a_value_that_does_not_fit_names_record_field_and_value() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("amount", sa.Numeric(10, 2)))
    chunk = pa.table({"amount": ["1.00", "twelve"]})
    with pytest.raises(BadValueError, match=r"sync 's', record 2, field 'amount': 'twelve'"):
        cast([chunk], table, source="sync 's'")


def test_records_are_numbered_across_chunks() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("amount", sa.Numeric(10, 2)))
    chunks = [pa.table({"amount": ["1.00", "2.00"]}), pa.table({"amount": ["3.00", "x"]})]
    with pytest.raises(BadValueError, match=r"sync 's', record 4, field 'amount': 'x'"):
        cast(chunks, table, source="sync 's'")


def test_inference_sees_every_chunk() -> None:
    """An integer column in the first chunk and a decimal in the second is one numeric."""
    chunks = [pa.table({"n": ["1", "22"]}), pa.table({"n": ["0.125", None]})]
    first, second = cast(chunks, None)
    assert first.schema.field("n").type == second.schema.field("n").type == pa.decimal128(21, 3)
    assert first["n"].to_pylist() + second["n"].to_pylist() == [
        Decimal(1),
        Decimal(22),
        Decimal("0.125"),
        None,
    ]


AMOUNT = sa.Numeric(12, 2)
TEXTS = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=3).map(lambda d: f"{d:f}"),
    st.sampled_from(["", "  ", " 1.50", "7", "+3", "1e2", "0.005", "-0.015", "1_000"]),
    st.none(),
)


@given(st.lists(TEXTS, min_size=1, max_size=20))
def test_the_arrow_cast_returns_what_the_parser_returns(texts: list[str | None]) -> None:
    """Text to numeric(12,2) in one Arrow pass or value by value: the same values (rounded half
    up by the parser where a value has more places than the scale, blanks as null)."""
    convert = coercer("decimal", AMOUNT)
    table = sa.Table("t", sa.MetaData(), sa.Column("amount", AMOUNT))

    (typed,) = cast([pa.table({"amount": pa.array(texts, pa.string())})], table)

    expected = [None if t is None or not t.strip() else convert(t) for t in texts]
    assert typed["amount"].to_pylist() == expected
    assert typed.schema.field("amount").type == pa.decimal128(12, 2)


@pytest.mark.parametrize(
    ("texts", "type_", "one_pass"),
    [
        (["1.50", "-2", None, "1e2"], AMOUNT, True),
        (["1.505"], AMOUNT, False),  # the parser rounds it
        ([" 1.50"], AMOUNT, False),  # the parser strips it
        ([""], AMOUNT, False),  # blank is null
        (["123456789012.5"], AMOUNT, False),  # too many digits: the parser names it
        (["9223372036854775807", "-5", None], sa.BigInteger(), True),
        (["1.0"], sa.BigInteger(), False),
        (["2026-01-03"], sa.Date(), False),  # only int and decimal are cast by Arrow
    ],
)
def test_cast_text_applies_only_where_every_value_fits_exactly(
    texts: list[str | None], type_: sa.types.TypeEngine[Any], one_pass: bool
) -> None:
    assert (cast_text(pa.chunked_array([texts], pa.string()), type_) is not None) is one_pass

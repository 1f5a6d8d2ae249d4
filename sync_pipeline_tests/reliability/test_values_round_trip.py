"""Issue 8: any value the database accepts is imported, read back by the next import and found
unchanged (hypothesis), on Postgres and, for the types it stores exactly, on SQLite."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from sync_pipeline import import_records
from sync_pipeline.engine.compare import values_equal

pytestmark = pytest.mark.integration


def _jsonb_keeps(x: float) -> bool:
    """jsonb stores 1e16 as 10000000000000000 and -0.0 as 0: same JSON number, other canonical
    text, so the import sees a change (the value layer's to fix; see the xfail below)."""
    return not (x.is_integer() and (abs(x) >= 1e16 or str(x) == "-0.0"))


# Postgres rejects NUL in text and lone surrogates anywhere (those are errors, tested elsewhere).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
NASTY = st.sampled_from(["\n", "\r", "\r\n", '"', ",", "\\", "\\.", "\t", "é", "😀", " ", ""])
ANY_TEXT = st.lists(st.one_of(TEXT, NASTY), max_size=6).map("".join)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False).filter(_jsonb_keeps)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
BIGINT = st.integers(-(2**63), 2**63 - 1)
NUMERIC_38_10 = st.decimals(
    min_value=Decimal("-9999999999999999999999999999.9999999999"),
    max_value=Decimal("9999999999999999999999999999.9999999999"),
    places=10,
)
UNBOUNDED = st.builds(
    lambda digits, exp: Decimal(digits).scaleb(exp),
    st.integers(-(10**60), 10**60),
    st.integers(-60, 60),
)
BIG = ('x\n\r",' * 800_000, {"k": "y\n" * 1_500_000}, bytes(range(256)) * 8_000)

PG_VALUES = {
    "t": ANY_TEXT,
    "j": JSON,
    "js": JSON,
    "b": st.binary(max_size=64),
    "n": NUMERIC_38_10,
    "u": UNBOUNDED,
    "bi": BIGINT,
    "x": st.floats(allow_nan=False),  # NaN is null by design; infinities are values
    "ts": st.datetimes(timezones=st.just(dt.UTC)),
}
SQLITE_VALUES = {k: PG_VALUES[k] for k in ("t", "js", "b", "bi", "x")}


def _table(kind: str) -> sa.Table:
    pg = kind == "postgres"
    columns = [
        sa.Column("t", sa.Text),
        sa.Column("js", sa.JSON),
        sa.Column("b", sa.LargeBinary),
        sa.Column("bi", sa.BigInteger),
        sa.Column("x", sa.Float),
    ]
    if pg:
        columns += [
            sa.Column("j", postgresql.JSONB),
            sa.Column("n", sa.Numeric(38, 10)),
            sa.Column("u", sa.Numeric),
            sa.Column("ts", sa.DateTime(timezone=True)),
        ]
    return sa.Table(
        "vals",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        *columns,
        sa.Column("last_batch_id", sa.BigInteger),
    )


def _round_trip(db: Any, record: dict[str, Any]) -> None:
    db.execute("DELETE FROM vals")
    first = import_records(db.engine, "vals", [record], "overwrite")
    assert first.created == 1 and not first.errors
    again = import_records(db.engine, "vals", [record], "overwrite")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    stored = db.rows("vals")[0]
    # JSON numbers compare by value: jsonb keeps 1e308 as the integer 10**308, which Python's
    # float 1e308 is not equal to, though both mean the JSON number 1e+308.
    differing = {k: (stored[k], v) for k, v in record.items() if not values_equal(stored[k], v)}
    assert not differing


def _records(values: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"id": st.just(1)}, optional=values)


ROUND_TRIP = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@ROUND_TRIP
@given(record=_records(PG_VALUES))
@example(record={"id": 1, "t": BIG[0], "j": BIG[1], "b": BIG[2]})
@example(record={"id": 1, "bi": -(2**63), "n": Decimal("-9999999999999999999999999999.9999999999")})
@example(record={"id": 1, "bi": 2**63 - 1, "u": Decimal("1E+200"), "js": {"a": [1e308, -0.0]}})
@example(record={"id": 1, "j": {"a": [1e-300, 0.1, 2.5e15, 123456789.125]}})
def test_postgres_reads_back_every_value_it_stores_unchanged(pg, record):
    pg.create(_table("postgres")) if not sa.inspect(pg.engine).has_table("vals") else None
    _round_trip(pg, record)


@ROUND_TRIP
@given(record=_records(SQLITE_VALUES))
@example(record={"id": 1, "t": BIG[0], "js": BIG[1], "b": BIG[2]})
def test_sqlite_reads_back_every_value_it_stores_unchanged(sqlite, record):
    sqlite.create(_table("sqlite")) if not sa.inspect(sqlite.engine).has_table("vals") else None
    _round_trip(sqlite, record)


@pytest.mark.parametrize("number", [1e16, -0.0, 2.0])
def test_jsonb_integral_floats_read_back_unchanged(pg, number):
    pg.create(_table("postgres"))
    _round_trip(pg, {"id": 1, "j": {"n": number}})

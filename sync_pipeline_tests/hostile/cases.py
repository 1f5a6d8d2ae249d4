"""The hostile-input corpus: each case is one import (or Writer transaction) and its expectation.

A case either fails with one of the project's errors whose message names what `expect` says, or
(where the input is legitimately accepted) stores exactly `stored`. `stored_on` overrides per
database: SQLite integers are 64-bit, so a value out of a Postgres int4 is accepted there.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline import Writer, WriteRejected, import_records, missing_after_batch
from sync_pipeline.errors import ConfigError, RecordError, SchemaError, SyncError

NOTHING = object()  # `stored` when the case must fail


def _deep(depth: int) -> list[Any]:
    """[[[...]]] `depth` levels deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEEP_JSON = _deep(5000)
TZ_EAST = dt.timezone(dt.timedelta(hours=5))
TZ_WEST = dt.timezone(dt.timedelta(hours=-5))


def target_table(md: sa.MetaData | None = None) -> sa.Table:
    """h: one column of each kind the corpus aims at (int2/int4/int8, numeric, text, json...)."""
    return sa.Table(
        "h",
        md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text),
        sa.Column("code", sa.String(10)),
        sa.Column("qty", sa.Integer),
        sa.Column("small", sa.SmallInteger),
        sa.Column("big", sa.BigInteger),
        sa.Column("price", sa.Numeric(12, 2)),
        sa.Column("score", sa.Float),
        sa.Column("doc", sa.JSON),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("flag", sa.Boolean),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("last_batch_id", sa.BigInteger),
    )


def writer_table(md: sa.MetaData | None = None) -> sa.Table:
    """w: the Writer's target (client values, usually strings)."""
    return sa.Table(
        "w",
        md or sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("qty", sa.Integer),
        sa.Column("small", sa.SmallInteger),
        sa.Column("score", sa.Float),
        sa.Column("price", sa.Numeric(12, 2)),
        sa.Column("doc", sa.JSON),
    )


SEED_H = [
    {"id": 1, "name": "one", "qty": 10, "big": 1, "price": Decimal("1.50"), "score": 1.5},
    {"id": 2, "name": "two", "qty": 20, "big": 2, "price": Decimal("2.50"), "score": 2.5},
]
SEED_W = [{"id": 1, "title": "one", "qty": 1}, {"id": 2, "title": "two", "qty": 2}]


@dataclass(frozen=True)
class Case:
    """One hostile input: `call(engine)` runs it; the error must be `error` and name `expect`."""

    call: Callable[[sa.Engine], Any]
    error: type[SyncError] = RecordError
    expect: tuple[str, ...] = ()  # substrings the message must contain
    index: int | None = 0  # RecordError: the record it must name
    field: str | None = None  # RecordError: the field it must name
    stored: Any = NOTHING  # accepted: row 3's `field` holds exactly this
    stored_on: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    table: str = "h"

    def stored_for(self, kind: str) -> Any:
        return self.stored_on.get(kind, self.stored)


def rec(value: Any, name: str, *, index: int = 0, strategy: str = "overwrite", **kw: Any) -> Case:
    """Record `index` of the batch carries `value` in field `name` (row 3, or a key)."""
    records = [{"id": 3 + i, "name": "ok"} for i in range(index)]
    records.append({"id": 3 + index, name: value} if name != "id" else {"id": value})
    return Case(
        lambda e: import_records(e, "h", records, strategy),
        index=index,
        field=name,
        expect=(f"record {index}", f"field {name!r}"),
        **kw,
    )


def accepted(value: Any, name: str, stored: Any) -> Case:
    case = rec(value, name)
    return Case(case.call, index=0, field=name, stored=stored)


def arrow(column: pa.Array, name: str, **kw: Any) -> Case:
    table = pa.table({"id": pa.array([3], pa.int64()), name: column})
    return Case(
        lambda e: import_records(e, "h", table, "overwrite"),
        field=name,
        expect=("record 0", f"field {name!r}"),
        **kw,
    )


def batch(records: Any, error: type[SyncError], *expect: str, **options: Any) -> Case:
    return Case(
        lambda e: import_records(e, "h", records, "overwrite", **options),
        error=error,
        expect=expect,
        index=None,
    )


def written(values: Mapping[str, Any], column: str, step: str = "validate", **kw: Any) -> Case:
    """A Writer insert into w; it must be rejected in `step`, naming the operation and column."""
    op = {"type": "insert", "syncMetadata": {"relation": "w"}, "modified": dict(values)}
    names = ("operation 0", f"column {column!r}") if step == "validate" else ("nested",)
    return Case(
        lambda e: Writer().allow("w").apply([op], e),
        error=WriteRejected,
        expect=(repr(step), *names),
        index=None,
        field=column,
        table="w",
        **kw,
    )


def _dup_arrow() -> pa.Table:
    return pa.table([pa.array([3]), pa.array(["a"]), pa.array(["b"])], names=["id", "name", "name"])


def _dup_frame() -> pd.DataFrame:
    return pd.DataFrame([[3, "a", "b"]], columns=["id", "name", "name"])


INT4 = {"sqlite": 2**31}  # SQLite integers are 64-bit: the value is legitimately stored there

CASES: dict[str, Case] = {
    # 1. fractions into integer columns, keys included: never truncated
    "float key 1.5": rec(1.5, "id"),
    "float 1.5 into int": rec(1.5, "qty"),
    "float 2.9 into int": rec(2.9, "qty"),
    "Decimal 1.5 into int": rec(Decimal("1.5"), "qty"),
    "Decimal key 1.5": rec(Decimal("1.5"), "id"),
    "text 1.5 into int": rec("1.5", "qty"),
    "float into bigint, second record": rec(0.5, "big", index=1),
    "float 1.5 into smallint": rec(1.5, "small"),
    "2.0 into int is exact": accepted(2.0, "qty", 2),
    "Decimal 2.00 into int is exact": accepted(Decimal("2.00"), "qty", 2),
    "text 7 into int": accepted("7", "qty", 7),
    # 6/7. integer range per column width, before any SQL
    "2**31 into int4": rec(2**31, "qty", stored_on=INT4),
    "-2**31-1 into int4": rec(-(2**31) - 1, "qty", stored_on={"sqlite": -(2**31) - 1}),
    "32768 into int2": rec(32768, "small", stored_on={"sqlite": 32768}),
    "2**63 into int8": rec(2**63, "big"),
    "-2**63-1 into int8": rec(-(2**63) - 1, "big"),
    "2**70 key": rec(2**70, "id"),
    "2**63-1 into int8 is stored": accepted(2**63 - 1, "big", 2**63 - 1),
    "1e20 float into int": rec(1e20, "qty"),
    "Decimal Infinity into int": rec(Decimal("Infinity"), "qty"),
    "inf into int": rec(float("inf"), "qty"),
    "text 1e400 into int": rec("1e400", "qty"),
    "True into int": rec(True, "qty"),
    "Decimal NaN into int is null": accepted(Decimal("NaN"), "qty", None),
    # numerics
    "text 1e400 into numeric(12,2)": rec("1e400", "price"),
    "Decimal 1e400 into numeric(12,2)": rec(Decimal("1e400"), "price"),
    "Decimal Infinity into numeric": rec(Decimal("Infinity"), "price"),
    "10**10 into numeric(12,2)": rec(10**10, "price"),
    "True into numeric": rec(True, "price"),
    "True into float": rec(True, "score"),
    "text 1e400 into float": rec("1e400", "score"),
    "text abc into float": rec("abc", "score"),
    "10**400 into float": rec(10**400, "score"),
    "numpy float 1.5 into int": rec(np.float64(1.5), "qty"),
    "numpy float 2.0 into int is exact": accepted(np.float64(2.0), "qty", 2),
    # text
    "NUL in text": rec("a\x00b", "name"),
    "NUL in varchar, second record": rec("\x00", "code", index=1),
    "lone surrogate in text": rec("a\ud800", "name"),
    "lone low surrogate": rec("\udcff", "name"),
    "bytes into text": rec(b"bytes", "name"),
    "text longer than varchar(10)": rec("x" * 11, "code"),
    "line breaks and quotes are stored": accepted('a\nb\r"c",\\N\t', "name", 'a\nb\r"c",\\N\t'),
    # json
    "JSON NaN": rec({"a": float("nan")}, "doc"),
    "JSON Infinity": rec([float("-inf")], "doc"),
    "JSON nested 5000 deep": rec(DEEP_JSON, "doc"),
    "JSON with NUL": rec({"a": "x\x00"}, "doc"),
    "JSON with lone surrogate": rec({"\ud800": 1}, "doc"),
    "JSON not serializable": rec({"a": {1, 2}}, "doc"),
    # datetimes, booleans, bytes
    "aware datetime near year 1": rec(dt.datetime(1, 1, 1, 1, tzinfo=TZ_EAST), "at"),
    "aware datetime near year 9999": rec(dt.datetime(9999, 12, 31, 22, tzinfo=TZ_WEST), "at"),
    "ISO text near year 1": rec("0001-01-01T00:00:00+01:00", "at"),
    "not a datetime": rec("yesterday", "at"),
    "maybe into bool": rec("maybe", "flag"),
    "text into bytes": rec("text", "raw"),
    # Arrow and pandas input takes the same checks
    "Arrow float 1.5 into int": arrow(pa.array([1.5]), "qty"),
    "Arrow decimal 1.5 into int": arrow(pa.array([Decimal("1.5")]), "qty"),
    "Arrow uint64 2**63 into int8": arrow(pa.array([2**63], pa.uint64()), "big"),
    "Arrow int64 2**31 into int4": arrow(pa.array([2**31]), "qty", stored_on=INT4),
    "Arrow NUL in text": arrow(pa.array(["a\x00b"]), "name"),
    "Arrow bool into float": arrow(pa.array([True]), "score"),
    "Arrow binary into text": arrow(pa.array([b"x"]), "name"),
    "DataFrame float 1.5 into int": Case(
        lambda e: import_records(e, "h", pd.DataFrame({"id": [3], "qty": [1.5]}), "overwrite"),
        field="qty",
        expect=("record 0", "field 'qty'"),
    ),
    # the shape of the input
    "non-string record key": Case(
        lambda e: import_records(e, "h", [{"id": 3}, {"id": 4, 7: "x"}], "overwrite"),
        index=1,
        expect=("record 1", "7"),
    ),
    "records=42": batch(42, ConfigError, "records", "int"),
    "records=None": batch(None, ConfigError, "records", "None"),
    "records is a string": batch("abc", ConfigError, "records", "str"),
    "records is one mapping": batch({"id": 3}, ConfigError, "records", "dict"),
    "a record that is not a mapping": Case(
        lambda e: import_records(e, "h", [{"id": 3}, 5], "overwrite"),
        index=1,
        expect=("record 1", "int"),
    ),
    "Arrow duplicate column names": batch(_dup_arrow(), ConfigError, "'name'", "more than once"),
    "DataFrame duplicate column names": batch(
        _dup_frame(), ConfigError, "'name'", "more than once"
    ),
    # options and names
    "where with a non-string key": batch([{"id": 3}], ConfigError, "where", "0", where={0: 1}),
    "where with an unknown column": batch([{"id": 3}], SchemaError, "'nope'", where={"nope": 1}),
    "missing_after_batch where={0: 1}": Case(
        lambda e: missing_after_batch(e, "h", 1, where={0: 1}),
        error=ConfigError,
        expect=("where", "0"),
        index=None,
    ),
    "batch_id=2**63": batch([{"id": 3}], ConfigError, "batch_id", str(2**63), batch_id=2**63),
    "table '.h'": Case(
        lambda e: import_records(e, ".h", [{"id": 3}]), SchemaError, ("'.h'",), None
    ),
    "table 'h.'": Case(
        lambda e: import_records(e, "h.", [{"id": 3}]), SchemaError, ("'h.'",), None
    ),
    "table '..'": Case(
        lambda e: import_records(e, "..", [{"id": 3}]), SchemaError, ("'..'",), None
    ),
    # the Writer: untrusted client values are rejected in step validate, never another exception
    "Writer lone surrogate": written({"id": "3", "title": "a\ud800"}, "title"),
    "Writer NUL": written({"id": "3", "title": "a\x00"}, "title"),
    "Writer id 2**70": written({"id": 2**70, "title": "x"}, "id"),
    "Writer id text 2**63": written({"id": str(2**63), "title": "x"}, "id"),
    "Writer 2**31 into int4": written(
        {"id": "3", "title": "x", "qty": 2**31}, "qty", stored_on=INT4
    ),
    "Writer 40000 into int2": written(
        {"id": "3", "title": "x", "small": "40000"}, "small", stored_on={"sqlite": 40000}
    ),
    "Writer score 1e400": written({"id": "3", "title": "x", "score": "1e400"}, "score"),
    "Writer tagged decimal 1e400 into float": written(
        {"id": "3", "title": "x", "score": {"__type__": "decimal", "value": "1e400"}}, "score"
    ),
    "Writer price 1e400": written({"id": "3", "title": "x", "price": "1e400"}, "price"),
    "Writer JSON NaN": written({"id": "3", "title": "x", "doc": {"a": float("nan")}}, "doc"),
    "Writer JSON nested 5000 deep": written(
        {"id": "3", "title": "x", "doc": DEEP_JSON}, "doc", step="parse"
    ),
    "Writer JSON nested 30 deep, NaN inside": written(
        {"id": "3", "title": "x", "doc": [_deep(30), float("nan")]}, "doc"
    ),
}

"""Hostile client payloads: each raises WriteRejected and writes 0 rows."""

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_pipeline import Writer, WriteRejected
from sync_pipeline.engine.mutations import Limits
from sync_pipeline_tests import dbs
from sync_pipeline_tests.engine.mutation_helpers import (
    SEEDED,
    dele,
    ins,
    make_todos,
    payload,
    rows,
    upd,
)

METACHARS = [
    "todos; DROP TABLE todos; --",
    "todos'--",
    "todos OR 1=1",
    'todos"; DELETE FROM todos; --',
]

HOSTILE = {
    "unknown table": payload(ins({"id": "3", "title": "x"}, "users")),
    "disallowed op": payload(ins({"id": "3", "title": "x"}), dele({"id": "1"})),
    "missing pk": payload(upd({"title": "First todo"}, {"title": "x"})),
    "pk of wrong type": payload(dele({"id": "1 OR 1=1"})),
    "bool of wrong type": payload(ins({"id": "3", "title": "x", "completed": "maybe"})),
    "int of wrong type": payload(ins({"id": "three", "title": "x"})),
    "null into not null": payload(ins({"id": "3", "title": None})),
    "object into text": payload(ins({"id": "3", "title": {"a": 1}})),
    "nul character": payload(ins({"id": "3", "title": "a\x00b"})),
    "metachar column": payload(ins({"id": "3", "title": "x", "title = 'x'; --": "1"})),
    "metachar value into int": payload(upd({"id": "1; DELETE FROM todos"}, {"title": "x"})),
    **{
        f"metachar relation {i}": payload(ins({"id": "3", "title": "x"}, m))
        for i, m in enumerate(METACHARS)
    },
    "relation not a string": payload(ins({"id": "3", "title": "x"}, {"schema": "public"})),
    "missing relation": json.dumps([{"type": "insert", "modified": {"id": "3", "title": "x"}}]),
    "unknown operation type": json.dumps(
        [{"type": "upsert", "syncMetadata": {"relation": "todos"}}]
    ),
    "changes not an object": json.dumps(
        [
            {
                "type": "update",
                "syncMetadata": {"relation": "todos"},
                "original": {"id": "1"},
                "changes": "x",
            }
        ]
    ),
    "malformed json": '[{"type": "insert", ',
    "not a list": json.dumps({"mutations": []}),
    "empty list": "[]",
    "deeply nested json text": "[" * 100_000 + "]" * 100_000,
    "deeply nested value": payload(
        ins({"id": "3", "title": "x", "completed": json.loads("[" * 40 + "]" * 40)})
    ),
    "10 MB payload": payload(ins({"id": "3", "title": "x" * 10_000_000})),
    "later op fails": payload(
        ins({"id": "3", "title": "ok"}),
        upd({"id": "1"}, {"title": "ok"}),
        upd({"id": "999"}, {"title": "x"}),
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_payload_is_rejected_and_writes_nothing(db: dbs.TestDb, name: str) -> None:
    make_todos(db)
    writer = Writer().allow("todos", accept=("insert", "update"))
    with pytest.raises(WriteRejected) as err:
        writer.apply(HOSTILE[name], db.engine)
    assert err.value.step in ("parse", "check", "load", "validate", "apply")
    assert len(str(err.value)) < 2000  # never echoes a huge payload back
    assert rows(db) == SEEDED


def test_a_10_mb_string_in_a_decoded_payload_hits_the_string_limit(db: dbs.TestDb) -> None:
    make_todos(db)
    with pytest.raises(WriteRejected, match="exceeds the limit of 1000000") as err:
        Writer().allow("todos").apply([ins({"id": "3", "title": "x" * 10_000_000})], db.engine)
    assert err.value.step == "parse"
    assert rows(db) == SEEDED


def test_a_string_longer_than_a_limited_column_is_a_validate_error(db: dbs.TestDb) -> None:
    make_todos(db, title_length=20)
    with pytest.raises(WriteRejected, match="21 characters; the column allows 20") as err:
        Writer().allow("todos").apply(payload(ins({"id": "3", "title": "x" * 21})), db.engine)
    assert err.value.step == "validate"
    assert rows(db) == SEEDED


def test_limits_are_configurable(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer(limits=Limits(max_operations=1)).allow("todos")
    with pytest.raises(WriteRejected, match="2 operations; the limit is 1"):
        writer.apply(
            payload(ins({"id": "3", "title": "a"}), ins({"id": "4", "title": "b"})), db.engine
        )
    assert rows(db) == SEEDED


def test_metacharacters_in_a_text_value_are_stored_verbatim(db: dbs.TestDb) -> None:
    make_todos(db)
    value = "x'); DROP TABLE todos; --"
    Writer().allow("todos").apply(payload(ins({"id": "3", "title": value})), db.engine)
    assert rows(db)[-1]["title"] == value
    assert len(rows(db)) == 3


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.one_of(_json, _json.map(json.dumps), st.text(max_size=60), st.binary(max_size=60)))
def test_arbitrary_junk_never_writes(sqlite: dbs.TestDb, junk) -> None:
    if not sa.inspect(sqlite.engine).has_table("todos"):
        make_todos(sqlite)
    with pytest.raises(WriteRejected):
        Writer().allow("todos").apply(junk, sqlite.engine)
    assert rows(sqlite) == SEEDED


_field = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers().map(str),
    st.sampled_from(["true", "false", "1", "x"]),
)
_op = st.one_of(
    st.builds(
        lambda i, t, c: ins({"id": i, "title": t, "completed": c}, "todos"), _field, _field, _field
    ),
    st.builds(lambda i, t: upd({"id": i}, {"title": t}, "todos"), _field, _field),
    st.builds(lambda i: dele({"id": i}, "todos"), _field),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(_op, min_size=1, max_size=4))
def test_well_shaped_random_values_either_apply_or_are_rejected_whole(pg: dbs.TestDb, ops) -> None:
    if not sa.inspect(pg.engine).has_table("todos"):
        make_todos(pg)
    before = rows(pg)
    try:
        result = Writer().allow("todos").apply(ops, pg.engine)
    except WriteRejected:
        assert rows(pg) == before  # all or nothing
    else:
        assert len(result.changes) == len(ops)


def test_rejection_messages_never_echo_huge_client_input(db: dbs.TestDb) -> None:
    make_todos(db)
    db.execute("CREATE TABLE stamps (id INTEGER PRIMARY KEY, at TIMESTAMP)")
    writer = Writer().allow("todos").allow("stamps")
    for bad in (
        payload(ins({"id": "3", "title": "x"}, "t" * 900_000)),
        payload(ins({"id": "3", "at": "9" * 900_000}, "stamps")),
        payload(ins({"id": "3", "title": "x", "c" * 900_000: "1"})),
    ):
        with pytest.raises(WriteRejected) as err:
            writer.apply(bad, db.engine)
        assert len(str(err.value)) < 1300
    assert rows(db) == SEEDED

"""events.sync: every row of EctoSync's sync/2 tables, staleness, and purity."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline import events
from sync_pipeline.events import ChangeEvent, Commit, Position, Relation, Row

COMMENTS = Relation(parent="posts", child="comments", fk="post_id", field="comments")


def ev(effect, table, pk, changes=None, n=10, keys=None):
    return ChangeEvent(Position(n, n), table, effect, {"id": pk}, keys or {}, changes or {})


def post(i, *comments, **more):
    return {"id": i, **more, "comments": list(comments)}


def comment(i, post_id):
    return {"id": i, "post_id": post_id}


# (event, input, expected output), after the seed's sync/2 tables (posts, comments inside posts)
CASES = {
    "inserted into an empty list": (ev("inserted", "posts", 1, {"id": 1}), [], [{"id": 1}]),
    "inserted appends": (
        ev("inserted", "posts", 2, {"id": 2}), [{"id": 1}], [{"id": 1}, {"id": 2}]
    ),
    "inserted child goes into its parent": (
        ev("inserted", "comments", 1, comment(1, 1)), [post(1)], [post(1, comment(1, 1))]
    ),
    "updated replaces a single row": (
        ev("updated", "posts", 1, {"name": ("Name", "Updated name")}),
        {"id": 1, "name": "Name"}, {"id": 1, "name": "Updated name"},
    ),
    "updated replaces in place": (
        ev("updated", "posts", 1, {"name": ("a", "b")}),
        [{"id": 1, "name": "a"}, {"id": 2, "name": "x"}],
        [{"id": 1, "name": "b"}, {"id": 2, "name": "x"}],
    ),
    "updated row absent from the list is appended": (
        ev("updated", "posts", 2, {"name": ("a", "b")}),
        [{"id": 1}], [{"id": 1}, {"id": 2, "name": "b"}],
    ),
    "updated child is replaced inside its parent": (
        ev("updated", "comments", 1, {"body": ("a", "b")}),
        [post(1, {"id": 1, "post_id": 1, "body": "a"})],
        [post(1, {"id": 1, "post_id": 1, "body": "b"})],
    ),
    "child whose fk changed moves to the new parent": (
        ev("updated", "comments", 1, {"post_id": (1, 2)}),
        [post(1, comment(1, 1)), post(2)],
        [post(1), post(2, comment(1, 2))],
    ),
    "deleted from an empty list": (ev("deleted", "posts", 1), [], []),
    "deleted leaves a single row as it is": (ev("deleted", "posts", 1), {"id": 1}, {"id": 1}),
    "deleted removes from a list": (ev("deleted", "posts", 2), [{"id": 1}, {"id": 2}], [{"id": 1}]),
    "deleted child leaves its parent": (
        ev("deleted", "comments", 1, keys={"post_id": 1}), [post(1, comment(1, 1))], [post(1)]
    ),
    "inserted into None becomes the row": (ev("inserted", "posts", 1, {"id": 1}), None, {"id": 1}),
    "events of other tables change nothing": (
        ev("inserted", "tags", 1, {"id": 1}), [{"id": 1}], [{"id": 1}]
    ),
}  # fmt: skip


@pytest.mark.parametrize(("event", "value", "expected"), CASES.values(), ids=list(CASES))
def test_sync_follows_the_reference_table(event, value, expected):
    before = copy.deepcopy(value)
    out = events.sync(value, event, table="posts", relations=[COMMENTS])
    assert out == expected
    assert value == before  # the input is never mutated


def test_an_event_at_or_before_the_rows_position_is_ignored():
    rows = [Row.at({"id": 1, "name": "new"}, Position(5, 7))]
    old = ev("updated", "posts", 1, {"name": ("x", "old")}, n=5)  # position (5, 5)
    same = ChangeEvent(Position(5, 7), "posts", "updated", {"id": 1}, {}, {"name": ("x", "y")})
    newer = ChangeEvent(Position(6, 1), "posts", "updated", {"id": 1}, {}, {"name": ("x", "z")})
    assert events.sync(rows, old, table="posts") == rows
    assert events.sync(rows, same, table="posts") == rows
    (row,) = events.sync(rows, newer, table="posts")
    assert row == {"id": 1, "name": "z"} and row.position == Position(6, 1)


def test_a_commit_applied_twice_is_applied_once():
    commit = Commit(
        3, None, ("posts",),
        (
            ChangeEvent(Position(3, 1), "posts", "inserted", {"id": 3}, {}, {"id": 3, "n": 0}),
            ChangeEvent(Position(3, 2), "posts", "updated", {"id": 3}, {}, {"n": (0, 1)}),
            ChangeEvent(Position(3, 3), "posts", "deleted", {"id": 1}),
        ),
    )  # fmt: skip
    once = events.sync([Row.at({"id": 1}, Position(1, 1))], commit, table="posts")
    assert once == [{"id": 3, "n": 1}]
    assert events.sync(once, commit, table="posts") == once


OPS = st.lists(
    st.tuples(
        st.sampled_from(["inserted", "updated", "deleted"]),
        st.sampled_from(["posts", "comments"]),
        st.integers(1, 3),
        st.integers(1, 3),
    ),
    max_size=30,
)


@given(OPS)
def test_sync_never_mutates_its_input_and_ids_stay_unique(ops):
    value: list = [post(1, comment(1, 1)), post(2)]
    for n, (effect, table, pk, other) in enumerate(ops, start=1):
        changes = {
            ("inserted", "posts"): {"id": pk, "comments": []},
            ("inserted", "comments"): comment(pk, other),
            ("updated", "posts"): {"title": (None, str(other))},
            ("updated", "comments"): {"post_id": (None, other)},
        }.get((effect, table), {})
        event = ChangeEvent(Position(n, n), table, effect, {"id": pk}, {}, changes)
        before = copy.deepcopy(value)
        out = events.sync(value, event, table="posts", relations=[COMMENTS])
        assert value == before and out is not None
        value = out
    ids = [p["id"] for p in value]
    assert len(ids) == len(set(ids))
    child_ids = [c["id"] for p in value for c in p.get("comments", [])]
    assert len(child_ids) == len(set(child_ids))


def test_a_commit_serializes_for_the_wire_with_exact_values():
    import datetime as dt
    import json
    from decimal import Decimal

    event = ChangeEvent(
        Position(4, 9), "orders", "updated", {"id": 1}, {"tenant": "A"},
        {"total": (Decimal("1.10"), Decimal("2.25")), "at": (None, dt.date(2030, 1, 2))},
        batch_id=3, txid=2**32 + 5,
    )  # fmt: skip
    data = json.loads(events.dumps(Commit(4, 2**32 + 5, ("orders",), (event,)).as_dict()))
    assert data["seq"] == 4 and data["txid"] == str(2**32 + 5) and data["txid32"] == 5
    assert data["events"][0]["position"] == "4.9"
    assert data["events"][0]["changes"] == {"total": ["1.10", "2.25"], "at": [None, "2030-01-02"]}

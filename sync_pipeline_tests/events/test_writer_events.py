"""The mutation Writer records its changes in the same transaction, in operation order."""

import pytest

from sync_pipeline import Writer, events
from sync_pipeline_tests.engine.mutation_helpers import dele, ins, make_todos, payload, upd
from sync_pipeline_tests.events.helpers import all_events

pytestmark = pytest.mark.integration


def test_insert_update_delete_become_events_in_operation_order(db):
    make_todos(db)
    txn = payload(
        ins({"id": "3", "title": "new"}),
        upd({"id": "3"}, {"completed": True}),
        upd({"id": "1"}, {"title": "First todo"}),  # no change: no event
        dele({"id": "2"}),
    )
    result = Writer().allow("todos").apply(txn, db.engine, events={"keys": ["completed"]})
    (commit,) = events.read(db.engine)
    got = [(e.effect, e.pk, dict(e.keys), dict(e.changes)) for e in commit.events]
    assert got == [
        ("inserted", {"id": 3}, {"completed": False},
         {"id": 3, "title": "new", "completed": False}),
        ("updated", {"id": 3}, {"completed": True}, {"completed": (False, True)}),
        ("deleted", {"id": 2}, {"completed": False}, {}),
    ]  # fmt: skip
    assert result.events == 3 and commit.txid == result.txid


def test_a_primary_key_change_is_a_delete_and_an_insert(db):
    make_todos(db)
    writer = Writer().allow("todos", validate=lambda row, changes: {"id": int(changes["id"])})
    writer.apply(payload(upd({"id": "1"}, {"id": "7"})), db.engine, events=True)
    got = [(e.effect, e.pk) for e in all_events(db.engine)]
    assert got == [("deleted", {"id": 1}), ("inserted", {"id": 7})]


def test_events_off_records_nothing(db):
    make_todos(db)
    result = Writer().allow("todos").apply(payload(ins({"id": "3", "title": "x"})), db.engine)
    assert result.events == 0 and events.read(db.engine) == []

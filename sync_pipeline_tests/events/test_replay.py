"""Replaying every event into a cache ends equal to SELECT *, under concurrent transactions."""

import random
import threading
import time

import pytest
import sqlalchemy as sa

from sync_pipeline import Writer, WriteRejected, events
from sync_pipeline_tests.engine.mutation_helpers import dele, ins, payload, upd

pytestmark = pytest.mark.integration
CHILDREN = events.Relation(parent="parents", child="children", fk="parent_id", field="children")
PARENTS = ("public", "parents")
KIDS = ("public", "children")


def _tables(db) -> None:
    md = sa.MetaData()
    db.create(
        sa.Table(
            "parents", md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("name", sa.Text),
        ),
        sa.Table(
            "children", md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id")),
            sa.Column("body", sa.Text),
        ),
    )  # fmt: skip
    db.execute("INSERT INTO parents (id, name) VALUES (1, 'p1'), (2, 'p2'), (3, 'p3')")
    db.execute("INSERT INTO children (id, parent_id, body) VALUES (1, 1, 'c1'), (2, 2, 'c2')")


def _random_op(rng: random.Random, thread: int, step: int) -> dict:
    child = rng.choice([1, 2, thread * 100 + rng.randint(0, step)])
    parent = str(rng.randint(1, 3))
    return rng.choice(
        [
            upd({"id": parent}, {"name": f"t{thread}s{step}"}, PARENTS),
            ins({"id": str(thread * 100 + step), "parent_id": parent, "body": "new"}, KIDS),
            upd({"id": str(child)}, {"body": f"t{thread}s{step}"}, KIDS),
            upd({"id": str(child)}, {"parent_id": parent}, KIDS),
            dele({"id": str(child)}, KIDS),
        ]
    )


def _worker(engine: sa.Engine, thread: int, writer: Writer) -> None:
    rng = random.Random(thread)
    for step in range(15):
        with engine.connect() as conn:
            txn = conn.begin()
            try:
                writer.apply(payload(_random_op(rng, thread, step)), conn, events=True)
                time.sleep(rng.random() / 50)  # commit later than the write, in any order
                txn.commit()
            except (WriteRejected, sa.exc.DBAPIError):
                txn.rollback()  # a missing row or a deadlock: rolled back, so no events


def _nested(db) -> list[dict]:
    kids = db.rows("children")
    return [
        {**p, "children": [k for k in kids if k["parent_id"] == p["id"]]}
        for p in db.rows("parents")
    ]


def test_replaying_every_commit_into_the_cache_equals_select(pg):
    _tables(pg)
    events.install(pg.engine)
    parents, cursor = events.snapshot(pg.engine, "parents")
    kids, kids_cursor = events.snapshot(pg.engine, "children")
    assert cursor == kids_cursor  # nothing is writing yet
    cache: list = [
        events.Row.at({**p, "children": [k for k in kids if k["parent_id"] == p["id"]]}, cursor)
        for p in parents
    ]
    writer = Writer().allow("parents").allow("children")
    threads = [threading.Thread(target=_worker, args=(pg.engine, t, writer)) for t in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    commits = events.read(pg.engine, after=cursor)
    assert len(commits) > 10
    for commit in commits:
        cache = events.sync(cache, commit, table="parents", relations=[CHILDREN])
    ordered = [{**p, "children": sorted(p["children"], key=lambda k: k["id"])} for p in cache]
    assert sorted(ordered, key=lambda p: p["id"]) == _nested(pg)

"""GET /events on a real uvicorn: a POST's commit by txid, Last-Event-ID, filters, authorize."""

import datetime as dt
import time

import httpx
import pytest

from sync_pipeline import events
from sync_pipeline.web import shared
from sync_pipeline_tests.engine.mutation_helpers import dele, ins, make_todos, upd
from sync_pipeline_tests.web.serve import auth, served, sse_messages, todos_app

pytestmark = pytest.mark.integration
HOUR = dt.timedelta(hours=1)


def post(url: str, *mutations, user: str = "alice") -> str:
    response = httpx.post(f"{url}/mutations", json=list(mutations), headers=auth(user))
    assert response.status_code == 200, response.text
    return response.json()["txid"]


def stream(url: str, count: int, *, user: str = "alice", params=None, headers=None):
    with httpx.stream(
        "GET", f"{url}/events", params=params or {"table": "todos"},
        headers={**auth(user), **(headers or {})}, timeout=10,
    ) as response:  # fmt: skip
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_messages(response, count)


def test_the_commit_of_a_post_arrives_with_its_txid_and_position_id(pg):
    make_todos(pg)
    with served(todos_app(pg.engine)) as url:
        txid = post(url, ins({"id": "3", "title": "new"}), upd({"id": "1"}, {"completed": True}))
        (msg,) = stream(url, 1)
    data = msg["data"]
    assert data["txid"] == txid and data["txid32"] == int(txid) % 2**32
    assert [(e["effect"], e["pk"]) for e in data["events"]] == [
        ("inserted", {"id": 3}), ("updated", {"id": 1}),
    ]  # fmt: skip
    assert data["events"][1]["changes"] == {"completed": [False, True]}
    assert msg["id"] == data["events"][-1]["position"]


def test_last_event_id_resumes_after_that_position(db):
    make_todos(db)
    with served(todos_app(db.engine)) as url:
        post(url, ins({"id": "3", "title": "a"}))
        post(url, ins({"id": "4", "title": "b"}))
        first, second = stream(url, 2)
        post(url, dele({"id": "3"}))
        resumed = stream(url, 2, headers={"Last-Event-ID": first["id"]})
        from_query = stream(url, 1, params={"table": "todos", "after": second["id"]})
    assert [m["id"] for m in resumed] == [second["id"], from_query[0]["id"]]
    assert [e["effect"] for e in from_query[0]["data"]["events"]] == ["deleted"]


def test_authorize_filters_per_principal_and_fails_closed(pg):
    make_todos(pg)

    def authorize(user, event):
        if user == "bob":
            raise RuntimeError("policy service down")  # fails closed: bob sees nothing
        return event.pk["id"] % 2 == 1

    with served(todos_app(pg.engine, authorize=authorize)) as url:
        post(url, ins({"id": "4", "title": "even"}), ins({"id": "5", "title": "odd"}))
        post(url, ins({"id": "6", "title": "even only"}))
        post(url, ins({"id": "7", "title": "odd"}))
        got = stream(url, 2)
        with httpx.stream(
            "GET", f"{url}/events", params={"table": "todos"}, headers=auth("bob"), timeout=1.5
        ) as response:
            assert response.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                sse_messages(response, 1)
    assert [[e["pk"]["id"] for e in m["data"]["events"]] for m in got] == [[5], [7]]


def test_row_and_where_filters_are_typed_by_the_columns(pg):
    make_todos(pg)
    with served(todos_app(pg.engine, events={"keys": ["completed"]})) as url:
        post(url, upd({"id": "2"}, {"title": "two"}))
        post(url, upd({"id": "1"}, {"completed": True}))
        post(url, upd({"id": "1"}, {"completed": False}))  # moves out of completed=true
        by_row = stream(url, 1, params={"table": "todos", "row": "1"})
        by_col = stream(url, 1, params={"table": "todos", "row.id": "2"})
        done = stream(url, 2, params={"table": "todos", "where.completed": "true"})
    assert by_row[0]["data"]["events"][0]["changes"] == {"completed": [False, True]}
    assert by_col[0]["data"]["events"][0]["pk"] == {"id": 2}
    assert [(e["effect"], e["keys"]) for m in done for e in m["data"]["events"]] == [
        ("updated", {"completed": True}), ("deleted", {}),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "headers", "status", "says"),
    [
        ({"table": "todos"}, {"Authorization": "Bearer nobody"}, 401, "not authenticated"),
        ({}, {}, 400, "table="),
        ({"table": "nope"}, {}, 400, "no table 'nope'"),
        ({"table": "todos"}, {"Last-Event-ID": "yesterday"}, 400, "not an event position"),
        ({"table": "todos", "where.title": "x"}, {}, 400, "not recorded key columns"),
        ({"table": "todos", "row": "one"}, {}, 400, "id='one' is not of type int"),
        ({"table": "todos", "color": "red"}, {}, 400, "unknown parameter 'color'"),
    ],
)
def test_bad_requests_are_refused_before_the_stream_starts(sqlite, params, headers, status, says):
    make_todos(sqlite)
    with served(todos_app(sqlite.engine)) as url:
        response = httpx.get(f"{url}/events", params=params, headers={**auth(), **headers})
    assert response.status_code == status and says in response.json()["error"]["message"]


def test_a_pruned_cursor_is_410_and_says_take_a_new_snapshot(sqlite):
    make_todos(sqlite)
    with served(todos_app(sqlite.engine)) as url:
        post(url, ins({"id": "3", "title": "a"}))
        post(url, ins({"id": "4", "title": "b"}))
        assert events.prune(sqlite.engine, older_than=dt.datetime.now(dt.UTC) + HOUR) == 2
        response = httpx.get(f"{url}/events", params={"table": "todos"}, headers=auth())
    assert response.status_code == 410 and "snapshot" in response.json()["error"]["message"]


def test_two_clients_are_served_by_one_reader(pg, monkeypatch):
    """One Fanout reads the table for every client of the app; each gets its own filtered share,
    and the reader stops (its connection closed) when the last client leaves."""
    made = []

    class Counted(shared.Fanout):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(shared, "Fanout", Counted)
    make_todos(pg)
    app = todos_app(pg.engine, events={"keys": ["completed"]})
    done = {"table": "todos", "where.completed": "true"}
    with served(app) as url, httpx.Client(timeout=10) as http:
        post(url, upd({"id": "2"}, {"title": "two"}))  # records the key column `completed`
        with (
            http.stream("GET", f"{url}/events", params={"table": "todos"}, headers=auth()) as a,
            http.stream("GET", f"{url}/events", params=done, headers=auth("bob")) as b,
        ):
            assert a.status_code == b.status_code == 200  # both subscribed
            txid = post(
                url, ins({"id": "3", "title": "new"}), upd({"id": "1"}, {"completed": True})
            )
            (history, to_a), (to_b,) = sse_messages(a, 2), sse_messages(b, 1)
        assert len(made) == 1
        deadline = time.monotonic() + 5
        while not made[0].source._closed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert made[0].source._closed, "the reader outlived its last client"
    assert [e["pk"] for e in history["data"]["events"]] == [{"id": 2}]  # caught up, then live
    assert to_a["data"]["txid"] == to_b["data"]["txid"] == txid
    assert [e["pk"] for e in to_a["data"]["events"]] == [{"id": 3}, {"id": 1}]
    assert [e["pk"] for e in to_b["data"]["events"]] == [{"id": 1}]

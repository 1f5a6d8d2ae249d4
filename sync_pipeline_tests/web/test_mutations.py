"""POST /mutations on a real uvicorn: 200 with the txid, 422, 400, 401; re-selected after."""

import json

import httpx
import pytest

from sync_pipeline import events
from sync_pipeline_tests.engine.mutation_helpers import dele, ins, make_todos, upd
from sync_pipeline_tests.web.serve import auth, served, todos_app

pytestmark = pytest.mark.integration

START = [
    {"id": 1, "title": "First todo", "completed": False},
    {"id": 2, "title": "Second todo", "completed": False},
]


def test_a_transaction_is_applied_and_answers_its_txid(db):
    make_todos(db)
    body = {"transaction": [ins({"id": "3", "title": "new"}), dele({"id": "2"})]}
    with served(todos_app(db.engine)) as url:
        response = httpx.post(f"{url}/mutations", json=body, headers=auth())
    assert response.status_code == 200, response.text
    assert db.rows("todos") == [START[0], {"id": 3, "title": "new", "completed": False}]
    (commit,) = events.read(db.engine)
    assert [e.effect for e in commit.events] == ["inserted", "deleted"]
    if db.kind == "postgres":
        txid = response.json()["txid"]
        assert txid.isdigit() and int(txid) == commit.txid
        assert response.json()["txid32"] == commit.txid % 2**32
    else:
        assert response.json() == {"txid": None, "txid32": None}


def test_a_bare_array_is_a_transaction_too(db):
    make_todos(db)
    with served(todos_app(db.engine)) as url:
        response = httpx.post(
            f"{url}/mutations", json=[upd({"id": "1"}, {"completed": True})], headers=auth()
        )
    assert response.status_code == 200, response.text
    assert db.rows("todos")[0]["completed"] is True


@pytest.mark.parametrize(
    ("body", "status", "step", "index"),
    [
        ([ins({"id": "3", "title": "ok"}), ins({"id": "4"})], 422, "apply", 1),  # title NOT NULL
        ([ins({"id": "3", "title": "x"}), ins({"id": "5", "title": "y"}, ("public", "users"))],
         422, "check", 1),
        ([upd({"id": "1"}, {"title": "x"}), "not a mutation"], 400, "parse", None),
    ],
)  # fmt: skip
def test_a_rejected_transaction_writes_nothing(db, body, status, step, index):
    make_todos(db)
    with served(todos_app(db.engine)) as url:
        response = httpx.post(f"{url}/mutations", json=body, headers=auth())
    assert response.status_code == status, response.text
    got = response.json()["error"]
    assert (got["step"], got["index"]) == (step, index) and got["message"]
    assert db.rows("todos") == START and events.read(db.engine) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"mutations": []}', b'"a string"', b'{"transaction": {"a": 1}}', b"\xff"],
)
def test_a_malformed_body_is_400(sqlite, content):
    make_todos(sqlite)
    with served(todos_app(sqlite.engine)) as url:
        response = httpx.post(f"{url}/mutations", content=content, headers=auth())
    assert response.status_code == 400 and "transaction" in response.json()["error"]["message"]
    assert sqlite.rows("todos") == START


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer boom-token"}]
)
def test_no_principal_is_401_and_writes_nothing(db, headers):
    make_todos(db)
    body = json.dumps([ins({"id": "3", "title": "new"})])
    with served(todos_app(db.engine)) as url:
        response = httpx.post(f"{url}/mutations", content=body, headers=headers)
    assert response.status_code == 401 and db.rows("todos") == START


def test_the_writer_is_built_for_the_principal(pg):
    make_todos(pg)
    seen = []

    def writer_for(user):
        seen.append(user)
        from sync_pipeline import Writer

        return Writer().allow("todos", check=lambda op: user == "alice" or f"{user} may not write")

    from sync_pipeline.web import create_app
    from sync_pipeline_tests.web.serve import bearer

    app = create_app(pg.engine, writer_for=writer_for, authenticate=bearer)
    with served(app) as url:
        denied = httpx.post(f"{url}/mutations", json=[dele({"id": "1"})], headers=auth("bob"))
        allowed = httpx.post(f"{url}/mutations", json=[dele({"id": "1"})], headers=auth("alice"))
    assert denied.status_code == 422 and denied.json()["error"]["message"] == "bob may not write"
    assert allowed.status_code == 200 and seen == ["bob", "alice"]
    assert pg.rows("todos") == START[1:]

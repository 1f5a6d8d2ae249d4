"""The real TanStack DB client (npm) posts a transaction and sees its commit's txid over SSE."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sync_pipeline import events
from sync_pipeline_tests.engine.mutation_helpers import make_todos
from sync_pipeline_tests.web.serve import TOKENS, served, todos_app

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).parent / "node"


def _node_ready() -> None:
    """node and the pinned packages; in CI a missing npm fails the test, locally it skips."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed for the TanStack DB client test in CI")
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "@tanstack" / "db").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )


def test_a_tanstack_db_transaction_round_trips_to_its_txid_on_the_event_stream(pg):
    _node_ready()
    make_todos(pg)
    with served(todos_app(pg.engine)) as url:
        run = subprocess.run(
            ["node", "client.mjs", url, TOKENS["alice"]],
            cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    (commit,) = events.read(pg.engine)
    assert got["txid"] == str(commit.txid) and got["txid32"] == commit.txid32
    assert got["message"]["id"] == str(commit.position)
    assert [(e["effect"], e["pk"]) for e in got["message"]["data"]["events"]] == [
        ("inserted", {"id": 3}), ("updated", {"id": 1}),
    ]  # fmt: skip
    assert pg.rows("todos") == [
        {"id": 1, "title": "First todo", "completed": True},
        {"id": 2, "title": "Second todo", "completed": False},
        {"id": 3, "title": "from TanStack DB", "completed": False},
    ]

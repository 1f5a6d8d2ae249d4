"""The UI in a real browser: `dagster dev` on a free port, headless Chromium shows the demo
sync's four assets; a partition backfill launched through GraphQL (the mutation the UI's
Materialize button sends) succeeds; the `applied` page shows the diff as a table and a failed
check's evidence shows the offending value. Screenshots are kept under artifacts/."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.demo.data import create_target, write_sender

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEPS = ("extract", "normalized", "diff", "applied")


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    demo: Path  # the demo's sender.db and target.db

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        assert "errors" not in payload, payload
        return payload["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"dagster dev not ready after {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`dagster dev` in its own process group, with a temp DAGSTER_HOME and demo databases."""
    demo, home = tmp_path / "demo", tmp_path / "home"
    demo.mkdir()
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    for name, prepare in (("sender.db", write_sender), ("target.db", create_target)):
        engine = sa.create_engine(f"sqlite:///{demo / name}")
        prepare(engine)
        engine.dispose()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SYNC_TARGET_URL", "SYNC_SENDER_URL", "SYNC_CONFIG", "SYNC_STAGING_DIR")
    }
    env.update({"DAGSTER_HOME": str(home), "SYNC_DEMO_DIR": str(demo)})
    port = free_port()
    log = tmp_path / "dagster-dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-p", str(port), "-h", "127.0.0.1"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        yield Server(url, log, demo)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the whole process group (webserver, daemon, code server)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


LAUNCH = """
mutation($names: [String!]!, $assets: [AssetKeyInput!]!) {
  launchPartitionBackfill(backfillParams: {
      assetSelection: $assets, partitionNames: $names, title: "browser test"}) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status }
  }
}"""


LATEST = """
query($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(limit: 1) { partition } }
  }
}"""


def launch_and_wait(server: Server, sync: str, partition: str, timeout: float = 240) -> str:
    assets = [{"path": [sync, step]} for step in STEPS]
    launched = server.graphql(LAUNCH, {"names": [partition], "assets": assets})
    result = launched["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = server.graphql(STATUS, {"id": result["backfillId"]})["partitionBackfillOrError"][
            "status"
        ]
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            return str(status)
        time.sleep(2)
    return f"timeout ({status})"


def test_ui_shows_sync_lineage_and_runs_a_backfill(server: Server) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{server.url}/locations/sync_pipeline/asset-groups/customers")
        # The "Join the Dagster community" modal shows on a fresh instance only.
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("button", name="Skip").click(timeout=10_000)
        for step in STEPS:
            page.get_by_text(step, exact=True).first.wait_for(timeout=60_000)

        status = launch_and_wait(server, "customers", "eu")

        page.reload()
        for step in STEPS:
            page.get_by_text(step, exact=True).first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "dagster-ui-customers.png"), full_page=True)
        browser.close()
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), server.log.read_text()[-4000:]
    latest = server.graphql(LATEST, {"path": ["customers", "applied"]})["assetOrError"]
    assert [m["partition"] for m in latest["assetMaterializations"]] == ["eu"]


DAY, BAD_DAY = "2026-01-02", "2026-01-03"
CHANGED_ORDER = 20000  # the first order of DAY in the demo data
BAD_ORDER = 30000  # the first order of BAD_DAY: its amount is -12.50


def sender_status(path: Path, order_id: int) -> str:
    """What the sender holds for one order's status (the diff's `new`)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        query = sa.text("SELECT status FROM orders WHERE order_id = :id")
        found = str(conn.execute(query, {"id": order_id}).scalar_one())
    engine.dispose()
    return found


def test_applied_page_shows_the_diff_table_and_check_evidence(server: Server) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    assert launch_and_wait(server, "orders", DAY) in ("COMPLETED", "COMPLETED_SUCCESS")
    status = sender_status(server.demo / "sender.db", CHANGED_ORDER)
    target = sa.create_engine(f"sqlite:///{server.demo / 'target.db'}")
    with target.begin() as conn:  # the target drifted: the next sync changes this row back
        conn.execute(
            sa.text("UPDATE orders SET status = 'on_hold' WHERE order_id = :id"),
            {"id": CHANGED_ORDER},
        )
    target.dispose()
    assert launch_and_wait(server, "orders", DAY) in ("COMPLETED", "COMPLETED_SUCCESS")
    launch_and_wait(server, "orders", BAD_DAY)  # fails its blocking checks

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.goto(f"{server.url}/assets/orders/applied?view=events")
        with contextlib.suppress(PlaywrightTimeout):  # the fresh instance's community modal
            page.get_by_role("button", name="Skip").click(timeout=10_000)
        drifted = page.get_by_role("cell", name="on_hold", exact=True)
        drifted.wait_for(timeout=60_000)
        diff_row = page.get_by_role("row").filter(has=drifted).last
        diff_cells = diff_row.get_by_role("cell").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "dagster-ui-orders-applied.png"), full_page=True)

        page.goto(f"{server.url}/assets/orders/normalized?view=checks")
        page.get_by_text("amount_in_range", exact=True).first.click(timeout=60_000)
        page.get_by_text("[Show Markdown]").first.click(timeout=60_000)
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("cell", name="-12.50", exact=True).wait_for(timeout=30_000)
        evidence_text = dialog.inner_text()
        evidence_cells = (
            dialog.get_by_role("row")
            .filter(has_text="-12.50")
            .get_by_role("cell")
            .all_inner_texts()
        )
        page.screenshot(path=str(ARTIFACTS / "dagster-ui-orders-check-evidence.png"))
        browser.close()

    assert [c.strip() for c in diff_cells] == [
        "changed",
        str(CHANGED_ORDER),
        "status",
        "on_hold",
        status,
    ]
    assert "amount between 0 and 100000" in evidence_text and "1 row fail" in evidence_text
    assert [c.strip() for c in evidence_cells] == [str(BAD_ORDER), "amount", "-12.50"]

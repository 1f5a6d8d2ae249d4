"""`sync-pipeline` as a user runs it: a subprocess on demo data in a temporary directory."""

import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync_pipeline.demo.data import create_target, write_sender
from sync_pipeline_tests.dbs import PG_ADMIN_URL

pytestmark = pytest.mark.integration

SCRIPT = shutil.which("sync-pipeline", path=str(Path(sys.executable).parent))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo's sender and an empty target in tmp_path/.demo (no config: the bundled demo)."""
    directory = tmp_path / ".demo"
    directory.mkdir()
    for name, make in (("sender.db", write_sender), ("target.db", create_target)):
        engine = sa.create_engine(f"sqlite:///{directory / name}")
        make(engine)
        engine.dispose()
    return tmp_path


def env_for(demo: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_", "DAGSTER"))}
    return {**env, "SYNC_DEMO_DIR": str(demo / ".demo"), "COLUMNS": "120", **extra}


def cli(demo: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT is not None, "the console script is not installed (uv sync)"
    return subprocess.run(
        [SCRIPT, *args],
        cwd=demo,
        env=env_for(demo, **extra),
        capture_output=True,
        text=True,
        check=False,
    )


def scalar(demo: Path, db: str, sql: str) -> int:
    """Run one statement on a demo database; its single value (0 for none)."""
    engine = sa.create_engine(f"sqlite:///{demo / '.demo' / db}")
    with engine.begin() as conn:
        result = conn.execute(sa.text(sql))
        value = result.scalar() if result.returns_rows else None
    engine.dispose()
    return int(value or 0)


def test_plan_writes_nothing_then_run_creates_then_finds_unchanged_and_missing(demo):
    eu = scalar(demo, "sender.db", "SELECT count(*) FROM customers WHERE region = 'eu'")
    planned = cli(demo, "plan", "customers", "--partition", "eu")
    assert planned.returncode == 0, planned.stderr
    assert f"added={eu} changed=0" in planned.stdout
    assert "effect" in planned.stdout and "email=" in planned.stdout  # the diff as a table
    assert scalar(demo, "target.db", "SELECT count(*) FROM customers") == 0

    first = cli(demo, "run", "customers", "-p", "eu")
    assert f"created={eu} updated=0 unchanged=0" in first.stdout, first.stderr
    assert "batch_id=1" in first.stdout and first.stdout.count("\n") == 1  # quiet: one line
    second = cli(demo, "run", "customers", "-p", "eu")
    assert f"created=0 updated=0 unchanged={eu}" in second.stdout, second.stderr

    gone = scalar(demo, "sender.db", "SELECT min(customer_id) FROM customers WHERE region = 'eu'")
    scalar(demo, "sender.db", f"DELETE FROM customers WHERE customer_id = {gone}")
    third = cli(demo, "run", "customers", "-p", "eu")
    assert f"unchanged={eu - 1} skipped=0 deleted=0 missing=1 batch_id=3" in third.stdout
    listed = cli(demo, "missing", "customers", "-p", "eu")
    assert "missing customers [eu]: 1 row(s) after batch 3" in listed.stdout, listed.stderr
    assert f"\n{gone} " in listed.stdout


def test_plan_does_not_create_a_missing_table(demo):
    scalar(demo, "target.db", "DROP TABLE customers")
    planned = cli(demo, "plan", "customers", "-p", "us")
    us = scalar(demo, "sender.db", "SELECT count(*) FROM customers WHERE region = 'us'")
    assert f"does not exist yet; `run` creates it and adds the batch's {us} row(s)" in (
        planned.stdout
    ), planned.stderr
    tables = "SELECT count(*) FROM sqlite_master WHERE name = 'customers'"
    assert scalar(demo, "target.db", tables) == 0


def test_a_failing_check_blocks_the_run_and_names_the_value(demo):
    blocked = cli(demo, "run", "orders", "-p", "2026-01-03")
    assert blocked.returncode == 1
    assert "order_id 30000: amount = -12.50" in blocked.stderr
    assert "nothing written" in blocked.stderr
    assert scalar(demo, "target.db", "SELECT count(*) FROM orders") == 0


def run_in_pty(demo: Path, *args: str) -> str:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; everything it drew."""
    assert SCRIPT is not None
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 120 columns
    proc = subprocess.Popen(
        [SCRIPT, *args],
        cwd=demo,
        env=env_for(demo),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(leader)
    assert proc.wait(timeout=120) == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


def test_run_shows_a_progress_bar_on_a_terminal_only(demo):
    day = scalar(
        demo, "sender.db", "SELECT count(*) FROM orders WHERE date(ordered_at) = '2026-01-02'"
    )
    shown = run_in_pty(demo, "run", "orders", "-p", "2026-01-02")
    assert "rows/s" in shown and f"{day}/{day}" in shown and "100%|" in shown
    assert f"run orders [2026-01-02]: created={day}" in shown

    piped = cli(demo, "run", "orders", "-p", "2026-01-04")
    assert piped.returncode == 0, piped.stderr
    assert "rows/s" not in piped.stdout + piped.stderr
    assert "run orders [2026-01-04]: created=" in piped.stdout


def test_check_reports_each_connection_without_the_password(demo):
    secret = "s3cret-pw"
    target = sa.make_url(PG_ADMIN_URL).set(password=secret)  # trust auth: accepted
    sender = target.set(port=1)  # nothing listens there
    result = cli(
        demo,
        "check",
        SYNC_TARGET_URL=target.render_as_string(hide_password=False),
        SYNC_SENDER_URL=sender.render_as_string(hide_password=False),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert secret not in output and "***" in output
    assert "config: OK (2 sync(s))" in output
    assert "customers: sender " in output and ": FAILED: " in output
    assert "orders: target postgresql+psycopg://postgres:***@" in output and ": OK (" in output


def test_the_command_line_never_imports_dagster():
    probe = "import sys, sync_pipeline.cli; print(sorted(m for m in sys.modules if 'dagster' in m))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

"""`python -m sync_pipeline.demo` (what `make demo` runs) on a fresh directory: every run but the
invalid day applies, and the summary says so. Needs the engine from main."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_headless_and_blocks_only_the_invalid_day(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_", "DAGSTER_HOME"))}
    env["SYNC_DEMO_DIR"] = str(tmp_path)

    done = subprocess.run(
        [sys.executable, "-m", "sync_pipeline.demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "9 run(s) applied, 1 failed or blocked" in done.stdout
    blocked = [line for line in done.stdout.splitlines() if "BLOCKED" in line]
    assert len(blocked) == 1 and "2026-01-03" in blocked[0] and "status_known" in blocked[0]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'target.db'}")
    with engine.connect() as conn:
        days = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT date(ordered_at)) FROM orders")
        ).one()
    engine.dispose()
    assert tuple(days) == (180, 6)

"""The `dg` CLI works from the checkout: `dg check defs`, `dg list defs` and `dg launch` of a sync
job, whose run lands in the instance at $DAGSTER_HOME (the one `make dev` shows)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.demo.data import create_target, write_sender

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).parent / "dg"


def run_dg(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`dg ARGS` in the checkout, with this venv active and no sync settings from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_", "DAGSTER_HOME"))}
    env.update(VIRTUAL_ENV=sys.prefix, **extra_env)
    return subprocess.run(
        [str(DG), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_dg_check_defs_passes() -> None:
    done = run_dg("check", "defs")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout


def test_dg_list_defs_shows_every_sync_job() -> None:
    done = run_dg("list", "defs", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    listed = json.loads(done.stdout)
    jobs = sorted(j["name"] for j in listed["jobs"] if not j["name"].startswith("__"))
    assert jobs == ["customers_cleanup", "customers_sync", "orders_cleanup", "orders_sync"]
    assert "orders/applied" in {a["asset_key"] for a in listed["assets"]}


def test_dg_launch_runs_a_partition_into_the_shared_instance(tmp_path: Path) -> None:
    demo, home = tmp_path / "demo", tmp_path / "home"
    demo.mkdir()
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    sender, target = (sa.create_engine(f"sqlite:///{demo / n}") for n in ("sender.db", "target.db"))
    write_sender(sender)
    create_target(target, replace=True)

    done = run_dg(
        "launch", "--job", "customers_sync", "--partition", "eu",
        SYNC_DEMO_DIR=str(demo), DAGSTER_HOME=str(home),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    with target.connect() as conn:
        regions = conn.execute(sa.text("SELECT DISTINCT region FROM customers")).scalars().all()
    sender.dispose()
    target.dispose()
    assert regions == ["eu"]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs()
    assert (run.job_name, run.tags["dagster/partition"]) == ("customers_sync", "eu")
    assert run.status == dg.DagsterRunStatus.SUCCESS

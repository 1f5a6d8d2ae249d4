"""Fixtures for the Dagster layer: a demo sender, a target with the demo tables, the location."""

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.io import StagingIOManager
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.demo.data import create_target, write_sender
from sync_pipeline.syncs import load_syncs
from sync_pipeline_tests.dbs import TestDb

REPO = Path(__file__).resolve().parents[2]
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture
def sender_url(tmp_path: Path) -> str:
    """A small demo sender: 12 customers, 5 orders a day for 7 days (2026-01-03 is invalid)."""
    url = f"sqlite:///{tmp_path / 'sender.db'}"
    engine = sa.create_engine(url)
    write_sender(engine, customers=12, per_day=5)
    engine.dispose()
    return url


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


Location = Callable[..., dg.Definitions]


@pytest.fixture
def location(db: TestDb, sender_url: str, tmp_path: Path) -> Location:
    """Build the code location from the repo's syncs.yaml (or given specs) against `db`."""
    create_target(db.engine)

    def build(specs: object = None) -> dg.Definitions:
        resources = {
            "target_db": SqlDatabase(url=db.url),
            "sender_db": SqlDatabase(url=sender_url),
            "io_manager": StagingIOManager(base_dir=str(tmp_path / "staging")),
        }
        return build_location(specs or load_syncs(REPO / "syncs.yaml"), resources)

    return build


def run(defs: dg.Definitions, job: str, instance: dg.DagsterInstance, **kwargs: object):
    """Execute a job in-process, quietly, without raising on failure."""
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, **kwargs
    )


def executed_assets(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }

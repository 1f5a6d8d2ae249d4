"""Runs the UI launches on a sync's assets (`__ASSET_JOB`, the Materialize button) get the
`sync_table` tag from the project's run coordinator, and the run queue of the shipped
dagster.yaml then holds a second run for the same table back while another table's run starts.

The instance is the repo's dagster.yaml; runs are launched through GraphQL's
`launchPipelineExecution` (what the UI sends) against the code location loaded in-process, and
dequeued by Dagster's own queue daemon; only the run launcher is Dagster's recording test
launcher, so the dequeued runs are not executed.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import execute_dagster_graphql

from sync_pipeline.defs.coordinator import TABLE_TAG, run_tables

REPO = Path(__file__).resolve().parents[2]
LOCATION = "sync_pipeline"
# the client's mutation, also asking why a selection was refused
LAUNCH = LAUNCH_PIPELINE_EXECUTION_MUTATION.replace(
    "__typename\n", "__typename\n ... on InvalidSubsetError { message }\n", 1
)
RECORDING_LAUNCHER = """
run_launcher:
  module: dagster._core.test_utils
  class: MockedRunLauncher
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkspaceProcessContext]:
    """The repo's dagster.yaml (run coordinator, queue limits) and the repo's syncs.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    with (home / "dagster.yaml").open("a") as config:
        config.write(RECORDING_LAUNCHER)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("SYNC_CONFIG", str(REPO / "syncs.yaml"))
    monkeypatch.setenv("SYNC_TARGET_URL", f"sqlite:///{tmp_path / 'target.db'}")
    monkeypatch.setenv("SYNC_SENDER_URL", f"sqlite:///{tmp_path / 'sender.db'}")
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="sync_pipeline.definitions", attribute="defs"),
        location_name=LOCATION,
    )
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as context,
    ):
        yield context


def materialize(context: WorkspaceProcessContext, sync: str, partition: str | None) -> str:
    """What the UI's Materialize button sends for a sync's four assets (with their checks);
    returns the run id."""
    tags = [{"key": "dagster/partition", "value": partition}] if partition else []
    keys = [dg.AssetKey([sync, step]) for step in ("extract", "normalized", "diff", "applied")]
    graph = context.create_request_context().asset_graph
    checks = [c for c in graph.asset_check_keys if c.asset_key in keys]
    params: dict[str, Any] = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": key.path} for key in keys],
            "assetCheckSelection": [
                {"assetKey": {"path": c.asset_key.path}, "name": c.name} for c in checks
            ],
        },
        "mode": "default",
        "executionMetadata": {"tags": tags},
        "runConfigData": {},
    }
    result = execute_dagster_graphql(
        context.create_request_context(),
        LAUNCH,
        {"executionParams": params},
    )
    assert result.errors is None, result.errors
    launched = result.data["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def test_ui_materialize_runs_carry_the_table_tag_and_queue_per_table(
    workspace: WorkspaceProcessContext,
) -> None:
    instance = workspace.instance
    first = materialize(workspace, "orders", "2026-01-02")
    second = materialize(workspace, "orders", "2026-01-03")
    other = materialize(workspace, "customers", None)

    runs = {run_id: instance.get_run_by_id(run_id) for run_id in (first, second, other)}
    assert {r.job_name for r in runs.values() if r} == {"__ASSET_JOB"}
    assert {run_id: r.tags.get(TABLE_TAG) for run_id, r in runs.items() if r} == {
        first: "orders",
        second: "orders",
        other: "customers",
    }
    assert {r.status for r in runs.values() if r} == {dg.DagsterRunStatus.QUEUED}

    list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(workspace))

    status = {run_id: instance.get_run_by_id(run_id).status for run_id in runs}  # type: ignore[union-attr]
    assert status[first] == dg.DagsterRunStatus.STARTING  # dequeued and launched
    assert status[other] == dg.DagsterRunStatus.STARTING  # another table: not held back
    assert status[second] == dg.DagsterRunStatus.QUEUED  # same table: waits for the first


def test_only_sync_family_assets_name_tables(
    workspace: WorkspaceProcessContext,
) -> None:
    """The sender has no `sync_table`; a run over two syncs names both tables."""
    graph = workspace.create_request_context().asset_graph
    run = dg.DagsterRun(job_name="__ASSET_JOB", asset_selection={dg.AssetKey(["orders", "sender"])})
    assert run_tables(run, graph) == set()
    both = {dg.AssetKey(["orders", "applied"]), dg.AssetKey(["customers", "extract"])}
    run = dg.DagsterRun(job_name="__ASSET_JOB", asset_selection=both)
    assert run_tables(run, graph) == {"orders", "customers"}

"""The run queue, with the per-table tag on every run that materializes a sync's assets.

The sync jobs carry `sync_table=<table>` themselves. Runs Dagster builds from an asset selection
(Materialize in the UI: the implicit `__ASSET_JOB`; backfills; declarative automation) carry no
job tags, so this coordinator adds the tag when such a run is submitted, from the `sync_table`
metadata every asset of a sync family has. `dagster.yaml` then limits runs per tag value.

    run_coordinator:
      module: sync_pipeline.defs.coordinator
      class: SyncRunCoordinator
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.remote_asset_graph import (
        RemoteWorkspaceAssetGraph,
    )

TABLE_TAG = "sync_table"  # run tag, and definition metadata of every asset of a sync family


class SyncRunCoordinator(dg.QueuedRunCoordinator):
    """`QueuedRunCoordinator` (same config) that tags runs with the tables they write."""

    def submit_run(self, context: dg.SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        if TABLE_TAG not in run.tags:
            tables = run_tables(run, context.workspace.asset_graph)
            if tables:
                # several syncs in one run: one value naming all their tables (docs/dagster.md)
                self._instance.add_run_tags(run.run_id, {TABLE_TAG: ",".join(sorted(tables))})
        return super().submit_run(context)


def run_tables(run: dg.DagsterRun, graph: "RemoteWorkspaceAssetGraph") -> set[str]:
    """The `sync_table` metadata of the assets (and the checks' assets) the run materializes."""
    keys: Iterable[dg.AssetKey]
    if run.asset_selection is not None or run.asset_check_selection is not None:
        checks = run.asset_check_selection or ()
        keys = {*(run.asset_selection or ()), *(c.asset_key for c in checks)}
    else:  # a whole asset job: every asset in it
        keys = [n.key for n in graph.asset_nodes if run.job_name in n.job_names]
    tables = set()
    for key in keys:
        value = graph.get(key).metadata.get(TABLE_TAG) if graph.has(key) else None
        if value is not None:
            tables.add(str(getattr(value, "value", value)))
    return tables

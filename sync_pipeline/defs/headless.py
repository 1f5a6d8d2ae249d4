"""Run sync jobs in-process, without a webserver or daemon (used by the demo and scripts)."""

import os
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.resources import default_resources, target_kind
from sync_pipeline.syncs import load_syncs

# Dagster's own step logs would bury a summary; the run history keeps them.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True, slots=True)
class RunLine:
    """One headless run: which job and partition, whether it applied, and why not."""

    job: str
    partition: str
    success: bool
    counts: str
    failure: str


def run_jobs(runs: Iterable[tuple[str, str]]) -> list[RunLine]:
    """Run (job, partition key) pairs of the configured code location, one after the other.

    Uses the instance at $DAGSTER_HOME when set (so `dagster dev` shows the runs), else a
    throw-away one.
    """
    defs = build_location(load_syncs(), default_resources(), target_kind())
    home = bool(os.environ.get("DAGSTER_HOME"))
    with dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral() as instance:
        return [_run(defs, instance, job, key) for job, key in runs]


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, job: str, key: str) -> RunLine:
    result = defs.resolve_job_def(job).execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET
    )
    applied = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None and e.asset_key.path[-1] == "applied"
    ]
    counts = ""
    if applied:
        meta = {k: getattr(v, "value", v) for k, v in applied[0].metadata.items()}
        counts = " ".join(
            f"{k}={meta.get(k)}" for k in ("created", "updated", "unchanged", "batch_id")
        )
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    failure = f"checks {', '.join(failed)}" if failed else _error(result)
    return RunLine(job, key, result.success, counts, failure)


def _error(result: dg.ExecuteInProcessResult) -> str:
    """The root cause of the first failed step, when no check explains the failure."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return f"error in {event.step_key}: {error.message.strip()}"
    return ""

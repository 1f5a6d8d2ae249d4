"""One factory call per sync spec returns its whole family; the location merges them."""

import os
import warnings
from collections.abc import Iterable, Mapping

import dagster as dg

from sync_pipeline.defs.assets import build_assets
from sync_pipeline.defs.catalog import sender_asset
from sync_pipeline.defs.checks import build_checks
from sync_pipeline.defs.jobs import build_cleanup_job, build_prune_job, build_sync_job
from sync_pipeline.defs.schedules import build_prune_schedule, build_schedules
from sync_pipeline.defs.sensors import build_missing_sensor
from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.spec import SyncSpec

EXECUTOR_ENV = "SYNC_EXECUTOR"
EXECUTORS = ("in_process", "multiprocess", "celery")


def build_sync(spec: SyncSpec, target_kind: str = "sqlite") -> dg.Definitions:
    """The sender (external), assets, checks, jobs (prune_events with a retention), schedules and
    batch-id sensor."""
    sync_job = build_sync_job(spec)
    cleanup_job = build_cleanup_job(spec)
    prune_job = build_prune_job(spec)
    return dg.Definitions(
        assets=[sender_asset(spec), *build_assets(spec, target_kind)],
        asset_checks=build_checks(spec),
        jobs=[sync_job, cleanup_job, *([prune_job] if prune_job else [])],
        schedules=[*build_schedules(spec, sync_job), *build_prune_schedule(prune_job)],
        sensors=[build_missing_sensor(spec, cleanup_job)],
    )


def build_location(
    specs: Iterable[SyncSpec],
    resources: Mapping[str, object],
    target_kind: str = "sqlite",
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """Every sync plus shared resources; the executor defaults to `$SYNC_EXECUTOR` (in-process)."""
    with warnings.catch_warnings():
        # Known and accepted: backfill_policy is beta, partitioned checks are preview in 1.13.
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.Definitions.merge(
            *(build_sync(spec, target_kind) for spec in specs),
            dg.Definitions(resources=dict(resources), executor=executor or executor_from_env()),
        )


def executor_from_env() -> dg.ExecutorDefinition:
    """`$SYNC_EXECUTOR`: in_process (default: many small steps), multiprocess or celery.

    Each executor's own settings (max_concurrent, broker, queue) come from the run config's
    `execution: {config: ...}`.
    """
    name = os.environ.get(EXECUTOR_ENV) or "in_process"
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as error:
            raise ConfigError(
                f"${EXECUTOR_ENV}=celery needs dagster-celery: pip install 'sync-pipeline[celery]'"
            ) from error
        return celery_executor
    raise ConfigError(f"${EXECUTOR_ENV}={name!r} is not one of {', '.join(EXECUTORS)}")

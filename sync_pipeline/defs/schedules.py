"""Per sync: a schedule from its cron, or from its partitions (the latest complete day)."""

from typing import Any

import dagster as dg

from sync_pipeline.defs.jobs import SyncJob, sync_job_name
from sync_pipeline.syncs.spec import SyncSpec


def build_schedules(spec: SyncSpec, job: SyncJob) -> list[dg.ScheduleDefinition | Any]:
    """Daily partitions: each tick runs the day that just ended (cron optional). Static
    partitions: each cron tick runs every value. Unpartitioned: the cron, if any."""
    p = spec.partitioning
    name = f"{sync_job_name(spec)}_schedule"
    if p is not None and p.kind == "daily":
        minute, hour = (int(x) for x in (spec.schedule or "0 0 * * *").split()[:2])
        return [
            dg.build_schedule_from_partitioned_job(
                job, name=name, minute_of_hour=minute, hour_of_day=hour
            )
        ]
    if spec.schedule is None:
        return []
    if p is None:
        return [dg.ScheduleDefinition(name=name, job=job, cron_schedule=spec.schedule)]
    return [_static_schedule(spec, job, name)]


def _static_schedule(spec: SyncSpec, job: SyncJob, name: str) -> dg.ScheduleDefinition:
    assert spec.partitioning is not None and spec.schedule is not None
    values = spec.partitioning.values

    @dg.schedule(name=name, job=job, cron_schedule=spec.schedule)
    def every_value(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        tick = context.scheduled_execution_time.isoformat()
        return [dg.RunRequest(run_key=f"{v}:{tick}", partition_key=v) for v in values]

    return every_value


PRUNE_CRON = "17 3 * * *"  # daily, off the hour


def build_prune_schedule(job: dg.JobDefinition | None) -> list[dg.ScheduleDefinition]:
    """The daily run of a sync's prune_events job (none without a retention)."""
    if job is None:
        return []
    return [dg.ScheduleDefinition(name=f"{job.name}_schedule", job=job, cron_schedule=PRUNE_CRON)]

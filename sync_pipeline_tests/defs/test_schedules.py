"""Schedules ask for the right partition: the day that just ended, or every static value."""

import datetime as dt

import dagster as dg
import pytest

from sync_pipeline.definitions import defs as load_defs


@pytest.fixture
def repo() -> dg.RepositoryDefinition:
    return load_defs().get_repository_def()


def test_daily_schedule_tick_requests_the_previous_day(repo: dg.RepositoryDefinition) -> None:
    schedule = repo.get_schedule_def("orders_sync_schedule")
    assert schedule.cron_schedule == "15 1 * * *"
    with dg.instance_for_test() as instance:
        tick = dt.datetime(2026, 1, 5, 1, 15, tzinfo=dt.UTC)
        data = schedule.evaluate_tick(
            dg.build_schedule_context(
                instance=instance, scheduled_execution_time=tick, repository_def=repo
            )
        )
    assert [r.partition_key for r in data.run_requests or []] == ["2026-01-04"]


def test_static_schedule_tick_requests_every_region(repo: dg.RepositoryDefinition) -> None:
    schedule = repo.get_schedule_def("customers_sync_schedule")
    assert schedule.cron_schedule == "0 3 * * *"
    with dg.instance_for_test() as instance:
        tick = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
        data = schedule.evaluate_tick(
            dg.build_schedule_context(
                instance=instance, scheduled_execution_time=tick, repository_def=repo
            )
        )
    requests = data.run_requests or []
    assert [r.partition_key for r in requests] == ["eu", "us", "apac"]
    assert len({r.run_key for r in requests}) == 3

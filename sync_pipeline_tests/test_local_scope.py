"""A partition key given on the command line scopes a run as the Dagster partition does."""

import datetime as dt
import re

import pytest

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.local import find_sync, scope_of
from sync_pipeline.syncs.spec import Partitioning, SenderSpec, SyncSpec


def spec(partitioning: Partitioning | None) -> SyncSpec:
    return SyncSpec(
        name="orders", sender=SenderSpec("sql", {}), table="orders", partitioning=partitioning
    )


DAILY = Partitioning("daily", "ordered_at", start=dt.date(2026, 1, 1))
BERLIN = Partitioning("daily", "ordered_at", start=dt.date(2026, 1, 1), timezone="Europe/Berlin")
REGIONS = Partitioning("static", "region", values=("eu", "us"), target_column="area")


@pytest.mark.parametrize(
    ("partitioning", "key", "start", "end", "values"),
    [
        (DAILY, "2026-01-02", dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 3), ()),
        (BERLIN, "2026-01-02", dt.datetime(2026, 1, 1, 23), dt.datetime(2026, 1, 2, 23), ()),
        (REGIONS, "us", None, None, ("us",)),
    ],
)
def test_scope_of_a_partition_key(partitioning, key, start, end, values):
    scope = scope_of(spec(partitioning), key)
    assert scope is not None
    assert (scope.start, scope.end, scope.values) == (start, end, values)
    assert scope.target_column == partitioning.scope_column


@pytest.mark.parametrize(
    ("partitioning", "key", "message"),
    [
        (REGIONS, "uss", "no partition 'uss' (did you mean 'us'?)"),
        (DAILY, "yesterday", "is not a day (YYYY-MM-DD)"),
        (DAILY, "2025-12-31", "before the start 2026-01-01"),
        (None, "eu", "is not partitioned"),
    ],
)
def test_a_bad_partition_key_is_a_config_error(partitioning, key, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        scope_of(spec(partitioning), key)


def test_no_partition_key_means_the_whole_sender():
    assert scope_of(spec(DAILY), None) is None


def test_an_unknown_sync_names_the_closest():
    with pytest.raises(ConfigError, match=r"no sync 'order' \(did you mean 'orders'\?\)"):
        find_sync((spec(None),), "order")

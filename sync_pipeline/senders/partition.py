"""In-memory partition matching for senders that filter rows themselves (files, fake)."""

import datetime as dt
from typing import Any

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter


def _comparable(value: Any, bound: Any) -> Any:
    """A date compares with datetime bounds as its midnight; naive with aware as UTC."""
    if isinstance(bound, dt.datetime):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        if isinstance(value, dt.datetime):
            if value.tzinfo is None and bound.tzinfo is not None:
                value = value.replace(tzinfo=dt.UTC)
            elif value.tzinfo is not None and bound.tzinfo is None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def in_window(value: Any, partition: PartitionFilter) -> bool:
    """start <= value < end; None is never in a window."""
    if value is None:
        return False
    start, end = partition.start, partition.end
    try:
        return bool(_comparable(value, start) >= start and _comparable(value, end) < end)
    except TypeError:
        raise ConfigError(
            f"partition column {partition.column!r} must be typed date or datetime to filter a "
            f"time window (got {type(value).__name__})"
        ) from None

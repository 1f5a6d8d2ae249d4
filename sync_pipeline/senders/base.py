"""The one small protocol every sender implements."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class PartitionFilter:
    """Which part of the sender a run reads: a time window [start, end) or one static value."""

    column: str
    start: dt.datetime | dt.date | None = None
    end: dt.datetime | dt.date | None = None
    value: Any = None

    @classmethod
    def window(
        cls, column: str, start: dt.datetime | dt.date, end: dt.datetime | dt.date
    ) -> "PartitionFilter":
        return cls(column=column, start=start, end=end)

    @classmethod
    def static(cls, column: str, value: Any) -> "PartitionFilter":
        return cls(column=column, value=value)

    @property
    def is_window(self) -> bool:
        return self.start is not None


@runtime_checkable
class Sender(Protocol):
    """Reads a batch as a stream of Arrow chunks, so memory does not grow with the source."""

    name: str

    def read(self, partition: PartitionFilter | None = None) -> Iterator[pa.Table]:
        """Yield the batch in chunks; every chunk has the same columns."""
        ...

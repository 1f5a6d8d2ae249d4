"""FakeSender: records or Arrow tables held in memory, for tests and examples."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter
from sync_pipeline.senders.partition import in_window


class FakeSender:
    """Delivers the given records (or tables) in chunks; counts its reads.

    Config keys (build_sender("fake", ...)): name, records (list of dicts) or tables (list of
    Arrow tables), chunk_size (default: one chunk per table / all records at once).
    """

    def __init__(
        self,
        name: str = "fake",
        records: Sequence[Mapping[str, Any]] | None = None,
        tables: Sequence[pa.Table] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        if records is not None and tables is not None:
            raise ConfigError("FakeSender takes records= or tables=, not both")
        self.name = name
        self.tables = (
            list(tables) if tables is not None else [pa.Table.from_pylist(list(records or []))]
        )
        self.chunk_size = chunk_size
        self.reads = 0

    def read(self, partition: PartitionFilter | None = None) -> Iterator[pa.Table]:
        """Yield the tables (split by chunk_size), filtered by the partition if given."""
        self.reads += 1
        for table in self.tables:
            table = _filter(table, partition) if partition is not None else table
            if self.chunk_size is None:
                yield table
                continue
            for start in range(0, max(table.num_rows, 1), self.chunk_size):
                yield table.slice(start, self.chunk_size)


def _filter(table: pa.Table, partition: PartitionFilter) -> pa.Table:
    column = partition.column
    if column not in table.column_names:
        raise ConfigError(f"partition column {column!r} is not in {table.column_names}")
    values = table.column(column).to_pylist()
    if partition.is_window:
        keep = [in_window(v, partition) for v in values]
    else:
        keep = [v == partition.value for v in values]
    return table.filter(pa.array(keep, type=pa.bool_()))

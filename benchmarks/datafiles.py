"""The generated workload as Parquet files (batch1, batch2, expected) in a gitignored directory.

Written block by block (see generate.iter_blocks), so 10M rows need about as much memory as 1M.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.generate import DEFAULT_SEED, iter_blocks

NAMES = ("batch1", "batch2", "expected")


def write_parquet(rows: int, directory: Path, seed: int = DEFAULT_SEED) -> None:
    """Generate and write the workload for `rows` rows; files appear only once complete."""
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for block in iter_blocks(rows, seed):
            for name in NAMES:
                table: pa.Table = getattr(block, name)
                if name not in writers:
                    part = directory / f"{name}.parquet.part"
                    writers[name] = pq.ParquetWriter(part, table.schema, compression="zstd")
                writers[name].write_table(table)
    finally:
        for w in writers.values():
            w.close()
    for name in NAMES:
        (directory / f"{name}.parquet.part").rename(directory / f"{name}.parquet")


def complete(directory: Path) -> bool:
    return all((directory / f"{n}.parquet").exists() for n in NAMES)


def read_parquet(directory: Path, name: str) -> pa.Table:
    return pq.read_table(directory / f"{name}.parquet")

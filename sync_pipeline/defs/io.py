"""Staged batches between steps as Parquet files, one per partition or partition range.

The default pickle IO manager cannot store one output for several partitions, which a
single-run range backfill produces. Here a range is one file named after its first and last
key; a downstream step in the same run loads exactly that file, and a step that asks for a range
materialized one partition at a time gets the per-partition files concatenated.
"""

from pathlib import Path

import dagster as dg
import pandas as pd


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores DataFrames under `<base_dir>/<asset key path>/<partition or range>.parquet`."""

    base_dir: str

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        path = self._path(context, self._keys(context))
        path.parent.mkdir(parents=True, exist_ok=True)
        obj.to_parquet(path, index=False)
        context.add_output_metadata({"staged_path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        keys = self._keys(context)
        path = self._path(context, keys)
        if path.exists():
            return pd.read_parquet(path)
        if len(keys) > 1:
            parts = [self._path(context, [k]) for k in keys]
            if all(p.exists() for p in parts):
                return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        raise FileNotFoundError(
            f"no staged batch at {path}: materialize the upstream asset for "
            f"{keys or 'this asset'} first"
        )

    @staticmethod
    def _keys(context: dg.OutputContext | dg.InputContext) -> list[str]:
        return list(context.asset_partition_keys) if context.has_asset_partitions else []

    def _path(self, context: dg.OutputContext | dg.InputContext, keys: list[str]) -> Path:
        return Path(self.base_dir).joinpath(*context.asset_key.path) / f"{_name(keys)}.parquet"

    def diff_dir(self, key: dg.AssetKey, keys: list[str]) -> Path:
        """Where a diff asset stages its BatchDiff for these partition keys (a directory)."""
        return Path(self.base_dir).joinpath(*key.path) / f"{_name(keys)}.diff"


def _name(keys: list[str]) -> str:
    """`all`, the partition key, or `first...last` for a range."""
    if not keys:
        return "all"
    return keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]}"

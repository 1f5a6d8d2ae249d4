"""Staged batches between steps: each step writes its Arrow chunks straight into a staging
location as they arrive; the IO manager hands the next step only the handle (a StagedBatch).

`base_dir` is a local folder or any fsspec URL (`s3://bucket/staging`, `memory://...`), so steps
on different hosts share it. One dataset per partition or partition range: a single-run range
backfill stages one dataset named after its first and last key, which a downstream step of the
same run reads; a step that asks for a range materialized one partition at a time reads the
per-partition datasets one after another.
"""

import tempfile
from pathlib import Path

import dagster as dg
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from sync_pipeline.syncs import staging
from sync_pipeline.syncs.staging import StagedBatch


class StagingIOManager(dg.ConfigurableIOManager):
    """Hands on `StagedBatch` handles to `<base_dir>/<asset key path>/<partition or range>/`."""

    base_dir: str

    def location(self, key: dg.AssetKey, keys: list[str]) -> str:
        """Where an asset stages its chunks for these partition keys (a dataset folder)."""
        return "/".join([self.base_dir.rstrip("/"), *key.path, _name(keys)])

    def handle_output(self, context: dg.OutputContext, obj: StagedBatch | None) -> None:
        if obj is None:
            return
        context.add_output_metadata({"staged_path": dg.MetadataValue.path(obj.locations[0])})

    def load_input(self, context: dg.InputContext) -> StagedBatch:
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else []
        found = self.location(context.asset_key, keys)
        if staging.exists(found):
            return StagedBatch((found,))
        parts = [self.location(context.asset_key, [k]) for k in keys]
        if len(keys) > 1 and all(staging.exists(p) for p in parts):
            return StagedBatch(tuple(parts))
        raise FileNotFoundError(
            f"no staged batch at {found}: materialize the upstream asset for "
            f"{keys or 'this asset'} first"
        )

    def diff_dir(self, key: dg.AssetKey, keys: list[str]) -> Path:
        """Where a diff asset stages its BatchDiff for these partition keys (a local directory:
        under `base_dir` when that is local, else under the system's temporary folder)."""
        fs, root = url_to_fs(self.base_dir)
        base = Path(root) if isinstance(fs, LocalFileSystem) else _remote_diffs(self.base_dir)
        return base.joinpath(*key.path) / f"{_name(keys)}.diff"


def _remote_diffs(base_dir: str) -> Path:
    return Path(tempfile.gettempdir()) / "sync_pipeline_diffs" / base_dir.replace("://", "/")


def _name(keys: list[str]) -> str:
    """`all`, the partition key, or `first...last` for a range."""
    if not keys:
        return "all"
    return keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]}"

"""The engine's sync as a Dagster run: one in-process asset that calls engine_sync.

(No `from __future__ import annotations` here: Dagster reads the asset's annotations at runtime.)
"""

from typing import Any

import dagster as dg
import pyarrow as pa

from benchmarks.integration import engine_sync, result_counts


def dagster_sync(engine_url: str, table: str, batch: pa.Table) -> Any:
    """Materialize a one-asset job on an ephemeral instance; returns the engine's ImportResult."""
    box: dict[str, Any] = {}

    @dg.asset(name=f"{table}_sync", kinds={"postgres"})
    def sync_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        result = engine_sync(engine_url, table, batch)
        box["result"] = result
        counts = {k: v for k, v in result_counts(result).items() if isinstance(v, int)}
        return dg.MaterializeResult(metadata=counts)

    dg.materialize([sync_asset], raise_on_error=True)
    return box["result"]

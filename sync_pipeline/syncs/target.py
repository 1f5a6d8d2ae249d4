"""Fit a batch to its target table before the engine sees it: the sync's drift policy."""

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.senders.drift import reconcile_drift
from sync_pipeline.syncs.spec import SyncSpec


def delete_flag(spec: SyncSpec) -> str | None:
    """The sync's hard-delete flag column (a sender column, never a target column)."""
    flag = spec.options.get("delete_flag") or spec.sender.config.get("delete_flag")
    return str(flag) if flag else None


def fit_to_target(engine: sa.Engine, spec: SyncSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply `drift`: 'error' leaves unknown columns to the engine's error, 'ignore' drops them,
    'add_columns' adds them to the table (nullable, typed from the batch)."""
    if spec.drift == "error" or frame.columns.empty:
        return frame
    flag = delete_flag(spec)
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    report = reconcile_drift(engine, spec.table, schema, spec.drift, ignore=[flag] if flag else [])
    return frame.drop(columns=list(report.drop_columns))

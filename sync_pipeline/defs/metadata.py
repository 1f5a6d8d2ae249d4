"""Turn frames and engine results into Dagster metadata (numbers stay numbers for the plots)."""

from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from sync_pipeline import events
from sync_pipeline.syncs.rules import RuleOutcome
from sync_pipeline.syncs.runner import Scope

PREVIEW_ROWS = 20
_COUNTS = ("created", "updated", "unchanged", "skipped", "missing", "deleted")


def frame_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    """Row count and column schema of a staged batch."""
    columns = [dg.TableColumn(str(c), str(t)) for c, t in frame.dtypes.items()]
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": dg.TableSchema(columns=columns),
    }


def scope_metadata(scope: Scope | None) -> dict[str, Any]:
    if scope is None:
        return {"scope": "whole table"}
    return {"scope": scope.describe(), **scope.as_metadata()}


def diff_metadata(diff: Any, preview_rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Counts of the planned diff plus a markdown preview of its first changes."""
    counts = {
        name: dg.MetadataValue.int(int(getattr(diff, name)))
        for name in ("added", "changed", "unchanged", "missing", "skipped", "total")
    }
    return {**counts, "preview": dg.MetadataValue.md(diff_markdown(diff.preview(preview_rows)))}


def diff_markdown(entries: list[Any]) -> str:
    """| effect | key | changes (field: old → new) | for the first entries of a diff."""
    if not entries:
        return "_no changes_"
    lines = ["| effect | key | changes |", "|---|---|---|"]
    for entry in entries:
        changes = "<br>".join(
            f"`{field}`: {_cell(old)} → {_cell(new)}" for field, (old, new) in entry.changes.items()
        )
        lines.append(f"| {entry.effect} | {_cell(entry.key)} | {changes} |")
    return "\n".join(lines)


def result_metadata(result: Any) -> dict[str, Any]:
    """ImportResult counts (as ints, so the UI plots them), batch id, txid on Postgres."""
    meta: dict[str, Any] = {
        name: dg.MetadataValue.int(int(getattr(result, name, 0) or 0)) for name in _COUNTS
    }
    meta["errors"] = dg.MetadataValue.int(len(result.errors))
    meta["batch_id"] = dg.MetadataValue.int(int(result.batch_id))
    if result.txid is not None:
        meta["txid"] = dg.MetadataValue.int(int(result.txid))
    if result.errors:
        sample = [f"{reason}: {_cell(record)}" for record, reason in result.errors[:10]]
        meta["error_sample"] = dg.MetadataValue.md("\n".join(f"- {s}" for s in sample))
    return meta


def events_metadata(engine: sa.Engine, result: Any) -> dict[str, Any]:
    """How many change events the write recorded and the stream position of the last one."""
    count = int(getattr(result, "events", 0) or 0)
    meta: dict[str, Any] = {"events": dg.MetadataValue.int(count)}
    if count:  # events off: no query at all
        txid = result.txid
        position = events.last_position(
            engine, **({"txid": txid} if txid is not None else {"batch_id": result.batch_id})
        )
        if position is not None:
            meta["last_event_position"] = str(position)
    return meta


def table_metadata(engine: sa.Engine, table_name: str) -> dict[str, Any]:
    """Row count and schema of the target table itself (what `applied` stands for)."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    columns = [dg.TableColumn(c.name, str(c.type)) for c in table.columns]
    return {
        "dagster/row_count": dg.MetadataValue.int(int(count)),
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "dagster/table_name": table_name,
    }


def outcome_metadata(outcome: RuleOutcome) -> dict[str, Any]:
    """Evidence of a rule: how many rows offend and a sample of their keys."""
    meta: dict[str, Any] = {"failed_rows": dg.MetadataValue.int(outcome.failures)}
    if outcome.sample:
        meta["sample_keys"] = dg.MetadataValue.json(list(outcome.sample))
    if outcome.detail:
        meta["detail"] = outcome.detail
    if outcome.evidence:
        meta["evidence"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in outcome.evidence))
    return meta


def _cell(value: Any, limit: int = 60) -> str:
    text = repr(value)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")

"""Turn staged batches and engine results into Dagster metadata (numbers stay numbers for the
plots; a batch is described from its footers and first chunk, never read whole)."""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import dagster as dg
import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline import events
from sync_pipeline.engine.diff import BatchDiff
from sync_pipeline.engine.results import ImportResult
from sync_pipeline.syncs import scope as scopes
from sync_pipeline.syncs.rules import RuleOutcome
from sync_pipeline.syncs.scope import Scope
from sync_pipeline.syncs.staging import StagedBatch

PREVIEW_ROWS = 20
_COUNTS = ("created", "updated", "unchanged", "skipped", "missing", "deleted")


def batch_metadata(batch: StagedBatch, preview_rows: int = 5) -> dict[str, Any]:
    """Row count and Arrow schema of a staged batch (from the files' headers) and its first
    rows as a markdown preview (from the first chunk; the batch is never read whole)."""
    schema = batch.schema
    columns = [dg.TableColumn(f.name, str(f.type)) for f in schema]
    return {
        "dagster/row_count": dg.MetadataValue.int(batch.num_rows),
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "rows_preview": dg.MetadataValue.md(rows_markdown(batch.head(preview_rows))),
    }


def rows_markdown(rows: pa.Table) -> str:
    """| column | ... | with one line per row; `_no rows_` for none."""
    if not rows.num_rows:
        return "_no rows_"
    lines = ["| " + " | ".join(_escape(n) for n in rows.column_names) + " |"]
    lines.append("|" + "---|" * rows.num_columns)
    lines += ["| " + " | ".join(_cell(v) for v in row.values()) + " |" for row in rows.to_pylist()]
    return "\n".join(lines)


def scope_metadata(scope: Scope | None) -> dict[str, Any]:
    """The run's scope, readable and encoded (read back by the missing-rows sensor and check)."""
    return dict(scopes.scope_metadata(scope))


def plain_metadata(metadata: Mapping[str, object]) -> dict[str, object]:
    """Recorded metadata with each MetadataValue unwrapped to its Python value."""
    return {k: getattr(v, "value", v) for k, v in metadata.items()}


def diff_metadata(diff: BatchDiff, preview_rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Counts of the planned diff plus a markdown preview of its first changes."""
    counts = {
        name: dg.MetadataValue.int(int(getattr(diff, name)))
        for name in ("added", "changed", "unchanged", "missing", "skipped", "total")
    }
    return {**counts, "preview": preview_value(diff, preview_rows)}


def preview_value(diff: BatchDiff, preview_rows: int = PREVIEW_ROWS) -> dg.MarkdownMetadataValue:
    """The first changes of a diff as a markdown table (on `diff` and on `applied`)."""
    return dg.MetadataValue.md(diff_markdown(diff.preview(preview_rows)))


def diff_markdown(entries: list[Any]) -> str:
    """| effect | key | field | old | new |, one row per changed field of the first entries."""
    if not entries:
        return "_no changes_"
    lines = ["| effect | key | field | old | new |", "|---|---|---|---|---|"]
    for entry in entries:
        key = _key_cell(entry.key if entry.key is not None else entry.pk)
        changes = entry.changes.items() or [("", (None, None))]
        for field, (old, new) in changes:
            before = "" if entry.effect == "added" or not field else _cell(old)
            after = _cell(new) if field else ""
            lines.append(f"| {entry.effect} | {key} | {_escape(field)} | {before} | {after} |")
    return "\n".join(lines)


def text(value: Any) -> str:
    """A value as a person reads it: 311.99, 2026-01-07 07:50, paid (no quotes, no reprs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        whole_minute = value.second == 0 and value.microsecond == 0
        shown = value.strftime("%Y-%m-%d %H:%M") if whole_minute else value.isoformat(sep=" ")
        offset = value.strftime("%z") if whole_minute and value.tzinfo is not None else ""
        return f"{shown}{'' if not offset else ' ' + offset}"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple):
        return ", ".join(text(v) for v in value)
    return str(value)


def result_metadata(result: ImportResult) -> dict[str, Any]:
    """ImportResult counts (as ints, so the UI plots them), batch id, txid on Postgres."""
    meta: dict[str, Any] = {
        name: dg.MetadataValue.int(int(getattr(result, name, 0) or 0)) for name in _COUNTS
    }
    meta["errors"] = dg.MetadataValue.int(len(result.errors))
    if result.batch_id is not None:
        meta["batch_id"] = dg.MetadataValue.int(result.batch_id)
    if result.txid is not None:
        meta["txid"] = dg.MetadataValue.int(int(result.txid))
    if result.errors:
        sample = [f"{reason}: {_cell(record)}" for record, reason in result.errors[:10]]
        meta["error_sample"] = dg.MetadataValue.md("\n".join(f"- {s}" for s in sample))
    return meta


def events_metadata(engine: sa.Engine, result: ImportResult) -> dict[str, Any]:
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
    """Evidence of a rule: the rule in words, how many rows offend, and a table of sample keys
    with their offending values (or just the keys, or what failed for the batch as a whole)."""
    meta: dict[str, Any] = {"failed_rows": dg.MetadataValue.int(outcome.failures)}
    if outcome.wording:
        meta["rule"] = outcome.wording
    if outcome.passed:
        return meta
    meta["evidence"] = dg.MetadataValue.md(evidence_markdown(outcome))
    return meta


def evidence_markdown(outcome: RuleOutcome) -> str:
    """`**amount between 0 and 100000**: 3 rows fail` and | key | field | value | rows."""
    rows = "row" if outcome.failures == 1 else "rows"
    parts = [f"**{_escape(outcome.wording or outcome.rule)}**: {outcome.failures} {rows} fail"]
    if outcome.cases:
        label = _escape(", ".join(outcome.key_names) or "row")
        lines = [f"| {label} | field | value |", "|---|---|---|"]
        lines += [f"| {_cell(k)} | {_escape(c)} | {_cell(v)} |" for k, c, v in outcome.cases]
        return "\n\n".join([*parts, "\n".join(lines)])
    if outcome.detail:
        parts.append(_escape(outcome.detail))
    if outcome.sample:
        parts.append(
            "\n".join(["| sample |", "|---|", *(f"| {_cell(s)} |" for s in outcome.sample)])
        )
    return "\n\n".join(parts)


def _key_cell(key: Any) -> str:
    return "" if key is None else _cell(key)


def _cell(value: Any, limit: int = 60) -> str:
    """A value as one markdown table cell: text, cut at `limit` characters, `|` and newlines
    escaped; null in italics so that it differs from the text "null"."""
    if value is None:
        return "_null_"
    shown = text(value)
    if shown == "":
        return '""'
    return _escape(shown if len(shown) <= limit else shown[: limit - 1] + "…")


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#&"} | {"\n": "\\n", "\r": "\\r"})


def _escape(shown: str) -> str:
    """Markdown-inert text: `|` cannot end a cell, a newline cannot end a row."""
    return shown.translate(_MARKDOWN)

"""InboxSender: a folder of client transaction files (TanStack DB JSON by default).

Files are taken in name order. A file is moved to `processed/` only after its transaction was
applied, and to `failed/` (with `<name>.error.json` beside it) when it was rejected; any other
failure (e.g. the database is down) leaves the file where it is, so the next run retries it.

Config keys (build_sender("inbox", ...)): path (the folder), pattern (default "*.json"),
format ("tanstack-db" or "operations"), name (default: the folder name).
"""

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from sync_pipeline.engine.mutations import Limits, Transaction, Writer, WriteRejected
from sync_pipeline.engine.mutations.operations import parse_transaction
from sync_pipeline.senders.base import PartitionFilter
from sync_pipeline.senders.errors import SenderError

_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("index", pa.int64()),
        ("operation", pa.string()),
        ("relation", pa.string()),
        ("data", pa.json_(pa.string())),
        ("changes", pa.json_(pa.string())),
    ]
)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One inbox file: its parsed transaction, or the parse rejection."""

    path: Path
    transaction: Transaction | None
    error: WriteRejected | None = None


@dataclass(frozen=True, slots=True)
class InboxReport:
    applied: list[tuple[str, int | None]] = field(default_factory=list)  # (file, txid)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, message)


class InboxSender:
    """Reads transaction files from a folder; see apply_all() for the write path."""

    def __init__(
        self,
        path: str | Path,
        *,
        pattern: str = "*.json",
        format: str = "tanstack-db",
        name: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.folder = Path(path)
        self.pattern = pattern
        self.format = format
        self.name = name or self.folder.name
        self.limits = limits or Limits()

    def files(self) -> list[Path]:
        """Pending files, in name order."""
        if not self.folder.is_dir():
            raise SenderError(f"inbox folder {str(self.folder)!r} does not exist")
        return sorted(p for p in self.folder.glob(self.pattern) if p.is_file())

    def transactions(self) -> Iterator[InboxItem]:
        """Each pending file, parsed (a parse failure is carried on the item, not raised)."""
        for path in self.files():
            try:
                payload = path.read_bytes()
                txn = parse_transaction(payload, format=self.format, limits=self.limits)
                yield InboxItem(path, txn)
            except WriteRejected as exc:
                yield InboxItem(path, None, exc)

    def read(self, partition: PartitionFilter | None = None) -> Iterator[pa.Table]:
        """One Arrow table of operations per file (for lineage and previews)."""
        for item in self.transactions():
            if item.transaction is None:
                raise SenderError(f"{item.path}: {item.error}")
            rows: list[dict[str, Any]] = [
                {
                    "file": item.path.name,
                    "index": op.index,
                    "operation": op.operation,
                    "relation": op.relation
                    if isinstance(op.relation, str)
                    else ".".join(op.relation),
                    "data": json.dumps(op.data, default=str),
                    "changes": json.dumps(op.changes, default=str),
                }
                for op in item.transaction.operations
            ]
            yield pa.Table.from_pylist(rows, schema=_SCHEMA)

    def ack(self, item: InboxItem) -> Path:
        """Move an applied file to processed/ (call only after success)."""
        return _move(item.path, self.folder / "processed")

    def reject(self, item: InboxItem, message: str) -> Path:
        """Move a rejected file to failed/ and write the reason next to it."""
        moved = _move(item.path, self.folder / "failed")
        note = moved.with_name(moved.name + ".error.json")
        note.write_text(json.dumps({"file": item.path.name, "error": message}))
        return moved

    def apply_all(self, writer: Writer, target: sa.Engine | sa.Connection | str) -> InboxReport:
        """Apply every pending file in name order, one transaction each; returns what happened."""
        report = InboxReport()
        for item in self.transactions():
            if item.transaction is None:
                report.rejected.append((item.path.name, str(item.error)))
                self.reject(item, str(item.error))
                continue
            try:
                result = writer.apply(item.transaction, target)
            except WriteRejected as exc:
                report.rejected.append((item.path.name, str(exc)))
                self.reject(item, str(exc))
                continue
            self.ack(item)
            report.applied.append((item.path.name, result.txid))
        return report


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    shutil.move(str(path), str(target))
    return target

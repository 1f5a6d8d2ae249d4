"""Untrusted client mutation batches (semantics §3.8): Writer, WriteRejected, parsed shapes."""

from sync_pipeline.engine.mutations.errors import STEPS, WriteRejected
from sync_pipeline.engine.mutations.operations import (
    FORMATS,
    Limits,
    Operation,
    Transaction,
    parse_transaction,
    tanstack_db,
)
from sync_pipeline.engine.mutations.pipeline import Change, Context
from sync_pipeline.engine.mutations.writer import Writer, WriteResult

__all__ = [
    "FORMATS",
    "STEPS",
    "Change",
    "Context",
    "Limits",
    "Operation",
    "Transaction",
    "WriteRejected",
    "WriteResult",
    "Writer",
    "parse_transaction",
    "tanstack_db",
]

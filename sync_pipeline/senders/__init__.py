"""Senders deliver batches of records: one module per kind, all behind `Sender` (base.py)."""

from sync_pipeline.senders.base import PartitionFilter, Sender

__all__ = ["PartitionFilter", "Sender"]

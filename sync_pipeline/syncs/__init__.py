"""Sync specs (frozen, plain Python), their YAML loader, rules and the steps assets call."""

from sync_pipeline.errors import SyncConfigError
from sync_pipeline.syncs.loader import config_path, load_syncs, parse_syncs
from sync_pipeline.syncs.spec import CallableRef, Partitioning, Rule, SenderSpec, SyncSpec

__all__ = [
    "CallableRef",
    "Partitioning",
    "Rule",
    "SenderSpec",
    "SyncConfigError",
    "SyncSpec",
    "config_path",
    "load_syncs",
    "parse_syncs",
]

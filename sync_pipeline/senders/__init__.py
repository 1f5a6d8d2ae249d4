"""Senders deliver batches of records: one module per kind, all behind `Sender` (base.py).

build_sender(kind, **config) builds one from plain config (e.g. YAML):
    "sql"    -> SqlSender(url, table | query, columns, rename, cursor_column, cursor_store,
                          name, chunk_size, delete_flag)
    "files"  -> FileSender(path, format, types, columns, rename, delete_flag, chunk_size,
                           delimiter, encoding, name)
    "inbox"  -> InboxSender(path, pattern, format, name)
    "fake"   -> FakeSender(name, records | tables, chunk_size)
See each class's docstring for the keys.
"""

from typing import Any, Literal, get_args

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.base import PartitionFilter, Sender

SenderKind = Literal["sql", "files", "inbox", "fake"]
SENDER_KINDS: tuple[str, ...] = get_args(SenderKind)


def sender_class(kind: str) -> type[Any]:
    """The class behind a sender kind; an unknown kind raises ConfigError listing the kinds."""
    if kind == "sql":
        from sync_pipeline.senders.sql import SqlSender as cls
    elif kind == "files":
        from sync_pipeline.senders.files import FileSender as cls  # type: ignore[assignment]
    elif kind == "inbox":
        from sync_pipeline.senders.inbox import InboxSender as cls  # type: ignore[assignment]
    elif kind == "fake":
        from sync_pipeline.senders.fake import FakeSender as cls  # type: ignore[assignment]
    else:
        raise ConfigError(f"unknown sender kind {kind!r}; use one of {SENDER_KINDS}")
    return cls


def build_sender(kind: str, **config: Any) -> Sender:
    """Construct a sender of `kind` from keyword config; unknown kinds or keys raise ConfigError."""
    cls = sender_class(kind)
    try:
        sender: Sender = cls(**config)
    except TypeError as exc:
        raise ConfigError(f"bad config for a {kind!r} sender: {exc}") from None
    return sender


__all__ = ["SENDER_KINDS", "PartitionFilter", "Sender", "build_sender", "sender_class"]

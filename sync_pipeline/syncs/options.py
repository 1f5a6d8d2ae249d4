"""A sync's engine options as `import_records` keywords: one function for load-time checks and runs.

The loader passes these keywords to the engine's own validator (ImportOptions.from_kwargs) when
the code location loads; a run passes the very same keywords to BatchImport.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from sync_pipeline.engine.spec import COPY
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.spec import SyncSpec, UpdateRule
from sync_pipeline.syncs.target import delete_flag


def import_kwargs(spec: SyncSpec) -> dict[str, Any]:
    """Every engine option of the sync except strategy and `where`, with callables imported."""
    kwargs: dict[str, Any] = {k: v for k, v in spec.options.items() if k != "where"}
    kwargs["batch_column"] = spec.batch_column
    if spec.match_by is not None:
        kwargs["match_by"] = (
            {f: _load(spec.key_functions.get(f)) for f in spec.match_by}
            if spec.key_functions
            else list(spec.match_by)
        )
    if spec.update_if_exists is not None:
        kwargs["update_if_exists"] = update_values(spec.update_if_exists)
    if spec.comparators:
        kwargs["comparators"] = {c: ref.load() for c, ref in spec.comparators.items()}
    if spec.comparison_key is not None:
        kwargs["comparison_key"] = spec.comparison_key.load()
    kwargs.update({name: ref.load() for name, ref in spec.callbacks.items()})
    # the sync's hard-delete flag (or its sender's): soft-deletes under soft_delete, else deletes
    flag = delete_flag(spec)
    if flag:
        kwargs["delete_flag"] = flag
    kwargs["delete_mode"] = "soft_delete" if spec.missing == "soft_delete" else "delete"
    kwargs["soft_delete_column"] = spec.deleted_column
    return kwargs


def update_values(rules: Mapping[str, UpdateRule] | tuple[str, ...]) -> Any:
    """update_if_exists for the engine: a list of fields, or {field: value | clause | callable}."""
    if not isinstance(rules, Mapping):
        return list(rules)
    if all(rule.kind == "copy" for rule in rules.values()):
        return list(rules)
    out: dict[str, Any] = {}
    for name, rule in rules.items():
        if rule.kind == "copy":
            out[name] = COPY
        elif rule.kind == "sql":
            out[name] = sa.text(rule.value)
        elif rule.kind == "function":
            out[name] = rule.value.load()
        else:
            out[name] = rule.value
    return out


def where_clause(where: Mapping[str, Any] | None, scope: Any) -> Any:
    """The sync's fixed `where: {column: value}` and a run's partition scope, as one clause."""
    if not where:
        return scope
    if scope is None:
        return dict(where)
    parts: list[Any] = [
        sa.column(name).is_(None) if value is None else sa.column(name) == value
        for name, value in where.items()
    ]
    return sa.and_(*parts, scope)


def events_option(events: bool | cfg.EventsConfig) -> dict[str, Any]:
    """The engine's `events` option: True, or {"keys": [...]} (off: no option at all)."""
    if events is False:
        return {}
    if events is True or not events.keys:
        return {"events": True}
    return {"events": {"keys": list(events.keys)}}


def events_retention(events: bool | cfg.EventsConfig) -> dt.timedelta | None:
    """How long the target keeps events (`retention_days`), or None: kept until pruned."""
    if isinstance(events, bool) or events.retention_days is None:
        return None
    return dt.timedelta(days=events.retention_days)


def _load(ref: Any) -> Any:
    return ref.load() if ref is not None else None

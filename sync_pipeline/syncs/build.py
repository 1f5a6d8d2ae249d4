"""A validated YAML shape (config.SyncConfig) -> SyncSpec, checking what shapes cannot say.

Callables are imported (refs.py), the sender is built (without connecting), rules and partitions
get their per-kind checks, and the engine options go through the engine's own validator, all at
load time.
"""

import dataclasses
import inspect
import re
from collections.abc import Mapping
from typing import Any

from sync_pipeline.engine.spec import ImportOptions, Strategy
from sync_pipeline.errors import ConfigError, SyncConfigError, did_you_mean
from sync_pipeline.senders import SENDER_KINDS, build_sender, sender_class
from sync_pipeline.syncs import catalog
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.options import events_option, events_retention, import_kwargs
from sync_pipeline.syncs.refs import (
    Fail,
    callbacks,
    comparator,
    key_functions,
    load_ref,
    update_rules,
)
from sync_pipeline.syncs.spec import (
    Partitioning,
    Rule,
    SenderSpec,
    SyncSpec,
    TargetSpec,
    frozen_mapping,
)

_DAILY_CRON = re.compile(r"^([0-5]?\d) ([01]?\d|2[0-3]) \* \* \*$")
# Engine options passed to the engine as written in YAML.
_PLAIN = (
    "case_sensitive",
    "null_keys",
    "duplicates",
    "batch_mode",
    "on_error",
    "chunk_size",
    "callback_chunk_size",
    "on_updated_when",
    "delete_flag",
    "where",
)


def build_spec(model: cfg.SyncConfig) -> SyncSpec:
    """The frozen spec of one validated sync shape; SyncConfigError names the failing field."""
    name = model.name

    def fail(field: str, reason: str) -> SyncConfigError:
        return SyncConfigError(name, field, reason)

    spec = SyncSpec(
        name=name,
        sender=_sender(fail, name, model.sender),
        table=model.table,
        match_by=_names(model.match_by),
        strategy=model.strategy or "skip",
        update_if_exists=update_rules(fail, model.update_if_exists),
        comparators=frozen_mapping(
            {c: comparator(fail, v, f"comparators.{c}") for c, v in model.comparators.items()}
        ),
        key_functions=key_functions(fail, model.match_by),
        comparison_key=load_ref(fail, model.comparison_key, "comparison_key"),
        callbacks=callbacks(fail, model.callbacks),
        options=frozen_mapping(
            {k: getattr(model, k) for k in _PLAIN if getattr(model, k) is not None}
            | events_option(model.events)
        ),
        target=_target(fail, model.target),
        create_table=model.create_table,
        primary_key=_names(model.primary_key),
        drift=model.drift,
        columns=frozen_mapping(model.columns),
        transforms=frozen_mapping(
            {c: load_ref(fail, v, f"transforms.{c}") for c, v in model.transforms.items()}
        ),
        rules=_rules(fail, model.rules),
        partitioning=_partitioning(fail, model.partitioning),
        schedule=_cron(fail, model.schedule, daily=_is_daily(model)),
        missing=model.missing,
        batch_column=model.batch_column,
        deleted_column=model.deleted_column,
        description=model.description,
        events_retention=events_retention(model.events),
        owners=catalog.owners(fail, model.owners),
        tags=catalog.tags(fail, model.tags),
        freshness=catalog.freshness(fail, model.freshness),
    )
    return dataclasses.replace(spec, strategy=_engine_check(fail, spec, model.strategy))


def _engine_check(fail: Fail, spec: SyncSpec, strategy: str | None) -> Strategy:
    """The engine's validator, on the keywords a run passes; returns the resolved strategy."""
    try:
        options = ImportOptions.from_kwargs(
            strategy, where=spec.options.get("where"), **import_kwargs(spec)
        )
    except ConfigError as exc:
        raise fail(_option_named(str(exc)), str(exc)) from None
    return options.strategy


def _option_named(message: str) -> str:
    """The first option name an engine error mentions (the field to blame)."""
    names = [*cfg.SyncConfig.model_fields, "strategy"]
    found = [(m.start(), n) for n in names if (m := re.search(rf"\b{n}\b", message))]
    return min(found)[1] if found else "options"


def _names(value: str | list[str] | Mapping[str, Any] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _target(fail: Fail, value: cfg.TargetConfig | None) -> TargetSpec | None:
    if value is None:
        return None
    if (value.url is None) == (value.url_env is None):
        raise fail("target", "give exactly one of url (a SQLAlchemy URL) or url_env (a variable)")
    return TargetSpec(url=value.url, url_env=value.url_env)


def _sender(fail: Fail, name: str, value: cfg.SenderConfig) -> SenderSpec:
    """Check the kind and its options by building the sender (a sender never connects here)."""
    kind, options = value.kind, dict(value.model_extra or {})
    if kind not in SENDER_KINDS:
        hint = did_you_mean(kind, SENDER_KINDS)
        raise fail("sender.kind", f"{kind!r} is not one of {', '.join(SENDER_KINDS)}{hint}")
    allowed = [p for p in inspect.signature(sender_class(kind)).parameters if p != "self"]
    for key in options:
        if key not in allowed:
            raise fail(
                f"sender.{key}",
                f"not an option of a {kind!r} sender{did_you_mean(key, allowed)}; "
                f"allowed: {', '.join(allowed)}",
            )
    trial = {"name": name, **({"url": "sqlite://"} if kind == "sql" else {}), **options}
    try:
        build_sender(kind, **trial)
    except (ConfigError, TypeError, ValueError) as exc:
        raise fail("sender", str(exc)) from None
    return SenderSpec(kind=kind, config=frozen_mapping(options))


def _rules(fail: Fail, value: list[cfg.RuleConfig]) -> tuple[Rule, ...]:
    rules = tuple(_rule(fail, r, f"rules[{i}]") for i, r in enumerate(value))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise fail("rules", f"rule names must be unique: {names}")
    return rules


def _rule(fail: Fail, value: cfg.RuleConfig, field: str) -> Rule:
    columns = _names(value.columns) or ()
    rule = Rule(
        name=value.name or f"{value.kind}_{'_'.join(columns)}".strip("_"),
        kind=value.kind,
        columns=columns,
        pattern=value.pattern,
        min=value.min,
        max=value.max,
        values=tuple(value.values),
        length=value.length,
        fraction=value.fraction,
        function=load_ref(fail, value.function, f"{field}.function"),
        description=value.description,
    )
    _check_rule(rule, lambda k, why: fail(f"{field}.{k}", why))
    return rule


def _check_rule(rule: Rule, fail: Fail) -> None:
    """Each rule kind needs its own options; say which one is missing."""
    needs_columns = rule.kind not in ("custom", "max_changed_fraction", "max_missing_fraction")
    if needs_columns and not rule.columns:
        raise fail("columns", f"rule kind {rule.kind!r} needs at least one column")
    if rule.kind == "regex":
        try:
            re.compile(rule.pattern or "")
        except re.error as exc:
            raise fail("pattern", f"invalid regular expression: {exc}") from exc
        if not rule.pattern:
            raise fail("pattern", "a regex rule needs a pattern")
    if rule.kind == "range" and rule.min is None and rule.max is None:
        raise fail("min", "a range rule needs min, max or both")
    if rule.kind == "allowed_values" and not rule.values:
        raise fail("values", "an allowed_values rule needs a non-empty list")
    if rule.kind == "max_length" and not isinstance(rule.length, int):
        raise fail("length", "a max_length rule needs an integer length")
    if rule.kind == "custom" and rule.function is None:
        raise fail("function", "a custom rule needs 'package.module:function'")
    if rule.on_diff and not isinstance(rule.fraction, (int, float)):
        raise fail("fraction", f"rule kind {rule.kind!r} needs a fraction between 0 and 1")


def _partitioning(fail: Fail, value: cfg.PartitioningConfig | None) -> Partitioning | None:
    if value is None:
        return None
    if value.kind == "daily" and value.start is None:
        raise fail("partitioning.start", "daily partitions need a start date YYYY-MM-DD")
    if value.kind == "static" and not value.values:
        raise fail("partitioning.values", "static partitions need a non-empty list")
    return Partitioning(
        kind=value.kind,
        column=value.column,
        start=value.start if value.kind == "daily" else None,
        values=tuple(str(v) for v in value.values),
        target_column=value.target_column,
        timezone=value.timezone,
    )


def _is_daily(model: cfg.SyncConfig) -> bool:
    return model.partitioning is not None and model.partitioning.kind == "daily"


def _cron(fail: Fail, value: str | None, daily: bool) -> str | None:
    if value is None:
        return None
    if len(value.split()) != 5:
        raise fail("schedule", f"{value!r} is not a 5-field cron expression")
    if daily and not _DAILY_CRON.match(value):
        raise fail(
            "schedule",
            f"{value!r}: daily partitions run once a day after the day ends; "
            "use 'MINUTE HOUR * * *'",
        )
    return value

"""A validated YAML shape (config.SyncConfig) -> SyncSpec, checking what shapes cannot say.

Callables are imported, the sender is built (without connecting), rules and partitions get their
per-kind checks, and the engine options go through the engine's own validator, all at load time.
"""

import dataclasses
import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from sync_pipeline.engine.spec import ImportOptions
from sync_pipeline.errors import ConfigError
from sync_pipeline.senders import SENDER_KINDS, build_sender, sender_class
from sync_pipeline.syncs import catalog
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.options import events_option, events_retention, import_kwargs
from sync_pipeline.syncs.spec import (
    CallableRef,
    Partitioning,
    Rule,
    SenderSpec,
    SyncSpec,
    TargetSpec,
    UpdateRule,
    frozen_mapping,
)

_DAILY_CRON = re.compile(r"^([0-5]?\d) ([01]?\d|2[0-3]) \* \* \*$")
_BUILTIN_COMPARATORS = {"casefold", "ignore"}
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


class SyncConfigError(ConfigError):
    """A sync entry is invalid; says which sync, which field and what is allowed."""

    def __init__(self, sync: str, field: str, reason: str) -> None:
        self.sync, self.field, self.reason = sync, field, reason
        super().__init__(f"sync {sync!r}, field {field!r}: {reason}")


def did_you_mean(value: str, allowed: list[str] | tuple[str, ...]) -> str:
    """` (did you mean 'x'?)` for the closest allowed word, or nothing."""
    hint = difflib.get_close_matches(str(value), list(allowed), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


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
        update_if_exists=_updates(fail, model.update_if_exists),
        comparators=frozen_mapping(
            {c: _comparator(fail, v, f"comparators.{c}") for c, v in model.comparators.items()}
        ),
        key_functions=_key_functions(fail, model.match_by),
        comparison_key=_ref(fail, model.comparison_key, "comparison_key"),
        callbacks=_callbacks(fail, model.callbacks),
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
            {c: _ref(fail, v, f"transforms.{c}") for c, v in model.transforms.items()}
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


Fail = Callable[[str, str], SyncConfigError]


def _engine_check(fail: Fail, spec: SyncSpec, strategy: str | None) -> str:
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


def _ref(fail: Fail, value: str | cfg.FunctionRef | None, field: str) -> Any:
    if value is None:
        return None
    if isinstance(value, cfg.FunctionRef):
        ref = CallableRef(value.function, tuple(value.args))
    else:
        ref = CallableRef(value)
    try:
        ref.load()
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        raise fail(field, f"cannot load {ref.path!r}: {exc}") from None
    return ref


def _comparator(fail: Fail, value: Any, field: str) -> CallableRef:
    module = "sync_pipeline.engine.comparators"
    if isinstance(value, cfg.FloatTolerance):
        return CallableRef(f"{module}:float_tolerance", (value.float_tolerance,))
    if isinstance(value, str) and value in _BUILTIN_COMPARATORS:
        return CallableRef(f"{module}:{value}")
    if isinstance(value, str) and ":" not in value:
        raise fail(
            field,
            f"{value!r} is not casefold, ignore, {{float_tolerance: x}} or 'package.module:fn'"
            + did_you_mean(value, sorted(_BUILTIN_COMPARATORS)),
        )
    ref: CallableRef = _ref(fail, value, field)
    return ref


def _key_functions(fail: Fail, match_by: Any) -> Mapping[str, CallableRef]:
    if not isinstance(match_by, Mapping):
        return frozen_mapping()
    refs = {f: _ref(fail, fn, f"match_by.{f}") for f, fn in match_by.items() if fn is not None}
    return frozen_mapping(refs)


def _updates(fail: Fail, value: Any) -> Mapping[str, UpdateRule] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return frozen_mapping({f: UpdateRule("copy") for f in _names(value) or ()})
    rules: dict[str, UpdateRule] = {}
    for field, how in value.items():
        if isinstance(how, cfg.UpdateValue):
            rules[field] = UpdateRule("value", how.value)
        elif isinstance(how, cfg.UpdateSql):
            rules[field] = UpdateRule("sql", how.sql)
        else:
            rules[field] = UpdateRule(
                "function", _ref(fail, how.function, f"update_if_exists.{field}.function")
            )
    return frozen_mapping(rules)


def _callbacks(fail: Fail, value: cfg.Callbacks | None) -> Mapping[str, CallableRef]:
    if value is None:
        return frozen_mapping()
    given = value.model_dump(exclude_none=True)
    return frozen_mapping({k: _ref(fail, getattr(value, k), f"callbacks.{k}") for k in given})


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
        function=_ref(fail, value.function, f"{field}.function"),
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

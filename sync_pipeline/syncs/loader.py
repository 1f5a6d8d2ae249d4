"""Read sync specs from YAML; a bad entry fails with the sync's name and the field's path."""

import datetime as dt
import difflib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.spec import (
    MISSING_POLICIES,
    PARTITION_KINDS,
    RULE_KINDS,
    STRATEGIES,
    CallableRef,
    Partitioning,
    Rule,
    SenderSpec,
    SyncSpec,
    frozen_mapping,
)

CONFIG_ENV = "SYNC_CONFIG"
_DAILY_CRON = re.compile(r"^([0-5]?\d) ([01]?\d|2[0-3]) \* \* \*$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SYNC_KEYS = [
    "name",
    "sender",
    "table",
    "match_by",
    "strategy",
    "update_if_exists",
    "comparators",
    "columns",
    "transforms",
    "rules",
    "partitioning",
    "schedule",
    "missing",
    "batch_column",
    "deleted_column",
    "description",
]
_RULE_KEYS = [
    "name",
    "kind",
    "columns",
    "pattern",
    "min",
    "max",
    "values",
    "length",
    "fraction",
    "function",
    "description",
]
_PART_KEYS = ["kind", "column", "start", "values", "target_column", "timezone"]


class SyncConfigError(ConfigError):
    """A sync entry is invalid; says which sync, which field and what is allowed."""

    def __init__(self, sync: str, field: str, reason: str) -> None:
        self.sync, self.field, self.reason = sync, field, reason
        super().__init__(f"sync {sync!r}, field {field!r}: {reason}")


def config_path(default: Path | None = None) -> Path:
    """`$SYNC_CONFIG`, else `default`, else `./syncs.yaml`, else the packaged demo's syncs.yaml."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    if default is not None:
        return default
    local = Path.cwd() / "syncs.yaml"
    return local if local.is_file() else Path(__file__).resolve().parents[1] / "demo" / "syncs.yaml"


def load_syncs(path: Path | None = None) -> tuple[SyncSpec, ...]:
    """Parse and validate every sync in the YAML file (called when definitions load)."""
    path = path or config_path()
    if not path.is_file():
        raise ConfigError(f"sync config {str(path)!r} does not exist (set ${CONFIG_ENV})")
    return parse_syncs(yaml.safe_load(path.read_text()) or {}, source=str(path))


def parse_syncs(document: Any, source: str = "<config>") -> tuple[SyncSpec, ...]:
    """Validate a parsed YAML document `{syncs: [...]}` into specs."""
    if not isinstance(document, Mapping) or not isinstance(document.get("syncs"), list):
        raise ConfigError(f"{source}: expected a mapping with a list under 'syncs'")
    specs = tuple(parse_sync(entry, f"#{i}") for i, entry in enumerate(document["syncs"], start=1))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise SyncConfigError(spec.name, "name", "is used by more than one sync")
        seen.add(spec.name)
    return specs


def parse_sync(entry: Any, position: str) -> SyncSpec:
    """One sync entry -> SyncSpec, or SyncConfigError naming the sync and the field."""
    if not isinstance(entry, Mapping):
        raise SyncConfigError(position, "", "each sync must be a mapping")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SyncConfigError(position, "name", f"{name!r} must match {_NAME.pattern}")
    f = _Fields(name)
    f.known(entry, _SYNC_KEYS, "")
    return SyncSpec(
        name=name,
        sender=f.sender(entry.get("sender")),
        table=f.text(entry, "table", required=True),
        match_by=f.names(entry, "match_by"),
        strategy=f.choice(entry, "strategy", STRATEGIES, "skip"),
        update_if_exists=f.names(entry, "update_if_exists"),
        comparators=f.refs(entry, "comparators"),
        columns=frozen_mapping(f.str_map(entry, "columns")),
        transforms=f.refs(entry, "transforms"),
        rules=f.rules(entry.get("rules") or []),
        partitioning=f.partitioning(entry.get("partitioning")),
        schedule=f.cron(
            entry.get("schedule"),
            daily="partitioning" in entry and (entry["partitioning"] or {}).get("kind") == "daily",
        ),
        missing=f.choice(entry, "missing", MISSING_POLICIES, "report"),
        batch_column=f.text(entry, "batch_column") or "last_batch_id",
        deleted_column=f.text(entry, "deleted_column") or "deleted_at",
        description=f.text(entry, "description"),
    )


class _Fields:
    """Field readers that raise SyncConfigError with the sync name and the field path."""

    def __init__(self, sync: str) -> None:
        self.sync = sync

    def fail(self, field: str, reason: str) -> SyncConfigError:
        return SyncConfigError(self.sync, field, reason)

    def known(self, entry: Mapping[str, Any], allowed: list[str], prefix: str) -> None:
        for key in entry:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(f"{prefix}{key}", f"unknown field{extra}")

    def text(self, entry: Mapping[str, Any], key: str, required: bool = False) -> str:
        value = entry.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def choice(
        self, entry: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = entry.get(key, default)
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)

    def names(self, entry: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
        value = entry.get(key)
        if value is None:
            return None
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise self.fail(key, "must be a column name or a non-empty list of column names")
        return tuple(items)

    def str_map(self, entry: Mapping[str, Any], key: str) -> dict[str, str]:
        value = entry.get(key) or {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.fail(key, "must map column names to column names")
        return dict(value)

    def ref(self, value: Any, field: str) -> CallableRef:
        if isinstance(value, Mapping):
            self.known(value, ["function", "args"], f"{field}.")
            ref = CallableRef(str(value.get("function")), tuple(value.get("args") or ()))
        elif isinstance(value, str):
            ref = CallableRef(value)
        else:
            raise self.fail(field, "must be 'package.module:function' or {function, args}")
        try:
            ref.load()
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            raise self.fail(field, f"cannot load {ref.path!r}: {exc}") from exc
        return ref

    def refs(self, entry: Mapping[str, Any], key: str) -> Mapping[str, CallableRef]:
        value = entry.get(key) or {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "must map column names to callables")
        return frozen_mapping({col: self.ref(v, f"{key}.{col}") for col, v in value.items()})

    def sender(self, value: Any) -> SenderSpec:
        if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
            raise self.fail("sender", "must be a mapping with a 'kind' (e.g. sql) and its options")
        options = {k: v for k, v in value.items() if k != "kind"}
        return SenderSpec(kind=value["kind"], config=frozen_mapping(options))

    def rules(self, value: Any) -> tuple[Rule, ...]:
        if not isinstance(value, list):
            raise self.fail("rules", "must be a list")
        rules = tuple(self.rule(r, f"rules[{i}]") for i, r in enumerate(value))
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise self.fail("rules", f"rule names must be unique: {names}")
        return rules

    def rule(self, value: Any, field: str) -> Rule:
        if not isinstance(value, Mapping):
            raise self.fail(field, "must be a mapping")
        self.known(value, _RULE_KEYS, f"{field}.")
        kind = value.get("kind")
        if kind not in RULE_KINDS:
            raise self.fail(f"{field}.kind", f"{kind!r} is not one of {', '.join(RULE_KINDS)}")
        columns = value.get("columns") or []
        columns = [columns] if isinstance(columns, str) else columns
        rule = Rule(
            name=str(value.get("name") or f"{kind}_{'_'.join(columns)}".strip("_")),
            kind=kind,
            columns=tuple(columns),
            pattern=value.get("pattern"),
            min=value.get("min"),
            max=value.get("max"),
            values=tuple(value.get("values") or ()),
            length=value.get("length"),
            fraction=value.get("fraction"),
            function=self.ref(value["function"], f"{field}.function")
            if "function" in value
            else None,
            description=value.get("description"),
        )
        _check_rule(rule, lambda k, why: self.fail(f"{field}.{k}", why))
        return rule

    def partitioning(self, value: Any) -> Partitioning | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("partitioning", "must be a mapping")
        self.known(value, _PART_KEYS, "partitioning.")
        kind = value.get("kind")
        if kind not in PARTITION_KINDS:
            raise self.fail("partitioning.kind", f"{kind!r} is not one of {PARTITION_KINDS}")
        column = value.get("column")
        if not isinstance(column, str) or not column:
            raise self.fail("partitioning.column", "must name the sender column to partition on")
        start, values = value.get("start"), value.get("values") or []
        if kind == "daily" and not isinstance(start, dt.date):
            raise self.fail("partitioning.start", "daily partitions need a start date YYYY-MM-DD")
        if kind == "static" and (not isinstance(values, list) or not values):
            raise self.fail("partitioning.values", "static partitions need a non-empty list")
        return Partitioning(
            kind=kind,
            column=column,
            start=start if kind == "daily" else None,
            values=tuple(str(v) for v in values),
            target_column=value.get("target_column"),
            timezone=str(value.get("timezone") or "UTC"),
        )

    def cron(self, value: Any, daily: bool) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or len(value.split()) != 5:
            raise self.fail("schedule", f"{value!r} is not a 5-field cron expression")
        if daily and not _DAILY_CRON.match(value):
            raise self.fail(
                "schedule",
                f"{value!r}: daily partitions run once a day after the day ends; "
                "use 'MINUTE HOUR * * *'",
            )
        return value


def _check_rule(rule: Rule, fail: Callable[[str, str], SyncConfigError]) -> None:
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

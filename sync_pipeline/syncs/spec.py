"""Frozen sync specs: what one sync reads, how it matches and validates, where it writes."""

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from sync_pipeline.engine.spec import Strategy
from sync_pipeline.senders.drift import DriftPolicy

MissingPolicy = Literal["report", "soft_delete", "delete"]

PartitionKind = Literal["daily", "static"]

# Row rules run on the normalized batch; diff rules on the planned diff.
RowRuleKind = Literal[
    "required_columns",
    "not_null",
    "unique",
    "regex",
    "range",
    "allowed_values",
    "max_length",
    "custom",
]
DiffRuleKind = Literal["max_changed_fraction", "max_missing_fraction"]
DIFF_RULE_KINDS: tuple[str, ...] = get_args(DiffRuleKind)
RuleKind = Literal[RowRuleKind, DiffRuleKind]


def frozen_mapping(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy, so a frozen spec cannot be changed through its mappings."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class CallableRef:
    """A callable named by import path `package.module:function`, optionally a factory call."""

    path: str
    args: tuple[Any, ...] = ()

    def load(self) -> Callable[..., Any]:
        """Import the function; with args, call it as a factory and return what it builds."""
        module_name, _, attr = self.path.partition(":")
        if not module_name or not attr:
            raise ValueError(f"{self.path!r} is not of the form 'package.module:function'")
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
        if not callable(target):
            raise ValueError(f"{self.path!r} is not callable")
        return target(*self.args) if self.args else target


UpdateKind = Literal["copy", "value", "sql", "function"]


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """How update_if_exists sets one field of a matched row."""

    kind: UpdateKind
    value: Any = None  # the static value, the SQL text, or a CallableRef


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The database one sync writes to: a URL, or the environment variable that holds it."""

    url: str | None = None
    url_env: str | None = None


@dataclass(frozen=True, slots=True)
class SenderSpec:
    """Which sender delivers the records: a registered kind plus its options."""

    kind: str
    config: Mapping[str, Any] = field(default_factory=frozen_mapping)


@dataclass(frozen=True, slots=True)
class Rule:
    """One validation rule; becomes one blocking asset check named `name`."""

    name: str
    kind: RuleKind
    columns: tuple[str, ...] = ()
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[Any, ...] = ()
    length: int | None = None
    fraction: float | None = None
    function: CallableRef | None = None
    description: str | None = None

    @property
    def on_diff(self) -> bool:
        return self.kind in DIFF_RULE_KINDS


@dataclass(frozen=True, slots=True)
class Partitioning:
    """Daily windows on a sender time column, or one partition per static value."""

    kind: PartitionKind
    column: str
    start: dt.date | None = None
    values: tuple[str, ...] = ()
    target_column: str | None = None
    timezone: str = "UTC"

    @property
    def scope_column(self) -> str:
        """The target column that scopes diff and missing-row detection to a partition."""
        return self.target_column or self.column


@dataclass(frozen=True, slots=True)
class Freshness:
    """`applied` is stale after `fail_window` without a new materialization (warns earlier)."""

    fail_window: dt.timedelta
    warn_window: dt.timedelta | None = None


@dataclass(frozen=True, slots=True)
class SyncSpec:
    """Everything one sync needs; built from YAML by loader.py or directly in Python."""

    name: str
    sender: SenderSpec
    table: str
    match_by: tuple[str, ...] | None = None
    strategy: Strategy = "skip"
    update_if_exists: Mapping[str, UpdateRule] | tuple[str, ...] | None = None
    comparators: Mapping[str, CallableRef] = field(default_factory=frozen_mapping)
    key_functions: Mapping[str, CallableRef] = field(default_factory=frozen_mapping)
    comparison_key: CallableRef | None = None
    callbacks: Mapping[str, CallableRef] = field(default_factory=frozen_mapping)
    # plain engine options passed through as given (case_sensitive, null_keys, chunk_size, ...)
    options: Mapping[str, Any] = field(default_factory=frozen_mapping)
    target: TargetSpec | None = None
    create_table: bool = True
    primary_key: tuple[str, ...] | None = None
    drift: DriftPolicy = "error"
    columns: Mapping[str, str] = field(default_factory=frozen_mapping)  # sender -> target
    transforms: Mapping[str, CallableRef] = field(default_factory=frozen_mapping)
    rules: tuple[Rule, ...] = ()
    partitioning: Partitioning | None = None
    schedule: str | None = None
    missing: MissingPolicy = "report"
    batch_column: str = "last_batch_id"
    deleted_column: str = "deleted_at"
    description: str | None = None
    # events are an engine option (options["events"]); this is how long the target keeps them
    events_retention: dt.timedelta | None = None
    key_prefix: tuple[str, ...] = ()  # asset keys are <prefix...>/<name>/<step>
    owners: tuple[str, ...] = ()  # asset owners: emails or "team:name"
    tags: Mapping[str, str] = field(default_factory=frozen_mapping)  # asset tags
    freshness: Freshness | None = None

    @property
    def row_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.on_diff)

    @property
    def diff_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.on_diff)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return self.match_by or ()

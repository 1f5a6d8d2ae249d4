"""The YAML shape of a sync (pydantic models, the source of the JSON schema editors complete from).

These models check shapes only: which keys exist and what kind of value each takes. The values of
engine options are checked by the engine's own validator (ImportOptions.from_kwargs), which the
loader calls at load time with the same keywords a run passes to the engine.
"""

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from sync_pipeline.engine.spec import BatchMode, Duplicates, NullKeys, OnError, Strategy
from sync_pipeline.senders.drift import DriftPolicy
from sync_pipeline.syncs.spec import MissingPolicy, PartitionKind, RuleKind

FN = "an import path 'package.module:function'"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FunctionRef(_Model):
    """A factory called with args when the sync loads: {function: 'pkg.mod:fn', args: [...]}."""

    function: StrictStr
    args: list[Any] = []


Callable_ = StrictStr | FunctionRef
Number = StrictInt | StrictFloat


class FloatTolerance(_Model):
    """Numbers within this distance of each other are unchanged."""

    float_tolerance: Number


class UpdateValue(_Model):
    """Set the field of a matched row to this static value."""

    value: Any


class UpdateSql(_Model):
    """Set the field to a SQL expression over the existing row (trusted operator config)."""

    sql: StrictStr


class UpdateFunction(_Model):
    """Set the field to function(new, existing_row, record)."""

    function: StrictStr


class SenderConfig(BaseModel):
    """The sender: `kind` plus the options of that kind (checked against the sender at load)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    kind: StrictStr = Field(description="sql | files | inbox | fake")


class TargetConfig(_Model):
    """Where this sync writes, if not the code location's target (`SYNC_TARGET_URL`)."""

    url: StrictStr | None = Field(None, description="a SQLAlchemy URL (no passwords in YAML)")
    url_env: StrictStr | None = Field(None, description="an environment variable holding the URL")


class Callbacks(_Model):
    """Functions called with the rows written, per chunk (before_insert may change them)."""

    on_inserted: Callable_ | None = None
    on_updated: Callable_ | None = None
    on_inserted_or_updated: Callable_ | None = None
    before_insert: Callable_ | None = None


class RuleConfig(_Model):
    """One validation rule; becomes one blocking asset check."""

    name: StrictStr | None = None
    kind: RuleKind
    columns: StrictStr | list[StrictStr] = []
    pattern: StrictStr | None = None
    min: Number | None = None
    max: Number | None = None
    values: list[Any] = []
    length: StrictInt | None = None
    fraction: Number | None = None
    function: Callable_ | None = None
    description: StrictStr | None = None


class PartitioningConfig(_Model):
    """Daily windows on a sender time column, or one partition per static value."""

    kind: PartitionKind
    column: StrictStr
    start: dt.date | None = Field(None, description="first day, YYYY-MM-DD (daily)")
    values: list[StrictStr | StrictInt] = []
    target_column: StrictStr | None = None
    timezone: StrictStr = "UTC"


class EventsConfig(_Model):
    """Change events of the sync's writes: key columns to record, and how long to keep them."""

    keys: list[StrictStr] = Field([], description="columns recorded on every event (filters)")
    retention_days: StrictInt | StrictFloat | None = Field(
        None, ge=0, description="a daily job prunes the target's events older than this"
    )


class FreshnessConfig(_Model):
    """How stale the target may get: durations like `26h`, `90m`, `2d` or `1d12h`."""

    fail_window: StrictStr = Field(description="`applied` is stale (fails) after this long")
    warn_window: StrictStr | None = Field(None, description="warn after this long (< fail_window)")


class SyncConfig(_Model):
    """One sync: where records come from, how they match and validate, where they are written."""

    name: StrictStr = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    description: StrictStr | None = None
    sender: SenderConfig
    table: StrictStr = Field(min_length=1, description="the target table")
    target: TargetConfig | None = None
    create_table: StrictBool = Field(True, description="create a missing target table")
    primary_key: StrictStr | list[StrictStr] | None = Field(
        None, description="primary key of a created table (default: the match key)"
    )
    match_by: StrictStr | list[StrictStr] | dict[StrictStr, StrictStr | None] | None = Field(
        None, description=f"a field, a list of fields, or {{field: {FN}}}"
    )
    strategy: Strategy | None = None
    case_sensitive: StrictBool | None = None
    null_keys: NullKeys | None = None
    duplicates: Duplicates | None = None
    batch_mode: BatchMode | None = None
    batch_column: StrictStr = "last_batch_id"
    on_error: OnError | None = None
    chunk_size: StrictInt | None = None
    callback_chunk_size: StrictInt | None = None
    on_updated_when: StrictStr | list[StrictStr] | None = None
    delete_flag: StrictStr | None = None
    comparison_key: Callable_ | None = Field(None, description=FN)
    comparators: dict[StrictStr, FloatTolerance | StrictStr | FunctionRef] = Field(
        {}, description=f"{{field: casefold | ignore | {{float_tolerance: x}} | {FN}}}"
    )
    update_if_exists: (
        StrictStr
        | list[StrictStr]
        | dict[StrictStr, UpdateValue | UpdateSql | UpdateFunction]
        | None
    ) = Field(
        None,
        description="a list of fields, or {field: {value: x} | {sql: '...'} | {function: ...}}",
    )
    callbacks: Callbacks | None = None
    where: dict[StrictStr, Any] | None = Field(None, description="{column: value}: a fixed scope")
    drift: DriftPolicy = "error"
    columns: dict[StrictStr, StrictStr] = Field({}, description="{sender column: target column}")
    transforms: dict[StrictStr, Callable_] = Field({}, description=f"{{column: {FN}}}")
    rules: list[RuleConfig] = []
    partitioning: PartitioningConfig | None = None
    schedule: StrictStr | None = Field(None, description="a 5-field cron expression")
    missing: MissingPolicy = "report"
    deleted_column: StrictStr = "deleted_at"
    events: EventsConfig | StrictBool = Field(
        False, description="record change events: true, or {keys: [...], retention_days: n}"
    )
    owners: list[StrictStr] = Field(
        [], description="owners of the sync's assets: emails or 'team:name'"
    )
    tags: dict[StrictStr, StrictStr] = Field(
        {}, description="tags on the sync's assets: letters, digits, '_', '-', '.', <= 63 chars"
    )
    freshness: FreshnessConfig | None = Field(
        None, description="a freshness policy on `applied`: {fail_window: 26h, warn_window: 25h}"
    )


class SyncsFile(_Model):
    """The whole file: `syncs: [...]`."""

    syncs: list[SyncConfig]


# The models a nested mapping may be, by the first part of its path (for "did you mean").
NESTED: dict[str, tuple[type[BaseModel], ...]] = {
    "rules": (RuleConfig,),
    "partitioning": (PartitioningConfig,),
    "target": (TargetConfig,),
    "callbacks": (Callbacks,),
    "comparators": (FloatTolerance, FunctionRef),
    "update_if_exists": (UpdateValue, UpdateSql, UpdateFunction),
    "transforms": (FunctionRef,),
    "comparison_key": (FunctionRef,),
    "events": (EventsConfig,),
    "freshness": (FreshnessConfig,),
}


def json_schema() -> dict[str, Any]:
    """The JSON schema of syncs.yaml (checked in as syncs.schema.json)."""
    return SyncsFile.model_json_schema()

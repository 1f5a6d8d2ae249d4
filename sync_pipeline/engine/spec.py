"""The options of one import, validated once at the edge (closed vocabularies, sizes, conflicts)."""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline.engine.compare import Comparator
from sync_pipeline.errors import ConfigError
from sync_pipeline.events.model import EventOptions, event_options

Strategy = Literal["skip", "overwrite", "merge", "append"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
NullKeys = Literal["insert", "skip", "error"]
NULL_KEYS: tuple[NullKeys, ...] = get_args(NullKeys)
Duplicates = Literal["error", "first", "last"]
DUPLICATES: tuple[Duplicates, ...] = get_args(Duplicates)
OnError = Literal["abort", "skip_record"]
ON_ERROR: tuple[OnError, ...] = get_args(OnError)
BatchMode = Literal["column", "ledger"]
BATCH_MODES: tuple[BatchMode, ...] = get_args(BatchMode)
DeleteMode = Literal["delete", "soft_delete"]
DELETE_MODES: tuple[DeleteMode, ...] = get_args(DeleteMode)

KeyCallable = Callable[[Any, Mapping[str, Any]], Any]
RowsCallback = Callable[[list[dict[str, Any]]], Any]
# progress(done, total, phase): rows done so far, the total when known (else None), e.g. "write"
Progress = Callable[[int, int | None, str], Any]


def no_progress(done: int, total: int | None, phase: str) -> None:
    """The default progress callable: reports nowhere."""


class Copy:
    """Marker in update_if_exists: copy the incoming value of the field."""

    def __repr__(self) -> str:
        return "COPY"


COPY = Copy()
# COPY | static value | SQLAlchemy expression or sa.text(...) | callable(new, existing, record)
FieldUpdate = Any


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Everything an import may be told, after validation. Build it with `from_kwargs`."""

    strategy: Strategy = "skip"
    match_by: tuple[str, ...] | None = None
    key_callables: Mapping[str, KeyCallable] = field(default_factory=dict)
    case_sensitive: bool = True
    comparison_key: Callable[[Mapping[str, Any]], Any] | None = None
    update_fields: Mapping[str, FieldUpdate] | None = None
    comparators: Mapping[str, Comparator] = field(default_factory=dict)
    batch_id: int | Literal[False] | None = None
    batch_column: str = "last_batch_id"
    # None: "ledger" when the table has a primary key (no rewrite of unchanged rows), else
    # "column"; resolved against the table by `make_plan`
    batch_mode: BatchMode | None = None
    null_keys: NullKeys = "insert"
    duplicates: Duplicates = "error"
    chunk_size: int | None = None
    callback_chunk_size: int | None = None
    on_inserted: tuple[RowsCallback, ...] = ()
    on_updated: tuple[RowsCallback, ...] = ()
    on_inserted_or_updated: tuple[RowsCallback, ...] = ()
    on_updated_when: tuple[str, ...] | None = None
    before_insert: Callable[[list[dict[str, Any]]], Any] | None = None
    where: Mapping[str, Any] | sa.ColumnElement[bool] | None = None
    on_error: OnError = "abort"
    delete_flag: str | None = None
    delete_mode: DeleteMode = "delete"
    soft_delete_column: str = "deleted_at"
    timestamps: tuple[str, str] | None = ("created_at", "updated_at")
    guard: Callable[[Any], Any] | None = None  # sees each BatchDiff before it is written
    # sees the ImportResult once everything is written, before the transaction commits;
    # raising rolls the whole import back (a judgement on the whole of a streamed batch)
    before_commit: Callable[[Any], Any] | None = None
    events: EventOptions | None = None  # record change events (off: no table, no statement)
    progress: Progress = no_progress  # called after each written chunk
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    # worked out from the fields above when built (never passed):
    stamps: bool = field(init=False)  # batch_id is not False: the batch is stamped and recorded

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamps", self.batch_id is not False)

    @classmethod
    def from_kwargs(cls, strategy: str | None = None, **kwargs: Any) -> "ImportOptions":
        """Validate user options; raise ConfigError naming the option and the allowed values."""
        given = {name for name, f in cls.__dataclass_fields__.items() if f.init}
        unknown = set(kwargs) - given - {"update_if_exists"}
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
        update_if_exists = kwargs.pop("update_if_exists", None)
        resolved = _strategy(strategy, update_if_exists)
        match_by, key_callables = _match_by(kwargs.pop("match_by", None))
        events = kwargs.pop("events", None)  # off unless asked: the events package stays out
        opts = cls(
            strategy=resolved,
            match_by=match_by,
            key_callables=key_callables,
            update_fields=_update_fields(update_if_exists),
            comparators=dict(kwargs.pop("comparators", None) or {}),
            on_inserted=_callbacks(kwargs.pop("on_inserted", None)),
            on_updated=_callbacks(kwargs.pop("on_updated", None)),
            on_inserted_or_updated=_callbacks(kwargs.pop("on_inserted_or_updated", None)),
            on_updated_when=_names(kwargs.pop("on_updated_when", None), "on_updated_when"),
            events=None if events is None or events is False else event_options(events),
            **kwargs,
        )
        opts._validate()
        return opts

    def _validate(self) -> None:
        _one_of("null_keys", self.null_keys, NULL_KEYS)
        _one_of("duplicates", self.duplicates, DUPLICATES)
        _one_of("on_error", self.on_error, ON_ERROR)
        if self.batch_mode is not None:
            _one_of("batch_mode", self.batch_mode, BATCH_MODES)
        _one_of("delete_mode", self.delete_mode, DELETE_MODES)
        for name in ("chunk_size", "callback_chunk_size"):
            size = getattr(self, name)
            if size is not None and (
                not isinstance(size, int) or isinstance(size, bool) or size < 1
            ):
                raise ConfigError(f"{name} must be an integer of at least 1, got {size!r}")
        bad_id = not isinstance(self.batch_id, int) or isinstance(self.batch_id, bool)
        if self.batch_id is not None and self.batch_id is not False and bad_id:
            raise ConfigError(f"batch_id must be an int, None or False, got {self.batch_id!r}")
        if not bad_id and not -(2**63) <= self.batch_id < 2**63:  # type: ignore[operator]
            raise ConfigError(f"batch_id must fit a 64-bit integer, got {self.batch_id}")
        if self.guard is not None and not callable(self.guard):
            raise ConfigError("guard must be a callable(diff) that raises to stop the write")
        if self.before_commit is not None and not callable(self.before_commit):
            raise ConfigError("before_commit must be a callable(result) that raises to roll back")
        if not callable(self.progress):
            raise ConfigError("progress must be a callable(done, total, phase)")
        if self.comparison_key is not None and not callable(self.comparison_key):
            raise ConfigError("comparison_key must be a callable(record) -> key | None")
        for name, comparator in self.comparators.items():
            if not callable(comparator):
                raise ConfigError(f"comparator for {name!r} must be a callable(new, old) -> bool")

    def chunk(self, dialect: Dialect) -> int:
        """Rows per chunk: chunk_size, else the dialect's (large with COPY, 500 without)."""
        return self.chunk_size or dialect.bulk_chunk

    def callback_chunk(self, dialect: Dialect) -> int:
        return self.callback_chunk_size or self.chunk(dialect)


def _strategy(strategy: str | None, update_if_exists: Any) -> Strategy:
    if strategy is None:
        return "overwrite" if update_if_exists is not None else "skip"
    _one_of("strategy", strategy, STRATEGIES)
    if update_if_exists is not None and strategy in ("skip", "append"):
        raise ConfigError(
            f"update_if_exists cannot be combined with strategy={strategy!r}: {strategy!r} never "
            "updates matched rows. Drop strategy (update_if_exists alone updates exactly those "
            "fields) or use 'overwrite' or 'merge'."
        )
    return strategy  # type: ignore[return-value]


def _match_by(value: Any) -> tuple[tuple[str, ...] | None, dict[str, KeyCallable]]:
    if value is None:
        return None, {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        for name, fn in value.items():
            _field_name(name, "match_by")
            if fn is not None and not callable(fn):
                raise ConfigError(f"match_by[{name!r}] must be a callable(value, record) or None")
        if not value:
            raise ConfigError("match_by needs at least one field")
        return tuple(value), {k: v for k, v in value.items() if v is not None}
    names = _names(value, "match_by")
    if not names:
        raise ConfigError("match_by needs at least one field")
    return names, {}


def _update_fields(value: Any) -> dict[str, FieldUpdate] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        for name in value:
            _field_name(name, "update_if_exists")
        return dict(value)
    names = _names(value, "update_if_exists") or ()
    return dict.fromkeys(names, COPY)


def _names(value: Any, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence):
        raise ConfigError(f"{option} must be a list of field names, got {type(value).__name__}")
    return tuple(_field_name(v, option) for v in value)


def _field_name(name: Any, option: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{option} has an empty or non-string field name: {name!r}")
    return name


def _callbacks(value: Any) -> tuple[RowsCallback, ...]:
    if value is None:
        return ()
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for fn in items:
        if not callable(fn):
            raise ConfigError(f"callbacks must be callables taking a list of rows, got {fn!r}")
    return items


def _one_of(option: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{option} must be one of {', '.join(map(repr, allowed))}; got {value!r}")

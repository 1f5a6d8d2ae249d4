"""allow(...) configuration: which tables accept which operations, and the callbacks to run."""

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_pipeline.engine.mutations.operations import OPERATION_TYPES, Operation, TableRef
from sync_pipeline.errors import ConfigError

MutationCallback = Callable[..., Any]
OVERRIDE_KEYS = ("validate", "pre_apply", "post_apply")


@dataclass(frozen=True, slots=True)
class TableConfig:
    """One allow(...) call: a server table, the client name that maps to it, and callbacks."""

    table: str  # server table, "name" or "schema.name"
    client_key: TableRef  # bare name (matches any schema) or (schema, name) (exact)
    accept: frozenset[str]
    check: MutationCallback | None = None
    before_all: MutationCallback | None = None
    load: MutationCallback | None = None
    validate: MutationCallback | None = None
    pre_apply: MutationCallback | None = None
    post_apply: MutationCallback | None = None
    overrides: Mapping[str, Mapping[str, MutationCallback]] = field(default_factory=dict)

    def callback(self, name: str, operation: str) -> MutationCallback | None:
        """A per-operation override wins over the top-level callback."""
        override = self.overrides.get(operation, {})
        found: MutationCallback | None = override.get(name) or getattr(self, name)
        return found

    @property
    def schema_and_name(self) -> tuple[str | None, str]:
        schema, _, name = self.table.rpartition(".")
        return (schema or None, name)


def _arity_ok(fn: MutationCallback, arities: Sequence[int], name: str) -> None:
    if not callable(fn):
        raise ConfigError(f"{name} must be callable, got {type(fn).__name__}")
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return  # builtins without a signature: trust the caller
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if not any(len(required) <= n <= len(positional) for n in arities):
        raise ConfigError(f"{name} must accept {' or '.join(map(str, arities))} arguments")


def positional_count(fn: MutationCallback, choices: Sequence[int]) -> int:
    """How many positional arguments to pass: the largest of `choices` the callable accepts."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return max(choices)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return max(choices)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return max((n for n in choices if n <= len(positional)), default=min(choices))


_ARITIES = {
    "check": (1,),
    "before_all": (1,),
    "load": (1, 2),
    "validate": (2, 3),
    "pre_apply": (3,),
    "post_apply": (3,),
}


def make_config(
    table: str, client_table: Any, accept: Sequence[str], **callbacks: Any
) -> TableConfig:
    """Validate allow(...) arguments at allow time, so a bad config fails before any request."""
    if not isinstance(table, str) or not table or table.count(".") > 1:
        raise ConfigError(f"table must be 'name' or 'schema.name', got {table!r}")
    bad = [a for a in accept if a not in OPERATION_TYPES]
    if bad or not accept or isinstance(accept, str):
        raise ConfigError(f"accept must be a non-empty subset of {OPERATION_TYPES}, got {accept!r}")
    overrides: dict[str, dict[str, MutationCallback]] = {}
    for op in OPERATION_TYPES:
        given = callbacks.pop(op, None) or {}
        unknown = set(given) - set(OVERRIDE_KEYS)
        if not isinstance(given, Mapping) or unknown:
            raise ConfigError(f"{op}= takes a dict with keys {OVERRIDE_KEYS}, got {given!r:.100}")
        for key, fn in given.items():
            arities = (2, 3) if key == "validate" and op != "delete" else _ARITIES[key]
            _arity_ok(fn, (1, *arities) if op == "delete" and key == "validate" else arities, key)
        overrides[op] = dict(given)
    for key, fn in callbacks.items():
        if fn is not None:
            _arity_ok(fn, _ARITIES[key], key)
    return TableConfig(
        table=table,
        client_key=_client_key(table, client_table),
        accept=frozenset(accept),
        overrides=overrides,
        **callbacks,
    )


def _client_key(table: str, client_table: Any) -> TableRef:
    if client_table is None:
        schema, _, name = table.rpartition(".")
        return (schema, name) if schema else name
    if isinstance(client_table, str) and client_table:
        return client_table
    if (
        isinstance(client_table, (tuple, list))
        and len(client_table) == 2
        and all(isinstance(p, str) and p for p in client_table)
    ):
        return (client_table[0], client_table[1])
    raise ConfigError(f"client_table must be 'name' or ('schema', 'name'), got {client_table!r}")


def resolve(configs: Mapping[TableRef, TableConfig], op: Operation) -> TableConfig:
    """The allow(...) config an operation's relation maps to (raises ValueError if none or many).

    (schema, name) matches the exact key (schema, name), else the bare key name. A bare name
    matches the bare key, else the one (any, name) key; several such keys are ambiguous.
    """
    rel = op.relation
    if isinstance(rel, tuple):
        found = configs.get(rel) or configs.get(rel[1])
        if found is None:
            raise ValueError(f"table {'.'.join(rel)!r:.100} does not accept writes")
        return found
    if rel in configs:
        return configs[rel]
    matches = [c for k, c in configs.items() if isinstance(k, tuple) and k[1] == rel]
    if len(matches) > 1:
        raise ValueError(
            f"Multiple matches for relation {rel!r:.100}: "
            f"{sorted('.'.join(c.client_key) for c in matches)}; "
            "please send the full [schema, name]"
        )
    if not matches:
        raise ValueError(f"table {rel!r:.100} does not accept writes")
    return matches[0]

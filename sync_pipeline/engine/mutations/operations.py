"""Parsed client mutations: Operation, Transaction, and the TanStack DB transaction format.

Input is untrusted, so parsing enforces limits before anything else looks at it (see Limits).
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from sync_pipeline.engine.mutations.errors import WriteRejected

OperationType = Literal["insert", "update", "delete"]
OPERATION_TYPES: tuple[str, ...] = get_args(OperationType)
TableRef = str | tuple[str, str]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on an untrusted payload; exceeding any of them rejects it at step 'parse'.

    max_bytes: size of a JSON text payload (default 8 MiB).
    max_operations: operations per transaction (default 1000).
    max_depth: nesting of objects/lists inside data and changes (default 32).
    max_string: characters in any single string value or key (default 1,000,000).
    """

    max_bytes: int = 8 * 1024 * 1024
    max_operations: int = 1000
    max_depth: int = 32
    max_string: int = 1_000_000


@dataclass(frozen=True, slots=True)
class Operation:
    """One client mutation: `data` is the original row (update/delete), `changes` the new values."""

    index: int
    operation: OperationType
    relation: TableRef
    data: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, index: int, operation: Any, relation: Any, data: Any, changes: Any) -> "Operation":
        """Validate the shape of one operation (raises ValueError with the reason)."""
        op = operation.lower() if isinstance(operation, str) else operation
        if op not in OPERATION_TYPES:
            raise ValueError(f"invalid operation type {operation!r:.40}")
        rel = _relation(relation)
        data = {} if op == "insert" else data
        changes = {} if op == "delete" else changes
        if not isinstance(data, Mapping):
            raise ValueError(f"{op} needs an object of original values")
        if not isinstance(changes, Mapping):
            raise ValueError(f"{op} needs an object of changes")
        return cls(index, cast(OperationType, op), rel, dict(data), dict(changes))

    @property
    def table_name(self) -> str:
        return self.relation if isinstance(self.relation, str) else self.relation[1]


@dataclass(frozen=True, slots=True)
class Transaction:
    operations: tuple[Operation, ...]


def _relation(relation: Any) -> TableRef:
    if isinstance(relation, str) and relation:
        return relation
    if (
        isinstance(relation, (list, tuple))
        and len(relation) == 2
        and all(isinstance(p, str) and p for p in relation)
    ):
        return (relation[0], relation[1])
    return _fail(f"Invalid table: {relation!r:.80}")


def _fail(message: str) -> Any:
    raise ValueError(message)


def tanstack_db(payload: Any) -> Transaction:
    """TanStack DB mutations: insert->modified, update->original+changes, delete->original."""
    if not isinstance(payload, list):
        raise ValueError("invalid operation list: expected a JSON array of mutations")
    ops = []
    for index, item in enumerate(payload):
        if not isinstance(item, dict):
            raise ValueError(f"mutation {index} is not an object")
        kind = item.get("type")
        meta = item.get("syncMetadata")
        relation = meta.get("relation") if isinstance(meta, dict) else None
        lowered = kind.lower() if isinstance(kind, str) else kind
        data: Any
        changes: Any
        if lowered == "insert":
            data, changes = {}, item.get("modified")
        elif lowered == "update":
            data, changes = item.get("original"), item.get("changes")
        else:
            data, changes = item.get("original"), {}
        ops.append(Operation.new(index, kind, relation, data, changes))
    return Transaction(tuple(ops))


def plain_operations(payload: Any) -> Transaction:
    """A list of {"operation", "relation", "data", "changes"} objects (this library's own shape)."""
    if not isinstance(payload, list):
        raise ValueError("invalid operation list: expected a JSON array of operations")
    return Transaction(
        tuple(
            Operation.new(
                i, o.get("operation"), o.get("relation"), o.get("data", {}), o.get("changes", {})
            )
            if isinstance(o, dict)
            else _fail(f"operation {i} is not an object")
            for i, o in enumerate(payload)
        )
    )


FORMATS: dict[str, Callable[[Any], Transaction]] = {
    "tanstack-db": tanstack_db,
    "operations": plain_operations,
}


def _decode(payload: Any, limits: Limits) -> Any:
    if isinstance(payload, (bytes, bytearray)):
        if len(payload) > limits.max_bytes:
            raise ValueError(f"payload is {len(payload)} bytes; the limit is {limits.max_bytes}")
        payload = bytes(payload).decode("utf-8")
    if isinstance(payload, str):
        if len(payload.encode("utf-8")) > limits.max_bytes:
            raise ValueError(f"payload is larger than the limit of {limits.max_bytes} bytes")
        try:
            return json.loads(payload)
        except RecursionError:
            raise ValueError(f"JSON is nested deeper than {limits.max_depth} levels") from None
        except ValueError as exc:
            raise ValueError(f"malformed JSON: {exc}") from None
    return payload


def check_limits(value: Any, limits: Limits, depth: int = 0) -> None:
    """Reject nesting deeper than max_depth and strings longer than max_string (no recursion)."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.max_string:
                raise ValueError(
                    f"a string of {len(item)} characters exceeds the limit of {limits.max_string}"
                )
        elif isinstance(item, (dict, list, tuple)):
            if level >= limits.max_depth:
                raise ValueError(f"value is nested deeper than {limits.max_depth} levels")
            children: Sequence[Any] = (
                [*item.keys(), *item.values()] if isinstance(item, dict) else item
            )
            stack.extend((child, level + 1) for child in children)


def parse_transaction(
    payload: Any,
    *,
    format: str | None = "tanstack-db",
    parser: Callable[[Any], Any] | None = None,
    limits: Limits | None = None,
) -> Transaction:
    """Decode and validate a client transaction; any problem raises WriteRejected('parse')."""
    limits = limits or Limits()
    try:
        if parser is None and (format is None or format not in FORMATS):
            raise ValueError(f"no valid format or parser (formats: {sorted(FORMATS)})")
        data = _decode(payload, limits)
        check_limits(data, limits, depth=-2)
        parsed = parser(data) if parser is not None else FORMATS[str(format)](data)
        if isinstance(parsed, list):
            parsed = (
                plain_operations(parsed)
                if parsed and isinstance(parsed[0], dict)
                else (Transaction(tuple(parsed)))
            )
        if not isinstance(parsed, Transaction) or not all(
            isinstance(o, Operation) for o in parsed.operations
        ):
            raise ValueError("the parser must return a Transaction or a list of Operations")
        if not parsed.operations:
            raise ValueError("empty transaction")
        if len(parsed.operations) > limits.max_operations:
            raise ValueError(
                f"{len(parsed.operations)} operations; the limit is {limits.max_operations}"
            )
        for op in parsed.operations:
            check_limits([op.data, op.changes], limits, depth=-1)
    except WriteRejected:
        raise
    except Exception as exc:  # untrusted input: any failure to parse is a rejection
        raise WriteRejected("parse", None, None, str(exc)[:500] or type(exc).__name__) from None
    return parsed

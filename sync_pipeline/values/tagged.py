"""Tagged JSON values: {"__type__": "datetime"|"date"|"time"|"decimal", "value": ...}.

Only tagged values are decoded; an untagged string such as "2025-01-01" stays a string (no
guessing). Decoding walks lists and objects without recursion, so deep payloads cannot blow the
stack; `max_depth` bounds how deep a payload may be.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

TagName = Literal["datetime", "date", "time", "decimal"]
TAG_NAMES: tuple[str, ...] = get_args(TagName)
TAG_KEY = "__type__"
DEFAULT_MAX_DEPTH = 64


class TaggedValueError(ValueError):
    """A tagged value is malformed (unknown tag, or a value its tag cannot read)."""


def _decimal(text: Any) -> Decimal:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise TaggedValueError(f"decimal value must be a string or number, got {text!r:.80}")
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise TaggedValueError(f"not a decimal: {text!r:.80}") from None
    if not value.is_finite():
        raise TaggedValueError(f"decimal must be finite, got {text!r:.80}")
    return value


def _iso(parse: Callable[[str], Any], kind: str) -> Callable[[Any], Any]:
    def read(text: Any) -> Any:
        if not isinstance(text, str):
            raise TaggedValueError(f"{kind} value must be an ISO 8601 string, got {text!r:.80}")
        try:
            return parse(text)
        except ValueError:
            raise TaggedValueError(f"not an ISO 8601 {kind}: {text!r:.80}") from None

    return read


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "datetime": _iso(dt.datetime.fromisoformat, "datetime"),
    "date": _iso(dt.date.fromisoformat, "date"),
    "time": _iso(dt.time.fromisoformat, "time"),
    "decimal": _decimal,
}


def is_tagged(value: Any) -> bool:
    """True for a mapping of the tagged shape (has both "__type__" and "value")."""
    return isinstance(value, dict) and TAG_KEY in value and "value" in value


def decode_tagged_value(tagged: dict[str, Any]) -> Any:
    """Decode one tagged value; raises TaggedValueError for an unknown tag or bad value."""
    tag = tagged.get(TAG_KEY)
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None:
        raise TaggedValueError(f"unknown __type__ {tag!r:.40}; expected one of {TAG_NAMES}")
    return decoder(tagged["value"])


def decode_tagged(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Return `value` with every tagged value (at any depth) decoded; other values unchanged."""
    if is_tagged(value):
        return decode_tagged_value(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [None]
    # Work list of (container to read, parent, key in parent, depth).
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        source, parent, key, depth = stack.pop()
        if depth > max_depth:
            raise TaggedValueError(f"payload is nested deeper than {max_depth} levels")
        copy: Any = {} if isinstance(source, dict) else [None] * len(source)
        parent[key] = copy
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for k, item in items:
            if is_tagged(item):
                copy[k] = decode_tagged_value(item)
            elif isinstance(item, (dict, list)):
                stack.append((item, copy, k, depth + 1))
            else:
                copy[k] = item
    return root[0]


def encode_tagged(value: Any) -> Any:
    """The inverse of decode_tagged for one value: datetimes, dates, times, Decimals get tags."""
    if isinstance(value, dt.datetime):
        return {TAG_KEY: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG_KEY: "date", "value": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG_KEY: "time", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {TAG_KEY: "decimal", "value": str(value)}
    if isinstance(value, dict):
        return {k: encode_tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_tagged(v) for v in value]
    return value

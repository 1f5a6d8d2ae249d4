"""Tagged JSON values decode exactly; untagged strings are never parsed."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline.values.tagged import TaggedValueError, decode_tagged, encode_tagged


def test_each_tag_decodes() -> None:
    payload = {
        "a": {"__type__": "datetime", "value": "2025-01-01T10:00:00+02:00"},
        "b": {"__type__": "date", "value": "2025-01-01"},
        "c": {"__type__": "time", "value": "10:11:12.5"},
        "d": {"__type__": "decimal", "value": "1.10"},
        "naive": {"__type__": "datetime", "value": "2025-01-01T10:00:00"},
    }
    out = decode_tagged(payload)
    assert out["a"] == dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
    assert out["b"] == dt.date(2025, 1, 1)
    assert out["c"] == dt.time(10, 11, 12, 500000)
    assert str(out["d"]) == "1.10"
    assert out["naive"].tzinfo is None


def test_decoding_is_recursive_and_leaves_untagged_strings_alone() -> None:
    payload = {"list": [{"x": {"__type__": "date", "value": "2025-01-02"}}], "s": "2025-01-01"}
    out = decode_tagged(payload)
    assert out == {"list": [{"x": dt.date(2025, 1, 2)}], "s": "2025-01-01"}
    assert payload["list"][0]["x"] == {"__type__": "date", "value": "2025-01-02"}  # not mutated


@pytest.mark.parametrize(
    "bad",
    [
        {"__type__": "money", "value": "1"},
        {"__type__": "date", "value": "2025-13-01"},
        {"__type__": "decimal", "value": "NaN"},
        {"__type__": "decimal", "value": True},
        {"__type__": "datetime", "value": 5},
    ],
)
def test_malformed_tags_raise(bad: dict) -> None:
    with pytest.raises(TaggedValueError):
        decode_tagged([bad])


def test_deep_payload_is_rejected_without_recursion_error() -> None:
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    with pytest.raises(TaggedValueError, match="deeper than"):
        decode_tagged(deep)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.times(),
    st.decimals(allow_nan=False, allow_infinity=False),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_values)
def test_tagged_values_round_trip_through_json(value) -> None:
    encoded = json.loads(json.dumps(encode_tagged(value)))
    assert decode_tagged(encoded) == value


@given(st.text(max_size=40))
def test_untagged_strings_are_never_parsed(text: str) -> None:
    assert decode_tagged({"v": text}) == {"v": text}


def test_decimal_keeps_its_digits() -> None:
    assert (
        decode_tagged({"__type__": "decimal", "value": "1.000"}).as_tuple()
        == Decimal("1.000").as_tuple()
    )

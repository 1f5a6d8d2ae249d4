"""A run's scope has one serialization: what `applied` records, what the missing-rows sensor and
check read back and what the cleanup job's config carries is `Scope.encode()`, and it survives
every window and every static value (docs/dagster.md, "Schedules and the missing-rows sensor")."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs.scope import (
    SCOPE_KEY,
    Scope,
    decode_scope,
    encode_scope,
    scope_from_metadata,
    scope_metadata,
)

names = st.text(min_size=1)
# naive, UTC and named zones (fixed and historical offsets down to seconds), any microsecond
instants = st.datetimes(timezones=st.none() | st.just(dt.UTC) | st.timezones())
windows = st.builds(
    Scope,
    names,
    names,
    instants,
    instants,
)
statics = st.builds(
    lambda column, target, values: Scope(column, target, values=tuple(values)),
    names,
    names,
    st.lists(st.text(), max_size=5),  # commas, quotes, backslashes, empty text, any code point
)
scopes = windows | statics


def facts(scope: Scope | None) -> object:
    """What a scope means: its columns, values and each bound's wall time and UTC offset (an
    aware bound comes back with a fixed offset, not its zone's name; `==` on aware datetimes in
    a zone's repeated hour is False across zones by PEP 495, so the offset is compared)."""
    if scope is None:
        return None
    bounds = tuple(
        None if b is None else (b.replace(tzinfo=None), b.utcoffset())
        for b in (scope.start, scope.end)
    )
    return (scope.column, scope.target_column, scope.values, bounds)


REPEATED_HOUR = dt.datetime(1992, 10, 25, 2, tzinfo=ZoneInfo("America/Winnipeg"))


@given(scopes)
@example(Scope("c", "c", dt.datetime(2000, 1, 1), REPEATED_HOUR))
@example(Scope("c", "c", REPEATED_HOUR, REPEATED_HOUR.replace(fold=1)))
def test_a_scope_survives_its_encoding(scope: Scope) -> None:
    back = Scope.decode(scope.encode())
    assert facts(back) == facts(scope)  # naive stays naive: its offset stays None


@given(scopes | st.none())
def test_a_scope_survives_the_metadata_and_the_cleanup_config(scope: Scope | None) -> None:
    assert facts(scope_from_metadata(scope_metadata(scope))) == facts(scope)
    assert facts(decode_scope(encode_scope(scope))) == facts(scope)


def test_static_values_with_commas_and_quotes_stay_whole() -> None:
    scope = Scope("region", "region", values=("eu, west", 'say "hi"', "it's", ""))
    assert scope_from_metadata(scope_metadata(scope)) == scope


def test_metadata_shows_the_scope_and_carries_it_encoded() -> None:
    window = Scope("ts", "day", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))
    meta = scope_metadata(window)
    assert meta["scope"] == "day in [2026-01-01, 2026-01-02)"
    assert Scope.decode(meta[SCOPE_KEY]) == window
    assert scope_metadata(None) == {"scope": "whole table"}


def test_metadata_written_before_the_single_key_is_still_read() -> None:
    """Materializations recorded by earlier versions: four flat fields, values joined by commas."""
    window = {
        "scope_column": "day",
        "scope_start": "2026-01-01T00:00:00",
        "scope_end": "2026-01-02T00:00:00",
        "scope_values": "",
    }
    assert scope_from_metadata(window) == Scope(
        "day", "day", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)
    )
    static = {"scope_column": "region", "scope_start": "", "scope_end": "", "scope_values": "eu,us"}
    assert scope_from_metadata(static) == Scope("region", "region", values=("eu", "us"))
    assert scope_from_metadata({"scope": "whole table"}) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"column": "a"}',
        "not json",
        '{"column":1,"target_column":"a","start":null,"end":null,"values":[]}',
        '{"column":"a","target_column":"a","start":"monday","end":null,"values":[]}',
    ],
    ids=["fields missing", "not json", "column not text", "start not a datetime"],
)
def test_text_that_is_not_an_encoded_scope_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="not an encoded sync scope"):
        Scope.decode(text)

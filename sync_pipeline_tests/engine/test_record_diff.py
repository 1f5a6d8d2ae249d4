"""diff_record(): EctoDiff's cases translated to mappings, the engine's equality, and properties."""

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sync_pipeline
from sync_pipeline import RecordDiff, diff_record
from sync_pipeline.engine.compare import values_equal
from sync_pipeline.engine.record_diff import RECORD_EFFECTS, RecordDiffError
from sync_pipeline.errors import SyncError

PET = {"id": 1, "name": "Spot", "type": "Cat", "owner_id": None}


# --- diff/3 basics (ecto_diff_test.exs "diff/3") ----------------------------------------------


def test_no_changes_is_none():
    assert diff_record(PET, dict(PET)) is None


def test_both_none_is_none():
    assert diff_record(None, None) is None


def test_insert_lists_every_non_null_field_as_added():
    d = diff_record(None, PET)
    assert d is not None
    assert d.effect == "added"
    assert d.key == (1,)
    assert d.primary_key == {"id": 1}
    assert d.changes == {"id": (None, 1), "name": (None, "Spot"), "type": (None, "Cat")}
    assert d.previous is None
    assert d.current is PET


def test_insert_of_an_all_null_record_is_none():
    assert diff_record(None, {"id": None, "name": None}) is None


def test_update_lists_only_the_changed_fields():
    d = diff_record(PET, {**PET, "name": "McFluffFace"})
    assert d is not None
    assert d.effect == "changed"
    assert d.changes == {"name": ("Spot", "McFluffFace")}
    assert d.previous is PET


def test_delete_has_no_changes_and_the_previous_key():
    d = diff_record(PET, None)
    assert d is not None
    assert (d.effect, d.key, d.changes, d.current) == ("deleted", (1,), {}, None)


def test_different_non_null_keys_mean_replaced_and_are_never_none():
    d = diff_record({"id": 1, "name": "Spot"}, {"id": 2, "name": "Spot"})
    assert d is not None
    assert d.effect == "replaced"
    assert d.key == (2,)
    assert d.changes == {"id": (1, 2)}


def test_replaced_is_reported_even_when_only_the_key_differs_under_a_comparator():
    d = diff_record({"id": 1}, {"id": 2}, comparators={"id": lambda new, old: False})
    assert d is not None
    assert (d.effect, d.changes) == ("replaced", {})


def test_a_key_gaining_a_value_is_a_change_not_a_replacement():
    d = diff_record({"id": None, "name": "Spot"}, {"id": 7, "name": "Spot"})
    assert d is not None
    assert (d.effect, d.changes) == ("changed", {"id": (None, 7)})


def test_fields_missing_on_one_side_count_as_null():
    assert diff_record({"id": 1, "x": None}, {"id": 1}) is None
    d = diff_record({"id": 1, "x": 5}, {"id": 1})
    assert d is not None
    assert d.changes == {"x": (5, None)}


def test_changes_list_previous_fields_first_then_new_ones():
    d = diff_record({"id": 1, "b": 1, "a": 1}, {"c": 1, "a": 2, "id": 1, "b": 2})
    assert d is not None
    assert list(d.changes) == ["b", "a", "c"]


# --- keys: composite, overrides, errors -------------------------------------------------------


def test_composite_key_gives_the_key_tuple_and_primary_key_map():
    d = diff_record(None, {"id": 1, "name": "Spot", "type": "Calico"}, key=("name", "type"))
    assert d is not None
    assert d.key == ("Spot", "Calico")
    assert d.key_fields == ("name", "type")
    assert d.primary_key == {"name": "Spot", "type": "Calico"}


def test_a_single_key_may_be_given_as_a_string():
    d = diff_record(None, {"refid": "a", "x": 1}, key="refid")
    assert d is not None
    assert d.primary_key == {"refid": "a"}


def test_composite_key_differing_in_one_part_is_replaced():
    d = diff_record({"a": 1, "b": 1}, {"a": 1, "b": 2}, key=("a", "b"))
    assert d is not None
    assert d.effect == "replaced"


def test_composite_key_with_a_null_part_is_never_replaced():
    d = diff_record({"a": 1, "b": None}, {"a": 2, "b": None}, key=("a", "b"))
    assert d is not None
    assert d.effect == "changed"


@pytest.mark.parametrize("key", [(), [], "", None])
def test_empty_key_raises_no_keys_specified(key: Any):
    with pytest.raises(RecordDiffError, match="no keys specified"):
        diff_record(PET, PET, key=key)


@pytest.mark.parametrize(
    ("previous", "current", "side"),
    [(None, PET, "current"), (PET, None, "previous"), (PET, {"id": 1, "name": "x"}, "current")],
)
def test_key_fields_missing_from_a_record_raise_naming_them(previous, current, side):
    with pytest.raises(RecordDiffError, match=rf"{side} record lacks key field\(s\) \['refid'\]"):
        diff_record(previous, current, key=("id", "refid"))


def test_missing_key_error_is_a_sync_error_and_a_value_error():
    with pytest.raises(SyncError) as info:
        diff_record(None, {"name": "x"})
    assert isinstance(info.value, ValueError)
    assert info.value.stage == "diff"


def test_non_mapping_record_raises():
    with pytest.raises(RecordDiffError, match="current record must be a mapping or None"):
        diff_record(None, [("id", 1)])  # type: ignore[arg-type]


# --- children (has_many matrix) ----------------------------------------------------------------

ORDER = {
    "id": 1,
    "status": "open",
    "lines": [
        {"line_id": "eat", "level": 1},
        {"line_id": "sleep", "level": 1},
        {"line_id": "scratch", "level": 1},
        {"line_id": "purr", "level": 3},
    ],
}


def _lines(*lines: dict[str, Any]) -> dict[str, Any]:
    return {**ORDER, "lines": list(lines)}


def test_add_update_remove_and_untouched_children_together():
    new = _lines(
        {"line_id": "eat", "level": 1},
        {"line_id": "sleep", "level": 2},
        {"line_id": "purr", "level": 3},
        {"line_id": "meow", "level": 1},
    )
    d = diff_record(ORDER, new, children={"lines": ("line_id",)})
    assert d is not None
    assert d.effect == "changed"
    assert list(d.changes) == ["lines"]
    got = [(c.effect, c.key, c.changes) for c in d.changes["lines"]]
    assert got == [
        ("changed", ("sleep",), {"level": (1, 2)}),
        ("deleted", ("scratch",), {}),
        ("added", ("meow",), {"line_id": (None, "meow"), "level": (None, 1)}),
    ]
    assert d.child_changes == {"lines": d.changes["lines"]}
    assert d.field_changes == {}


def test_children_order_follows_previous_keys_then_new_keys_not_list_order():
    old = _lines({"line_id": "a", "v": 1}, {"line_id": "b", "v": 1})
    new = _lines({"line_id": "c", "v": 1}, {"line_id": "b", "v": 2}, {"line_id": "a", "v": 2})
    d = diff_record(old, new, children={"lines": "line_id"})
    assert d is not None
    assert [c.key for c in d.changes["lines"]] == [("a",), ("b",), ("c",)]


def test_reordered_unchanged_children_are_no_change():
    new = _lines(*reversed(ORDER["lines"]))
    assert diff_record(ORDER, new, children={"lines": "line_id"}) is None


def test_a_child_list_is_not_compared_as_a_field():
    d = diff_record(ORDER, {**ORDER, "status": "closed"}, children={"lines": "line_id"})
    assert d is not None
    assert d.changes == {"status": ("open", "closed")}


def test_insert_with_children_adds_every_child():
    d = diff_record(None, _lines({"line_id": "a", "v": 1}), children={"lines": "line_id"})
    assert d is not None
    assert d.effect == "added"
    assert [(c.effect, c.key) for c in d.changes["lines"]] == [("added", ("a",))]


def test_insert_with_an_empty_child_list_omits_the_list():
    d = diff_record(None, _lines(), children={"lines": "line_id"})
    assert d is not None
    assert "lines" not in d.changes


@pytest.mark.parametrize("absent", [None, [], "missing"])
def test_an_absent_child_list_counts_as_empty(absent: Any):
    old = {"id": 1, "lines": [{"line_id": 1}]}
    new = {"id": 1} if absent == "missing" else {"id": 1, "lines": absent}
    d = diff_record(old, new, children={"lines": "line_id"})
    assert d is not None
    assert [c.effect for c in d.changes["lines"]] == ["deleted"]


def test_deleting_the_parent_reports_no_child_changes():
    d = diff_record(ORDER, None, children={"lines": "line_id"})
    assert d is not None
    assert d.changes == {}


def test_children_with_a_null_key_never_match():
    old = _lines({"line_id": None, "v": 1})
    new = _lines({"line_id": None, "v": 1})
    d = diff_record(old, new, children={"lines": "line_id"})
    assert d is not None
    assert [c.effect for c in d.changes["lines"]] == ["deleted", "added"]


def test_child_keys_match_by_engine_equality():
    old = {"id": 1, "lines": [{"line_id": Decimal("1.0"), "v": 1}]}
    new = {"id": 1, "lines": [{"line_id": 1, "v": 2}]}
    d = diff_record(old, new, children={"lines": "line_id"})
    assert d is not None
    assert [(c.effect, c.changes) for c in d.changes["lines"]] == [("changed", {"v": (1, 2)})]


def test_child_key_true_does_not_match_one():
    old = {"id": 1, "lines": [{"k": True}]}
    new = {"id": 1, "lines": [{"k": 1}]}
    d = diff_record(old, new, children={"lines": "k"})
    assert d is not None
    assert [c.effect for c in d.changes["lines"]] == ["deleted", "added"]


def test_child_missing_its_key_raises_naming_the_child_and_field():
    new = _lines({"line_id": "a"}, {"level": 2})
    with pytest.raises(RecordDiffError, match=r"current record\.lines\[1\] lacks .*'line_id'"):
        diff_record(ORDER, new, children={"lines": "line_id"})


def test_duplicate_child_keys_raise_naming_the_key():
    old = _lines({"line_id": "a"}, {"line_id": "b"}, {"line_id": "a"})
    with pytest.raises(RecordDiffError, match=r"duplicate key \{'line_id': 'a'\}.*items 0 and 2"):
        diff_record(old, ORDER, children={"lines": "line_id"})


def test_child_spec_with_empty_key_raises():
    with pytest.raises(RecordDiffError, match="no keys specified for child 'lines'"):
        diff_record(ORDER, ORDER, children={"lines": ()})


@pytest.mark.parametrize(
    "spec", [{"keys": "line_id"}, {"key": "line_id", "extra": 1}, {"children": {}}]
)
def test_malformed_child_spec_raises(spec: dict[str, Any]):
    with pytest.raises(RecordDiffError, match="spec of child 'lines' must have 'key'"):
        diff_record(ORDER, ORDER, children={"lines": spec})


def test_a_child_list_that_is_not_a_list_raises():
    with pytest.raises(RecordDiffError, match=r"current record\.lines must be a list"):
        diff_record(ORDER, {**ORDER, "lines": "abc"}, children={"lines": "line_id"})


NESTED = {"lines": {"key": "line_id", "children": {"parts": ("part_id",)}}}


def test_nested_grandchildren_are_diffed_inside_their_child():
    old = {"id": 1, "lines": [{"line_id": 1, "parts": [{"part_id": "x", "qty": 1}]}]}
    new = {
        "id": 1,
        "lines": [{"line_id": 1, "parts": [{"part_id": "x", "qty": 2}, {"part_id": "y"}]}],
    }
    d = diff_record(old, new, children=NESTED)
    assert d is not None
    (line,) = d.changes["lines"]
    assert (line.effect, line.key, list(line.changes)) == ("changed", (1,), ["parts"])
    assert [(p.effect, p.key, p.changes) for p in line.changes["parts"]] == [
        ("changed", ("x",), {"qty": (1, 2)}),
        ("added", ("y",), {"part_id": (None, "y")}),
    ]


def test_nested_error_names_the_path_by_key():
    old = {"id": 1, "lines": [{"line_id": 1, "parts": [{"part_id": "x"}]}]}
    new = {"id": 1, "lines": [{"line_id": 1, "parts": [{"qty": 1}]}]}
    with pytest.raises(RecordDiffError, match=r"current record\.lines\[line_id=1\]\.parts\[0\]"):
        diff_record(old, new, children=NESTED)


def test_child_comparators_apply_at_their_own_level_only():
    spec = {"lines": {"key": "line_id", "comparators": {"name": lambda n, o: False}}}
    old = {"id": 1, "name": "A", "lines": [{"line_id": 1, "name": "A"}]}
    new = {"id": 1, "name": "B", "lines": [{"line_id": 1, "name": "B"}]}
    d = diff_record(old, new, children=spec)
    assert d is not None
    assert d.changes == {"name": ("A", "B")}


# --- one-cardinality children (belongs_to / embeds_one) ---------------------------------------


def test_single_child_mapping_is_diffed_as_one_nested_diff():
    old = {"id": 1, "owner": {"id": 10, "name": "Ann"}}
    new = {"id": 1, "owner": {"id": 10, "name": "Bo"}}
    d = diff_record(old, new, children={"owner": "id"})
    assert d is not None
    owner = d.changes["owner"]
    assert isinstance(owner, RecordDiff)
    assert (owner.effect, owner.changes) == ("changed", {"name": ("Ann", "Bo")})


def test_single_child_swapped_for_another_is_replaced():
    old = {"id": 1, "owner": {"id": 10}}
    new = {"id": 1, "owner": {"id": 11}}
    d = diff_record(old, new, children={"owner": "id"})
    assert d is not None
    assert d.changes["owner"].effect == "replaced"


def test_single_child_removed_is_deleted_and_unchanged_is_omitted():
    d = diff_record(
        {"id": 1, "owner": {"id": 10}}, {"id": 1, "owner": None}, children={"owner": "id"}
    )
    assert d is not None
    assert d.changes["owner"].effect == "deleted"
    same = {"id": 1, "owner": {"id": 10}}
    assert diff_record(same, dict(same), children={"owner": "id"}) is None


# --- equality: same as the engine (semantics §3.2, §3.11) -----------------------------------------

UTC = dt.UTC
CEST = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Decimal("1.0"), Decimal("1.00")),
        (Decimal("12.90"), Decimal("12.9")),
        (5, Decimal("5.000")),
        (None, float("nan")),
        (Decimal("NaN"), None),
        (dt.datetime(2025, 1, 1, 12, tzinfo=UTC), dt.datetime(2025, 1, 1, 14, tzinfo=CEST)),
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}),
        ('{"a": 1, "b": 2}', {"b": 2, "a": 1}),
        (uuid.UUID(int=5), str(uuid.UUID(int=5))),
    ],
    ids=[
        "dec-scale",
        "dec-trailing",
        "int-dec",
        "none-nan",
        "dec-nan",
        "tz",
        "json",
        "json-text",
        "uuid",
    ],
)
def test_equal_values_are_no_change(old: Any, new: Any):
    assert diff_record({"id": 1, "v": old}, {"id": 1, "v": new}) is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Decimal("1.0"), Decimal("1.01")),
        (1, True),
        (0, None),
        ("a", "A"),
        ("1", 1),
        (dt.datetime(2025, 1, 1, 12, tzinfo=UTC), dt.datetime(2025, 1, 1, 12, tzinfo=CEST)),
        ({"a": 1}, {"a": True}),
        ([1, 2], [2, 1]),
        (1, [1]),
        ("x", {"a": 1}),
        ([1], "1"),
    ],
)
def test_different_values_are_a_change(old: Any, new: Any):
    d = diff_record({"id": 1, "v": old}, {"id": 1, "v": new})
    assert d is not None
    assert d.changes == {"v": (old, new)}


def test_replaced_uses_engine_equality_for_keys():
    assert diff_record({"id": Decimal("1.0"), "x": 1}, {"id": 1, "x": 1}) is None


# --- comparators -------------------------------------------------------------------------------


def test_comparator_overrides_default_equality():
    casefold = {"name": lambda new, old: str(new).casefold() != str(old).casefold()}
    assert (
        diff_record({"id": 1, "name": "Spot"}, {"id": 1, "name": "SPOT"}, comparators=casefold)
        is None
    )


def test_comparator_can_flag_values_the_default_finds_equal():
    strict = {"v": lambda new, old: repr(new) != repr(old)}
    d = diff_record(
        {"id": 1, "v": Decimal("1.0")}, {"id": 1, "v": Decimal("1.00")}, comparators=strict
    )
    assert d is not None
    assert d.changes == {"v": (Decimal("1.0"), Decimal("1.00"))}


def test_comparator_receives_new_then_old():
    calls: list[tuple[Any, Any]] = []

    def spy(new: Any, old: Any) -> bool:
        calls.append((new, old))
        return False

    diff_record({"id": 1, "v": "old"}, {"id": 1, "v": "new"}, comparators={"v": spy})
    assert calls == [("new", "old")]


def test_ignoring_comparator_drops_the_field_from_an_insert_too():
    d = diff_record(None, {"id": 1, "seen_at": 5}, comparators={"seen_at": lambda n, o: False})
    assert d is not None
    assert d.changes == {"id": (None, 1)}


def test_non_callable_comparator_raises_naming_the_field():
    with pytest.raises(RecordDiffError, match=r"must be callable.*\['name'\]"):
        diff_record(PET, PET, comparators={"name": "casefold"})  # type: ignore[dict-item]


def test_key_fields_must_be_strings():
    with pytest.raises(RecordDiffError, match="must be strings"):
        diff_record(PET, PET, key=(1,))  # type: ignore[arg-type]


# --- serialization -----------------------------------------------------------------------------


def test_as_dict_is_json_serializable():
    old = {
        "id": 1,
        "amount": Decimal("1.5"),
        "at": dt.datetime(2025, 1, 1, tzinfo=UTC),
        "u": uuid.UUID(int=1),
        "lines": [{"line_id": 1, "x": float("nan")}],
    }
    new = {**old, "amount": Decimal("2"), "lines": [{"line_id": 2, "day": dt.date(2025, 1, 2)}]}
    d = diff_record(old, new, children={"lines": "line_id"})
    assert d is not None
    out = json.loads(json.dumps(d.as_dict(), allow_nan=False))
    assert out["effect"] == "changed"
    assert out["key"] == [1]
    assert out["primary_key"] == {"id": 1}
    assert out["changes"]["amount"] == ["1.5", "2"]
    assert [c["effect"] for c in out["changes"]["lines"]] == ["deleted", "added"]
    assert out["changes"]["lines"][1]["changes"]["day"] == [None, "2025-01-02"]
    assert out["previous"]["at"] == "2025-01-01T00:00:00+00:00"
    assert out["previous"]["lines"][0]["x"] is None


def test_as_dict_of_a_single_child_diff_is_a_dict():
    d = diff_record({"id": 1, "o": {"id": 1}}, {"id": 1, "o": {"id": 2}}, children={"o": "id"})
    assert d is not None
    assert d.as_dict()["changes"]["o"]["effect"] == "replaced"


def test_record_diff_is_frozen():
    d = diff_record(None, PET)
    assert d is not None
    with pytest.raises(AttributeError):
        d.effect = "deleted"  # type: ignore[misc]


def test_docs_example_runs():
    doc = Path(__file__).parents[2] / "docs" / "record_diff.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {})


# --- properties --------------------------------------------------------------------------------

FIELDS = ("a", "b", "c", "d")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.decimals(-3, 3, places=2, allow_nan=False),
    st.floats(-3, 3, allow_infinity=False),
    st.sampled_from(["x", "X", "", "1"]),
    st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2024, 1, 2),
        timezones=st.sampled_from([UTC, CEST]),
    ),
    st.lists(st.integers(0, 2), max_size=2),
)
records = st.fixed_dictionaries({"id": st.integers(1, 3)}, optional={f: scalars for f in FIELDS})


def _apply(record: dict[str, Any], d: RecordDiff | None) -> dict[str, Any]:
    """Patch `record` with the field changes of a diff (the tiny 'apply' of the property)."""
    out = dict(record)
    for name, (_old, new) in (d.field_changes if d else {}).items():
        out[name] = new
    return out


def _same_on_fields(x: dict[str, Any], y: dict[str, Any]) -> bool:
    return all(values_equal(x.get(f), y.get(f)) for f in {*x, *y})


@given(records)
def test_prop_a_record_diffed_with_itself_is_none(x):
    assert diff_record(x, dict(x)) is None


@given(records)
def test_prop_none_to_record_is_added(x):
    d = diff_record(None, x)
    assert d is not None
    assert d.effect == "added"
    assert all(old is None and not values_equal(new, None) for old, new in d.changes.values())


@given(records)
def test_prop_record_to_none_is_deleted(x):
    d = diff_record(x, None)
    assert d is not None
    assert (d.effect, d.changes) == ("deleted", {})


@given(records, records)
def test_prop_applying_the_changes_of_a_to_b_yields_b(a, b):
    patched = _apply(a, diff_record(a, b))
    assert _same_on_fields(patched, b)
    assert diff_record(patched, b) is None


@given(records, records)
def test_prop_changed_fields_are_symmetric(a, b):
    forward, backward = diff_record(a, b), diff_record(b, a)
    assert set(forward.changes if forward else ()) == set(backward.changes if backward else ())
    if forward is not None and backward is not None:
        assert forward.effect == backward.effect
        for name, (old, new) in forward.changes.items():
            assert backward.changes[name] == (new, old)


child_lists = st.lists(
    st.fixed_dictionaries({"k": st.integers(0, 4)}, optional={"v": scalars}),
    max_size=4,
    unique_by=lambda c: c["k"],
)


def _expected_effect(k: int, old: dict[int, Any], new: dict[int, Any]) -> str | None:
    if k not in new:
        return "deleted"
    if k not in old:
        return "added"
    return None if _same_on_fields(old[k], new[k]) else "changed"


@given(records, child_lists, child_lists)
def test_prop_child_diffs_cover_exactly_the_keys_that_differ(parent, before, after):
    d = diff_record({**parent, "kids": before}, {**parent, "kids": after}, children={"kids": "k"})
    old, new = {c["k"]: c for c in before}, {c["k"]: c for c in after}
    expected = {k: _expected_effect(k, old, new) for k in {*old, *new}}
    got = {c.key[0]: c.effect for c in (d.changes.get("kids", []) if d else [])}
    assert got == {k: e for k, e in expected.items() if e is not None}


@given(records, child_lists)
def test_prop_reordering_children_is_no_change(parent, kids):
    reordered = {**parent, "kids": list(reversed(kids))}
    assert diff_record({**parent, "kids": kids}, reordered, children={"kids": "k"}) is None


def test_effects_vocabulary():
    assert RECORD_EFFECTS == ("added", "deleted", "changed", "replaced")


def test_diff_is_the_deprecated_name_of_diff_record() -> None:
    """`diff` was the first name; it warns and gives what `diff_record` gives."""
    with pytest.warns(DeprecationWarning, match="diff_record"):
        diff = sync_pipeline.diff
    assert diff(PET, {**PET, "name": "Rex"}) == diff_record(PET, {**PET, "name": "Rex"})

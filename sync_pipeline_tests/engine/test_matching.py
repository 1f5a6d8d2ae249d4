"""semantics §3.1: match-by fields, composite keys, callables, case folding, custom keys, nulls,
duplicates. Every test runs on Postgres and SQLite."""

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_pipeline import BatchImport, import_records
from sync_pipeline.engine.keys import KeyCodes, KeyRecipe, build_keys
from sync_pipeline.errors import AmbiguousMatchError, DuplicateKeyError, RecordError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


@pytest.fixture
def codes_db(db):
    t = sa.Table(
        "codes",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("a", sa.String(20)),
        sa.Column("b", sa.String(20)),
        sa.Column("label", sa.Text),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    db.create(t)
    return db


def labels(db):
    return [(r["a"], r["b"], r["label"]) for r in db.rows("codes")]


def test_match_by_a_non_primary_key_field(codes_db):
    import_records(codes_db.engine, "codes", [{"a": "x", "b": "1", "label": "old"}], match_by="a")
    result = import_records(
        codes_db.engine, "codes", [{"a": "x", "b": "1", "label": "new"}], "overwrite", match_by="a"
    )
    assert (result.created, result.updated) == (0, 1)
    assert labels(codes_db) == [("x", "1", "new")]


def test_match_by_a_composite_key(codes_db):
    seed = [{"a": "x", "b": "1", "label": "x1"}, {"a": "x", "b": "2", "label": "x2"}]
    import_records(codes_db.engine, "codes", seed, match_by=["a", "b"])
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": "x", "b": "2", "label": "X2"}, {"a": "y", "b": "1", "label": "y1"}],
        "overwrite",
        match_by=["a", "b"],
    )
    assert (result.created, result.updated, result.missing) == (1, 1, 1)
    assert labels(codes_db) == [("x", "1", "x1"), ("x", "2", "X2"), ("y", "1", "y1")]


def test_match_by_callable_transforms_the_value_before_comparing(codes_db):
    import_records(codes_db.engine, "codes", [{"a": "Hans Maier", "label": "old"}], match_by="a")
    first_letter = {"a": lambda value, record: value[:1]}
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": "Herbert", "label": "new"}],
        "overwrite",
        match_by=first_letter,
    )
    assert (result.created, result.updated) == (0, 1)
    assert labels(codes_db) == [("Herbert", None, "new")]


def test_case_insensitive_matching_does_not_rely_on_collation(codes_db):
    import_records(
        codes_db.engine, "codes", [{"a": "R1", "label": "old"}, {"a": "Straße"}], match_by="a"
    )
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": "r1", "label": "new"}, {"a": "STRASSE", "label": "folded"}],
        "overwrite",
        match_by="a",
        case_sensitive=False,
        update_if_exists=["label"],
    )
    assert (result.created, result.updated) == (0, 2)
    assert labels(codes_db) == [("R1", None, "new"), ("Straße", None, "folded")]


def test_case_sensitive_is_the_default(codes_db):
    import_records(codes_db.engine, "codes", [{"a": "R1"}], match_by="a")
    result = import_records(codes_db.engine, "codes", [{"a": "r1"}], match_by="a")
    assert result.created == 1


def test_custom_comparison_key_replaces_the_built_in_key(codes_db):
    import_records(codes_db.engine, "codes", [{"a": "x-1", "label": "old"}], match_by="a")
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": "X_1", "label": "new"}],
        "overwrite",
        comparison_key=lambda r: r["a"].lower().replace("_", "-"),
        update_if_exists=["label"],
    )
    assert (result.created, result.updated) == (0, 1)
    assert labels(codes_db) == [("x-1", None, "new")]


def test_keys_are_typed_not_joined_strings(codes_db):
    import_records(
        codes_db.engine,
        "codes",
        [{"a": "09", "label": "a"}, {"a": "a|", "b": "b", "label": "p"}],
        match_by=["a", "b"],
    )
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": "9", "label": "z"}, {"a": "a", "b": "|b", "label": "q"}],
        match_by=["a", "b"],
        null_keys="insert",
    )
    assert result.created == 2 and result.skipped == 0


@pytest.mark.parametrize("policy", ["insert", "skip"])
def test_a_null_key_never_matches(codes_db, policy):
    import_records(
        codes_db.engine, "codes", [{"a": None, "b": "1", "label": "null-row"}], match_by=["a", "b"]
    )
    result = import_records(
        codes_db.engine,
        "codes",
        [{"a": None, "b": "1", "label": "incoming"}],
        "overwrite",
        match_by=["a", "b"],
        null_keys=policy,
    )
    rows = labels(codes_db)
    assert rows[0] == (None, "1", "null-row")  # the existing null-key row is untouched
    if policy == "insert":
        assert (result.created, result.updated, result.skipped) == (1, 0, 0)
        assert rows[1] == (None, "1", "incoming")
    else:
        assert (result.created, result.updated, result.skipped) == (0, 0, 1)
        assert len(rows) == 1


def test_null_keys_error_names_the_record_and_field_and_writes_nothing(codes_db):
    with pytest.raises(RecordError) as err:
        import_records(
            codes_db.engine,
            "codes",
            [{"a": "x", "b": "1"}, {"a": "y", "b": None}],
            match_by=["a", "b"],
            null_keys="error",
        )
    assert err.value.index == 1 and err.value.field == "b"
    assert labels(codes_db) == []


def test_duplicates_error_by_default_names_the_keys(codes_db):
    batch = [{"a": "x", "label": "1"}, {"a": "y"}, {"a": "x", "label": "2"}]
    with pytest.raises(DuplicateKeyError) as err:
        import_records(codes_db.engine, "codes", batch, match_by="a")
    assert err.value.duplicates == {("x",): [0, 2]}
    assert labels(codes_db) == []


@pytest.mark.parametrize(("policy", "kept"), [("first", "1"), ("last", "3")])
def test_duplicates_first_or_last_is_deterministic(codes_db, policy, kept):
    batch = [
        {"a": "x", "label": "1"},
        {"a": "y"},
        {"a": "x", "label": "2"},
        {"a": "X", "label": "3"},
    ]
    result = import_records(
        codes_db.engine, "codes", batch, match_by="a", case_sensitive=False, duplicates=policy
    )
    assert (result.created, result.skipped) == (2, 2)
    assert [r for r in labels(codes_db) if r[2]] == [("x" if kept != "3" else "X", None, kept)]


def test_several_target_rows_with_one_key_is_an_error(codes_db):
    import_records(codes_db.engine, "codes", [{"a": "R1"}, {"a": "r1"}], match_by="a")
    with pytest.raises(AmbiguousMatchError, match="matches 2 rows"):
        import_records(codes_db.engine, "codes", [{"a": "R1"}], match_by="a", case_sensitive=False)


def test_a_target_far_bigger_than_the_batch_is_matched_by_joining_on_the_batch(codes_db):
    """The hash join then builds on the batch's keys (as for a unit of a stream's held scope)."""
    seed = [{"a": f"k{i}", "label": "old"} for i in range(10)]
    import_records(codes_db.engine, "codes", seed, match_by="a")
    batch = [{"a": "k7", "label": "new"}, {"a": "k99", "label": "added"}]
    result = import_records(codes_db.engine, "codes", batch, "merge", match_by="a")
    assert (result.created, result.updated) == (1, 1)
    assert [r for r in labels(codes_db) if r[2] != "old"] == [
        ("k7", None, "new"),
        ("k99", None, "added"),
    ]


def test_several_target_rows_with_one_key_in_a_far_bigger_target_is_an_error(codes_db):
    seed = [{"a": f"k{i}"} for i in range(10)] + [{"a": "K3"}]
    import_records(codes_db.engine, "codes", seed, match_by="a")
    with pytest.raises(AmbiguousMatchError, match="matches 2 rows"):
        import_records(codes_db.engine, "codes", [{"a": "k3"}], match_by="a", case_sensitive=False)


def test_default_match_is_the_primary_key(db):
    db.create(people())
    import_records(db.engine, "people", [{"id": 1, "name": "a"}])
    diff = BatchImport(db.engine, "people", "overwrite").preview([{"id": 1, "name": "b"}])
    assert diff.key_fields == ("id",) and diff.changed == 1


# Property: typed keys never collide where the tuples differ (no database needed).
parts = st.one_of(st.text(alphabet="a|~9 0", max_size=4), st.integers(-3, 12))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(parts, parts), min_size=1, max_size=12))
def test_python_keys_are_equal_exactly_when_the_tuples_are(pairs):
    import pyarrow as pa

    table = pa.table({"a": [repr(p[0]) + "\x00" for p in pairs], "b": [str(p[1]) for p in pairs]})
    spec = KeyRecipe(("a", "b"), {"a": lambda v, r: v, "b": lambda v, r: v})
    codes = KeyCodes()
    keys = build_keys(table, spec, {"a": "text", "b": "text"}, codes).columns[0].to_pylist()
    for i, x in enumerate(pairs):
        for j, y in enumerate(pairs):
            same = (repr(x[0]), str(x[1])) == (repr(y[0]), str(y[1]))
            assert (keys[i] == keys[j]) == same

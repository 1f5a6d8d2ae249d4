"""A planned diff keeps little of the target: the scope's identities, and of the rows it touches
their versions (Postgres' xmin) or, where the database keeps none, their values (stale.py)."""

import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, StaleDiffError, import_records
from sync_pipeline.db.dialect import Dialect
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

SEED = [{"id": i, "name": f"n{i}", "email": f"{i}@x.io", "age": 20 + i} for i in range(1, 6)]
BATCH = [
    {"id": 1, "name": "n1", "age": 21},  # unchanged
    {"id": 2, "name": "CHANGED", "age": 22},  # changed
    {"id": 7, "name": "new", "age": 1},  # added; 3, 4 and 5 are missing
]


@pytest.fixture
def ppl(db):
    db.create(people())
    import_records(db.engine, "people", SEED)
    return db


def importer(db):
    return BatchImport(db.engine, "people", "overwrite")


def versioned(db) -> bool:
    return Dialect.of(db.engine).row_versions


def test_the_planned_diff_keeps_only_the_rows_it_touches_and_the_scope(ppl):
    diff = importer(ppl).preview(BATCH)
    assert diff.scope is not None and diff.scope.column("id").to_pylist() == [1, 2, 3, 4, 5]
    assert diff.columns == ("id", "name", "email", "age", "last_batch_id")
    old = diff.old.to_pylist()
    assert [r["id"] for r in old] == [1, 2]
    assert [e.changes for e in diff.preview()][:1] == [{"name": ("n2", "CHANGED")}]
    if versioned(ppl):  # identity and compared values of the changed row; versions in scope
        assert list(diff.old.column_names) == ["id", "name", "age"]
        assert [(r["name"], r["age"]) for r in old] == [(None, None), ("n2", 22)]
        versions = diff.scope.column("__version").to_pylist()
        assert [v is not None for v in versions] == [True, True, False, False, False]
    else:  # every value of the touched rows, to compare at apply
        assert list(diff.old.column_names) == list(diff.columns)
        assert [(r["name"], r["email"]) for r in old] == [("n1", "1@x.io"), ("n2", "2@x.io")]


def test_a_touched_row_changed_in_a_column_the_diff_does_not_compare_makes_it_stale(ppl):
    diff = importer(ppl).preview(BATCH)
    ppl.execute("UPDATE people SET email = 'other' WHERE id = 1")  # another transaction
    before = ppl.rows("people")
    with pytest.raises(StaleDiffError, match=r"^1 row\(s\) of 'people' changed"):
        importer(ppl).apply(diff)
    assert ppl.rows("people") == before


def test_a_no_op_update_of_a_touched_row_is_stale_only_where_rows_have_versions(ppl):
    diff = importer(ppl).preview(BATCH)
    ppl.execute("UPDATE people SET name = name WHERE id IN (1, 2)")  # values stay as they were
    before = ppl.rows("people")
    if versioned(ppl):  # a new row version: conservatively stale
        with pytest.raises(StaleDiffError, match=r"^2 row\(s\) of 'people' changed"):
            importer(ppl).apply(diff)
        assert ppl.rows("people") == before
    else:  # the values compare equal: the diff is current
        result = importer(ppl).apply(diff)
        assert (result.created, result.updated, result.unchanged) == (1, 1, 1)


def test_an_untouched_row_deleted_and_inserted_again_keeps_the_diff_current(ppl):
    diff = importer(ppl).preview(BATCH)
    ppl.execute(
        "DELETE FROM people WHERE id = 3"
    )  # missing from the batch: only its presence counts
    ppl.execute("INSERT INTO people (id, name, age) VALUES (3, 'other', 0)")
    result = importer(ppl).apply(diff)
    assert (result.updated, result.missing) == (1, 3)


@pytest.fixture
def codes(db):
    """A table without a primary key: rows are addressed by `code`, which may be null."""
    db.create(
        sa.Table(
            "codes",
            sa.MetaData(),
            sa.Column("code", sa.Text),
            sa.Column("v", sa.Integer),
            sa.Column("last_batch_id", sa.BigInteger),
        )
    )
    db.execute("INSERT INTO codes (code, v) VALUES ('a', 1), ('b', 2), ('c', 3), (NULL, 4)")
    return db


CODES = [{"code": "a", "v": 10}, {"code": "b", "v": 2}]  # a changed, b unchanged; c missing


@pytest.mark.parametrize(
    ("change", "n"),
    [
        (None, 0),
        ("UPDATE codes SET v = 20 WHERE code = 'b'", 1),  # a touched row
        ("INSERT INTO codes (code, v) VALUES (NULL, 5)", 1),  # a row with a null identity
        ("DELETE FROM codes WHERE code IS NULL", 1),
    ],
)
def test_an_identity_that_may_be_null_is_compared_too(codes, change, n):
    imp = BatchImport(codes.engine, "codes", "overwrite", match_by="code")
    diff = imp.preview(CODES)
    if change is None:
        assert (
            imp.apply(diff).updated,
            {r["code"]: r["v"] for r in codes.rows("codes", "v")}["a"],
        ) == (1, 10)
        return
    codes.execute(change)
    before = codes.rows("codes", "v")
    with pytest.raises(StaleDiffError, match=rf"^{n} row\(s\) of 'codes' changed"):
        imp.apply(diff)
    assert codes.rows("codes", "v") == before

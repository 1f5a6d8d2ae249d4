"""semantics §3.10: names are checked against the reflected schema; values are always bound."""

import pytest

from sync_pipeline import BatchImport, import_records, missing_after_batch
from sync_pipeline.errors import RecordError, SchemaError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

HOSTILE_NAMES = [
    "t; DROP TABLE people; --",
    "people'--",
    "people OR 1=1",
    'people"; DELETE FROM people; --',
    "people.x.y",
]


@pytest.fixture
def ppl(db):
    db.create(people())
    import_records(db.engine, "people", [{"id": 1, "name": "keep"}])
    return db


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_table_names_are_rejected_and_nothing_changes(ppl, name):
    with pytest.raises(SchemaError, match="does not exist"):
        import_records(ppl.engine, name, [{"id": 2, "name": "x"}])
    with pytest.raises(SchemaError):
        missing_after_batch(ppl.engine, name, 1)
    assert [r["name"] for r in ppl.rows("people")] == ["keep"]


@pytest.mark.parametrize("column", ["name; DROP TABLE people; --", 'na"me', "name'--", "emial"])
def test_unknown_columns_name_the_record_and_field_and_write_nothing(ppl, column):
    with pytest.raises(RecordError) as err:
        import_records(ppl.engine, "people", [{"id": 2, "name": "ok"}, {"id": 3, column: "x"}])
    assert err.value.field == column and err.value.index == 1
    assert [r["id"] for r in ppl.rows("people")] == [1]


def test_unknown_column_suggests_the_close_name(ppl):
    with pytest.raises(RecordError, match="did you mean 'email'"):
        import_records(ppl.engine, "people", [{"id": 2, "emial": "x"}])
    with pytest.raises(
        SchemaError,
        match="match_by field 'nmae' is not in table 'people' \\(did you mean 'name'\\?\\)",
    ):
        BatchImport(ppl.engine, "people", match_by="nmae").preview([{"name": "x"}])


def test_values_with_sql_metacharacters_are_stored_verbatim(ppl):
    nasty = ["'; DROP TABLE people; --", 'a"b', "100%", "\\x00\\", 'line\nbreak,"quoted"', ""]
    result = import_records(
        ppl.engine, "people", [{"id": i + 10, "name": v} for i, v in enumerate(nasty)]
    )
    assert result.created == len(nasty)
    assert [r["name"] for r in ppl.rows("people")][1:] == nasty


def test_oversize_values_are_rejected_before_writing(ppl):
    with pytest.raises(RecordError, match="longer than the column's 120"):
        import_records(ppl.engine, "people", [{"id": 2, "email": "x" * 121}])
    assert len(ppl.rows("people")) == 1


def test_where_with_an_unknown_column_is_rejected(ppl):
    with pytest.raises(SchemaError, match="where column 'tenant'"):
        import_records(ppl.engine, "people", [{"id": 2}], where={"tenant": "a"})


def test_errors_never_show_the_password():
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:5432/test"
    with pytest.raises(SchemaError) as err:
        import_records(url, "no_such_table_here", [{"id": 1}])
    assert "s3cret-pw" not in str(err.value)

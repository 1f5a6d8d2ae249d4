"""Issue 8 item 9: on SQLite everything an import creates vanishes with its rolled-back batch."""

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.errors import ApplyError, RecordError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


def _tables(db) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _unique_people(db) -> None:
    t = people()
    t.append_constraint(sa.UniqueConstraint("email"))
    db.create(t)


FAILURES = [
    pytest.param([{"id": 1, "age": "five"}], RecordError, id="bad-value"),
    pytest.param(
        [{"id": 1, "email": "a@x.io"}, {"id": 2, "email": "a@x.io"}], ApplyError, id="constraint"
    ),
]


@pytest.mark.parametrize("records, error", FAILURES)
@pytest.mark.parametrize("as_url", [False, True], ids=["engine", "url"])
def test_a_failed_first_import_leaves_no_ledger_behind(db, records, error, as_url):
    _unique_people(db)
    before = _tables(db)
    with pytest.raises(error):
        import_records(db.url if as_url else db.engine, "people", records, "overwrite")
    assert _tables(db) == before  # no _sync_batches
    assert db.rows("people") == []


def test_a_failed_ledger_mode_import_leaves_no_missing_table_behind(db):
    _unique_people(db)
    before = _tables(db)
    records = [{"id": 1, "email": "a@x.io"}, {"id": 2, "email": "a@x.io"}]
    with pytest.raises(ApplyError):
        import_records(db.engine, "people", records, "overwrite", batch_mode="ledger")
    assert _tables(db) == before


def test_a_successful_first_import_keeps_its_ledger(db):
    _unique_people(db)
    result = import_records(db.engine, "people", [{"id": 1, "email": "a@x.io"}])
    assert "_sync_batches" in _tables(db)
    assert db.execute("SELECT batch_id FROM _sync_batches") == [(result.batch_id,)]


def test_inside_a_callers_transaction_a_failure_keeps_the_callers_earlier_work(sqlite):
    _unique_people(sqlite)
    with sqlite.engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO people (id, name) VALUES (9, 'mine')"))
        with pytest.raises(RecordError):
            import_records(conn, "people", [{"id": 1, "age": "five"}])
        conn.commit()
    assert [r["name"] for r in sqlite.rows("people")] == ["mine"]
    assert "_sync_batches" not in _tables(sqlite)

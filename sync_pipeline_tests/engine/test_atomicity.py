"""semantics §3.7: one batch is one transaction; record errors abort or are collected."""

import hashlib

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.errors import ApplyError, RecordError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


@pytest.fixture
def uniq(db):
    t = people()
    t.append_constraint(sa.UniqueConstraint("email"))
    db.create(t)
    import_records(db.engine, "people", [{"id": 1, "name": "a", "email": "a@x.io"}])
    return db


def checksum(db):
    return hashlib.sha256(repr(db.rows("people")).encode()).hexdigest()


def test_a_constraint_violation_in_the_third_chunk_rolls_everything_back(uniq):
    before = checksum(uniq)
    records = [{"id": i, "name": f"n{i}", "email": f"{i}@x.io"} for i in range(2, 6)]
    records.append({"id": 6, "name": "dup", "email": "a@x.io"})  # 5th record -> 3rd chunk of 2
    records.append({"id": 1, "name": "changed", "email": "a@x.io"})
    with pytest.raises(ApplyError) as err:
        import_records(uniq.engine, "people", records, "overwrite", chunk_size=2)
    assert err.value.chunk == 3
    assert checksum(uniq) == before
    assert uniq.execute("SELECT count(*) FROM _sync_batches")[0][0] == 1  # no ledger row either


def test_record_error_aborts_by_default_naming_record_and_field(uniq):
    before = checksum(uniq)
    with pytest.raises(RecordError) as err:
        import_records(uniq.engine, "people", [{"id": 2, "age": 5}, {"id": 3, "age": "five"}])
    assert (err.value.index, err.value.field) == (1, "age")
    assert "record 1, field 'age'" in str(err.value)
    assert checksum(uniq) == before


def test_skip_record_collects_errors_and_goes_on(uniq):
    result = import_records(
        uniq.engine,
        "people",
        [{"id": 2, "age": 5}, {"id": 3, "age": "five"}, {"id": 4, "email": "x" * 200}],
        on_error="skip_record",
    )
    assert result.created == 1 and len(result.errors) == 2
    assert result.errors[0][0] == {"id": 3, "age": "five"} and "age" in result.errors[0][1]
    assert [r["id"] for r in uniq.rows("people")] == [1, 2]


def test_caller_owned_connection_keeps_its_transaction(uniq):
    with uniq.engine.connect() as conn, conn.begin():
        import_records(conn, "people", [{"id": 2, "name": "b"}])
        with pytest.raises(RecordError):
            import_records(conn, "people", [{"id": 3, "age": "x"}])
        conn.execute(sa.text("UPDATE people SET name = 'still usable' WHERE id = 1"))
    assert [r["name"] for r in uniq.rows("people")] == ["still usable", "b"]


def test_caller_owned_connection_rolls_back_with_the_caller(uniq):
    before = checksum(uniq)
    with uniq.engine.connect() as conn:
        trans = conn.begin()
        import_records(conn, "people", [{"id": 2, "name": "b"}])
        trans.rollback()
    assert checksum(uniq) == before


def test_a_guard_sees_the_diff_and_can_stop_the_write(uniq):
    before = checksum(uniq)
    seen = []

    def guard(diff):
        seen.append(diff.as_dict())
        if diff.missing:
            raise RuntimeError("refusing a batch that misses rows")

    with pytest.raises(RuntimeError, match="refusing"):
        import_records(uniq.engine, "people", [{"id": 2, "name": "b"}], "overwrite", guard=guard)
    assert checksum(uniq) == before and seen[0]["added"] == 1 and seen[0]["missing"] == 1
    result = import_records(
        uniq.engine, "people", [{"id": 1, "name": "a", "email": "a@x.io"}], guard=guard
    )
    assert result.skipped == 1

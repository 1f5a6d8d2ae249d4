"""An error leaving a stage of an import names the stage, the table and the batch id, once.

Our own errors keep their type (callers catch them by type); anything else becomes a
StageError whose cause is the original (not a SyncError: Dagster may retry it); the caller's own
guard exception passes unchanged.
"""

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import BatchImport, StaleDiffError, import_records
from sync_pipeline.errors import (
    AmbiguousMatchError,
    ApplyError,
    RecordError,
    StageError,
    SyncError,
)
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


@pytest.fixture
def ppl(db):
    t = people()
    t.append_constraint(sa.UniqueConstraint("email"))
    db.create(t)
    import_records(db.engine, "people", [{"id": 1, "name": "a", "email": "a@x.io"}])  # batch 1
    return db


def test_a_bad_value_is_named_at_the_normalize_stage(ppl):
    with pytest.raises(RecordError) as err:
        import_records(ppl.engine, "people", [{"id": 2, "age": "five"}])
    assert (err.value.stage, err.value.table, err.value.batch_id) == ("normalize", "people", 2)
    assert err.value.field == "age"
    assert "stage 'normalize' of table 'people', batch 2" in err.value.__notes__


def test_a_rejected_write_is_named_at_the_apply_stage(ppl):
    records = [{"id": 2, "email": "a@x.io"}]  # the unique email of row 1
    with pytest.raises(ApplyError) as err:
        import_records(ppl.engine, "people", records, "overwrite")
    assert (err.value.stage, err.value.table, err.value.batch_id) == ("apply", "people", 2)


def test_an_ambiguous_match_is_named_at_the_match_stage(ppl):
    import_records(ppl.engine, "people", [{"id": 2, "name": "a"}])
    with pytest.raises(AmbiguousMatchError) as err:
        import_records(ppl.engine, "people", [{"name": "a", "age": 3}], match_by="name")
    assert (err.value.stage, err.value.table) == ("match", "people")


def test_an_unexpected_error_becomes_a_stage_error_chaining_its_cause(ppl):
    def broken(new, old):
        raise ZeroDivisionError("comparator bug")

    with pytest.raises(StageError) as err:
        records = [{"id": 1, "name": "b"}]
        import_records(ppl.engine, "people", records, "overwrite", comparators={"name": broken})
    assert (err.value.stage, err.value.table, err.value.batch_id) == ("diff", "people", 2)
    assert isinstance(err.value.__cause__, ZeroDivisionError)
    assert str(err.value) == (
        "the diff stage of 'people' (batch 2) failed: ZeroDivisionError: comparator bug"
    )
    assert not isinstance(err.value, SyncError)  # not bad input: a retry may pass
    assert ppl.rows("people")[0]["name"] == "a"  # nothing written


def test_the_guards_own_exception_passes_through_with_a_note(ppl):
    def guard(diff):
        raise KeyError("vetoed")

    with pytest.raises(KeyError) as err:
        import_records(ppl.engine, "people", [{"id": 2}], guard=guard)
    assert err.value.__notes__ == ["raised in stage 'guard' of table 'people', batch 2"]


def test_a_stale_diff_is_named_at_the_check_stage(ppl):
    planned = BatchImport(ppl.engine, "people", "overwrite").preview([{"id": 1, "name": "b"}])
    ppl.execute("UPDATE people SET name = 'c' WHERE id = 1")
    with pytest.raises(StaleDiffError) as err:
        BatchImport(ppl.engine, "people", "overwrite").apply(planned)
    assert (err.value.stage, err.value.table, err.value.batch_id) == ("check", "people", 2)


def test_an_error_while_planning_names_the_stage_and_no_batch(ppl):
    with pytest.raises(RecordError) as err:
        BatchImport(ppl.engine, "people").preview([{"id": 2, "age": "five"}])
    assert (err.value.stage, err.value.table, err.value.batch_id) == ("normalize", "people", None)


def test_before_commit_sees_the_whole_streamed_import_and_raising_rolls_it_back(ppl):
    """The judgement on a whole stream (a sync's diff rules): it runs once, after the last
    chunk is written, with the import's totals; raising undoes every chunk and the ledger row."""
    seen = []

    def veto(result):
        seen.append((result.created, result.updated, result.unchanged, result.missing))
        raise ValueError("too many changes")

    chunks = [
        pa.Table.from_pylist([{"id": 1, "name": "A"}, {"id": 2, "name": "b"}]),
        pa.Table.from_pylist([{"id": 3, "name": "c"}]),
    ]
    before = ppl.rows("people")
    with pytest.raises(ValueError, match="too many changes"):
        import_records(ppl.engine, "people", iter(chunks), "overwrite", before_commit=veto)
    assert seen == [(2, 1, 0, 0)]
    assert ppl.rows("people") == before
    assert ppl.execute("SELECT count(*) FROM _sync_batches") == [(1,)]  # batch 1 only
    kept = import_records(
        ppl.engine, "people", iter(chunks), "overwrite", before_commit=seen.append
    )
    assert seen[-1] == kept and kept.created == 2 and len(ppl.rows("people")) == 3

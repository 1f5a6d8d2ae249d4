"""BatchImport.plan over a stream of chunks, then apply: the same diff and the same writes as
planning the whole batch at once (docs/semantics.md §3.9, stale diffs)."""

import pandas as pd
import pyarrow as pa
import pytest

from sync_pipeline import BatchImport, StaleDiffError, import_records
from sync_pipeline.engine.staged import load_diff
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

SEED = [{"id": i, "name": f"n{i}", "age": 20 + i} for i in range(1, 7)]
BATCH = [
    {"id": 1, "name": "n1", "age": 21},  # unchanged
    {"id": 2, "name": "CHANGED", "age": 22},  # changed
    {"id": 3, "name": "n3", "age": 99},  # changed
    {"id": 7, "name": "new", "age": 1},  # added
    {"id": 8, "name": "newer", "age": 2},  # added; 4, 5 and 6 are missing
]
COUNTS = ("created", "updated", "unchanged", "skipped", "deleted", "missing")


def chunks(records, size=2, frames=False):
    """The batch as a stream of Arrow tables (or DataFrames) of `size` records."""
    for start in range(0, len(records), size):
        part = records[start : start + size]
        yield pd.DataFrame(part) if frames else pa.Table.from_pylist(part)


@pytest.fixture(params=["column", "ledger"])
def seeded(request, db):
    db.create(people(), people(name="twin"))
    for table in ("people", "twin"):
        import_records(db.engine, table, SEED, batch_mode=request.param)
    return Seeded(db, request.param)


class Seeded:
    def __init__(self, db, mode):
        self.engine, self.mode = db.engine, mode
        self.rows, self.execute = db.rows, db.execute


def importer(seeded, table="people", **options):
    return BatchImport(seeded.engine, table, "overwrite", batch_mode=seeded.mode, **options)


@pytest.mark.parametrize("frames", [False, True], ids=["arrow", "frames"])
def test_a_planned_stream_is_the_diff_of_the_whole_batch(seeded, frames):
    streamed = importer(seeded).preview(chunks(BATCH, frames=frames))
    whole = importer(seeded).preview(BATCH)
    assert streamed.as_dict() == whole.as_dict()
    assert streamed.as_dict()["missing"] == 3 and streamed.added == 2 and streamed.changed == 2
    assert [(e.effect, e.key, e.record) for e in streamed.entries()] == [
        (e.effect, e.key, e.record) for e in whole.entries()
    ]


def test_the_entries_of_one_effect_are_those_of_the_whole_walk(seeded):
    """`entries(effect=...)` finds one effect's entries by Arrow, in batch order: the same
    entries a full walk yields for it (a rule's sample of keys comes from there)."""
    streamed = importer(seeded).preview(chunks(BATCH))
    every = list(streamed.entries())
    for effect in ("added", "changed", "unchanged", "missing"):
        assert list(streamed.entries(effect=effect)) == [e for e in every if e.effect == effect]
    assert list(streamed.entries(include_unchanged=False)) == [
        e for e in every if e.effect != "unchanged"
    ]
    assert len(list(streamed.entries(effect="missing"))) == 3


def test_applying_a_planned_stream_writes_what_run_writes(seeded):
    diff = importer(seeded).preview(chunks(BATCH))
    applied = importer(seeded).apply(diff)
    ran = importer(seeded, "twin").run(chunks(BATCH))
    assert [getattr(applied, c) for c in COUNTS] == [getattr(ran, c) for c in COUNTS]
    assert (applied.created, applied.updated, applied.missing) == (2, 2, 3)
    assert seeded.rows("people") == seeded.rows("twin")


def test_a_planned_stream_goes_stale_when_a_row_it_touches_changes(seeded):
    diff = importer(seeded).preview(chunks(BATCH))
    seeded.execute("UPDATE people SET age = 50 WHERE id = 3")  # another transaction
    before = seeded.rows("people")
    with pytest.raises(StaleDiffError, match=r"^1 row\(s\) of 'people' changed"):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == before


def test_a_planned_stream_goes_stale_when_its_scope_gains_a_row(seeded):
    diff = importer(seeded).preview(chunks(BATCH))
    seeded.execute("INSERT INTO people (id, name) VALUES (9, 'other')")
    before = seeded.rows("people")
    with pytest.raises(StaleDiffError, match=r"^1 row\(s\) of 'people' changed"):
        importer(seeded).apply(diff)
    assert seeded.rows("people") == before


def test_duplicates_across_chunks_of_a_planned_stream_keep_the_first(seeded):
    batch = [*BATCH, {"id": 2, "name": "again", "age": 5}]
    diff = importer(seeded, duplicates="first").preview(chunks(batch))
    assert diff.skipped == 1 and diff.changed == 2
    assert [d[0] for d in diff.dropped] == [5]  # the record's position in the whole stream
    importer(seeded, duplicates="first").apply(diff)
    assert {r["id"]: r["name"] for r in seeded.rows("people")}[2] == "CHANGED"


def test_an_empty_stream_plans_an_empty_batch(seeded):
    diff = importer(seeded).preview(iter([]))
    assert diff.total == 0 and diff.missing == 6


def test_a_stream_planned_to_a_folder_is_staged_chunk_by_chunk_and_applies_the_same(
    seeded, tmp_path
):
    staged = importer(seeded).preview(chunks(BATCH), staged_at=tmp_path / "diff")
    in_memory = importer(seeded).preview(chunks(BATCH))
    assert sorted(p.name for p in (tmp_path / "diff").glob("rows.0*.arrow")) == [
        "rows.000000.arrow",
        "rows.000001.arrow",
        "rows.000002.arrow",
    ]  # one file per chunk of two records, written as each was planned
    loaded = load_diff(tmp_path / "diff")
    assert loaded is not None
    for diff in (staged, loaded):
        assert list(diff.entries()) == list(in_memory.entries())
        for name in ("rows", "old", "new", "changed_mask", "missing_rows", "keys", "scope"):
            assert getattr(diff, name).equals(getattr(in_memory, name)), name
    applied = importer(seeded).apply(loaded)
    ran = importer(seeded, "twin").run(chunks(BATCH))
    assert [getattr(applied, c) for c in COUNTS] == [getattr(ran, c) for c in COUNTS]
    assert seeded.rows("people") == seeded.rows("twin")


def test_a_staged_stream_goes_stale_like_one_in_memory(seeded, tmp_path):
    importer(seeded).preview(chunks(BATCH), staged_at=tmp_path / "diff")
    seeded.execute("UPDATE people SET age = 50 WHERE id = 3")
    before = seeded.rows("people")
    with pytest.raises(StaleDiffError, match=r"^1 row\(s\) of 'people' changed"):
        importer(seeded).apply(load_diff(tmp_path / "diff"))
    assert seeded.rows("people") == before

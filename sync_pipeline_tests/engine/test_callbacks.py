"""semantics §3.6: callbacks in chunks, on_updated_when, before_insert, chunk sizes, prepare()."""

import pytest

from sync_pipeline import BatchImport, import_records
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


@pytest.fixture
def ppl(db):
    db.create(people())
    return db


def test_callbacks_arrive_in_chunks_of_callback_chunk_size(ppl):
    chunks = []
    import_records(
        ppl.engine,
        "people",
        [{"id": i, "name": f"n{i}"} for i in range(7)],
        callback_chunk_size=3,
        on_inserted=chunks.append,
    )
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert chunks[0][0]["name"] == "n0" and chunks[0][0]["last_batch_id"] == 1


def test_on_updated_gets_written_rows_with_their_primary_key(ppl):
    import_records(
        ppl.engine, "people", [{"id": 1, "name": "a", "age": 1}, {"id": 2, "name": "b", "age": 2}]
    )
    updated, both = [], []
    result = import_records(
        ppl.engine,
        "people",
        [
            {"id": 1, "name": "A", "age": 1},
            {"id": 2, "name": "b", "age": 2},
            {"id": 3, "name": "c"},
        ],
        "overwrite",
        on_updated=updated.append,
        on_inserted_or_updated=both.append,
    )
    assert result.updated == 1
    assert [[r["id"] for r in c] for c in updated] == [[1]]
    assert updated[0][0]["name"] == "A"
    assert sorted(r["id"] for c in both for r in c) == [1, 3]


def test_on_updated_when_limits_update_callbacks_but_still_writes(ppl):
    import_records(
        ppl.engine, "people", [{"id": 1, "name": "a", "age": 1}, {"id": 2, "name": "b", "age": 2}]
    )
    seen = []
    result = import_records(
        ppl.engine,
        "people",
        [{"id": 1, "name": "A", "age": 1}, {"id": 2, "name": "b", "age": 3}],
        "overwrite",
        on_updated=seen.append,
        on_updated_when=["age"],
    )
    assert result.updated == 2
    assert [r["id"] for c in seen for r in c] == [2]
    assert [r["name"] for r in ppl.rows("people")] == ["A", "b"]


def test_before_insert_may_rewrite_rows(ppl):
    def shout(rows):
        return [{**r, "name": r["name"].upper()} for r in rows]

    result = import_records(ppl.engine, "people", [{"id": 1, "name": "a"}], before_insert=shout)
    assert result.created == 1 and ppl.rows("people")[0]["name"] == "A"


def test_before_insert_must_return_rows(ppl):
    with pytest.raises(ConfigError, match="before_insert must return an iterable"):
        import_records(ppl.engine, "people", [{"id": 1}], before_insert=lambda rows: None)
    assert ppl.rows("people") == []


@pytest.mark.parametrize("option", ["chunk_size", "callback_chunk_size"])
@pytest.mark.parametrize("size", [0, -1])
def test_chunk_sizes_below_one_are_rejected(ppl, option, size):
    with pytest.raises(ConfigError, match=f"{option} must be an integer of at least 1"):
        import_records(ppl.engine, "people", [{"id": 1}], **{option: size})


def test_callbacks_fire_only_after_commit(ppl):
    seen = []

    def check(rows):
        seen.append(len(ppl.rows("people")))  # another connection sees the committed rows

    import_records(ppl.engine, "people", [{"id": 1}, {"id": 2}], on_inserted=check)
    assert seen == [2]


def test_prepare_writes_chunks_as_the_buffer_fills(ppl):
    importer = BatchImport(ppl.engine, "people", "overwrite", chunk_size=2)
    with importer.prepare() as prepared:
        prepared.add({"id": 1, "name": "a"})
        prepared.add_many([{"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
        prepared.add_many({"id": i, "name": "g"} for i in (4, 5))
        result = prepared.flush()
    assert (result.created, result.batch_id) == (5, 1)
    assert [r["last_batch_id"] for r in ppl.rows("people")] == [1] * 5


def test_prepare_add_many_rejects_non_iterables(ppl):
    with BatchImport(ppl.engine, "people").prepare() as prepared, pytest.raises(TypeError):
        prepared.add_many(5)  # type: ignore[arg-type]

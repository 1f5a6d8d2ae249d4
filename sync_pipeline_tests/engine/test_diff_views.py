"""BatchDiff.views: what a diff asks of the writer, as typed tables without internal columns."""

import pytest

from sync_pipeline import BatchImport, import_records
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

SEED = [{"id": i, "name": f"n{i}", "age": 20 + i} for i in range(1, 5)]


@pytest.fixture
def diff(db):
    db.create(people())
    import_records(db.engine, "people", SEED)
    batch = [
        {"id": 1, "name": "n1", "age": 21, "gone": False},  # unchanged
        {"id": 2, "name": "two", "age": 22, "gone": False},  # changed: name only
        {"id": 3, "name": "n3", "age": 23, "gone": True},  # deleted
        {"id": 9, "name": "new", "age": 9, "gone": False},  # added; 4 is missing
    ]
    return BatchImport(db.engine, "people", "overwrite", delete_flag="gone").preview(batch)


def test_views_split_the_diff_by_what_the_writer_does(diff):
    views = diff.views(("id",))
    assert views.inserts().to_pylist() == [{"id": 9, "name": "new", "age": 9}]
    updates = views.updates()
    assert updates.keys.to_pylist() == [{"id": 2}]
    assert updates.values.to_pylist() == [{"name": "two", "age": 22}]
    assert updates.changed.to_pylist() == [{"name": True, "age": False}]
    assert views.deletes().to_pylist() == [{"id": 3}]
    assert views.unchanged().to_pylist() == [{"id": 1}]
    assert (views.count("unchanged"), views.count("changed")) == (1, 1)


def test_views_of_a_slice_see_only_its_records(diff):
    first, rest = diff.views(("id",), 0, 2), diff.views(("id",), 2)
    assert first.inserts().num_rows == 0 and first.updates().keys.to_pylist() == [{"id": 2}]
    assert rest.inserts().num_rows == 1 and rest.deletes().to_pylist() == [{"id": 3}]
    touched = diff.old.take(diff.touched()).column("id").to_pylist()
    assert sorted(touched) == [1, 2, 3]  # the target rows the records matched, once each

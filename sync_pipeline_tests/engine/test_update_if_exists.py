"""update_if_exists: field lists, static values, SQL expressions, callables (with snapshots)."""

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

SEED = [
    {"id": 1, "name": "Ann", "email": "ANN@X.IO", "age": 30},
    {"id": 2, "name": "Bob", "email": "b@x.io", "age": 40},
]


@pytest.fixture
def seeded(db):
    db.create(people())
    import_records(db.engine, "people", SEED)
    return db


def by_id(db):
    return {r["id"]: (r["name"], r["email"], r["age"]) for r in db.rows("people")}


def test_field_list_updates_exactly_those_fields(seeded):
    result = import_records(
        seeded.engine,
        "people",
        [
            {"id": 1, "name": "Anna", "email": "new@x.io", "age": 99},
            {"id": 3, "name": "Cy", "age": 5},
        ],
        update_if_exists=["email"],
    )
    assert (result.created, result.updated) == (1, 1)
    assert by_id(seeded) == {
        1: ("Ann", "new@x.io", 30),
        2: ("Bob", "b@x.io", 40),
        3: ("Cy", None, 5),
    }


def test_static_value_counts_as_change_only_when_it_changes_the_row(seeded):
    result = import_records(
        seeded.engine, "people", [{"id": 1}, {"id": 2}], update_if_exists={"age": 40}
    )
    assert (result.updated, result.unchanged) == (1, 1)
    assert by_id(seeded)[1][2] == 40


def test_sql_expression_is_evaluated_on_the_stored_row(seeded):
    t = sa.table("people", sa.column("email"))
    result = import_records(
        seeded.engine,
        "people",
        [{"id": 1}, {"id": 2}],
        update_if_exists={"email": sa.func.lower(t.c.email)},
    )
    assert (result.updated, result.unchanged) == (1, 1)  # b@x.io is already lower case
    assert by_id(seeded)[1][1] == "ann@x.io"


def test_callable_gets_new_value_a_snapshot_of_the_row_and_the_record(seeded):
    snapshots = []

    def older(new, existing, record):
        snapshots.append(dict(existing))
        existing["age"] = -1  # mutating the snapshot must not leak into the next callable
        return new

    def name_from_snapshot(new, existing, record):
        snapshots.append(dict(existing))
        return f"{existing['name']}/{existing['age']}"

    result = import_records(
        seeded.engine,
        "people",
        [{"id": 1, "age": 31}],
        update_if_exists={"age": older, "name": name_from_snapshot},
    )
    assert result.updated == 1
    assert by_id(seeded)[1] == ("Ann/30", "ANN@X.IO", 31)
    assert snapshots[0]["age"] == 30 and snapshots[1]["age"] == 30


def test_update_if_exists_under_merge_keeps_values_where_new_is_null(seeded):
    result = import_records(
        seeded.engine,
        "people",
        [{"id": 1, "name": None, "email": "x@x.io"}],
        "merge",
        update_if_exists=["name", "email"],
    )
    assert result.updated == 1
    assert by_id(seeded)[1] == ("Ann", "x@x.io", 30)

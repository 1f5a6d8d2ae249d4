"""semantics §3.4: the four conflict strategies, with exact counts, on Postgres and SQLite."""

import pytest
import sqlalchemy as sa

from sync_pipeline import ImportResult, import_multiple, import_records
from sync_pipeline.errors import ConfigError, RecordError
from sync_pipeline_tests.engine.tables import people, rows_without

pytestmark = pytest.mark.integration

SEED = [
    {"id": 1, "name": "Ann", "email": "ann@x.io", "age": 30},
    {"id": 2, "name": "Bob", "email": "bob@x.io", "age": 40},
]


@pytest.fixture
def seeded(db):
    db.create(people())
    import_records(db.engine, "people", SEED, batch_id=False)
    return db


def data(db):
    return rows_without(db.rows("people"), "last_batch_id")


def test_skip_inserts_new_and_leaves_existing_untouched(seeded):
    result = import_records(
        seeded.engine, "people", [{"id": 1, "name": "CHANGED"}, {"id": 3, "name": "Cy"}], "skip"
    )
    assert (result.created, result.updated, result.skipped, result.errors) == (1, 0, 1, [])
    assert data(seeded) == [
        {"id": 1, "name": "Ann", "email": "ann@x.io", "age": 30},
        {"id": 2, "name": "Bob", "email": "bob@x.io", "age": 40},
        {"id": 3, "name": "Cy", "email": None, "age": None},
    ]


def test_skip_is_the_default_strategy(seeded):
    result = import_records(seeded.engine, "people", [{"id": 1, "name": "CHANGED"}])
    assert (result.created, result.skipped) == (0, 1)
    assert data(seeded)[0]["name"] == "Ann"


def test_overwrite_writes_every_incoming_column_nulls_included(seeded):
    result = import_records(
        seeded.engine,
        "people",
        [
            {"id": 1, "name": "Anna", "email": None},
            {"id": 2, "name": "Bob"},
            {"id": 4, "name": "Di"},
        ],
        "overwrite",
    )
    assert (result.created, result.updated, result.unchanged, result.skipped) == (1, 2, 0, 0)
    rows = data(seeded)
    assert rows[0] == {"id": 1, "name": "Anna", "email": None, "age": 30}
    assert rows[1] == {"id": 2, "name": "Bob", "email": None, "age": 40}  # absent field = null
    assert rows[2]["name"] == "Di"


def test_merge_keeps_existing_values_where_the_new_one_is_null(seeded):
    result = import_records(
        seeded.engine,
        "people",
        [{"id": 1, "name": None, "email": "new@x.io", "age": None}, {"id": 5, "name": "Ed"}],
        "merge",
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert data(seeded)[0] == {"id": 1, "name": "Ann", "email": "new@x.io", "age": 30}


def test_merge_with_only_nulls_is_unchanged(seeded):
    result = import_records(seeded.engine, "people", [{"id": 2, "name": None}], "merge")
    assert (result.updated, result.unchanged) == (0, 1)


def test_append_drops_the_source_key_and_lets_the_database_generate_it(seeded):
    result = import_records(
        seeded.engine,
        "people",
        [{"id": 1, "name": "Ann again"}, {"id": 2, "name": "Bob2"}],
        "append",
    )
    assert (result.created, result.updated, result.skipped) == (2, 0, 0)
    rows = data(seeded)
    assert len(rows) == 4
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["name"] == "Ann" and rows[2]["name"] == "Ann again"


def test_mixed_counts_are_exact(seeded):
    records = [
        {"id": 1, "name": "Ann", "email": "ann@x.io", "age": 30},  # unchanged
        {"id": 2, "name": "Bob", "email": "bob@x.io", "age": 41},  # changed
        {"id": 7, "name": "Gus", "email": None, "age": None},  # new
    ]
    result = import_records(seeded.engine, "people", records, "overwrite")
    assert (result.created, result.updated, result.unchanged, result.skipped) == (1, 1, 1, 0)
    assert result.missing == 0
    assert isinstance(result, ImportResult)
    assert result.as_dict()["updated"] == 1


def test_result_is_frozen(seeded):
    result = import_records(seeded.engine, "people", [])
    with pytest.raises(AttributeError):
        result.created = 5  # type: ignore[misc]


def test_update_if_exists_with_skip_is_a_configuration_error(seeded):
    with pytest.raises(
        ConfigError, match="update_if_exists cannot be combined with strategy='skip'"
    ):
        import_records(seeded.engine, "people", [{"id": 1}], "skip", update_if_exists=["name"])
    assert data(seeded)[0]["name"] == "Ann"


def test_unknown_strategy_lists_the_allowed_values(seeded):
    with pytest.raises(ConfigError, match="'skip', 'overwrite', 'merge', 'append'"):
        import_records(seeded.engine, "people", [{"id": 1}], "upsert")


def test_import_multiple_applies_parents_first_and_defaults_to_skip(db):
    md = sa.MetaData()
    sa.Table(
        "owners",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    sa.Table(
        "pets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    md.create_all(db.engine)
    if db.kind == "sqlite":
        db.execute("PRAGMA foreign_keys = ON")
    results = import_multiple(
        db.engine,
        {"pets": [{"id": 10, "owner_id": 1, "name": "Rex"}], "owners": [{"id": 1, "name": "Ann"}]},
        strategies={"pets": "overwrite"},
    )
    assert list(results) == ["pets", "owners"]
    assert (results["owners"].created, results["pets"].created) == (1, 1)
    again = import_multiple(db.engine, {"owners": [{"id": 1, "name": "Changed"}]})
    assert again["owners"].skipped == 1  # no strategy given -> skip
    assert db.rows("owners")[0]["name"] == "Ann"


def test_import_multiple_is_one_transaction(db):
    md = sa.MetaData()
    people(md)
    people(md, "others")
    md.create_all(db.engine)
    with pytest.raises(RecordError):
        import_multiple(
            db.engine,
            {
                "people": [{"id": 1, "name": "ok"}],
                "others": [{"id": 1, "name": "x", "age": "not a number"}],
            },
        )
    assert db.rows("people") == [] and db.rows("others") == []

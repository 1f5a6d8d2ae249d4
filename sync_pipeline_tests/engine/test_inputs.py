"""The accepted targets (Engine, Connection, URL) and records (mappings, DataFrame, Arrow)."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.errors import RecordError, SchemaError
from sync_pipeline_tests.engine.tables import people, products

pytestmark = pytest.mark.integration


def test_url_string_target(db):
    db.create(people())
    result = import_records(db.url, "people", [{"id": 1, "name": "a"}])
    assert result.created == 1 and db.rows("people")[0]["name"] == "a"


def test_connection_target(db):
    db.create(people())
    with db.engine.connect() as conn:
        import_records(conn, "people", [{"id": 1, "name": "a"}])
        conn.commit()
    assert len(db.rows("people")) == 1


def test_schema_qualified_table_name(pg):
    pg.execute("CREATE SCHEMA IF NOT EXISTS sp_other")
    try:
        pg.execute(
            "CREATE TABLE sp_other.items (id int primary key, name text, last_batch_id bigint)"
        )
        result = import_records(pg.engine, "sp_other.items", [{"id": 1, "name": "x"}])
        assert result.created == 1
        assert pg.execute("SELECT name FROM sp_other.items")[0][0] == "x"
        again = import_records(pg.engine, "sp_other.items", [{"id": 1, "name": "x"}], "overwrite")
        assert again.unchanged == 1 and again.batch_id == 2
    finally:
        pg.execute("DROP SCHEMA sp_other CASCADE")


def test_dataframe_with_pandas_nan_for_null_text_is_unchanged(db):
    db.create(products())
    rows = [
        {"id": 1, "sku": "a", "region": None, "price": "1.50"},
        {"id": 2, "sku": "b", "region": "eu"},
    ]
    import_records(db.engine, "products", rows)
    frame = pd.DataFrame(
        {"id": [1, 2], "sku": ["a", "b"], "region": [None, "eu"], "price": [1.5, None]}
    )
    assert frame["region"].isna().iloc[0]  # pandas 3 gives NaN for the null text
    result = import_records(db.engine, "products", frame, "overwrite")
    assert (result.updated, result.unchanged) == (0, 2)


def test_arrow_table_records(db):
    db.create(products())
    table = pa.table(
        {
            "id": [1],
            "sku": ["a"],
            "seen_at": pa.array([dt.datetime(2025, 1, 1)], pa.timestamp("us")),
        }
    )
    assert import_records(db.engine, "products", table).created == 1
    assert db.rows("products")[0]["seen_at"].replace(tzinfo=None) == dt.datetime(2025, 1, 1)


def test_records_must_be_mappings(db):
    db.create(people())
    with pytest.raises(RecordError, match="record 1: expected a mapping"):
        import_records(db.engine, "people", [{"id": 1}, ("id", 2)])  # type: ignore[list-item]
    assert db.rows("people") == []


def test_tables_without_a_primary_key_need_match_by(db):
    sa.Table(
        "loose",
        md := sa.MetaData(),
        sa.Column("code", sa.Text),
        sa.Column("v", sa.Integer),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    md.create_all(db.engine)
    with pytest.raises(SchemaError, match="has no primary key: pass match_by"):
        import_records(db.engine, "loose", [{"code": "a"}])
    import_records(db.engine, "loose", [{"code": "a", "v": 1}], match_by="code")
    result = import_records(db.engine, "loose", [{"code": "a", "v": 1}], match_by="code")
    assert (result.created, result.skipped) == (0, 1)


def test_tables_without_a_primary_key_are_addressed_by_the_match_fields(db):
    sa.Table(
        "loose2",
        md := sa.MetaData(),
        sa.Column("code", sa.Text),
        sa.Column("v", sa.Integer),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    md.create_all(db.engine)
    import_records(
        db.engine, "loose2", [{"code": "a", "v": 1}, {"code": "b", "v": 2}], match_by="code"
    )
    result = import_records(
        db.engine,
        "loose2",
        [{"code": "a", "v": 5}, {"code": "b", "v": 2}],
        "overwrite",
        match_by="code",
    )
    assert (result.updated, result.unchanged) == (1, 1)
    rows = sorted(
        (r[0], r[1], r[2]) for r in db.execute("SELECT code, v, last_batch_id FROM loose2")
    )
    assert rows == [("a", 5, result.batch_id), ("b", 2, result.batch_id)]


def test_json_text_from_a_sender_lands_as_json_not_as_a_string(db):
    db.create(products())
    attrs = pa.array(['{"x":[1,2]}', None], type=pa.json_(pa.string()))
    import_records(
        db.engine, "products", pa.table({"id": [1, 2], "sku": ["a", "b"], "attrs": attrs})
    )
    assert [r["attrs"] for r in db.rows("products")] == [{"x": [1, 2]}, None]
    again = import_records(
        db.engine, "products", [{"id": 1, "sku": "a", "attrs": {"x": [1, 2]}}], "overwrite"
    )
    assert again.unchanged == 1


def test_chunked_arrow_tables_are_diffed_without_combining(db):
    db.create(products())
    import_records(
        db.engine, "products", [{"id": i, "sku": f"s{i}", "price": "1.5"} for i in range(6)]
    )
    parts = [
        pa.table({"id": [0, 1, 2], "sku": ["s0", "S1", "s2"], "price": ["1.50", "1.5", "2"]}),
        pa.table({"id": [3, 4, 9], "sku": ["s3", "s4", "s9"], "price": ["1.5", None, "3"]}),
    ]
    chunked = pa.concat_tables(parts)
    assert chunked.column("sku").num_chunks == 2
    result = import_records(db.engine, "products", chunked, "overwrite")
    assert (result.created, result.updated, result.unchanged, result.missing) == (1, 3, 2, 1)
    rows = {r["id"]: (r["sku"], r["price"]) for r in db.rows("products")}
    assert rows[1][0] == "S1" and str(rows[2][1]) == "2.00" and rows[4][1] is None

"""Schema drift policy: error (default), ignore, add_columns; on Postgres, SQLite and MariaDB."""

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline.errors import ConfigError
from sync_pipeline.senders.drift import check_drift, reconcile_drift
from sync_pipeline.senders.errors import SchemaDriftError
from sync_pipeline_tests.senders.sources import Source


def _target(source: Source) -> sa.Table:
    return source.table(
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("note", sa.Text),
    )


def test_new_column_is_an_error_by_default_and_named(source: Source) -> None:
    _target(source)
    with pytest.raises(SchemaDriftError, match=r"\['email'\]"):
        reconcile_drift(source.engine, source.name, ["id", "name", "email"])


def test_missing_required_column_is_an_error_and_named(source: Source) -> None:
    _target(source)
    with pytest.raises(SchemaDriftError, match=r"no longer sends column\(s\) \['name'\]"):
        reconcile_drift(source.engine, source.name, ["id", "note"])


def test_missing_expected_column_is_an_error(source: Source) -> None:
    _target(source)
    with pytest.raises(SchemaDriftError, match="'note'"):
        reconcile_drift(source.engine, source.name, ["id", "name"], expected=["name", "note"])


def test_ignore_reports_the_columns_to_drop(source: Source) -> None:
    _target(source)
    report = reconcile_drift(source.engine, source.name, ["id", "email", "note"], "ignore")
    assert report.new_columns == ("email",)
    assert report.missing_columns == ("name",)
    assert report.drop_columns == ("email",)
    assert report.has_drift


def test_add_columns_adds_nullable_typed_columns(source: Source) -> None:
    _target(source)
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.decimal128(10, 2)),
                        ("seen", pa.bool_())])  # fmt: skip
    report = reconcile_drift(source.engine, source.name, schema, "add_columns")
    assert report.added_columns == ("score", "seen")
    assert report.drop_columns == ()
    cols = {c["name"]: c for c in sa.inspect(source.engine).get_columns(source.name)}
    assert cols["score"]["nullable"] and cols["seen"]["nullable"]
    assert isinstance(cols["score"]["type"], sa.Numeric)
    with source.engine.begin() as conn:  # the new column really holds data
        conn.execute(sa.text(f"INSERT INTO {source.name} (id, name, score) VALUES (1, 'a', 1.5)"))
    assert reconcile_drift(source.engine, source.name, schema).has_drift is False


def test_add_columns_refuses_unsafe_names(source: Source) -> None:
    _target(source)
    with pytest.raises(SchemaDriftError, match="cannot add column"):
        reconcile_drift(
            source.engine, source.name, ["id", "name", 'x"; DROP TABLE t; --'], "add_columns"
        )
    assert {c["name"] for c in sa.inspect(source.engine).get_columns(source.name)} == {
        "id",
        "name",
        "note",
    }


def test_check_drift_on_plain_names() -> None:
    assert not check_drift(["a", "b"], ["a", "b", "c"]).has_drift
    report = check_drift(["a", "flag"], ["a"], "error", ignore=["flag"])
    assert report.new_columns == ()
    with pytest.raises(ConfigError, match="unknown drift policy"):
        check_drift(["a"], ["a"], "warn")

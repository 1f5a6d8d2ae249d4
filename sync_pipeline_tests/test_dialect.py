"""db/dialect.py: one place asks which database this is; everything else asks what it can do."""

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect
from sync_pipeline_tests import dbs

PACKAGE = Path(__file__).resolve().parents[1] / "sync_pipeline"
HOME = PACKAGE / "db" / "dialect.py"
NAMES = {"postgresql", "postgres", "sqlite", "mysql", "mariadb"}


def name_checks(source: str) -> set[int]:
    """Lines that read `<x>.dialect.name` or compare anything with a database name."""
    hits = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "name"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "dialect"
        ):
            hits.add(node.lineno)
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for operand in operands:
                elements = operand.elts if isinstance(operand, (ast.Tuple, ast.Set)) else [operand]
                if any(isinstance(e, ast.Constant) and e.value in NAMES for e in elements):
                    hits.add(node.lineno)
    return hits


@pytest.mark.parametrize(
    "source",
    [
        'x = conn.dialect.name == "postgresql"\n',
        "cls = A if engine.dialect.name != 'sqlite' else B\n",
        'if dialect in (None, "sqlite"):\n    pass\n',
        'ok = "postgresql" == name\n',
    ],
)
def test_the_scan_finds_a_dialect_name_check(source):
    assert name_checks(source) == {1}


def test_no_dialect_name_check_outside_db_dialect():
    found = {
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path != HOME
        for line in name_checks(path.read_text())
    }
    assert found == set(), "ask Dialect.of(conn) for a capability instead"


def test_a_database_we_do_not_know_gets_the_portable_answers():
    plain = Dialect.named("mysql")
    assert plain.name == "mysql"
    assert not (plain.copy or plain.advisory_locks or plain.txid or plain.sized_ints)
    assert plain.bulk_chunk == 500
    assert Dialect.named("mysql") is plain  # one object per name


def test_each_capability_holds_on_the_real_database(db: dbs.TestDb):
    """What Dialect.of claims is what the database does (and what it denies, it refuses)."""
    dialect = Dialect.of(db.engine)
    probes = {
        "advisory_locks": "SELECT pg_advisory_xact_lock(42)",
        "txid": "SELECT pg_current_xact_id()",
        "data_version": "PRAGMA data_version",
    }
    for capability, statement in probes.items():
        with db.engine.connect() as conn:
            if getattr(dialect, capability):
                conn.exec_driver_sql(statement)
            elif capability != "data_version":  # Postgres parses an unknown PRAGMA as an error
                with pytest.raises(sa.exc.OperationalError):
                    conn.exec_driver_sql(statement)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1])
def test_sized_ints_says_whether_an_integer_column_refuses_a_wider_value(db, value):
    table = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer))
    db.create(table)
    with db.engine.connect() as conn:
        if Dialect.of(conn).sized_ints:
            with pytest.raises(sa.exc.DataError):
                conn.execute(sa.insert(table), {"n": value})
        else:
            conn.execute(sa.insert(table), {"n": value})
            assert conn.execute(sa.select(table.c.n)).scalar_one() == value


def test_upsert_takes_on_conflict_on_both_databases(db):
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    db.create(table)
    with db.engine.begin() as conn:
        for _ in range(2):
            stmt = Dialect.of(conn).upsert(table).values(id=1).on_conflict_do_nothing()
            conn.execute(stmt)
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_pipeline_tests.dbs import TestDb, postgres_db, sqlite_db

# Fixtures that open a real database (or a code location built on one): a test using any of
# them is an integration test, whether or not its module says so.
DATABASE_FIXTURES = frozenset({"db", "pg", "sqlite", "source", "mariadb", "location"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a database fixture `integration` (so `-m "not integration"`
    really runs without databases)."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(params=["postgres", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDb]:
    """Every behaviour runs on real Postgres and on a real SQLite file."""
    if request.param == "postgres":
        with postgres_db() as d:
            yield d
    else:
        with sqlite_db(tmp_path) as d:
            yield d


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[TestDb]:
    with postgres_db() as d:
        yield d


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[TestDb]:
    with sqlite_db(tmp_path) as d:
        yield d

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_pipeline_tests.dbs import TestDb, postgres_db, sqlite_db


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

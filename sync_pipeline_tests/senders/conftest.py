"""Fixtures: a Source on Postgres, SQLite and MariaDB; tables made through it are dropped."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_pipeline_tests.dbs import postgres_db, sqlite_db
from sync_pipeline_tests.senders.sources import Source, mariadb_db


@pytest.fixture(params=["postgres", "sqlite", "mariadb"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    """Every SQL sender behaviour runs on Postgres, a SQLite file and MariaDB."""
    if request.param == "postgres":
        with postgres_db() as d:
            s = Source(d)
            yield s
            s.drop()
    elif request.param == "sqlite":
        with sqlite_db(tmp_path) as d:
            s = Source(d)
            yield s
            s.drop()
    else:
        d = mariadb_db()
        s = Source(d)
        try:
            yield s
        finally:
            s.drop()
            d.engine.dispose()


@pytest.fixture
def mariadb() -> Iterator[Source]:
    d = mariadb_db()
    s = Source(d)
    try:
        yield s
    finally:
        s.drop()
        d.engine.dispose()

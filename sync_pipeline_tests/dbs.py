"""Real test databases: a throw-away Postgres schema or a fresh SQLite file per test."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "SYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class TestDb:
    """One isolated database for one test: an engine plus helpers to arrange and re-select."""

    __test__ = False  # a helper, not a test class

    kind: str  # "postgres" | "sqlite"
    engine: sa.Engine
    url: str
    schema: str | None = None

    def create(self, *tables: sa.Table) -> None:
        tables[0].metadata.create_all(self.engine, tables=list(tables))

    def rows(self, table: str, order_by: str = "id") -> list[dict[str, Any]]:
        t = sa.Table(table, sa.MetaData(), autoload_with=self.engine)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c[order_by]))]

    def execute(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return list(result) if result.returns_rows else []


@contextmanager
def postgres_db() -> Iterator[TestDb]:
    """A fresh schema in the test database; the engine's search_path points at it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(PG_ADMIN_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sa.create_engine(url)
    try:
        yield TestDb("postgres", engine, url.render_as_string(hide_password=False), schema)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def sqlite_db(directory: Path) -> Iterator[TestDb]:
    """A fresh SQLite file."""
    url = f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
    engine = sa.create_engine(url)
    try:
        yield TestDb("sqlite", engine, url)
    finally:
        engine.dispose()

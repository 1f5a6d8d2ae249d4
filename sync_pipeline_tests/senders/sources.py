"""Source databases for sender tests: Postgres, SQLite and MariaDB (database `test`)."""

import os
import uuid

import sqlalchemy as sa

from sync_pipeline_tests.dbs import TestDb

MARIADB_URL = os.environ.get("SYNC_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


class Source:
    """A database plus a unique table name; tables created through it are dropped afterwards."""

    def __init__(self, db: TestDb) -> None:
        self.db = db
        self.kind = db.kind
        self.engine = db.engine
        self.url = db.url
        self.metadata = sa.MetaData()
        self.name = f"src_{uuid.uuid4().hex[:10]}"

    def table(self, *columns: sa.Column, name: str | None = None) -> sa.Table:
        t = sa.Table(name or self.name, self.metadata, *columns)
        t.create(self.engine)
        return t

    def insert(self, table: sa.Table, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(table.insert(), rows)

    def drop(self) -> None:
        self.metadata.drop_all(self.engine)


def mariadb_db() -> TestDb:
    return TestDb("mariadb", sa.create_engine(MARIADB_URL), MARIADB_URL)

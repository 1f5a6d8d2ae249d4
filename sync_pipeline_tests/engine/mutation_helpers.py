"""Shared arrangement for the Writer tests: the reference `todos` table and payload builders."""

import json
from typing import Any

import sqlalchemy as sa

from sync_pipeline_tests import dbs


def make_todos(db: dbs.TestDb, name: str = "todos", title_length: int | None = None) -> sa.Table:
    """todos(id int8 pk, title text not null, completed bool default false), rows 1 and 2."""
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(title_length) if title_length else sa.Text, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    db.create(table)
    with db.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"id": 1, "title": "First todo", "completed": False},
                {"id": 2, "title": "Second todo", "completed": False},
            ],
        )
    return table


def ins(values: dict[str, Any], relation: Any = ("public", "todos")) -> dict[str, Any]:
    return {
        "type": "insert",
        "syncMetadata": {"relation": list(relation) if isinstance(relation, tuple) else relation},
        "modified": values,
        "mutationId": "m",
        "optimistic": True,
    }


def upd(
    original: dict[str, Any], changes: dict[str, Any], relation: Any = ("public", "todos")
) -> dict[str, Any]:
    return {
        "type": "update",
        "syncMetadata": {"relation": list(relation) if isinstance(relation, tuple) else relation},
        "original": original,
        "changes": changes,
    }


def dele(original: dict[str, Any], relation: Any = ("public", "todos")) -> dict[str, Any]:
    return {
        "type": "delete",
        "syncMetadata": {"relation": list(relation) if isinstance(relation, tuple) else relation},
        "original": original,
    }


def payload(*ops: dict[str, Any]) -> str:
    return json.dumps(list(ops))


def rows(db: dbs.TestDb, table: str = "todos") -> list[dict[str, Any]]:
    return db.rows(table)


SEEDED = [
    {"id": 1, "title": "First todo", "completed": False},
    {"id": 2, "title": "Second todo", "completed": False},
]


class StatementCounter:
    """Counts SQL statements an engine runs (to prove 'no database access')."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._hit)

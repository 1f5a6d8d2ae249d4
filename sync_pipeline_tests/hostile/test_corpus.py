"""Hostile inputs on Postgres and SQLite: a clear error of our own, 0 rows changed, no hang."""

import hashlib
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from sync_pipeline.errors import RecordError, SyncError
from sync_pipeline_tests import dbs
from sync_pipeline_tests.hostile.cases import (
    CASES,
    NOTHING,
    SEED_H,
    SEED_W,
    Case,
    target_table,
    writer_table,
)

pytestmark = pytest.mark.integration

TIMEOUT = 30.0  # seconds; a hung import fails the case instead of the run


def arrange(db: dbs.TestDb) -> None:
    md = sa.MetaData()
    h, w = target_table(md), writer_table(md)
    db.create(h, w)
    with db.engine.begin() as conn:
        conn.execute(h.insert(), SEED_H)
        conn.execute(w.insert(), SEED_W)


def checksum(db: dbs.TestDb) -> str:
    """A digest of every row of both tables, in key order."""
    digest = hashlib.sha256()
    for table in ("h", "w"):
        digest.update(repr(db.rows(table)).encode("utf-8", "backslashreplace"))
    return digest.hexdigest()


def run_with_timeout(case: Case, engine: sa.Engine) -> BaseException | None:
    """Run the case in a thread; the error it raised (None if none). Fails if it hangs."""
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            case.call(engine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"no answer within {TIMEOUT} s"
    return outcome.get("error")


def stored_value(db: dbs.TestDb, case: Case) -> Any:
    rows = [r for r in db.rows(case.table) if r["id"] == 3]
    assert len(rows) == 1, f"row 3 was not written: {rows}"
    assert case.field is not None
    return rows[0][case.field]


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(db: dbs.TestDb, name: str) -> None:
    case = CASES[name]
    arrange(db)
    before = checksum(db)
    error = run_with_timeout(case, db.engine)
    expected = case.stored_for(db.kind)
    if expected is not NOTHING:
        assert error is None, f"{type(error).__name__}: {error}"
        assert stored_value(db, case) == expected
        return
    assert error is not None, "accepted, but it must be rejected"
    assert isinstance(error, case.error) and isinstance(error, SyncError), repr(error)
    message = str(error)
    for part in case.expect:
        assert part in message, f"{part!r} is not in: {message}"
    if isinstance(error, RecordError):
        assert (error.index, error.field or None) == (case.index, case.field) or (
            case.field is None and error.index == case.index
        ), (error.index, error.field)
    assert checksum(db) == before, "the table changed"

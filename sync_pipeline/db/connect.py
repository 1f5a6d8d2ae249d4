"""Turn a target (Engine, Connection or URL) into one connection and one transaction we can use."""

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect

Target = sa.Engine | sa.Connection | str

# Pooled engines for URL targets, most recently used last. Bounded, so that a process importing
# into many databases does not keep one idle pool per URL string for its lifetime.
MAX_URL_ENGINES = 8
_engines: OrderedDict[str, sa.Engine] = OrderedDict()
_engines_lock = threading.Lock()


def _engine_for_url(url: str) -> sa.Engine:
    """The pooled engine of a URL; the least recently used beyond MAX_URL_ENGINES is disposed."""
    with _engines_lock:
        engine = _engines.pop(url, None) or sa.create_engine(url)
        _engines[url] = engine
        evicted = [_engines.popitem(last=False)[1] for _ in range(len(_engines) - MAX_URL_ENGINES)]
    for old in evicted:  # a connection still checked out closes when it is returned
        old.dispose()
    return engine


def dispose_url_engines() -> None:
    """Close the pooled connections of every URL target (e.g. at shutdown)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def as_engine(target: Target) -> sa.Engine | sa.Connection:
    return _engine_for_url(target) if isinstance(target, str) else target


@contextmanager
def transaction(target: Target) -> Iterator[sa.Connection]:
    """Yield a connection inside a transaction.

    With an Engine or a URL we open a connection and own its transaction: commit on success,
    roll back on error. With a Connection the caller owns the transaction; our work runs in a
    SAVEPOINT so that an error rolls back only what we did.
    """
    bind = as_engine(target)
    if isinstance(bind, sa.Connection):
        if bind.in_transaction():
            _begin_sqlite(bind)
            with bind.begin_nested():
                yield bind
        else:
            with bind.begin():
                _begin_sqlite(bind, "BEGIN IMMEDIATE")
                yield bind
        return
    with bind.begin() as conn:
        _begin_sqlite(conn, "BEGIN IMMEDIATE")
        yield conn


def _begin_sqlite(conn: sa.Connection, begin: str = "BEGIN") -> None:
    """pysqlite defers BEGIN until the first INSERT/UPDATE/DELETE, so reads and DDL before it
    (CREATE TABLE of the ledger, a SAVEPOINT) run and commit on their own. Open the transaction
    for real; our own transactions take the write lock at once (IMMEDIATE), so two imports into
    one file queue up instead of diffing against the same state."""
    raw = conn.connection.driver_connection
    if Dialect.of(conn).deferred_begin and raw is not None and not raw.in_transaction:
        conn.exec_driver_sql(begin)


@contextmanager
def read_connection(target: Target) -> Iterator[sa.Connection]:
    """A connection for read-only work (a new one, or the caller's)."""
    bind = as_engine(target)
    if isinstance(bind, sa.Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn

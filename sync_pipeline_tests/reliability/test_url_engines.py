"""Issue 8 item 10: URL targets share a bounded set of pooled engines, not one per URL forever."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.db.connect import MAX_URL_ENGINES, dispose_url_engines
from sync_pipeline_tests import dbs
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_url_engines() -> Iterator[None]:
    dispose_url_engines()
    yield
    dispose_url_engines()


def _open_connections(pg: dbs.TestDb, tag: str) -> int:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE :tag"
    return int(pg.execute(sql, tag=f"{tag}%")[0][0])


def _settled(pg: dbs.TestDb, tag: str, at_most: int) -> int:
    """Backends of closed connections leave pg_stat_activity shortly after; wait up to 10 s."""
    for _ in range(100):
        if (n := _open_connections(pg, tag)) <= at_most:
            return n
        time.sleep(0.1)
    return _open_connections(pg, tag)


def test_imports_to_30_postgres_urls_leave_at_most_the_bound_open(pg):
    pg.create(people())
    tag = f"rel_{uuid.uuid4().hex[:8]}_"
    base = sa.make_url(pg.url)
    urls = [
        base.update_query_dict({"application_name": f"{tag}{i}"}).render_as_string(False)
        for i in range(30)
    ]
    for i, url in enumerate(urls):
        import_records(url, "people", [{"id": i, "name": f"n{i}"}], "overwrite")
    assert 0 < _settled(pg, tag, MAX_URL_ENGINES) <= MAX_URL_ENGINES
    assert [r["id"] for r in pg.rows("people")] == list(range(30))
    import_records(urls[0], "people", [{"id": 0, "name": "again"}], "overwrite")  # evicted: reopens
    assert pg.rows("people")[0]["name"] == "again"
    dispose_url_engines()
    assert _settled(pg, tag, 0) == 0


def test_imports_to_30_sqlite_files_each_land_in_their_own_file(tmp_path: Path):
    urls = [f"sqlite:///{tmp_path / f'{i}.db'}" for i in range(30)]
    for url in urls:
        engine = sa.create_engine(url)
        people().create(engine)
        engine.dispose()
    for i, url in enumerate(urls * 2):
        import_records(url, "people", [{"id": i, "name": f"n{i}"}], "overwrite")
    for i, url in enumerate(urls):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT id FROM people ORDER BY id")).scalars().all()
        engine.dispose()
        assert ids == [i, i + 30]

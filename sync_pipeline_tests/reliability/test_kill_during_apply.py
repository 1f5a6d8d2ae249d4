"""Issue 8: kill -9 an importing process at random points of its apply; the target holds exactly
the state before or the state after, and running the import again converges to the after-state."""

import os
import random
import signal
import time
import uuid
from typing import IO

import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline_tests import dbs
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

BEFORE = [{"id": i, "name": f"b{i}", "age": i % 90} for i in range(8_000)]
# Updates every other row, leaves the rest, adds 4,000: many chunks of COPY + set-based SQL.
AFTER = [{"id": i, "name": f"a{i}" if i % 2 else f"b{i}", "age": i % 90} for i in range(12_000)]


def _checksum(pg: dbs.TestDb, stamps: bool = True) -> tuple[str, int]:
    """The target's rows and the ledger's batches (an applied batch records itself there)."""
    row = "p::text" if stamps else "(p.id, p.name, p.email, p.age)::text"
    rows = pg.execute(f"SELECT md5(string_agg({row}, '|' ORDER BY id)) FROM people p")[0][0]
    return rows, pg.execute("SELECT count(*) FROM _sync_batches")[0][0] if stamps else 0


def _reset(pg: dbs.TestDb) -> None:
    pg.execute("TRUNCATE people; TRUNCATE _sync_batches")
    import_records(pg.engine, "people", BEFORE, "overwrite")


def _child(url: str) -> tuple[int, IO[bytes]]:
    """Fork a process that imports AFTER and reports "applying" (from the guard, just before the
    first write) and "done" on a pipe. Forked, so it needs no fresh interpreter; it leaves with
    os._exit and never touches the connections it inherited."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)

            def guard(diff: object) -> None:
                os.write(write_end, b"applying\n")

            import_records(url, "people", AFTER, "overwrite", chunk_size=1000, guard=guard)
            os.write(write_end, b"done\n")
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb")


def _apply_seconds(url: str) -> float:
    """One uncut run: how long the apply takes from the guard to the commit."""
    pid, out = _child(url)
    with out:
        assert out.readline() == b"applying\n"
        start = time.monotonic()
        assert out.readline() == b"done\n"
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    return time.monotonic() - start


def _gone(pg: dbs.TestDb, app: str) -> None:
    """Wait (up to 30 s) until the killed client's server backend has ended its transaction."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"
    for _ in range(300):
        if pg.execute(sql, app=app)[0][0] == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"backend of {app} still there")


def test_kill_9_during_apply_leaves_before_or_after_and_a_rerun_converges(pg):
    pg.create(people())
    app = f"kill_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(pg.url).update_query_dict({"application_name": app})
    url_text = url.render_as_string(hide_password=False)
    import_records(pg.engine, "people", BEFORE, "overwrite")
    before = _checksum(pg)
    seconds = _apply_seconds(url_text)
    after, data = _checksum(pg), _checksum(pg, stamps=False)
    assert after != before
    seed = random.randrange(1 << 30)
    rng, trials, seen = random.Random(seed), 6, set()
    for trial in range(trials):
        _reset(pg)
        pid, out = _child(url_text)
        with out:
            assert out.readline() == b"applying\n"
            time.sleep(seconds * (trial + rng.random()) / trials)  # spread over the whole apply
            os.kill(pid, signal.SIGKILL)
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        assert status in (0, -signal.SIGKILL)  # killed, or done just before
        _gone(pg, app)
        state = _checksum(pg)
        assert state in (before, after), f"trial {trial}, seed {seed}: a half-applied batch"
        seen.add("after" if state == after else "before")
        rerun = import_records(  # column mode: the stamps show that it saw every row
            pg.engine, "people", AFTER, "overwrite", chunk_size=1000, batch_mode="column"
        )
        assert _checksum(pg, stamps=False) == data, f"trial {trial}, seed {seed}: no convergence"
        stamped = pg.execute(
            "SELECT count(*) FROM people WHERE last_batch_id = :b", b=rerun.batch_id
        )
        assert stamped == [(len(AFTER),)]
    assert "before" in seen  # at least one kill landed inside the apply

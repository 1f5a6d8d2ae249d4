"""Memory follows the chunk, not the batch: a batch of 20 chunks crosses the Dagster path while
a probe watches Arrow's allocations (docs/semantics.md §3.6, docs/dagster.md "Staging"; issue 10,
"No step ever holds the whole batch").

Measured: extract, normalized and its checks peak at about 3 chunks (the chunk being read, the
next one being parsed, the chunk being written; a local staged chunk is read memory-mapped);
`applied` at about 5 (the engine's diff of one chunk carries its new rows, the old rows they hit
and the key columns); `diff` stages each chunk's part of the planned diff as it is planned and
keeps it mapped from disk. Holding the batch would be 20.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.io import StagingIOManager
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.engine import pipeline
from sync_pipeline.syncs import parse_syncs
from sync_pipeline.syncs.staging import StagedBatch
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import run

pytestmark = pytest.mark.integration

CHUNK, CHUNKS = 2_000, 20
STAGED_CHUNKS = 3.5  # bound of the staging steps, in chunks
ENGINE_CHUNKS = 6  # bound of the steps that run the engine on a chunk, in chunks


class ArrowPeak:
    """The most Arrow memory allocated at once above where it stood when watching began."""

    def __init__(self) -> None:
        self.peak = 0


@contextmanager
def watching() -> Iterator[ArrowPeak]:
    """Samples `pa.total_allocated_bytes()` from a thread until the block ends (a sample can
    miss a short peak, never invent one: the bound it checks can only look better than it is,
    so the chunk is made large enough that holding the batch could not slip through)."""
    probe, stop, base = ArrowPeak(), threading.Event(), pa.total_allocated_bytes()

    def sample() -> None:
        while not stop.is_set():
            probe.peak = max(probe.peak, pa.total_allocated_bytes() - base)
            stop.wait(0.0005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join()


@pytest.fixture(autouse=True)
def unit_of_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine looks a stream up in units of LOOKUP_ROWS rows (a constant: 200,000 rows, more
    than this whole batch); one unit per chunk here, so the bound is measured in chunks."""
    monkeypatch.setattr(pipeline, "LOOKUP_ROWS", CHUNK)


@pytest.fixture
def sender(tmp_path: Path) -> str:
    """A sender table of CHUNKS x CHUNK rows, each with a 400-character text."""
    url = f"sqlite:///{tmp_path / 'sender.db'}"
    engine = sa.create_engine(url)
    table = sa.Table(
        "src",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.BigInteger),
        sa.Column("payload", sa.Text),
    )
    rows = [{"id": i, "n": i * 7, "payload": f"{i:08d}" + "x" * 392} for i in range(CHUNK * CHUNKS)]
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), rows)
    engine.dispose()
    return url


def _defs(
    db: TestDb, sender_url: str, staging_dir: Path, *diff_rules: dict[str, object]
) -> dg.Definitions:
    config = {
        "name": "big",
        "sender": {"kind": "sql", "table": "src", "chunk_size": CHUNK},
        "table": "big",
        "match_by": ["id"],
        "strategy": "overwrite",
        "rules": [
            {"name": "payload_present", "kind": "not_null", "columns": ["payload"]},
            *diff_rules,
        ],
    }
    resources = {
        "target_db": SqlDatabase(url=db.url),
        "sender_db": SqlDatabase(url=sender_url),
        "io_manager": StagingIOManager(base_dir=str(staging_dir)),
    }
    return build_location(parse_syncs({"syncs": [config]}), resources)


def _step(*steps: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["big", s]) for s in steps]


def _largest_chunk(staging_dir: Path, chunks: int = CHUNKS) -> int:
    staged = StagedBatch((str(staging_dir / "big" / "extract" / "all"),))
    sizes = [c.nbytes for c in staged.chunks()]
    assert len(sizes) == chunks and sum(sizes) > 15 * max(sizes)  # the batch dwarfs a chunk
    return max(sizes)


def test_extract_normalize_checks_and_applied_hold_about_two_chunks(
    db: TestDb, sender: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    defs = _defs(db, sender, tmp_path / "staging")
    with watching() as staged:  # extract, normalized and its blocking checks
        first = run(defs, "big_sync", instance, asset_selection=_step("extract", "normalized"))
    with watching() as applied:  # launched alone: no staged diff, the chunks stream
        second = run(defs, "big_sync", instance, asset_selection=_step("applied"))

    assert first.success and second.success
    chunk = _largest_chunk(tmp_path / "staging")
    assert db.execute("SELECT COUNT(*) FROM big")[0][0] == CHUNK * CHUNKS
    assert chunk / 2 < staged.peak < STAGED_CHUNKS * chunk  # it sees a chunk, never the batch
    assert chunk / 2 < applied.peak < ENGINE_CHUNKS * chunk


def test_applied_alone_judges_a_diff_rule_on_the_whole_batch_and_holds_a_chunk(
    db: TestDb, sender: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """A diff rule judges the whole batch's diff, yet `applied` launched alone still streams:
    each chunk's diff is counted as it is written, and the rule is judged before the commit."""
    rule = {"name": "few_changes", "kind": "max_changed_fraction", "fraction": 0.5}
    defs = _defs(db, sender, tmp_path / "staging", rule)
    assert run(defs, "big_sync", instance, asset_selection=_step("extract", "normalized")).success
    with watching() as applied:  # a first sync: every row new, none changed
        assert run(defs, "big_sync", instance, asset_selection=_step("applied")).success
    assert applied.peak < ENGINE_CHUNKS * _largest_chunk(tmp_path / "staging")
    before = db.execute("SELECT COUNT(*), SUM(n) FROM big")
    assert before == [(CHUNK * CHUNKS, sum(i * 7 for i in range(CHUNK * CHUNKS)))]

    changed = CHUNK * CHUNKS * 6 // 10  # 60 % of the rows change at the sender
    engine = sa.create_engine(sender)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE src SET n = n + 1 WHERE id < :k"), {"k": changed})
    engine.dispose()
    assert run(defs, "big_sync", instance, asset_selection=_step("extract", "normalized")).success
    refused = run(defs, "big_sync", instance, asset_selection=_step("applied"))

    assert not refused.success
    [failure] = [e for e in refused.all_events if e.is_step_failure]
    assert failure.step_failure_data is not None
    assert (
        f"RuleError: 1 diff rule(s) failed, nothing written: few_changes ({changed} of "
        f"{CHUNK * CHUNKS} rows changed (60.0%, limit 50.0%))"
    ) in str(failure.step_failure_data.error)
    assert db.execute("SELECT COUNT(*), SUM(n) FROM big") == before  # rolled back, every chunk


def test_diff_memory_follows_the_chunk_too(
    db: TestDb, sender: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    defs = _defs(db, sender, tmp_path / "staging")
    assert run(defs, "big_sync", instance, asset_selection=_step("extract", "normalized")).success
    with watching() as diff:
        assert run(defs, "big_sync", instance, asset_selection=_step("diff")).success
    assert diff.peak < ENGINE_CHUNKS * _largest_chunk(tmp_path / "staging")


def test_a_re_sync_against_a_big_scope_plans_and_checks_without_holding_it(
    pg: TestDb, sender: str, tmp_path: Path, instance: dg.DagsterInstance, monkeypatch
) -> None:
    """A scope too big to hold (here: any, HOLD_BYTES < 0): `diff` looks each chunk's rows up,
    finds the missing rows in the database, and keeps of the scope a fingerprint and the matched
    rows' identities, versions and changed values (engine/lookup.py); `applied` checks those in
    the database. The target holds the batch: planning against the scope held peaks at about
    44 chunks here, looking up at about 10 (the lean matched rows, about a sixth of a chunk per
    chunk of these 400-character rows, still grow with the batch)."""
    monkeypatch.setattr(pipeline, "HOLD_BYTES", -1)
    defs = _defs(pg, sender, tmp_path / "staging")
    assert run(defs, "big_sync", instance).success  # the first sync: the target holds the batch
    engine = sa.create_engine(sender)
    with engine.begin() as conn:  # a tenth changes, the last chunk's rows are gone
        conn.execute(sa.text("UPDATE src SET n = n + 1 WHERE id % 10 = 0"))
        conn.execute(sa.text("DELETE FROM src WHERE id >= :k"), {"k": CHUNK * (CHUNKS - 1)})
    engine.dispose()
    assert run(defs, "big_sync", instance, asset_selection=_step("extract", "normalized")).success
    with watching() as diff:
        assert run(defs, "big_sync", instance, asset_selection=_step("diff")).success
    assert run(defs, "big_sync", instance, asset_selection=_step("applied")).success

    chunk = _largest_chunk(tmp_path / "staging", CHUNKS - 1)
    assert diff.peak < CHUNKS * chunk / 2  # less than half the scope, itself about CHUNKS chunks
    kept, gone = CHUNK * (CHUNKS - 1), range(CHUNK * (CHUNKS - 1), CHUNK * CHUNKS)
    expected = sum(i * 7 + (i % 10 == 0) for i in range(kept)) + sum(i * 7 for i in gone)
    assert pg.execute("SELECT COUNT(*), SUM(n) FROM big") == [(CHUNK * CHUNKS, expected)]

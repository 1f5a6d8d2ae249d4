"""CursorStore, FakeSender and the InboxSender of client transaction files."""

import datetime as dt
import itertools
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import Writer
from sync_pipeline.senders import PartitionFilter, build_sender
from sync_pipeline.senders.errors import SenderError
from sync_pipeline.senders.fake import FakeSender
from sync_pipeline.senders.inbox import InboxSender
from sync_pipeline.senders.state import CursorStore
from sync_pipeline_tests import dbs


@pytest.mark.parametrize(
    "value",
    [5, "abc", Decimal("1.50"), dt.date(2025, 1, 1), dt.datetime(2025, 1, 1, 1, tzinfo=dt.UTC)],
)
def test_cursor_store_round_trips_values(tmp_path: Path, value) -> None:
    store = CursorStore(tmp_path / "c.db")
    store.commit("s", value)
    assert CursorStore(tmp_path / "c.db").get("s") == value
    store.reset("s")
    assert store.get("s") is None


def test_cursor_store_in_postgres(pg: dbs.TestDb) -> None:
    store = CursorStore(pg.engine)
    store.commit("a", 1)
    store.commit("a", 2)
    assert store.get("a") == 2
    assert pg.rows("sync_pipeline_cursors", order_by="sync_name")[0]["sync_name"] == "a"


def test_fake_sender_chunks_and_partitions() -> None:
    sender = FakeSender("f", records=[{"id": i, "t": "ab"[i % 2]} for i in range(5)], chunk_size=2)
    assert [c.num_rows for c in sender.read()] == [2, 2, 1]
    rows = [r for c in sender.read(PartitionFilter.static("t", "b")) for r in c.to_pylist()]
    assert [r["id"] for r in rows] == [1, 3]
    assert sender.reads == 2
    assert isinstance(build_sender("fake", tables=[pa.table({"a": [1]})]), FakeSender)


def _todos(db: dbs.TestDb) -> None:
    md = sa.MetaData()
    db.create(
        sa.Table(
            "todos", md,
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("title", sa.Text, nullable=False),
        )
    )  # fmt: skip


def _txn(*ops: tuple[str, dict]) -> str:
    out = []
    for kind, values in ops:
        key = "modified" if kind == "insert" else "original"
        out.append({"type": kind, "syncMetadata": {"relation": ["public", "todos"]}, key: values})
    return json.dumps(out)


def test_inbox_applies_files_in_name_order_and_moves_them(db: dbs.TestDb, tmp_path: Path) -> None:
    _todos(db)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "002.json").write_text(_txn(("delete", {"id": "1"})))
    (inbox / "001.json").write_text(_txn(("insert", {"id": "1", "title": "a"})))
    (inbox / "003.json").write_text(_txn(("insert", {"id": "2", "title": "b"})))
    (inbox / "004.json").write_text(_txn(("insert", {"id": "x", "title": "bad"})))
    (inbox / "005.json").write_text("[not json")
    sender = InboxSender(inbox)
    tables = list(itertools.islice(sender.read(), 3))  # 005.json would raise when reached
    assert [t.column("file")[0].as_py() for t in tables] == ["001.json", "002.json", "003.json"]
    report = sender.apply_all(Writer().allow("todos"), db.engine)
    assert [f for f, _ in report.applied] == ["001.json", "002.json", "003.json"]
    assert [f for f, _ in report.rejected] == ["004.json", "005.json"]
    assert db.rows("todos") == [{"id": 2, "title": "b"}]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "001.json",
        "002.json",
        "003.json",
    ]
    assert (inbox / "failed" / "004.json.error.json").exists()
    assert sender.files() == []


@pytest.mark.integration
def test_inbox_leaves_a_file_in_place_when_the_database_fails(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "001.json").write_text(_txn(("insert", {"id": "1", "title": "a"})))
    with pytest.raises(sa.exc.OperationalError):
        InboxSender(inbox).apply_all(Writer().allow("todos"), f"sqlite:///{tmp_path}/nodir/x.db")
    assert (inbox / "001.json").exists()


def test_inbox_read_raises_on_unparseable_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[]")
    with pytest.raises(SenderError, match="empty transaction"):
        list(InboxSender(tmp_path).read())


def test_fake_sender_window_with_naive_values_and_aware_bounds() -> None:
    sender = FakeSender(records=[{"at": dt.datetime(2025, 1, d, 5)} for d in (1, 2, 3)])
    window = PartitionFilter.window(
        "at", dt.datetime(2025, 1, 2, tzinfo=dt.UTC), dt.datetime(2025, 1, 3, tzinfo=dt.UTC)
    )
    assert [r["at"].day for c in sender.read(window) for r in c.to_pylist()] == [2]

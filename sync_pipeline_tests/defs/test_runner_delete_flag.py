"""The sender's hard-delete flag reaches the engine through a sync's configuration."""

import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import import_records
from sync_pipeline.syncs import runner
from sync_pipeline.syncs.spec import SenderSpec, SyncSpec
from sync_pipeline.syncs.staging import ChunkList

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("policy", "left"), [("report", [2]), ("soft_delete", [1, 2])])
def test_flagged_rows_are_deleted_or_soft_deleted(db, policy, left):
    sa.Table(
        "items",
        md := sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("last_batch_id", sa.BigInteger),
    )
    md.create_all(db.engine)
    import_records(db.engine, "items", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    spec = SyncSpec(
        name="items",
        sender=SenderSpec("fake", {"delete_flag": "gone"}),
        table="items",
        strategy="overwrite",
        missing=policy,
    )
    chunk = pa.table({"id": [1, 2], "name": ["a", "b"], "gone": [True, False]})
    result = runner.apply(db.engine, spec, ChunkList.of(chunk), None)
    assert result.deleted == 1
    rows = db.rows("items")
    assert [r["id"] for r in rows] == left
    if policy == "soft_delete":
        assert rows[0]["deleted_at"] is not None and rows[1]["deleted_at"] is None

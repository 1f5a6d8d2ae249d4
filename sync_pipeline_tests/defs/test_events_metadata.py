"""`applied` metadata: the number of change events and the position of the last one."""

import pytest

from sync_pipeline import events, import_records
from sync_pipeline.defs.metadata import events_metadata
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration

ROWS = [{"id": 1, "tenant": "A", "name": "a"}, {"id": 2, "tenant": "B", "name": "b"}]


def test_the_count_and_the_last_position_of_the_write(db):
    db.create(accounts())
    import_records(db.engine, "accounts", ROWS[:1], "overwrite", events=True)
    result = import_records(db.engine, "accounts", ROWS, "overwrite", events=True)
    last = events.read(db.engine)[-1].events[-1]
    meta = events_metadata(db.engine, result)
    assert meta["events"].value == 1 and result.events == 1
    assert meta["last_event_position"] == str(last.position)
    assert events.last_position(db.engine, batch_id=result.batch_id) == last.position


def test_events_off_is_a_zero_count_and_no_position(db):
    db.create(accounts())
    result = import_records(db.engine, "accounts", ROWS, "overwrite")
    assert {k: v.value for k, v in events_metadata(db.engine, result).items()} == {"events": 0}
    assert events.last_position(db.engine, batch_id=result.batch_id) is None


def test_last_position_needs_one_way_to_find_the_write(sqlite):
    with pytest.raises(ConfigError, match="exactly one of txid= or batch_id="):
        events.last_position(sqlite.engine)

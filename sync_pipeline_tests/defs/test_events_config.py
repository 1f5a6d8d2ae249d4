"""A sync's `events:` turns change events on for its writes; a retention adds a prune job."""

import dataclasses
import datetime as dt

import dagster as dg
import pytest

from sync_pipeline import events
from sync_pipeline.errors import SyncConfigError
from sync_pipeline.syncs import load_syncs, parse_syncs
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import REPO, Location, run

ENTRY = {"name": "s", "sender": {"kind": "sql", "url": "sqlite://", "table": "t"}, "table": "t",
         "match_by": "id"}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "option", "retention"),
    [
        (False, None, None),
        (True, True, None),
        ({"keys": ["region"]}, {"keys": ["region"]}, None),
        ({"retention_days": 7}, True, dt.timedelta(days=7)),
        ({"keys": ["a", "b"], "retention_days": 0.5}, {"keys": ["a", "b"]}, dt.timedelta(hours=12)),
    ],
)
def test_events_config_becomes_the_engine_option_and_a_retention(value, option, retention):
    [spec] = parse_syncs({"syncs": [{**ENTRY, "events": value}]})
    assert spec.options.get("events") == option and spec.events_retention == retention


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"key": ["region"]}, "events.key"),
        ({"keys": "region"}, "events.keys"),
        ({"retention_days": -1}, "events.retention_days"),
        ("yes", "events"),
    ],
)
def test_a_bad_events_config_names_the_field(value, says):
    with pytest.raises(SyncConfigError, match=says.replace(".", r"\.")):
        parse_syncs({"syncs": [{**ENTRY, "events": value}]})


@pytest.mark.integration
def test_a_sync_with_events_records_them_and_its_prune_job_drops_them(
    db: TestDb, location: Location, instance: dg.DagsterInstance
) -> None:
    specs = [
        dataclasses.replace(
            s, options={**s.options, "events": {"keys": ["region"]}},
            events_retention=dt.timedelta(0),
        ) if s.name == "customers" else s
        for s in load_syncs(REPO / "syncs.yaml")
    ]  # fmt: skip
    defs = location(specs)
    assert defs.resolve_schedule_def("customers_prune_events_schedule").cron_schedule
    result = run(defs, "customers_sync", instance, partition_key="eu")
    assert result.success
    [applied] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["customers", "applied"])
    ]
    recorded = [e for c in events.read(db.engine) for e in c.events]
    assert applied.metadata["events"].value == len(recorded) == applied.metadata["created"].value
    assert applied.metadata["last_event_position"].value == str(recorded[-1].position)
    assert {e.keys["region"] for e in recorded} == {"eu"}
    pruned = run(defs, "customers_prune_events", instance)
    assert pruned.success
    with pytest.raises(events.CursorTooOld):
        events.read(db.engine)
    assert events.read(db.engine, after=recorded[-1].position) == []

"""Fanout: 1,000 subscribers filtered by key value cost one check per delivered event, not per
subscriber, and each gets exactly what a subscribe() with the same filters would."""

import pytest

from sync_pipeline import events, import_records
from sync_pipeline.errors import ConfigError
from sync_pipeline.events import route
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration

TENANTS = 1000


@pytest.fixture
def evaluations(monkeypatch):
    """How many times any subscriber's filter looked at an event."""
    counted = [0]
    real = route.Route.event

    def counting(self, event):
        counted[0] += 1
        return real(self, event)

    monkeypatch.setattr(route.Route, "event", counting)
    return counted


def rows(n: int, tenants: int = TENANTS) -> list[dict]:
    return [{"id": i, "tenant": f"t{i % tenants}", "name": f"n{i}"} for i in range(n)]


def drain(sub: events.Subscriber) -> list[events.ChangeEvent]:
    got = []
    while (commit := sub.next(0)) is not None:
        got += commit.events
    return got


def test_routing_to_a_thousand_tenants_checks_each_event_once(pg, evaluations):
    pg.create(accounts())
    n = 20_000
    import_records(pg.engine, "accounts", rows(n), "overwrite", batch_id=False,
                   events={"keys": ["tenant"]})  # fmt: skip
    fanout = events.Fanout(pg.engine, ["accounts"], poll_interval=0.1)
    subs = [fanout.subscribe(where={"tenant": f"t{t}"}) for t in range(TENANTS)]
    everything = fanout.subscribe()
    reached = []
    while reached[-1:] != [0]:  # a large commit is read in pages
        reached.append(fanout.pump(0.5))
    assert reached[0] == TENANTS + 1
    # once by its tenant's subscriber, once by the unfiltered one: not n x 1001 (the reader has
    # no filter, so it passes commits on without looking at their events)
    assert evaluations[0] == 2 * n
    got = [drain(s) for s in subs]
    assert [e.pk["id"] for e in got[7]] == list(range(7, n, TENANTS))
    assert {len(g) for g in got} == {n // TENANTS} and len(drain(everything)) == n
    fanout.close()


def test_a_row_that_changes_tenant_reaches_both_as_subscribe_would(sqlite):
    sqlite.create(accounts())
    opts = {"batch_id": False, "events": {"keys": ["tenant"]}}
    import_records(sqlite.engine, "accounts", rows(4, tenants=2), "overwrite", **opts)
    fanout = events.Fanout(sqlite.engine, ["accounts"], poll_interval=0.05)
    fanout.pump(2)
    a, b = (fanout.subscribe(where={"tenant": t}) for t in ("t0", "t1"))
    one = fanout.subscribe(row={"id": 2})
    moved = [{"id": 2, "tenant": "t1", "name": "n2"}]
    import_records(sqlite.engine, "accounts", moved, "overwrite", **opts)
    assert fanout.pump(5) == 3
    (to_a,) = a.next(0).events
    (to_b,) = b.next(0).events
    assert (to_a.effect, dict(to_a.pk), dict(to_a.changes)) == ("deleted", {"id": 2}, {})
    assert (to_b.effect, dict(to_b.keys)) == ("updated", {"tenant": "t1"})
    assert one.next(0).events == (to_b,)
    b.close()
    import_records(sqlite.engine, "accounts", [{"id": 3, "tenant": "t1", "name": "x"}], "overwrite",
                   **opts)  # fmt: skip
    assert fanout.pump(5) == 0 and b.next(0) is None
    with pytest.raises(ConfigError, match="not recorded key columns"):
        fanout.subscribe(where={"name": "x"})
    fanout.close()

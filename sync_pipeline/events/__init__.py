"""Change events: recorded in the writing transaction, read and subscribed in commit order.

from sync_pipeline import events
rows, cursor = events.snapshot(engine, "orders")
for commit in events.read(engine, after=cursor): ...
"""

from sync_pipeline.events.asubscribe import AsyncSubscription, asubscribe
from sync_pipeline.events.cache import Relation, sync
from sync_pipeline.events.fanout import Fanout, Subscriber
from sync_pipeline.events.jsonvalues import dumps
from sync_pipeline.events.lookup import last_position
from sync_pipeline.events.model import (
    ChangeEvent,
    Commit,
    CursorTooOld,
    EventOptions,
    Position,
    Row,
)
from sync_pipeline.events.prune import prune
from sync_pipeline.events.read import read, snapshot
from sync_pipeline.events.schema import install
from sync_pipeline.events.subscribe import Subscription, subscribe

__all__ = [
    "AsyncSubscription",
    "ChangeEvent",
    "Commit",
    "CursorTooOld",
    "EventOptions",
    "Fanout",
    "Position",
    "Relation",
    "Row",
    "Subscriber",
    "Subscription",
    "asubscribe",
    "dumps",
    "install",
    "last_position",
    "prune",
    "read",
    "snapshot",
    "subscribe",
    "sync",
]

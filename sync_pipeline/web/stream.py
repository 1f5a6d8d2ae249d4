"""GET /events: one SSE message per commit, `id:` its position, resumable with Last-Event-ID."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from sync_pipeline.errors import ConfigError
from sync_pipeline.events.asubscribe import AsyncSubscription, asubscribe
from sync_pipeline.events.jsonvalues import dumps
from sync_pipeline.events.model import ChangeEvent, Commit, CursorTooOld
from sync_pipeline.web import query
from sync_pipeline.web.auth import Authenticate, error, principal_of


def message(commit: Commit) -> ServerSentEvent:
    """`id:` the commit's position (the Last-Event-ID to resume after); data its JSON form."""
    return ServerSentEvent(data=dumps(commit.as_dict()), id=str(commit.position))


class EventStream:
    """One subscription per request, filtered by authorize(principal, event); fails closed."""

    def __init__(
        self,
        bind: sa.Engine | sa.Connection,
        authenticate: Authenticate,
        authorize: Callable[[Any, ChangeEvent], Any] | None,
        poll_interval: float,
    ) -> None:
        self.bind, self.authenticate, self.authorize = bind, authenticate, authorize
        self.poll_interval = poll_interval

    def _query(self, request: Request) -> query.EventQuery:
        engine = self.bind.engine if isinstance(self.bind, sa.Connection) else self.bind
        with engine.connect() as conn:
            return query.parse(conn, request.query_params, request.headers.get("last-event-id"))

    async def handle(self, request: Request) -> Response:
        principal = await principal_of(self.authenticate, request)
        if principal is None:
            return error(401, "not authenticated")
        authorize = self.authorize
        try:
            q = await anyio.to_thread.run_sync(self._query, request)
        except ConfigError as exc:
            return error(400, str(exc))
        sub = asubscribe(
            self.bind, q.tables, after=q.after, row=q.row, where=q.where,
            poll_interval=self.poll_interval,
            authorize=None if authorize is None else (lambda e: authorize(principal, e)),
        )  # fmt: skip
        try:
            await sub.__aenter__()
            first = await sub.next(0)  # a pruned cursor answers 410 before the stream starts
        except BaseException as exc:
            with anyio.CancelScope(shield=True):  # never leave its thread and connection behind
                await sub.aclose()
            if isinstance(exc, CursorTooOld):
                return error(410, str(exc))
            if isinstance(exc, ConfigError):
                return error(400, str(exc))
            raise
        return EventSourceResponse(_messages(sub, first))


async def _messages(sub: AsyncSubscription, first: Commit | None) -> AsyncIterator[ServerSentEvent]:
    try:
        if first is not None:
            yield message(first)
        async for commit in sub:
            yield message(commit)
    finally:
        with anyio.CancelScope(shield=True):  # the client left: close the subscription anyway
            await sub.aclose()

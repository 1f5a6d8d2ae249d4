"""GET /events: one SSE message per commit, `id:` its position, resumable with Last-Event-ID."""

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from sync_pipeline.errors import ConfigError
from sync_pipeline.events.jsonvalues import dumps
from sync_pipeline.events.model import ChangeEvent, Commit, CursorTooOld
from sync_pipeline.events.route import Route
from sync_pipeline.web import query
from sync_pipeline.web.auth import Authenticate, error, principal_of
from sync_pipeline.web.shared import Client, SharedEvents

T = TypeVar("T")
MAX_CLIENTS = 10_000  # threads the streams may wait in at once


def message(commit: Commit) -> ServerSentEvent:
    """`id:` the commit's position (the Last-Event-ID to resume after); data its JSON form."""
    return ServerSentEvent(data=dumps(commit.as_dict()), id=str(commit.position))


class EventStream:
    """Every client of the app is served by the app's shared Fanout of its tables (one reader),
    filtered per client by its query and authorize(principal, event); fails closed."""

    def __init__(
        self,
        bind: sa.Engine | sa.Connection,
        authenticate: Authenticate,
        authorize: Callable[[Any, ChangeEvent], Any] | None,
        poll_interval: float,
    ) -> None:
        self.engine = bind.engine if isinstance(bind, sa.Connection) else bind
        self.authenticate, self.authorize = authenticate, authorize
        self.poll_interval = poll_interval
        self.shared = SharedEvents(self.engine, poll_interval)
        self._limiter: anyio.CapacityLimiter | None = None

    def _query(self, request: Request) -> query.EventQuery:
        with self.engine.connect() as conn:
            return query.parse(conn, request.query_params, request.headers.get("last-event-id"))

    async def _thread(self, fn: Callable[..., T], *args: Any, abandon: bool = False) -> T:
        """Blocking calls in threads of the stream's own pool (POST /mutations keeps anyio's);
        `abandon`: a client that leaves does not wait for it (a live wait ends within one poll
        interval)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(MAX_CLIENTS)
        return await anyio.to_thread.run_sync(
            fn, *args, abandon_on_cancel=abandon, limiter=self._limiter
        )

    async def handle(self, request: Request) -> Response:
        principal = await principal_of(self.authenticate, request)
        if principal is None:
            return error(401, "not authenticated")
        authorize = self.authorize
        try:
            q = await self._thread(self._query, request)
        except ConfigError as exc:
            return error(400, str(exc))
        route = Route(
            q.row, q.where, None if authorize is None else (lambda e: authorize(principal, e))
        )
        client = Client(self.shared, q.tables, q.after, route)
        try:  # a bad filter answers 400, a pruned cursor 410, before the stream starts
            first = await self._thread(client.open)
        except BaseException as exc:
            client.close()
            if isinstance(exc, CursorTooOld):
                return error(410, str(exc))
            if isinstance(exc, ConfigError):
                return error(400, str(exc))
            raise
        return EventSourceResponse(self._messages(client, first))

    async def _messages(
        self, client: Client, first: list[Commit]
    ) -> AsyncIterator[ServerSentEvent]:
        try:
            page: list[Commit] | None = first
            while page is not None:  # history from the client's cursor, then the live stream
                for commit in page:
                    yield message(commit)
                page = await self._thread(client.history)
            while True:
                new = await self._thread(client.live, self.poll_interval, abandon=True)
                if new is not None:
                    yield message(new)
        finally:
            client.close()  # the client left: leave the Fanout (its last client stops it)

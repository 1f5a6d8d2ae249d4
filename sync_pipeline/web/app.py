"""create_app(): POST /mutations applies a TanStack DB transaction; GET /events streams commits."""

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync_pipeline.db.connect import Target, as_engine
from sync_pipeline.engine.mutations import Writer, WriteRejected
from sync_pipeline.events.model import ChangeEvent
from sync_pipeline.web.auth import Authenticate, error, principal_of
from sync_pipeline.web.stream import EventStream

RequestAuthorize = Callable[[Any, ChangeEvent], Any]
WriterFor = Callable[[Any], Writer]


def transaction_of(body: bytes) -> list[Any] | None:
    """The mutation list of a bare array or {"transaction": [...]}; None when malformed."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict) and set(payload) == {"transaction"}:
        payload = payload["transaction"]
    return payload if isinstance(payload, list) else None


class Mutations:
    """POST /mutations: one client transaction, applied by writer_for(principal) in a thread."""

    def __init__(
        self, bind: Any, writer_for: WriterFor, authenticate: Authenticate, events: Any
    ) -> None:
        self.bind, self.writer_for, self.authenticate = bind, writer_for, authenticate
        self.events = events

    async def handle(self, request: Request) -> Response:
        principal = await principal_of(self.authenticate, request)
        if principal is None:
            return error(401, "not authenticated")
        transaction = transaction_of(await request.body())
        if transaction is None:
            return error(400, 'expected a JSON array of mutations or {"transaction": [...]}')
        writer = self.writer_for(principal)
        apply = partial(writer.apply, transaction, self.bind, events=self.events)
        try:
            result = await anyio.to_thread.run_sync(apply)  # Writer.apply is blocking
        except WriteRejected as exc:
            status = 400 if exc.step == "parse" else 422
            return error(status, exc.message, step=exc.step, index=exc.index)
        txid = result.txid
        return JSONResponse(
            {"txid": None if txid is None else str(txid),
             "txid32": None if txid is None else txid % 2**32}
        )  # fmt: skip


def create_app(
    target: Target,
    *,
    writer_for: WriterFor,
    authenticate: Authenticate,
    authorize: RequestAuthorize | None = None,
    events: Any = True,
    poll_interval: float = 1.0,
) -> Starlette:
    """An ASGI app: POST /mutations (TanStack DB transactions) and GET /events (SSE).

    Args:
        target: Engine or URL of the database.
        writer_for: principal -> the Writer for this request (its allow-list may use the user).
        authenticate: request -> principal; None or an exception answers 401. May be async.
        authorize: (principal, event) -> True to deliver; anything else or an error drops it.
        events: what POST records (True or {"keys": [...]}) so /events streams the writes.
        poll_interval: the longest an SSE stream waits before re-reading (SQLite polls).
    """
    bind = as_engine(target)
    mutations = Mutations(bind, writer_for, authenticate, events)
    stream = EventStream(bind, authenticate, authorize, poll_interval)
    return Starlette(
        routes=[
            Route("/mutations", mutations.handle, methods=["POST"]),
            Route("/events", stream.handle, methods=["GET"]),
        ]
    )

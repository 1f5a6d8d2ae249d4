"""Serve an ASGI app with a real uvicorn on 127.0.0.1 (a free port) in a thread, for a test."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from sync_pipeline import Writer
from sync_pipeline.web import create_app

TOKENS = {"alice": "alice-token", "bob": "bob-token"}


def bearer(request: Any) -> str | None:
    """The test authenticator: `Authorization: Bearer <user>-token` or ?token= -> user name."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    token = token or request.query_params.get("token", "")
    if token == "boom-token":
        raise RuntimeError("the identity service is down")
    return next((user for user, t in TOKENS.items() if t == token), None)


def todos_app(engine: Any, **kwargs: Any) -> Any:
    return create_app(
        engine, writer_for=lambda user: Writer().allow("todos"), authenticate=bearer,
        poll_interval=0.1, **kwargs,
    )  # fmt: skip


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The base URL of `app` served by uvicorn until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def auth(user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[user]}"}


def sse_messages(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    """The first `count` SSE messages of a streaming response: {"id", "data" (decoded JSON)}."""
    got: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if line.startswith("id:"):
            current["id"] = line[3:].strip()
        elif line.startswith("data:"):
            current["data"] = json.loads(line[5:].strip())
        elif line == "" and "data" in current:
            got.append(current)
            current = {}
            if len(got) == count:
                break
    return got

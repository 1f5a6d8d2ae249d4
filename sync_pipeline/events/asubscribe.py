"""asubscribe(): the same subscription for asyncio code, run in one worker thread of its own."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sync_pipeline.events.model import Commit
from sync_pipeline.events.subscribe import Subscription

T = TypeVar("T")


class AsyncSubscription:
    """`async with` / `async for`; every database call runs in the subscription's own thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-events")
        self._args, self._kwargs = args, kwargs
        self._sub: Subscription | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _subscription(self) -> Subscription:
        if self._sub is None:
            self._sub = await self._run(lambda: Subscription(*self._args, **self._kwargs))
        return self._sub

    async def __aenter__(self) -> "AsyncSubscription":
        await self._subscription()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Commit:
        sub = await self._subscription()
        while True:
            commit = await self._run(sub.next, sub.poll_interval)
            if commit is not None:
                return commit

    async def next(self, timeout: float | None = None) -> Commit | None:
        """The next commit for this subscriber, or None after `timeout` seconds."""
        return await self._run((await self._subscription()).next, timeout)

    async def ack(self, commit: Commit) -> None:
        await self._run((await self._subscription()).ack, commit)

    async def aclose(self) -> None:
        if self._sub is not None:
            await self._run(self._sub.close)
        self._executor.shutdown(wait=False)


def asubscribe(*args: Any, **kwargs: Any) -> AsyncSubscription:
    """events.subscribe() for asyncio: same arguments, `async with` and `async for`."""
    return AsyncSubscription(*args, **kwargs)

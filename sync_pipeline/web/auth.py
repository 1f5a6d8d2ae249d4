"""Who is asking, and the JSON error answers of the endpoint."""

import inspect
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

Authenticate = Callable[[Request], Any]


def error(status: int, message: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": message, **fields}}, status_code=status)


async def principal_of(authenticate: Authenticate, request: Request) -> Any:
    """The authenticated principal, or None (the caller answers 401); may be sync or async."""
    try:
        principal = authenticate(request)
        if inspect.isawaitable(principal):
            principal = await principal
    except Exception:  # an authenticator that raises denies, it never leaks into a 500
        return None
    return principal

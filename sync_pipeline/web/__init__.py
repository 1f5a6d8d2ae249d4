"""A live HTTP endpoint for client writes and change events (the `web` extra: Starlette, uvicorn).

from sync_pipeline.web import create_app
app = create_app(engine, writer_for=..., authenticate=...)   # serve with uvicorn
"""

from sync_pipeline.web.app import create_app

__all__ = ["create_app"]

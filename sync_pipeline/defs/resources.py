"""Databases as resources (URLs from the environment) and where staged batches are kept."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa

# shared with the command line, which must not import dagster
from sync_pipeline.syncs.local import DEMO_DIR_ENV, SENDER_URL_ENV, TARGET_URL_ENV, demo_dir

__all__ = ["DEMO_DIR_ENV", "SENDER_URL_ENV", "TARGET_URL_ENV", "SqlDatabase", "demo_dir"]

STAGING_DIR_ENV = "SYNC_STAGING_DIR"


class SqlDatabase(dg.ConfigurableResource):
    """A database reached by SQLAlchemy URL; pass `dg.EnvVar(...)` so secrets stay out of code."""

    url: str

    @contextmanager
    def engine(self) -> Iterator[sa.Engine]:
        """An engine for one step; disposed afterwards so runs leave no open connections."""
        engine = sa.create_engine(self.url, pool_pre_ping=True)
        try:
            yield engine
        finally:
            engine.dispose()

    def display_url(self) -> str:
        """The URL without its password, safe for logs and metadata."""
        return sa.make_url(self.url).render_as_string(hide_password=True)


def url_setting(env: str, demo_file: str) -> str | dg.EnvVar:
    """`EnvVar(env)` when the variable is set (resolved at run time), else the demo SQLite file."""
    if os.environ.get(env):
        return dg.EnvVar(env)
    return f"sqlite:///{demo_dir() / demo_file}"


def default_resources() -> dict[str, object]:
    """Resources for the code location; called when definitions load, never at import."""
    from sync_pipeline.defs.io import StagingIOManager

    return {
        "target_db": SqlDatabase(url=url_setting(TARGET_URL_ENV, "target.db")),
        "sender_db": SqlDatabase(url=url_setting(SENDER_URL_ENV, "sender.db")),
        "io_manager": StagingIOManager(
            base_dir=os.environ.get(STAGING_DIR_ENV) or str(demo_dir() / "staging")
        ),
    }


def target_kind() -> str:
    """Kinds tag of the target (`postgres` or `sqlite`), from the URL's scheme at load time."""
    url = os.environ.get(TARGET_URL_ENV) or "sqlite://"
    return "postgres" if url.startswith("postgresql") else sa.make_url(url).get_backend_name()

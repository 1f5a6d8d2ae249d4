"""Running a sync outside Dagster: the databases it uses and the scope of a partition key."""

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sync_pipeline.errors import ConfigError, did_you_mean
from sync_pipeline.syncs.scope import Scope
from sync_pipeline.syncs.spec import SyncSpec

TARGET_URL_ENV = "SYNC_TARGET_URL"
SENDER_URL_ENV = "SYNC_SENDER_URL"
DEMO_DIR_ENV = "SYNC_DEMO_DIR"


def demo_dir() -> Path:
    """Where the demo keeps its SQLite files and staging: `$SYNC_DEMO_DIR`, else `./.demo`."""
    env = os.environ.get(DEMO_DIR_ENV)
    return Path(env) if env else Path.cwd() / ".demo"


def default_url(env: str, demo_file: str) -> str:
    """The URL in `env` when set, else the demo's SQLite file (as the code location resolves)."""
    return os.environ.get(env) or f"sqlite:///{demo_dir() / demo_file}"


def target_default() -> str:
    """The code location's target: `$SYNC_TARGET_URL`, else the demo's target.db."""
    return default_url(TARGET_URL_ENV, "target.db")


def sender_default() -> str:
    """The SQL senders' database: `$SYNC_SENDER_URL`, else the demo's sender.db."""
    return default_url(SENDER_URL_ENV, "sender.db")


def shown(url: str) -> str:
    """The URL without its password, safe to print."""
    return sa.make_url(url).render_as_string(hide_password=True)


def find_sync(specs: tuple[SyncSpec, ...], name: str) -> SyncSpec:
    """The sync called `name`, or ConfigError with the known names and a "did you mean"."""
    names = [s.name for s in specs]
    for spec in specs:
        if spec.name == name:
            return spec
    raise ConfigError(f"no sync {name!r}{did_you_mean(name, names)}; syncs: {', '.join(names)}")


def scope_of(spec: SyncSpec, key: str | None) -> Scope | None:
    """The slice partition `key` covers (as in a Dagster run of it); None: the whole sender."""
    p = spec.partitioning
    if key is None or p is None:
        if key is not None:
            raise ConfigError(f"sync {spec.name!r} is not partitioned; drop --partition {key!r}")
        return None
    if p.kind != "daily":
        if key not in p.values:
            hint = did_you_mean(key, p.values)
            raise ConfigError(
                f"sync {spec.name!r} has no partition {key!r}{hint}; partitions: {list(p.values)}"
            )
        return Scope(p.column, p.scope_column, values=(key,))
    try:
        day = dt.date.fromisoformat(key)
    except ValueError:
        raise ConfigError(
            f"sync {spec.name!r}: partition {key!r} is not a day (YYYY-MM-DD)"
        ) from None
    if p.start is not None and day < p.start:
        raise ConfigError(f"sync {spec.name!r}: partition {key!r} is before the start {p.start}")
    start = dt.datetime.combine(day, dt.time(), ZoneInfo(p.timezone))
    end = start + dt.timedelta(days=1)
    return Scope(p.column, p.scope_column, _naive_utc(start), _naive_utc(end))


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Databases store the sender's timestamps without zone; compare in UTC."""
    return value.astimezone(dt.UTC).replace(tzinfo=None)

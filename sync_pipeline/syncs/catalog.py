"""What a sync says about its assets in the catalog: owners, tags and a freshness policy.

Checked at load with Dagster's own rules (owners, strict asset tags, windows of at least a
minute), so a bad value fails naming the sync and the field instead of inside Dagster.
"""

import datetime as dt
import re
from collections.abc import Callable, Mapping

import sqlalchemy as sa

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs import config as cfg
from sync_pipeline.syncs.spec import Freshness, SyncSpec, frozen_mapping

Fail = Callable[[str, str], ConfigError]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7}")
_TAG_KEY = re.compile(r"^([A-Za-z0-9_.-]{1,63}/)?[A-Za-z0-9_.-]{1,63}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_MINUTE = dt.timedelta(minutes=1)
_SOURCE_KEYS = ("table", "path", "pattern", "format")  # sender options that name the source


def owners(fail: Fail, values: list[str]) -> tuple[str, ...]:
    """Emails or `team:<name>`, as Dagster accepts them."""
    for i, owner in enumerate(values):
        if not (_EMAIL.fullmatch(owner) or (owner.startswith("team:") and len(owner) > 5)):
            raise fail(f"owners[{i}]", f"{owner!r} is neither an email nor 'team:<name>'")
    return tuple(values)


def tags(fail: Fail, values: Mapping[str, str]) -> Mapping[str, str]:
    """Asset tags: keys `[namespace/]name` and values of letters, digits, `_ - .` (<= 63)."""
    for key, value in values.items():
        if not _TAG_KEY.match(key) or key.startswith("dagster/"):
            raise fail(f"tags.{key}", "a tag key is [namespace/]name (letters, digits, _ - .)")
        if not _TAG_VALUE.match(value):
            raise fail(f"tags.{key}", f"{value!r}: letters, digits, _ - . only, <= 63 characters")
    return frozen_mapping(values)


def freshness(fail: Fail, value: cfg.FreshnessConfig | None) -> Freshness | None:
    """The windows as timedeltas; warn_window must be shorter than fail_window."""
    if value is None:
        return None
    fail_after = duration(fail, "freshness.fail_window", value.fail_window)
    warn_after = None
    if value.warn_window is not None:
        warn_after = duration(fail, "freshness.warn_window", value.warn_window)
        if warn_after >= fail_after:
            raise fail("freshness.warn_window", "must be shorter than fail_window")
    return Freshness(fail_after, warn_after)


def duration(fail: Fail, field: str, text: str) -> dt.timedelta:
    """`26h`, `90m`, `2d`, `1d12h`, `45s` (at least one minute) as a timedelta."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise fail(field, f"{text!r} is not a duration like 26h, 90m, 2d or 1d12h")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    span = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if span < _MINUTE:
        raise fail(field, f"{text!r} is shorter than one minute")
    return span


def sender_source(spec: SyncSpec) -> str:
    """Where the sender reads, in words and without a password: `table `orders` at
    `postgresql://etl:***@db/erp``; a SQL sender without a URL reads the `sender_db` resource."""
    config = spec.sender.config
    parts = [f"{key} `{config[key]}`" for key in _SOURCE_KEYS if config.get(key) is not None]
    if isinstance(config.get("query"), str):
        parts.append("a query")
    url = config.get("url")
    if isinstance(url, str):
        parts.append(f"at `{_without_password(url)}`")
    elif spec.sender.kind == "sql":
        parts.append("at the `sender_db` resource (`$SYNC_SENDER_URL`)")
    return " ".join(parts) or f"a `{spec.sender.kind}` sender"


def _without_password(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "a URL that is not shown"  # not a SQLAlchemy URL: it may hold a secret anywhere

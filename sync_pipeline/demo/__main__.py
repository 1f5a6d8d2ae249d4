"""Generate the demo sender, create the target, run every sync headless and print a summary.

SQLite files live in `.demo/` (or `$SYNC_DEMO_DIR`); set SYNC_TARGET_URL=postgresql+psycopg://...
to sync into Postgres instead. Afterwards `dg dev` (`make dev`) shows the same syncs.
"""

import datetime as dt
import os
import sys

import sqlalchemy as sa

from sync_pipeline.defs.headless import RunLine, run_jobs
from sync_pipeline.defs.resources import SENDER_URL_ENV, TARGET_URL_ENV, demo_dir
from sync_pipeline.demo.data import DAYS, FIRST_DAY, create_target, write_sender


def main() -> int:
    directory = demo_dir()
    directory.mkdir(parents=True, exist_ok=True)
    sender_url = os.environ.get(SENDER_URL_ENV) or f"sqlite:///{directory / 'sender.db'}"
    target_url = os.environ.get(TARGET_URL_ENV) or f"sqlite:///{directory / 'target.db'}"
    _prepare(sender_url, target_url, replace_target=not os.environ.get(TARGET_URL_ENV))
    lines = run_jobs(_plan())
    _print(lines, target_url)
    return 0


def _prepare(sender_url: str, target_url: str, replace_target: bool) -> None:
    """Fresh sender data; target tables created (and on the demo's own SQLite file, emptied)."""
    sender, target = sa.create_engine(sender_url), sa.create_engine(target_url)
    try:
        write_sender(sender)
        create_target(target, replace=replace_target)
    finally:
        sender.dispose()
        target.dispose()


def _plan() -> list[tuple[str, str]]:
    """customers per region, then orders day by day (one day holds invalid rows)."""
    days = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    return [("customers_sync", r) for r in ("eu", "us", "apac")] + [
        ("orders_sync", d) for d in days
    ]


def _print(lines: list[RunLine], target_url: str) -> None:
    shown = sa.make_url(target_url).render_as_string(hide_password=True)
    print(f"\nsync_pipeline demo -> target {shown}\n")
    print(f"{'job':<16}{'partition':<12}{'result':<9}details")
    for line in lines:
        status = "ok" if line.success else "BLOCKED"
        detail = line.counts if line.success else f"failed: {line.failure}"
        print(f"{line.job:<16}{line.partition:<12}{status:<9}{detail}")
    blocked = sum(not line.success for line in lines)
    print(
        f"\n{len(lines) - blocked} run(s) applied, {blocked} failed or blocked by a check "
        "(nothing written for those).\nNext: `make dev` (dg dev), then http://127.0.0.1:3000"
    )


if __name__ == "__main__":
    sys.exit(main())

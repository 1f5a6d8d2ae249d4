"""Deterministic sample data for the demo: customers and their orders, made by our own code."""

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

SEED = 20260101
FIRST_DAY = dt.date(2026, 1, 1)
DAYS = 7
BAD_DAY = dt.date(2026, 1, 3)  # the partition with deliberately invalid rows
REGIONS = {"eu": ["DE", "FR", "NL", "ES", "IT"], "us": ["US"], "apac": ["JP", "AU", "SG"]}
_FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Edsger",
    "Frances",
    "Donald",
    "Radia",
    "Tim",
    "Ida",
]
_LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Dijkstra",
    "Allen",
    "Knuth",
]
_STATUS = ["placed", "paid", "paid", "shipped", "shipped", "cancelled"]
_CURRENCY = {"eu": "EUR", "us": "USD", "apac": "JPY"}
_SKUS = [f"SKU-{n:04d}" for n in range(1, 41)]


def sender_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The sender's tables, shaped like a shop's operational database."""
    customers = sa.Table(
        "customers",
        metadata,
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120)),
        sa.Column("email", sa.String(200)),
        sa.Column("country", sa.String(8)),
        sa.Column("region", sa.String(8)),
        sa.Column("signed_up_at", sa.DateTime),
    )
    orders = sa.Table(
        "orders",
        metadata,
        sa.Column("order_id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer),
        sa.Column("ordered_at", sa.DateTime),
        sa.Column("status", sa.String(16)),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("currency", sa.String(8)),
        sa.Column("sku", sa.String(16)),
    )
    return customers, orders


def target_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The target tables: the sender's columns plus the batch id and soft-delete stamp."""
    customers, orders = sender_tables(sa.MetaData())
    out = []
    for source in (customers, orders):
        columns = [sa.Column(c.name, c.type, primary_key=c.primary_key) for c in source.columns]
        out.append(
            sa.Table(
                source.name,
                metadata,
                *columns,
                sa.Column("last_batch_id", sa.BigInteger, index=True),
                sa.Column("deleted_at", sa.DateTime),
            )
        )
    return out[0], out[1]


def customers_rows(count: int = 60, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for cid in range(1, count + 1):
        region = list(REGIONS)[cid % len(REGIONS)]
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        rows.append(
            {
                "customer_id": cid,
                "name": f"{first}  {last}" if cid % 11 == 0 else f"{first} {last}",
                "email": f" {first}.{last}{cid}@Example.COM "
                if cid % 7 == 0
                else f"{first.lower()}.{last.lower()}{cid}@example.com",
                "country": rng.choice(REGIONS[region]),
                "region": region,
                "signed_up_at": dt.datetime(2025, 1, 1) + dt.timedelta(hours=rng.randint(0, 8000)),
            }
        )
    return rows


def orders_rows(
    customers: int = 60, per_day: int = 30, days: int = DAYS, seed: int = SEED, invalid: bool = True
) -> list[dict[str, Any]]:
    """Orders over `days` days from FIRST_DAY; on BAD_DAY three rows break the rules."""
    rng = random.Random(seed + 1)
    rows = []
    for d in range(days):
        day = FIRST_DAY + dt.timedelta(days=d)
        for n in range(per_day):
            cid = rng.randint(1, customers)
            region = list(REGIONS)[cid % len(REGIONS)]
            rows.append(
                {
                    "order_id": (d + 1) * 10_000 + n,
                    "customer_id": cid,
                    "ordered_at": dt.datetime.combine(day, dt.time())
                    + dt.timedelta(seconds=rng.randint(0, 86_399)),
                    "status": rng.choice(_STATUS),
                    "amount": Decimal(rng.randint(500, 50_000)) / 100,
                    "currency": _CURRENCY[region],
                    "sku": rng.choice(_SKUS),
                }
            )
    if invalid:
        _break_rows(rows, BAD_DAY)
    return rows


def _break_rows(rows: list[dict[str, Any]], day: dt.date) -> None:
    """A negative amount, an unknown status and a lowercase currency on one day."""
    on_day = [r for r in rows if r["ordered_at"].date() == day]
    on_day[0]["amount"] = Decimal("-12.50")
    on_day[1]["status"] = "lost_in_mail"
    on_day[2]["currency"] = "eur"


def write_sender(engine: sa.Engine, customers: int = 60, per_day: int = 30) -> None:
    """(Re)create the sender tables and fill them."""
    metadata = sa.MetaData()
    cust, orders = sender_tables(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(cust), customers_rows(customers))
        conn.execute(sa.insert(orders), orders_rows(customers, per_day))


def create_target(engine: sa.Engine, replace: bool = False) -> None:
    """Create the target tables (drop them first only when `replace`, i.e. the demo's SQLite)."""
    metadata = sa.MetaData()
    target_tables(metadata)
    if replace:
        metadata.drop_all(engine)
    metadata.create_all(engine)

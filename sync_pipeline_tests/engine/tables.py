"""Table definitions the engine tests arrange data in (created fresh in each test database)."""

import sqlalchemy as sa


def people(md: sa.MetaData | None = None, name: str = "people") -> sa.Table:
    return sa.Table(
        name,
        md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text),
        sa.Column("email", sa.String(120)),
        sa.Column("age", sa.Integer),
        sa.Column("last_batch_id", sa.BigInteger),
    )


def products(md: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        "products",
        md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(40), unique=True),
        sa.Column("region", sa.String(10)),
        sa.Column("price", sa.Numeric(12, 2)),
        sa.Column("weight", sa.Float),
        sa.Column("seen_at", sa.DateTime(timezone=True)),
        sa.Column("attrs", sa.JSON),
        sa.Column("active", sa.Boolean),
        sa.Column("tenant", sa.String(10)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("last_batch_id", sa.BigInteger),
    )


def rows_without(rows: list[dict], *columns: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in columns} for r in rows]

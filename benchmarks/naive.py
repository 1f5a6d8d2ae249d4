"""A naive importer, as often written by hand: 500-row chunks, SELECT the existing rows by key,
compare in Python, then INSERT / UPDATE with executemany. One transaction for the whole batch.

It has the same equality as the engine for this workload (email case-insensitive, price as a
Decimal), so its final table must equal the reference. It does not stamp unchanged rows with
the batch id and does not detect missing rows (that would make it slower still).
"""

from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from benchmarks.generate import DATA_COLUMNS, TABLE

CHUNK = 500
_COMPARED = [c for c in DATA_COLUMNS if c not in ("id", "external_ref")]


def naive_import(
    conn: psycopg.Connection[Any], schema: str, batch: pa.Table, batch_id: int
) -> dict[str, int]:
    target = sql.Identifier(schema, TABLE)
    select = sql.SQL("SELECT {} FROM {} WHERE external_ref = ANY(%s)").format(
        sql.SQL(", ").join(map(sql.Identifier, DATA_COLUMNS)), target
    )
    insert = sql.SQL("INSERT INTO {} ({}, last_batch_id) VALUES ({}, %s)").format(
        target,
        sql.SQL(", ").join(map(sql.Identifier, DATA_COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(DATA_COLUMNS)),
    )
    update = sql.SQL("UPDATE {} SET {}, last_batch_id = %s WHERE id = %s").format(
        target, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in _COMPARED)
    )
    created = updated = unchanged = 0
    with conn.transaction(), conn.cursor() as cur:
        for chunk in batch.to_batches(max_chunksize=CHUNK):
            records = chunk.to_pylist()
            cur.execute(select, [[r["external_ref"] for r in records]])
            existing = {row[1]: dict(zip(DATA_COLUMNS, row, strict=True)) for row in cur}
            inserts, updates = [], []
            for r in records:
                r["price"] = None if r["price"] is None else Decimal(r["price"])
                old = existing.get(r["external_ref"])
                if old is None:
                    inserts.append([*(r[c] for c in DATA_COLUMNS), batch_id])
                elif _differs(r, old):
                    updates.append([*(r[c] for c in _COMPARED), batch_id, old["id"]])
                else:
                    unchanged += 1
            if inserts:
                cur.executemany(insert, inserts)
            if updates:
                cur.executemany(update, updates)
            created += len(inserts)
            updated += len(updates)
    return {"created": created, "updated": updated, "unchanged": unchanged}


def _differs(new: dict[str, Any], old: dict[str, Any]) -> bool:
    for c in _COMPARED:
        a, b = new[c], old[c]
        if c == "email" and a is not None and b is not None:
            a, b = a.casefold(), b.casefold()
        if a != b:
            return True
    return False

"""The event tables, created on first use in the connection's default schema.

_sync_events        one row per changed row, written in the writing transaction
_sync_event_tx      one row per committed transaction that wrote events; seq = commit order
_sync_event_pending Postgres only: "this transaction wrote events"; its deferred trigger assigns
                    seq at COMMIT under one advisory lock, so seq order is commit order
_sync_event_keys    the key columns recorded per table (what subscriptions may filter on)
_sync_event_consumers / _sync_event_pruned  durable cursors and the retention horizon
"""

import sqlalchemy as sa

from sync_pipeline.db.dialect import Dialect

EVENTS = "_sync_events"
NOTIFY_CHANNEL = "sync_pipeline_events"
_meta = sa.MetaData()

events = sa.Table(
    EVENTS,
    _meta,
    sa.Column("txid", sa.BigInteger),
    sa.Column("n", sa.BigInteger),  # the real key is (txid, n); created by the DDL below
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("effect", sa.String(1), nullable=False),
    sa.Column("pk", sa.Text, nullable=False),  # jsonb on Postgres
    sa.Column("keys", sa.Text),
    sa.Column("changes", sa.Text),
    sa.Column("batch_id", sa.BigInteger),
)
tx = sa.Table(
    "_sync_event_tx",
    _meta,
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("txid", sa.BigInteger, nullable=False),
    sa.Column("token", sa.Text),  # SQLite: which connection's open transaction owns the row
    sa.Column("committed_at", sa.DateTime(timezone=True)),
)
keys = sa.Table(
    "_sync_event_keys",
    _meta,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
)
consumers = sa.Table(
    "_sync_event_consumers",
    _meta,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
pruned = sa.Table(
    "_sync_event_pruned",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
)

_PG = [
    "CREATE SEQUENCE IF NOT EXISTS _sync_event_n CACHE 1000",
    "CREATE SEQUENCE IF NOT EXISTS _sync_event_seq",
    f"""CREATE TABLE IF NOT EXISTS {EVENTS} (
        txid bigint NOT NULL, n bigint NOT NULL DEFAULT nextval('_sync_event_n'),
        table_name text NOT NULL, effect char(1) NOT NULL, pk jsonb NOT NULL, keys jsonb,
        changes jsonb, batch_id bigint, PRIMARY KEY (txid, n))""",
    """CREATE TABLE IF NOT EXISTS _sync_event_tx (
        seq bigint PRIMARY KEY, txid bigint NOT NULL UNIQUE, token text,
        committed_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    "CREATE TABLE IF NOT EXISTS _sync_event_pending (txid bigint PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS _sync_event_keys (
        table_name text, column_name text, PRIMARY KEY (table_name, column_name))""",
    """CREATE TABLE IF NOT EXISTS _sync_event_consumers (name text PRIMARY KEY,
        seq bigint NOT NULL, n bigint NOT NULL, updated_at timestamptz NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS _sync_event_pruned (id int PRIMARY KEY, seq bigint NOT NULL,
        n bigint NOT NULL)""",
    # Runs once per transaction, at COMMIT: the lock is held until the commit is visible, so the
    # seq taken under it follows commit order (not xid order). NOTIFY is only a wake-up.
    """CREATE OR REPLACE FUNCTION _sync_event_commit() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    DECLARE s bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(
        hashtextextended('sync_pipeline:events:' || current_schema(), 0));
      s := nextval('_sync_event_seq');
      INSERT INTO _sync_event_tx (seq, txid) VALUES (s, NEW.txid);
      DELETE FROM _sync_event_pending WHERE txid = NEW.txid;
      PERFORM pg_notify('sync_pipeline_events', current_schema() || ':' || s::text);
      RETURN NULL;
    END $$""",
    """DO $$ BEGIN
      CREATE CONSTRAINT TRIGGER _sync_event_commit AFTER INSERT ON _sync_event_pending
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION _sync_event_commit();
    EXCEPTION WHEN duplicate_object THEN NULL; END $$""",
]
_SQLITE = [
    f"""CREATE TABLE IF NOT EXISTS {EVENTS} (txid INTEGER NOT NULL,
        n INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, effect TEXT NOT NULL,
        pk TEXT NOT NULL, keys TEXT, changes TEXT, batch_id INTEGER)""",
    f"CREATE INDEX IF NOT EXISTS _sync_events_txid ON {EVENTS} (txid, n)",
    """CREATE TABLE IF NOT EXISTS _sync_event_tx (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        txid INTEGER, token TEXT, committed_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _sync_event_keys (table_name TEXT, column_name TEXT,
        PRIMARY KEY (table_name, column_name))""",
    """CREATE TABLE IF NOT EXISTS _sync_event_consumers (name TEXT PRIMARY KEY,
        seq INTEGER NOT NULL, n INTEGER NOT NULL, updated_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS _sync_event_pruned (id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL, n INTEGER NOT NULL)""",
]


def installed(conn: sa.Connection) -> bool:
    """True when the event tables exist (nothing was ever recorded otherwise)."""
    return sa.inspect(conn).has_table("_sync_event_tx")


def ensure(conn: sa.Connection) -> None:
    """Create the event tables once (under a lock on Postgres, so concurrent first uses agree)."""
    if installed(conn):
        return
    if Dialect.of(conn).advisory_locks:
        key = sa.func.hashtextextended("sync_pipeline:events:ddl", 0)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        statements = _PG
    else:
        statements = _SQLITE
    for statement in statements:
        conn.exec_driver_sql(statement)


def install(target: "sa.Engine | sa.Connection | str") -> None:
    """Create the event tables now (otherwise the first write with events creates them)."""
    from sync_pipeline.db.connect import transaction

    with transaction(target) as conn:
        ensure(conn)

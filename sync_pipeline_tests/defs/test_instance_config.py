"""The shipped instance configs load: dagster.yaml (SQLite) and the Postgres example against the
real local Postgres, in a database created for the test and dropped after it."""

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline_tests.dbs import PG_ADMIN_URL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_database() -> Iterator[sa.URL]:
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sa.make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def home_with(tmp_path: Path, config: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(config, home / "dagster.yaml")
    return home


def test_default_dagster_yaml_uses_sqlite_and_pools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = home_with(tmp_path, REPO / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert instance.run_coordinator.__class__.__name__ == "SyncRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


@pytest.mark.integration
def test_postgres_example_loads_against_real_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: sa.URL
) -> None:
    home = home_with(tmp_path, REPO / "deploy" / "dagster-postgres.yaml")
    for var, value in {
        "DAGSTER_PG_HOST": pg_database.host,
        "DAGSTER_PG_PORT": str(pg_database.port or 5432),
        "DAGSTER_PG_USER": pg_database.username,
        "DAGSTER_PG_PASSWORD": pg_database.password or "",
        "DAGSTER_PG_DB": pg_database.database,
    }.items():
        monkeypatch.setenv(var, str(value))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize([_probe], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None

    engine = sa.create_engine(pg_database)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
    engine.dispose()
    assert runs == 1


@dg.asset(name="probe")
def _probe() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"ok": True})

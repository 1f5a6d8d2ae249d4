"""The executor is chosen by `$SYNC_EXECUTOR`; on Celery (RabbitMQ + a `dagster-celery` worker
started here) a sync writes the right rows, and a failing blocking check still stops the write."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.defs.factory import EXECUTOR_ENV, executor_from_env
from sync_pipeline.demo.data import create_target, write_sender
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.test_dg_cli import REPO, run_dg

BROKER = os.environ.get("SYNC_TEST_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.mark.parametrize(
    ("setting", "name"),
    [(None, "in_process"), ("in_process", "in_process"), ("multiprocess", "multiprocess"),
     ("celery", "celery")],
)  # fmt: skip
def test_the_executor_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, name: str
) -> None:
    if setting is None:
        monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    else:
        monkeypatch.setenv(EXECUTOR_ENV, setting)
    assert executor_from_env().name == name


def test_an_unknown_executor_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXECUTOR_ENV, "k8s")
    with pytest.raises(ConfigError, match="'k8s' is not one of in_process, multiprocess, celery"):
        executor_from_env()


class CeleryRig:
    """A demo sender/target, an instance and a worker on a queue of its own."""

    def __init__(self, root: Path) -> None:
        self.demo, self.home = root / "demo", root / "home"
        self.queue = f"sync-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            "SYNC_DEMO_DIR": str(self.demo),
            "DAGSTER_HOME": str(self.home),
            EXECUTOR_ENV: "celery",
        }
        self.target = sa.create_engine(f"sqlite:///{self.demo / 'target.db'}")

    def launch(self, partition: str) -> subprocess.CompletedProcess[str]:
        """`dg launch` of one orders partition, its steps sent to this rig's queue."""
        config = {"broker": BROKER, "config_source": {"task_default_queue": self.queue}}
        return run_dg(
            "launch", "--job", "orders_sync", "--partition", partition,
            "--config-json", json.dumps({"execution": {"config": config}}), **self.env,
        )  # fmt: skip

    def orders_on(self, day: str) -> int:
        with self.target.connect() as conn:
            sql = sa.text("SELECT count(*) FROM orders WHERE date(ordered_at) = :day")
            return int(conn.execute(sql, {"day": day}).scalar_one())

    def run_of(self, partition: str) -> tuple[dg.DagsterRun, list[str]]:
        """The partition's run and the messages of its engine events."""
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            [run] = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": partition}))
            records = instance.get_records_for_run(run.run_id).records
        return run, [r.event_log_entry.user_message for r in records]


def broker_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[CeleryRig]:
    if not broker_reachable():
        pytest.fail("RabbitMQ is not listening on 127.0.0.1:5672 (.ci/run starts it)")
    rig = CeleryRig(tmp_path)
    rig.demo.mkdir()
    rig.home.mkdir()
    (rig.home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(rig.home)):
        pass  # creates the instance's tables before the worker and the CLI race to do so
    write_sender(sa.create_engine(f"sqlite:///{rig.demo / 'sender.db'}"))
    create_target(rig.target, replace=True)
    worker_config = tmp_path / "worker.yaml"
    worker_config.write_text(json.dumps({"execution": {"config": {"broker": BROKER}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_", "DAGSTER_HOME"))}
    bin_dir = Path(sys.executable).parent  # the worker runs `celery` from this venv
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [str(bin_dir / "dagster-celery"), "worker", "start",
         "-A", "dagster_celery.app", "-y", str(worker_config), "-q", rig.queue],
        cwd=REPO, env={**env, **rig.env}, start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_ready(worker, log)
        yield rig
    finally:
        stop(worker)
        rig.target.dispose()
        delete_queue(rig.queue)


def wait_until_ready(worker: subprocess.Popen[bytes], log: Path, limit: float = 180) -> None:
    """Block until celery logs "ready"; fail with its log if the worker exits or never does."""
    deadline = time.monotonic() + limit
    while "ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the dagster-celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def stop(worker: subprocess.Popen[bytes]) -> None:
    """End the worker and the celery processes it forked (its own process group)."""
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def delete_queue(queue: str) -> None:
    """Remove the test's queue from the broker (it outlives the worker otherwise)."""
    from kombu import Connection

    with Connection(BROKER, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(queue)


@pytest.mark.integration
def test_a_sync_runs_on_celery_workers_and_a_failing_check_still_blocks_the_write(
    rig: CeleryRig,
) -> None:
    good = rig.launch("2026-01-02")
    assert good.returncode == 0, good.stderr[-3000:]
    assert rig.orders_on("2026-01-02") == 30
    run, messages = rig.run_of("2026-01-02")
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert any(f'"orders__applied" to queue "{rig.queue}"' in m for m in messages)

    bad = rig.launch("2026-01-03")  # holds the demo's three invalid orders

    assert bad.returncode != 0
    assert rig.orders_on("2026-01-03") == 0
    run, messages = rig.run_of("2026-01-03")
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert any("Submitting celery task" in m for m in messages)
    assert not any('step "orders__applied"' in m for m in messages)

"""The product's four-asset job, launched the way the README tells users to.

A `syncs.yaml` with one sync `customers` (SQL sender -> Postgres target, default configuration
apart from the workload's key, strategy and email comparator) is written into a scratch project
directory, and `dg launch --job customers_sync` runs from the repository (the dg project) with
`SYNC_CONFIG`, `SYNC_SENDER_URL`, `SYNC_TARGET_URL`, `SYNC_STAGING_DIR` and `DAGSTER_HOME`
pointing there. Measured: the whole command's wall time, the peak RSS of every process of its
tree (proctree.py), and the run's own duration from the instance's event log (RUN_START ->
RUN_SUCCESS). The counts come from `customers/applied`'s materialization metadata.
"""

import compileall
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.proctree import TreeRun, run_tree

ROOT = Path(__file__).resolve().parent.parent
SYNC = "customers"
JOB = f"{SYNC}_sync"
SYNCS_YAML = f"""\
# The benchmark's sync: batch 2 sits in a sender table in Postgres, the target is the benchmark's.
syncs:
  - name: {SYNC}
    sender: {{kind: sql, table: customers}}   # url: $SYNC_SENDER_URL
    table: customers                          # in $SYNC_TARGET_URL
    match_by: external_ref
    strategy: overwrite
    comparators: {{email: casefold}}
"""


@dataclass(frozen=True, slots=True)
class Project:
    """A scratch directory with syncs.yaml, a Dagster home and the staging folder."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def log(self) -> Path:
        return self.root / "launch.log"

    def env(self, sender_url: str, target_url: str) -> dict[str, str]:
        return os.environ | {
            "SYNC_CONFIG": str(self.root / "syncs.yaml"),
            "SYNC_SENDER_URL": sender_url,
            "SYNC_TARGET_URL": target_url,
            "SYNC_STAGING_DIR": str(self.root / "staging"),
            "SYNC_DEMO_DIR": str(self.root / "demo"),
            "DAGSTER_HOME": str(self.home),
        }


@cache
def compile_bytecode() -> None:
    """Byte-compile the venv and the package (untimed), as an installed environment has them:
    with PYTHONDONTWRITEBYTECODE set (as on the dev machines) nothing else writes .pyc files,
    and every process of `dg launch` would compile dagster from source (~5 s each)."""
    for folder in {sysconfig.get_paths()["purelib"], str(ROOT / "sync_pipeline")}:
        compileall.compile_dir(folder, quiet=2, workers=0)


@contextmanager
def project() -> Iterator[Project]:
    """A fresh project per repetition; the instance's storage is created up front (untimed),
    as a user's DAGSTER_HOME already exists when they launch, and so is the bytecode."""
    compile_bytecode()
    root = Path(tempfile.mkdtemp(prefix="sync_bench_dg_"))
    try:
        (root / "syncs.yaml").write_text(SYNCS_YAML)
        proj = Project(root)
        proj.home.mkdir()
        shutil.copy(ROOT / "dagster.yaml", proj.home / "dagster.yaml")
        _instance(proj.home).get_runs(limit=1)
        yield proj
    finally:
        shutil.rmtree(root, ignore_errors=True)


def launch(proj: Project, sender_url: str, target_url: str) -> TreeRun:
    """`dg launch --job customers_sync`, as the README shows (the venv's dg = `uv run dg`)."""
    dg = str(Path(sys.executable).parent / "dg")
    with proj.log.open("w") as log:
        return run_tree(
            [dg, "launch", "--job", JOB], env=proj.env(sender_url, target_url), cwd=ROOT, log=log
        )


def run_facts(proj: Project) -> dict[str, Any]:
    """The launched run from the instance: status, RUN_START -> RUN_SUCCESS, applied's counts."""
    import dagster as dg

    instance = _instance(proj.home)
    runs = instance.get_runs(limit=2)
    if len(runs) != 1:
        raise RuntimeError(f"expected exactly one run in the instance, found {len(runs)}")
    run = runs[0]
    kinds = {dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS}
    stamps = {
        e.dagster_event.event_type: e.timestamp
        for e in instance.all_logs(run.run_id, of_type=kinds)
        if e.dagster_event is not None
    }
    start = stamps.get(dg.DagsterEventType.RUN_START)
    success = stamps.get(dg.DagsterEventType.RUN_SUCCESS)
    applied: dict[str, Any] = {}
    steps: list[str] = []
    for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = e.asset_materialization
        if mat is None:
            continue
        steps.append(mat.asset_key.to_user_string())
        if mat.asset_key == dg.AssetKey([SYNC, "applied"]):
            applied = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        "run_s": success - start if start is not None and success is not None else None,
        "run_start": start,
        "steps_s": _step_seconds(instance, run.run_id),
        "materialized": steps,
        "applied": applied,
    }


def _step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Each step's STEP_START -> STEP_SUCCESS, from the event log."""
    import dagster as dg

    began: dict[str, float] = {}
    out: dict[str, float] = {}
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    for e in instance.all_logs(run_id, of_type=kinds):
        if not e.step_key or e.dagster_event is None:
            continue
        if e.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            began[e.step_key] = e.timestamp
        elif e.step_key in began:
            out[e.step_key] = e.timestamp - began[e.step_key]
    return out


def _instance(home: Path) -> Any:
    import dagster as dg

    return dg.DagsterInstance.from_config(str(home))


def log_tail(proj: Project, chars: int = 1500) -> str:
    try:
        return proj.log.read_text()[-chars:]
    except OSError:
        return ""

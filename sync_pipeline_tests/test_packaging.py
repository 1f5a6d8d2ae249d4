"""The package installs from the checkout into a fresh venv and works from anywhere; config and
demo files default to the current directory, never into the installed package."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sync_pipeline.defs.resources import demo_dir
from sync_pipeline.syncs.loader import config_path

REPO = Path(__file__).resolve().parents[1]
PACKAGED_CONFIG = REPO / "sync_pipeline" / "demo" / "syncs.yaml"

# Run in the fresh venv from a directory outside the checkout: load the code location, resolve
# every job, and report where the package, the config and the demo directory are.
PROBE = """
import importlib.util, json, sync_pipeline
from sync_pipeline.definitions import defs
from sync_pipeline.defs.resources import demo_dir
from sync_pipeline.syncs import config_path
repo = defs().get_repository_def()
print(json.dumps({
    "package": sync_pipeline.__file__,
    "config": str(config_path()),
    "demo_dir": str(demo_dir()),
    "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
    "absent": [m for m in ("dagster_webserver", "dagster_postgres", "pymysql", "dagster_celery")
               if importlib.util.find_spec(m) is None],
}))
"""


def uv() -> str:
    """The uv binary (on PATH or where the Makefile installs it)."""
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is not installed")
    return found


def clean_env() -> dict[str, str]:
    """The environment without this checkout's venv, config or instance settings."""
    drop = ("SYNC_", "DAGSTER_HOME", "VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def test_config_defaults_to_the_current_directory_then_the_packaged_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config_path() == PACKAGED_CONFIG
    (tmp_path / "syncs.yaml").write_text("syncs: []\n")
    assert config_path() == tmp_path / "syncs.yaml"
    monkeypatch.setenv("SYNC_CONFIG", str(tmp_path / "other.yaml"))
    assert config_path() == tmp_path / "other.yaml"


def test_demo_dir_is_the_current_directory_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNC_DEMO_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert demo_dir() == tmp_path / ".demo"
    monkeypatch.setenv("SYNC_DEMO_DIR", str(tmp_path / "elsewhere"))
    assert demo_dir() == tmp_path / "elsewhere"


@pytest.mark.integration
def test_pip_install_into_a_fresh_venv_loads_the_definitions_outside_the_checkout(
    tmp_path: Path,
) -> None:
    env = clean_env()
    venv, outside = tmp_path / "venv", tmp_path / "elsewhere"
    outside.mkdir()
    run = [uv(), "venv", "--quiet", "--python", sys.executable, str(venv)]
    subprocess.run(run, env=env, check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [uv(), "pip", "install", "--quiet", "--python", str(python), str(REPO)]
    done = subprocess.run(
        install, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    probe = subprocess.run(
        [str(python), "-c", PROBE],
        cwd=outside, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    site = str(venv / "lib")
    assert seen["package"].startswith(site)
    assert seen["config"].startswith(site) and seen["config"].endswith("demo/syncs.yaml")
    assert seen["demo_dir"] == str(outside / ".demo")
    assert seen["jobs"] == ["customers_cleanup", "customers_sync", "orders_cleanup", "orders_sync"]
    assert seen["absent"] == ["dagster_webserver", "dagster_postgres", "pymysql", "dagster_celery"]


@pytest.mark.integration
def test_the_sdist_builds_a_wheel_with_the_demo_config(tmp_path: Path) -> None:
    build = [uv(), "build", "--quiet", "--out-dir", str(tmp_path), str(REPO)]
    done = subprocess.run(
        build, env=clean_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [wheel] = tmp_path.glob("sync_pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "sync_pipeline/demo/syncs.yaml" in names
    assert "sync_pipeline/demo/data.py" in names
    assert not any(n.startswith(("sync_pipeline_tests/", "benchmarks/")) for n in names)

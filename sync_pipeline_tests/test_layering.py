"""Layers point one way (defs/web -> syncs -> senders -> engine/events -> db -> values -> errors).

Each package's ruff.toml bans the packages above it; these tests prove every rule fires.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(path: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    "path",
    [
        "sync_pipeline/engine/x.py",
        "sync_pipeline/db/x.py",
        "sync_pipeline/senders/x.py",
        "sync_pipeline/values/x.py",
        "sync_pipeline/syncs/x.py",
        "sync_pipeline/errors.py",
    ],
)
@pytest.mark.parametrize("source", ["import dagster\n", "from dagster import asset\n"])
def test_dagster_imports_are_rejected_outside_the_dagster_layer(path, source):
    result = ruff(path, source)
    assert result.returncode == 1 and "TID251" in result.stdout


def test_the_dagster_layer_may_import_dagster():
    assert (
        ruff("sync_pipeline/defs/x.py", "import dagster\n\n__all__ = ['dagster']\n").returncode == 0
    )


# One deliberate upward import per boundary: (module in the lower layer, package above it).
UPWARD = [
    ("sync_pipeline/errors.py", "sync_pipeline.values.checks"),
    ("sync_pipeline/values/x.py", "sync_pipeline.db.schema"),
    ("sync_pipeline/db/x.py", "sync_pipeline.engine.api"),
    ("sync_pipeline/db/x.py", "sync_pipeline.events"),
    ("sync_pipeline/engine/x.py", "sync_pipeline.senders.sql"),
    ("sync_pipeline/engine/mutations/x.py", "sync_pipeline.senders.sql"),
    ("sync_pipeline/events/x.py", "sync_pipeline.senders.sql"),
    ("sync_pipeline/senders/x.py", "sync_pipeline.syncs.runner"),
    ("sync_pipeline/syncs/x.py", "sync_pipeline.defs.assets"),
    ("sync_pipeline/engine/x.py", "sync_pipeline.web"),
]

# The import each layer makes of the one below it stays allowed.
DOWNWARD = [
    ("sync_pipeline/values/x.py", "sync_pipeline.errors"),
    ("sync_pipeline/db/x.py", "sync_pipeline.values.checks"),
    ("sync_pipeline/engine/x.py", "sync_pipeline.db.schema"),
    ("sync_pipeline/engine/x.py", "sync_pipeline.events"),
    ("sync_pipeline/events/x.py", "sync_pipeline.engine.api"),
    ("sync_pipeline/senders/x.py", "sync_pipeline.engine.api"),
    ("sync_pipeline/syncs/x.py", "sync_pipeline.senders.sql"),
    ("sync_pipeline/defs/x.py", "sync_pipeline.syncs.runner"),
    ("sync_pipeline/web/x.py", "sync_pipeline.syncs.runner"),
]


@pytest.mark.parametrize(("path", "module"), UPWARD)
@pytest.mark.parametrize("form", ["import {m}\n", "from {m} import x\n"])
def test_upward_imports_are_rejected_at_every_boundary(path, module, form):
    result = ruff(path, form.format(m=module) + "\n__all__ = ['x']\n")
    assert result.returncode == 1
    assert "TID251" in result.stdout and module.rsplit(".", 1)[0] in result.stdout


@pytest.mark.parametrize(("path", "module"), DOWNWARD)
def test_downward_imports_are_allowed(path, module):
    result = ruff(path, f"from {module} import x\n\n__all__ = ['x']\n")
    assert result.returncode == 0, result.stdout


def test_the_package_has_no_upward_import_today():
    assert ruff_tree().returncode == 0


def ruff_tree() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "sync_pipeline",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_tests_using_a_database_fixture_are_marked_integration(sqlite, request):
    assert request.node.get_closest_marker("integration") is not None
